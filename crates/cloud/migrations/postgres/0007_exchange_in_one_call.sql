-- An exchange's writes in one call (PostgreSQL only; ../sqlite/0007 says why it has none).
--
-- Recording an exchange took six round trips: BEGIN, lock the owner (and queue the NOTIFY), insert
-- the exchange, raise the owner's inbox totals, put the card in the inbox, COMMIT. A function
-- called as one statement runs them in that statement's own transaction: one round trip, the same
-- statements in the same order. Each statement inside still takes a fresh snapshot (READ
-- COMMITTED), so the size of the item a card replaces is read after the owner's row is locked, as
-- before. Two small differences: the pair's count for pruning now includes the new exchange (as
-- on SQLite), and when a concurrent retry recorded the same key first the function returns no row
-- and still commits, so the owner's streams get one wake-up with nothing new to read.
CREATE OR REPLACE FUNCTION mingpian_record_exchange(
    p_scanner BIGINT, p_owner BIGINT, p_owner_set BIGINT, p_scanner_set BIGINT, p_key TEXT,
    p_full BIGINT, p_place TEXT, p_now BIGINT, p_owner_version BIGINT,
    -- The card given in return (NULL: save only), its set's version and its size in bytes.
    p_card TEXT, p_give_version BIGINT, p_bytes BIGINT,
    p_max_items BIGINT, p_max_bytes BIGINT, p_keep BIGINT,
    -- The NOTIFY that wakes the owner's streams on every instance, sent when this commits.
    p_channel TEXT, p_wake TEXT)
RETURNS TABLE (exchange_id BIGINT, delivered BIGINT)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_id BIGINT;
    v_dedupe TEXT := 'x:' || p_scanner || ':' || p_scanner_set;
    v_replaced BIGINT;
    v_kept BIGINT;
    v_delivered BIGINT := 0;
BEGIN
    -- Orders deliveries to one owner (see lock_owner in src/store/exchanges.rs).
    IF p_card IS NOT NULL THEN
        PERFORM pg_notify(p_channel, p_wake) FROM users WHERE id = p_owner FOR NO KEY UPDATE;
    END IF;
    INSERT INTO exchanges (scanner_id, owner_id, owner_set_no, scanner_set_no, idempotency_key,
        full_card, place, response_json, created_at, owner_version, save_only)
    VALUES (p_scanner, p_owner, p_owner_set, p_scanner_set, p_key, p_full, p_place, '', p_now,
        p_owner_version, CASE WHEN p_card IS NULL THEN 1 ELSE 0 END)
    ON CONFLICT (scanner_id, idempotency_key) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    IF p_card IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM blocks WHERE user_id = p_owner AND blocked_user_id = p_scanner)
    THEN
        SELECT bytes INTO v_replaced FROM inbox WHERE user_id = p_owner AND dedupe_key = v_dedupe;
        -- Raise the totals only while they stay within the caps (a replacement that grows
        -- nothing always fits); nothing is removed before this says the card fits.
        UPDATE users SET inbox_items = inbox_items + CASE WHEN v_replaced IS NULL THEN 1 ELSE 0 END,
            inbox_bytes = inbox_bytes + p_bytes - COALESCE(v_replaced, 0)
        WHERE id = p_owner AND (
            (v_replaced IS NOT NULL AND p_bytes <= v_replaced)
            OR (inbox_items + CASE WHEN v_replaced IS NULL THEN 1 ELSE 0 END <= p_max_items
                AND inbox_bytes + p_bytes - COALESCE(v_replaced, 0) <= p_max_bytes));
        IF FOUND THEN
            -- Replaces the sender's earlier item under a new cursor (news to the owner's devices).
            INSERT INTO inbox (user_id, exchange_id, from_user_id, card_json, via, place,
                created_at, from_set_no, from_version, dedupe_key, bytes)
            VALUES (p_owner, v_id, p_scanner, p_card, 'exchange', p_place, p_now, p_scanner_set,
                p_give_version, v_dedupe, p_bytes)
            ON CONFLICT (user_id, dedupe_key) DO UPDATE SET
                id = nextval(pg_get_serial_sequence('inbox', 'id')),
                exchange_id = EXCLUDED.exchange_id, from_user_id = EXCLUDED.from_user_id,
                card_json = EXCLUDED.card_json, via = EXCLUDED.via, place = EXCLUDED.place,
                created_at = EXCLUDED.created_at, from_set_no = EXCLUDED.from_set_no,
                from_version = EXCLUDED.from_version, bytes = EXCLUDED.bytes;
            v_delivered := 1;
        END IF;
    END IF;
    -- Keep only the latest exchanges between these two sets, pruned in batches (see
    -- KEEP_PER_PAIR); never one the owner's item still points at.
    SELECT COUNT(*) INTO v_kept FROM exchanges
    WHERE scanner_id = p_scanner AND scanner_set_no = p_scanner_set
      AND owner_id = p_owner AND owner_set_no = p_owner_set;
    IF v_kept >= 2 * p_keep THEN
        DELETE FROM exchanges
        WHERE scanner_id = p_scanner AND scanner_set_no = p_scanner_set AND owner_id = p_owner
          AND owner_set_no = p_owner_set
          AND id < (SELECT x.id FROM exchanges x WHERE x.scanner_id = p_scanner
                      AND x.scanner_set_no = p_scanner_set AND x.owner_id = p_owner
                      AND x.owner_set_no = p_owner_set
                    ORDER BY x.id DESC LIMIT 1 OFFSET p_keep - 1)
          AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.exchange_id = exchanges.id);
    END IF;
    RETURN QUERY SELECT v_id, v_delivered;
END
$$;
