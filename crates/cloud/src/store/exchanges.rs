//! Exchanges and the inbox they fill.

use sqlx::Row as _;

use super::{Store, StoreResult, now_ms};

/// One exchange about to be recorded. The response is built by the caller from the owner's set
/// and stored with the exchange, so a retry answers exactly what the first attempt did.
pub struct NewExchange<'a> {
    pub scanner_id: i64,
    pub owner_id: i64,
    pub owner_set_no: i64,
    pub scanner_set_no: i64,
    pub owner_version: i64,
    pub scanner_version: i64,
    pub idempotency_key: &'a str,
    pub full_card: bool,
    pub place: Option<&'a str>,
    /// The scanner's card as the owner receives it.
    pub scanner_card_json: &'a str,
    /// Builds the response body from the new exchange's id and time.
    pub response: &'a (dyn Fn(i64, i64) -> String + Sync),
}

impl std::fmt::Debug for NewExchange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewExchange")
            .field("scanner_id", &self.scanner_id)
            .field("owner_id", &self.owner_id)
            .field("idempotency_key", &self.idempotency_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct ExchangeOutcome {
    pub response_json: String,
    /// False when this was a retry of an exchange already recorded.
    pub created: bool,
}

/// A row of a user's inbox.
#[derive(Debug, Clone)]
pub struct InboxRecord {
    pub cursor: i64,
    pub card_json: String,
    pub from_public_id: Option<String>,
    pub exchange_id: Option<i64>,
    pub from_set_no: Option<i64>,
    pub from_version: Option<i64>,
    pub via: String,
    pub place: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// Records the exchange and puts the scanner's card in the owner's inbox, in one transaction
    /// (claim 1: the server sends each side the other's card at the same moment). A second call
    /// with the same scanner and idempotency key changes nothing and returns the first response.
    pub async fn record_exchange(&self, new: &NewExchange<'_>) -> StoreResult<ExchangeOutcome> {
        if let Some(previous) = self
            .previous_exchange(new.scanner_id, new.idempotency_key)
            .await?
        {
            return Ok(ExchangeOutcome {
                response_json: previous,
                created: false,
            });
        }
        let _w = self.writer().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO exchanges (scanner_id, owner_id, owner_set_no, scanner_set_no, idempotency_key, full_card, \
               place, response_json, created_at, owner_version) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9) \
             ON CONFLICT (scanner_id, idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(new.scanner_id)
        .bind(new.owner_id)
        .bind(new.owner_set_no)
        .bind(new.scanner_set_no)
        .bind(new.idempotency_key)
        .bind(i64::from(new.full_card))
        .bind(new.place)
        .bind(now)
        .bind(new.owner_version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(exchange_id) = inserted else {
            // A concurrent retry (PostgreSQL) got there first.
            tx.rollback().await?;
            let previous = self
                .previous_exchange(new.scanner_id, new.idempotency_key)
                .await?;
            return Ok(ExchangeOutcome {
                response_json: previous.unwrap_or_default(),
                created: false,
            });
        };
        let response_json = (new.response)(exchange_id, now);
        sqlx::query("UPDATE exchanges SET response_json = $1 WHERE id = $2")
            .bind(&response_json)
            .bind(exchange_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO inbox (user_id, exchange_id, from_user_id, card_json, via, place, created_at, \
               from_set_no, from_version) VALUES ($1, $2, $3, $4, 'exchange', $5, $6, $7, $8)",
        )
        .bind(new.owner_id)
        .bind(exchange_id)
        .bind(new.scanner_id)
        .bind(new.scanner_card_json)
        .bind(new.place)
        .bind(now)
        .bind(new.scanner_set_no)
        .bind(new.scanner_version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ExchangeOutcome {
            response_json,
            created: true,
        })
    }

    async fn previous_exchange(&self, scanner_id: i64, key: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT response_json FROM exchanges WHERE scanner_id = $1 AND idempotency_key = $2",
        )
        .bind(scanner_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A card sent from the web page by someone without the app.
    pub async fn deliver_web_card(&self, owner_id: i64, card_json: &str) -> StoreResult<i64> {
        let _w = self.writer().await;
        let cursor: i64 = sqlx::query_scalar(
            "INSERT INTO inbox (user_id, card_json, via, created_at) VALUES ($1, $2, 'web', $3) RETURNING id",
        )
        .bind(owner_id)
        .bind(card_json)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(cursor)
    }

    /// Inbox items after `after`, oldest first.
    pub async fn inbox(
        &self,
        user_id: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<InboxRecord>> {
        let rows = sqlx::query(
            "SELECT i.id, i.card_json, u.public_id, i.exchange_id, i.from_set_no, i.from_version, i.via, i.place, \
               i.created_at FROM inbox i \
             LEFT JOIN users u ON u.id = i.from_user_id WHERE i.user_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxRecord {
                    cursor: r.try_get("id")?,
                    card_json: r.try_get("card_json")?,
                    from_public_id: r.try_get("public_id")?,
                    exchange_id: r.try_get("exchange_id")?,
                    from_set_no: r.try_get("from_set_no")?,
                    from_version: r.try_get("from_version")?,
                    via: r.try_get("via")?,
                    place: r.try_get("place")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The current version of `owner_public_id`'s set `set_no` if `holder_id` received it in an
    /// exchange, and whether whole: as the scanner of a live code, or as the owner of a code the
    /// other person scanned (they gave the set whole). The latest of those exchanges decides.
    pub async fn held_set(
        &self,
        holder_id: i64,
        owner_public_id: &str,
        set_no: i64,
    ) -> StoreResult<Option<(super::SetRecord, bool)>> {
        let row = sqlx::query(
            "SELECT s.user_id, s.set_no, s.card_json, s.printed_fields, s.version, s.updated_at, \
               MAX(CASE WHEN x.scanner_id = $1 THEN x.full_card ELSE 1 END) AS full_card \
             FROM users o JOIN card_sets s ON s.user_id = o.id AND s.set_no = $3 \
             JOIN exchanges x ON (x.scanner_id = $1 AND x.owner_id = o.id AND x.owner_set_no = $3) \
                              OR (x.owner_id = $1 AND x.scanner_id = o.id AND x.scanner_set_no = $3) \
             WHERE o.public_id = $2 \
             GROUP BY s.user_id, s.set_no, s.card_json, s.printed_fields, s.version, s.updated_at",
        )
        .bind(holder_id)
        .bind(owner_public_id)
        .bind(set_no)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let full: i64 = row.try_get("full_card")?;
        Ok(Some((super::sets::set(&row)?, full != 0)))
    }
}
