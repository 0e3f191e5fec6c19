-- Fitted statistical models (BG/NBD, Pareto/NBD, Gamma-Gamma) of the ledger's transactions.
-- Every `rapport fit` on the ledger adds a row; readings use the latest row of each model.
-- Parameters and standard errors are JSON objects keyed by the parameters' usual names.
CREATE TABLE fits (
    seq             INTEGER PRIMARY KEY,
    model           TEXT NOT NULL,
    params          TEXT NOT NULL,
    std_errors      TEXT NOT NULL,
    log_likelihood  REAL NOT NULL,
    iterations      INTEGER NOT NULL,
    gradient_norm   REAL NOT NULL,
    converged       INTEGER NOT NULL,
    fitted_at       INTEGER NOT NULL,
    calibration_end INTEGER NOT NULL,
    unit            TEXT NOT NULL,
    events          INTEGER NOT NULL,
    people          INTEGER NOT NULL
) STRICT;

CREATE INDEX fits_by_model ON fits(model, seq);
