-- The business's menu: what it offers, and each item's options. People compose their own
-- selection from it (`menu.chosen` events) or propose something else (`menu.proposed`).
-- `options` is a JSON array of {"id": ..., "title": ...}.
CREATE TABLE menu (
    item       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    options    TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- What forgetting people leaves: figures that identify nobody, detached from any person.
-- One row per forgetting; `amounts` is a JSON object of currency -> invoiced/ordered total.
CREATE TABLE forgotten (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    events  INTEGER NOT NULL,
    amounts TEXT NOT NULL
) STRICT;
