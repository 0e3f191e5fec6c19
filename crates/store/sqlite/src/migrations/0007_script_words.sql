-- Scripted answers, masked anew: a capitalised word is only a *possible* name (German
-- capitalises every noun), and which possible names are names is decided when two answers are
-- compared (domain/src/scripts.rs). So a variant is kept as its words — hashes in order, the
-- possible names marked — rather than as shingles with every capitalised word masked, and
-- carries its *wording* (the hash of its words with every possible name masked) so that a
-- script's variants are counted, and its text shown, by wording.
--
-- The index is derived from the sealed texts: it is emptied here, and the `scripts_indexed`
-- mark removed, so that the ledger regroups every answer once when it is next opened.

DELETE FROM script_answers;
DELETE FROM script_bands;
DELETE FROM scripts;
DROP TABLE script_variants;
DELETE FROM meta WHERE key = 'scripts_indexed';

-- Each variant: the hash of its words, its script, its wording, and its words (little-endian
-- u64s), which confirm candidates exactly.
CREATE TABLE script_variants (
    id      INTEGER PRIMARY KEY,
    key     INTEGER NOT NULL UNIQUE,
    script  INTEGER NOT NULL,
    wording INTEGER NOT NULL,
    words   BLOB NOT NULL
) STRICT;
CREATE INDEX script_variants_by_script ON script_variants(script, wording);
