-- The exchange's hot path (kept equal in ../sqlite and ../postgres).
-- Pruning an old exchange cascades to inbox items that point at it, and a retried exchange asks
-- whether its item was delivered: both looked inbox items up by exchange, and with no index each
-- exchange read the whole inbox table (every owner's cards).
-- IF NOT EXISTS: on a large PostgreSQL inbox an operator may build it beforehand without
-- blocking writes (CREATE INDEX CONCURRENTLY inbox_by_exchange ON inbox (exchange_id)), since
-- migrations run inside a transaction, where CONCURRENTLY cannot.
CREATE INDEX IF NOT EXISTS inbox_by_exchange ON inbox (exchange_id);
