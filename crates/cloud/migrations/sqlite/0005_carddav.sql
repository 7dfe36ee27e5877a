-- CardDAV: the wallet published as the account's address book (kept column-for-column equal to
-- ../postgres/0005_carddav.sql).

-- An app password is a device of its own kind: only its hash is stored, it opens the address
-- book and nothing else, and revoking it is logging that device out.
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'app';   -- app | carddav

-- How far the address book has taken in the account's wallet records (a records version).
ALTER TABLE users ADD COLUMN dav_cursor BIGINT NOT NULL DEFAULT 0;

-- Which contact each card is in and which of its versions is the newest, from the card and
-- card_version records: rebuilding one entry never scans the account's records.
CREATE TABLE dav_cards (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    card_id    TEXT   NOT NULL,
    contact_id TEXT   NOT NULL,
    latest_id  TEXT,               -- the card_version record of the highest seq
    latest_seq BIGINT NOT NULL,
    first_at   BIGINT NOT NULL,    -- when the wallet first held the card
    PRIMARY KEY (user_id, card_id)
);
CREATE INDEX dav_cards_contact ON dav_cards (user_id, contact_id);

-- Meetings and deliveries per card: how much a set is used, which the display rule weighs.
CREATE TABLE dav_events (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id TEXT   NOT NULL,
    card_id  TEXT,
    PRIMARY KEY (user_id, event_id)
);
CREATE INDEX dav_events_card ON dav_events (user_id, card_id);

-- One address-book entry per wallet contact: the card it publishes (JSON), its strong ETag, and
-- the records version at which it last changed (the sync-collection token). `gone` entries
-- stay so that clients learn of the deletion.
CREATE TABLE dav_entries (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id TEXT   NOT NULL,
    card_json  TEXT   NOT NULL,
    etag       TEXT   NOT NULL,
    changed    BIGINT NOT NULL,
    gone       BIGINT NOT NULL,
    PRIMARY KEY (user_id, contact_id)
);
CREATE INDEX dav_entries_changed ON dav_entries (user_id, changed, contact_id);
