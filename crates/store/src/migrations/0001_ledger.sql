-- The ledger: people and their append-only events.
-- Public fields that readings need live in typed columns (see columns.rs for which field
-- of which kind goes where), so computing readings never decodes JSON or unseals anything.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE people (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE imports (
    batch      INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    origin     TEXT NOT NULL,
    added      INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE events (
    seq      INTEGER PRIMARY KEY,
    source   TEXT NOT NULL,
    id       TEXT NOT NULL,
    person   INTEGER NOT NULL REFERENCES people(pk),
    kind     INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    ref      TEXT,
    amount   INTEGER,
    currency TEXT,
    day      INTEGER,
    num      INTEGER,
    t1       TEXT,
    t2       TEXT,
    extra    TEXT,
    sealed   BLOB,
    batch    INTEGER NOT NULL REFERENCES imports(batch)
) STRICT;

CREATE UNIQUE INDEX events_by_source_id ON events(source, id);
CREATE INDEX events_by_person ON events(person, at);

-- Who looked at whose card, and when. Written on every view (command line, page or API).
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    person TEXT
) STRICT;
