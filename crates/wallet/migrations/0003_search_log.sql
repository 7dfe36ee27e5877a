-- Search keeps its index in memory and catches up from this log: every change to what a contact
-- is found by, where it sorts, or whether it is in the bin adds the contact's id, so the next
-- search updates those entries instead of rebuilding the index, and a write that touches no
-- contact (an outbox entry, a setting, an event) costs search nothing. Every process with the
-- wallet open reads the same log; old rows are pruned (an index older than the pruned part
-- rebuilds).
CREATE TABLE search_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id  TEXT NOT NULL
);

CREATE TRIGGER search_log_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO search_log (id) VALUES (new.id);
END;

CREATE TRIGGER search_log_update AFTER UPDATE OF search, sort_key, deleted_at ON contacts
WHEN old.search IS NOT new.search OR old.sort_key IS NOT new.sort_key
  OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO search_log (id) VALUES (new.id);
END;

CREATE TRIGGER search_log_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO search_log (id) VALUES (old.id);
END;
