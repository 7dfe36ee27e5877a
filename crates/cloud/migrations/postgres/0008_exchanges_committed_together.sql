-- Exchanges committed together (PostgreSQL's group commit; src/store/pg_writer.rs).
--
-- Under load every exchange was its own transaction: its own commit, WAL flush and backend
-- wake-up, and PostgreSQL spent most of its time on those rather than on the few rows each
-- exchange writes. The server now queues exchanges and records those waiting together in one
-- call of this function: one statement, so one transaction and one commit for all of them. Each
-- is recorded by `mingpian_record_exchange` (0007), unchanged, in the order given.
--
-- The owners that receive a card are locked first, all of them, in id order: two batches running
-- at once then wait for each other instead of deadlocking. An error in any exchange (its owner was
-- deleted meanwhile, say) fails the whole call and nothing of it is kept; the server then records
-- that batch's exchanges one by one, so the error reaches only its own exchange.
--
-- p_jobs: a JSON array of objects, one per exchange, with the parameters of
-- mingpian_record_exchange under the names below and `i`, the job's number, returned with its
-- result. p_owners: the owners receiving a card, comma-separated, ascending.
CREATE OR REPLACE FUNCTION mingpian_record_exchanges(
    p_jobs TEXT, p_owners TEXT, p_keep BIGINT, p_channel TEXT)
RETURNS TABLE (job BIGINT, exchange_id BIGINT, delivered BIGINT)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    j RECORD;
    r RECORD;
BEGIN
    IF p_owners <> '' THEN
        PERFORM 1 FROM users
        WHERE id = ANY (string_to_array(p_owners, ',')::BIGINT[])
        ORDER BY id
        FOR NO KEY UPDATE;
    END IF;
    FOR j IN
        SELECT * FROM json_to_recordset(p_jobs::json) AS t(
            i BIGINT, scanner BIGINT, owner BIGINT, owner_set BIGINT, scanner_set BIGINT,
            key TEXT, full_card BIGINT, place TEXT, now BIGINT, owner_version BIGINT, card TEXT,
            give_version BIGINT, bytes BIGINT, max_items BIGINT, max_bytes BIGINT, wake TEXT)
    LOOP
        SELECT * INTO r FROM mingpian_record_exchange(
            j.scanner, j.owner, j.owner_set, j.scanner_set, j.key, j.full_card, j.place, j.now,
            j.owner_version, j.card, j.give_version, j.bytes, j.max_items, j.max_bytes, p_keep,
            p_channel, j.wake);
        job := j.i;
        exchange_id := r.exchange_id;
        delivered := r.delivered;
        RETURN NEXT;
    END LOOP;
END
$$;
