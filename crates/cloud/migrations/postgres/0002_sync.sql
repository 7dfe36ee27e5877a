-- Wallet sync (claim 7: synchronisation, backup and restore). Each wallet record (contact,
-- received card, note, tag, exchange history entry) is one row, keyed by the client's id. Every
-- change takes the next number of the account's `sync_seq`, which is both the record's version
-- and the cursor a device pulls from.

ALTER TABLE users ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE records (
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,   -- when the device made the change (client clock)
    device      TEXT   NOT NULL,   -- which device made it: breaks ties between equal clocks
    deleted     BIGINT NOT NULL,   -- 1: a tombstone, kept so other devices learn of the deletion
    data        TEXT   NOT NULL,
    PRIMARY KEY (user_id, kind, id)
);
CREATE INDEX records_by_version ON records (user_id, version);
