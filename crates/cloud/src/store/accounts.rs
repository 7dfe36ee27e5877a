//! Accounts and their devices.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row as _};

use mingpian_card::Card;
use mingpian_card::api::CardField;

use super::{Backend, Store, StoreError, StoreResult, Stored, conflict_or, now_ms};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub kind: DeviceKind,
}

/// A logged-in app, or an app password that opens the CardDAV address book and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    App,
    CardDav,
}

impl DeviceKind {
    fn as_str(self) -> &'static str {
        match self {
            DeviceKind::App => "app",
            DeviceKind::CardDav => "carddav",
        }
    }
}

const DEVICE_COLUMNS: &str = "id, user_id, name, created_at, last_seen_at, kind";

const USER_COLUMNS: &str = "id, public_id, name, phone, email, password_hash";

fn user(row: &AnyRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        public_id: row.try_get("public_id")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
    })
}

fn device(row: &AnyRow) -> StoreResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        kind: if row.try_get::<String, _>("kind")? == "carddav" {
            DeviceKind::CardDav
        } else {
            DeviceKind::App
        },
    })
}

/// What a new account is made of; the caller has validated and normalised it.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub public_id: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
}

/// The card set an account starts with.
#[derive(Debug, Clone, Copy)]
pub struct FirstSet<'a> {
    pub card: &'a Stored<Card>,
    pub printed_fields: &'a Stored<Vec<CardField>>,
}

/// How someone logs in: each form is looked up in its own column only, so a name can never
/// stand for another account's phone number or email.
#[derive(Debug, Clone, Copy)]
pub enum Login<'a> {
    /// Lower-cased account name.
    Name(&'a str),
    /// E.164.
    Phone(&'a str),
    /// Lower-cased email.
    Email(&'a str),
}

impl Store {
    /// Creates an account, its first device and its first card set (claim 5: every account
    /// has one) in one transaction.
    #[tracing::instrument(skip_all)]
    pub async fn create_user(
        &self,
        new: NewUser<'_>,
        device_name: &str,
        token_hash: &str,
        first_set: FirstSet<'_>,
    ) -> StoreResult<(UserRecord, DeviceRecord)> {
        let _w = self.writer().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (public_id, name, name_key, phone, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
        )))
        .bind(new.public_id)
        .bind(new.name)
        .bind(new.name.to_lowercase())
        .bind(new.phone)
        .bind(new.email)
        .bind(new.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "account"))?;
        let user = user(&row)?;
        let device = insert_device(
            &mut tx,
            user.id,
            device_name,
            token_hash,
            now,
            DeviceKind::App,
        )
        .await?;
        super::sets::put_set_in(
            &mut tx,
            &super::SetWrite {
                user_id: user.id,
                set_no: Some(1),
                card: first_set.card,
                printed_fields: first_set.printed_fields,
                max_sets: 1,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((user, device))
    }

    /// The account that logs in as `login`.
    #[tracing::instrument(skip_all)]
    pub async fn user_by_login(&self, login: Login<'_>) -> StoreResult<UserRecord> {
        let (column, value) = match login {
            Login::Name(v) => ("name_key", v),
            Login::Phone(v) => ("phone", v),
            Login::Email(v) => ("email", v),
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"
        )))
        .bind(value)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(user)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip_all)]
    pub async fn user_by_id(&self, id: i64) -> StoreResult<UserRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(user)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip_all)]
    pub async fn add_device(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
    ) -> StoreResult<DeviceRecord> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let device = insert_device(
            &mut tx,
            user_id,
            name,
            token_hash,
            now_ms(),
            DeviceKind::App,
        )
        .await?;
        tx.commit().await?;
        Ok(device)
    }

    /// The device holding a token (by its hash), marking it seen.
    #[tracing::instrument(skip_all)]
    pub async fn device_by_token(&self, token_hash: &str) -> StoreResult<DeviceRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let found = row
            .as_ref()
            .map(device)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        // Seen-times need minute precision only: skip the write when recent, keeping reads cheap.
        let now = now_ms();
        if now - found.last_seen_at > 60_000 {
            let _w = self.writer().await;
            sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(found.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(found)
    }

    /// Whether a device is still logged in.
    #[tracing::instrument(skip_all)]
    pub async fn device_exists(&self, device_id: i64) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM devices WHERE id = $1")
            .bind(device_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// A new app password (a device of kind CardDAV), at most `max` per account.
    #[tracing::instrument(skip_all)]
    pub async fn add_app_password(
        &self,
        user_id: i64,
        label: &str,
        token_hash: &str,
        max: i64,
    ) -> StoreResult<DeviceRecord> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // Serialises concurrent creations for one account on PostgreSQL, waiting a few seconds
        // at most for the row (an address-book refresh or a push may hold it).
        super::limit_lock_waits(&mut tx, self.backend).await?;
        sqlx::query("UPDATE users SET dav_cursor = dav_cursor WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| super::busy_if_lock_timeout(e.into()))?;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM devices WHERE user_id = $1 AND kind = 'carddav'",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        if count >= max {
            return Err(StoreError::Conflict("app passwords"));
        }
        let device = insert_device(
            &mut tx,
            user_id,
            label,
            token_hash,
            now_ms(),
            DeviceKind::CardDav,
        )
        .await?;
        tx.commit().await?;
        Ok(device)
    }

    /// The account's devices of one kind, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn devices(&self, user_id: i64, kind: DeviceKind) -> StoreResult<Vec<DeviceRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 AND kind = $2 ORDER BY id"
        )))
        .bind(user_id)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device).collect()
    }

    /// Logs a device out (or revokes an app password). Only the account's own devices of that
    /// kind can be removed.
    #[tracing::instrument(skip_all)]
    pub async fn delete_device(
        &self,
        user_id: i64,
        device_id: i64,
        kind: DeviceKind,
    ) -> StoreResult<()> {
        let _w = self.writer().await;
        let deleted: i64 = match self.backend {
            // The wake-up that ends the device's streams and forgets its token on every instance
            // is sent by the statement that deletes it, when (and only if) that commits: a
            // logout can no longer be answered while the other instances miss it.
            Backend::Postgres => {
                sqlx::query_scalar(
                    "WITH d AS (DELETE FROM devices WHERE id = $1 AND user_id = $2 AND kind = $3 RETURNING id) \
                     SELECT COUNT(*) FROM (SELECT pg_notify($4, $5) FROM d) AS n",
                )
                .bind(device_id)
                .bind(user_id)
                .bind(kind.as_str())
                .bind(crate::live::CHANNEL)
                .bind(crate::live::Wake::DeviceGone(device_id).payload())
                .fetch_one(&self.pool)
                .await?
            }
            Backend::Sqlite => sqlx::query(
                "DELETE FROM devices WHERE id = $1 AND user_id = $2 AND kind = $3",
            )
            .bind(device_id)
            .bind(user_id)
            .bind(kind.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected() as i64,
        };
        if deleted == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

async fn insert_device(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    name: &str,
    token_hash: &str,
    now: i64,
    kind: DeviceKind,
) -> StoreResult<DeviceRecord> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO devices (user_id, name, token_hash, created_at, last_seen_at, kind) \
         VALUES ($1, $2, $3, $4, $4, $5) RETURNING {DEVICE_COLUMNS}"
    )))
    .bind(user_id)
    .bind(name)
    .bind(token_hash)
    .bind(now)
    .bind(kind.as_str())
    .fetch_one(&mut **tx)
    .await?;
    device(&row)
}
