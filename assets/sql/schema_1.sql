-- Schema 1: the log table (its lines exactly as events.jsonl holds them), the owner and member
-- roles, triggers that refuse UPDATE, DELETE and TRUNCATE, and the append function.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hotfix_owner') THEN CREATE ROLE hotfix_owner NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hotfix_member') THEN CREATE ROLE hotfix_member NOLOGIN; END IF;
END $$;
CREATE SCHEMA hotfix AUTHORIZATION hotfix_owner;
REVOKE ALL ON SCHEMA hotfix FROM PUBLIC;
GRANT USAGE ON SCHEMA hotfix TO hotfix_member;
CREATE TABLE hotfix.schema_version (version integer NOT NULL);
CREATE TABLE hotfix.events (
  seq bigint PRIMARY KEY,
  line text NOT NULL,
  hash text NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL,
  ends_at bigint NOT NULL
);
CREATE FUNCTION hotfix.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION 'the hotfix log is append-only: % is refused', TG_OP
    USING HINT = 'events are recorded through hotfix.append only';
END $f$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON hotfix.events
  FOR EACH ROW EXECUTE FUNCTION hotfix.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON hotfix.events
  FOR EACH STATEMENT EXECUTE FUNCTION hotfix.refuse_change();
CREATE FUNCTION hotfix.append(lines text[]) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  last_seq bigint; last_hash text; last_end bigint;
  l text; j jsonb; body text; h text;
BEGIN
  PERFORM pg_advisory_xact_lock(1752134758);
  SELECT e.seq, e.hash, e.ends_at INTO last_seq, last_hash, last_end
    FROM hotfix.events e ORDER BY e.seq DESC LIMIT 1;
  IF NOT FOUND THEN
    last_seq := 0; last_hash := repeat('0', 64); last_end := 0;
  END IF;
  FOREACH l IN ARRAY lines LOOP
    j := l::jsonb;
    IF (j->>'v')::int IS DISTINCT FROM 1 THEN
      RAISE EXCEPTION 'event line format % is not 1', j->>'v';
    END IF;
    IF (j->>'seq')::bigint IS DISTINCT FROM last_seq + 1 THEN
      RAISE EXCEPTION 'the line for event % does not follow event %', j->>'seq', last_seq;
    END IF;
    IF j->>'prev' IS DISTINCT FROM last_hash THEN
      RAISE EXCEPTION 'the line for event % does not chain to the previous event', j->>'seq';
    END IF;
    IF j->>'actor' IS DISTINCT FROM session_user THEN
      RAISE EXCEPTION 'the login % cannot record an event as %', session_user, j->>'actor'
        USING HINT = 'in team mode every event is recorded as the database login that sends it';
    END IF;
    IF (j->>'at')::timestamptz IS DISTINCT FROM now() THEN
      RAISE EXCEPTION 'the event time % is not the server''s clock (%)', j->>'at', now();
    END IF;
    IF right(l, 75) !~ '^,"hash":"[0-9a-f]{64}"}$' THEN
      RAISE EXCEPTION 'the line for event % does not end with its hash', j->>'seq';
    END IF;
    body := left(l, length(l) - 75);
    h := encode(sha256(convert_to(body, 'UTF8')), 'hex');
    IF j->>'hash' IS DISTINCT FROM h OR right(l, 75) <> ',"hash":"' || h || '"}' THEN
      RAISE EXCEPTION 'the hash of the line for event % is wrong', j->>'seq';
    END IF;
    last_seq := last_seq + 1;
    last_end := last_end + octet_length(l) + 1;
    INSERT INTO hotfix.events (seq, line, hash, actor, at, ends_at)
      VALUES (last_seq, l, h, session_user, now(), last_end);
    last_hash := h;
  END LOOP;
  PERFORM pg_notify('hotfix_events', last_seq::text);
  RETURN last_seq;
END $f$;
ALTER TABLE hotfix.events OWNER TO hotfix_owner;
ALTER TABLE hotfix.schema_version OWNER TO hotfix_owner;
ALTER FUNCTION hotfix.refuse_change() OWNER TO hotfix_owner;
ALTER FUNCTION hotfix.append(text[]) OWNER TO hotfix_owner;
REVOKE ALL ON FUNCTION hotfix.append(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION hotfix.refuse_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotfix.append(text[]) TO hotfix_member;
REVOKE ALL ON hotfix.events, hotfix.schema_version FROM PUBLIC;
GRANT SELECT ON hotfix.events, hotfix.schema_version TO hotfix_member;
