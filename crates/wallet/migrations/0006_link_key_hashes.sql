-- Link keys stored as hashes: a key (`tel:+8613800138000`, `email:li@example.com`) is only ever
-- looked up by equality, never read back, so the table keeps the first 12 bytes of its SHA-256
-- (`keys::key_hash`) instead of its text: the key table and its index by card each take about
-- half the space. 96 bits: no two keys of any wallet share one by chance, and making a key that
-- shares a given key's hash (to draw a card into someone else's contact) takes about 2^96 tries.
--
-- STRICT, and the column renamed: a build from before this, still running while another
-- process upgrades the wallet, fails loudly on its key statements instead of writing text keys
-- no lookup would find.
--
-- The upgrade (`db.rs`) fills this table from the old one, hashing each key (SQLite has no
-- SHA-256 of its own), then puts it in the old one's place with the index by card.
CREATE TABLE card_keys_v6 (
    key_hash BLOB    NOT NULL,   -- keys::key_hash of the key's text
    card     INTEGER NOT NULL,   -- cards.n
    PRIMARY KEY (key_hash, card)
) WITHOUT ROWID, STRICT;
