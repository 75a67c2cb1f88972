-- Schema 5: the event types the server accepts are rows of a table, so a step that adds one
-- inserts a row instead of replacing the append function; and the new types (an
-- incident's public text and impact window, post-incident reviews). Written to run again
-- harmlessly.

CREATE TABLE IF NOT EXISTS hotfix.event_kinds (kind text PRIMARY KEY);
ALTER TABLE hotfix.event_kinds OWNER TO hotfix_owner;
REVOKE ALL ON hotfix.event_kinds FROM PUBLIC;
INSERT INTO hotfix.event_kinds (kind) VALUES
  ('store_initialized'),
  ('role_granted'),
  ('role_revoked'),
  ('policy_replaced'),
  ('incident_reported'),
  ('incident_severity_changed'),
  ('incident_qualified'),
  ('incident_resolved'),
  ('hotfix_created'),
  ('regular_release_planned'),
  ('release_edited'),
  ('approval_given'),
  ('approval_rejected'),
  ('deploy_started'),
  ('release_deployed'),
  ('release_verified'),
  ('release_closed'),
  ('release_rolled_back'),
  ('release_cancelled'),
  ('test_added'),
  ('test_status_set'),
  ('test_waived'),
  ('incident_noted'),
  ('incident_services_changed'),
  ('notice_recorded'),
  ('approval_withdrawn'),
  ('test_removed'),
  ('incident_edited'),
  ('review_recorded'),
  ('review_waived'),
  ('action_done'),
  ('incident_notice_recorded'),
  ('key_added'),
  ('key_removed'),
  ('glass_broken')
  ON CONFLICT DO NOTHING;

-- The append function of schema 4, but for where it finds the event types: the table. PostgreSQL
-- casts '12' to a number and 'now' to a time, so types are checked with jsonb_typeof, never
-- by a cast. The rules (who may do what) are each client's fold: see the README.
CREATE OR REPLACE FUNCTION hotfix.append(lines text[]) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  -- The directory store's limit on one line (store::line::MAX_BYTES).
  max_bytes constant integer := 1048576;
  -- How far behind the server's clock a line's time may be: the time the client took between
  -- begin_write and this call.
  tolerance constant interval := interval '60 seconds';
  last_seq bigint; last_hash text; last_end bigint; last_at timestamptz;
  l text; j jsonb; body text; h text; t timestamptz; clock timestamptz;
BEGIN
  PERFORM 1 FROM hotfix.writer FOR UPDATE;
  SELECT e.seq, e.hash, e.ends_at, (e.line::jsonb->>'at')::timestamptz
    INTO last_seq, last_hash, last_end, last_at
    FROM hotfix.events e ORDER BY e.seq DESC LIMIT 1;
  IF NOT FOUND THEN
    last_seq := 0; last_hash := repeat('0', 64); last_end := 0; last_at := '-infinity';
  END IF;
  FOREACH l IN ARRAY lines LOOP
    IF octet_length(l) > max_bytes THEN
      RAISE EXCEPTION 'the line for event % is % bytes, over the limit of % bytes',
        last_seq + 1, octet_length(l), max_bytes;
    END IF;
    j := l::jsonb;
    IF jsonb_typeof(j) IS DISTINCT FROM 'object' THEN
      RAISE EXCEPTION 'the line for event % is not a JSON object', last_seq + 1;
    END IF;
    -- jsonb keeps the last of two equal keys, a reader might take the first: neither is
    -- allowed to choose.
    IF (SELECT count(*) <> count(DISTINCT k) FROM json_object_keys(l::json) AS k) THEN
      RAISE EXCEPTION 'the line for event % names a key twice', last_seq + 1;
    END IF;
    IF jsonb_typeof(j->'v') IS DISTINCT FROM 'number' OR j->>'v' <> '1' THEN
      RAISE EXCEPTION 'event line format % is not the number 1', j->'v';
    END IF;
    IF jsonb_typeof(j->'seq') IS DISTINCT FROM 'number' OR j->>'seq' <> (last_seq + 1)::text THEN
      RAISE EXCEPTION 'the line for event % does not follow event % (its seq is %)',
        last_seq + 1, last_seq, j->'seq';
    END IF;
    IF jsonb_typeof(j->'prev') IS DISTINCT FROM 'string' OR j->>'prev' <> last_hash THEN
      RAISE EXCEPTION 'the line for event % does not chain to the previous event', last_seq + 1;
    END IF;
    IF jsonb_typeof(j->'actor') IS DISTINCT FROM 'string' OR j->>'actor' <> session_user THEN
      RAISE EXCEPTION 'the login % cannot record an event as %', session_user, j->'actor'
        USING HINT = 'in team mode every event is recorded as the database login that sends it';
    END IF;
    IF jsonb_typeof(j->'type') IS DISTINCT FROM 'string'
       OR NOT EXISTS (SELECT 1 FROM hotfix.event_kinds k WHERE k.kind = j->>'type') THEN
      RAISE EXCEPTION 'the line for event % has no known event type (%)', last_seq + 1, j->'type';
    END IF;
    IF j ? 'more' AND jsonb_typeof(j->'more') IS DISTINCT FROM 'boolean' THEN
      RAISE EXCEPTION 'the line for event % has a "more" that is not true or false', last_seq + 1;
    END IF;
    -- The log's own format: RFC 3339 in UTC, with Z, as hotfix writes it.
    IF jsonb_typeof(j->'at') IS DISTINCT FROM 'string'
       OR j->>'at' !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$' THEN
      RAISE EXCEPTION 'the event time % is not an RFC 3339 UTC time as hotfix writes it', j->'at';
    END IF;
    t := (j->>'at')::timestamptz;
    clock := clock_timestamp();
    IF t > clock OR t < clock - tolerance THEN
      RAISE EXCEPTION 'the event time % is not the server''s clock (%)', j->>'at', clock;
    END IF;
    IF t < last_at THEN
      RAISE EXCEPTION 'the event time % is earlier than the previous event''s (%)', j->>'at', last_at;
    END IF;
    IF right(l, 75) !~ '^,"hash":"[0-9a-f]{64}"}$' THEN
      RAISE EXCEPTION 'the line for event % does not end with its hash', last_seq + 1;
    END IF;
    body := left(l, length(l) - 75);
    h := encode(sha256(convert_to(body, 'UTF8')), 'hex');
    IF j->>'hash' IS DISTINCT FROM h OR right(l, 75) <> ',"hash":"' || h || '"}' THEN
      RAISE EXCEPTION 'the hash of the line for event % is wrong', last_seq + 1;
    END IF;
    last_seq := last_seq + 1;
    last_end := last_end + octet_length(l) + 1;
    INSERT INTO hotfix.events (seq, line, hash, actor, at, ends_at)
      VALUES (last_seq, l, h, session_user, t, last_end);
    last_hash := h;
    last_at := t;
  END LOOP;
  PERFORM pg_notify('hotfix_events', last_seq::text);
  RETURN last_seq;
END $f$;
ALTER FUNCTION hotfix.append(text[]) OWNER TO hotfix_owner;
REVOKE ALL ON FUNCTION hotfix.append(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotfix.append(text[]) TO hotfix_member;
