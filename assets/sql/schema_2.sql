-- Schema 2: each line as jsonb beside it, computed by the server, for SQL queries.
ALTER TABLE hotfix.events ADD COLUMN body jsonb GENERATED ALWAYS AS (line::jsonb) STORED;
CREATE INDEX events_type ON hotfix.events ((body->>'type'));
