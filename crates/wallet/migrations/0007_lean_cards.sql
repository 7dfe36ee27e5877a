-- A leaner wallet (format 7): each card's row and indexes hold less.
--
-- A card's content hash is its 12 bytes (`util::content_hash`), not 32 hex characters: the
-- row and the index by hash each take about half the space. The first 12 of the 16 bytes the
-- hex spelt are what a new wallet computes, so a held card still matches its content. A card
-- synced ahead of its first version had no hash ('') and has an empty one.
UPDATE cards SET hash = COALESCE(unhex(substr(hash, 1, 24)), X'') WHERE typeof(hash) = 'text';

-- A card's link keys are listed in its row (the first 8 bytes of each key's hash, one after
-- another), so that the key table needs no second index by card: replacing a card's keys reads
-- its list and deletes those (`linking::replace_link_keys`). The upgrade (`db.rs`) fills the lists from the key table, then drops
-- that index.
ALTER TABLE cards ADD COLUMN link_keys BLOB NOT NULL DEFAULT X'';

-- The card a contact shows, by its number (`cards.n`) instead of its 20- to 32-character id.
-- The old column goes: a build from before this, still running while another process
-- upgrades the wallet, fails loudly on every contact it writes instead of writing a value no
-- one reads.
ALTER TABLE contacts ADD COLUMN shown_card INTEGER;
UPDATE contacts SET shown_card = (SELECT n FROM cards WHERE cards.id = contacts.shown_card_id)
WHERE shown_card_id IS NOT NULL;
ALTER TABLE contacts DROP COLUMN shown_card_id;

-- A contact's search text leaves out its name, company and title, which the search index reads
-- from its row (`keys::row_search_text`): a change to those is a change to what it is found by.
DROP TRIGGER search_log_update;
CREATE TRIGGER search_log_update
AFTER UPDATE OF search, sort_key, deleted_at, name, org, title ON contacts
WHEN old.search IS NOT new.search OR old.sort_key IS NOT new.sort_key
  OR old.deleted_at IS NOT new.deleted_at OR old.name IS NOT new.name
  OR old.org IS NOT new.org OR old.title IS NOT new.title
BEGIN
    INSERT INTO search_log (id) VALUES (new.id);
END;
