-- What the vault knows about itself: the identity it shares with its ledger (so that a ledger
-- never opens with a missing or foreign vault), and secrets of the ledger's own, wrapped with
-- the master key like the person keys (so that re-wrapping under a new master key keeps them).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL
) STRICT;
