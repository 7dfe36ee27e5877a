//! Wallet records for sync, backup and restore.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult};

/// How long a push waits for the account's previous push on this instance before it is
/// answered "busy, retry".
const PUSH_WAIT: Duration = Duration::from_secs(10);

/// One push at a time per account on this instance. An account's pushes take its row in turn
/// anyway (locked first: see `push_records`), so a second one at once would only wait inside the database,
/// holding a pooled connection: enough of them from one account would take the pool from
/// everyone. Here the second waits without a connection, and a third is answered "busy" at
/// once, so one account's pushes cannot pile up in memory either.
#[derive(Debug, Default)]
pub(super) struct PushTurns {
    accounts: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// An account's push turn, given back when dropped.
struct PushTurn<'a> {
    turns: &'a PushTurns,
    user_id: i64,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl PushTurns {
    async fn take(&self, user_id: i64) -> StoreResult<PushTurn<'_>> {
        let account = {
            let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
            let account = accounts.entry(user_id).or_default();
            // Held by the map, the push under way and one waiting: a further push is answered
            // "busy" at once rather than held (with its changes) in memory.
            if Arc::strong_count(account) >= 3 {
                return Err(StoreError::Busy);
            }
            account.clone()
        };
        let mut turn = PushTurn {
            turns: self,
            user_id,
            guard: None,
        };
        // Dropped on a timeout or a cancelled request: the entry goes once nobody holds it.
        turn.guard = Some(
            tokio::time::timeout(PUSH_WAIT, account.lock_owned())
                .await
                .map_err(|_| StoreError::Busy)?,
        );
        Ok(turn)
    }
}

impl Drop for PushTurn<'_> {
    fn drop(&mut self) {
        let mut accounts = self
            .turns
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        drop(self.guard.take());
        if accounts
            .get(&self.user_id)
            .is_some_and(|a| Arc::strong_count(a) == 1)
        {
            accounts.remove(&self.user_id);
        }
    }
}

/// A stored wallet record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub kind: String,
    pub id: String,
    pub version: i64,
    pub modified_at: i64,
    pub device: String,
    pub deleted: bool,
    pub data: String,
}

/// A pushed change, validated by the caller.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: String,
    pub id: String,
    pub base_version: i64,
    pub modified_at: i64,
    pub device: String,
    pub deleted: bool,
    pub data: String,
    /// Taken only from exactly `base_version` (0: only when no live record exists); otherwise
    /// the whole push changes nothing and is [`StoreError::Conflict`]. For writers that checked
    /// a precondition (CardDAV's `If-Match`), which a later clock must not override.
    pub strict: bool,
}

fn record(row: &AnyRow) -> StoreResult<RecordRow> {
    Ok(RecordRow {
        kind: row.try_get("kind")?,
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        modified_at: row.try_get("modified_at")?,
        device: row.try_get("device")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
        data: row.try_get("data")?,
    })
}

const COLUMNS: &str = "kind, id, version, modified_at, device, deleted, data";

/// Whether a change made from an outdated version still wins: the later edit wins, and equal
/// clocks are settled by device id, so every device converges on the same record whatever order
/// the pushes arrive in.
fn newer(change: &Change, stored: &RecordRow) -> bool {
    (change.modified_at, change.device.as_str()) > (stored.modified_at, stored.device.as_str())
}

impl Store {
    /// Applies pushed changes in one transaction; returns each record as it now stands and
    /// whether the change was taken.
    /// The account's records may take at most `quota_bytes` in all: a push that would pass it
    /// changes nothing and is [`StoreError::Full`].
    #[tracing::instrument(skip_all)]
    pub async fn push_records(
        &self,
        user_id: i64,
        changes: &[Change],
        quota_bytes: i64,
    ) -> StoreResult<Vec<(RecordRow, bool)>> {
        let _turn = self.push_turns.take(user_id).await?;
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // First, before any record is read: pushes of this account from other instances wait
        // here, so the sizes and versions read below are the ones this push replaces (read
        // before it, another push's change would be counted against the quota twice, or its
        // version overwritten unseen). The row may be held by another instance's push or an
        // address-book refresh: waited for at most 5 s.
        super::lock_owner(&mut tx, self.backend, user_id).await?;
        let out = self
            .push_in(&mut tx, user_id, changes, quota_bytes)
            .await
            .map_err(super::busy_if_lock_timeout)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn push_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        user_id: i64,
        changes: &[Change],
        quota_bytes: i64,
    ) -> StoreResult<Vec<(RecordRow, bool)>> {
        let mut out = Vec::with_capacity(changes.len());
        let mut grown: i64 = 0;
        for change in changes {
            let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS}, bytes FROM records WHERE user_id = $1 AND kind = $2 AND id = $3"
            )))
            .bind(user_id)
            .bind(&change.kind)
            .bind(&change.id)
            .fetch_optional(&mut **tx)
            .await?;
            let old_bytes: i64 = match &stored {
                Some(row) => row.try_get("bytes")?,
                None => 0,
            };
            let stored = stored.as_ref().map(record).transpose()?;
            if change.strict {
                let seen = stored
                    .as_ref()
                    .filter(|s| !s.deleted)
                    .map_or(0, |s| s.version);
                if seen != change.base_version {
                    return Err(StoreError::Conflict("the record changed meanwhile"));
                }
            }
            // A change that loses to the stored record is answered with that record.
            if let Some(s) = stored
                && s.version != change.base_version
                && !newer(change, &s)
            {
                out.push((s, false));
                continue;
            }
            // The account's next version (its row is already locked: see `push_records`).
            let version: i64 = sqlx::query_scalar(
                "UPDATE users SET sync_seq = sync_seq + 1 WHERE id = $1 RETURNING sync_seq",
            )
            .bind(user_id)
            .fetch_one(&mut **tx)
            .await?;
            grown += change.data.len() as i64 - old_bytes;
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO records (user_id, kind, id, version, modified_at, device, deleted, data, bytes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (user_id, kind, id) DO UPDATE SET version = excluded.version, \
                   modified_at = excluded.modified_at, device = excluded.device, deleted = excluded.deleted, \
                   data = excluded.data, bytes = excluded.bytes \
                 RETURNING {COLUMNS}"
            )))
            .bind(user_id)
            .bind(&change.kind)
            .bind(&change.id)
            .bind(version)
            .bind(change.modified_at)
            .bind(&change.device)
            .bind(i64::from(change.deleted))
            .bind(&change.data)
            .bind(change.data.len() as i64)
            .fetch_one(&mut **tx)
            .await?;
            out.push((record(&row)?, true));
        }
        let within: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET records_bytes = records_bytes + $2 \
             WHERE id = $1 AND ($2 <= 0 OR records_bytes + $2 <= $3) RETURNING id",
        )
        .bind(user_id)
        .bind(grown)
        .bind(quota_bytes)
        .fetch_optional(&mut **tx)
        .await?;
        if within.is_none() {
            return Err(StoreError::Full("backup"));
        }
        Ok(out)
    }

    /// One record as stored, tombstones included.
    #[tracing::instrument(skip_all)]
    pub async fn record(
        &self,
        user_id: i64,
        kind: &str,
        id: &str,
    ) -> StoreResult<Option<RecordRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM records WHERE user_id = $1 AND kind = $2 AND id = $3"
        )))
        .bind(user_id)
        .bind(kind)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Records changed after `after`, oldest change first: at most `limit` and, past the first,
    /// at most `max_bytes` of data; and whether more wait after them.
    #[tracing::instrument(skip_all)]
    pub async fn pull_records(
        &self,
        user_id: i64,
        after: i64,
        limit: i64,
        max_bytes: i64,
    ) -> StoreResult<(Vec<RecordRow>, bool)> {
        let sizes: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT version, bytes FROM records WHERE user_id = $1 AND version > $2 ORDER BY version LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let page = &sizes[..sizes.len().min(limit.max(0) as usize)];
        let Some(last) = super::exchanges::last_within(page, max_bytes) else {
            return Ok((Vec::new(), false));
        };
        let more = sizes.iter().any(|&(version, _)| version > last);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM records WHERE user_id = $1 AND version > $2 AND version <= $3 ORDER BY version"
        )))
        .bind(user_id)
        .bind(after)
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(record).collect::<StoreResult<_>>()?, more))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Change;
    use crate::store::pg_writer::tests::{drop_database, fresh_database, hold};
    use crate::store::{Store, StoreError};

    fn change(id: &str) -> Change {
        Change {
            kind: "contact".to_owned(),
            id: id.to_owned(),
            base_version: 0,
            modified_at: 1,
            device: "d".to_owned(),
            deleted: false,
            data: "{}".to_owned(),
            strict: false,
        }
    }

    /// Two instances pushing over one record of an account at once: the second reads the record
    /// as the first left it (the account's row is locked before any record is read), so the
    /// account's byte total stays the sum of its records' bytes, each change counted once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pushes_from_two_instances_count_each_change_once() {
        let Some((admin, name, url)) = fresh_database("two_instances").await else {
            return;
        };
        let one = std::sync::Arc::new(Store::connect(&url, 3).await.expect("store"));
        let two = std::sync::Arc::new(Store::connect(&url, 3).await.expect("store"));
        one.add_users_for_test(&[(1, "a")]).await;
        let sized = |bytes: usize, at: i64| Change {
            data: "x".repeat(bytes),
            modified_at: at,
            ..change("r")
        };
        one.push_records(1, &[sized(100_000, 1)], 1 << 20)
            .await
            .expect("first push");
        // Both pushes start while the row is held, then go on one after the other.
        let mut blocker = hold(&url, 1).await;
        let pushes: Vec<_> = [(one.clone(), 2), (two.clone(), 3)]
            .into_iter()
            .map(|(store, at)| {
                let change = sized(1_000, at);
                tokio::spawn(async move { store.push_records(1, &[change], 1 << 20).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("ROLLBACK")
            .execute(&mut blocker)
            .await
            .expect("rollback");
        // Either may take the row first: the change of time 3 is taken either way, the one of
        // time 2 only if it came first (after the other it is older than what is held).
        let mut taken = Vec::new();
        for push in pushes {
            taken.push(push.await.expect("task").expect("push")[0].1);
        }
        assert!(taken[1], "the newest change is taken");
        let (total, stored): (i64, i64) = sqlx::query_as(
            "SELECT records_bytes, (SELECT SUM(bytes) FROM records WHERE user_id = 1)::BIGINT \
             FROM users WHERE id = 1",
        )
        .fetch_one(&one.pool)
        .await
        .expect("totals");
        assert_eq!((total, stored), (1_000, 1_000));
        let newest: i64 =
            sqlx::query_scalar("SELECT modified_at FROM records WHERE user_id = 1 AND id = 'r'")
                .fetch_one(&one.pool)
                .await
                .expect("record");
        assert_eq!(newest, 3, "the record holds the newest change");
        drop((one, two));
        drop_database(&admin, &name).await;
    }

    /// Pushes of one account cannot take the pool while its row is held (by a push or an
    /// address-book refresh on another instance): one waits for the row, at most 5 s, and is
    /// answered "busy"; the others wait their turn without a connection, so the rest of the
    /// server still finds one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_accounts_pushes_do_not_take_the_pool() {
        let Some((admin, name, url)) = fresh_database("pushes").await else {
            return;
        };
        let store = std::sync::Arc::new(Store::connect(&url, 3).await.expect("store"));
        store.add_users_for_test(&[(1, "a"), (2, "b")]).await;
        let mut blocker = hold(&url, 1).await;
        let started = Instant::now();
        let mut pushes = Vec::new();
        for i in 0..6 {
            let store = store.clone();
            pushes.push(tokio::spawn(async move {
                let result = store
                    .push_records(1, &[change(&format!("c{i}"))], 1 << 20)
                    .await;
                (result, started.elapsed())
            }));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Three connections, six pushes of one account: another account still gets through.
        let other = tokio::time::timeout(
            Duration::from_secs(2),
            store.push_records(2, &[change("mine")], 1 << 20),
        )
        .await
        .expect("another account's push is not held up");
        assert!(other.is_ok(), "{other:?}");
        // One push holds the turn and waits for the row; one waits for the turn; the other four
        // are answered "busy" at once.
        let deadline = Instant::now() + Duration::from_secs(15);
        while pushes.iter().filter(|p| p.is_finished()).count() < 5 {
            assert!(Instant::now() < deadline, "five pushes answered in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut waiting = None;
        let mut answered = Vec::new();
        for push in pushes {
            if push.is_finished() {
                answered.push(push.await.expect("task"));
            } else {
                waiting = Some(push);
            }
        }
        let at_once = answered
            .iter()
            .filter(|(r, t)| matches!(r, Err(StoreError::Busy)) && *t < Duration::from_secs(1))
            .count();
        assert_eq!(at_once, 4, "{answered:?}");
        let row_held = answered
            .iter()
            .filter(|(r, t)| {
                matches!(r, Err(StoreError::Busy))
                    && *t >= Duration::from_secs(4)
                    && *t < Duration::from_secs(9)
            })
            .count();
        assert_eq!(row_held, 1, "the row waited for about 5 s: {answered:?}");
        // Once the row is free, the push that waited for its turn goes through.
        sqlx::query("ROLLBACK")
            .execute(&mut blocker)
            .await
            .expect("rollback");
        let (last, _) = waiting.expect("one still waiting").await.expect("task");
        assert!(last.is_ok(), "{last:?}");
        // The pool's connections are as they were: no lock timeout left behind.
        let mut conn = store.pool.acquire().await.expect("connection");
        let timeout: String = sqlx::query_scalar("SHOW lock_timeout")
            .fetch_one(&mut *conn)
            .await
            .expect("show");
        assert_eq!(timeout, "0");
        drop(conn);
        let again = store.push_records(1, &[change("later")], 1 << 20).await;
        assert!(again.is_ok(), "{again:?}");
        assert!(
            store.push_turns.accounts.lock().unwrap().is_empty(),
            "no turn is left behind"
        );
        drop(store);
        drop_database(&admin, &name).await;
    }
}
