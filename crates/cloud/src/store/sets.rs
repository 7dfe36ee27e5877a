//! Card sets and the codes that lead to them.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row as _};

use mingpian_card::Card;
use mingpian_card::api::CardField;

use super::{Store, StoreError, StoreResult, Stored, now_ms};

/// A stored card set.
#[derive(Debug, Clone)]
pub struct SetRecord {
    pub user_id: i64,
    pub set_no: i64,
    /// The set's own stable random id: what holders of the card know it by. Never a code.
    pub card_id: String,
    pub card: Stored<Card>,
    /// What its printed code shows.
    pub printed_fields: Stored<Vec<CardField>>,
    pub version: i64,
    pub updated_at: i64,
}

/// What a code `/c/{public_id}/{set_no}` leads to.
#[derive(Debug, Clone)]
pub enum CodeState {
    Active(SetRecord),
    /// The owner rotated this code: 410 Gone.
    Rotated,
}

const SET_COLUMNS: &str =
    "user_id, set_no, card_id, card_json, printed_fields, version, updated_at";

pub(super) fn set(row: &AnyRow) -> StoreResult<SetRecord> {
    set_at(row, "")
}

/// A set from columns named with `prefix` (a query reading several sets at once).
pub(super) fn set_at(row: &AnyRow, prefix: &str) -> StoreResult<SetRecord> {
    let column = |name: &'static str| prefixed(prefix, name);
    Ok(SetRecord {
        user_id: row.try_get(&*column("user_id"))?,
        set_no: row.try_get(&*column("set_no"))?,
        card_id: row.try_get(&*column("card_id"))?,
        card: Stored::from_column(row.try_get(&*column("card_json"))?),
        printed_fields: Stored::from_column(row.try_get(&*column("printed_fields"))?),
        version: row.try_get(&*column("version"))?,
        updated_at: row.try_get(&*column("updated_at"))?,
    })
}

/// A column's name under `prefix`; no allocation for the usual empty prefix (every set read).
pub(super) fn prefixed(prefix: &str, name: &'static str) -> std::borrow::Cow<'static, str> {
    if prefix.is_empty() {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("{prefix}{name}"))
    }
}

/// A card set to create or replace; the caller has checked and cleaned the card.
#[derive(Debug)]
pub struct SetWrite<'a> {
    pub user_id: i64,
    /// `None`: the next free number.
    pub set_no: Option<i64>,
    pub card: &'a Stored<Card>,
    pub printed_fields: &'a Stored<Vec<CardField>>,
    /// Most sets the account may have.
    pub max_sets: i64,
}

impl Store {
    /// Creates set `set_no` (or the next free number) or replaces its card, raising its version.
    /// A new set gets a random card id and a code of its own, both unrelated to the account's
    /// other sets.
    #[tracing::instrument(skip_all)]
    pub async fn put_set(&self, w: SetWrite<'_>) -> StoreResult<SetRecord> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let record = put_set_in(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(record)
    }
    #[tracing::instrument(skip_all)]
    pub async fn sets(&self, user_id: i64) -> StoreResult<Vec<SetRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SET_COLUMNS} FROM card_sets WHERE user_id = $1 ORDER BY set_no"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(set).collect()
    }

    #[tracing::instrument(skip_all)]
    pub async fn set(&self, user_id: i64, set_no: i64) -> StoreResult<SetRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SET_COLUMNS} FROM card_sets WHERE user_id = $1 AND set_no = $2"
        )))
        .bind(user_id)
        .bind(set_no)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(set)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The code id currently printed on set `set_no`'s codes.
    #[tracing::instrument(skip_all)]
    pub async fn current_code(&self, user_id: i64, set_no: i64) -> StoreResult<String> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT public_id FROM codes WHERE user_id = $1 AND set_no = $2 AND rotated_at IS NULL",
        )
        .bind(user_id)
        .bind(set_no)
        .fetch_optional(&self.pool)
        .await?;
        id.ok_or(StoreError::NotFound)
    }

    /// Where a scanned code leads (one query: this is the exchange's hot path).
    #[tracing::instrument(skip_all)]
    pub async fn resolve_code(&self, public_id: &str, set_no: i64) -> StoreResult<CodeState> {
        let row = sqlx::query(
            "SELECT c.rotated_at, s.user_id, s.set_no, s.card_id, s.card_json, \
               s.printed_fields, s.version, s.updated_at \
             FROM codes c JOIN card_sets s ON s.user_id = c.user_id AND s.set_no = c.set_no \
             WHERE c.public_id = $1 AND c.set_no = $2",
        )
        .bind(public_id)
        .bind(set_no)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let rotated: Option<i64> = row.try_get("rotated_at")?;
        Ok(if rotated.is_some() {
            CodeState::Rotated
        } else {
            CodeState::Active(set(&row)?)
        })
    }

    /// Retires the set's current code and issues `new_public_id` in its place.
    #[tracing::instrument(skip_all)]
    pub async fn rotate_code(
        &self,
        user_id: i64,
        set_no: i64,
        new_public_id: &str,
    ) -> StoreResult<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE codes SET rotated_at = $1 WHERE user_id = $2 AND set_no = $3 AND rotated_at IS NULL")
            .bind(now_ms())
            .bind(user_id)
            .bind(set_no)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("INSERT INTO codes (public_id, set_no, user_id) VALUES ($1, $2, $3)")
            .bind(new_public_id)
            .bind(set_no)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// [`Store::put_set`] inside a transaction the caller holds (registration creates the account
/// and its first set in one).
pub(super) async fn put_set_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    w: &SetWrite<'_>,
) -> StoreResult<SetRecord> {
    let now = now_ms();
    let set_no = match w.set_no {
        Some(n) => n,
        None => {
            let max: Option<i64> =
                sqlx::query_scalar("SELECT MAX(set_no) FROM card_sets WHERE user_id = $1")
                    .bind(w.user_id)
                    .fetch_one(&mut **tx)
                    .await?;
            max.unwrap_or(0) + 1
        }
    };
    if set_no > w.max_sets {
        return Err(StoreError::Conflict("card set number"));
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO card_sets (user_id, set_no, card_id, card_json, printed_fields, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) \
         ON CONFLICT (user_id, set_no) DO UPDATE SET card_json = excluded.card_json, \
           printed_fields = excluded.printed_fields, version = card_sets.version + 1, updated_at = excluded.updated_at \
         RETURNING {SET_COLUMNS}"
    )))
    .bind(w.user_id)
    .bind(set_no)
    .bind(crate::secrets::random_id())
    .bind(w.card.as_str())
    .bind(w.printed_fields.as_str())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let record = set(&row)?;
    if record.version == 1 {
        sqlx::query("INSERT INTO codes (public_id, set_no, user_id) VALUES ($1, $2, $3)")
            .bind(crate::secrets::random_id())
            .bind(set_no)
            .bind(w.user_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(record)
}
