//! PostgreSQL's exchange writer: exchanges that wait are committed together.
//!
//! Recording an exchange is one function call (`migrations/postgres/0007_exchange_in_one_call.sql`)
//! that writes a few rows. Under load, PostgreSQL spent most of its time not on those rows but on
//! what every transaction costs: the commit with its WAL flush, the backend's wake-up, the
//! statement's start and end. Here exchanges go into a queue; a few lanes each take what is
//! waiting (up to [`BATCH`] exchanges or [`BATCH_BYTES`] of cards) and record it in one call of
//! `mingpian_record_exchanges` (`migrations/postgres/0008_exchanges_committed_together.sql`): one
//! transaction, one commit. An exchange alone in the queue is recorded by the single call, as
//! before, so a quiet server answers as fast as it did.
//!
//! The batch function locks every owner that receives a card in id order before it writes, so
//! two lanes (or two instances) wait for each other rather than deadlock. If the database refuses
//! the batch (an owner deleted meanwhile, a deadlock with other work), nothing of it is kept and
//! its exchanges are recorded one by one, so an error reaches only the exchange it belongs to.
//! When the database cannot be reached at all, every exchange of the batch gets that error at once.
//!
//! No exchange is answered before the transaction that holds it has committed. The lanes are tasks
//! of their own: a client that disconnects while waiting does not cancel what it asked for.

use std::sync::Arc;

use serde::Serialize;
use sqlx::AnyPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::exchanges::KEEP_PER_PAIR;
use super::sqlite_writer::{ExchangeWrite, Recorded};
use super::{StoreError, StoreResult};
use crate::live::{CHANNEL, Wake};

/// Exchanges committed together at most.
const BATCH: usize = 64;
/// A batch stops growing once its cards reach this many bytes (a card may be megabytes).
const BATCH_BYTES: usize = 1 << 20;
/// Batches written at once. Measured with the load test (16 users): one lane and two were level,
/// four split the queue into smaller batches and were slower. Two keep the database busy while
/// the server assembles the next batch.
pub(super) const LANES: usize = 2;

struct Job {
    write: ExchangeWrite,
    reply: oneshot::Sender<StoreResult<Recorded>>,
}

#[derive(Debug)]
pub(super) struct PgWriter {
    jobs: mpsc::Sender<Job>,
}

impl PgWriter {
    /// Starts `lanes` lanes on the runtime; they end when the writer is dropped.
    pub(super) fn start(pool: AnyPool, lanes: usize) -> PgWriter {
        let (jobs, queue) = mpsc::channel(4 * BATCH);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(pool.clone(), queue.clone()));
        }
        PgWriter { jobs }
    }

    /// Records one exchange, answered once the transaction holding it has committed.
    pub(super) async fn record(&self, write: ExchangeWrite) -> StoreResult<Recorded> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Writer("the exchange writer stopped".into());
        self.jobs
            .send(Job { write, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// One lane: takes what waits in the queue, records it, answers; ends with the queue.
async fn lane(pool: AnyPool, queue: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let batch = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut bytes = first.write.card_bytes();
            let mut batch = vec![first];
            while batch.len() < BATCH && bytes < BATCH_BYTES {
                match queue.try_recv() {
                    Ok(job) => {
                        bytes += job.write.card_bytes();
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            batch
        };
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|job| (job.write, job.reply)).unzip();
        let n = writes.len();
        // In a task of its own, so that a panic answers this batch with errors and the lane
        // goes on serving the queue.
        let results = tokio::spawn(write_batch(pool.clone(), writes))
            .await
            .unwrap_or_else(|_| {
                tracing::error!(
                    "the PostgreSQL exchange writer panicked; its batch was not written"
                );
                (0..n)
                    .map(|_| Err(StoreError::Writer("the writer failed".into())))
                    .collect()
            });
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may be gone (client disconnected); what it asked for is written.
            let _ = reply.send(result);
        }
    }
}

/// One result per write, in order.
async fn write_batch(pool: AnyPool, writes: Vec<ExchangeWrite>) -> Vec<StoreResult<Recorded>> {
    if writes.len() > 1 {
        match record_together(&pool, &writes).await {
            Ok(results) => return results.into_iter().map(Ok).collect(),
            // The database refused the batch (nothing of it was kept): one by one, below.
            Err(sqlx::Error::Database(e)) => {
                tracing::warn!(
                    error = %e,
                    exchanges = writes.len(),
                    "a batch of exchanges was refused; recording them one by one"
                );
            }
            // The database cannot be reached: asking again for each would only wait longer.
            Err(e) => {
                let why = e.to_string();
                return writes
                    .iter()
                    .map(|_| Err(StoreError::Writer(why.clone())))
                    .collect();
            }
        }
    }
    let mut results = Vec::with_capacity(writes.len());
    for write in &writes {
        results.push(record_one(&pool, write).await.map_err(StoreError::from));
    }
    results
}

/// One exchange in one call.
async fn record_one(pool: &AnyPool, w: &ExchangeWrite) -> sqlx::Result<Recorded> {
    let card = w.give.as_ref().map(|(card, _)| card.as_str());
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT exchange_id, delivered FROM mingpian_record_exchange(\
           $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(w.scanner_id)
    .bind(w.owner_id)
    .bind(w.owner_set_no)
    .bind(w.scanner_set_no)
    .bind(w.key.as_str())
    .bind(i64::from(w.full_card))
    .bind(w.place.as_deref())
    .bind(w.now)
    .bind(w.owner_version)
    .bind(card)
    .bind(w.give.as_ref().map_or(0, |(_, version)| *version))
    .bind(w.card_bytes() as i64)
    .bind(w.caps.max_items)
    .bind(w.caps.max_bytes)
    .bind(KEEP_PER_PAIR)
    .bind(CHANNEL)
    .bind(Wake::Inbox(w.owner_id).payload())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, delivered)| (id, delivered != 0)))
}

/// The parameters of one exchange as `mingpian_record_exchanges` reads them.
#[derive(Serialize)]
struct JobParams<'a> {
    i: usize,
    scanner: i64,
    owner: i64,
    owner_set: i64,
    scanner_set: i64,
    key: &'a str,
    full_card: i64,
    place: Option<&'a str>,
    now: i64,
    owner_version: i64,
    card: Option<&'a str>,
    give_version: i64,
    bytes: usize,
    max_items: i64,
    max_bytes: i64,
    wake: String,
}

/// Every write in one call: one transaction.
async fn record_together(pool: &AnyPool, writes: &[ExchangeWrite]) -> sqlx::Result<Vec<Recorded>> {
    let params: Vec<JobParams<'_>> = writes
        .iter()
        .enumerate()
        .map(|(i, w)| JobParams {
            i,
            scanner: w.scanner_id,
            owner: w.owner_id,
            owner_set: w.owner_set_no,
            scanner_set: w.scanner_set_no,
            key: &w.key,
            full_card: i64::from(w.full_card),
            place: w.place.as_deref(),
            now: w.now,
            owner_version: w.owner_version,
            card: w.give.as_ref().map(|(card, _)| card.as_str()),
            give_version: w.give.as_ref().map_or(0, |(_, version)| *version),
            bytes: w.card_bytes(),
            max_items: w.caps.max_items,
            max_bytes: w.caps.max_bytes,
            wake: Wake::Inbox(w.owner_id).payload(),
        })
        .collect();
    let jobs = serde_json::to_string(&params).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut owners: Vec<i64> = writes
        .iter()
        .filter(|w| w.give.is_some())
        .map(|w| w.owner_id)
        .collect();
    owners.sort_unstable();
    owners.dedup();
    let owners = owners
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT job, exchange_id, delivered FROM mingpian_record_exchanges($1, $2, $3, $4)",
    )
    .bind(jobs)
    .bind(owners)
    .bind(KEEP_PER_PAIR)
    .bind(CHANNEL)
    .fetch_all(pool)
    .await?;
    let mut results: Vec<Option<Recorded>> = vec![None; writes.len()];
    for (job, id, delivered) in rows {
        let slot = usize::try_from(job)
            .ok()
            .and_then(|i| results.get_mut(i))
            .ok_or_else(|| sqlx::Error::Protocol(format!("an answer for no exchange ({job})")))?;
        // No id: an exchange with the same key was recorded first.
        *slot = Some(id.map(|id| (id, delivered.unwrap_or(0) != 0)));
    }
    results
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| sqlx::Error::Protocol("an exchange of the batch was not answered".into()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use sqlx::{Connection as _, PgConnection};

    use super::PgWriter;
    use crate::store::Store;
    use crate::store::exchanges::InboxCaps;
    use crate::store::sqlite_writer::ExchangeWrite;

    fn exchange(scanner_id: i64, owner_id: i64, key: &str) -> ExchangeWrite {
        ExchangeWrite {
            scanner_id,
            owner_id,
            owner_set_no: 1,
            scanner_set_no: 1,
            give: Some((
                r#"{"formatted_name":"Scanner \"quoted\" 名片"}"#.to_owned(),
                1,
            )),
            owner_version: 1,
            key: key.to_owned(),
            full_card: false,
            place: Some("Hall 3".to_owned()),
            caps: InboxCaps {
                max_items: 100,
                max_bytes: 1 << 20,
                max_web_items: 10,
            },
            now: 1,
        }
    }

    /// A fresh database on the server at `MINGPIAN_TEST_POSTGRES` (required when set) or the
    /// local default: `(admin url, database name, url)`.
    async fn fresh_database() -> Option<(String, String, String)> {
        let (admin, required) = match std::env::var("MINGPIAN_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => (url, true),
            _ => (
                "postgres://postgres@localhost:5432/postgres".to_owned(),
                false,
            ),
        };
        let mut conn = match PgConnection::connect(&admin).await {
            Ok(conn) => conn,
            Err(e) if required => panic!("MINGPIAN_TEST_POSTGRES={admin}: {e}"),
            Err(e) => {
                eprintln!(
                    "SKIPPED: no PostgreSQL at {admin} ({e}); set MINGPIAN_TEST_POSTGRES to require it"
                );
                return None;
            }
        };
        let name = format!("mingpian_pg_writer_{}", std::process::id());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut conn)
        .await
        .expect("drop");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create");
        let (server, _) = admin.rsplit_once('/').expect("a URL ending in /database");
        let url = format!("{server}/{name}");
        Some((admin, name, url))
    }

    /// Holds user `id`'s row locked until the returned connection commits, so that the lane's
    /// exchange to that user waits and the exchanges queued behind it form one batch.
    async fn hold(url: &str, id: i64) -> PgConnection {
        let mut conn = PgConnection::connect(url).await.expect("blocker");
        sqlx::query("BEGIN")
            .execute(&mut conn)
            .await
            .expect("begin");
        sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut conn)
            .await
            .expect("lock");
        conn
    }

    /// `writes` recorded by `writer`, queued in order behind a first exchange to user 3 that
    /// waits for the lock `blocker` holds.
    async fn queued_behind_a_lock(
        writer: &Arc<PgWriter>,
        mut blocker: PgConnection,
        first: ExchangeWrite,
        writes: Vec<ExchangeWrite>,
    ) -> Vec<super::StoreResult<super::Recorded>> {
        let spawn = |w: ExchangeWrite| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.record(w).await })
        };
        let first = spawn(first);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut tasks = Vec::new();
        for w in writes {
            tasks.push(spawn(w));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sqlx::query("COMMIT")
            .execute(&mut blocker)
            .await
            .expect("commit");
        assert!(matches!(first.await.expect("task"), Ok(Some((_, true)))));
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        results
    }

    async fn transactions_of(store: &Store, keys: &[&str]) -> Vec<String> {
        let mut xids = Vec::new();
        for key in keys {
            let xid: String =
                sqlx::query_scalar("SELECT xmin::text FROM exchanges WHERE idempotency_key = $1")
                    .bind(*key)
                    .fetch_one(&store.pool)
                    .await
                    .expect("exchange row");
            xids.push(xid);
        }
        xids
    }

    /// Exchanges that wait are written in one transaction, each with its inbox item and totals;
    /// a batch the database refuses (one owner does not exist) is recorded one by one, so only
    /// that exchange fails; a retry of a recorded key records nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_exchanges_share_one_commit_and_a_refused_batch_fails_only_its_culprit() {
        let Some((admin, name, url)) = fresh_database().await else {
            return;
        };
        let store = Store::connect(&url, 4).await.expect("store");
        for (id, public) in [(1, "a"), (2, "b"), (3, "c")] {
            sqlx::query(
                "INSERT INTO users (id, public_id, name, name_key, password_hash, created_at) \
                 VALUES ($1, $2, $2, $2, 'x', 0)",
            )
            .bind(id)
            .bind(public)
            .execute(&store.pool)
            .await
            .expect("user");
        }
        // One lane, so that what queues behind its first exchange is one batch.
        let writer = Arc::new(PgWriter::start(store.pool.clone(), 1));

        let together = ["key-b-000001", "key-c-000001", "key-d-000001"];
        let results = queued_behind_a_lock(
            &writer,
            hold(&url, 3).await,
            exchange(1, 3, "key-a-000001"),
            vec![
                exchange(1, 2, together[0]),
                exchange(2, 1, together[1]),
                exchange(3, 1, together[2]),
            ],
        )
        .await;
        for result in &results {
            assert!(matches!(result, Ok(Some((_, true)))), "{result:?}");
        }
        let xids = transactions_of(&store, &together).await;
        assert!(xids.iter().all(|x| *x == xids[0]), "one commit: {xids:?}");
        let first = transactions_of(&store, &["key-a-000001"]).await;
        assert_ne!(first[0], xids[0], "the first exchange was recorded alone");

        // 99 does not exist: the batch is refused and recorded one by one.
        let apart = ["key-e-000001", "key-f-000001", "key-g-000001"];
        let results = queued_behind_a_lock(
            &writer,
            hold(&url, 3).await,
            exchange(2, 3, "key-h-000001"),
            vec![
                exchange(2, 1, apart[0]),
                exchange(1, 99, apart[1]),
                exchange(3, 2, apart[2]),
            ],
        )
        .await;
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
        let xids = transactions_of(&store, &[apart[0], apart[2]]).await;
        assert_ne!(xids[0], xids[1], "one by one: {xids:?}");

        // Totals: each owner holds one item per sender's set (a later card replaces an earlier).
        let totals: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, inbox_items FROM users ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .expect("totals");
        assert_eq!(totals, vec![(1, 2), (2, 2), (3, 2)]);
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
            .fetch_one(&store.pool)
            .await
            .expect("items");
        assert_eq!(items, 6);
        let card: String = sqlx::query_scalar(
            "SELECT card_json FROM inbox WHERE user_id = 1 AND from_user_id = 2",
        )
        .fetch_one(&store.pool)
        .await
        .expect("card");
        assert_eq!(
            card, r#"{"formatted_name":"Scanner \"quoted\" 名片"}"#,
            "carried exactly"
        );

        // The same key again is a retry: nothing new, alone or in a batch.
        let again = writer.record(exchange(1, 2, together[0])).await;
        assert!(matches!(again, Ok(None)), "{again:?}");
        let results = queued_behind_a_lock(
            &writer,
            hold(&url, 3).await,
            exchange(1, 3, "key-i-000001"),
            vec![exchange(2, 1, together[1]), exchange(3, 1, together[2])],
        )
        .await;
        for result in &results {
            assert!(matches!(result, Ok(None)), "{result:?}");
        }

        drop(writer);
        store.pool.close().await;
        let mut conn = PgConnection::connect(&admin).await.expect("admin");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .expect("drop");
    }
}
