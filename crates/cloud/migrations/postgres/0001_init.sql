-- Mingpian cloud schema, PostgreSQL. Times are Unix milliseconds; booleans are 0/1 integers so that
-- the same queries run on SQLite (see ../sqlite/0001_init.sql, kept column-for-column equal).

-- Accounts. `public_id` is what codes and links show: 128 random bits, never the row id.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    public_id     TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,   -- lower-cased name, for log-in
    phone         TEXT    UNIQUE,            -- E.164 when given
    email         TEXT    UNIQUE,            -- lower-cased when given
    password_hash TEXT    NOT NULL,          -- argon2id PHC string
    created_at    BIGINT  NOT NULL
);

-- One row per logged-in device; only the SHA-256 of its bearer token is stored.
CREATE TABLE devices (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL
);

-- Card sets (claims 3, 5, 6): the card as JSON, the fields a printed code may show, a version
-- that increases on every edit so that holders of the card can fetch the new one.
CREATE TABLE card_sets (
    user_id        BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    set_no         BIGINT  NOT NULL,
    card_json      TEXT    NOT NULL,
    printed_fields TEXT    NOT NULL,
    version        BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    PRIMARY KEY (user_id, set_no)
);

-- The codes that lead to a set. A set starts with the owner's public ID; rotating gives it a new
-- random one and marks the old row rotated, so old printed codes answer 410 Gone.
CREATE TABLE codes (
    public_id  TEXT    NOT NULL,
    set_no     BIGINT  NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    rotated_at BIGINT,
    PRIMARY KEY (public_id, set_no)
);
CREATE INDEX codes_by_owner ON codes (user_id, set_no);

-- Exchanges (patent step S03). The idempotency key is the scanner's: a retry finds the row.
CREATE TABLE exchanges (
    id              BIGSERIAL PRIMARY KEY,
    scanner_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    owner_id        BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    owner_set_no    BIGINT  NOT NULL,
    scanner_set_no  BIGINT  NOT NULL,
    idempotency_key TEXT    NOT NULL,
    full_card       BIGINT  NOT NULL,
    place           TEXT,
    response_json   TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    UNIQUE (scanner_id, idempotency_key)
);
CREATE INDEX exchanges_by_owner ON exchanges (owner_id);

-- Cards delivered to a user; `id` is the cursor clients catch up from.
CREATE TABLE inbox (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exchange_id  BIGINT  REFERENCES exchanges(id) ON DELETE CASCADE,
    from_user_id BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    card_json    TEXT    NOT NULL,
    via          TEXT    NOT NULL,
    place        TEXT,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX inbox_by_user ON inbox (user_id, id);

-- Server-wide secrets shared by every instance (the live-code signing key).
CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
