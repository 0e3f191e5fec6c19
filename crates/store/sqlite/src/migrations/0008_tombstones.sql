-- People who asked to be forgotten, kept so that an import recognises them without keeping
-- who they were: `mac` is HMAC-SHA-256 of the person's id under a secret kept wrapped in the
-- key vault, so the ledger alone cannot tell whose tombstone a row is, nor test an id against
-- it. Imports skip the events of a person with a tombstone (and say so); `rapport
-- welcome-back` removes one when the person returns and asks to be known again.
CREATE TABLE tombstones (
    seq INTEGER PRIMARY KEY,
    mac BLOB NOT NULL UNIQUE,
    at  INTEGER NOT NULL
) STRICT;
