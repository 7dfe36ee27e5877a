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

/// Stores an arriving card: a newer version of a card already held from the same account set, or
/// a new card linked to the contact with the same phone number (then email), or a new contact.
pub fn receive(conn: &Connection, arrival: Arrival, region: Region) -> Result<Received> {
    let json = serde_json::to_string(&arrival.card)?;
    let hash = content_hash(&json);
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
            let outcome = if held_hash == hash || arrival.version < held_version {
                Outcome::Unchanged
            } else {
                add_version(conn, &card_id, &arrival, &json, &hash, region)?;
                Outcome::Updated
            };
            return received(conn, outcome, &card_id, None);
        }
    }
    let mut found = None;
    for key in text::link_keys(&arrival.card, region) {
        let contact: Option<String> = conn
            .prepare_cached(
                "SELECT k.contact_id FROM card_keys k
                 JOIN contacts c ON c.id = k.contact_id AND c.deleted_at IS NULL
                 WHERE k.key = ?1 LIMIT 1",
            )?
            .query_row([&key], |r| r.get(0))
            .optional()?;
        if let Some(contact) = contact {
            let by = if key.starts_with("tel:") {
                "phone"
            } else {
                "email"
            };
            found = Some((contact, by));
            break;
        }
    }
    let (contact_id, linked_by, outcome) = match found {
        Some((contact, by)) => (contact, by, Outcome::Linked),
        None => (new_contact(conn, arrival.received_at)?, "new", Outcome::Added),
    };
    let card_id = insert_card(conn, &contact_id, linked_by, &arrival, &json, &hash)?;
    refresh_contact(conn, &contact_id, region)?;
    received(
        conn,
        outcome,
        &card_id,
        (outcome == Outcome::Linked).then(|| linked_by.to_owned()),
    )
}

/// Stores an imported card. What is an update of a card already held: the same vCard UID; or
/// the same phone number or email on a card with the same name. The same content anywhere is
/// unchanged. Anything else arrives as a new card (linked by phone or email as usual), so two
/// people sharing an office number are never merged into one card.
pub fn import(conn: &Connection, arrival: Arrival, region: Region) -> Result<Received> {
    let json = serde_json::to_string(&arrival.card)?;
    let hash = content_hash(&json);
    let mut target: Option<String> = None;
    if let Some(uid) = arrival.card.uid.as_deref().filter(|u| !u.trim().is_empty()) {
        target = conn
            .prepare_cached("SELECT id FROM cards WHERE uid = ?1 AND deleted = 0 LIMIT 1")?
            .query_row([uid], |r| r.get(0))
            .optional()?;
    }
    if target.is_none() {
        let same: Option<String> = conn
            .prepare_cached("SELECT id FROM cards WHERE hash = ?1 AND deleted = 0 LIMIT 1")?
            .query_row([&hash], |r| r.get(0))
            .optional()?;
        if let Some(card_id) = same {
            return received(conn, Outcome::Unchanged, &card_id, None);
        }
        let name = text::name_key(&arrival.card);
        for key in text::link_keys(&arrival.card, region) {
            let card: Option<String> = conn
                .prepare_cached(
                    "SELECT c.id FROM card_keys k JOIN cards c ON c.id = k.card_id
                     WHERE k.key = ?1 AND c.deleted = 0 AND c.name_key = ?2
                       AND c.source IN ('import', 'manual', 'scan') LIMIT 1",
                )?
                .query_row(params![key, name], |r| r.get(0))
                .optional()?;
            if card.is_some() {
                target = card;
                break;
            }
        }
    }
    match target {
        Some(card_id) => {
            let held_hash: String =
                conn.query_row("SELECT hash FROM cards WHERE id = ?1", [&card_id], |r| {
                    r.get(0)
                })?;
            if held_hash == hash {
                return received(conn, Outcome::Unchanged, &card_id, None);
            }
            add_version(conn, &card_id, &arrival, &json, &hash, region)?;
            received(conn, Outcome::Updated, &card_id, None)
        }
        None => receive(conn, arrival, region),
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
    json: &str,
    hash: &str,
) -> Result<String> {
    let id = new_id();
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO cards (id, contact_id, source, owner, set_no, uid, full, version, card, hash,
                            name_key, linked_by, received_at, modified_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
        json,
        hash,
        text::name_key(&a.card),
        linked_by,
        a.received_at,
        now
    ])?;
    insert_version(conn, &id, 1, a, json)?;
    Ok(id)
}

fn insert_version(conn: &Connection, card_id: &str, seq: i64, a: &Arrival, json: &str) -> Result<()> {
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
        "UPDATE cards SET card = ?2, hash = ?3, version = ?4, full = MAX(full, ?5), uid = ?6,
                name_key = ?7, received_at = ?8, modified_at = ?9, dirty = 1
         WHERE id = ?1",
    )?
    .execute(params![
        card_id,
        json,
        hash,
        a.version,
        a.full,
        a.card.uid,
        text::name_key(&a.card),
        a.received_at,
        now_ms()
    ])?;
    let contact_id: String =
        conn.query_row("SELECT contact_id FROM cards WHERE id = ?1", [card_id], |r| r.get(0))?;
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
            "SELECT c.id, c.name, k.card FROM cards k JOIN contacts c ON c.id = k.contact_id
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
            "SELECT id, card FROM cards WHERE contact_id = ?1 AND deleted = 0
             ORDER BY received_at DESC, id",
        )?;
        let mut rows = stmt.query([contact_id])?;
        while let Some(r) = rows.next()? {
            let json: String = r.get(1)?;
            cards.push((r.get(0)?, serde_json::from_str(&json)?));
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
#[allow(clippy::too_many_arguments)]
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
    .execute(params![new_id(), contact_id, card_id, kind, code, place, at, origin])?;
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
    let json: String = r.get(10)?;
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
     (SELECT COUNT(*) FROM card_versions v WHERE v.card_id = k.id), k.card";

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
    conn.execute("UPDATE contacts SET note = ?2 WHERE id = ?1", params![id, note])?;
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
pub fn edit(conn: &Connection, card_id: &str, arrival: Arrival, region: Region) -> Result<Received> {
    let json = serde_json::to_string(&arrival.card)?;
    let hash = content_hash(&json);
    let held: String = conn.query_row("SELECT hash FROM cards WHERE id = ?1", [card_id], |r| r.get(0))?;
    if held == hash {
        return received(conn, Outcome::Unchanged, card_id, None);
    }
    add_version(conn, card_id, &arrival, &json, &hash, region)?;
    received(conn, Outcome::Updated, card_id, None)
}
