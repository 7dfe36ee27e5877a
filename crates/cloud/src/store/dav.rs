//! The CardDAV address book's projection of an account's wallet records: one entry per contact,
//! rebuilt only for the contacts that records changed since the last refresh.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use mingpian_card::wallet::{Trust, records};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Store, StoreError, StoreResult};

/// One address-book entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavEntry {
    pub contact_id: String,
    /// The published card as JSON; empty when gone.
    pub card_json: String,
    pub etag: String,
    /// The records version at which it last changed.
    pub changed: i64,
    pub gone: bool,
}

/// What one contact is made of, for the entry builder.
#[derive(Debug, Default)]
pub struct ContactParts {
    /// The contact record; `None` when it is missing or a tombstone.
    pub contact: Option<records::Contact>,
    pub cards: Vec<CardParts>,
}

#[derive(Debug)]
pub struct CardParts {
    pub id: String,
    pub card: records::Card,
    /// Its newest version's content.
    pub content: Option<mingpian_card::Card>,
    pub uses: i64,
    pub first_at: i64,
}

/// Builds an entry's card JSON from its parts; `None`: the contact is not published.
pub type Builder = fn(&ContactParts) -> Option<String>;

/// Only what a card version says about its place: the content is read when an entry is built.
#[derive(Deserialize)]
struct VersionHead {
    #[serde(default)]
    card_id: String,
    #[serde(default = "one")]
    seq: i64,
    #[serde(default)]
    received_at: i64,
}

#[derive(Deserialize)]
struct CardHead {
    #[serde(default)]
    contact_id: String,
}

#[derive(Deserialize)]
struct EventHead {
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    card_id: Option<String>,
}

fn one() -> i64 {
    1
}

/// Records read per page while taking changes in.
const PAGE: i64 = 1000;
/// Most record data per page past its first record: card versions carry pictures inline.
const PAGE_BYTES: i64 = 16 * 1024 * 1024;
/// Most cards of one contact read for its entry (the entry weighs at most 50 verified ones).
const CARDS_READ: usize = 100;
/// A card version larger than this is not read for an entry: the sync API stores no record
/// larger (its `MAX_RECORD_BYTES`). Every version a wallet pushed is read, in a group of its
/// own when large, and its card images and logo are dropped (an entry publishes a 256 KB photo
/// and the text). Skipping large ones would unpublish a contact whose only card has pictures.
const MAX_VERSION_BYTES: i64 = 8 * 1024 * 1024;
/// Largest contact record read for an entry (a note, tags, the user's own edit).
const MAX_CONTACT_RECORD_BYTES: i64 = 1024 * 1024;
/// Largest card record read for an entry (where the card came from; its content is a version).
const MAX_CARD_RECORD_BYTES: i64 = 64 * 1024;
/// Contacts rebuilt per batch of queries.
const BATCH: usize = 100;
/// How long a request waits for a refresh turn before it is told the server is busy.
const TURN_WAIT: Duration = Duration::from_secs(30);

/// Turns for address-book refresh pages, server-wide. A page reads and decodes up to
/// [`PAGE_BYTES`] of records (plus the card versions of the contacts it touches), on the blocking
/// pool, inside a transaction that holds a pooled connection: at most a few pages run at once,
/// whoever asks, so many accounts refreshing together cannot take every worker, every connection
/// or unbounded memory. Background refreshes (after a push) also run one page at a time among
/// themselves and give their turn back after each page, so one large first build never holds a
/// turn that requests wait for.
#[derive(Debug)]
pub(super) struct Turns {
    pages: Arc<Semaphore>,
    background: Arc<Semaphore>,
}

/// A page's turn (and the background queue's, for a background refresh). Shared with the
/// blocking work the page starts: a request that is cancelled gives the turn back only once the
/// decoding it started has finished.
#[derive(Debug, Clone)]
struct Turn {
    _held: Arc<(OwnedSemaphorePermit, Option<OwnedSemaphorePermit>)>,
}

impl Turns {
    /// `connections`: the pool's size. Half of it at most is for refresh pages, so pushes,
    /// exchanges and logins always find a connection.
    pub(super) fn new(connections: u32) -> Turns {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pages = cores.clamp(2, 8).min((connections as usize / 2).max(1));
        Turns {
            pages: Arc::new(Semaphore::new(pages)),
            background: Arc::new(Semaphore::new(1)),
        }
    }

    /// One page's turn: a request waits at most [`TURN_WAIT`]; the background waits its turn.
    async fn take(&self, background: bool) -> StoreResult<Turn> {
        self.take_within(background, TURN_WAIT).await
    }

    async fn take_within(&self, background: bool, wait: Duration) -> StoreResult<Turn> {
        let closed = |_| StoreError::Busy;
        if background {
            let queue = self
                .background
                .clone()
                .acquire_owned()
                .await
                .map_err(closed)?;
            let page = self.pages.clone().acquire_owned().await.map_err(closed)?;
            return Ok(Turn {
                _held: Arc::new((page, Some(queue))),
            });
        }
        let page = tokio::time::timeout(wait, self.pages.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Busy)?
            .map_err(closed)?;
        Ok(Turn {
            _held: Arc::new((page, None)),
        })
    }
}

/// Runs decoding (JSON of up to [`PAGE_BYTES`]) and entry building off the async workers,
/// holding the page's turn until it is done.
async fn blocking<T: Send + 'static>(
    turn: &Turn,
    f: impl FnOnce() -> T + Send + 'static,
) -> StoreResult<T> {
    let turn = turn.clone();
    tokio::task::spawn_blocking(move || {
        let out = f();
        drop(turn);
        out
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("address-book worker: {e}")))
}

const ENTRY_COLUMNS: &str = "contact_id, card_json, etag, changed, gone";

fn entry(row: &AnyRow) -> StoreResult<DavEntry> {
    Ok(DavEntry {
        contact_id: row.try_get("contact_id")?,
        card_json: row.try_get("card_json")?,
        etag: row.try_get("etag")?,
        changed: row.try_get("changed")?,
        gone: row.try_get::<i64, _>("gone")? != 0,
    })
}

/// `$first, $first+1, ...` for an `IN` list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Rows of `sql` (whose `IN` list is the last placeholder group, after `$1` = user id) for each
/// chunk of `ids`.
async fn rows_in(
    tx: &mut Tx<'_>,
    sql: &str,
    user_id: i64,
    ids: &[String],
) -> StoreResult<Vec<AnyRow>> {
    let mut out = Vec::new();
    if tx.backend_name() == "PostgreSQL" {
        // One placeholder per id: PostgreSQL plans an `IN` list of parameters as index probes
        // (a set-returning function over a JSON array made it hash whole tables: 50 s builds).
        for chunk in ids.chunks(500) {
            let sql = sql.replace("{in}", &placeholders(2, chunk.len()));
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user_id);
            for id in chunk {
                q = q.bind(id);
            }
            out.extend(q.fetch_all(&mut **tx).await?);
        }
        return Ok(out);
    }
    // SQLite: the ids travel as one JSON array expanded by `json_each`, one statement text and
    // one bound value whatever their number (binding hundreds of placeholders showed at the top
    // of the build's profile; a 10,000-contact build went from 2.4x to 1.8x the time of the
    // sync API's restore of the same records).
    let sql = sql.replace("{in}", "SELECT value FROM json_each($2)");
    for chunk in ids.chunks(1000) {
        let json = serde_json::to_string(chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(user_id)
            .bind(json)
            .fetch_all(&mut **tx)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Rebuilds the entries of `contacts` at `seq`, writing those that changed.
async fn rebuild(
    tx: &mut Tx<'_>,
    user_id: i64,
    contacts: &[String],
    seq: i64,
    build: Builder,
    turn: &Turn,
) -> StoreResult<()> {
    // Rows are read here and decoded on the blocking pool (records are up to megabytes).
    // Contact and card records carry no pictures: one past its cap is not a wallet's (whose
    // are kilobytes) and is not read, so a page's memory stays bounded whatever an account
    // pushed (its contact is then unpublished, its card not weighed).
    let sql = format!(
        "SELECT id, deleted, data FROM records WHERE user_id = $1 AND kind = 'contact' \
         AND bytes <= {MAX_CONTACT_RECORD_BYTES} AND id IN ({{in}})"
    );
    let mut contact_rows: Vec<(String, bool, String)> = Vec::new();
    for row in rows_in(tx, &sql, user_id, contacts).await? {
        contact_rows.push((
            row.try_get("id")?,
            row.try_get::<i64, _>("deleted")? != 0,
            row.try_get("data")?,
        ));
    }
    let sql = "SELECT card_id, contact_id, latest_id, first_at FROM dav_cards WHERE user_id = $1 AND contact_id IN ({in})";
    let mut links: Vec<(String, String, Option<String>, i64)> = Vec::new();
    for row in rows_in(tx, sql, user_id, contacts).await? {
        links.push((
            row.try_get("card_id")?,
            row.try_get("contact_id")?,
            row.try_get("latest_id")?,
            row.try_get("first_at")?,
        ));
    }
    let card_ids: Vec<String> = links.iter().map(|l| l.0.clone()).collect();
    let sql = format!(
        "SELECT id, data FROM records WHERE user_id = $1 AND kind = 'card' AND deleted = 0 \
         AND bytes <= {MAX_CARD_RECORD_BYTES} AND id IN ({{in}})"
    );
    let mut card_rows: Vec<(String, String)> = Vec::new();
    for row in rows_in(tx, &sql, user_id, &card_ids).await? {
        card_rows.push((row.try_get("id")?, row.try_get("data")?));
    }
    let ids = contacts.to_vec();
    let (mut parts, mut cards) = blocking(turn, move || {
        let mut parts: HashMap<String, ContactParts> = ids
            .into_iter()
            .map(|id| (id, ContactParts::default()))
            .collect();
        for (id, deleted, data) in contact_rows {
            if let (false, Ok(c), Some(p)) =
                (deleted, serde_json::from_str(&data), parts.get_mut(&id))
            {
                p.contact = Some(c);
            }
        }
        let cards: HashMap<String, records::Card> = card_rows
            .into_iter()
            .filter_map(|(id, data)| Some((id, serde_json::from_str(&data).ok()?)))
            .collect();
        (parts, cards)
    })
    .await?;
    // The cards an entry may weigh, before any version is read: live ones, the ones held
    // longest first, at most `CARDS_READ` per contact.
    // Only cards an entry can publish count toward the cut: a flood of unverified web replies
    // linked to a contact never pushes its verified cards out.
    links.retain(|l| {
        cards
            .get(&l.0)
            .is_some_and(|c| c.trust() == Trust::Verified)
    });
    links.sort_by(|a, b| (&a.1, a.3, &a.0).cmp(&(&b.1, b.3, &b.0)));
    let mut per_contact: HashMap<String, usize> = HashMap::new();
    links.retain(|l| {
        let n = per_contact.entry(l.1.clone()).or_default();
        *n += 1;
        *n <= CARDS_READ
    });
    let latest: Vec<String> = links.iter().filter_map(|l| l.2.clone()).collect();
    let mut contents: HashMap<String, mingpian_card::Card> = HashMap::new();
    // Versions carry pictures inline: read in groups bounded in bytes, and keep only what an
    // entry can publish (no card images or logo).
    let sql = "SELECT id, bytes FROM records WHERE user_id = $1 AND kind = 'card_version' AND id IN ({in})";
    let mut sizes: Vec<(String, i64)> = Vec::new();
    for row in rows_in(tx, sql, user_id, &latest).await? {
        sizes.push((row.try_get("id")?, row.try_get("bytes")?));
    }
    let mut group: Vec<String> = Vec::new();
    let mut group_bytes = 0;
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (id, bytes) in sizes {
        if bytes > MAX_VERSION_BYTES {
            // Larger than the sync API stores: cannot be a version a wallet pushed.
            continue;
        }
        if !group.is_empty() && group_bytes + bytes > PAGE_BYTES {
            groups.push(std::mem::take(&mut group));
            group_bytes = 0;
        }
        group_bytes += bytes;
        group.push(id);
    }
    groups.push(group);
    let sql = "SELECT id, data FROM records WHERE user_id = $1 AND kind = 'card_version' AND id IN ({in})";
    for group in groups.iter().filter(|g| !g.is_empty()) {
        let mut rows: Vec<(String, String)> = Vec::new();
        for row in rows_in(tx, sql, user_id, group).await? {
            rows.push((row.try_get("id")?, row.try_get("data")?));
        }
        let decoded = blocking(turn, move || {
            rows.into_iter()
                .filter_map(|(id, data)| {
                    let v = serde_json::from_str::<records::CardVersion>(&data).ok()?;
                    let mut card = v.card;
                    card.card_images.clear();
                    card.logo = None;
                    Some((id, card))
                })
                .collect::<Vec<_>>()
        })
        .await?;
        contents.extend(decoded);
    }
    let mut uses: HashMap<String, i64> = HashMap::new();
    let sql = "SELECT card_id, COUNT(*) AS n FROM dav_events WHERE user_id = $1 AND card_id IN ({in}) GROUP BY card_id";
    for row in rows_in(tx, sql, user_id, &card_ids).await? {
        uses.insert(row.try_get("card_id")?, row.try_get("n")?);
    }
    for (card_id, contact_id, latest_id, first_at) in links {
        let (Some(card), Some(p)) = (cards.remove(&card_id), parts.get_mut(&contact_id)) else {
            continue;
        };
        p.cards.push(CardParts {
            content: latest_id.and_then(|l| contents.remove(&l)),
            uses: uses.get(&card_id).copied().unwrap_or(0),
            id: card_id,
            card,
            first_at,
        });
    }
    let mut stored: HashMap<String, (String, bool)> = HashMap::new();
    let sql = "SELECT contact_id, etag, gone FROM dav_entries WHERE user_id = $1 AND contact_id IN ({in})";
    for row in rows_in(tx, sql, user_id, contacts).await? {
        stored.insert(
            row.try_get("contact_id")?,
            (row.try_get("etag")?, row.try_get::<i64, _>("gone")? != 0),
        );
    }
    let ids = contacts.to_vec();
    let writes = blocking(turn, move || {
        let mut writes: Vec<(String, String, String, bool)> = Vec::new();
        for id in ids {
            let Some(p) = parts.get_mut(&id) else {
                continue;
            };
            // Cards in the order the wallet weighs them: held longest first.
            p.cards
                .sort_by(|a, b| (a.first_at, &a.id).cmp(&(b.first_at, &b.id)));
            let json = build(p);
            let etag = json.as_deref().map(etag_of).unwrap_or_default();
            let gone = json.is_none();
            match stored.get(&id) {
                Some((old, was_gone)) if *old == etag && *was_gone == gone => continue,
                None if gone => continue,
                _ => {}
            }
            writes.push((id, json.unwrap_or_default(), etag, gone));
        }
        writes
    })
    .await?;
    for chunk in writes.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO dav_entries (user_id, contact_id, card_json, etag, changed, gone) \
             VALUES {} ON CONFLICT (user_id, contact_id) DO UPDATE SET \
             card_json = excluded.card_json, etag = excluded.etag, changed = excluded.changed, \
             gone = excluded.gone",
            value_groups(chunk.len(), 5, "($1, ${0}, ${1}, ${2}, ${3}, ${4})")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user_id);
        for (id, json, etag, gone) in chunk {
            q = q
                .bind(id)
                .bind(json)
                .bind(etag)
                .bind(seq)
                .bind(i64::from(*gone));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A strong ETag's value (without quotes) for an entry's content.
pub fn etag_of(json: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(json.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Multi-row `VALUES` groups: `width` placeholders per row after `$1` (the user id), e.g.
/// `($1, $2, $3), ($1, $4, $5)`; `fixed` is inserted after the user id in each group.
fn value_groups(rows: usize, width: usize, shape: &str) -> String {
    (0..rows)
        .map(|r| {
            let mut group = shape.to_owned();
            for i in (0..width).rev() {
                group = group.replace(&format!("${{{i}}}"), &format!("${}", 2 + r * width + i));
            }
            group
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per multi-row statement.
const ROWS: usize = 200;

/// What one page of records changes in the card and event maps.
#[derive(Default)]
struct PageChanges {
    /// card id → the contact it is in now.
    cards: BTreeMap<String, String>,
    /// card id → (its newest version's record id, that version's seq, the earliest arrival).
    versions: BTreeMap<String, (String, i64, i64)>,
    /// event id → its card.
    events: BTreeMap<String, Option<String>>,
}

impl PageChanges {
    fn take(&mut self, kind: &str, id: String, data: &str, affected: &mut BTreeSet<String>) {
        match kind {
            "contact" => {
                affected.insert(id);
            }
            "card" => {
                let contact = serde_json::from_str::<CardHead>(data)
                    .map(|h| h.contact_id)
                    .unwrap_or_default();
                affected.insert(contact.clone());
                self.cards.insert(id, contact);
            }
            "card_version" => {
                let Ok(head) = serde_json::from_str::<VersionHead>(data) else {
                    return;
                };
                let entry = self.versions.entry(head.card_id).or_insert((
                    id.clone(),
                    head.seq,
                    head.received_at,
                ));
                if head.seq >= entry.1 {
                    entry.0 = id;
                    entry.1 = head.seq;
                }
                entry.2 = entry.2.min(head.received_at);
            }
            "event" => {
                if let Ok(head) = serde_json::from_str::<EventHead>(data) {
                    affected.insert(head.contact_id);
                    self.events.insert(id, head.card_id);
                }
            }
            _ => {}
        }
    }

    /// Writes the page's changes in a few multi-row statements; notes the contacts that cards
    /// left, and the cards whose versions changed.
    async fn write(
        self,
        tx: &mut Tx<'_>,
        user_id: i64,
        affected: &mut BTreeSet<String>,
        touched: &mut BTreeSet<String>,
    ) -> StoreResult<()> {
        let moved: Vec<String> = self.cards.keys().cloned().collect();
        let sql = "SELECT contact_id FROM dav_cards WHERE user_id = $1 AND card_id IN ({in})";
        for row in rows_in(tx, sql, user_id, &moved).await? {
            affected.insert(row.try_get("contact_id")?);
        }
        let cards: Vec<(String, String)> = self.cards.into_iter().collect();
        for chunk in cards.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO dav_cards (user_id, card_id, contact_id, latest_id, latest_seq, first_at) \
                 VALUES {} ON CONFLICT (user_id, card_id) DO UPDATE SET contact_id = excluded.contact_id",
                value_groups(
                    chunk.len(),
                    2,
                    "($1, ${0}, ${1}, NULL, 0, 9223372036854775807)"
                )
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user_id);
            for (card, contact) in chunk {
                q = q.bind(card).bind(contact);
            }
            q.execute(&mut **tx).await?;
        }
        let versions: Vec<(String, (String, i64, i64))> = self.versions.into_iter().collect();
        for chunk in versions.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO dav_cards (user_id, card_id, contact_id, latest_id, latest_seq, first_at) \
                 VALUES {} ON CONFLICT (user_id, card_id) DO UPDATE SET \
                 latest_id = CASE WHEN excluded.latest_seq >= dav_cards.latest_seq \
                   THEN excluded.latest_id ELSE dav_cards.latest_id END, \
                 latest_seq = CASE WHEN excluded.latest_seq >= dav_cards.latest_seq \
                   THEN excluded.latest_seq ELSE dav_cards.latest_seq END, \
                 first_at = CASE WHEN excluded.first_at < dav_cards.first_at \
                   THEN excluded.first_at ELSE dav_cards.first_at END",
                value_groups(chunk.len(), 4, "($1, ${0}, '', ${1}, ${2}, ${3})")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user_id);
            for (card, (latest, seq, first)) in chunk {
                q = q.bind(card).bind(latest).bind(seq).bind(first);
            }
            q.execute(&mut **tx).await?;
            touched.extend(chunk.iter().map(|(card, _)| card.clone()));
        }
        let events: Vec<(String, Option<String>)> = self.events.into_iter().collect();
        for chunk in events.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO dav_events (user_id, event_id, card_id) VALUES {} \
                 ON CONFLICT (user_id, event_id) DO UPDATE SET card_id = excluded.card_id",
                value_groups(chunk.len(), 2, "($1, ${0}, ${1})")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user_id);
            for (event, card) in chunk {
                q = q.bind(event).bind(card);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Takes one page of records in (at most [`PAGE`] records and, past the first, [`PAGE_BYTES`]
/// of data: card versions carry pictures inline). Returns the last version read, or `None`
/// when no record is left.
async fn take_in(
    tx: &mut Tx<'_>,
    user_id: i64,
    after: i64,
    upto: i64,
    affected: &mut BTreeSet<String>,
    touched: &mut BTreeSet<String>,
    turn: &Turn,
) -> StoreResult<Option<i64>> {
    let sizes: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, bytes FROM records WHERE user_id = $1 AND version > $2 \
         AND version <= $3 ORDER BY version LIMIT $4",
    )
    .bind(user_id)
    .bind(after)
    .bind(upto)
    .bind(PAGE)
    .fetch_all(&mut **tx)
    .await?;
    let Some(last) = super::exchanges::last_within(&sizes, PAGE_BYTES) else {
        return Ok(None);
    };
    let rows = sqlx::query(
        "SELECT kind, id, data FROM records WHERE user_id = $1 AND version > $2 \
         AND version <= $3 ORDER BY version",
    )
    .bind(user_id)
    .bind(after)
    .bind(last)
    .fetch_all(&mut **tx)
    .await?;
    let mut raw: Vec<(String, String, String)> = Vec::with_capacity(rows.len());
    for row in rows {
        raw.push((
            row.try_get("kind")?,
            row.try_get("id")?,
            row.try_get("data")?,
        ));
    }
    let (page, page_affected) = blocking(turn, move || {
        let mut page = PageChanges::default();
        let mut affected = BTreeSet::new();
        for (kind, id, data) in raw {
            page.take(&kind, id, &data, &mut affected);
        }
        (page, affected)
    })
    .await?;
    affected.extend(page_affected);
    page.write(tx, user_id, affected, touched).await?;
    Ok(Some(last))
}

impl Store {
    /// Brings the account's address book up to its wallet records and returns its sync token
    /// (the records version it stands at). Cheap when nothing changed: one row read.
    ///
    /// Each page takes a server-wide turn (see [`Turns`]); `background` refreshes also take
    /// turns among themselves, one page at a time. A request that waits [`TURN_WAIT`] for a
    /// turn gets [`StoreError::Busy`].
    #[tracing::instrument(skip_all)]
    pub async fn dav_refresh(
        &self,
        user_id: i64,
        build: Builder,
        background: bool,
    ) -> StoreResult<i64> {
        loop {
            let (cursor, seq): (i64, i64) =
                sqlx::query_as("SELECT dav_cursor, sync_seq FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?;
            if cursor >= seq {
                return Ok(cursor);
            }
            let turn = self.dav_turns.take(background).await?;
            // The account's row stayed held (a long push, another instance's refresh): "busy,
            // retry" rather than a turn and a connection held without end.
            self.dav_refresh_page(user_id, build, &turn)
                .await
                .map_err(super::busy_if_lock_timeout)?;
        }
    }

    /// Takes in one page of records and rebuilds the entries they touch, in a transaction of
    /// its own: a large first build (10,000 contacts) holds the writer (on SQLite, every
    /// account's) for one page at a time, never for the whole build. Each page leaves a
    /// consistent address book at its cursor.
    async fn dav_refresh_page(&self, user_id: i64, build: Builder, turn: &Turn) -> StoreResult<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        if self.backend == super::Backend::Postgres {
            // The projection's tables grow from nothing during a first build: a generic plan
            // cached while they were empty would scan them whole for every batch (a
            // 10,000-contact build took 25 s). Plan each statement for the tables as they are.
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
                .execute(&mut *tx)
                .await?;
        }
        // The account's row lock serialises refreshes (and pushes) on PostgreSQL; every record
        // up to `seq` is committed once it is held. Waited for at most a few seconds.
        super::limit_lock_waits(&mut tx, self.backend).await?;
        let (cursor, seq): (i64, i64) = sqlx::query_as(
            "UPDATE users SET dav_cursor = dav_cursor WHERE id = $1 RETURNING dav_cursor, sync_seq",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut affected = BTreeSet::new();
        let mut touched = BTreeSet::new();
        let last = if cursor >= seq {
            cursor
        } else {
            take_in(
                &mut tx,
                user_id,
                cursor,
                seq,
                &mut affected,
                &mut touched,
                turn,
            )
            .await?
            .unwrap_or(seq)
        };
        let touched: Vec<String> = touched.into_iter().collect();
        let sql = "SELECT contact_id FROM dav_cards WHERE user_id = $1 AND card_id IN ({in})";
        for row in rows_in(&mut tx, sql, user_id, &touched).await? {
            affected.insert(row.try_get("contact_id")?);
        }
        affected.remove("");
        let affected: Vec<String> = affected.into_iter().collect();
        for batch in affected.chunks(BATCH) {
            rebuild(&mut tx, user_id, batch, last, build, turn).await?;
        }
        sqlx::query("UPDATE users SET dav_cursor = $2 WHERE id = $1")
            .bind(user_id)
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the account has an address book to keep current (an app password).
    #[tracing::instrument(skip_all)]
    pub async fn has_app_password(&self, user_id: i64) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM devices WHERE user_id = $1 AND kind = 'carddav' LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Entries after the cursor `after` (a changed version and a contact id): every live entry
    /// in contact-id order (`since` = `None`; the version part of the cursor is unused), or every
    /// entry that changed after `since.0` and up to `since.1`, gone ones included, in the order
    /// they changed.
    #[tracing::instrument(skip_all)]
    pub async fn dav_entries(
        &self,
        user_id: i64,
        since: Option<(i64, i64)>,
        after: (i64, &str),
        limit: i64,
    ) -> StoreResult<Vec<DavEntry>> {
        let rows =
            match since {
                None => {
                    sqlx::query(AssertSqlSafe(format!(
                        "SELECT {ENTRY_COLUMNS} FROM dav_entries WHERE user_id = $1 AND gone = 0 \
                 AND contact_id > $2 ORDER BY contact_id LIMIT $3"
                    )))
                    .bind(user_id)
                    .bind(after.1)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                }
                Some((since, upto)) => sqlx::query(AssertSqlSafe(format!(
                    "SELECT {ENTRY_COLUMNS} FROM dav_entries WHERE user_id = $1 AND changed > $2 \
                 AND changed <= $3 AND (changed > $4 OR (changed = $4 AND contact_id > $5)) \
                 ORDER BY changed, contact_id LIMIT $6"
                )))
                .bind(user_id)
                .bind(since)
                .bind(upto)
                .bind(after.0)
                .bind(after.1)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            };
        rows.iter().map(entry).collect()
    }

    /// The entries of these contacts that exist (gone ones included).
    #[tracing::instrument(skip_all)]
    pub async fn dav_entries_by_id(
        &self,
        user_id: i64,
        ids: &[String],
    ) -> StoreResult<Vec<DavEntry>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {ENTRY_COLUMNS} FROM dav_entries WHERE user_id = $1 AND contact_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(user_id);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(entry(&row)?);
            }
        }
        Ok(out)
    }

    /// How many live entries the address book holds.
    #[tracing::instrument(skip_all)]
    pub async fn dav_count(&self, user_id: i64) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM dav_entries WHERE user_id = $1 AND gone = 0")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refresh_turns_are_bounded_and_background_goes_one_page_at_a_time() {
        let turns = Turns::new(32);
        let short = Duration::from_millis(50);
        let n = turns.pages.available_permits();
        assert!((2..=8).contains(&n), "{n} turns");
        // Every turn taken: a request is told the server is busy rather than waiting on.
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(turns.take_within(false, short).await.unwrap());
        }
        assert!(matches!(
            turns.take_within(false, short).await,
            Err(StoreError::Busy)
        ));
        // A turn given back is taken by the next request.
        held.pop();
        held.push(turns.take_within(false, short).await.unwrap());
        held.clear();
        // One background page at a time, and requests still find turns beside it.
        let first = turns.take_within(true, short).await.unwrap();
        assert!(first._held.1.is_some());
        let second = tokio::time::timeout(short, turns.take_within(true, short)).await;
        assert!(
            second.is_err(),
            "a second background page ran beside the first"
        );
        let request = turns.take_within(false, short).await.unwrap();
        drop(first);
        let second = tokio::time::timeout(short, turns.take_within(true, short))
            .await
            .expect("the background queue moves on once a page is done")
            .unwrap();
        drop((second, request));
        assert_eq!(turns.pages.available_permits(), n);
        // A request cancelled while its page decodes: the turn comes back only once the
        // decoding is done, so cancelled requests cannot pile up work beyond the turns.
        let (started, running) = tokio::sync::oneshot::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let request = async {
            let turn = turns.take_within(false, short).await.unwrap();
            blocking(&turn, move || {
                started.send(()).unwrap();
                finished.recv().unwrap();
            })
            .await
        };
        tokio::select! {
            _ = request => unreachable!("the work waits for `finish`"),
            _ = running => {}
        }
        assert_eq!(
            turns.pages.available_permits(),
            n - 1,
            "still held by the work"
        );
        finish.send(()).unwrap();
        for _ in 0..100 {
            if turns.pages.available_permits() == n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(turns.pages.available_permits(), n);
        // Turns never take more than half the pool's connections.
        assert_eq!(Turns::new(2).pages.available_permits(), 1);
        assert!(Turns::new(8).pages.available_permits() <= 4);
    }
}
