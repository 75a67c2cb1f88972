-- Schema 3: an index on where each line ends, so a catch-up reads what is new by index.
CREATE UNIQUE INDEX events_ends_at ON hotfix.events (ends_at);
