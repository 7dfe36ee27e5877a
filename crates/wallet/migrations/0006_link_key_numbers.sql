-- Link keys stored as numbers: a key (`tel:+8613800138000`, `email:li@example.com`) is only
-- ever looked up by equality, never read back, so the table keeps a 64-bit number of it (the
-- first eight bytes of its SHA-256, `keys::key_number`) instead of its text: the key table and
-- its index by card each take about half the space. Two different keys share a number with
-- odds of about one in 10^12 for a wallet of a million keys.
--
-- The upgrade (`db.rs`) fills this table from the old one, numbering each key (SQLite has no
-- SHA-256 of its own), then puts it in the old one's place with the index by card.
CREATE TABLE card_keys_v6 (
    key  INTEGER NOT NULL,   -- keys::key_number of the key's text
    card INTEGER NOT NULL,   -- cards.n
    PRIMARY KEY (key, card)
) WITHOUT ROWID;
