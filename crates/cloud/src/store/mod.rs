//! Storage: SQLite (embedded, the default) or PostgreSQL (by URL), behind one [`Store`].
//!
//! Both backends run the same SQL through sqlx's `Any` driver; only the migrations differ (one
//! folder per backend, column-for-column equal), so behaviour cannot drift between them and one
//! test suite covers both. Times are Unix milliseconds, booleans 0/1 integers, and every query
//! uses `$n` placeholders, which both drivers accept.
//!
//! SQLite allows one writer at a time. Rather than letting concurrent write transactions fail
//! with "database is locked" when they upgrade their locks, writes on SQLite take an in-process
//! lock first; reads stay concurrent (WAL). PostgreSQL needs no such lock.
//!
//! The exchange, the one write every scan makes, is the exception to "the same SQL": its
//! statements are the same on both backends, but PostgreSQL runs them in one function call and
//! SQLite on a connection of its own that commits waiting exchanges together
//! ([`sqlite_writer`]), each in one hand-off instead of six round trips.

mod accounts;
mod dav;
mod exchanges;
mod pg_writer;
mod sets;
mod sqlite_writer;
mod stored;
mod sync;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor as _};
use tokio::sync::{Mutex, MutexGuard};

pub use accounts::{DeviceKind, DeviceRecord, FirstSet, Login, NewUser, UserRecord};
pub use dav::{Builder, CardParts, ContactParts, DavEntry, etag_of};
pub use exchanges::{
    BlockRecord, ExchangeOutcome, ExchangeReads, Gift, InboxCaps, InboxRecord, NewExchange,
};
pub use sets::{CodeState, SetRecord, SetWrite};
pub use stored::Stored;
pub use sync::{Change, RecordRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value (name, phone, email) is taken, or a limit on numbers is reached.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    /// A quota on stored bytes or items is reached.
    #[error("the {0} is full")]
    Full(&'static str),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// SQLite's exchange writer failed or stopped ([`sqlite_writer`]).
    #[error("database error: {0}")]
    Writer(String),
    /// Work bounded server-wide (an address book's refresh) did not get its turn in time.
    #[error("busy")]
    Busy,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Bounds the transaction's lock waits on PostgreSQL to 5 s, after which it is answered "busy,
/// retry": another transaction (a push, an address-book refresh, another instance) may hold the
/// account's row, and a connection waiting without end is one the pool lacks. `SET LOCAL`: for
/// this transaction only, never the pooled connection. SQLite's writers wait in the store.
async fn limit_lock_waits(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
) -> StoreResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("SET LOCAL lock_timeout = '5s'")
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A lock wait that gave up ([`limit_lock_waits`], SQLSTATE 55P03) as [`StoreError::Busy`].
fn busy_if_lock_timeout(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(sqlx::Error::Database(db))
            if db.code().as_deref() == Some("55P03") =>
        {
            StoreError::Busy
        }
        e => e,
    }
}

/// Locks an account's row: for a delivery to its inbox, or a push of its records. On PostgreSQL
/// this orders concurrent deliveries to one owner, or pushes of one account from any instance,
/// so the sizes and versions a statement reads after it are the ones it replaces. A row lock
/// writes no new row version; NO KEY, as an UPDATE of the totals would take: the key-share locks
/// that other exchanges' foreign keys hold on this row do not block it (FOR UPDATE would
/// deadlock with them). On SQLite the store's write lock already orders every write. An
/// exchange takes the same lock inside its function (`migrations/postgres/0007`), with the
/// NOTIFY that wakes the owner's devices on every instance.
/// Waited for at most a few seconds ([`limit_lock_waits`]): an owner whose row stays held
/// makes these requests "busy, retry", not connections held without end.
pub(super) async fn lock_owner(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    owner_id: i64,
) -> StoreResult<()> {
    if backend == Backend::Postgres {
        limit_lock_waits(tx, backend).await?;
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(owner_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| busy_if_lock_timeout(e.into()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Records exchanges, committing those that wait together.
#[derive(Debug)]
enum ExchangeWriter {
    Sqlite(sqlite_writer::SqliteWriter),
    Postgres(pg_writer::PgWriter),
}

#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises write transactions on SQLite (see the module docs).
    write_lock: Arc<Mutex<()>>,
    /// What records exchanges: [`sqlite_writer`] or [`pg_writer`].
    exchange_writer: ExchangeWriter,
    /// Address-book refresh pages running at once, server-wide (see [`dav`]).
    dav_turns: dav::Turns,
    /// One sync push at a time per account (see [`sync`]).
    push_turns: sync::PushTurns,
}

impl Store {
    /// Opens (creating if needed) the database at `url` with at most `connections` pooled
    /// connections, and applies the migrations.
    pub async fn connect(url: &str, connections: u32) -> StoreResult<Store> {
        let connections = connections.max(2);
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        // No ping before handing out a connection: it was one more round trip for every query
        // and transaction (three on an exchange). A connection the database dropped fails the
        // query that meets it and is discarded; SQLite's are in-process and cannot go stale.
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false);
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(connections)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never wait for the writer. NORMAL: a commit is in the
                            // WAL before it returns, so a killed process loses nothing answered.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.max_connections(connections).connect(url).await?,
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        let write_lock = Arc::new(Mutex::new(()));
        let exchange_writer = match backend {
            Backend::Sqlite => {
                // The file the pool opened, whatever the URL's spelling.
                let file: String =
                    sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                        .fetch_one(&pool)
                        .await?;
                if file.is_empty() {
                    return Err(StoreError::Writer(
                        "the SQLite database must be a file, not in memory".into(),
                    ));
                }
                ExchangeWriter::Sqlite(sqlite_writer::SqliteWriter::start(
                    Path::new(&file),
                    write_lock.clone(),
                )?)
            }
            Backend::Postgres => {
                ExchangeWriter::Postgres(pg_writer::PgWriter::start(pool.clone(), pg_writer::LANES))
            }
        };
        Ok(Store {
            pool,
            backend,
            write_lock,
            exchange_writer,
            dav_turns: dav::Turns::new(connections),
            push_turns: sync::PushTurns::default(),
        })
    }

    /// For the store's tests: accounts with these ids and names, nothing else.
    #[cfg(test)]
    async fn add_users_for_test(&self, users: &[(i64, &str)]) {
        for (id, name) in users {
            sqlx::query(
                "INSERT INTO users (id, public_id, name, name_key, password_hash, created_at) \
                 VALUES ($1, $2, $2, $2, 'x', 0)",
            )
            .bind(*id)
            .bind(*name)
            .execute(&self.pool)
            .await
            .expect("user");
        }
    }

    /// The URL for an SQLite file in `dir`.
    pub fn sqlite_url(dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            dir.join("mingpian.sqlite3").display()
        )
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Held for the duration of a write transaction on SQLite; free on PostgreSQL.
    async fn writer(&self) -> Option<MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    /// A server-wide secret, created on first use and shared by every instance on the database.
    #[tracing::instrument(skip_all)]
    pub async fn server_key(
        &self,
        name: &str,
        fresh: impl FnOnce() -> String,
    ) -> StoreResult<String> {
        let _w = self.writer().await;
        sqlx::query(
            "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh())
        .execute(&self.pool)
        .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(value)
    }

    /// PostgreSQL `NOTIFY` on `channel` (live delivery across instances).
    #[tracing::instrument(skip_all)]
    pub async fn notify(&self, channel: &str, payload: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Unique-constraint violations become [`StoreError::Conflict`] naming what was taken.
fn conflict_or(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}
