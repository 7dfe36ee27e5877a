-- Exchanges committed together (PostgreSQL's group commit; src/store/pg_writer.rs).
--
-- Under load every exchange was its own transaction: its own commit, WAL flush and backend
-- wake-up, and PostgreSQL spent much of its time on those rather than on the few rows each
-- exchange writes. The server now queues exchanges and records those waiting together in one call
-- of this function: one statement, so one transaction and one commit for all of them. Each is
-- recorded by `mingpian_record_exchange` (0007), unchanged, in the order given (the server sorts
-- them by scanner and key, so that two batches insert keys in the same order).
--
-- The owners that receive a card are locked first, in id order. A batch (p_wait false) skips any
-- owner another transaction holds: an exchange to such an owner is not recorded but answered
-- "skipped" (delivered = -1), and the server records it on its own (p_wait true, one exchange),
-- where it waits for that owner alone, at most 5 s. One busy owner therefore never holds up the
-- rest of a batch. In a batch, waits for other locks give up after 2 s. An error in any exchange (a
-- save-only exchange to an owner deleted meanwhile, a deadlock, a lock timeout) fails the whole
-- call and nothing of it is kept; the server then records the batch's exchanges one by one, so
-- the error reaches only its own exchange.
--
-- p_jobs: a JSON array of objects, one per exchange, with the parameters of
-- mingpian_record_exchange under the names below and `i`, the job's number, returned with its
-- result. p_owners: the owners receiving a card, comma-separated, ascending.
CREATE OR REPLACE FUNCTION mingpian_record_exchanges(
    p_jobs TEXT, p_owners TEXT, p_keep BIGINT, p_channel TEXT, p_wait BOOLEAN)
RETURNS TABLE (job BIGINT, exchange_id BIGINT, delivered BIGINT)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    j RECORD;
    r RECORD;
    v_locked BIGINT[] := '{}';
BEGIN
    IF p_wait THEN
        PERFORM set_config('lock_timeout', '5s', true);
        SELECT COALESCE(array_agg(l.id), '{}') INTO v_locked FROM (
            SELECT id FROM users
            WHERE id = ANY (string_to_array(p_owners, ',')::BIGINT[])
            ORDER BY id
            FOR NO KEY UPDATE) AS l;
    ELSE
        PERFORM set_config('lock_timeout', '2s', true);
        SELECT COALESCE(array_agg(l.id), '{}') INTO v_locked FROM (
            SELECT id FROM users
            WHERE id = ANY (string_to_array(p_owners, ',')::BIGINT[])
            ORDER BY id
            FOR NO KEY UPDATE SKIP LOCKED) AS l;
    END IF;
    FOR j IN
        SELECT * FROM json_to_recordset(p_jobs::json) AS t(
            i BIGINT, scanner BIGINT, owner BIGINT, owner_set BIGINT, scanner_set BIGINT,
            key TEXT, full_card BIGINT, place TEXT, now BIGINT, owner_version BIGINT, card TEXT,
            give_version BIGINT, bytes BIGINT, max_items BIGINT, max_bytes BIGINT, wake TEXT)
    LOOP
        job := j.i;
        IF NOT p_wait AND j.card IS NOT NULL AND NOT (j.owner = ANY (v_locked)) THEN
            exchange_id := NULL;
            delivered := -1;
            RETURN NEXT;
            CONTINUE;
        END IF;
        SELECT * INTO r FROM mingpian_record_exchange(
            j.scanner, j.owner, j.owner_set, j.scanner_set, j.key, j.full_card, j.place, j.now,
            j.owner_version, j.card, j.give_version, j.bytes, j.max_items, j.max_bytes, p_keep,
            p_channel, j.wake);
        exchange_id := r.exchange_id;
        delivered := r.delivered;
        RETURN NEXT;
    END LOOP;
END
$$;
