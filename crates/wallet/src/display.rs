//! What a contact shows: its name, company, title, numbers and emails, derived from its cards by
//! one rule the user can see and change ([`mingpian_card::wallet::shown`]): the user's own edit first, then the card
//! they chose as primary, then the newest full card of the set met most often. Arrival order
//! plays no part, and an unverified card never decides what a contact shows.

use mingpian_card::Region;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, WalletError};
use crate::keys;
use crate::model::{ContactEdit, Trust};
use crate::stored;
use mingpian_card::wallet::{Candidate, shown};

/// Recomputes what a contact shows and is found by from its live cards (by the display rule,
/// see the module docs), and its cards' link keys.
pub fn refresh_contact(conn: &Connection, contact_id: &str, region: Region) -> Result<()> {
    let mut cards: Vec<Candidate> = Vec::new();
    // Each card's number (`cards.n`), which its link keys name, and the keys its row lists.
    // Cards in the order they came, by time, then by number: the cards of one import share a
    // time, and their numbers keep the file's order (an id made on another device may sort
    // anywhere).
    let mut numbers: Vec<(i64, Vec<u8>)> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT k.id, (SELECT card FROM card_versions v WHERE v.card_id = k.id
                          ORDER BY v.seq DESC LIMIT 1),
                    k.full, k.trust,
                    (SELECT MIN(v.received_at) FROM card_versions v WHERE v.card_id = k.id),
                    (SELECT COUNT(*) FROM events e WHERE e.card_id = k.id), k.n, k.link_keys
             FROM cards k WHERE k.contact_id = ?1 AND k.deleted = 0
             ORDER BY k.received_at, k.n",
        )?;
        let mut rows = stmt.query([contact_id])?;
        while let Some(r) = rows.next()? {
            let trust: String = r.get(3)?;
            cards.push(Candidate {
                id: r.get(0)?,
                card: stored::decode_value(&r.get(1)?)?,
                full: r.get(2)?,
                verified: Trust::parse(&trust) == Trust::Verified,
                received_at: r.get::<_, Option<i64>>(4)?.unwrap_or(i64::MAX),
                uses: r.get(5)?,
            });
            numbers.push((r.get(6)?, r.get(7)?));
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
    let shown = shown(&cards, &own, primary.as_deref());
    let (name, org, title, phones, emails) = (
        shown.name,
        shown.org,
        shown.title,
        shown.phones,
        shown.emails,
    );
    let shown_card = shown.card.map(|i| numbers[i].0);
    let own_card = (!own.is_empty()).then(|| own.as_card());
    let search = keys::search_text(
        cards.iter().map(|c| &c.card).chain(own_card.as_ref()),
        &tags,
        region,
        &keys::row_search_text(&name, org.as_deref(), title.as_deref()),
    );
    conn.prepare_cached(
        "UPDATE contacts SET name = ?2, sort_key = ?3, search = ?4, org = ?5, title = ?6,
                phones = ?7, emails = ?8, shown_card = ?9, shown_by = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        contact_id,
        name,
        keys::sort_key(&name),
        search,
        org,
        title,
        serde_json::to_string(&phones)?,
        serde_json::to_string(&emails)?,
        shown_card,
        shown.by.as_str()
    ])?;
    for (c, (n, listed)) in cards.iter().zip(&numbers) {
        crate::linking::replace_link_keys(conn, *n, listed, &keys::link_keys(&c.card, region))?;
    }
    Ok(())
}
