-- The ledger: people and their append-only events.
-- An event's public fields are one compact blob (`body`; see columns.rs for its format),
-- so computing readings never decodes JSON, unseals anything or reads order lines.
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

-- Events are clustered by person: a person's history is one contiguous range, so a card
-- reads one range and readings for everyone stream person by person in one pass.
-- `seq` is the ledger's order, unique and increasing, handed out by the importer (the next
-- one is kept in meta.next_seq).
CREATE TABLE events (
    person   INTEGER NOT NULL REFERENCES people(pk),
    seq      INTEGER NOT NULL,
    source   TEXT NOT NULL,
    id       TEXT NOT NULL,
    kind     INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    body     BLOB NOT NULL,
    lines    TEXT,
    batch    INTEGER NOT NULL REFERENCES imports(batch),
    PRIMARY KEY (person, seq)
) STRICT, WITHOUT ROWID;

-- Personal fields of an event, encrypted with the person's key (see vault.rs). Kept apart
-- from the events so that scans for readings never read through them, and so that
-- forgetting a person deletes their sealed text without touching the figures.
CREATE TABLE sealed (
    seq  INTEGER PRIMARY KEY,
    blob BLOB NOT NULL
) STRICT;

CREATE UNIQUE INDEX events_by_source_id ON events(source, id);

-- Who looked at whose card, and when. Written on every view (command line, page or API).
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    person TEXT
) STRICT;
