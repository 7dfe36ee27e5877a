//! Wallet records for sync, backup and restore.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Store, StoreResult};

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
    pub async fn push_records(
        &self,
        user_id: i64,
        changes: &[Change],
    ) -> StoreResult<Vec<(RecordRow, bool)>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM records WHERE user_id = $1 AND kind = $2 AND id = $3"
            )))
            .bind(user_id)
            .bind(&change.kind)
            .bind(&change.id)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(record)
            .transpose()?;
            let accept = match &stored {
                None => true,
                Some(s) if s.version == change.base_version => true,
                Some(s) => newer(change, s),
            };
            if !accept {
                out.push((
                    stored.expect("a rejected change had a stored record"),
                    false,
                ));
                continue;
            }
            // The account's counter row serialises concurrent pushes on PostgreSQL.
            let version: i64 = sqlx::query_scalar(
                "UPDATE users SET sync_seq = sync_seq + 1 WHERE id = $1 RETURNING sync_seq",
            )
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO records (user_id, kind, id, version, modified_at, device, deleted, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (user_id, kind, id) DO UPDATE SET version = excluded.version, \
                   modified_at = excluded.modified_at, device = excluded.device, deleted = excluded.deleted, \
                   data = excluded.data \
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
            .fetch_one(&mut *tx)
            .await?;
            out.push((record(&row)?, true));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records changed after `after`, oldest change first.
    pub async fn pull_records(
        &self,
        user_id: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<RecordRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM records WHERE user_id = $1 AND version > $2 ORDER BY version LIMIT $3"
        )))
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record).collect()
    }
}
