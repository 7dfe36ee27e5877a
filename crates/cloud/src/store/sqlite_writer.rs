//! SQLite's exchange writer: one connection of its own, on a thread of its own, that records
//! waiting exchanges together in one transaction.
//!
//! Through sqlx, every statement of an exchange's transaction (BEGIN, the exchange, the totals,
//! the inbox item, COMMIT) was a hand-off to a connection's worker thread and back, and SQLite's
//! single writer was held across all of those hand-offs: on two cores the exchange rate was set by
//! thread wake-ups, with the CPU partly idle. Here the whole transaction is one hand-off, and the
//! exchanges that queued while one batch was written go into the next one (group commit).
//!
//! Each exchange runs in a savepoint, so one that fails takes nothing else with it, unless SQLite
//! ends the whole transaction (a full disk, an I/O error): then every exchange of the batch is
//! answered with the error. None is answered before its batch is committed (synchronous = NORMAL
//! in WAL mode: in the WAL before the answer, so a killed process loses nothing answered).
//!
//! The statements are the ones [`super::exchanges`] documents, in the same order; PostgreSQL runs
//! them in one function call (`migrations/postgres/0007_exchange_in_one_call.sql`).

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, params};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::exchanges::{InboxCaps, KEEP_PER_PAIR};
use super::{StoreError, StoreResult};

/// Exchanges committed together at most.
const BATCH: usize = 64;

/// One exchange to record, owned: it crosses to the writer's thread.
#[derive(Debug)]
pub(super) struct ExchangeWrite {
    pub scanner_id: i64,
    pub owner_id: i64,
    pub owner_set_no: i64,
    /// The scanner's set given in return (0: save only).
    pub scanner_set_no: i64,
    /// The card given in return and its set's version; `None`: save only.
    pub give: Option<(String, i64)>,
    pub owner_version: i64,
    pub key: String,
    pub full_card: bool,
    pub place: Option<String>,
    pub caps: InboxCaps,
    pub now: i64,
}

impl ExchangeWrite {
    /// The size of the card given in return (0: save only).
    pub(super) fn card_bytes(&self) -> usize {
        self.give.as_ref().map_or(0, |(card, _)| card.len())
    }

    /// For the writers' tests: `scanner_id` gives `card` (set 1) in return for `owner_id`'s set 1.
    #[cfg(test)]
    pub(super) fn for_test(scanner_id: i64, owner_id: i64, key: &str, card: &str) -> ExchangeWrite {
        ExchangeWrite {
            scanner_id,
            owner_id,
            owner_set_no: 1,
            scanner_set_no: 1,
            give: Some((card.to_owned(), 1)),
            owner_version: 1,
            key: key.to_owned(),
            full_card: false,
            place: None,
            caps: InboxCaps {
                max_items: 100,
                max_bytes: 1 << 20,
                max_web_items: 10,
            },
            now: 1,
        }
    }
}

/// The new exchange's id and whether its card reached the owner's inbox; `None`: an exchange
/// with the same key was recorded first.
pub(super) type Recorded = Option<(i64, bool)>;

struct Job {
    write: ExchangeWrite,
    reply: oneshot::Sender<StoreResult<Recorded>>,
}

#[derive(Debug)]
pub(super) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

impl SqliteWriter {
    /// Opens the database file at `path` and starts the writer's thread. `lock` is the store's
    /// write lock, held for each batch so that sqlx's write transactions never meet this one.
    pub(super) fn start(path: &Path, lock: Arc<Mutex<()>>) -> StoreResult<SqliteWriter> {
        let conn = Connection::open(path).map_err(sqlite)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(sqlite)?;
        let (jobs, queue) = mpsc::channel(4 * BATCH);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, queue, &lock))
            .map_err(|e| StoreError::Writer(format!("cannot start the writer: {e}")))?;
        Ok(SqliteWriter { jobs })
    }

    /// Records one exchange, answered once its batch is committed.
    pub(super) async fn record(&self, write: ExchangeWrite) -> StoreResult<Recorded> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Writer("the writer stopped".into());
        self.jobs
            .send(Job { write, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn sqlite(e: impl std::fmt::Display) -> StoreError {
    StoreError::Writer(e.to_string())
}

/// The writer's thread: ends when the store (every sender) is gone.
fn run(conn: Connection, mut queue: mpsc::Receiver<Job>, lock: &Mutex<()>) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        let _w = lock.blocking_lock();
        // What queued while the lock was awaited goes into this batch too.
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A panic answers this batch with errors and leaves the thread serving the next one.
        let results = std::panic::catch_unwind(AssertUnwindSafe(|| write_batch(&conn, &batch)))
            .unwrap_or_else(|_| {
                tracing::error!("the SQLite exchange writer panicked; its batch was not written");
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                failed(batch.len(), "the writer failed")
            });
        for (job, result) in batch.into_iter().zip(results) {
            // The caller may be gone (client disconnected); what it asked for is written.
            let _ = job.reply.send(result);
        }
    }
    tracing::info!("the SQLite exchange writer stopped");
}

fn failed(n: usize, why: impl std::fmt::Display) -> Vec<StoreResult<Recorded>> {
    (0..n).map(|_| Err(sqlite(&why))).collect()
}

/// Every job of `batch` in one transaction, each in a savepoint; one result per job. A job that
/// fails is rolled back alone, unless SQLite rolled the whole transaction back with it (a full
/// disk, an I/O error): then nothing of the batch is written and every job is answered so.
fn write_batch(conn: &Connection, batch: &[Job]) -> Vec<StoreResult<Recorded>> {
    // A transaction left open by an earlier failure would swallow this batch.
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return failed(batch.len(), e);
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        // Err: this job's writes cannot be kept apart from the rest (the reason, said whole).
        let one: Result<StoreResult<Recorded>, String> = match conn
            .execute_batch("SAVEPOINT job")
            .and_then(|()| record(conn, &job.write))
        {
            Ok(recorded) => conn
                .execute_batch("RELEASE job")
                .map(|()| Ok(recorded))
                .map_err(|e| e.to_string()),
            // Undo this job alone.
            Err(e) => match conn.execute_batch("ROLLBACK TO job; RELEASE job") {
                Ok(()) => Ok(Err(sqlite(e))),
                Err(undo) => Err(format!("{e}; undoing it: {undo}")),
            },
        };
        match one {
            Ok(result) if !conn.is_autocommit() => results.push(result),
            // SQLite ended the transaction, or this job's writes could not be kept apart from
            // the rest (its RELEASE or ROLLBACK TO failed): nothing of the batch is kept.
            outcome => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                let why = match outcome {
                    Err(why) => why,
                    Ok(Err(e)) => e.to_string(),
                    Ok(Ok(_)) => "the transaction ended early".to_owned(),
                };
                return failed(batch.len(), format!("the batch was rolled back: {why}"));
            }
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => results,
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            failed(batch.len(), e)
        }
    }
}

/// One exchange: the row, the card in the owner's inbox within the caps, the pair's pruning.
fn record(conn: &Connection, w: &ExchangeWrite) -> rusqlite::Result<Recorded> {
    let dedupe_key = w
        .give
        .as_ref()
        .map(|_| format!("x:{}:{}", w.scanner_id, w.scanner_set_no));
    // The exchange row and, in the same statement: whether the owner blocked the scanner, the
    // size of the item this card would replace, and how many exchanges between these two sets
    // are kept (this one included).
    let inserted: Option<(i64, i64, Option<i64>, i64)> = conn
        .prepare_cached(
            "INSERT INTO exchanges (scanner_id, owner_id, owner_set_no, scanner_set_no, idempotency_key, full_card, \
               place, response_json, created_at, owner_version, save_only) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', ?8, ?9, ?10) \
             ON CONFLICT (scanner_id, idempotency_key) DO NOTHING \
             RETURNING id, \
               (SELECT COUNT(*) FROM blocks WHERE user_id = ?2 AND blocked_user_id = ?1), \
               (SELECT bytes FROM inbox WHERE user_id = ?2 AND dedupe_key = ?11), \
               (SELECT COUNT(*) FROM exchanges WHERE scanner_id = ?1 AND scanner_set_no = ?4 \
                  AND owner_id = ?2 AND owner_set_no = ?3)",
        )?
        .query_row(
            params![
                w.scanner_id,
                w.owner_id,
                w.owner_set_no,
                w.scanner_set_no,
                w.key,
                i64::from(w.full_card),
                w.place,
                w.now,
                w.owner_version,
                i64::from(w.give.is_none()),
                dedupe_key.as_deref().unwrap_or_default(),
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((exchange_id, blocked, replaced, kept)) = inserted else {
        return Ok(None);
    };
    let mut delivered = false;
    if let (Some((card, version)), Some(dedupe_key)) = (&w.give, &dedupe_key)
        && blocked == 0
    {
        let bytes = card.len() as i64;
        let items_delta = i64::from(replaced.is_none());
        let bytes_delta = bytes - replaced.unwrap_or(0);
        // Raise the totals only while they stay within the caps (a replacement that grows
        // nothing always fits). Nothing is removed before this says the card fits.
        let fits: Option<i64> = conn
            .prepare_cached(
                "UPDATE users SET inbox_items = inbox_items + ?2, inbox_bytes = inbox_bytes + ?3 \
                 WHERE id = ?1 AND ((?2 <= 0 AND ?3 <= 0) OR (inbox_items + ?2 <= ?4 AND inbox_bytes + ?3 <= ?5)) \
                 RETURNING id",
            )?
            .query_row(
                params![
                    w.owner_id,
                    items_delta,
                    bytes_delta,
                    w.caps.max_items,
                    w.caps.max_bytes
                ],
                |r| r.get(0),
            )
            .optional()?;
        if fits.is_some() {
            // Replaces the sender's earlier item under a new cursor (news to the owner's
            // devices): REPLACE deletes the old row and inserts the new one with the next id.
            conn.prepare_cached(
                "INSERT OR REPLACE INTO inbox (user_id, exchange_id, from_user_id, card_json, via, place, \
                   created_at, from_set_no, from_version, dedupe_key, bytes) \
                 VALUES (?1, ?2, ?3, ?4, 'exchange', ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                w.owner_id,
                exchange_id,
                w.scanner_id,
                card,
                w.place,
                w.now,
                w.scanner_set_no,
                version,
                dedupe_key,
                bytes,
            ])?;
            delivered = true;
        }
    }
    // Keep only the latest exchanges between these two sets (see `KEEP_PER_PAIR`); never one the
    // owner's item still points at.
    if kept >= 2 * KEEP_PER_PAIR {
        conn.prepare_cached(
            "DELETE FROM exchanges WHERE scanner_id = ?1 AND scanner_set_no = ?2 AND owner_id = ?3 \
               AND owner_set_no = ?4 AND id < (SELECT id FROM exchanges WHERE scanner_id = ?1 \
               AND scanner_set_no = ?2 AND owner_id = ?3 AND owner_set_no = ?4 \
               ORDER BY id DESC LIMIT 1 OFFSET ?5) \
               AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.exchange_id = exchanges.id)",
        )?
        .execute(params![
            w.scanner_id,
            w.scanner_set_no,
            w.owner_id,
            w.owner_set_no,
            KEEP_PER_PAIR - 1
        ])?;
    }
    Ok(Some((exchange_id, delivered)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::ExchangeWrite;
    use crate::store::{ExchangeWriter, Store};

    fn exchange(scanner_id: i64, owner_id: i64, key: &str) -> ExchangeWrite {
        ExchangeWrite::for_test(scanner_id, owner_id, key, r#"{"formatted_name":"Scanner"}"#)
    }

    /// Exchanges queued while the writer waits for the write lock are committed together; one
    /// that fails (its owner does not exist) is answered with its error and takes nothing else
    /// with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_commits_together_and_a_failed_exchange_takes_nothing_with_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(
            Store::connect(&Store::sqlite_url(dir.path()), 4)
                .await
                .expect("store"),
        );
        store.add_users_for_test(&[(1, "a"), (2, "b")]).await;
        // Held, so that all three queue up behind the first and go into one batch.
        let held = store.write_lock.lock().await;
        let writes = [
            exchange(1, 2, "key-one-0001"),
            exchange(1, 99, "key-nobody-01"),
            exchange(2, 1, "key-two-00001"),
        ];
        let tasks: Vec<_> = writes
            .into_iter()
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let ExchangeWriter::Sqlite(writer) = &store.exchange_writer else {
                        panic!("SQLite writer");
                    };
                    writer.record(w).await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        assert!(
            matches!(results[0], Ok(Some((_, true)))),
            "{:?}",
            results[0]
        );
        assert!(results[1].is_err(), "no such owner: {:?}", results[1]);
        assert!(
            matches!(results[2], Ok(Some((_, true)))),
            "{:?}",
            results[2]
        );
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT scanner_id, owner_id FROM exchanges ORDER BY scanner_id")
                .fetch_all(&store.pool)
                .await
                .expect("exchanges");
        assert_eq!(rows, vec![(1, 2), (2, 1)], "queued in any order");
        let totals: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, inbox_items FROM users ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .expect("totals");
        assert_eq!(
            totals,
            vec![(1, 1), (2, 1)],
            "one card each, none for the failed one"
        );
        // The same key again is a retry: nothing new.
        let ExchangeWriter::Sqlite(writer) = &store.exchange_writer else {
            panic!("SQLite writer");
        };
        let again = writer.record(exchange(1, 2, "key-one-0001")).await;
        assert!(matches!(again, Ok(None)), "{again:?}");
    }
}
