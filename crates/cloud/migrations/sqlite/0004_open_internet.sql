-- The cloud on the open internet (kept column-for-column equal to ../postgres/0004_open_internet.sql).

-- Each card set gets its own stable random id, `card_id`: what the people holding the card know
-- it by (exchange answers, inbox items, living-card updates). It is never a code, and it never
-- leads to the owner's other sets. Set 1 of an existing account keeps the account's id, so the
-- cards already in wallets keep receiving updates; every other set gets a fresh one.
ALTER TABLE card_sets ADD COLUMN card_id TEXT;
UPDATE card_sets SET card_id = (SELECT public_id FROM users WHERE users.id = card_sets.user_id)
 WHERE set_no = 1;
UPDATE card_sets SET card_id = lower(hex(randomblob(16))) WHERE card_id IS NULL;
CREATE UNIQUE INDEX card_sets_card_id ON card_sets (card_id);

-- Every set's code gets its own random id. Codes of sets 2 and up used to carry the account's
-- id, so one printed code reached every set: those codes are retired (they answer 410 Gone and
-- say to ask the owner for the new one) and each such set gets a code of its own.
INSERT INTO codes (public_id, set_no, user_id)
SELECT lower(hex(randomblob(16))), c.set_no, c.user_id
  FROM codes c JOIN users u ON u.id = c.user_id
 WHERE c.public_id = u.public_id AND c.set_no > 1 AND c.rotated_at IS NULL;
UPDATE codes SET rotated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
 WHERE set_no > 1 AND rotated_at IS NULL
   AND public_id = (SELECT public_id FROM users WHERE users.id = codes.user_id);

-- A bounded inbox: one item per sender's set (a repeat exchange replaces it; `dedupe_key` is
-- `x:{scanner}:{set}` for exchanges, `w:{sha-256 of the card}` for web replies), its size kept
-- with it, and each owner's running totals, checked against the caps in one statement.
ALTER TABLE inbox ADD COLUMN dedupe_key TEXT;
ALTER TABLE inbox ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
UPDATE inbox SET bytes = length(CAST(card_json AS BLOB));
CREATE UNIQUE INDEX inbox_dedupe ON inbox (user_id, dedupe_key);
ALTER TABLE users ADD COLUMN inbox_items BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN inbox_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE users SET
  inbox_items = (SELECT COUNT(*) FROM inbox WHERE inbox.user_id = users.id),
  inbox_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM inbox WHERE inbox.user_id = users.id);

-- Exchanges keep no copy of the card they answered (a retry is answered from the set), and only
-- the latest few between the same two sets are kept; `save_only` exchanges gave nothing back.
ALTER TABLE exchanges ADD COLUMN save_only BIGINT NOT NULL DEFAULT 0;
UPDATE exchanges SET response_json = '';
CREATE INDEX exchanges_by_pair ON exchanges (scanner_id, scanner_set_no, owner_id, owner_set_no, id);

-- Senders an owner blocked: their exchanges no longer reach the owner's inbox.
CREATE TABLE blocks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT   NOT NULL,   -- the blocked card's name, for the owner's list
    created_at      BIGINT NOT NULL,
    UNIQUE (user_id, blocked_user_id)
);

-- A bounded backup: each record's size, and each account's total against its quota.
ALTER TABLE records ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
UPDATE records SET bytes = length(CAST(data AS BLOB));
ALTER TABLE users ADD COLUMN records_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE users SET records_bytes =
  (SELECT COALESCE(SUM(bytes), 0) FROM records WHERE records.user_id = users.id);
