//! Wallet records for sync, backup and restore.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult};

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
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(changes.len());
        let mut grown: i64 = 0;
        for change in changes {
            let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS}, bytes FROM records WHERE user_id = $1 AND kind = $2 AND id = $3"
            )))
            .bind(user_id)
            .bind(&change.kind)
            .bind(&change.id)
            .fetch_optional(&mut *tx)
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
            // The account's counter row serialises concurrent pushes on PostgreSQL.
            let version: i64 = sqlx::query_scalar(
                "UPDATE users SET sync_seq = sync_seq + 1 WHERE id = $1 RETURNING sync_seq",
            )
            .bind(user_id)
            .fetch_one(&mut *tx)
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
            .fetch_one(&mut *tx)
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
        .fetch_optional(&mut *tx)
        .await?;
        if within.is_none() {
            return Err(StoreError::Full("backup"));
        }
        tx.commit().await?;
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
