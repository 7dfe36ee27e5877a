//! Exchanges, the inbox they fill, and the blocks that keep senders out of it.
//!
//! The inbox is bounded: one item per sender's set (a repeat exchange replaces it, so a scanner
//! hammering one code leaves one item), and each owner's item count and bytes are kept as running
//! totals checked against the caps in the same statement that raises them. Exchange rows keep no
//! copy of the card they answered, and only the latest between the same two sets are kept (at
//! least [`KEEP_PER_PAIR`], enough for any retry; pruned in batches), so neither table grows with
//! a flood.

use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use mingpian_card::Card;

use super::sets::{CodeState, SetRecord, prefixed, set_at};
use super::sqlite_writer::ExchangeWrite;
use super::{Backend, ExchangeWriter, Store, StoreError, StoreResult, Stored, now_ms};

/// Exchange rows kept between the same two sets; older ones are pruned on the next exchange.
pub const KEEP_PER_PAIR: i64 = 16;

/// An exchange not recorded within this long is answered "busy, retry" (503 with `Retry-After`)
/// rather than left waiting on a stalled database.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// How full one owner's inbox may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCaps {
    pub max_items: i64,
    pub max_bytes: i64,
    /// Of those, unverified cards from the web reply form.
    pub max_web_items: i64,
}

/// One exchange about to be recorded.
#[derive(Debug)]
pub struct NewExchange<'a> {
    pub scanner_id: i64,
    pub owner_id: i64,
    pub owner_set_no: i64,
    /// The scanner's set given in return, with its version and card; `None`: save only.
    pub give: Option<Gift<'a>>,
    pub owner_version: i64,
    pub idempotency_key: &'a str,
    pub full_card: bool,
    pub place: Option<&'a str>,
    pub caps: InboxCaps,
}

/// The scanner's card as the owner receives it.
#[derive(Debug, Clone, Copy)]
pub struct Gift<'a> {
    pub set_no: i64,
    pub version: i64,
    pub card: &'a Stored<Card>,
}

/// What recording an exchange did. For a retry (same scanner, same key) these are the first
/// attempt's facts, so the answer can be rebuilt exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeOutcome {
    pub exchange_id: i64,
    pub owner_id: i64,
    pub owner_set_no: i64,
    pub full_card: bool,
    pub created_at: i64,
    /// False when this was a retry of an exchange already recorded.
    pub created: bool,
    /// Whether the scanner's card is in the owner's inbox: false for save-only, a blocked
    /// sender, or a full inbox.
    pub delivered: bool,
}

/// What an exchange reads before it writes ([`Store::exchange_reads`]).
#[derive(Debug, Clone)]
pub struct ExchangeReads {
    /// Where the scanned code leads; `None`: nowhere.
    pub code: Option<CodeState>,
    /// The scanner's set given in return, when it exists.
    pub gift: Option<SetRecord>,
    /// The scanner's exchange recorded earlier with the same idempotency key.
    pub previous: Option<ExchangeOutcome>,
}

/// A row of a user's inbox.
#[derive(Debug, Clone)]
pub struct InboxRecord {
    pub cursor: i64,
    pub card: Stored<Card>,
    /// The sender's set's card id, when the card came from an account.
    pub from_card_id: Option<String>,
    pub exchange_id: Option<i64>,
    pub from_set_no: Option<i64>,
    pub from_version: Option<i64>,
    pub via: String,
    pub place: Option<String>,
    pub created_at: i64,
}

/// A sender the owner blocked.
#[derive(Debug, Clone)]
pub struct BlockRecord {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// An exchange recorded earlier, as a retry is answered, from columns named with `prefix`.
fn recorded_outcome(row: &sqlx::any::AnyRow, prefix: &str) -> StoreResult<ExchangeOutcome> {
    let column = |name: &'static str| prefixed(prefix, name);
    Ok(ExchangeOutcome {
        exchange_id: row.try_get(&*column("id"))?,
        owner_id: row.try_get(&*column("owner_id"))?,
        owner_set_no: row.try_get(&*column("owner_set_no"))?,
        full_card: row.try_get::<i64, _>(&*column("full_card"))? != 0,
        created_at: row.try_get(&*column("created_at"))?,
        created: false,
        delivered: row.try_get::<i64, _>(&*column("delivered"))? > 0,
    })
}

/// Puts a card sent from the web page in an owner's inbox (after [`super::lock_owner`]), replacing the
/// item with the same `dedupe_key` and keeping the owner's totals within `caps`. Returns the new
/// cursor, or `None` when the inbox is full. An exchange's card takes the same steps in one call
/// ([`Store::record_exchange`]).
async fn put_web_item(
    tx: &mut Tx<'_>,
    backend: Backend,
    owner_id: i64,
    dedupe_key: &str,
    card: &Stored<Card>,
    now: i64,
    caps: InboxCaps,
) -> StoreResult<Option<i64>> {
    let replaced: Option<i64> =
        sqlx::query_scalar("SELECT bytes FROM inbox WHERE user_id = $1 AND dedupe_key = $2")
            .bind(owner_id)
            .bind(dedupe_key)
            .fetch_optional(&mut **tx)
            .await?;
    let bytes = card.len() as i64;
    let items_delta = i64::from(replaced.is_none());
    let bytes_delta = bytes - replaced.unwrap_or(0);
    // Raise the totals only while they stay within the caps (a replacement that grows nothing
    // always fits). Nothing is removed before this says the new card fits.
    let fits: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET inbox_items = inbox_items + $2, inbox_bytes = inbox_bytes + $3 \
         WHERE id = $1 AND (($2 <= 0 AND $3 <= 0) OR (inbox_items + $2 <= $4 AND inbox_bytes + $3 <= $5)) \
         RETURNING id",
    )
    .bind(owner_id)
    .bind(items_delta)
    .bind(bytes_delta)
    .bind(caps.max_items)
    .bind(caps.max_bytes)
    .fetch_optional(&mut **tx)
    .await?;
    if fits.is_none() {
        return Ok(None);
    }
    // The item replaces the one with the same key in one statement, under a new cursor (a
    // replaced card is news to the owner's devices). The two backends spell that differently:
    // SQLite's REPLACE deletes the old row and inserts the new one with the next id; PostgreSQL
    // updates the old row in place, giving it the next id of the sequence.
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT OR REPLACE INTO inbox (user_id, card_json, via, created_at, dedupe_key, bytes) \
             VALUES ($1, $2, 'web', $3, $4, $5) RETURNING id"
        }
        Backend::Postgres => {
            "INSERT INTO inbox (user_id, card_json, via, created_at, dedupe_key, bytes) \
             VALUES ($1, $2, 'web', $3, $4, $5) \
             ON CONFLICT (user_id, dedupe_key) DO UPDATE SET \
               id = nextval(pg_get_serial_sequence('inbox', 'id')), \
               card_json = EXCLUDED.card_json, created_at = EXCLUDED.created_at, bytes = EXCLUDED.bytes \
             RETURNING id"
        }
    };
    let cursor: i64 = sqlx::query_scalar(sql)
        .bind(owner_id)
        .bind(card.as_str())
        .bind(now)
        .bind(dedupe_key)
        .bind(bytes)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Some(cursor))
}

/// Lowers an owner's totals after inbox items were removed.
async fn release(tx: &mut Tx<'_>, owner_id: i64, removed: &[i64]) -> StoreResult<()> {
    if removed.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE users SET inbox_items = inbox_items - $2, inbox_bytes = inbox_bytes - $3 WHERE id = $1",
    )
    .bind(owner_id)
    .bind(removed.len() as i64)
    .bind(removed.iter().sum::<i64>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Everything an exchange reads before it writes, in one round trip: where the scanned code
    /// leads, the scanner's set given in return (`give_set_no`; `None`: save only) and the
    /// scanner's earlier exchange with the same idempotency key (a retry).
    #[tracing::instrument(skip_all)]
    pub async fn exchange_reads(
        &self,
        public_id: &str,
        set_no: i64,
        scanner_id: i64,
        give_set_no: Option<i64>,
        key: &str,
    ) -> StoreResult<ExchangeReads> {
        // One row always (the `one` table), with each part's columns NULL where it is missing.
        let row = sqlx::query(
            "SELECT c.rotated_at, s.user_id, s.set_no, s.card_id, s.card_json, s.printed_fields, \
               s.version, s.updated_at, \
               g.user_id AS g_user_id, g.set_no AS g_set_no, g.card_id AS g_card_id, \
               g.card_json AS g_card_json, g.printed_fields AS g_printed_fields, \
               g.version AS g_version, g.updated_at AS g_updated_at, \
               x.id AS x_id, x.owner_id AS x_owner_id, x.owner_set_no AS x_owner_set_no, \
               x.full_card AS x_full_card, x.created_at AS x_created_at, \
               (SELECT COUNT(*) FROM inbox i WHERE i.exchange_id = x.id) AS x_delivered \
             FROM (SELECT 1 AS one) AS one \
             LEFT JOIN codes c ON c.public_id = $1 AND c.set_no = $2 \
             LEFT JOIN card_sets s ON s.user_id = c.user_id AND s.set_no = c.set_no \
             LEFT JOIN card_sets g ON g.user_id = $3 AND g.set_no = $4 \
             LEFT JOIN exchanges x ON x.scanner_id = $3 AND x.idempotency_key = $5",
        )
        .bind(public_id)
        .bind(set_no)
        .bind(scanner_id)
        // Set numbers start at 1: 0 finds no set (save only).
        .bind(give_set_no.unwrap_or(0))
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        let code = match row.try_get::<Option<i64>, _>("user_id")? {
            None => None,
            Some(_) if row.try_get::<Option<i64>, _>("rotated_at")?.is_some() => {
                Some(CodeState::Rotated)
            }
            Some(_) => Some(CodeState::Active(set_at(&row, "")?)),
        };
        let gift = match row.try_get::<Option<i64>, _>("g_user_id")? {
            Some(_) => Some(set_at(&row, "g_")?),
            None => None,
        };
        let previous = match row.try_get::<Option<i64>, _>("x_id")? {
            Some(_) => Some(recorded_outcome(&row, "x_")?),
            None => None,
        };
        Ok(ExchangeReads {
            code,
            gift,
            previous,
        })
    }

    /// Records the exchange and puts the scanner's card in the owner's inbox, in one transaction
    /// (claim 1: the server sends each side the other's card at the same moment); on PostgreSQL
    /// the owner's instances are notified in it too, so the wake-up leaves exactly when the card
    /// is there to read. The caller has looked for an earlier exchange with the same key
    /// ([`Store::exchange_reads`]); one recorded concurrently since is returned instead, as the
    /// outcome of a retry.
    ///
    /// The statements, in order: on PostgreSQL lock the owner's row (ordering deliveries to one
    /// owner) and queue the NOTIFY; insert the exchange (nothing when its key is taken); unless the
    /// owner blocked the scanner, raise the owner's inbox totals within the caps and, if they fit,
    /// put the card in the inbox, replacing the scanner's earlier item from that set; prune the
    /// pair's old exchanges. PostgreSQL runs them in one function call
    /// (`migrations/postgres/0007_exchange_in_one_call.sql`), SQLite on its exchange writer
    /// ([`super::sqlite_writer`]); on both, exchanges that wait are committed together (on
    /// PostgreSQL by [`super::pg_writer`]).
    #[tracing::instrument(skip_all, fields(scanner = new.scanner_id, owner = new.owner_id), err)]
    pub async fn record_exchange(&self, new: &NewExchange<'_>) -> StoreResult<ExchangeOutcome> {
        let now = now_ms();
        let scanner_set_no = new.give.map_or(0, |g| g.set_no);
        let write = ExchangeWrite {
            scanner_id: new.scanner_id,
            owner_id: new.owner_id,
            owner_set_no: new.owner_set_no,
            scanner_set_no,
            give: new.give.map(|g| (g.card.as_str().to_owned(), g.version)),
            owner_version: new.owner_version,
            key: new.idempotency_key.to_owned(),
            full_card: new.full_card,
            place: new.place.map(str::to_owned),
            caps: new.caps,
            now,
        };
        let recorded = async {
            match &self.exchange_writer {
                ExchangeWriter::Sqlite(writer) => writer.record(write).await,
                ExchangeWriter::Postgres(writer) => writer.record(write).await,
            }
        };
        // Not answered in time (the database is stalled): the caller hears "busy, retry". The
        // exchange may still be written; a retry with the same key then finds it.
        let recorded = tokio::time::timeout(ANSWER_WITHIN, recorded)
            .await
            .unwrap_or(Err(StoreError::Busy))?;
        let Some((exchange_id, delivered)) = recorded else {
            // A concurrent retry got there first.
            return self
                .previous_exchange(new.scanner_id, new.idempotency_key)
                .await?
                .ok_or(StoreError::NotFound);
        };
        Ok(ExchangeOutcome {
            exchange_id,
            owner_id: new.owner_id,
            owner_set_no: new.owner_set_no,
            full_card: new.full_card,
            created_at: now,
            created: true,
            delivered,
        })
    }

    async fn previous_exchange(
        &self,
        scanner_id: i64,
        key: &str,
    ) -> StoreResult<Option<ExchangeOutcome>> {
        let row = sqlx::query(
            "SELECT x.id, x.owner_id, x.owner_set_no, x.full_card, x.created_at, \
               (SELECT COUNT(*) FROM inbox i WHERE i.exchange_id = x.id) AS delivered \
             FROM exchanges x WHERE x.scanner_id = $1 AND x.idempotency_key = $2",
        )
        .bind(scanner_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| recorded_outcome(&row, "")).transpose()
    }

    /// A card sent from the web page by someone without the app. The same card sent twice is
    /// one item. `None`: the owner's inbox (or its share for web cards) is full.
    #[tracing::instrument(skip_all)]
    pub async fn deliver_web_card(
        &self,
        owner_id: i64,
        card: &Stored<Card>,
        caps: InboxCaps,
    ) -> StoreResult<Option<i64>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let dedupe_key = format!("w:{}", hex(&Sha256::digest(card.as_str().as_bytes())));
        super::lock_owner(&mut tx, self.backend, owner_id).await?;
        let web_items: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbox WHERE user_id = $1 AND via = 'web' AND dedupe_key <> $2",
        )
        .bind(owner_id)
        .bind(&dedupe_key)
        .fetch_one(&mut *tx)
        .await?;
        if web_items >= caps.max_web_items {
            tx.rollback().await?;
            return Ok(None);
        }
        let cursor = put_web_item(
            &mut tx,
            self.backend,
            owner_id,
            &dedupe_key,
            card,
            now_ms(),
            caps,
        )
        .await?;
        tx.commit().await?;
        Ok(cursor)
    }

    /// Inbox items after `after`, oldest first: at most `limit` items and, past the first item,
    /// at most `max_bytes` of cards (a page never holds a whole inbox of large cards).
    #[tracing::instrument(skip_all)]
    pub async fn inbox(
        &self,
        user_id: i64,
        after: i64,
        limit: i64,
        max_bytes: i64,
    ) -> StoreResult<Vec<InboxRecord>> {
        let sizes: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, bytes FROM inbox WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let Some(last) = last_within(&sizes, max_bytes) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT i.id, i.card_json, s.card_id, i.exchange_id, i.from_set_no, i.from_version, i.via, i.place, \
               i.created_at FROM inbox i \
             LEFT JOIN card_sets s ON s.user_id = i.from_user_id AND s.set_no = i.from_set_no \
             WHERE i.user_id = $1 AND i.id > $2 AND i.id <= $3 ORDER BY i.id",
        )
        .bind(user_id)
        .bind(after)
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxRecord {
                    cursor: r.try_get("id")?,
                    card: Stored::from_column(r.try_get("card_json")?),
                    from_card_id: r.try_get("card_id")?,
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

    /// The owner deletes one inbox item.
    #[tracing::instrument(skip_all)]
    pub async fn delete_inbox_item(&self, user_id: i64, cursor: i64) -> StoreResult<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // Ordered with deliveries to this owner (see `lock_owner`).
        super::lock_owner(&mut tx, self.backend, user_id).await?;
        let removed: Vec<i64> =
            sqlx::query_scalar("DELETE FROM inbox WHERE user_id = $1 AND id = $2 RETURNING bytes")
                .bind(user_id)
                .bind(cursor)
                .fetch_all(&mut *tx)
                .await?;
        if removed.is_empty() {
            return Err(StoreError::NotFound);
        }
        release(&mut tx, user_id, &removed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Blocks the account behind `card_id` (a card the owner received): its exchanges no longer
    /// reach the owner, and what it already sent leaves the inbox.
    #[tracing::instrument(skip_all)]
    pub async fn block(&self, user_id: i64, card_id: &str) -> StoreResult<BlockRecord> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let sender = sqlx::query("SELECT user_id, card_json FROM card_sets WHERE card_id = $1")
            .bind(card_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let blocked_id: i64 = sender.try_get("user_id")?;
        if blocked_id == user_id {
            return Err(StoreError::Conflict("own card"));
        }
        let card: Card = Stored::from_column(sender.try_get("card_json")?).get()?;
        let name = card.formatted_name;
        // Ordered with deliveries to this owner (see `lock_owner`): a delivery either commits
        // before the cards are removed below, or sees the block.
        super::lock_owner(&mut tx, self.backend, user_id).await?;
        let row = sqlx::query(
            "INSERT INTO blocks (user_id, blocked_user_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, blocked_user_id) DO UPDATE SET name = excluded.name \
             RETURNING id, name, created_at",
        )
        .bind(user_id)
        .bind(blocked_id)
        .bind(&name)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let removed: Vec<i64> = sqlx::query_scalar(
            "DELETE FROM inbox WHERE user_id = $1 AND from_user_id = $2 RETURNING bytes",
        )
        .bind(user_id)
        .bind(blocked_id)
        .fetch_all(&mut *tx)
        .await?;
        release(&mut tx, user_id, &removed).await?;
        tx.commit().await?;
        Ok(BlockRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn blocks(&self, user_id: i64) -> StoreResult<Vec<BlockRecord>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_at FROM blocks WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| BlockRecord {
                id,
                name,
                created_at,
            })
            .collect())
    }

    #[tracing::instrument(skip_all)]
    pub async fn unblock(&self, user_id: i64, id: i64) -> StoreResult<()> {
        let _w = self.writer().await;
        let done = sqlx::query("DELETE FROM blocks WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The current version of set `set_no` with card id `card_id` if `holder_id` received it in
    /// an exchange, and whether whole: as the scanner of a live code, or as the owner of a code
    /// the other person scanned (they gave the set whole). The latest of those exchanges decides.
    #[tracing::instrument(skip_all)]
    pub async fn held_set(
        &self,
        holder_id: i64,
        card_id: &str,
        set_no: i64,
    ) -> StoreResult<Option<(SetRecord, bool)>> {
        let row = sqlx::query(
            "SELECT s.user_id, s.set_no, s.card_id, s.card_json, s.printed_fields, s.version, s.updated_at, \
               MAX(CASE WHEN x.scanner_id = $1 THEN x.full_card ELSE 1 END) AS full_card \
             FROM card_sets s \
             JOIN exchanges x ON (x.scanner_id = $1 AND x.owner_id = s.user_id AND x.owner_set_no = s.set_no) \
                              OR (x.owner_id = $1 AND x.scanner_id = s.user_id AND x.scanner_set_no = s.set_no) \
             WHERE s.card_id = $2 AND s.set_no = $3 \
             GROUP BY s.user_id, s.set_no, s.card_id, s.card_json, s.printed_fields, s.version, s.updated_at",
        )
        .bind(holder_id)
        .bind(card_id)
        .bind(set_no)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let full: i64 = row.try_get("full_card")?;
        Ok(Some((super::sets::set(&row)?, full != 0)))
    }
}

/// The last id of a page: items up to `max_bytes` in all, and always the first one.
pub(super) fn last_within(sizes: &[(i64, i64)], max_bytes: i64) -> Option<i64> {
    let mut total = 0;
    let mut last = None;
    for &(id, bytes) in sizes {
        total += bytes;
        if last.is_some() && total > max_bytes {
            break;
        }
        last = Some(id);
    }
    last
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::last_within;

    #[test]
    fn pages_stop_at_the_byte_budget_but_never_empty() {
        let sizes = [(1, 400), (2, 400), (3, 400)];
        assert_eq!(last_within(&sizes, 1000), Some(2), "three would be 1200");
        assert_eq!(
            last_within(&sizes, 100),
            Some(1),
            "the first item always comes"
        );
        assert_eq!(last_within(&sizes, 10_000), Some(3));
        assert_eq!(last_within(&[], 10), None);
    }
}
