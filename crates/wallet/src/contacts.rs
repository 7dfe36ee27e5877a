//! Contacts and the cards they hold: storing an arriving card (linking it by phone number, then
//! email: claim 8), versions, notes, tags, history, unlinking and deleting with undo.
//!
//! Terms: a *card* is one card someone gave (one of their sets, one imported vCard); a *contact*
//! is the person, holding one or more cards. Linking never merges cards: two cards of one person
//! stay two cards in one contact, and either can be unlinked into a contact of its own.
//!
//! Nothing the wallet held is hidden by what arrives later:
//! - a printed code's view of a card never replaces the whole card a live code gave (a newer
//!   printed version updates only the fields it shows);
//! - what a contact shows follows one rule, stored and visible ([`ShownBy`]): the user's own
//!   edit, then the card the user chose as primary, then the newest full card of the set met
//!   most often. Arrival order plays no part.
//! - an unverified card (sent from the web page by someone without an account) never decides
//!   what its contact shows, and never draws other cards to its contact.

use mingpian_card::{Card, Region};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Result, WalletError};
use crate::model::{
    CardVersion, Contact, ContactDetail, ContactEdit, Event, Outcome, Received, ShownBy, Source,
    StoredCard, Trust,
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
        let held: Option<(String, String, i64, bool)> = conn
            .prepare_cached(
                "SELECT id, hash, version, full FROM cards
                 WHERE owner = ?1 AND set_no = ?2 AND deleted = 0 LIMIT 1",
            )?
            .query_row(params![owner, set_no], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
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
                    let current = current_card(conn, &card_id)?;
                    let merged = Arrival {
                        card: current.overlay_printed(&arrival.card),
                        full: held_full,
                        ..arrival.clone()
                    };
                    store_version(conn, &card_id, &merged, region)?
                }
            } else {
                add_version(conn, &card_id, &arrival, &p.json, &p.hash, region)?;
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
            .query_row([&p.hash], |r| r.get(0))
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
        let outcome = store_version(conn, &card_id, &arrival, region)?;
        return received(conn, outcome, &card_id, None);
    }
    let link = linked_contact(conn, &p.keys)?;
    store_new_card(conn, arrival, p, link, region)
}

/// A verified card from no account (imported, typed in, a vCard code) that is a copy of the
/// arriving card: the same name, and nothing the arriving card lacks (every number and email
/// of the copy is on it, and the same company and title where the copy has them). A card that
/// merely shares an email with another set of the same person is not a copy.
fn copy_of(conn: &Connection, card: &Card, p: &Prepared, region: Region) -> Result<Option<String>> {
    for key in &p.keys {
        let candidates: Vec<String> = conn
            .prepare_cached(
                "SELECT c.id FROM card_keys k JOIN cards c ON c.id = k.card_id
                 JOIN contacts o ON o.id = c.contact_id AND o.deleted_at IS NULL
                 WHERE k.key = ?1 AND c.owner IS NULL AND c.deleted = 0
                   AND c.trust = 'verified' AND c.name_key = ?2",
            )?
            .query_map(params![key, p.name_key], |r| r.get(0))?
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
    let keys = text::link_keys(card, region);
    text::link_keys(other, region)
        .iter()
        .all(|k| keys.contains(k))
        && (other.org.is_none() || other.org == card.org)
        && (other.title.is_none() || other.title == card.title)
}

/// The contact a card with these link keys belongs to: the first verified card holding one of
/// them. Unverified cards never draw others to their contact.
fn linked_contact(conn: &Connection, keys: &[String]) -> Result<Option<(String, &'static str)>> {
    for key in keys {
        let contact: Option<String> = conn
            .prepare_cached(
                "SELECT k.contact_id FROM card_keys k
                 JOIN contacts c ON c.id = k.contact_id AND c.deleted_at IS NULL
                 JOIN cards d ON d.id = k.card_id AND d.trust = 'verified'
                 WHERE k.key = ?1 LIMIT 1",
            )?
            .query_row([key], |r| r.get(0))
            .optional()?;
        if let Some(contact) = contact {
            return Ok(Some((contact, link_reason(key))));
        }
    }
    Ok(None)
}

/// A card's current version.
fn current_card(conn: &Connection, card_id: &str) -> Result<Card> {
    let json: String = conn
        .prepare_cached(
            "SELECT card FROM card_versions WHERE card_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([card_id], |r| r.get(0))?;
    Ok(serde_json::from_str(&json)?)
}

/// Stores `arrival` as the card's new version unless it is what the card already holds.
fn store_version(
    conn: &Connection,
    card_id: &str,
    arrival: &Arrival,
    region: Region,
) -> Result<Outcome> {
    let json = serde_json::to_string(&arrival.card)?;
    let hash = content_hash(&json);
    let held: String = conn
        .prepare_cached("SELECT hash FROM cards WHERE id = ?1")?
        .query_row([card_id], |r| r.get(0))?;
    if held == hash {
        return Ok(Outcome::Unchanged);
    }
    add_version(conn, card_id, arrival, &json, &hash, region)?;
    Ok(Outcome::Updated)
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
            let card_id = new_id();
            let card = &arrival.card;
            let phones: Vec<&str> = dedup(card.phones.iter().map(|x| x.value.as_str()));
            let emails: Vec<&str> = dedup(card.emails.iter().map(|x| x.value.as_str()));
            conn.prepare_cached(
                "INSERT INTO contacts (id, name, sort_key, search, org, title, phones, emails,
                                       created_at, modified_at, shown_card_id, shown_by)
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
                card_id
            ])?;
            insert_card_as(conn, &card_id, &contact_id, "new", &arrival, &p)?;
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
/// unchanged. A card held from an account is its owner's to change: an import only adds what it
/// lacks. Anything else arrives as a new card (linked by phone or email as usual), so two
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
    // Found by UID, the file's card is a version of the held one; found by name and number, it
    // may be another card of the same person, which adds to the held one and replaces nothing.
    let by_uid = target.is_some();
    let mut link = None;
    if target.is_none() {
        for key in &p.keys {
            let mut stmt = conn.prepare_cached(
                "SELECT k.card_id, k.contact_id, c.name_key, c.source, c.deleted,
                        o.deleted_at IS NOT NULL
                 FROM card_keys k JOIN cards c ON c.id = k.card_id AND c.trust = 'verified'
                 JOIN contacts o ON o.id = k.contact_id
                 WHERE k.key = ?1",
            )?;
            let mut rows = stmt.query([key])?;
            while let Some(r) = rows.next()? {
                let (card_deleted, contact_deleted): (bool, bool) = (r.get(4)?, r.get(5)?);
                if card_deleted || contact_deleted {
                    continue;
                }
                // The same name on a card with the same number or email is the same card (a
                // card an account gives only gains what the file adds; see below).
                let same_person = r.get_ref(2)?.as_str().unwrap_or_default() == p.name_key;
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
                return store_new_card(conn, arrival, p, link, region);
            }
            if by_uid {
                add_version(conn, &card_id, &arrival, &p.json, &p.hash, region)?;
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
            let outcome = store_version(conn, &card_id, &filled, region)?;
            received(conn, outcome, &card_id, None)
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
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cards (id, contact_id, source, owner, set_no, uid, full, version, hash,
                            name_key, linked_by, received_at, modified_at, trust)
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
        p.hash,
        p.name_key,
        linked_by,
        a.received_at,
        now_ms(),
        Trust::of(a.source).as_str()
    ])?;
    insert_version(conn, id, 1, a, &p.json)
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

/// One live card of a contact, as the display rule weighs it.
struct Candidate {
    id: String,
    card: Card,
    full: bool,
    verified: bool,
    /// Meetings and deliveries of this card: how much its set is used.
    uses: i64,
    /// When the wallet first held it (its first version).
    received_at: i64,
}

/// The card a contact shows when the user has not chosen one: among its verified cards (all of
/// them when none is verified), the full card of the set met most often; on a tie the one held
/// longest, so a newly arrived card never takes over by arriving.
fn rule_card(cards: &[Candidate]) -> Option<&Candidate> {
    let any_verified = cards.iter().any(|c| c.verified);
    cards
        .iter()
        .filter(|c| c.verified || !any_verified)
        .max_by(|a, b| {
            (
                a.full,
                a.uses,
                std::cmp::Reverse(a.received_at),
                std::cmp::Reverse(&a.id),
            )
                .cmp(&(
                    b.full,
                    b.uses,
                    std::cmp::Reverse(b.received_at),
                    std::cmp::Reverse(&b.id),
                ))
        })
}

fn push_unique(list: &mut Vec<String>, values: impl IntoIterator<Item = String>) {
    for v in values {
        if !v.trim().is_empty() && !list.contains(&v) {
            list.push(v);
        }
    }
}

/// Recomputes what a contact shows and is found by from its live cards (by the display rule,
/// see the module docs), and its cards' link keys.
pub fn refresh_contact(conn: &Connection, contact_id: &str, region: Region) -> Result<()> {
    let mut cards: Vec<Candidate> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT k.id, (SELECT card FROM card_versions v WHERE v.card_id = k.id
                          ORDER BY v.seq DESC LIMIT 1),
                    k.full, k.trust,
                    (SELECT MIN(v.received_at) FROM card_versions v WHERE v.card_id = k.id),
                    (SELECT COUNT(*) FROM events e WHERE e.card_id = k.id)
             FROM cards k WHERE k.contact_id = ?1 AND k.deleted = 0
             ORDER BY k.received_at, k.id",
        )?;
        let mut rows = stmt.query([contact_id])?;
        while let Some(r) = rows.next()? {
            let json: Option<String> = r.get(1)?;
            let trust: String = r.get(3)?;
            cards.push(Candidate {
                id: r.get(0)?,
                card: serde_json::from_str(json.as_deref().unwrap_or("{}"))?,
                full: r.get(2)?,
                verified: Trust::parse(&trust) == Trust::Verified,
                received_at: r.get::<_, Option<i64>>(4)?.unwrap_or(i64::MAX),
                uses: r.get(5)?,
            });
        }
    }
    let (tags, own, primary): (String, Option<String>, Option<String>) = conn
        .prepare_cached("SELECT tags, own, primary_card_id FROM contacts WHERE id = ?1")?
        .query_row([contact_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| WalletError::NotFound(format!("contact {contact_id}")))?;
    let tags: Vec<String> = serde_json::from_str(&tags)?;
    let own: ContactEdit = match own {
        Some(json) => serde_json::from_str(&json)?,
        None => ContactEdit::default(),
    };
    let primary = primary.and_then(|id| cards.iter().find(|c| c.id == id));
    let shown = primary.or_else(|| rule_card(&cards));
    let shown_by = if own.name.is_some() {
        ShownBy::Own
    } else if primary.is_some() {
        ShownBy::Primary
    } else {
        ShownBy::Rule
    };
    // What may be shown: the shown card first, then the other verified cards (all cards when
    // none is verified). An unverified card's numbers are never offered beside verified ones.
    let any_verified = cards.iter().any(|c| c.verified);
    let mut pool: Vec<&Candidate> = shown.into_iter().collect();
    pool.extend(cards.iter().filter(|c| {
        (c.verified || !any_verified) && Some(c.id.as_str()) != shown.map(|s| s.id.as_str())
    }));
    let name = own
        .name
        .clone()
        .or_else(|| shown.map(|c| c.card.display_name()))
        .unwrap_or_default();
    let org = own
        .org
        .clone()
        .or_else(|| pool.iter().find_map(|c| c.card.org.clone()));
    let title = own
        .title
        .clone()
        .or_else(|| pool.iter().find_map(|c| c.card.title.clone()));
    let mut phones: Vec<String> = Vec::new();
    let mut emails: Vec<String> = Vec::new();
    if let Some(own_phones) = &own.phones {
        push_unique(&mut phones, own_phones.iter().cloned());
    }
    if let Some(own_emails) = &own.emails {
        push_unique(&mut emails, own_emails.iter().cloned());
    }
    for c in &pool {
        if own.phones.is_none() {
            push_unique(&mut phones, c.card.phones.iter().map(|p| p.value.clone()));
        }
        if own.emails.is_none() {
            push_unique(&mut emails, c.card.emails.iter().map(|e| e.value.clone()));
        }
    }
    let own_card = (!own.is_empty()).then(|| own.as_card());
    let search = text::search_text(
        cards.iter().map(|c| &c.card).chain(own_card.as_ref()),
        &tags,
        region,
    );
    conn.prepare_cached(
        "UPDATE contacts SET name = ?2, sort_key = ?3, search = ?4, org = ?5, title = ?6,
                phones = ?7, emails = ?8, shown_card_id = ?9, shown_by = ?10
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
        serde_json::to_string(&emails)?,
        shown.map(|c| c.id.as_str()),
        shown_by.as_str()
    ])?;
    for c in &cards {
        conn.prepare_cached("DELETE FROM card_keys WHERE card_id = ?1")?
            .execute([&c.id])?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO card_keys (key, card_id, contact_id) VALUES (?1, ?2, ?3)",
        )?;
        for key in text::link_keys(&c.card, region) {
            insert.execute(params![key, c.id, contact_id])?;
        }
    }
    Ok(())
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
     c.shown_by, c.shown_card_id, c.primary_card_id, c.own, \
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
            trust: Trust::parse(&r.get::<_, String>(11)?),
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
     (SELECT card FROM card_versions v WHERE v.card_id = k.id ORDER BY v.seq DESC LIMIT 1), \
     k.trust";

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
