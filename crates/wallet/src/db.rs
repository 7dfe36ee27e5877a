//! Opening the wallet file: WAL, foreign-key-free plain tables, migrations by `user_version`.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

/// Plain, commented SQL, applied in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_trust_and_display.sql"),
    include_str!("../migrations/0003_search_log.sql"),
];

pub fn open(path: &Path) -> Result<Connection> {
    create_private(path)?;
    let mut conn = Connection::open(path)?;
    // First, so that everything below waits for another process holding the file (the app and
    // a command line opening one wallet at the same moment) instead of failing.
    conn.pragma_update(None, "busy_timeout", 5000)?;
    // WAL: readers never wait for the writer; NORMAL sync is durable across app crashes, which
    // is what a phone sees (a power cut loses at most the last transaction, never the file).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 32 MB of page cache (the default is 2 MB): a 10,000-card import would otherwise spill
    // and re-read pages mid-transaction. SQLite takes it only as it fills.
    conn.pragma_update(None, "cache_size", -32_000)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Creates the wallet file readable by its user only before SQLite opens it: SQLite gives its
/// `-wal` and `-shm` files the same permissions as the database. The wallet holds the device's
/// cloud token and every card.
#[cfg(unix)]
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> Result<()> {
    Ok(())
}

/// Makes the wallet's files (including those made before this rule) readable by their user
/// only, and its directory too when the wallet created it (a directory the user chose, such as
/// the current one, keeps its permissions).
#[cfg(unix)]
pub fn restrict_to_owner(dir: &Path, created: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    if created {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(crate::DB_FILE) && entry.file_type()?.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn restrict_to_owner(_dir: &Path, _created: bool) -> Result<()> {
    Ok(())
}

/// Brings the schema up to date. Two processes may open a new wallet at the same moment: each
/// step reads the version under the write lock (an immediate transaction), so a migration runs
/// once and the other process finds it done.
fn migrate(conn: &mut Connection) -> Result<()> {
    let version = |c: &Connection| -> Result<usize> {
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    };
    if version(conn)? >= MIGRATIONS.len() {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if version(&tx)? > i {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub fn meta_delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app and a command line (or two commands) opening a new wallet at the same moment:
    /// every one of them opens it, and the schema is created once.
    #[test]
    fn many_processes_can_open_a_new_wallet_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wallet.db");
        let opened: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || open(&path).map(|_| ()))
            })
            .collect();
        for t in opened {
            let result = t.join().expect("thread");
            assert!(result.is_ok(), "{result:?}");
        }
        let conn = open(&path).expect("open");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
