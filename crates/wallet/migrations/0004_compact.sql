-- A leaner wallet file.
--
-- Link keys name the card only: its contact is the card's own `contact_id` (they were kept
-- equal), and the key and card together are the row, with no separate row id or key index.
CREATE TABLE card_keys_v4 (
    key     TEXT NOT NULL,
    card_id TEXT NOT NULL,
    PRIMARY KEY (key, card_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO card_keys_v4 (key, card_id) SELECT key, card_id FROM card_keys;
DROP TABLE card_keys;
ALTER TABLE card_keys_v4 RENAME TO card_keys;
CREATE INDEX card_keys_card ON card_keys (card_id);

-- Card versions written from now on hold their card compressed (a BLOB: see `stored.rs`);
-- the upgrade compresses the ones already here after this script.
