//! The account on this device: registering, logging in and out, the devices logged in.

use mingpian_card::api::{
    Account, AppPasswordRequest, CardDavAccess, LoginRequest, NewAppPassword, RegisterRequest,
    Session,
};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{Result, WalletError};
use crate::{Cloud, Wallet, db};

impl Wallet {
    /// Creates an account on `server` and logs this device in. The cloud gives every new account
    /// set 1 (claim 5).
    pub async fn register(&self, server: &str, req: RegisterRequest) -> Result<SessionInfo> {
        let session = Cloud::new(server, None)?.register(&req).await?;
        self.write(|c, _| store_session(c, server, &session))?;
        self.refresh_sets().await?;
        self.session()?.ok_or(WalletError::NotLoggedIn)
    }

    /// Logs this device in to an existing account.
    pub async fn login(&self, server: &str, req: LoginRequest) -> Result<SessionInfo> {
        let session = Cloud::new(server, None)?.login(&req).await?;
        self.write(|c, _| store_session(c, server, &session))?;
        self.refresh_sets().await?;
        self.session()?.ok_or(WalletError::NotLoggedIn)
    }

    /// Forgets this device's session (the wallet's cards stay).
    pub async fn logout(&self) -> Result<()> {
        if let (Ok(cloud), Some(session)) = (self.cloud(), self.session()?) {
            // Best effort: if the cloud is unreachable the token is forgotten here anyway.
            let _ = cloud.log_out_device(session.device_id).await;
        }
        self.write(|c, _| {
            for key in ["token", "device_id"] {
                db::meta_delete(c, key)?;
            }
            Ok(())
        })
    }

    pub async fn devices(&self) -> Result<Vec<mingpian_card::api::Device>> {
        self.cloud()?.devices().await
    }

    /// Where the account's CardDAV address book is, and the app passwords that open it.
    pub async fn carddav(&self) -> Result<CardDavAccess> {
        self.cloud()?.carddav().await
    }

    /// A new app password for an address-book app (shown once), labelled by which app it is.
    pub async fn new_app_password(&self, label: &str) -> Result<NewAppPassword> {
        self.cloud()?
            .new_app_password(&AppPasswordRequest {
                label: label.to_owned(),
            })
            .await
    }

    /// Revokes an app password: its address-book app is logged out.
    pub async fn revoke_app_password(&self, id: i64) -> Result<()> {
        self.cloud()?.revoke_app_password(id).await
    }
}
fn store_session(c: &Connection, server: &str, session: &Session) -> Result<()> {
    let previous = db::meta_get(c, "account")?;
    let same_account = previous
        .as_deref()
        .and_then(|a| serde_json::from_str::<Account>(a).ok())
        .is_some_and(|a| a.public_id == session.account.public_id);
    if !same_account {
        // Another account on this device: its cursors do not apply.
        for key in ["inbox_cursor", "sync_cursor"] {
            db::meta_delete(c, key)?;
        }
        c.execute("DELETE FROM my_sets", [])?;
    }
    db::meta_set(c, "server", server.trim_end_matches('/'))?;
    db::meta_set(c, "token", &session.token)?;
    db::meta_set(c, "device_id", &session.device_id.to_string())?;
    db::meta_set(c, "account", &serde_json::to_string(&session.account)?)?;
    Ok(())
}

impl Wallet {
    /// The logged-in account, if any.
    pub fn session(&self) -> Result<Option<SessionInfo>> {
        self.read(|c| {
            let (Some(server), Some(account), Some(device)) = (
                db::meta_get(c, "server")?,
                db::meta_get(c, "account")?,
                db::meta_get(c, "device_id")?,
            ) else {
                return Ok(None);
            };
            Ok(Some(SessionInfo {
                server,
                account: serde_json::from_str(&account)?,
                device_id: device.parse().unwrap_or(0),
            }))
        })
    }

    /// A client for the logged-in cloud.
    pub fn cloud(&self) -> Result<Cloud> {
        let (server, token) =
            self.read(|c| Ok((db::meta_get(c, "server")?, db::meta_get(c, "token")?)))?;
        match (server, token) {
            (Some(server), Some(token)) => Cloud::new(&server, Some(token)),
            _ => Err(WalletError::NotLoggedIn),
        }
    }
}
/// Who is logged in on this device, and where.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionInfo {
    pub server: String,
    pub account: Account,
    pub device_id: i64,
}
