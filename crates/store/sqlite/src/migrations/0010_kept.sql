-- Kept readings (see store's kept.rs): each person's figures as of the end of the reading
-- day, an index of every sortable field, each headline's distribution as counts, and the
-- marks of people written since their figures were kept.
CREATE TABLE kept (
    person       TEXT PRIMARY KEY,
    -- The first day (days since 1970-01-01) on which the figures may change by themselves.
    next_change  INTEGER,
    last_tx      INTEGER,
    scripted     INTEGER NOT NULL,
    scripted_sum INTEGER NOT NULL,
    -- A fingerprint of whom they referred and what they chose (kept_refs, kept_choices).
    extras       INTEGER NOT NULL,
    figures      BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX kept_by_next_change ON kept(next_change) WHERE next_change IS NOT NULL;

-- Every sortable field a person has (field = its place in the list of sortable fields), and
-- each headline's change over 30 days (field 100 + headline).
CREATE TABLE kept_order (
    field  INTEGER NOT NULL,
    value  REAL NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (field, value, person)
) STRICT, WITHOUT ROWID;

-- How many people have each field.
CREATE TABLE kept_counts (
    field  INTEGER PRIMARY KEY,
    people INTEGER NOT NULL
) STRICT;

-- Each headline's distribution: how many people have each value.
CREATE TABLE kept_dist (
    field  INTEGER NOT NULL,
    value  REAL NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (field, value)
) STRICT, WITHOUT ROWID;

-- Who referred whom, as the kept figures of the referrer counted it.
CREATE TABLE kept_refs (
    referred TEXT NOT NULL,
    referrer TEXT NOT NULL,
    PRIMARY KEY (referred, referrer)
) STRICT, WITHOUT ROWID;
CREATE INDEX kept_refs_by_referrer ON kept_refs(referrer);

-- Each person's current menu choices, as their kept readings saw them.
CREATE TABLE kept_choices (
    person TEXT NOT NULL,
    item   TEXT NOT NULL,
    option TEXT NOT NULL,
    PRIMARY KEY (person, item)
) STRICT, WITHOUT ROWID;

-- People written since their figures were kept, by their ledger key.
CREATE TABLE kept_dirty (
    pk INTEGER PRIMARY KEY
) STRICT;

-- The reading day, the fingerprint of fits and settings, and whether answers changed.
CREATE TABLE kept_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
