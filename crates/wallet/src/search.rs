//! Instant search over contacts: substring matching on the stored search text (names, pinyin
//! and initials, company, title, phone digits, emails, tags).
//!
//! Why not SQLite FTS5: its trigram tokenizer matches nothing shorter than three characters, and
//! most Chinese names are two or three. Why not `LIKE`: it reads every row through SQLite's VM.
//! Instead the search texts of all contacts sit in one buffer, in list order, and a SIMD
//! substring search (`memchr::memmem`) runs over it: 100,000 contacts are ~10 MB, scanned in
//! about a millisecond, and results come out already in list order. The index is built once and
//! then catches up from `search_log` (filled by triggers on `contacts`): a search after an edit
//! updates that contact's entry; a write that touches no contact changes nothing.

use memchr::memmem;
use rusqlite::{Connection, OptionalExtension as _};

use crate::error::Result;
use crate::keys::{normalize_query, push_row_search_text};

/// Separates contacts in the buffer; never appears in a search text.
const ENTRY_SEP: u8 = 0;

/// The columns a contact's entry is made of, in this order ([`entry`]).
const ENTRY_COLUMNS: &str = "sort_key, id, name, org, title, search";

/// A contact's entry from its row: what the row holds (name, company, title) in front of the
/// rest of its search text, as stored ([`crate::keys::search_text`]).
fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let text = |i: usize| -> rusqlite::Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    let stored = text(5)?.unwrap_or_default();
    let (name, org, title) = (text(2)?.unwrap_or_default(), text(3)?, text(4)?);
    let mut search = String::with_capacity(
        name.len() + org.map_or(0, str::len) * 2 + title.map_or(0, str::len) + stored.len() + 8,
    );
    push_row_search_text(&mut search, name, org, title);
    search.push_str(stored);
    Ok(Entry {
        sort_key: r.get(0)?,
        id: r.get(1)?,
        search,
    })
}

/// One contact as search sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// List order: (sort key, id), as `ORDER BY sort_key, id` sorts (bytewise).
    sort_key: String,
    id: String,
    search: String,
}

#[derive(Debug, Default, Clone)]
pub struct SearchIndex {
    /// In list order.
    entries: Vec<Entry>,
    text: Vec<u8>,
    /// Start of each entry's text in `text`, ascending.
    starts: Vec<usize>,
    /// The last `search_log` row this index includes.
    seq: i64,
}

/// Past this many logged changes, rebuilding reads less than catching up.
const CATCH_UP_MAX: i64 = 2_000;
/// The log keeps at least this many rows; past twice as many, older rows are pruned.
const LOG_KEEP: i64 = 10_000;

fn log_bounds(conn: &Connection) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM search_log",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Drops old log rows (after a write): an index that had not read them rebuilds.
pub fn prune_log(conn: &Connection) -> Result<()> {
    let (min, max) = log_bounds(conn)?;
    if max - min > 2 * LOG_KEEP {
        conn.execute("DELETE FROM search_log WHERE seq <= ?1", [max - LOG_KEEP])?;
    }
    Ok(())
}

/// The newest `search_log` row: where a bulk write (an import) starts.
pub fn log_position(conn: &Connection) -> Result<i64> {
    Ok(log_bounds(conn)?.1)
}

/// During a bulk write that started at log position `started`: once it has logged more changes
/// than an index catches up on, every index from before it rebuilds anyway, so its rows are
/// dropped as it goes, all but the newest (which keeps the position). The pages they took are
/// reused by the rest of the write: a 10,000-contact import no longer leaves a log row per
/// contact in the file.
pub fn trim_bulk_log(conn: &Connection, started: i64) -> Result<()> {
    let (_, max) = log_bounds(conn)?;
    if max - started > CATCH_UP_MAX {
        conn.prepare_cached("DELETE FROM search_log WHERE seq < ?1")?
            .execute([max])?;
    }
    Ok(())
}

impl SearchIndex {
    pub fn build(conn: &Connection) -> Result<SearchIndex> {
        // The log position first: a change made while the contacts are read is applied again
        // on the next catch-up, which reads the contact as it then is.
        let (_, seq) = log_bounds(conn)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM contacts WHERE deleted_at IS NULL ORDER BY sort_key, id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut entries = Vec::new();
        while let Some(r) = rows.next()? {
            entries.push(entry(r)?);
        }
        let mut index = SearchIndex {
            entries,
            seq,
            ..SearchIndex::default()
        };
        index.lay_out();
        Ok(index)
    }

    /// Whether changes were logged since this index was built or last caught up.
    pub fn is_behind(&self, conn: &Connection) -> Result<bool> {
        Ok(log_bounds(conn)?.1 != self.seq)
    }

    /// Brings the index up to the log: the logged contacts' entries are read again, or the whole
    /// index is rebuilt when that is cheaper or the rows it needs were pruned.
    pub fn catch_up(&mut self, conn: &Connection) -> Result<()> {
        let (min, max) = log_bounds(conn)?;
        if max == self.seq {
            return Ok(());
        }
        if max - self.seq > CATCH_UP_MAX || min > self.seq + 1 || max < self.seq {
            *self = SearchIndex::build(conn)?;
            return Ok(());
        }
        let mut changed: Vec<String> = conn
            .prepare_cached("SELECT DISTINCT id FROM search_log WHERE seq > ?1 AND seq <= ?2")?
            .query_map([self.seq, max], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        changed.sort();
        self.entries
            .retain(|e| changed.binary_search(&e.id).is_err());
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM contacts WHERE id = ?1 AND deleted_at IS NULL"
        ))?;
        let mut fresh = Vec::new();
        for id in &changed {
            let found = stmt.query_row([id], entry).optional()?;
            fresh.extend(found);
        }
        // Two sorted runs merged in one pass (the sort finds the runs), not one insert each.
        fresh.sort();
        self.entries.extend(fresh);
        self.entries.sort();
        self.seq = max;
        self.lay_out();
        Ok(())
    }

    /// The search buffer from the entries.
    fn lay_out(&mut self) {
        self.text.clear();
        self.starts.clear();
        for e in &self.entries {
            self.starts.push(self.text.len());
            self.text.extend_from_slice(e.search.as_bytes());
            self.text.push(ENTRY_SEP);
        }
    }

    /// Ids of contacts matching the query, in list order, at most `limit`, and how many match in
    /// all.
    pub fn search(&self, query: &str, limit: usize) -> (Vec<String>, usize) {
        let needle = normalize_query(query);
        if needle.is_empty() {
            let ids = self
                .entries
                .iter()
                .take(limit)
                .map(|e| e.id.clone())
                .collect();
            return (ids, self.entries.len());
        }
        // Pinyin is stored run together ("chenyan" for 陈燕), names as written too ("robert
        // williams"): a query of several words finds what either form finds.
        let compact: String = needle.split(' ').collect();
        let mut hits = self.hits(&needle);
        if compact != needle {
            hits.extend(self.hits(&compact));
            hits.sort_unstable();
            hits.dedup();
        }
        let out = hits
            .iter()
            .take(limit)
            .map(|&entry| self.entries[entry].id.clone())
            .collect();
        (out, hits.len())
    }

    /// The entries whose text holds `needle`, in list order, each once.
    fn hits(&self, needle: &str) -> Vec<usize> {
        let finder = memmem::Finder::new(needle.as_bytes());
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some(found) = finder.find(&self.text[pos..]) {
            let at = pos + found;
            // The entry holding the hit: the last start at or before it.
            let entry = self.starts.partition_point(|&s| s <= at) - 1;
            out.push(entry);
            // One hit per contact: go on from the next contact's text.
            pos = self
                .starts
                .get(entry + 1)
                .copied()
                .unwrap_or(self.text.len());
            if pos >= self.text.len() {
                break;
            }
        }
        out
    }
}
