-- Link keys name their card by a number, not its 32-character id: a key and its card number are
-- the row, and the card's keys are found by its number. Each card gets a stable number (its
-- INTEGER PRIMARY KEY, kept by VACUUM, unlike a plain rowid); its id stays the one sync uses.
CREATE TABLE cards_v5 (
    n            INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    contact_id   TEXT NOT NULL,
    source       TEXT NOT NULL,
    owner        TEXT,
    set_no       INTEGER,
    uid          TEXT,
    full         INTEGER NOT NULL DEFAULT 1,
    version      INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    linked_by    TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    sync_version INTEGER NOT NULL DEFAULT 0,
    dirty        INTEGER NOT NULL DEFAULT 1,
    trust        TEXT NOT NULL DEFAULT 'verified'
);
INSERT INTO cards_v5 (n, id, contact_id, source, owner, set_no, uid, full, version, hash,
                      name_key, linked_by, received_at, modified_at, deleted, sync_version,
                      dirty, trust)
SELECT rowid, id, contact_id, source, owner, set_no, uid, full, version, hash, name_key,
       linked_by, received_at, modified_at, deleted, sync_version, dirty, trust
FROM cards;

CREATE TABLE card_keys_v5 (
    key  TEXT NOT NULL,
    card INTEGER NOT NULL,   -- cards.n
    PRIMARY KEY (key, card)
) WITHOUT ROWID;
-- A key of a card that is not held named nothing any lookup could find (they join cards).
INSERT OR IGNORE INTO card_keys_v5 (key, card)
SELECT k.key, c.n FROM card_keys k JOIN cards_v5 c ON c.id = k.card_id;

DROP TABLE card_keys;
DROP TABLE cards;
ALTER TABLE cards_v5 RENAME TO cards;
ALTER TABLE card_keys_v5 RENAME TO card_keys;
CREATE INDEX cards_contact ON cards (contact_id);
CREATE INDEX cards_owner ON cards (owner, set_no) WHERE owner IS NOT NULL;
CREATE INDEX cards_uid ON cards (uid) WHERE uid IS NOT NULL;
CREATE INDEX cards_hash ON cards (hash);
CREATE INDEX card_keys_card ON card_keys (card);

-- A card version's sync id is `{card id}.{seq}` (what this app writes): derived, not stored, and
-- the version is found by its card and seq. Only a version another client synced under some
-- other id keeps that id.
CREATE TABLE card_versions_v5 (
    card_id      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    card         NOT NULL,            -- compressed JSON (a BLOB: see `stored.rs`), or old text
    origin       TEXT,
    received_at  INTEGER NOT NULL,
    sync_version INTEGER NOT NULL DEFAULT 0,
    dirty        INTEGER NOT NULL DEFAULT 1,
    record_id    TEXT,                -- the sync id when it is not `{card_id}.{seq}`
    UNIQUE (card_id, seq)
);
INSERT INTO card_versions_v5 (rowid, card_id, seq, version, card, origin, received_at,
                              sync_version, dirty, record_id)
SELECT rowid, card_id, seq, version, card, origin, received_at, sync_version, dirty,
       NULLIF(id, card_id || '.' || seq)
FROM card_versions;
DROP TABLE card_versions;
ALTER TABLE card_versions_v5 RENAME TO card_versions;
-- "Is this inbox item or exchange already held?" looks versions up by origin: only the versions
-- that came that way have one (an import has none), so the index is small.
CREATE INDEX card_versions_origin ON card_versions (origin) WHERE origin IS NOT NULL;
-- A version kept under a sync id of its own is found by it; no two versions share one.
CREATE UNIQUE INDEX card_versions_record ON card_versions (record_id) WHERE record_id IS NOT NULL;
