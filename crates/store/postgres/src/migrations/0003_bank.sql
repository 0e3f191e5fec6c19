-- Credits read from bank statements (crates/store/src/bank.rs): every one once, by its
-- statement's source and the bank's id for it, with what became of it. `sealed` holds the
-- payer's name, account and remittance text, only while the line waits for a person. On the
-- coordinator: a line has no person until it is matched.
CREATE TABLE IF NOT EXISTS rapport.bank_lines (
    no       bigserial PRIMARY KEY,
    source   text NOT NULL,
    id       text NOT NULL,
    booked   bigint NOT NULL,
    amount   bigint NOT NULL,
    currency text NOT NULL,
    state    smallint NOT NULL,
    reason   text,
    sealed   bytea,
    read_at  bigint NOT NULL,
    UNIQUE (source, id)
);
CREATE INDEX IF NOT EXISTS bank_lines_waiting ON rapport.bank_lines (state, booked)
    WHERE state = 2;
