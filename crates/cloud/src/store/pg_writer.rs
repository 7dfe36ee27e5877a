//! PostgreSQL's exchange writer: exchanges that wait are committed together.
//!
//! Recording an exchange is one function call (`migrations/postgres/0007_exchange_in_one_call.sql`)
//! that writes a few rows. Under load, PostgreSQL spent much of its time not on those rows but on
//! what every transaction costs: the commit with its WAL flush, the backend's wake-up, the
//! statement's start and end. Here exchanges go into a queue, one per lane, chosen by the owner:
//! each lane takes what is waiting (up to [`BATCH`] exchanges or [`BATCH_BYTES`]) and records it
//! in one call of `mingpian_record_exchanges`
//! (`migrations/postgres/0008_exchanges_committed_together.sql`): one transaction, one commit.
//! While a lane waits for the database, its queue fills, so the busier the server the larger the
//! batches; a quiet server writes each exchange as it comes.
//!
//! One account's busy row does not hold up the others' exchanges:
//! - the batch function skips owners whose row another transaction holds (an address-book
//!   refresh, a sync push, another instance's batch). Those exchanges are recorded on their own,
//!   outside the lane, each waiting for its owner at most 5 s, at most [`WAITERS`] at once and one
//!   per owner (a second is answered "busy" at once), so waiting never takes more than that many
//!   of the pool's connections, nor all of them for one account. One that still finds its
//!   owner busy is answered "busy, retry" (503), as is one whose caller gave up before its turn
//!   (nothing was acknowledged; a retry with the same key records it);
//! - inside a batch, waits for other locks give up after 2 s. The batch is then refused, and so is
//!   one that meets an error (a deadlock, an owner deleted meanwhile): nothing of it is kept, and
//!   its exchanges are recorded on their own, so an error reaches only the exchange it belongs to.
//!   When the database cannot be reached (or the pool is exhausted), every exchange of the batch
//!   gets that answer at once.
//!
//! A lane serves only its owners, so the lanes of one server never wait for each other's owners.
//! A batch's exchanges are sorted by scanner and key, so two batches insert keys in the same order
//! and a retry sent twice at once cannot make them wait for each other in a cycle. No exchange is
//! answered before the transaction that holds it has committed, and a batch is written whole even
//! if some of its callers have disconnected meanwhile.

use std::sync::Arc;

use serde::Serialize;
use sqlx::AnyPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::exchanges::KEEP_PER_PAIR;
use super::sqlite_writer::{ExchangeWrite, Recorded};
use super::{StoreError, StoreResult};
use crate::live::{CHANNEL, Wake};

/// Exchanges committed together at most.
const BATCH: usize = 64;
/// A batch grows only while its cards, keys and places stay within this many bytes (one larger
/// exchange goes alone).
const BATCH_BYTES: usize = 1 << 20;
/// Lanes, each writing one batch at a time. On this 2-core machine one lane beat two and four in
/// every alternating run of the load test (see the README): one lane makes the largest batches,
/// and PostgreSQL's writing backend keeps to one core while the server uses the other. A machine
/// with more cores may want more.
pub(super) const LANES: usize = 1;
/// Exchanges recorded on their own at once, server-wide: each may wait on its owner's row (at
/// most 5 s) while holding one of the pool's connections, so they never take more than these.
/// Of the exchanges skipped because their owner was busy, one per owner waits at a time (the
/// others are answered "busy" at once), so one account that keeps its row held cannot keep both.
const WAITERS: usize = 2;

/// Exchanges waiting to be recorded on their own at most, server-wide; past these an exchange
/// that would wait is answered "busy, retry" at once, so they never pile up without bound.
const ALONE_QUEUED: usize = 4 * BATCH;

/// Turns for exchanges recorded on their own.
struct Waiters {
    turns: Semaphore,
    /// Owners an exchange skipped for them is waiting for.
    owners: std::sync::Mutex<std::collections::HashSet<i64>>,
    /// Exchanges waiting for a turn or recording alone ([`ALONE_QUEUED`] at most).
    queued: Arc<Semaphore>,
}

/// An owner's place among [`Waiters::owners`], given back when dropped.
struct OwnerTurn(Arc<Waiters>, i64);

impl Drop for OwnerTurn {
    fn drop(&mut self) {
        self.0
            .owners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.1);
    }
}

/// `None`: an exchange skipped for this owner is already waiting.
fn owner_turn(waiters: &Arc<Waiters>, owner: i64) -> Option<OwnerTurn> {
    let fresh = waiters
        .owners
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(owner);
    fresh.then(|| OwnerTurn(waiters.clone(), owner))
}

struct Job {
    write: ExchangeWrite,
    reply: oneshot::Sender<StoreResult<Recorded>>,
}

impl Job {
    /// About what this job adds to a batch's JSON: its card, key and place, and the field names
    /// and numbers (escaping can add more for a card full of quotes).
    fn bytes(&self) -> usize {
        let w = &self.write;
        300 + w.card_bytes() + w.key.len() + w.place.as_ref().map_or(0, String::len)
    }
}

#[derive(Debug)]
pub(super) struct PgWriter {
    /// One queue per lane; an exchange goes to its owner's lane, so two lanes never wait for
    /// each other's owners.
    lanes: Vec<mpsc::Sender<Job>>,
}

impl PgWriter {
    /// Starts `lanes` lanes on the runtime; they end when the writer is dropped.
    pub(super) fn start(pool: AnyPool, lanes: usize) -> PgWriter {
        let (writer, queues) = PgWriter::unstarted(lanes);
        start_lanes(&pool, queues);
        writer
    }

    /// A writer whose queues no lane serves yet.
    fn unstarted(lanes: usize) -> (PgWriter, Vec<mpsc::Receiver<Job>>) {
        let (lanes, queues) = (0..lanes.max(1)).map(|_| mpsc::channel(4 * BATCH)).unzip();
        (PgWriter { lanes }, queues)
    }

    /// Records one exchange, answered once the transaction holding it has committed.
    pub(super) async fn record(&self, write: ExchangeWrite) -> StoreResult<Recorded> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Writer("the exchange writer stopped".into());
        let lane = &self.lanes[lane_of(write.owner_id, self.lanes.len())];
        lane.send(Job { write, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn lane_of(owner_id: i64, lanes: usize) -> usize {
    owner_id.rem_euclid(lanes as i64) as usize
}

fn start_lanes(pool: &AnyPool, queues: Vec<mpsc::Receiver<Job>>) {
    let waiters = Arc::new(Waiters {
        turns: Semaphore::new(WAITERS),
        owners: std::sync::Mutex::default(),
        queued: Arc::new(Semaphore::new(ALONE_QUEUED)),
    });
    for queue in queues {
        tokio::spawn(lane(pool.clone(), waiters.clone(), queue));
    }
}

/// One lane: takes what waits in its queue, records it, answers; ends with the queue.
async fn lane(pool: AnyPool, waiters: Arc<Waiters>, mut queue: mpsc::Receiver<Job>) {
    // A job that would have made the last batch too large: the first of the next.
    let mut held: Option<Job> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut bytes = first.bytes();
        let mut batch = vec![first];
        while batch.len() < BATCH {
            let Ok(job) = queue.try_recv() else { break };
            if bytes + job.bytes() > BATCH_BYTES {
                held = Some(job);
                break;
            }
            bytes += job.bytes();
            batch.push(job);
        }
        batch.sort_by(|a, b| {
            (a.write.scanner_id, &a.write.key).cmp(&(b.write.scanner_id, &b.write.key))
        });
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|job| (job.write, job.reply)).unzip();
        let n = writes.len();
        // In a task of its own, so that a panic answers this batch with errors and the lane
        // goes on serving the queue.
        let task = tokio::spawn({
            let pool = pool.clone();
            async move {
                let results = record_together(&pool, &writes, false).await;
                (writes, results)
            }
        });
        match task.await {
            Ok((writes, Ok(results))) => {
                for ((write, reply), result) in writes.into_iter().zip(replies).zip(results) {
                    match result {
                        Some(recorded) => {
                            // The caller may be gone (client disconnected); what it asked
                            // for is written.
                            let _ = reply.send(Ok(recorded));
                        }
                        // Its owner was busy: recorded on its own, unless an exchange to that
                        // owner is already waiting.
                        None => match owner_turn(&waiters, write.owner_id) {
                            Some(turn) => {
                                spawn_alone(&pool, &waiters, Job { write, reply }, Some(turn));
                            }
                            None => {
                                let _ = reply.send(Err(StoreError::Busy));
                            }
                        },
                    }
                }
            }
            Ok((writes, Err(e))) if refused(&e) => {
                tracing::warn!(
                    error = %e,
                    exchanges = n,
                    "a batch of exchanges was refused; recording them one by one"
                );
                for (write, reply) in writes.into_iter().zip(replies) {
                    spawn_alone(&pool, &waiters, Job { write, reply }, None);
                }
            }
            Ok((_, Err(e))) => {
                // The pool is exhausted or the database cannot be reached (or is shutting down,
                // or out of resources): asking again for each would only wait longer. Nothing
                // was kept; the callers hear "busy, retry".
                tracing::warn!(error = %e, exchanges = n, "a batch of exchanges was not written");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Busy));
                }
            }
            Err(_) => {
                tracing::error!(
                    "the PostgreSQL exchange writer panicked; its batch was not written"
                );
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Writer("the writer failed".into())));
                }
            }
        }
    }
}

/// Whether the database refused the batch itself (nothing of it was kept, and its exchanges may
/// well succeed one by one), rather than being unreachable, read-only, shutting down or out of
/// resources.
fn refused(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = e else {
        return false;
    };
    let code = e.code().unwrap_or_default();
    // 57014: a cancelled statement, not a shutdown.
    if code == "57014" {
        return true;
    }
    // SQLSTATE classes 08 (connection), 53 (insufficient resources), 57 (operator intervention),
    // 58 (system error); 25006: a read-only transaction (a standby after a failover).
    !(["08", "53", "57", "58"].iter().any(|c| code.starts_with(c)) || code == "25006")
}

/// Records an exchange on its own ([`alone`]), or answers "busy, retry" when
/// [`ALONE_QUEUED`] already wait.
fn spawn_alone(pool: &AnyPool, waiters: &Arc<Waiters>, job: Job, owner_turn: Option<OwnerTurn>) {
    match waiters.queued.clone().try_acquire_owned() {
        Ok(queued) => {
            tokio::spawn(alone(
                pool.clone(),
                waiters.clone(),
                job,
                owner_turn,
                queued,
            ));
        }
        Err(_) => {
            let _ = job.reply.send(Err(StoreError::Busy));
        }
    }
}

/// One exchange recorded on its own (its owner was busy: it holds that owner's turn; or its
/// batch was refused), and answered. It waits for its owner's row at most 5 s, on one of
/// [`WAITERS`] connections.
async fn alone(
    pool: AnyPool,
    waiters: Arc<Waiters>,
    mut job: Job,
    _owner_turn: Option<OwnerTurn>,
    _queued: tokio::sync::OwnedSemaphorePermit,
) {
    // The caller may go (it was answered "busy" by the answer timeout, or disconnected) while
    // this waits: nothing was acknowledged, a retry with the same key records it, and the
    // owner's turn and the place are given back at once.
    let turn = tokio::select! {
        turn = waiters.turns.acquire() => turn,
        () = job.reply.closed() => return,
    };
    let Ok(_turn) = turn else {
        return;
    };
    let result = match record_together(&pool, std::slice::from_ref(&job.write), true).await {
        Ok(results) => match results.as_slice() {
            [Some(recorded)] => Ok(*recorded),
            _ => Err(StoreError::Writer("the exchange was not answered".into())),
        },
        // Its owner stayed busy, or the pool is exhausted: "busy, retry".
        Err(sqlx::Error::PoolTimedOut) => Err(StoreError::Busy),
        Err(e) => Err(super::busy_if_lock_timeout(e.into())),
    };
    let _ = job.reply.send(result);
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

/// Every write in one call: one transaction. One result per write, `None` for one that was not
/// recorded because another transaction held its owner (only when not `wait`ing: then every
/// owner's row is waited for, at most 5 s).
async fn record_together(
    pool: &AnyPool,
    writes: &[ExchangeWrite],
    wait: bool,
) -> sqlx::Result<Vec<Option<Recorded>>> {
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
        "SELECT job, exchange_id, delivered FROM mingpian_record_exchanges($1, $2, $3, $4, $5)",
    )
    .bind(jobs)
    .bind(owners)
    .bind(KEEP_PER_PAIR)
    .bind(CHANNEL)
    .bind(wait)
    .fetch_all(pool)
    .await?;
    let mut results: Vec<Option<Option<Recorded>>> = vec![None; writes.len()];
    for (job, id, delivered) in rows {
        let slot = usize::try_from(job)
            .ok()
            .and_then(|i| results.get_mut(i))
            .ok_or_else(|| sqlx::Error::Protocol(format!("an answer for no exchange ({job})")))?;
        *slot = Some(match delivered {
            // Skipped: its owner was busy.
            Some(-1) => None,
            // No id: an exchange with the same key was recorded first.
            _ => Some(id.map(|id| (id, delivered.unwrap_or(0) != 0))),
        });
    }
    results
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| sqlx::Error::Protocol("an exchange of the batch was not answered".into()))
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use sqlx::{Connection as _, PgConnection};

    use super::{PgWriter, start_lanes};
    use crate::store::sqlite_writer::ExchangeWrite;
    use crate::store::{Store, StoreError};

    /// With a card whose quotes and CJK must survive the trip through JSON.
    fn exchange(scanner_id: i64, owner_id: i64, key: &str) -> ExchangeWrite {
        let mut write = ExchangeWrite::for_test(
            scanner_id,
            owner_id,
            key,
            r#"{"formatted_name":"Scanner \"quoted\" 名片"}"#,
        );
        write.place = Some("Hall 3".to_owned());
        write
    }

    /// A fresh database on the server at `MINGPIAN_TEST_POSTGRES` (required when set) or the
    /// local default: `(admin url, database name, url)`.
    pub(in crate::store) async fn fresh_database(suffix: &str) -> Option<(String, String, String)> {
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
        // Tests of one binary run at once: each names its own database.
        let name = format!("mingpian_store_{}_{suffix}", std::process::id());
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

    /// Drops a database [`fresh_database`] made, whoever is still connected.
    pub(in crate::store) async fn drop_database(admin: &str, name: &str) {
        let mut conn = PgConnection::connect(admin).await.expect("admin");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .expect("drop");
    }

    /// Holds user `id`'s row until the returned connection commits, as a sync push or an
    /// address-book refresh does (an UPDATE of a column that is not a key).
    pub(in crate::store) async fn hold(url: &str, id: i64) -> PgConnection {
        let mut conn = PgConnection::connect(url).await.expect("blocker");
        sqlx::query("BEGIN")
            .execute(&mut conn)
            .await
            .expect("begin");
        sqlx::query("UPDATE users SET sync_seq = sync_seq WHERE id = $1")
            .bind(id)
            .execute(&mut conn)
            .await
            .expect("lock");
        conn
    }

    type Answer = tokio::task::JoinHandle<super::StoreResult<super::Recorded>>;

    /// `writes` queued in order before a lane starts, so that the lane takes them as one batch.
    async fn one_batch(store: &Store, writes: Vec<ExchangeWrite>) -> Vec<Answer> {
        let (writer, queues) = PgWriter::unstarted(1);
        let writer = Arc::new(writer);
        let n = writes.len();
        let mut answers = Vec::new();
        for w in writes {
            let writer = writer.clone();
            answers.push(tokio::spawn(async move { writer.record(w).await }));
        }
        // Every job in the queue before the lane starts: it takes them all at once.
        while queues[0].len() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        start_lanes(&store.pool, queues);
        answers
    }

    async fn answered(answers: Vec<Answer>) -> Vec<super::StoreResult<super::Recorded>> {
        let mut results = Vec::new();
        for answer in answers {
            let result = tokio::time::timeout(Duration::from_secs(10), answer)
                .await
                .expect("answered in time")
                .expect("task");
            results.push(result);
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

    fn delivered(result: &super::StoreResult<super::Recorded>) -> bool {
        matches!(result, Ok(Some((_, true))))
    }

    /// Exchanges that wait are written in one transaction, each with its inbox item and totals;
    /// an owner another transaction holds holds up only the exchange to that owner; a batch the
    /// database refuses is recorded one by one, so only the culprit fails; a retry of a recorded
    /// key records nothing; a stalled exchange is answered "busy" in time and its retry is
    /// recorded once; an owner held past 5 s gets "busy" without tying up a connection longer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_exchanges_share_one_commit_and_no_owner_or_culprit_holds_up_the_rest() {
        let Some((admin, name, url)) = fresh_database("writer").await else {
            return;
        };
        let store = Store::connect(&url, 4).await.expect("store");
        store
            .add_users_for_test(&[(1, "a"), (2, "b"), (3, "c")])
            .await;

        // Together: one commit.
        let together = ["key-b-000001", "key-c-000001", "key-d-000001"];
        let results = answered(
            one_batch(
                &store,
                vec![
                    exchange(1, 2, together[0]),
                    exchange(2, 1, together[1]),
                    exchange(3, 1, together[2]),
                ],
            )
            .await,
        )
        .await;
        assert!(results.iter().all(delivered), "{results:?}");
        let xids = transactions_of(&store, &together).await;
        assert!(xids.iter().all(|x| *x == xids[0]), "one commit: {xids:?}");

        // User 3's row is held elsewhere: the first exchange to 3 (by scanner and key) waits
        // alone, a second to 3 is answered "busy" at once, the rest go ahead.
        let mut blocker = hold(&url, 3).await;
        let mut answers = one_batch(
            &store,
            vec![
                exchange(1, 3, "key-e-000001"),
                exchange(2, 3, "key-e-000002"),
                exchange(2, 1, "key-f-000001"),
                exchange(3, 2, "key-g-000001"),
            ],
        )
        .await;
        let to_busy_owner = answers.remove(0);
        let second = answered(vec![answers.remove(0)]).await;
        assert!(matches!(second[0], Err(StoreError::Busy)), "{second:?}");
        let rest = answered(answers).await;
        assert!(rest.iter().all(delivered), "{rest:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !to_busy_owner.is_finished(),
            "the exchange to the held owner waits"
        );
        sqlx::query("COMMIT")
            .execute(&mut blocker)
            .await
            .expect("commit");
        let waited = answered(vec![to_busy_owner]).await;
        assert!(delivered(&waited[0]), "{waited:?}");
        let xids = transactions_of(&store, &["key-f-000001", "key-g-000001", "key-e-000001"]).await;
        assert_eq!(xids[0], xids[1], "the others in one commit: {xids:?}");
        assert_ne!(xids[0], xids[2], "the waiting one on its own: {xids:?}");

        // A save-only exchange with an owner that does not exist makes the database refuse the
        // batch: recorded one by one, only that one fails.
        let mut nobody = exchange(1, 99, "key-i-000001");
        nobody.give = None;
        nobody.scanner_set_no = 0;
        let results = answered(
            one_batch(
                &store,
                vec![
                    exchange(2, 1, "key-h-000001"),
                    nobody,
                    exchange(3, 2, "key-j-000001"),
                ],
            )
            .await,
        )
        .await;
        assert!(delivered(&results[0]), "{:?}", results[0]);
        assert!(results[1].is_err(), "no such owner: {:?}", results[1]);
        assert!(delivered(&results[2]), "{:?}", results[2]);
        let xids = transactions_of(&store, &["key-h-000001", "key-j-000001"]).await;
        assert_ne!(xids[0], xids[1], "one by one: {xids:?}");

        // The same keys again are retries: nothing new, in a batch or alone.
        let results = answered(
            one_batch(
                &store,
                vec![exchange(1, 2, together[0]), exchange(2, 1, together[1])],
            )
            .await,
        )
        .await;
        assert!(results.iter().all(|r| matches!(r, Ok(None))), "{results:?}");
        let alone = PgWriter::start(store.pool.clone(), 1);
        let again = alone.record(exchange(3, 1, together[2])).await;
        assert!(matches!(again, Ok(None)), "{again:?}");

        // A stalled owner: the caller hears "busy" in time; a retry once the owner is free is
        // recorded exactly once (whether or not the first attempt got written meanwhile).
        let impatient = PgWriter::start(store.pool.clone(), 1);
        let mut blocker = hold(&url, 3).await;
        // As `Store::record_exchange` waits, with a shorter patience.
        let stalled = tokio::time::timeout(
            Duration::from_millis(300),
            impatient.record(exchange(2, 3, "key-k-000001")),
        )
        .await
        .unwrap_or(Err(StoreError::Busy));
        assert!(matches!(stalled, Err(StoreError::Busy)), "{stalled:?}");
        sqlx::query("COMMIT")
            .execute(&mut blocker)
            .await
            .expect("commit");
        // As a client retries: while the first attempt is still being written, the owner's
        // waiting turn is taken and the retry hears "busy" again.
        let mut retry = Err(StoreError::Busy);
        for _ in 0..50 {
            retry = impatient.record(exchange(2, 3, "key-k-000001")).await;
            if !matches!(retry, Err(StoreError::Busy)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(retry.is_ok(), "{retry:?}");
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM exchanges WHERE idempotency_key = 'key-k-000001'",
        )
        .fetch_one(&store.pool)
        .await
        .expect("count");
        assert_eq!(n, 1, "recorded once");

        // An owner held longer than an exchange waits for it: "busy", after about 5 s.
        let patient = PgWriter::start(store.pool.clone(), 1);
        let mut blocker = hold(&url, 3).await;
        let started = std::time::Instant::now();
        let held_too_long = patient.record(exchange(1, 3, "key-l-000001")).await;
        assert!(
            matches!(held_too_long, Err(StoreError::Busy)),
            "{held_too_long:?}"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(4) && waited < Duration::from_secs(15),
            "{waited:?}"
        );
        sqlx::query("ROLLBACK")
            .execute(&mut blocker)
            .await
            .expect("rollback");

        // Each owner holds one item per sender's set (a later card replaces an earlier one), and
        // the totals agree.
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

        drop((alone, impatient, patient));
        store.pool.close().await;
        drop_database(&admin, &name).await;
    }
}
