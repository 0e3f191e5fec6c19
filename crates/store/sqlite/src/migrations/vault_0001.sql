-- The key vault: one data key per person, wrapped (encrypted) with the master key.
-- Destroying a person's row here makes every sealed field of theirs unreadable for good.
CREATE TABLE keys (
    person  TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL
) STRICT;
