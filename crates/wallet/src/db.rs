//! Opening the wallet file: WAL, foreign-key-free plain tables, migrations by `user_version`.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, WalletError};

/// Plain, commented SQL, applied in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_trust_and_display.sql"),
    include_str!("../migrations/0003_search_log.sql"),
    include_str!("../migrations/0004_compact.sql"),
    include_str!("../migrations/0005_card_numbers.sql"),
    include_str!("../migrations/0006_link_key_hashes.sql"),
    include_str!("../migrations/0007_lean_cards.sql"),
];

pub fn open(path: &Path) -> Result<Connection> {
    create_private(path)?;
    let mut conn = Connection::open(path)?;
    // First, so that everything below waits for another process holding the file (the app and
    // a command line opening one wallet at the same moment) instead of failing.
    conn.pragma_update(None, "busy_timeout", 5000)?;
    // 8 KB pages for a new wallet (SQLite's default is 4 KB; an existing file keeps its own,
    // and this must come before WAL, which fixes it). A card's version is about half a KB, so a
    // 4 KB page left on average half a version's room empty at its end: a 10,000-card wallet
    // is 0.29 MB (2.3%) smaller with 8 KB pages. 16 KB pages made it larger again (their
    // indexes' pages less full).
    conn.pragma_update(None, "page_size", 8192)?;
    // WAL: readers never wait for the writer; NORMAL sync is durable across app crashes, which
    // is what a phone sees (a power cut loses at most the last transaction, never the file).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 32 MB of page cache (the default is 2 MB): a 10,000-card import would otherwise spill
    // and re-read pages mid-transaction. SQLite takes it only as it fills.
    conn.pragma_update(None, "cache_size", -32_000)?;
    // A large transaction (an import, an upgrade) grows the write-ahead log to its size; once
    // checkpointed, the log is cut back to this instead of keeping that space while the app
    // runs.
    conn.pragma_update(None, "journal_size_limit", 4 << 20)?;
    // Statement journals in memory. A write to a table with triggers (the search log's) keeps
    // the pages it changes in a statement journal, which SQLite moves to a temporary file once
    // it outgrows 64 KB and then writes there for every later statement: a fifth of a
    // 10,000-card import's writing thread went to those writes. Android's SQLite is built this
    // way. The journal holds one statement's pages; sorts too large for the cache also stay in
    // memory (the wallet's queries sort by index or a page of rows at a time).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Creates the wallet file readable by its user only before SQLite opens it: SQLite gives its
/// `-wal` and `-shm` files the same permissions as the database. The wallet holds the device's
/// cloud token and every card.
#[cfg(unix)]
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> Result<()> {
    Ok(())
}

/// Makes the wallet's files (including those made before this rule) readable by their user
/// only, and its directory too when the wallet created it (a directory the user chose, such as
/// the current one, keeps its permissions).
#[cfg(unix)]
pub fn restrict_to_owner(dir: &Path, created: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    if created {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(crate::DB_FILE) && entry.file_type()?.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn restrict_to_owner(_dir: &Path, _created: bool) -> Result<()> {
    Ok(())
}

/// Brings the schema up to date. Two processes may open a new wallet at the same moment: each
/// step reads the version under the write lock (an immediate transaction), so a migration runs
/// once and the other process finds it done.
fn migrate(conn: &mut Connection) -> Result<()> {
    let version = |c: &Connection| -> Result<usize> {
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    };
    let found = version(conn)?;
    if found > MIGRATIONS.len() {
        // Its tables have changed in ways this version cannot know: refuse rather than misread
        // or damage it.
        return Err(WalletError::Invalid(format!(
            "this wallet was written by a newer version of Mingpian (format {found}, this one \
             reads up to {}): update the app",
            MIGRATIONS.len()
        )));
    }
    if found == MIGRATIONS.len() {
        return Ok(());
    }
    // An upgrade can take seconds on a large wallet (compressing every card): another process
    // opening the wallet meanwhile waits for it instead of failing.
    conn.pragma_update(None, "busy_timeout", 120_000)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if version(&tx)? > i {
            continue;
        }
        tx.execute_batch(sql)?;
        if i + 1 == COMPACT_VERSION {
            compress_stored_cards(&tx)?;
        }
        if i + 1 == KEY_HASHES_VERSION {
            hash_link_keys(&tx)?;
        }
        if i + 1 == KEY_LISTS_VERSION {
            list_link_keys(&tx)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    // The space compression frees is reused by later writes. No VACUUM: it would hold the
    // file against the other process for as long as it copies it, and on a phone it needs a
    // temporary directory SQLite may not have.
    conn.pragma_update(None, "busy_timeout", 5000)?;
    Ok(())
}

/// The migration after which card versions are stored compressed.
const COMPACT_VERSION: usize = 4;
/// The migration after which link keys are stored as hashes.
const KEY_HASHES_VERSION: usize = 6;
/// The migration after which each card's row lists its link keys.
const KEY_LISTS_VERSION: usize = 7;

/// Lists each card's link keys in its row (`cards.link_keys`, which migration 7 made) from the
/// key table, inside the upgrade's transaction, then drops the key table's index by card: the
/// lists replace it.
fn list_link_keys(tx: &Connection) -> Result<()> {
    {
        let mut read =
            tx.prepare("SELECT card, key_hash FROM card_keys ORDER BY card, key_hash")?;
        let mut write = tx.prepare("UPDATE cards SET link_keys = ?2 WHERE n = ?1")?;
        let mut rows = read.query([])?;
        let mut current: Option<(i64, Vec<u8>)> = None;
        while let Some(r) = rows.next()? {
            let card: i64 = r.get(0)?;
            let hash: Vec<u8> = r.get(1)?;
            let hash = &hash[..crate::linking::KEY_LIST_BYTES.min(hash.len())];
            match &mut current {
                Some((n, list)) if *n == card => list.extend_from_slice(hash),
                _ => {
                    if let Some((n, list)) = current.take() {
                        write.execute(params![n, list])?;
                    }
                    current = Some((card, hash.to_vec()));
                }
            }
        }
        if let Some((n, list)) = current {
            write.execute(params![n, list])?;
        }
    }
    tx.execute_batch("DROP INDEX card_keys_card;")?;
    Ok(())
}

/// Moves the link keys into the table of hashed keys that migration 6 made (inside the
/// upgrade's transaction), and puts it in the old table's place.
fn hash_link_keys(tx: &Connection) -> Result<()> {
    {
        let mut read = tx.prepare("SELECT key, card FROM card_keys")?;
        let mut write =
            tx.prepare("INSERT OR IGNORE INTO card_keys_v6 (key_hash, card) VALUES (?1, ?2)")?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            // Keys are text (the column was `TEXT NOT NULL`); anything else was never a key any
            // lookup could find, and stays behind.
            let Ok(key) = r.get::<_, String>(0) else {
                continue;
            };
            let card: i64 = r.get(1)?;
            write.execute(params![&crate::keys::key_hash(&key)[..], card])?;
        }
    }
    tx.execute_batch(
        "DROP TABLE card_keys;
         ALTER TABLE card_keys_v6 RENAME TO card_keys;
         CREATE INDEX card_keys_card ON card_keys (card);",
    )?;
    Ok(())
}

/// Compresses the card versions an older wallet holds as JSON text, inside the upgrade's
/// transaction: the upgrade happens whole or not at all. The JSON is kept byte for byte.
fn compress_stored_cards(tx: &Connection) -> Result<()> {
    let mut select =
        tx.prepare("SELECT rowid, card FROM card_versions WHERE typeof(card) = 'text'")?;
    let mut update = tx.prepare("UPDATE card_versions SET card = ?2 WHERE rowid = ?1")?;
    let mut rows = select.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        // As bytes: a row that is not valid text is kept exactly as it was, not refused.
        let json = r.get_ref(1)?.as_bytes().map_err(rusqlite::Error::from)?;
        match crate::stored::encode_bytes_whole(json) {
            Ok(stored) => update.execute(params![rowid, stored])?,
            // Larger than a new card may be (an old import of a huge photo): kept as text,
            // which still reads, rather than failing the upgrade and with it the wallet.
            Err(WalletError::Invalid(_)) => continue,
            Err(e) => return Err(e),
        };
    }
    Ok(())
}

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub fn meta_delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of a two-column query.
    fn pairs<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
        conn: &Connection,
        sql: &str,
    ) -> Vec<(A, B)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// The app and a command line (or two commands) opening a new wallet at the same moment:
    /// every one of them opens it, and the schema is created once.
    #[test]
    fn many_processes_can_open_a_new_wallet_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wallet.db");
        let opened: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || open(&path).map(|_| ()))
            })
            .collect();
        for t in opened {
            let result = t.join().expect("thread");
            assert!(result.is_ok(), "{result:?}");
        }
        let conn = open(&path).expect("open");
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    /// The cards and card versions tables as versions 2 to 4 wrote them: no card number, and
    /// every version's sync id stored.
    const CARDS_BEFORE_NUMBERS: &str = "
        CREATE TABLE old_cards (
            id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, source TEXT NOT NULL, owner TEXT,
            set_no INTEGER, uid TEXT, full INTEGER NOT NULL DEFAULT 1, version INTEGER NOT NULL,
            hash TEXT NOT NULL, name_key TEXT NOT NULL, linked_by TEXT NOT NULL,
            received_at INTEGER NOT NULL, modified_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0, sync_version INTEGER NOT NULL DEFAULT 0,
            dirty INTEGER NOT NULL DEFAULT 1, trust TEXT NOT NULL DEFAULT 'verified');
        INSERT INTO old_cards SELECT id, contact_id, source, owner, set_no, uid, full, version,
            hash, name_key, linked_by, received_at, modified_at, deleted, sync_version, dirty,
            trust FROM cards ORDER BY n;
        CREATE TABLE old_versions (
            id TEXT PRIMARY KEY, card_id TEXT NOT NULL, seq INTEGER NOT NULL,
            version INTEGER NOT NULL, card TEXT NOT NULL, origin TEXT,
            received_at INTEGER NOT NULL, sync_version INTEGER NOT NULL DEFAULT 0,
            dirty INTEGER NOT NULL DEFAULT 1);
        INSERT INTO old_versions (rowid, id, card_id, seq, version, card, origin, received_at,
                                  sync_version, dirty)
            SELECT rowid, COALESCE(record_id, card_id || '.' || seq), card_id, seq, version,
                   card, origin, received_at, sync_version, dirty FROM card_versions;
        DROP TABLE card_versions;
        ALTER TABLE old_versions RENAME TO card_versions;
        CREATE UNIQUE INDEX card_versions_seq ON card_versions (card_id, seq);
        -- A version another client synced under an id of its own.
        UPDATE card_versions SET id = 'from-another-client'
            WHERE rowid = (SELECT MAX(rowid) FROM card_versions);";

    /// The rest of the cards table's old shape, once `card_keys` is rewritten from it.
    const CARDS_BEFORE_NUMBERS_END: &str = "
        DROP TABLE cards;
        ALTER TABLE old_cards RENAME TO cards;
        CREATE INDEX cards_contact ON cards (contact_id);
        CREATE INDEX cards_owner ON cards (owner, set_no) WHERE owner IS NOT NULL;
        CREATE INDEX cards_uid ON cards (uid) WHERE uid IS NOT NULL;
        CREATE INDEX cards_hash ON cards (hash);";

    /// A wallet from before compression (cards as JSON text, link keys with their contact) is
    /// upgraded on open: every contact and card reads exactly as before, each card's JSON is
    /// kept byte for byte but compressed, the space it took is free for reuse, and a card
    /// arriving later still links by phone number.
    #[test]
    fn an_older_wallet_is_upgraded_without_changing_what_it_holds() {
        upgrade_keeps_everything(3);
    }

    /// A wallet from before card numbers (link keys naming their card by its text id) is
    /// upgraded on open the same way.
    #[test]
    fn a_wallet_from_before_card_numbers_is_upgraded_without_changing_what_it_holds() {
        upgrade_keeps_everything(4);
    }

    /// A wallet from before link keys were hashes (their text stored) is upgraded on open the
    /// same way, every key hashed as a new wallet hashes it.
    #[test]
    fn a_wallet_from_before_key_hashes_is_upgraded_without_changing_what_it_holds() {
        upgrade_keeps_everything(5);
    }

    /// A wallet from before lean cards (content hashes as hex, no key lists in card rows, the
    /// shown card by id) is upgraded on open the same way.
    #[test]
    fn a_wallet_from_before_lean_cards_is_upgraded_without_changing_what_it_holds() {
        upgrade_keeps_everything(6);
    }

    /// Every card's row lists exactly the link keys the key table holds for it.
    fn assert_key_lists_match(conn: &Connection) {
        let mut listed: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut stmt = conn.prepare("SELECT n, link_keys FROM cards").unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let n: i64 = r.get(0).unwrap();
            let list: Vec<u8> = r.get(1).unwrap();
            let each = crate::linking::KEY_LIST_BYTES;
            assert_eq!(list.len() % each, 0);
            listed.extend(list.chunks(each).map(|k| (n, k.to_vec())));
        }
        listed.sort_unstable();
        let stored: Vec<(i64, Vec<u8>)> = pairs(
            conn,
            "SELECT card, substr(key_hash, 1, 8) FROM card_keys ORDER BY card, key_hash",
        );
        assert!(!stored.is_empty());
        assert_eq!(listed, stored, "each card lists the keys it has");
    }

    /// The link keys as text, as versions before 6 stored them: each live card's keys, worked
    /// out again from its current version. Checked against the hashed keys stored.
    fn keys_as_text(conn: &Connection, region: mingpian_card::Region) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let mut stmt = conn
            .prepare(
                "SELECT c.n, v.card FROM cards c JOIN card_versions v ON v.card_id = c.id \
                 AND v.seq = (SELECT MAX(seq) FROM card_versions w WHERE w.card_id = c.id) \
                 WHERE c.deleted = 0",
            )
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let card = crate::stored::decode(r.get_ref(1).unwrap()).unwrap();
            for key in crate::keys::link_keys(&card, region) {
                out.push((key, r.get(0).unwrap()));
            }
        }
        let mut numbered: Vec<(Vec<u8>, i64)> = out
            .iter()
            .map(|(k, n)| (crate::keys::key_hash(k).to_vec(), *n))
            .collect();
        numbered.sort_unstable();
        numbered.dedup();
        let stored: Vec<(Vec<u8>, i64)> = pairs(
            conn,
            "SELECT key_hash, card FROM card_keys ORDER BY key_hash, card",
        );
        assert_eq!(numbered, stored, "the stored hashes are of these keys");
        out
    }

    fn upgrade_keeps_everything(old_version: i64) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (before, region) = {
            let w = crate::Wallet::open(dir.path()).expect("open");
            let report = w
                .import_many(&every_test_file(), &mut |_| {})
                .expect("import");
            assert!(report.added > 1, "{report:?}");
            (
                w.contacts_with_cards().expect("contacts"),
                w.region().expect("region"),
            )
        };
        // Written back as the older version wrote it.
        let path = dir.path().join(crate::DB_FILE);
        let mut rows = Vec::new();
        let keys_before: i64;
        let numbered_before: Vec<(Vec<u8>, i64)>;
        let hashes_before: Vec<(i64, Vec<u8>)>;
        {
            let conn = Connection::open(&path).expect("open");
            assert_key_lists_match(&conn);
            hashes_before = pairs(&conn, "SELECT n, hash FROM cards ORDER BY n");
            assert!(hashes_before.iter().all(|(_, h)| h.len() == 12));
            // As version 6 wrote it: content hashes as the hex of 16 bytes (the upgrade keeps
            // the first 12), no key lists but an index by card, the shown card by id.
            conn.execute_batch(
                "UPDATE cards SET hash = lower(hex(hash)) || 'ffffffff';
                 ALTER TABLE cards DROP COLUMN link_keys;
                 CREATE INDEX card_keys_card ON card_keys (card);
                 ALTER TABLE contacts ADD COLUMN shown_card_id TEXT;
                 UPDATE contacts SET shown_card_id = (SELECT id FROM cards WHERE n = shown_card);
                 ALTER TABLE contacts DROP COLUMN shown_card;",
            )
            .unwrap();
            keys_before = conn
                .query_row("SELECT COUNT(*) FROM card_keys", [], |r| r.get(0))
                .unwrap();
            assert!(keys_before > 1);
            numbered_before = pairs(
                &conn,
                "SELECT key_hash, card FROM card_keys ORDER BY key_hash, card",
            );
        }
        if old_version <= 5 {
            let conn = Connection::open(&path).expect("open");
            // Keys as text, as versions 5 and before held them.
            let text = keys_as_text(&conn, region);
            conn.execute_batch(
                "CREATE TABLE text_keys (key TEXT NOT NULL, card INTEGER NOT NULL,
                                         PRIMARY KEY (key, card)) WITHOUT ROWID;",
            )
            .unwrap();
            for (key, card) in &text {
                conn.execute(
                    "INSERT OR IGNORE INTO text_keys (key, card) VALUES (?1, ?2)",
                    params![key, card],
                )
                .unwrap();
            }
            conn.execute_batch(
                "DROP TABLE card_keys;
                 ALTER TABLE text_keys RENAME TO card_keys;
                 CREATE INDEX card_keys_card ON card_keys (card);",
            )
            .unwrap();
        }
        if old_version >= 5 {
            let conn = Connection::open(&path).expect("open");
            conn.pragma_update(None, "user_version", old_version)
                .unwrap();
        }
        if old_version < 5 {
            let conn = Connection::open(&path).expect("open");
            {
                let mut stmt = conn
                    .prepare("SELECT rowid, card FROM card_versions")
                    .unwrap();
                let mut q = stmt.query([]).unwrap();
                while let Some(r) = q.next().unwrap() {
                    let json = crate::stored::json(r.get_ref(1).unwrap()).unwrap();
                    rows.push((r.get::<_, i64>(0).unwrap(), json));
                }
            }
            conn.execute_batch(CARDS_BEFORE_NUMBERS).unwrap();
            if old_version == 3 {
                for (rowid, json) in &rows {
                    conn.execute(
                        "UPDATE card_versions SET card = ?2 WHERE rowid = ?1",
                        params![rowid, json],
                    )
                    .unwrap();
                }
                conn.execute_batch(
                    "CREATE TABLE old_keys (key TEXT NOT NULL, card_id TEXT NOT NULL,
                                            contact_id TEXT NOT NULL);
                     INSERT INTO old_keys SELECT k.key, c.id, c.contact_id
                       FROM card_keys k JOIN cards c ON c.n = k.card;
                     DROP TABLE card_keys;
                     ALTER TABLE old_keys RENAME TO card_keys;
                     CREATE INDEX card_keys_key ON card_keys (key);
                     CREATE INDEX card_keys_card ON card_keys (card_id);",
                )
                .unwrap();
            } else {
                conn.execute_batch(
                    "CREATE TABLE old_keys (key TEXT NOT NULL, card_id TEXT NOT NULL,
                                            PRIMARY KEY (key, card_id)) WITHOUT ROWID;
                     INSERT INTO old_keys SELECT k.key, c.id
                       FROM card_keys k JOIN cards c ON c.n = k.card;
                     DROP TABLE card_keys;
                     ALTER TABLE old_keys RENAME TO card_keys;
                     CREATE INDEX card_keys_card ON card_keys (card_id);",
                )
                .unwrap();
            }
            conn.execute_batch(CARDS_BEFORE_NUMBERS_END).unwrap();
            conn.pragma_update(None, "user_version", old_version)
                .unwrap();
            conn.execute_batch("VACUUM").unwrap();
            let text: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM card_versions WHERE typeof(card) = 'text'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(text > 0, old_version == 3);
        }
        let w = crate::Wallet::open(dir.path()).expect("upgrade");
        {
            // Every key hashed as a new wallet hashes it, naming the same card.
            let conn = Connection::open(&path).expect("open");
            let numbered_after: Vec<(Vec<u8>, i64)> = pairs(
                &conn,
                "SELECT key_hash, card FROM card_keys ORDER BY key_hash, card",
            );
            assert_eq!(numbered_after, numbered_before);
            // Each card keeps its content hash, lists its keys, and needs no index by card.
            let hashes_after: Vec<(i64, Vec<u8>)> =
                pairs(&conn, "SELECT n, hash FROM cards ORDER BY n");
            assert_eq!(hashes_after, hashes_before);
            assert_key_lists_match(&conn);
            let by_card: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'card_keys_card'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(by_card, 0);
        }
        assert_eq!(w.contacts_with_cards().expect("contacts"), before);
        let conn = Connection::open(&path).expect("open");
        let (blobs, total): (i64, i64) = conn
            .query_row(
                "SELECT SUM(typeof(card) = 'blob'), COUNT(*) FROM card_versions",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(blobs, total);
        for (rowid, json) in &rows {
            let stored: rusqlite::types::Value = conn
                .query_row(
                    "SELECT card FROM card_versions WHERE rowid = ?1",
                    [rowid],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(&crate::stored::json((&stored).into()).unwrap(), json);
        }
        // Every version keeps its sync id: derived from its card and seq, or its own.
        let ids: Vec<(String, Option<String>)> = pairs(
            &conn,
            "SELECT card_id || '.' || seq, record_id FROM card_versions ORDER BY rowid",
        );
        let (last, others) = ids.split_last().unwrap();
        if old_version < 5 {
            assert_eq!(last.1.as_deref(), Some("from-another-client"));
        } else {
            assert!(last.1.is_none());
        }
        assert!(others.iter().all(|(_, own)| own.is_none()));
        // Every link key is kept, naming the same card as before.
        let keys_after: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM card_keys k JOIN cards c ON c.n = k.card",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(keys_after, keys_before);
        if old_version == 3 {
            let free: i64 = conn
                .pragma_query_value(None, "freelist_count", |r| r.get(0))
                .unwrap();
            assert!(free > 0, "the space the text took is free for reuse");
        }
        // Linking reads the new key table: a card with a held number joins its contact.
        let held = before
            .iter()
            .flat_map(|c| &c.cards)
            .flat_map(|k| &k.card.phones)
            .find(|p| p.value.chars().filter(char::is_ascii_digit).count() >= 8)
            .expect("a card with a phone number")
            .value
            .clone();
        let mut card = mingpian_card::Card {
            formatted_name: "Someone Else".into(),
            ..Default::default()
        };
        card.phones.push(mingpian_card::Phone {
            value: held,
            ..Default::default()
        });
        let received = w.add_card(card).expect("add");
        assert_eq!(received.outcome, crate::Outcome::Linked, "{received:?}");
    }

    /// A card stored before the size cap and larger than it (an old import of a huge photo)
    /// stays as text through the upgrade, still readable, and the wallet opens.
    #[test]
    fn an_oversized_old_card_is_kept_as_text_by_the_upgrade() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wallet.db");
        {
            let conn = Connection::open(&path).expect("open");
            for sql in &MIGRATIONS[..COMPACT_VERSION - 1] {
                conn.execute_batch(sql).expect("old schema");
            }
            let huge = serde_json::to_string(&mingpian_card::Card {
                note: Some("x".repeat(65 << 20)),
                ..Default::default()
            })
            .unwrap();
            conn.execute(
                "INSERT INTO card_versions (id, card_id, seq, version, card, received_at)
                 VALUES ('k.1', 'k', 1, 1, ?1, 0)",
                [&huge],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", (COMPACT_VERSION - 1) as i64)
                .unwrap();
        }
        let conn = open(&path).expect("the upgrade does not fail");
        let (kind, note_len): (String, i64) = conn
            .query_row(
                "SELECT typeof(card), length(card) FROM card_versions",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kind, "text");
        assert!(note_len > 65 << 20);
    }

    /// A wallet written by a newer version is refused, not misread.
    #[test]
    fn a_wallet_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wallet.db");
        drop(open(&path).expect("open"));
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
            .unwrap();
        let err = open(&path).expect_err("refused");
        assert!(err.to_string().contains("newer version"), "{err}");
    }

    /// Every real-world vCard file, pictures and broken cards included.
    fn every_test_file() -> Vec<(String, Vec<u8>)> {
        crate::util::test_vcard_files()
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).expect("read");
                (path.display().to_string(), bytes)
            })
            .collect()
    }
}
