//! Backup, restore and sync between the user's devices (claim 7), over the cloud's record sync.
//!
//! Four record kinds leave the phone: `contact` (note, tags, when made, bin), `card` (which
//! contact, where from, which account set), `card_version` (one version of a card; never changes
//! once made) and `event` (a meeting or delivery). Each local row carries the cloud version it
//! last saw and a dirty flag. `sync` pushes dirty rows (the cloud settles conflicting edits by
//! the later change, the same way for every device), pulls everything changed since its cursor,
//! then asks for newer versions of the cards it holds from Mingpian accounts (living cards).
//! Restore is a pull from the beginning into an empty wallet.

use std::collections::BTreeSet;

use mingpian_card::api::{CardUpdatesRequest, HeldCard, RecordChange, SyncPush, SyncRecord};
use mingpian_card::{CardSetNo, PublicId, Region};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::display;
use crate::error::Result;
use crate::linking::{self, Arrival};
use crate::model::{Source, Trust};
use crate::stored;
use crate::util::content_hash;
use crate::{Wallet, db, keys};
use mingpian_card::wallet::records as record;
use rusqlite::types::Value;

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncReport {
    pub pushed: usize,
    /// Pushed changes that lost to a later change made on another device.
    pub overridden: usize,
    pub pulled: usize,
    /// Newer versions of held cards, given by their owners since.
    pub card_updates: usize,
    /// When this sync finished (Unix milliseconds).
    pub at: i64,
}

const PUSH_COUNT: usize = 500;
const PUSH_BYTES: usize = 12 * 1024 * 1024;

/// A pushed row: its table, id and the `modified_at` pushed (a row edited again meanwhile stays
/// dirty).
struct Pushed {
    kind: &'static str,
    id: String,
    modified_at: i64,
    /// A card version's row: versions are found by their card and seq, not their sync id.
    row: Option<i64>,
}

fn dirty_changes(c: &Connection) -> Result<Vec<(RecordChange, Pushed)>> {
    let mut out = Vec::new();
    let mut stmt = c.prepare(
        "SELECT id, note, tags, created_at, deleted_at, modified_at, sync_version,
                primary_card_id, own
         FROM contacts WHERE dirty = 1",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let tags: String = r.get(2)?;
        let own: Option<String> = r.get(8)?;
        let data = record::Contact {
            note: r.get(1)?,
            tags: serde_json::from_str(&tags)?,
            created_at: r.get(3)?,
            deleted_at: r.get(4)?,
            primary_card_id: r.get(7)?,
            own: own.map(|j| serde_json::from_str(&j)).transpose()?,
        };
        out.push(change(
            "contact",
            r.get(0)?,
            r.get(6)?,
            r.get(5)?,
            false,
            &data,
        )?);
    }
    let mut stmt = c.prepare(
        "SELECT id, contact_id, source, owner, set_no, uid, full, version, linked_by, received_at,
                deleted, modified_at, sync_version, trust
         FROM cards WHERE dirty = 1",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let data = record::Card {
            contact_id: r.get(1)?,
            source: r.get(2)?,
            owner: r.get(3)?,
            set_no: r.get(4)?,
            uid: r.get(5)?,
            full: r.get(6)?,
            version: r.get(7)?,
            linked_by: r.get(8)?,
            received_at: r.get(9)?,
            trust: Some(Trust::parse(&r.get::<_, String>(13)?)),
        };
        let deleted: bool = r.get(10)?;
        out.push(change(
            "card",
            r.get(0)?,
            r.get(12)?,
            r.get(11)?,
            deleted,
            &data,
        )?);
    }
    let mut stmt = c.prepare(
        "SELECT COALESCE(record_id, card_id || '.' || seq), card_id, seq, version, card, origin,
                received_at, sync_version, rowid
         FROM card_versions WHERE dirty = 1",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let data = record::CardVersion {
            card_id: r.get(1)?,
            seq: r.get(2)?,
            version: r.get(3)?,
            card: stored::decode(r.get_ref(4)?)?,
            origin: r.get(5)?,
            received_at: r.get(6)?,
        };
        let (change, mut pushed) = change(
            "card_version",
            r.get(0)?,
            r.get(7)?,
            r.get(6)?,
            false,
            &data,
        )?;
        pushed.row = Some(r.get(8)?);
        out.push((change, pushed));
    }
    let mut stmt = c.prepare(
        "SELECT id, contact_id, card_id, kind, code, place, at, origin, sync_version
         FROM events WHERE dirty = 1",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let data = record::Event {
            contact_id: r.get(1)?,
            card_id: r.get(2)?,
            kind: r.get(3)?,
            code: r.get(4)?,
            place: r.get(5)?,
            at: r.get(6)?,
            origin: r.get(7)?,
        };
        out.push(change(
            "event",
            r.get(0)?,
            r.get(8)?,
            r.get(6)?,
            false,
            &data,
        )?);
    }
    Ok(out)
}

fn change(
    kind: &'static str,
    id: String,
    base_version: i64,
    modified_at: i64,
    deleted: bool,
    data: &impl Serialize,
) -> Result<(RecordChange, Pushed)> {
    Ok((
        RecordChange {
            kind: kind.to_owned(),
            id: id.clone(),
            base_version,
            modified_at,
            deleted,
            data: serde_json::to_value(data)?,
        },
        Pushed {
            kind,
            id,
            modified_at,
            row: None,
        },
    ))
}

fn table(kind: &str) -> Option<&'static str> {
    match kind {
        "contact" => Some("contacts"),
        "card" => Some("cards"),
        "card_version" => Some("card_versions"),
        "event" => Some("events"),
        _ => None,
    }
}

/// Marks a pushed row clean at the cloud's version, unless it changed again meanwhile.
fn mark_pushed(c: &Connection, pushed: &Pushed, version: i64) -> Result<()> {
    let sql = match pushed.kind {
        "contact" => {
            "UPDATE contacts SET sync_version = ?2, dirty = 0 WHERE id = ?1 AND modified_at = ?3"
        }
        "card" => {
            "UPDATE cards SET sync_version = ?2, dirty = 0 WHERE id = ?1 AND modified_at = ?3"
        }
        "card_version" => {
            c.prepare_cached(
                "UPDATE card_versions SET sync_version = ?2, dirty = 0 WHERE rowid = ?1",
            )?
            .execute(params![pushed.row, version])?;
            return Ok(());
        }
        _ => "UPDATE events SET sync_version = ?2, dirty = 0 WHERE id = ?1 AND ?3 = ?3",
    };
    c.prepare_cached(sql)?
        .execute(params![pushed.id, version, pushed.modified_at])?;
    Ok(())
}

/// The sync id of a card's version `seq`, as this app writes it.
fn version_id(card_id: &str, seq: i64) -> String {
    format!("{card_id}.{seq}")
}

/// A time the record left out (0, as older apps wrote it) is the record's own.
fn or_modified(at: i64, r: &SyncRecord) -> i64 {
    if at == 0 { r.modified_at } else { at }
}

/// Applies a record from the cloud, noting the cards and contacts whose derived columns need
/// recomputing. `false`: not taken in (a kind or data this app cannot read).
fn apply(c: &Connection, r: &SyncRecord, touched: &mut Touched) -> Result<bool> {
    match r.kind.as_str() {
        "contact" => apply_contact(c, r, touched),
        "card" => apply_card(c, r, touched),
        "card_version" => apply_card_version(c, r, touched),
        "event" => apply_event(c, r, touched),
        // A kind written by a newer app: kept in the cloud, ignored here.
        _ => Ok(false),
    }
}

/// A record's data, or `None` when it does not read as its kind (written by a newer or a broken
/// client): like a kind this app does not know, it stays in the cloud and is not taken in, so
/// one such record never stops every later sync on every device.
fn readable<T: serde::de::DeserializeOwned>(r: &SyncRecord) -> Option<T> {
    T::deserialize(&r.data).ok()
}

/// A contact: the user's note, tags, chosen card and own edit (its name and keys are derived).
fn apply_contact(c: &Connection, r: &SyncRecord, touched: &mut Touched) -> Result<bool> {
    let Some(d) = readable::<record::Contact>(r) else {
        return Ok(false);
    };
    c.prepare_cached(
        "INSERT INTO contacts (id, name, sort_key, search, note, tags, created_at,
                               modified_at, deleted_at, primary_card_id, own,
                               sync_version, dirty)
         VALUES (?1, '', '', '', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)
         ON CONFLICT (id) DO UPDATE SET note = excluded.note, tags = excluded.tags,
            modified_at = excluded.modified_at, deleted_at = excluded.deleted_at,
            primary_card_id = excluded.primary_card_id, own = excluded.own,
            sync_version = excluded.sync_version, dirty = 0",
    )?
    .execute(params![
        r.id,
        d.note,
        serde_json::to_string(&d.tags)?,
        or_modified(d.created_at, r),
        r.modified_at,
        if r.deleted {
            Some(r.modified_at)
        } else {
            d.deleted_at
        },
        d.primary_card_id,
        d.own
            .filter(|o| !o.is_empty())
            .map(|o| serde_json::to_string(&o))
            .transpose()?,
        r.version
    ])?;
    touched.contacts.insert(r.id.clone());
    Ok(true)
}

/// A card's place in the wallet (its content is in its versions).
fn apply_card(c: &Connection, r: &SyncRecord, touched: &mut Touched) -> Result<bool> {
    let Some(d) = readable::<record::Card>(r) else {
        return Ok(false);
    };
    let old_contact: Option<String> = c
        .query_row(
            "SELECT contact_id FROM cards WHERE id = ?1",
            [&r.id],
            |row| row.get(0),
        )
        .optional()?;
    let trust = d
        .trust
        .unwrap_or_else(|| crate::model::trust_of(Source::parse(&d.source)));
    c.prepare_cached(
        "INSERT INTO cards (id, contact_id, source, owner, set_no, uid, full, version,
                            hash, name_key, linked_by, received_at, modified_at,
                            deleted, trust, sync_version, dirty)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, X'', '', ?9, ?10, ?11, ?12, ?13, ?14, 0)
         ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id,
            source = excluded.source, owner = excluded.owner, set_no = excluded.set_no,
            full = excluded.full, linked_by = excluded.linked_by,
            modified_at = excluded.modified_at, deleted = excluded.deleted,
            trust = excluded.trust, sync_version = excluded.sync_version, dirty = 0",
    )?
    .execute(params![
        r.id,
        d.contact_id,
        d.source,
        d.owner,
        d.set_no,
        d.uid,
        d.full,
        d.version,
        d.linked_by,
        or_modified(d.received_at, r),
        r.modified_at,
        r.deleted,
        trust.as_str(),
        r.version
    ])?;
    if let Some(old) = old_contact {
        touched.contacts.insert(old);
    }
    touched.contacts.insert(d.contact_id);
    touched.cards.insert(r.id.clone());
    Ok(true)
}

/// The most versions one card may have: a sync record past it is not a version this app made
/// (and `MAX(seq) + 1` must stay an integer).
const MAX_SEQ: i64 = 1_000_000_000;

/// The card and seq a card-version record names (as its JSON's defaults read them).
fn version_place(data: &serde_json::Value) -> (&str, i64) {
    (
        data.get("card_id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default(),
        data.get("seq")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(1),
    )
}

/// A version's sync id as stored: `None` when it is the one derived from its card and seq.
fn own_record_id<'a>(id: &'a str, card_id: &str, seq: i64) -> Option<&'a str> {
    (id != version_id(card_id, seq)).then_some(id)
}

/// The row holding the card version whose sync id is `id` (naming `card_id`, `seq`), with its
/// `sync_version` and `dirty`: one stored under that id, or one at that place whose id is
/// derived from it.
fn find_version(
    c: &Connection,
    id: &str,
    card_id: &str,
    seq: i64,
) -> Result<Option<(i64, i64, bool)>> {
    let row = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
    let stored = c
        .prepare_cached(
            "SELECT rowid, sync_version, dirty FROM card_versions WHERE record_id = ?1",
        )?
        .query_row([id], row)
        .optional()?;
    if stored.is_some() || own_record_id(id, card_id, seq).is_some() {
        return Ok(stored);
    }
    Ok(c.prepare_cached(
        "SELECT rowid, sync_version, dirty FROM card_versions
         WHERE card_id = ?1 AND seq = ?2 AND record_id IS NULL",
    )?
    .query_row(params![card_id, seq], row)
    .optional()?)
}

/// One version of a card's content. A version is never replaced by another record: a record
/// whose card and seq are held under another sync id is kept as the card's next version (under
/// its own id), so neither is lost whichever a device pulled first.
fn apply_card_version(c: &Connection, r: &SyncRecord, touched: &mut Touched) -> Result<bool> {
    let Some(d) = readable::<record::CardVersion>(r) else {
        return Ok(false);
    };
    if d.card_id.is_empty() || !(1..=MAX_SEQ).contains(&d.seq) {
        // Not a version this app wrote: kept in the cloud, not taken in.
        return Ok(false);
    }
    let stored = stored::encode(&serde_json::to_string(&d.card)?)?;
    if let Some((rowid, _, _)) = find_version(c, &r.id, &d.card_id, d.seq)? {
        let (ours, place, held_card): (Value, i64, String) = c
            .prepare_cached("SELECT card, seq, card_id FROM card_versions WHERE rowid = ?1")?
            .query_row([rowid], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        if held_card != d.card_id {
            // A version belongs to one card for good: the same record naming another card
            // now is not taken in (the version held stays where it is).
            return Ok(false);
        }
        if stored::decode_value(&ours)? == d.card {
            // The same version again (its content is what we hold): now clean at the
            // cloud's version. Its stored bytes stay as they are.
            c.prepare_cached(
                "UPDATE card_versions SET sync_version = ?2, dirty = 0 WHERE rowid = ?1",
            )?
            .execute(params![rowid, r.version])?;
            return Ok(true);
        }
        // A version never changes once made: another content under its id means another
        // device of the account made its own version `seq` at the same time (and the cloud
        // kept one of the two). Ours becomes the card's next version, pushed as a new record,
        // and the cloud's takes its place: neither is lost, on either device.
        let Some(next) = next_seq(c, &d.card_id)? else {
            return Ok(false);
        };
        c.prepare_cached(
            "UPDATE card_versions SET seq = ?2, record_id = NULL, sync_version = 0, dirty = 1
             WHERE rowid = ?1",
        )?
        .execute(params![rowid, next])?;
        // Theirs where the record was held (its own place, or where it was kept before).
        let record_id = own_record_id(&r.id, &d.card_id, place);
        insert_version_record(c, r, &d, place, record_id, &stored)?;
    } else {
        let taken: bool = c
            .prepare_cached(
                "SELECT COUNT(*) > 0 FROM card_versions WHERE card_id = ?1 AND seq = ?2",
            )?
            .query_row(params![d.card_id, d.seq], |row| row.get(0))?;
        let (seq, record_id) = if taken {
            let Some(next) = next_seq(c, &d.card_id)? else {
                return Ok(false);
            };
            (next, Some(r.id.as_str()))
        } else {
            (d.seq, own_record_id(&r.id, &d.card_id, d.seq))
        };
        insert_version_record(c, r, &d, seq, record_id, &stored)?;
    }
    touched.cards.insert(d.card_id);
    Ok(true)
}

/// After the cloud refused a pushed card version and its record was applied: a version of
/// ours still unsent under the refused id (the cloud's record did not resolve to it: it names
/// another card or seq) becomes the card's next version, so it is pushed as a record of its own
/// instead of being refused under that id at every sync.
fn keep_unsent_version(c: &Connection, pushed: &Pushed, touched: &mut Touched) -> Result<()> {
    let Some(row) = pushed.row else {
        return Ok(());
    };
    let unsent: Option<String> = c
        .prepare_cached(
            "SELECT card_id FROM card_versions WHERE rowid = ?1 AND dirty = 1
               AND COALESCE(record_id, card_id || '.' || seq) = ?2",
        )?
        .query_row(params![row, pushed.id], |r| r.get(0))
        .optional()?;
    let Some(card_id) = unsent else {
        return Ok(());
    };
    if let Some(next) = next_seq(c, &card_id)? {
        c.prepare_cached(
            "UPDATE card_versions SET seq = ?2, record_id = NULL, sync_version = 0 WHERE rowid = ?1",
        )?
        .execute(params![row, next])?;
        touched.cards.insert(card_id);
    }
    Ok(())
}

/// The seq a card's next version takes; `None` past [`MAX_SEQ`].
fn next_seq(c: &Connection, card_id: &str) -> Result<Option<i64>> {
    let next = linking::next_seq(c, card_id)?;
    Ok((next <= MAX_SEQ).then_some(next))
}

/// Stores the cloud's card-version record `r` (`d`) at `seq`, clean.
fn insert_version_record(
    c: &Connection,
    r: &SyncRecord,
    d: &record::CardVersion,
    seq: i64,
    record_id: Option<&str>,
    stored: &[u8],
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO card_versions (record_id, card_id, seq, version, card, origin,
                                    received_at, sync_version, dirty)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)",
    )?
    .execute(params![
        record_id,
        d.card_id,
        seq,
        d.version,
        stored,
        d.origin,
        or_modified(d.received_at, r),
        r.version
    ])?;
    Ok(())
}

/// A meeting: when and where the user and a contact exchanged cards.
fn apply_event(c: &Connection, r: &SyncRecord, touched: &mut Touched) -> Result<bool> {
    let Some(d) = readable::<record::Event>(r) else {
        return Ok(false);
    };
    c.prepare_cached(
        "INSERT INTO events (id, contact_id, card_id, kind, code, place, at, origin,
                             sync_version, dirty)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)
         ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id,
            sync_version = excluded.sync_version, dirty = 0",
    )?
    .execute(params![
        r.id,
        d.contact_id,
        d.card_id,
        d.kind,
        d.code,
        d.place,
        or_modified(d.at, r),
        d.origin,
        r.version
    ])?;
    touched.contacts.insert(d.contact_id);
    Ok(true)
}

#[derive(Debug, Default)]
struct Touched {
    cards: BTreeSet<String>,
    contacts: BTreeSet<String>,
}

/// Recomputes what pulled records change: each touched card's current version, then each
/// touched contact's name, search text and link keys.
fn settle(c: &Connection, touched: Touched, region: Region) -> Result<()> {
    let mut contacts_to_refresh = touched.contacts;
    for card_id in &touched.cards {
        let latest: Option<Value> = c
            .query_row(
                "SELECT card FROM card_versions WHERE card_id = ?1
                 ORDER BY seq DESC LIMIT 1",
                [card_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(stored) = latest else { continue };
        let json = stored::json((&stored).into())?;
        let card: mingpian_card::Card = serde_json::from_str(&json)?;
        let n = c.execute(
            "UPDATE cards SET hash = ?2, name_key = ?3, uid = COALESCE(uid, ?4)
             WHERE id = ?1",
            params![
                card_id,
                &content_hash(&json)[..],
                keys::name_key(&card),
                card.uid
            ],
        )?;
        if n > 0 {
            let contact: String = c.query_row(
                "SELECT contact_id FROM cards WHERE id = ?1",
                [card_id],
                |r| r.get(0),
            )?;
            contacts_to_refresh.insert(contact);
        }
    }
    for contact in contacts_to_refresh {
        let exists: bool = c
            .query_row("SELECT 1 FROM contacts WHERE id = ?1", [&contact], |_| {
                Ok(())
            })
            .optional()?
            .is_some();
        if exists {
            display::refresh_contact(c, &contact, region)?;
        }
    }
    Ok(())
}

impl Wallet {
    /// Pushes local changes, pulls the other devices' changes, fetches newer versions of held
    /// cards, and pushes what those changed, so that a restore right after sees all of it.
    pub async fn sync(&self) -> Result<SyncReport> {
        let cloud = self.cloud()?;
        let mut report = SyncReport::default();
        self.push(&cloud, &mut report).await?;
        self.pull(&cloud, &mut report).await?;
        report.card_updates = self.fetch_card_updates(&cloud).await?;
        // What the pull and the card updates made here (newer cards; a version of ours kept
        // beside one another device made at the same time) goes up now, not at the next sync.
        // Nothing to send costs one local query.
        self.push(&cloud, &mut report).await?;
        report.at = crate::util::now_ms();
        self.write(|c, _| db::meta_set(c, "last_sync", &report.at.to_string()))?;
        Ok(report)
    }

    /// Pushes every dirty row, in batches bounded by count and size.
    async fn push(&self, cloud: &crate::Cloud, report: &mut SyncReport) -> Result<()> {
        let changes = self.read(dirty_changes)?;
        let mut batch: Vec<(RecordChange, Pushed)> = Vec::new();
        let mut bytes = 0;
        let mut batches = Vec::new();
        for (change, pushed) in changes {
            let size = change.data.to_string().len() + 200;
            if !batch.is_empty() && (batch.len() >= PUSH_COUNT || bytes + size > PUSH_BYTES) {
                batches.push(std::mem::take(&mut batch));
                bytes = 0;
            }
            bytes += size;
            batch.push((change, pushed));
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        for batch in batches {
            let (changes, pushed): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let result = cloud.sync_push(&SyncPush { changes }).await?;
            self.write(|c, region| {
                let mut touched = Touched::default();
                for (outcome, pushed) in result.results.iter().zip(&pushed) {
                    report.pushed += 1;
                    if outcome.accepted {
                        mark_pushed(c, pushed, outcome.record.version)?;
                    } else {
                        report.overridden += 1;
                        // The cloud's record won; one this app cannot read is left there.
                        apply(c, &outcome.record, &mut touched)?;
                        keep_unsent_version(c, pushed, &mut touched)?;
                    }
                }
                settle(c, touched, region)
            })?;
        }

        Ok(())
    }

    /// Pulls every record changed after the sync cursor.
    async fn pull(&self, cloud: &crate::Cloud, report: &mut SyncReport) -> Result<()> {
        loop {
            let after = self.read(|c| {
                Ok(db::meta_get(c, "sync_cursor")?
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0))
            })?;
            let page = cloud.sync_pull(after).await?;
            self.write(|c, region| {
                let mut touched = Touched::default();
                for record in &page.records {
                    let Some(table) = table(&record.kind) else {
                        continue;
                    };
                    let local: Option<(i64, bool)> = if table == "card_versions" {
                        // Found by its sync id: stored, or derived from its card and seq.
                        let (card_id, seq) = version_place(&record.data);
                        find_version(c, &record.id, card_id, seq)?
                            .map(|(_, seen, dirty)| (seen, dirty))
                    } else {
                        c.prepare_cached(&format!(
                            "SELECT sync_version, dirty FROM {table} WHERE id = ?1"
                        ))?
                        .query_row([&record.id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?
                    };
                    match local {
                        // Our own change coming back, or one we already have.
                        Some((seen, _)) if seen >= record.version => continue,
                        // Changed here since: the next push settles it with the cloud.
                        Some((_, true)) => continue,
                        _ => {}
                    }
                    if apply(c, record, &mut touched)? {
                        report.pulled += 1;
                    }
                }
                settle(c, touched, region)?;
                db::meta_set(c, "sync_cursor", &page.next_cursor.to_string())
            })?;
            if !page.more || page.next_cursor <= after {
                break;
            }
        }
        Ok(())
    }

    /// When the last sync finished (Unix milliseconds).
    pub fn last_sync(&self) -> Result<Option<i64>> {
        self.read(|c| Ok(db::meta_get(c, "last_sync")?.and_then(|s| s.parse().ok())))
    }

    /// Living cards: asks the cloud for newer versions of every card held from an account.
    async fn fetch_card_updates(&self, cloud: &crate::Cloud) -> Result<usize> {
        let held: Vec<HeldCard> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT owner, set_no, MAX(version) FROM cards
                 WHERE owner IS NOT NULL AND set_no IS NOT NULL AND deleted = 0
                 GROUP BY owner, set_no",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (owner, set, version) = row?;
                if let (Ok(owner), Ok(set_no)) = (PublicId::parse(&owner), CardSetNo::new(set)) {
                    out.push(HeldCard {
                        owner,
                        set_no,
                        version,
                    });
                }
            }
            Ok(out)
        })?;
        let mut updated = 0;
        for chunk in held.chunks(500) {
            let updates = cloud
                .card_updates(&CardUpdatesRequest {
                    held: chunk.to_vec(),
                })
                .await?;
            self.write(|c, region| {
                for u in updates {
                    let owner = u.owner.as_str().to_owned();
                    let origin = format!("update:{owner}:{}:{}", u.set_no.get(), u.version);
                    let r = linking::receive(
                        c,
                        Arrival {
                            card: u.card,
                            source: Source::Exchange,
                            owner: Some(owner),
                            set_no: Some(u.set_no.get()),
                            version: u.version,
                            full: u.full,
                            origin: Some(origin),
                            received_at: crate::util::now_ms(),
                        },
                        region,
                    )?;
                    if r.outcome == crate::Outcome::Updated {
                        updated += 1;
                    }
                }
                Ok(())
            })?;
        }
        Ok(updated)
    }

    /// Restores the wallet from the cloud (after logging in on a new phone): every record from
    /// the beginning, the user's card sets, and the inbox (cards already restored are not
    /// stored twice).
    pub async fn restore(&self) -> Result<SyncReport> {
        self.write(|c, _| db::meta_delete(c, "sync_cursor"))?;
        let report = self.sync().await?;
        self.refresh_sets().await?;
        self.pull_inbox().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version_record(id: &str, card_id: &str, seq: i64, name: &str) -> SyncRecord {
        SyncRecord {
            kind: "card_version".into(),
            id: id.into(),
            version: 100,
            modified_at: 1,
            device: "another phone".into(),
            deleted: false,
            data: serde_json::json!({
                "card_id": card_id,
                "seq": seq,
                "version": 1,
                "card": {"formatted_name": name},
                "received_at": 1,
            }),
        }
    }

    fn new_wallet() -> (tempfile::TempDir, Wallet) {
        let dir = tempfile::tempdir().unwrap();
        let w = Wallet::open(dir.path()).unwrap();
        (dir, w)
    }

    /// A card typed in, as its first version (made here, not yet pushed).
    fn add(w: &Wallet, name: &str) -> crate::Received {
        w.add_card(mingpian_card::Card {
            formatted_name: name.into(),
            ..Default::default()
        })
        .unwrap()
    }

    fn stored(c: &Connection, card_id: &str) -> Vec<(i64, String, Option<String>)> {
        c.prepare("SELECT seq, card, record_id FROM card_versions WHERE card_id = ?1 ORDER BY seq")
            .unwrap()
            .query_map([card_id], |r| {
                let json = stored::json(r.get_ref(1)?).unwrap();
                Ok((r.get(0)?, json, r.get(2)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// A version is never replaced: a record claiming a held card and seq under another sync id
    /// is kept as the card's next version under its own id, in whichever order a device pulls
    /// them; other content under a held version's own id (made at the same time on another
    /// device) keeps both; a seq no version of this app has, or data that does not read, is not
    /// taken in; the same record again changes nothing.
    #[test]
    fn a_pulled_version_never_replaces_another() {
        let (_dir, w) = new_wallet();
        let held = add(&w, "Held Card");
        let card_id = held.card_id;
        let names = |c: &Connection| -> Vec<(i64, String, Option<String>)> {
            stored(c, &card_id)
                .into_iter()
                .map(|(seq, json, id)| {
                    let card: mingpian_card::Card = serde_json::from_str(&json).unwrap();
                    (seq, card.formatted_name, id)
                })
                .collect()
        };
        let theirs = |id: &str| Some(id.to_owned());
        w.write(|c, _| {
            // Pushed: the cloud holds it (a version still to push is the next test's case).
            c.execute("UPDATE card_versions SET dirty = 0, sync_version = 1", [])?;
            let before = stored(c, &card_id);
            assert_eq!(before.len(), 1);
            assert_eq!(
                before[0].2, None,
                "this app's own id is derived, not stored"
            );
            let mut touched = Touched::default();
            let mut unreadable = version_record("x.1", &card_id, 1, "Unreadable");
            unreadable.data["seq"] = serde_json::json!("one");
            let mut broken_contact = version_record(&held.contact_id, "", 1, "");
            broken_contact.kind = "contact".into();
            broken_contact.data = serde_json::json!({"tags": 5, "note": ["not", "text"]});
            for hostile in [
                version_record("x.huge", &card_id, i64::MAX, "Huge"),
                version_record("x.zero", &card_id, 0, "Zero"),
                version_record("x.none", "", 1, "Nobody"),
                // Data that does not read as its kind: left in the cloud, and the sync goes on.
                unreadable,
                broken_contact,
            ] {
                let taken = apply(c, &hostile, &mut touched).unwrap();
                assert!(!taken, "{hostile:?}");
            }
            assert_eq!(stored(c, &card_id), before);
            let nobody: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM card_versions WHERE card_id = ''",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(nobody, 0);
            // Another id claiming version 1: kept as version 2, version 1 untouched.
            let claim = version_record("someone-else", &card_id, 1, "Claimed");
            assert!(apply(c, &claim, &mut touched).unwrap());
            assert_eq!(
                names(c),
                [
                    (1, "Held Card".into(), None),
                    (2, "Claimed".into(), theirs("someone-else"))
                ]
            );
            // The same record again changes nothing; other content under its id is another
            // version made at the same time: both are kept (ours as the next version, to push).
            assert!(apply(c, &claim, &mut touched).unwrap());
            assert_eq!(stored(c, &card_id).len(), 2);
            let claim = version_record("someone-else", &card_id, 1, "Claimed again");
            assert!(apply(c, &claim, &mut touched).unwrap());
            // This app's own version 2 from another device, its place taken: kept as version
            // 3 under its id, and found again by it.
            for name in ["Ours", "Ours again"] {
                let ours = version_record(&version_id(&card_id, 2), &card_id, 2, name);
                assert!(apply(c, &ours, &mut touched).unwrap());
            }
            // Version 1 made again on another device with other content: both kept.
            let same = version_record(&version_id(&card_id, 1), &card_id, 1, "Held, again");
            assert!(apply(c, &same, &mut touched).unwrap());
            // A free place under another client's id keeps that id.
            let free = version_record("theirs-9", &card_id, 9, "Ninth");
            assert!(apply(c, &free, &mut touched).unwrap());
            assert_eq!(
                names(c),
                [
                    (1, "Held, again".into(), None),
                    (2, "Claimed again".into(), theirs("someone-else")),
                    (3, "Claimed".into(), None),
                    (4, "Ours again".into(), Some(version_id(&card_id, 2))),
                    (5, "Ours".into(), None),
                    (6, "Held Card".into(), None),
                    (9, "Ninth".into(), theirs("theirs-9")),
                ]
            );
            // Versions kept under their card and seq are pushed as records of their own.
            let dirty: Vec<i64> = c
                .prepare("SELECT seq FROM card_versions WHERE dirty = 1 ORDER BY seq")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            assert_eq!(dirty, [3, 5, 6]);
            Ok(())
        })
        .unwrap();
        // The card reads its newest version.
        assert_eq!(w.card(&card_id).unwrap().card.formatted_name, "Ninth");
    }

    /// Two devices of one account each made version 1 of a card: the push of ours lost to
    /// theirs. Ours becomes version 2, to be pushed as a new record, and theirs takes version
    /// 1: neither is lost. Had both made the same content, ours is simply the cloud's.
    #[test]
    fn a_version_made_here_survives_losing_its_push() {
        let (_dir, w) = new_wallet();
        let mine = add(&w, "Made Here");
        let same = add(&w, "Made On Both");
        w.write(|c, _| {
            let dirty = |card_id: &str| -> Vec<(i64, bool, i64)> {
                c.prepare("SELECT seq, dirty, sync_version FROM card_versions WHERE card_id = ?1 ORDER BY seq")
                    .unwrap()
                    .query_map([card_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap()
            };
            assert_eq!(dirty(&mine.card_id), [(1, true, 0)]);
            let mut touched = Touched::default();
            // The cloud's answer to our rejected push: the other device's version 1.
            let theirs = version_record(&version_id(&mine.card_id, 1), &mine.card_id, 1, "Made There");
            assert!(apply(c, &theirs, &mut touched).unwrap());
            let names: Vec<String> = stored(c, &mine.card_id)
                .into_iter()
                .map(|(_, json, _)| serde_json::from_str::<mingpian_card::Card>(&json).unwrap().formatted_name)
                .collect();
            assert_eq!(names, ["Made There", "Made Here"]);
            assert_eq!(dirty(&mine.card_id), [(1, false, 100), (2, true, 0)]);
            // The same content from the other device: ours is the cloud's, nothing moves.
            let held = stored(c, &same.card_id);
            let mut record = version_record(&version_id(&same.card_id, 1), &same.card_id, 1, "");
            record.data["card"] = serde_json::from_str(&held[0].1).unwrap();
            assert!(apply(c, &record, &mut touched).unwrap());
            assert_eq!(stored(c, &same.card_id), held);
            assert_eq!(dirty(&same.card_id), [(1, false, 100)]);
            Ok(())
        })
        .unwrap();
        // Ours is the card's newest version, and the next push sends it as a new record.
        assert_eq!(
            w.card(&mine.card_id).unwrap().card.formatted_name,
            "Made Here"
        );
        let pending = w.read(dirty_changes).unwrap();
        assert!(
            pending
                .iter()
                .any(|(change, _)| change.kind == "card_version"
                    && change.id == version_id(&mine.card_id, 2)
                    && change.base_version == 0),
            "ours is pushed as version 2"
        );
    }

    /// A version belongs to one card for good, and a version of ours refused under an id whose
    /// winning record is another version is kept and sent as a record of its own.
    #[test]
    fn a_refused_version_is_sent_again_and_records_never_change_card() {
        let (_dir, w) = new_wallet();
        let x = add(&w, "Card X");
        let y = add(&w, "Card Y");
        w.write(|c, _| {
            let mut touched = Touched::default();
            // A record stored as Y's version 2, then the same record naming X: not taken in.
            assert!(apply(c, &version_record("r-1", &y.card_id, 2, "R"), &mut touched).unwrap());
            let held = (stored(c, &x.card_id), stored(c, &y.card_id));
            assert!(
                !apply(
                    c,
                    &version_record("r-1", &x.card_id, 1, "R moved"),
                    &mut touched
                )
                .unwrap()
            );
            assert_eq!((stored(c, &x.card_id), stored(c, &y.card_id)), held);
            // Our unsent X.1 was refused; the cloud's record `X.1` names X's version 5.
            let row: i64 = c.query_row(
                "SELECT rowid FROM card_versions WHERE card_id = ?1 AND seq = 1",
                [&x.card_id],
                |r| r.get(0),
            )?;
            let pushed = Pushed {
                kind: "card_version",
                id: version_id(&x.card_id, 1),
                modified_at: 0,
                row: Some(row),
            };
            let winner = version_record(&version_id(&x.card_id, 1), &x.card_id, 5, "Theirs");
            assert!(apply(c, &winner, &mut touched).unwrap());
            keep_unsent_version(c, &pushed, &mut touched)?;
            let (seq, dirty, own): (i64, bool, Option<String>) = c.query_row(
                "SELECT seq, dirty, record_id FROM card_versions WHERE rowid = ?1",
                [row],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            assert_eq!((seq, dirty, own), (6, true, None), "ours, to send as X.6");
            // Applied again, nothing moves twice.
            keep_unsent_version(c, &pushed, &mut touched)?;
            let again: i64 = c.query_row(
                "SELECT seq FROM card_versions WHERE rowid = ?1",
                [row],
                |r| r.get(0),
            )?;
            assert_eq!(again, 6);
            Ok(())
        })
        .unwrap();
    }
}
