-- The product catalogue of hidden costs (docs/costs.md): the factors tracked, each with its
-- unit and source, and per product its figure for one unit of each factor it has one for.
-- A product without a row for a factor has no known figure for it (never zero). Each
-- catalogue import replaces all three tables in one transaction.
CREATE TABLE cost_factors (
    position INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    unit     TEXT NOT NULL,
    source   TEXT NOT NULL
) STRICT;

CREATE TABLE cost_products (
    position INTEGER PRIMARY KEY,
    product  TEXT NOT NULL UNIQUE,
    name     TEXT
) STRICT;

CREATE TABLE cost_values (
    product INTEGER NOT NULL REFERENCES cost_products(position),
    factor  INTEGER NOT NULL REFERENCES cost_factors(position),
    value   REAL NOT NULL CHECK (value >= 0),
    PRIMARY KEY (product, factor)
) STRICT, WITHOUT ROWID;
