//! Contacts and the cards they hold: storing an arriving card (linking it by phone number, then
//! email: claim 8), versions, notes, tags, history, unlinking and deleting with undo.
//!
//! Terms: a *card* is one card someone gave (one of their sets, one imported vCard); a *contact*
//! is the person, holding one or more cards. Linking never merges cards: two cards of one person
//! stay two cards in one contact, and either can be unlinked into a contact of its own.

use mingpian_card::{Card, Region};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Result, WalletError};
use crate::model::{
    CardVersion, Contact, ContactDetail, Event, Outcome, Received, Source, StoredCard,
};
use crate::text;
use crate::util::{content_hash, new_id, now_ms};

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
    json: String,
    hash: String,
    keys: Vec<String>,
    name_key: String,
    /// Name, sort key and search text of a new contact holding only this card.
    name: String,
    sort_key: String,
    search: String,
}

pub fn prepare(card: &Card, region: Region) -> Result<Prepared> {
    let json = serde_json::to_string(card)?;
    let phones = text::parse_phones(card, region);
    let name = card.display_name();
    Ok(Prepared {
        hash: content_hash(&json),
        keys: text::link_keys_parsed(card, &phones),
        name_key: text::name_key(card),
        sort_key: text::sort_key(&name),
        search: text::search_text_parsed([(card, phones.as_slice())], &[]),
        name,
        json,
    })
}

/// Stores an arriving card: a newer version of a card already held from the same account set, or
/// a new card linked to the contact with the same phone number (then email), or a new contact.
pub fn receive(conn: &Connection, arrival: Arrival, region: Region) -> Result<Received> {
    let p = prepare(&arrival.card, region)?;
    if let (Some(owner), Some(set_no)) = (&arrival.owner, arrival.set_no) {
        let held: Option<(String, String, i64)> = conn
            .prepare_cached(
                "SELECT id, hash, version FROM cards
                 WHERE owner = ?1 AND set_no = ?2 AND deleted = 0 LIMIT 1",
            )?
            .query_row(params![owner, set_no], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some((card_id, held_hash, held_version)) = held {
            let outcome = if held_hash == p.hash || arrival.version < held_version {
                Outcome::Unchanged
            } else {
                add_version(conn, &card_id, &arrival, &p.json, &p.hash, region)?;
                Outcome::Updated
            };
            return received(conn, outcome, &card_id, None);
        }
    }
    let mut link = None;
    for key in &p.keys {
        let contact: Option<String> = conn
            .prepare_cached(
                "SELECT k.contact_id FROM card_keys k
                 JOIN contacts c ON c.id = k.contact_id AND c.deleted_at IS NULL
                 WHERE k.key = ?1 LIMIT 1",
            )?
            .query_row([key], |r| r.get(0))
            .optional()?;
        if let Some(contact) = contact {
            link = Some((contact, link_reason(key)));
            break;
        }
    }
    store_new_card(conn, arrival, p, link, region)
}

fn link_reason(key: &str) -> &'static str {
    if key.starts_with("tel:") {
        "phone"
    } else {
        "email"
    }
}

/// Stores a card no card in the wallet is a version of: into the linked contact, or a new one.
fn store_new_card(
    conn: &Connection,
    arrival: Arrival,
    p: Prepared,
    link: Option<(String, &'static str)>,
    region: Region,
) -> Result<Received> {
    match link {
        Some((contact_id, by)) => {
            let card_id = insert_card(conn, &contact_id, by, &arrival, &p)?;
            refresh_contact(conn, &contact_id, region)?;
            let contact_name: String = conn
                .prepare_cached("SELECT name FROM contacts WHERE id = ?1")?
                .query_row([&contact_id], |r| r.get(0))?;
            Ok(Received {
                outcome: Outcome::Linked,
                contact_id,
                contact_name,
                card_id,
                linked_by: Some(by.to_owned()),
                card: arrival.card,
            })
        }
        None => {
            // A new contact with one card: everything it shows comes from this card, so it is
            // written whole, without reading anything back.
            let contact_id = new_id();
            let card = &arrival.card;
            let phones: Vec<&str> = dedup(card.phones.iter().map(|x| x.value.as_str()));
            let emails: Vec<&str> = dedup(card.emails.iter().map(|x| x.value.as_str()));
            conn.prepare_cached(
                "INSERT INTO contacts (id, name, sort_key, search, org, title, phones, emails,
                                       created_at, modified_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
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
                arrival.received_at
            ])?;
            let card_id = insert_card(conn, &contact_id, "new", &arrival, &p)?;
            let mut insert = conn.prepare_cached(
                "INSERT INTO card_keys (key, card_id, contact_id) VALUES (?1, ?2, ?3)",
            )?;
            for key in &p.keys {
                insert.execute(params![key, card_id, contact_id])?;
            }
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
/// unchanged. Anything else arrives as a new card (linked by phone or email as usual), so two
/// people sharing an office number are never merged into one card.
/// The card comes [`prepare`]d.
pub fn import(
    conn: &Connection,
    arrival: Arrival,
    p: Prepared,
    region: Region,
) -> Result<Received> {
    let same: Option<String> = conn
        .prepare_cached("SELECT id FROM cards WHERE hash = ?1 AND deleted = 0 LIMIT 1")?
        .query_row([&p.hash], |r| r.get(0))
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
    let mut link = None;
    if target.is_none() {
        for key in &p.keys {
            let mut stmt = conn.prepare_cached(
                "SELECT k.card_id, k.contact_id, c.name_key, c.source, c.deleted,
                        o.deleted_at IS NOT NULL
                 FROM card_keys k JOIN cards c ON c.id = k.card_id
                 JOIN contacts o ON o.id = k.contact_id
                 WHERE k.key = ?1",
            )?;
            let mut rows = stmt.query([key])?;
            while let Some(r) = rows.next()? {
                let (card_deleted, contact_deleted): (bool, bool) = (r.get(4)?, r.get(5)?);
                if card_deleted || contact_deleted {
                    continue;
                }
                let source: String = r.get(3)?;
                let same_person = r.get_ref(2)?.as_str().unwrap_or_default() == p.name_key
                    && matches!(source.as_str(), "import" | "manual" | "scan");
                if same_person && target.is_none() {
                    target = Some(r.get(0)?);
                }
                if link.is_none() {
                    link = Some((r.get::<_, String>(1)?, link_reason(key)));
                }
            }
            if target.is_some() {
                break;
            }
        }
    }
    match target {
        Some(card_id) => {
            add_version(conn, &card_id, &arrival, &p.json, &p.hash, region)?;
            received(conn, Outcome::Updated, &card_id, None)
        }
        None => store_new_card(conn, arrival, p, link, region),
    }
}

fn new_contact(conn: &Connection, at: i64) -> Result<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO contacts (id, name, sort_key, search, created_at, modified_at)
         VALUES (?1, '', '', '', ?2, ?2)",
    )?
    .execute(params![id, at])?;
    Ok(id)
}

fn insert_card(
    conn: &Connection,
    contact_id: &str,
    linked_by: &str,
    a: &Arrival,
    p: &Prepared,
) -> Result<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO cards (id, contact_id, source, owner, set_no, uid, full, version, hash,
                            name_key, linked_by, received_at, modified_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
        p.hash,
        p.name_key,
        linked_by,
        a.received_at,
        now_ms()
    ])?;
    insert_version(conn, &id, 1, a, &p.json)?;
    Ok(id)
}

fn insert_version(
    conn: &Connection,
    card_id: &str,
    seq: i64,
    a: &Arrival,
    json: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO card_versions (id, card_id, seq, version, card, origin, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        format!("{card_id}.{seq}"),
        card_id,
        seq,
        a.version,
        json,
        a.origin,
        a.received_at
    ])?;
    Ok(())
}

fn add_version(
    conn: &Connection,
    card_id: &str,
    a: &Arrival,
    json: &str,
    hash: &str,
    region: Region,
) -> Result<()> {
    let seq: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM card_versions WHERE card_id = ?1")?
        .query_row([card_id], |r| r.get(0))?;
    insert_version(conn, card_id, seq, a, json)?;
    conn.prepare_cached(
        "UPDATE cards SET hash = ?2, version = ?3, full = MAX(full, ?4), uid = ?5,
                name_key = ?6, received_at = ?7, modified_at = ?8, dirty = 1
         WHERE id = ?1",
    )?
    .execute(params![
        card_id,
        hash,
        a.version,
        a.full,
        a.card.uid,
        text::name_key(&a.card),
        a.received_at,
        now_ms()
    ])?;
    let contact_id: String = conn.query_row(
        "SELECT contact_id FROM cards WHERE id = ?1",
        [card_id],
        |r| r.get(0),
    )?;
    refresh_contact(conn, &contact_id, region)
}

fn received(
    conn: &Connection,
    outcome: Outcome,
    card_id: &str,
    linked_by: Option<String>,
) -> Result<Received> {
    let (contact_id, contact_name, card): (String, String, String) = conn
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
        card: serde_json::from_str(&card)?,
    })
}

/// Recomputes what a contact shows and is found by from its live cards, and its cards' link keys.
pub fn refresh_contact(conn: &Connection, contact_id: &str, region: Region) -> Result<()> {
    let mut cards: Vec<(String, Card)> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT k.id, (SELECT card FROM card_versions v WHERE v.card_id = k.id
                          ORDER BY v.seq DESC LIMIT 1)
             FROM cards k WHERE k.contact_id = ?1 AND k.deleted = 0
             ORDER BY k.received_at DESC, k.id",
        )?;
        let mut rows = stmt.query([contact_id])?;
        while let Some(r) = rows.next()? {
            let json: Option<String> = r.get(1)?;
            cards.push((
                r.get(0)?,
                serde_json::from_str(json.as_deref().unwrap_or("{}"))?,
            ));
        }
    }
    let tags: String = conn
        .prepare_cached("SELECT tags FROM contacts WHERE id = ?1")?
        .query_row([contact_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| WalletError::NotFound(format!("contact {contact_id}")))?;
    let tags: Vec<String> = serde_json::from_str(&tags)?;
    let name = cards
        .first()
        .map(|(_, c)| c.display_name())
        .unwrap_or_default();
    let org = cards.iter().find_map(|(_, c)| c.org.clone());
    let title = cards.iter().find_map(|(_, c)| c.title.clone());
    let mut phones: Vec<String> = Vec::new();
    let mut emails: Vec<String> = Vec::new();
    for (_, c) in &cards {
        for p in &c.phones {
            if !phones.contains(&p.value) {
                phones.push(p.value.clone());
            }
        }
        for e in &c.emails {
            if !emails.contains(&e.value) {
                emails.push(e.value.clone());
            }
        }
    }
    let search = text::search_text(cards.iter().map(|(_, c)| c), &tags, region);
    conn.prepare_cached(
        "UPDATE contacts SET name = ?2, sort_key = ?3, search = ?4, org = ?5, title = ?6,
                phones = ?7, emails = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        contact_id,
        name,
        text::sort_key(&name),
        search,
        org,
        title,
        serde_json::to_string(&phones)?,
        serde_json::to_string(&emails)?
    ])?;
    for (card_id, card) in &cards {
        conn.prepare_cached("DELETE FROM card_keys WHERE card_id = ?1")?
            .execute([card_id])?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO card_keys (key, card_id, contact_id) VALUES (?1, ?2, ?3)",
        )?;
        for key in text::link_keys(card, region) {
            insert.execute(params![key, card_id, contact_id])?;
        }
    }
    Ok(())
}

/// Records a meeting or a delivery. An event with an origin already recorded is skipped: the
/// same inbox item or exchange is history once.
#[expect(
    clippy::too_many_arguments,
    reason = "an event is these eight facts; a struct would only rename them"
)]
pub fn add_event(
    conn: &Connection,
    contact_id: &str,
    card_id: Option<&str>,
    kind: &str,
    code: Option<&str>,
    place: Option<&str>,
    at: i64,
    origin: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (id, contact_id, card_id, kind, code, place, at, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        new_id(),
        contact_id,
        card_id,
        kind,
        code,
        place,
        at,
        origin
    ])?;
    Ok(())
}

/// Whether something with this origin (an inbox item, an exchange) is already in the wallet.
pub fn has_origin(conn: &Connection, origin: &str) -> Result<bool> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM events WHERE origin = ?1)
                  + (SELECT COUNT(*) FROM card_versions WHERE origin = ?1)",
        )?
        .query_row([origin], |r| r.get(0))?;
    Ok(n > 0)
}

const CONTACT_COLUMNS: &str = "c.id, c.name, c.sort_key, c.org, c.title, c.phones, c.emails, \
     c.tags, c.note, c.created_at, c.modified_at, \
     (SELECT COUNT(*) FROM cards k WHERE k.contact_id = c.id AND k.deleted = 0)";

fn contact_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    let json = |i: usize| -> rusqlite::Result<Vec<String>> {
        let s: String = r.get(i)?;
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let sort_key: String = r.get(2)?;
    Ok(Contact {
        id: r.get(0)?,
        name: r.get(1)?,
        section: text::section(&sort_key),
        org: r.get(3)?,
        title: r.get(4)?,
        phones: json(5)?,
        emails: json(6)?,
        tags: json(7)?,
        note: r.get(8)?,
        created_at: r.get(9)?,
        modified_at: r.get(10)?,
        card_count: r.get(11)?,
    })
}

/// Every contact not in the bin, in list order (pinyin for Chinese names).
pub fn list(conn: &Connection) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.deleted_at IS NULL
         ORDER BY c.sort_key, c.id"
    ))?;
    let rows = stmt.query_map([], contact_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: &str) -> Result<Contact> {
    conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ?1 AND c.deleted_at IS NULL"
    ))?
    .query_row([id], contact_row)
    .optional()?
    .ok_or_else(|| WalletError::NotFound(format!("contact {id}")))
}

fn card_row(r: &Row<'_>) -> rusqlite::Result<(StoredCard, String)> {
    let source: String = r.get(2)?;
    // No version yet: a card row synced ahead of its first version.
    let json: String = r
        .get::<_, Option<String>>(10)?
        .unwrap_or_else(|| "{}".into());
    Ok((
        StoredCard {
            id: r.get(0)?,
            contact_id: r.get(1)?,
            source: Source::parse(&source),
            owner: r.get(3)?,
            set_no: r.get(4)?,
            version: r.get(5)?,
            full: r.get(6)?,
            linked_by: r.get(7)?,
            received_at: r.get(8)?,
            versions: r.get(9)?,
            card: Card::default(),
        },
        json,
    ))
}

const CARD_COLUMNS: &str = "k.id, k.contact_id, k.source, k.owner, k.set_no, k.version, k.full, \
     k.linked_by, k.received_at, \
     (SELECT COUNT(*) FROM card_versions v WHERE v.card_id = k.id), \
     (SELECT card FROM card_versions v WHERE v.card_id = k.id ORDER BY v.seq DESC LIMIT 1)";

pub fn cards_of(conn: &Connection, contact_id: &str) -> Result<Vec<StoredCard>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM cards k WHERE k.contact_id = ?1 AND k.deleted = 0
         ORDER BY k.received_at DESC, k.id"
    ))?;
    let rows = stmt.query_map([contact_id], card_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut card, json) = row?;
        card.card = serde_json::from_str(&json)?;
        out.push(card);
    }
    Ok(out)
}

pub fn card(conn: &Connection, card_id: &str) -> Result<StoredCard> {
    let (mut card, json) = conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM cards k WHERE k.id = ?1 AND k.deleted = 0"
        ))?
        .query_row([card_id], card_row)
        .optional()?
        .ok_or_else(|| WalletError::NotFound(format!("card {card_id}")))?;
    card.card = serde_json::from_str(&json)?;
    Ok(card)
}

pub fn versions(conn: &Connection, card_id: &str) -> Result<Vec<CardVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, version, received_at, card FROM card_versions WHERE card_id = ?1
         ORDER BY seq DESC",
    )?;
    let rows = stmt.query_map([card_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, version, received_at, json) = row?;
        out.push(CardVersion {
            seq,
            version,
            received_at,
            card: serde_json::from_str(&json)?,
        });
    }
    Ok(out)
}

pub fn history(conn: &Connection, contact_id: &str) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, card_id, kind, code, place, at FROM events WHERE contact_id = ?1
         ORDER BY at DESC, id",
    )?;
    let rows = stmt.query_map([contact_id], |r| {
        Ok(Event {
            id: r.get(0)?,
            card_id: r.get(1)?,
            kind: r.get(2)?,
            code: r.get(3)?,
            place: r.get(4)?,
            at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn detail(conn: &Connection, id: &str) -> Result<ContactDetail> {
    Ok(ContactDetail {
        contact: get(conn, id)?,
        cards: cards_of(conn, id)?,
        history: history(conn, id)?,
    })
}

fn touch_contact(conn: &Connection, id: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE contacts SET modified_at = ?2, dirty = 1 WHERE id = ?1",
        params![id, now_ms()],
    )?;
    if n == 0 {
        return Err(WalletError::NotFound(format!("contact {id}")));
    }
    Ok(())
}

pub fn set_note(conn: &Connection, id: &str, note: &str) -> Result<()> {
    get(conn, id)?;
    conn.execute(
        "UPDATE contacts SET note = ?2 WHERE id = ?1",
        params![id, note],
    )?;
    touch_contact(conn, id)
}

pub fn set_tags(conn: &Connection, id: &str, tags: &[String], region: Region) -> Result<()> {
    get(conn, id)?;
    let mut clean: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if !t.is_empty() && !clean.iter().any(|c| c == t) {
            clean.push(t.to_owned());
        }
    }
    conn.execute(
        "UPDATE contacts SET tags = ?2 WHERE id = ?1",
        params![id, serde_json::to_string(&clean)?],
    )?;
    touch_contact(conn, id)?;
    refresh_contact(conn, id, region)
}

/// Every tag in use, with how many contacts carry it.
pub fn tags(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.value, COUNT(*) FROM contacts c, json_each(c.tags) t
         WHERE c.deleted_at IS NULL GROUP BY t.value ORDER BY t.value",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Moves a contact to the bin; [`undelete`] brings it back.
pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    get(conn, id)?;
    conn.execute(
        "UPDATE contacts SET deleted_at = ?2 WHERE id = ?1",
        params![id, now_ms()],
    )?;
    touch_contact(conn, id)
}

pub fn undelete(conn: &Connection, id: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE contacts SET deleted_at = NULL WHERE id = ?1 AND deleted_at IS NOT NULL",
        [id],
    )?;
    if n == 0 {
        return Err(WalletError::NotFound(format!("deleted contact {id}")));
    }
    touch_contact(conn, id)
}

/// Undoes a link: the card moves to a contact of its own, which takes over the card's history.
/// Returns the new contact's id.
pub fn unlink(conn: &Connection, card_id: &str, region: Region) -> Result<String> {
    let held = card(conn, card_id)?;
    let others: i64 = conn.query_row(
        "SELECT COUNT(*) FROM cards WHERE contact_id = ?1 AND deleted = 0 AND id <> ?2",
        params![held.contact_id, card_id],
        |r| r.get(0),
    )?;
    if others == 0 {
        return Err(WalletError::Invalid(
            "this card is the contact's only card: there is nothing to unlink it from".into(),
        ));
    }
    let new = new_contact(conn, now_ms())?;
    move_card(conn, card_id, &new)?;
    conn.execute(
        "UPDATE events SET contact_id = ?2, dirty = 1 WHERE card_id = ?1",
        params![card_id, new],
    )?;
    refresh_contact(conn, &held.contact_id, region)?;
    refresh_contact(conn, &new, region)?;
    Ok(new)
}

/// Links a card into another contact by hand.
pub fn link(conn: &Connection, card_id: &str, contact_id: &str, region: Region) -> Result<()> {
    let held = card(conn, card_id)?;
    get(conn, contact_id)?;
    move_card(conn, card_id, contact_id)?;
    conn.execute(
        "UPDATE events SET contact_id = ?2, dirty = 1 WHERE card_id = ?1",
        params![card_id, contact_id],
    )?;
    let left: i64 = conn.query_row(
        "SELECT COUNT(*) FROM cards WHERE contact_id = ?1 AND deleted = 0",
        [&held.contact_id],
        |r| r.get(0),
    )?;
    if left == 0 {
        // The old contact is now empty: it goes to the bin (its note and tags can be undone back).
        delete(conn, &held.contact_id)?;
    } else {
        refresh_contact(conn, &held.contact_id, region)?;
    }
    refresh_contact(conn, contact_id, region)
}

fn move_card(conn: &Connection, card_id: &str, contact_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE cards SET contact_id = ?2, linked_by = 'manual', modified_at = ?3, dirty = 1
         WHERE id = ?1",
        params![card_id, contact_id, now_ms()],
    )?;
    conn.execute(
        "UPDATE card_keys SET contact_id = ?2 WHERE card_id = ?1",
        params![card_id, contact_id],
    )?;
    Ok(())
}

/// Saves an edited card as its new version.
pub fn edit(
    conn: &Connection,
    card_id: &str,
    arrival: Arrival,
    region: Region,
) -> Result<Received> {
    let json = serde_json::to_string(&arrival.card)?;
    let hash = content_hash(&json);
    let held: String = conn.query_row("SELECT hash FROM cards WHERE id = ?1", [card_id], |r| {
        r.get(0)
    })?;
    if held == hash {
        return received(conn, Outcome::Unchanged, card_id, None);
    }
    add_version(conn, card_id, &arrival, &json, &hash, region)?;
    received(conn, Outcome::Updated, card_id, None)
}
