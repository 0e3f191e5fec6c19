-- Credits read from bank statements (crates/store/src/bank.rs): every one once, by its
-- statement's source and the bank's id for it, with what became of it. `sealed` holds the
-- payer's name, account and remittance text, only while the line waits for a person.
CREATE TABLE IF NOT EXISTS bank_lines (
    no       INTEGER PRIMARY KEY,
    source   TEXT NOT NULL,
    id       TEXT NOT NULL,
    booked   INTEGER NOT NULL,
    amount   INTEGER NOT NULL,
    currency TEXT NOT NULL,
    state    INTEGER NOT NULL,
    reason   TEXT,
    sealed   BLOB,
    read_at  INTEGER NOT NULL,
    UNIQUE (source, id)
);
CREATE INDEX IF NOT EXISTS bank_lines_waiting ON bank_lines(state, booked) WHERE state = 2;
