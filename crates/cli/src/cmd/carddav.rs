//! `mingpian carddav`: app passwords for the wallet's CardDAV address book, so the phone's own
//! Contacts app (iPhone, DAVx5 on Android, desktop address books) holds every card.

use clap::Subcommand;
use mingpian_wallet::Wallet;
use serde::Serialize;

use crate::Outcome;
use crate::cmd::client::rt;
use crate::output::Output;
use crate::when;

#[derive(Debug, Subcommand)]
pub enum CardDavCommand {
    /// Make an app password for one address-book app; prints the address book's URL, the user
    /// name and the password (shown this once).
    NewPassword {
        /// Which app or phone it is for ("CardDAV on iPhone").
        #[arg(long)]
        label: String,
    },
    /// The address book's URL, the user name and the app passwords made so far.
    List,
    /// Revoke an app password (its app is logged out of the address book).
    Revoke { id: i64 },
}

#[derive(Serialize)]
struct Created {
    url: String,
    username: String,
    password: String,
    id: i64,
    label: String,
}

pub fn run(w: &Wallet, command: CardDavCommand, out: &Output) -> anyhow::Result<Outcome> {
    let rt = rt()?;
    match command {
        CardDavCommand::NewPassword { label } => {
            let made = rt.block_on(w.new_app_password(&label))?;
            if out.json() {
                out.value(&Created {
                    url: made.url,
                    username: made.username,
                    password: made.password,
                    id: made.app_password.id,
                    label: made.app_password.label,
                })?;
            } else {
                out.line(format!("server:   {}", made.url))?;
                out.line(format!("username: {}", made.username))?;
                out.line(format!("password: {}", made.password))?;
                out.line(format!(
                    "app password {} ({}) made; it is shown only now",
                    made.app_password.id, made.app_password.label
                ))?;
            }
        }
        CardDavCommand::List => {
            let access = rt.block_on(w.carddav())?;
            if out.json() {
                out.value(&access)?;
            } else {
                out.line(format!("server:   {}", access.url))?;
                out.line(format!("username: {}", access.username))?;
                if access.passwords.is_empty() {
                    out.line("no app passwords yet: make one with `mingpian carddav new-password --label NAME`")?;
                }
                for p in &access.passwords {
                    out.line(format!(
                        "{:>4}  {}  made {}, last used {}",
                        p.id,
                        p.label,
                        when::local(p.created_at),
                        when::local(p.last_seen_at)
                    ))?;
                }
            }
        }
        CardDavCommand::Revoke { id } => {
            rt.block_on(w.revoke_app_password(id))?;
            out.line(format!("app password {id} revoked"))?;
        }
    }
    Ok(Outcome::Ok)
}
