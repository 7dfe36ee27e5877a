-- Living cards: remember which set and which version of it a delivered card was, so that its
-- holder can ask for newer versions after the owner edits it.
ALTER TABLE inbox ADD COLUMN from_set_no BIGINT;
ALTER TABLE inbox ADD COLUMN from_version BIGINT;
ALTER TABLE exchanges ADD COLUMN owner_version BIGINT NOT NULL DEFAULT 0;
