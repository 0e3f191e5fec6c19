-- Scripted answers (READINGS.md, "personal"), grouped as they are imported so that a new
-- import never regroups the ledger. An answer's masked text becomes a set of word 3-shingles;
-- identical sets are one *variant*; near-duplicate variants are joined into one *script*,
-- named by its oldest variant. See domain/src/scripts.rs for the method.

-- Each variant: the hash of its shingle set, its script, and the set itself (little-endian
-- u64s), which confirms candidates exactly.
CREATE TABLE script_variants (
    id       INTEGER PRIMARY KEY,
    key      INTEGER NOT NULL UNIQUE,
    script   INTEGER NOT NULL,
    shingles BLOB NOT NULL
) STRICT;
CREATE INDEX script_variants_by_script ON script_variants(script);

-- Locality-sensitive hashing: each variant filed under its 16 MinHash band keys.
CREATE TABLE script_bands (
    key     INTEGER NOT NULL,
    variant INTEGER NOT NULL,
    PRIMARY KEY (key, variant)
) STRICT, WITHOUT ROWID;

-- Every answer that has text: the event (its ledger number), who received it, when, who wrote
-- it (the public `by` of contact.answered) and its variant.
CREATE TABLE script_answers (
    seq     INTEGER PRIMARY KEY,
    person  INTEGER NOT NULL,
    variant INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    by      TEXT NOT NULL
) STRICT;
-- Covering what the figures of a script need, so counting never visits the table.
CREATE INDEX script_answers_by_variant ON script_answers(variant, person, at, by);
CREATE INDEX script_answers_by_person ON script_answers(person);

-- Every script's figures, kept up to date by each import; those that reached more than five
-- people are the scripts in use.
CREATE TABLE scripts (
    id       INTEGER PRIMARY KEY,
    people   INTEGER NOT NULL,
    answers  INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX scripts_by_people ON scripts(people);
