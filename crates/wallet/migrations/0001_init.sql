-- The phone's wallet. Every table that syncs carries `sync_version` (the cloud's version of the
-- record this device last saw; 0: never pushed) and `dirty` (changed here since the last push).

-- Settings and cursors: server URL, session token, device id, inbox and sync cursors, region.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The user's own card sets as the cloud last returned them.
CREATE TABLE my_sets (
    set_no         INTEGER PRIMARY KEY,
    card           TEXT NOT NULL,       -- Card as JSON
    printed_fields TEXT NOT NULL,       -- JSON array of CardField
    version        INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- A person (or company) the user holds cards from. Name, sort key and search text are derived
-- from its cards and kept here so the list and search never parse cards.
CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    sort_key     TEXT NOT NULL,
    search       TEXT NOT NULL,
    org          TEXT,                         -- from its newest card that has one
    title        TEXT,
    phones       TEXT NOT NULL DEFAULT '[]',   -- JSON array: every number on its cards
    emails       TEXT NOT NULL DEFAULT '[]',
    note         TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    deleted_at   INTEGER,                      -- set: in the bin, can be undone
    sync_version INTEGER NOT NULL DEFAULT 0,
    dirty        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX contacts_sort ON contacts (sort_key) WHERE deleted_at IS NULL;

-- One card a contact gave: from an exchange, a web reply, a scanned vCard code, an import, or
-- typed in. A card from a Mingpian account is identified by (owner, set_no); a newer version of it
-- replaces `card` and the old one stays in card_versions.
CREATE TABLE cards (
    id           TEXT PRIMARY KEY,
    contact_id   TEXT NOT NULL,
    source       TEXT NOT NULL,       -- exchange | web | scan | import | manual
    owner        TEXT,                -- the giver's public ID
    set_no       INTEGER,
    uid          TEXT,                -- vCard UID
    full         INTEGER NOT NULL DEFAULT 1,  -- 0: only a printed code's fields
    version      INTEGER NOT NULL,    -- the owner's set version, or a local counter
    hash         TEXT NOT NULL,       -- of the current version's JSON, to spot unchanged re-imports
    name_key     TEXT NOT NULL,       -- the name reduced, for "same person" checks on import
    linked_by    TEXT NOT NULL,       -- why it is in this contact: new | phone | email | manual
    received_at  INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    sync_version INTEGER NOT NULL DEFAULT 0,
    dirty        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cards_contact ON cards (contact_id);
CREATE INDEX cards_owner ON cards (owner, set_no) WHERE owner IS NOT NULL;
CREATE INDEX cards_uid ON cards (uid) WHERE uid IS NOT NULL;
CREATE INDEX cards_hash ON cards (hash);

-- Every version of every card, the current one included (claim 7: nothing is overwritten).
CREATE TABLE card_versions (
    id           TEXT PRIMARY KEY,    -- {card id}.{seq}
    card_id      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    card         TEXT NOT NULL,
    origin       TEXT,                -- what brought it (inbox:42, exchange:7, import:file), for dedup
    received_at  INTEGER NOT NULL,
    sync_version INTEGER NOT NULL DEFAULT 0,
    dirty        INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX card_versions_seq ON card_versions (card_id, seq);

-- Link keys (claim 8): `tel:+8613800138000` and `email:li@example.com` of each live card.
CREATE TABLE card_keys (
    key        TEXT NOT NULL,
    card_id    TEXT NOT NULL,
    contact_id TEXT NOT NULL
);
CREATE INDEX card_keys_key ON card_keys (key);
CREATE INDEX card_keys_card ON card_keys (card_id);

-- When and where the user met someone, and how the card came.
CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    contact_id   TEXT NOT NULL,
    card_id      TEXT,
    kind         TEXT NOT NULL,       -- scanned | received | web_reply | scanned_vcard
    code         TEXT,                -- the scanned text, or the set of ours that was scanned
    place        TEXT,
    at           INTEGER NOT NULL,
    origin       TEXT,
    sync_version INTEGER NOT NULL DEFAULT 0,
    dirty        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX events_contact ON events (contact_id, at);
CREATE UNIQUE INDEX events_origin ON events (origin) WHERE origin IS NOT NULL;

-- Scans waiting for the network. The key is the exchange's idempotency key: a retry after a lost
-- answer gets the same exchange from the cloud, never a second one.
CREATE TABLE outbox (
    key        TEXT PRIMARY KEY,
    scanned    TEXT NOT NULL,
    give_set   INTEGER NOT NULL,
    place      TEXT,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
