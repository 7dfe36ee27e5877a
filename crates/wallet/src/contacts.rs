//! Contacts and the cards they hold, as the user works with them: listing, versions, notes, tags,
//! history, the user's own edits and choice of card, accepting an unverified card, unlinking and
//! deleting with undo. Arriving cards are stored by [`crate::linking`]; what a contact shows is
//! derived by [`crate::display`].
//!
//! Terms: a *card* is one card someone gave (one of their sets, one imported vCard); a *contact*
//! is the person, holding one or more cards. Linking never merges cards: two cards of one person
//! stay two cards in one contact, and either can be unlinked into a contact of its own.

use mingpian_card::{Card, Region};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::display::refresh_contact;
use crate::error::{Result, WalletError};
use crate::keys;
use crate::linking::{Arrival, add_version, received};
use crate::model::{
    CardVersion, Contact, ContactDetail, ContactEdit, Event, EventKind, LinkedBy, Outcome,
    Received, ShownBy, Source, StoredCard, Trust,
};
use crate::stored;
use crate::util::{content_hash, new_id, now_ms};
use rusqlite::types::Value;

fn new_contact(conn: &Connection, at: i64) -> Result<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO contacts (id, name, sort_key, search, created_at, modified_at)
         VALUES (?1, '', '', '', ?2, ?2)",
    )?
    .execute(params![id, at])?;
    Ok(id)
}

/// The user accepts an unverified card (a web reply): from now on it counts like any other.
pub fn accept(conn: &Connection, card_id: &str, region: Region) -> Result<()> {
    let held = card(conn, card_id)?;
    conn.execute(
        "UPDATE cards SET trust = 'verified', modified_at = ?2, dirty = 1 WHERE id = ?1",
        params![card_id, now_ms()],
    )?;
    refresh_contact(conn, &held.contact_id, region)
}

/// The user chooses which card a contact shows (`None`: back to the rule).
pub fn set_primary(
    conn: &Connection,
    contact_id: &str,
    card_id: Option<&str>,
    region: Region,
) -> Result<()> {
    get(conn, contact_id)?;
    if let Some(card_id) = card_id {
        let held = card(conn, card_id)?;
        if held.contact_id != contact_id {
            return Err(WalletError::Invalid(
                "that card belongs to another contact".into(),
            ));
        }
        if held.trust == Trust::Unverified {
            // Choosing it to show is accepting it.
            accept(conn, card_id, region)?;
        }
    }
    conn.execute(
        "UPDATE contacts SET primary_card_id = ?2 WHERE id = ?1",
        params![contact_id, card_id],
    )?;
    touch_contact(conn, contact_id)?;
    refresh_contact(conn, contact_id, region)
}

/// The user's own edit of a contact (an empty edit removes it): shown over the cards, never
/// overwritten by an arriving card. The cards stay as their owners gave them.
pub fn edit_contact(
    conn: &Connection,
    contact_id: &str,
    edit: &ContactEdit,
    region: Region,
) -> Result<()> {
    get(conn, contact_id)?;
    let clean = edit.cleaned();
    let json = if clean.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&clean)?)
    };
    conn.execute(
        "UPDATE contacts SET own = ?2 WHERE id = ?1",
        params![contact_id, json],
    )?;
    touch_contact(conn, contact_id)?;
    refresh_contact(conn, contact_id, region)
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
     (SELECT COUNT(*) FROM cards k WHERE k.contact_id = c.id AND k.deleted = 0), \
     c.shown_by, (SELECT k.id FROM cards k WHERE k.n = c.shown_card), c.primary_card_id, c.own, \
     NOT EXISTS (SELECT 1 FROM cards k WHERE k.contact_id = c.id AND k.deleted = 0 \
                 AND k.trust = 'verified')";

fn contact_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    let json = |i: usize| -> rusqlite::Result<Vec<String>> {
        let s: String = r.get(i)?;
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let sort_key: String = r.get(2)?;
    let shown_by: String = r.get(12)?;
    let own: Option<String> = r.get(15)?;
    let own = own
        .map(|json| serde_json::from_str::<ContactEdit>(&json))
        .transpose()
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(15, rusqlite::types::Type::Text, Box::new(e))
        })?;
    Ok(Contact {
        id: r.get(0)?,
        name: r.get(1)?,
        section: keys::section(&sort_key),
        org: r.get(3)?,
        title: r.get(4)?,
        phones: json(5)?,
        emails: json(6)?,
        tags: json(7)?,
        note: r.get(8)?,
        created_at: r.get(9)?,
        modified_at: r.get(10)?,
        card_count: r.get(11)?,
        shown_by: ShownBy::parse(&shown_by),
        shown_card_id: r.get(13)?,
        primary_card_id: r.get(14)?,
        own,
        unverified: r.get(16)?,
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

fn card_row(r: &Row<'_>) -> rusqlite::Result<(StoredCard, Value)> {
    let source: String = r.get(2)?;
    // Null: no version yet (a card row synced ahead of its first version).
    let stored: Value = r.get(10)?;
    Ok((
        StoredCard {
            id: r.get(0)?,
            contact_id: r.get(1)?,
            source: Source::parse(&source),
            owner: r.get(3)?,
            set_no: r.get(4)?,
            version: r.get(5)?,
            full: r.get(6)?,
            trust: Trust::parse(&r.get::<_, String>(11)?),
            linked_by: LinkedBy::parse(&r.get::<_, String>(7)?),
            received_at: r.get(8)?,
            versions: r.get(9)?,
            card: Card::default(),
        },
        stored,
    ))
}

const CARD_COLUMNS: &str = "k.id, k.contact_id, k.source, k.owner, k.set_no, k.version, k.full, \
     k.linked_by, k.received_at, \
     (SELECT COUNT(*) FROM card_versions v WHERE v.card_id = k.id), \
     (SELECT card FROM card_versions v WHERE v.card_id = k.id ORDER BY v.seq DESC LIMIT 1), \
     k.trust";

pub fn cards_of(conn: &Connection, contact_id: &str) -> Result<Vec<StoredCard>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM cards k WHERE k.contact_id = ?1 AND k.deleted = 0
         ORDER BY k.received_at DESC, k.n DESC"
    ))?;
    let rows = stmt.query_map([contact_id], card_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut card, stored) = row?;
        card.card = stored::decode_value(&stored)?;
        out.push(card);
    }
    Ok(out)
}

pub fn card(conn: &Connection, card_id: &str) -> Result<StoredCard> {
    let (mut card, stored) = conn
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM cards k WHERE k.id = ?1 AND k.deleted = 0"
        ))?
        .query_row([card_id], card_row)
        .optional()?
        .ok_or_else(|| WalletError::NotFound(format!("card {card_id}")))?;
    card.card = stored::decode_value(&stored)?;
    Ok(card)
}

pub fn versions(conn: &Connection, card_id: &str) -> Result<Vec<CardVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, version, received_at, card FROM card_versions WHERE card_id = ?1
         ORDER BY seq DESC",
    )?;
    let rows = stmt.query_map([card_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Value>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, version, received_at, stored) = row?;
        out.push(CardVersion {
            seq,
            version,
            received_at,
            card: stored::decode_value(&stored)?,
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
            kind: EventKind::parse(&r.get::<_, String>(2)?),
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
    let held = conn.query_row("SELECT hash FROM cards WHERE id = ?1", [card_id], |r| {
        Ok(crate::util::stored_hash(r.get_ref(0)?))
    })?;
    if held == hash {
        return received(conn, Outcome::Unchanged, card_id, None);
    }
    add_version(
        conn,
        card_id,
        &arrival,
        &stored::encode(&json)?,
        &hash,
        region,
        None,
    )?;
    received(conn, Outcome::Updated, card_id, None)
}
