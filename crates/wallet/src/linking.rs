//! Storing an arriving card: a newer version of a card already held from the same account set,
//! or a new card linked to the contact with the same phone number, then email (claim 8), or a new
//! contact. Imports, copies adopted by their owner's card, and the rules that keep what the
//! wallet held.
//!
//! Nothing the wallet held is hidden by what arrives later: a printed code's view of a card
//! never replaces the whole card a live code gave (a newer printed version updates only the
//! fields it shows); an older version is unchanged; a file only adds to a card its owner gives
//! through the cloud. An unverified card (sent from the web page) never draws other cards to its
//! contact.

use mingpian_card::{Card, Region};
use rusqlite::{Connection, OptionalExtension, params};

use crate::display::refresh_contact;
use crate::error::{Result, WalletError};
use crate::keys;
use crate::model::{LinkedBy, Outcome, Received, Source};
use crate::stored;
use crate::util::{ContentHash, content_hash, new_id, now_ms, stored_hash};
use rusqlite::types::Value;

/// A card arriving in the wallet.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub card: Card,
    pub source: Source,
    pub owner: Option<String>,
    pub set_no: Option<u32>,
    /// The owner's set version; 0 when the card has none.
    pub version: i64,
    pub full: bool,
    /// What brought it (`inbox:42`, `exchange:7`): the same origin is stored once.
    pub origin: Option<String>,
    pub received_at: i64,
}

impl Arrival {
    pub fn local(card: Card, source: Source) -> Arrival {
        Arrival {
            card,
            source,
            owner: None,
            set_no: None,
            version: 0,
            full: true,
            origin: None,
            received_at: now_ms(),
        }
    }
}

/// What is computed once per arriving card, before touching the database (a batch import
/// prepares cards on another thread while this one writes).
#[derive(Debug)]
pub struct Prepared {
    /// The card as stored (see [`stored`]): compressing is the costliest part of a write.
    stored: Vec<u8>,
    hash: ContentHash,
    keys: Vec<String>,
    /// [`keys::key_hash`] of each of `keys`, worked out here (on an import's reading thread),
    /// not once per lookup on the writing one.
    key_hashes: Vec<[u8; 12]>,
    name_key: String,
    /// Name, sort key and search text of a new contact holding only this card.
    name: String,
    sort_key: String,
    search: String,
}

pub fn prepare(card: &Card, region: Region) -> Result<Prepared> {
    let json = serde_json::to_string(card)?;
    let phones = keys::parse_phones(card, region);
    let name = card.display_name();
    let link_keys = keys::link_keys_parsed(card, &phones);
    // A new contact holding only this card shows its name, company and title.
    let row = keys::row_search_text(&name, card.org.as_deref(), card.title.as_deref());
    Ok(Prepared {
        hash: content_hash(&json),
        key_hashes: link_keys.iter().map(|k| keys::key_hash(k)).collect(),
        keys: link_keys,
        name_key: keys::name_key(card),
        sort_key: keys::sort_key(&name),
        search: keys::search_text_parsed([(card, phones.as_slice())], &[], &row),
        name,
        stored: stored::encode(&json)?,
    })
}

/// Stores an arriving card: a newer version of a card already held from the same account set, or
/// a new card linked to the contact with the same phone number (then email), or a new contact.
pub fn receive(conn: &Connection, arrival: Arrival, region: Region) -> Result<Received> {
    let p = prepare(&arrival.card, region)?;
    if let (Some(owner), Some(set_no)) = (&arrival.owner, arrival.set_no) {
        let held: Option<(String, Vec<u8>, i64, bool)> = conn
            .prepare_cached(
                "SELECT id, hash, version, full FROM cards
                 WHERE owner = ?1 AND set_no = ?2 AND deleted = 0 LIMIT 1",
            )?
            .query_row(params![owner, set_no], |r| {
                Ok((r.get(0)?, stored_hash(r.get_ref(1)?), r.get(2)?, r.get(3)?))
            })
            .optional()?;
        if let Some((card_id, held_hash, held_version, held_full)) = held {
            let outcome = if held_hash == p.hash || arrival.version < held_version {
                Outcome::Unchanged
            } else if !arrival.full {
                // A printed view only shows some fields: of a card held whole, the same version
                // adds nothing; anything newer updates only the fields it shows.
                if held_full && arrival.version == held_version {
                    Outcome::Unchanged
                } else {
                    // The merge is not the whole card of the newer version: it keeps older
                    // fields the printed view cannot show, so the owner's whole card of this
                    // version still replaces it when it arrives.
                    let current = current_card(conn, &card_id)?;
                    let merged = Arrival {
                        card: current.overlay_printed(&arrival.card),
                        full: false,
                        ..arrival.clone()
                    };
                    store_version(conn, &card_id, &merged, region, None)?
                }
            } else {
                add_version(conn, &card_id, &arrival, &p.stored, &p.hash, region, None)?;
                Outcome::Updated
            };
            return received(conn, outcome, &card_id, None);
        }
    }
    // The same content already held, from no account (a web reply sent twice, a vCard code
    // scanned again).
    if arrival.owner.is_none() {
        let same: Option<String> = conn
            .prepare_cached(
                "SELECT id FROM cards WHERE hash = ?1 AND deleted = 0 AND owner IS NULL LIMIT 1",
            )?
            .query_row([&p.hash[..]], |r| r.get(0))
            .optional()?;
        if let Some(card_id) = same {
            return received(conn, Outcome::Unchanged, &card_id, None);
        }
    }
    if arrival.owner.is_some()
        && let Some(card_id) = copy_of(conn, &arrival.card, &p, region)?
    {
        // A copy of this card was imported or typed in before it arrived from its owner: it
        // becomes the owner's card (one card, not two). The copy holds nothing the arrival
        // lacks, so nothing is lost; its version stays in the card's history.
        conn.prepare_cached(
            "UPDATE cards SET owner = ?2, set_no = ?3, source = ?4, dirty = 1 WHERE id = ?1",
        )?
        .execute(params![
            card_id,
            arrival.owner,
            arrival.set_no,
            arrival.source.as_str()
        ])?;
        let outcome = store_version(conn, &card_id, &arrival, region, None)?;
        return received(conn, outcome, &card_id, None);
    }
    let link = linked_contact(conn, &p.keys, &p.key_hashes)?;
    store_new_card(conn, arrival, p, link, region, None)
}

/// A verified card from no account (imported, typed in, a vCard code) that is a copy of the
/// arriving card: the same name, and nothing the arriving card lacks (every number and email
/// of the copy is on it, and the same company and title where the copy has them). A card that
/// merely shares an email with another set of the same person is not a copy.
fn copy_of(conn: &Connection, card: &Card, p: &Prepared, region: Region) -> Result<Option<String>> {
    for hash in &p.key_hashes {
        let candidates: Vec<String> = conn
            .prepare_cached(
                "SELECT c.id FROM card_keys k JOIN cards c ON c.n = k.card
                 JOIN contacts o ON o.id = c.contact_id AND o.deleted_at IS NULL
                 WHERE k.key_hash = ?1 AND c.owner IS NULL AND c.deleted = 0
                   AND c.trust = 'verified' AND c.name_key = ?2",
            )?
            .query_map(params![&hash[..], p.name_key], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in candidates {
            if covers(card, &current_card(conn, &id)?, region) {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// Whether `card` says everything `other` says that matters for telling cards apart: every number
/// and email of `other`, and its company and title where it has them.
fn covers(card: &Card, other: &Card, region: Region) -> bool {
    let keys = keys::link_keys(card, region);
    keys::link_keys(other, region)
        .iter()
        .all(|k| keys.contains(k))
        && (other.org.is_none() || other.org == card.org)
        && (other.title.is_none() || other.title == card.title)
}

/// The contact a card with these link keys belongs to: the first verified card holding one of
/// them. Unverified cards never draw others to their contact.
fn linked_contact(
    conn: &Connection,
    keys: &[String],
    hashes: &[[u8; 12]],
) -> Result<Option<(String, LinkedBy)>> {
    for (key, hash) in keys.iter().zip(hashes) {
        let contact: Option<String> = conn
            .prepare_cached(
                "SELECT d.contact_id FROM card_keys k
                 JOIN cards d ON d.n = k.card AND d.trust = 'verified' AND d.deleted = 0
                 JOIN contacts c ON c.id = d.contact_id AND c.deleted_at IS NULL
                 WHERE k.key_hash = ?1 LIMIT 1",
            )?
            .query_row([&hash[..]], |r| r.get(0))
            .optional()?;
        if let Some(contact) = contact {
            return Ok(Some((contact, link_reason(key))));
        }
    }
    Ok(None)
}

/// A card's current version.
fn current_card(conn: &Connection, card_id: &str) -> Result<Card> {
    let stored: Value = conn
        .prepare_cached(
            "SELECT card FROM card_versions WHERE card_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([card_id], |r| r.get(0))?;
    stored::decode_value(&stored)
}

/// Stores `arrival` as the card's new version unless it is what the card already holds.
fn store_version(
    conn: &Connection,
    card_id: &str,
    arrival: &Arrival,
    region: Region,
    touched: Option<&mut Touched>,
) -> Result<Outcome> {
    let json = serde_json::to_string(&arrival.card)?;
    let hash = content_hash(&json);
    let held = conn
        .prepare_cached("SELECT hash FROM cards WHERE id = ?1")?
        .query_row([card_id], |r| Ok(stored_hash(r.get_ref(0)?)))?;
    if held == hash {
        return Ok(Outcome::Unchanged);
    }
    add_version(
        conn,
        card_id,
        arrival,
        &stored::encode(&json)?,
        &hash,
        region,
        touched,
    )?;
    Ok(Outcome::Updated)
}

fn link_reason(key: &str) -> LinkedBy {
    if key.starts_with("tel:") {
        LinkedBy::Phone
    } else {
        LinkedBy::Email
    }
}

/// Stores a card no card in the wallet is a version of: into the linked contact, or a new one.
/// Its link keys are stored with it.
fn store_new_card(
    conn: &Connection,
    arrival: Arrival,
    p: Prepared,
    link: Option<(String, LinkedBy)>,
    region: Region,
    touched: Option<&mut Touched>,
) -> Result<Received> {
    match link {
        Some((contact_id, by)) => {
            let card_id = insert_card(conn, &contact_id, by.as_str(), &arrival, &p)?;
            // The card's link keys are in: what the contact shows waits for the import's end.
            match touched {
                Some(touched) => touched.add(&contact_id),
                None => refresh_contact(conn, &contact_id, region)?,
            }
            let contact_name: String = conn
                .prepare_cached("SELECT name FROM contacts WHERE id = ?1")?
                .query_row([&contact_id], |r| r.get(0))?;
            Ok(Received {
                outcome: Outcome::Linked,
                contact_id,
                contact_name,
                card_id,
                linked_by: Some(by),
                card: arrival.card,
            })
        }
        None => {
            // A new contact with one card: everything it shows comes from this card, so it is
            // written whole, without reading anything back.
            let contact_id = new_id();
            let card_id = new_id();
            let card_n = insert_card_as(conn, &card_id, &contact_id, "new", &arrival, &p)?;
            let card = &arrival.card;
            let phones: Vec<&str> = dedup(card.phones.iter().map(|x| x.value.as_str()));
            let emails: Vec<&str> = dedup(card.emails.iter().map(|x| x.value.as_str()));
            conn.prepare_cached(
                "INSERT INTO contacts (id, name, sort_key, search, org, title, phones, emails,
                                       created_at, modified_at, shown_card, shown_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, 'rule')",
            )?
            .execute(params![
                contact_id,
                p.name,
                p.sort_key,
                p.search,
                card.org,
                card.title,
                serde_json::to_string(&phones)?,
                serde_json::to_string(&emails)?,
                arrival.received_at,
                card_n
            ])?;
            Ok(Received {
                outcome: Outcome::Added,
                contact_id,
                contact_name: p.name,
                card_id,
                linked_by: None,
                card: arrival.card,
            })
        }
    }
}

fn dedup<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Stores an imported card. What is an update of a card already held: the same vCard UID; or
/// the same phone number or email on a card with the same name. The same content anywhere is
/// unchanged. A card held from an account is its owner's to change: an import only adds what it
/// lacks. Anything else arrives as a new card (linked by phone or email as usual), so two
/// people sharing an office number are never merged into one card.
/// The card comes [`prepare`]d.
pub fn import(
    conn: &Connection,
    arrival: Arrival,
    p: Prepared,
    region: Region,
    touched: &mut Touched,
) -> Result<Received> {
    let same: Option<String> = conn
        .prepare_cached("SELECT id FROM cards WHERE hash = ?1 AND deleted = 0 LIMIT 1")?
        .query_row([&p.hash[..]], |r| r.get(0))
        .optional()?;
    if let Some(card_id) = same {
        return received(conn, Outcome::Unchanged, &card_id, None);
    }
    let mut target: Option<String> = None;
    if let Some(uid) = arrival.card.uid.as_deref().filter(|u| !u.trim().is_empty()) {
        target = conn
            .prepare_cached("SELECT id FROM cards WHERE uid = ?1 AND deleted = 0 LIMIT 1")?
            .query_row([uid], |r| r.get(0))
            .optional()?;
    }
    // Found by UID, the file's card is a version of the held one; found by name and number, it
    // may be another card of the same person, which adds to the held one and replaces nothing.
    let by_uid = target.is_some();
    let mut link = None;
    if target.is_none() {
        for (key, hash) in p.keys.iter().zip(&p.key_hashes) {
            // The oldest 64 live cards that hold the key: a number on thousands of cards (a
            // company's switchboard on every employee's) would otherwise make every card of
            // such a file look at every card before it. A card of a person held beyond them is
            // found by its other keys (its own number or email) or its content, or else kept
            // beside them as another card of the contact. Deleted cards keep their keys, so at
            // most 256 key rows are read to find the 64. (The limits are written into the SQL:
            // a bound limit made SQLite prepare the statement again at every use.)
            let mut stmt = conn.prepare_cached(
                "SELECT c.id, c.contact_id, c.name_key
                 FROM (SELECT card FROM card_keys WHERE key_hash = ?1 ORDER BY card LIMIT 256) k
                 JOIN cards c ON c.n = k.card AND c.trust = 'verified' AND c.deleted = 0
                 JOIN contacts o ON o.id = c.contact_id AND o.deleted_at IS NULL
                 ORDER BY k.card LIMIT 64",
            )?;
            let mut rows = stmt.query([&hash[..]])?;
            while let Some(r) = rows.next()? {
                // The same name on a card with the same number or email is the same card (a
                // card an account gives only gains what the file adds; see below).
                let same_person = r.get_ref(2)?.as_str().unwrap_or_default() == p.name_key;
                if link.is_none() {
                    link = Some((r.get::<_, String>(1)?, link_reason(key)));
                }
                if same_person {
                    target = Some(r.get(0)?);
                    break;
                }
            }
            if target.is_some() {
                break;
            }
        }
    }
    match target {
        Some(card_id) => {
            let (version, full, owner, set_no): (i64, bool, Option<String>, Option<u32>) = conn
                .prepare_cached("SELECT version, full, owner, set_no FROM cards WHERE id = ?1")?
                .query_row([&card_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?;
            let held = current_card(conn, &card_id)?;
            if owner.is_some() {
                // A card its owner gives through the cloud is theirs to change. A file that
                // holds nothing it lacks is that card again; one that adds something is another
                // card of the person, kept beside it.
                if covers(&held, &arrival.card, region) {
                    return received(conn, Outcome::Unchanged, &card_id, None);
                }
                return store_new_card(conn, arrival, p, link, region, Some(touched));
            }
            if by_uid {
                add_version(
                    conn,
                    &card_id,
                    &arrival,
                    &p.stored,
                    &p.hash,
                    region,
                    Some(touched),
                )?;
                return received(conn, Outcome::Updated, &card_id, None);
            }
            // Found by name and number, it may be another of the person's cards: the file only
            // adds what the held card lacks.
            let filled = Arrival {
                card: held.with_missing_from(&arrival.card),
                version,
                full,
                owner,
                set_no,
                ..arrival
            };
            let outcome = store_version(conn, &card_id, &filled, region, Some(touched))?;
            received(conn, outcome, &card_id, None)
        }
        None => store_new_card(conn, arrival, p, link, region, Some(touched)),
    }
}

fn insert_card(
    conn: &Connection,
    contact_id: &str,
    linked_by: &str,
    a: &Arrival,
    p: &Prepared,
) -> Result<String> {
    let id = new_id();
    insert_card_as(conn, &id, contact_id, linked_by, a, p)?;
    Ok(id)
}

fn insert_card_as(
    conn: &Connection,
    id: &str,
    contact_id: &str,
    linked_by: &str,
    a: &Arrival,
    p: &Prepared,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO cards (id, contact_id, source, owner, set_no, uid, full, version, hash,
                            name_key, linked_by, received_at, modified_at, trust, link_keys)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        id,
        contact_id,
        a.source.as_str(),
        a.owner,
        a.set_no,
        a.card.uid,
        a.full,
        a.version,
        &p.hash[..],
        p.name_key,
        linked_by,
        a.received_at,
        now_ms(),
        crate::model::trust_of(a.source).as_str(),
        key_list(&p.key_hashes)
    ])?;
    let n = conn.last_insert_rowid();
    insert_version(conn, id, 1, a, &p.stored)?;
    insert_link_hashes(conn, n, &p.key_hashes)?;
    Ok(n)
}

fn insert_version(
    conn: &Connection,
    card_id: &str,
    seq: i64,
    a: &Arrival,
    stored: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO card_versions (card_id, seq, version, card, origin, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        card_id,
        seq,
        a.version,
        stored,
        a.origin,
        a.received_at
    ])?;
    Ok(())
}

/// How many bytes of each link key's hash a card's row lists (`cards.link_keys`): enough to
/// find the key's row in the key table, whose own key begins with the hash. Two different keys
/// can share 8 bytes (by chance one time in 2^64, by design after about 2^32 tries), so an
/// unchanged list is confirmed against the full hashes before nothing is written.
pub(crate) const KEY_LIST_BYTES: usize = 8;

/// A card's row's list of its link keys: [`KEY_LIST_BYTES`] of each hash, the hashes sorted (as
/// the format-7 upgrade lists them), so the same keys always make the same list.
pub(crate) fn key_list(hashes: &[[u8; 12]]) -> Vec<u8> {
    let mut sorted = hashes.to_vec();
    sorted.sort_unstable();
    sorted
        .iter()
        .flat_map(|h| h[..KEY_LIST_BYTES].iter().copied())
        .collect()
}

/// Makes `keys` the link keys of the card numbered `card_n` (`cards.n`), whose row lists
/// `listed` (`cards.link_keys`): every key of the card that begins as a listed one is deleted,
/// then the new keys are added and the list rewritten. Nothing is written when the keys did not
/// change: the same list, and every new key's full hash already the card's (as many keys as
/// before, all of them held, so the same keys).
pub(crate) fn replace_link_keys(
    conn: &Connection,
    card_n: i64,
    listed: &[u8],
    keys: &[String],
) -> Result<()> {
    let hashes: Vec<[u8; 12]> = keys.iter().map(|k| keys::key_hash(k)).collect();
    let list = key_list(&hashes);
    if list == listed {
        let mut held =
            conn.prepare_cached("SELECT 1 FROM card_keys WHERE key_hash = ?1 AND card = ?2")?;
        let mut all_held = true;
        for hash in &hashes {
            if !held.exists(params![&hash[..], card_n])? {
                all_held = false;
                break;
            }
        }
        if all_held {
            return Ok(());
        }
    }
    let mut delete = conn.prepare_cached(
        "DELETE FROM card_keys WHERE key_hash >= ?1 AND key_hash < ?2 AND card = ?3",
    )?;
    for old in listed.chunks(KEY_LIST_BYTES) {
        // Every hash that begins with `old` sorts from `old` (a BLOB compares as bytes, a
        // prefix first) to before `old` + 1; when `old` is all 0xFF, past every 12-byte hash.
        let mut past = old.to_vec();
        match past.iter().rposition(|&b| b != 0xFF) {
            Some(i) => {
                past[i] += 1;
                past.truncate(i + 1);
            }
            None => past = vec![0xFF; 13],
        }
        delete.execute(params![old, past, card_n])?;
    }
    insert_link_hashes(conn, card_n, &hashes)?;
    conn.prepare_cached("UPDATE cards SET link_keys = ?2 WHERE n = ?1")?
        .execute(params![card_n, list])?;
    Ok(())
}

/// Adds link keys already hashed ([`keys::key_hash`]) to the card numbered `card_n`; its row's
/// list is the caller's.
fn insert_link_hashes(conn: &Connection, card_n: i64, hashes: &[[u8; 12]]) -> Result<()> {
    let mut insert =
        conn.prepare_cached("INSERT OR IGNORE INTO card_keys (key_hash, card) VALUES (?1, ?2)")?;
    for hash in hashes {
        insert.execute(params![&hash[..], card_n])?;
    }
    Ok(())
}

/// The seq a card's next version takes.
pub(crate) fn next_seq(conn: &Connection, card_id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM card_versions WHERE card_id = ?1")?
        .query_row([card_id], |r| r.get(0))?)
}

pub(crate) fn add_version(
    conn: &Connection,
    card_id: &str,
    a: &Arrival,
    stored: &[u8],
    hash: &ContentHash,
    region: Region,
    touched: Option<&mut Touched>,
) -> Result<()> {
    let seq = next_seq(conn, card_id)?;
    insert_version(conn, card_id, seq, a, stored)?;
    // `full` says what the current content is: the owner's whole card of this version, or not
    // (a printed view, or one merged over an older whole card). It follows the content stored,
    // so that the whole card of this version still replaces a merge when it arrives.
    conn.prepare_cached(
        "UPDATE cards SET hash = ?2, version = ?3, full = ?4, uid = ?5,
                name_key = ?6, received_at = ?7, modified_at = ?8, dirty = 1
         WHERE id = ?1",
    )?
    .execute(params![
        card_id,
        &hash[..],
        a.version,
        a.full,
        a.card.uid,
        keys::name_key(&a.card),
        a.received_at,
        now_ms()
    ])?;
    let (contact_id, n, listed): (String, i64, Vec<u8>) = conn
        .prepare_cached("SELECT contact_id, n, link_keys FROM cards WHERE id = ?1")?
        .query_row([card_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    match touched {
        None => refresh_contact(conn, &contact_id, region),
        Some(touched) => {
            // The card's new numbers and emails link the file's later cards at once; what the
            // contact shows waits for the import's end.
            replace_link_keys(conn, n, &listed, &keys::link_keys(&a.card, region))?;
            touched.add(&contact_id);
            Ok(())
        }
    }
}

/// Contacts an import wrote to, refreshed once each when its file is written
/// ([`Touched::refresh`]) rather than after every card. A file of N cards that share a number
/// (a company's switchboard on every employee's card) links them all into one contact; a
/// refresh after each card read 1, 2, ..., N cards, N²/2 in all (1,000 such cards took 8.7 s).
#[derive(Default)]
pub struct Touched {
    order: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl Touched {
    fn add(&mut self, contact_id: &str) {
        if self.seen.insert(contact_id.to_owned()) {
            self.order.push(contact_id.to_owned());
        }
    }

    /// Refreshes every contact written to, in the order they were first touched. A contact
    /// whose stored data cannot be read goes to `failed` and the rest are refreshed: nothing of
    /// it was written ([`refresh_contact`] reads all it needs before it writes).
    pub fn refresh(
        self,
        conn: &Connection,
        region: Region,
        failed: &mut dyn FnMut(&str, WalletError),
    ) -> Result<()> {
        for contact_id in self.order {
            match refresh_contact(conn, &contact_id, region) {
                Ok(()) => {}
                Err(e @ (WalletError::Corrupt(_) | WalletError::Invalid(_))) => {
                    failed(&contact_id, e)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

pub(crate) fn received(
    conn: &Connection,
    outcome: Outcome,
    card_id: &str,
    linked_by: Option<LinkedBy>,
) -> Result<Received> {
    let (contact_id, contact_name, card): (String, String, Value) = conn
        .prepare_cached(
            "SELECT c.id, c.name, (SELECT card FROM card_versions v WHERE v.card_id = k.id
                                   ORDER BY v.seq DESC LIMIT 1)
             FROM cards k JOIN contacts c ON c.id = k.contact_id
             WHERE k.id = ?1",
        )?
        .query_row([card_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(Received {
        outcome,
        contact_id,
        contact_name,
        card_id: card_id.to_owned(),
        linked_by,
        card: stored::decode_value(&card)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A card whose key changed to one sharing the old one's listed 8 bytes (made to order by a
    /// sender, about 2^32 tries) gets the new key and loses the old: the same list is not taken
    /// for the same keys.
    #[test]
    fn a_key_sharing_a_listed_prefix_still_replaces_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = crate::db::open(&dir.path().join("w.db")).expect("open");
        conn.execute(
            "INSERT INTO cards (n, id, contact_id, source, version, hash, name_key, linked_by,
                                received_at, modified_at)
             VALUES (1, 'c', 'k', 'manual', 0, X'', '', 'new', 0, 0)",
            [],
        )
        .expect("card");
        let key = "email:e2@example.com".to_owned();
        let new = keys::key_hash(&key);
        let mut old = new;
        old[11] ^= 1;
        insert_link_hashes(&conn, 1, &[old]).expect("old key");
        let listed = key_list(&[old]);
        assert_eq!(listed, key_list(&[new]), "the two keys list alike");
        let held = |conn: &Connection| -> Vec<Vec<u8>> {
            conn.prepare("SELECT key_hash FROM card_keys WHERE card = 1")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        replace_link_keys(&conn, 1, &listed, std::slice::from_ref(&key)).expect("replace");
        assert_eq!(held(&conn), vec![new.to_vec()]);
        // The same keys again change nothing.
        replace_link_keys(&conn, 1, &listed, &[key]).expect("again");
        assert_eq!(held(&conn), vec![new.to_vec()]);
    }
}
