-- The cloud on the open internet (kept column-for-column equal to ../sqlite/0004_open_internet.sql,
-- which explains each step).

ALTER TABLE card_sets ADD COLUMN card_id TEXT;
UPDATE card_sets s SET card_id = u.public_id FROM users u WHERE u.id = s.user_id AND s.set_no = 1;
UPDATE card_sets SET card_id = replace(gen_random_uuid()::text, '-', '') WHERE card_id IS NULL;
CREATE UNIQUE INDEX card_sets_card_id ON card_sets (card_id);

INSERT INTO codes (public_id, set_no, user_id)
SELECT replace(gen_random_uuid()::text, '-', ''), c.set_no, c.user_id
  FROM codes c JOIN users u ON u.id = c.user_id
 WHERE c.public_id = u.public_id AND c.set_no > 1 AND c.rotated_at IS NULL;
UPDATE codes c SET rotated_at = (extract(epoch FROM now()) * 1000)::bigint
  FROM users u
 WHERE u.id = c.user_id AND c.public_id = u.public_id AND c.set_no > 1 AND c.rotated_at IS NULL;

ALTER TABLE inbox ADD COLUMN dedupe_key TEXT;
ALTER TABLE inbox ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
UPDATE inbox SET bytes = octet_length(card_json);
CREATE UNIQUE INDEX inbox_dedupe ON inbox (user_id, dedupe_key);
ALTER TABLE users ADD COLUMN inbox_items BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN inbox_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE users SET
  inbox_items = (SELECT COUNT(*) FROM inbox WHERE inbox.user_id = users.id),
  inbox_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM inbox WHERE inbox.user_id = users.id);

ALTER TABLE exchanges ADD COLUMN save_only BIGINT NOT NULL DEFAULT 0;
UPDATE exchanges SET response_json = '';
CREATE INDEX exchanges_by_pair ON exchanges (scanner_id, scanner_set_no, owner_id, owner_set_no, id);

CREATE TABLE blocks (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (user_id, blocked_user_id)
);

ALTER TABLE records ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
UPDATE records SET bytes = octet_length(data);
ALTER TABLE users ADD COLUMN records_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE users SET records_bytes =
  (SELECT COALESCE(SUM(bytes), 0) FROM records WHERE records.user_id = users.id);
