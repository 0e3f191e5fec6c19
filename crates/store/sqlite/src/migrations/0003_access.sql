-- Who may use the web and the API. A token is shown once when created; only its SHA-256
-- hash is kept, so a copy of the ledger does not hand out access.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

-- Browser sessions, signed in with a token. The cookie holds a random value; only its hash is
-- kept. Revoking the token ends its sessions.
CREATE TABLE sessions (
    hash       BLOB PRIMARY KEY,
    token      INTEGER NOT NULL REFERENCES tokens(id),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
