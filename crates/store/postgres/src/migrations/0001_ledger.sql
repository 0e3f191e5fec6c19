-- The ledger on PostgreSQL: one schema for the data (`rapport`) and one for the key vault
-- (`rapport_vault`), in the same database so that a person's key and the events it seals
-- commit in one transaction. A deployment may give the vault schema its own role and back
-- it up apart (`pg_dump -n rapport_vault`); docs/postgres.md says how.
--
-- Ready to be partitioned by person later (issue 14): every table that holds a person's
-- rows carries the person's key (`person`), and its primary key starts with it. The one
-- exception is the unique (source, id) of events, which makes imports idempotent: a
-- partitioned ledger needs it as a table of its own, keyed by (source, id).

CREATE SCHEMA rapport;
CREATE SCHEMA rapport_vault;

CREATE TABLE rapport.meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- People: the ledger's own key for each person id the business uses.
CREATE TABLE rapport.people (
    pk bigint PRIMARY KEY,
    id text NOT NULL UNIQUE
);

CREATE TABLE rapport.imports (
    batch      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at bigint NOT NULL,
    origin     text NOT NULL,
    added      bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0
);

-- Events, keyed by person and ledger number: a card reads one person's range and readings
-- for everyone stream in (person, seq) order. `body` is the compact binary encoding of the
-- public fields (store::columns), `lines` an order's lines as JSON.
CREATE TABLE rapport.events (
    person bigint   NOT NULL,
    seq    bigint   NOT NULL,
    source text     NOT NULL,
    id     text     NOT NULL,
    kind   smallint NOT NULL,
    at     bigint   NOT NULL,
    body   bytea    NOT NULL,
    lines  text,
    batch  bigint   NOT NULL,
    PRIMARY KEY (person, seq)
);
CREATE UNIQUE INDEX events_by_source_id ON rapport.events (source, id);

-- Personal fields, sealed with the person's key: apart from the events so that scans for
-- readings never read them, and so that forgetting removes them without touching figures.
CREATE TABLE rapport.sealed (
    person bigint NOT NULL,
    seq    bigint NOT NULL,
    blob   bytea  NOT NULL,
    PRIMARY KEY (person, seq)
);

CREATE TABLE rapport.audit (
    seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     bigint NOT NULL,
    actor  text   NOT NULL,
    action text   NOT NULL,
    person text
);

CREATE TABLE rapport.fits (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model           text    NOT NULL,
    params          text    NOT NULL,
    std_errors      text    NOT NULL,
    log_likelihood  double precision NOT NULL,
    iterations      bigint  NOT NULL,
    gradient_norm   double precision NOT NULL,
    converged       boolean NOT NULL,
    fitted_at       bigint  NOT NULL,
    calibration_end bigint  NOT NULL,
    unit            text    NOT NULL,
    events          bigint  NOT NULL,
    people          bigint  NOT NULL
);
CREATE INDEX fits_by_model ON rapport.fits (model, seq);

CREATE TABLE rapport.tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text   NOT NULL,
    role       text   NOT NULL,
    hash       bytea  NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    revoked_at bigint
);

CREATE TABLE rapport.sessions (
    hash       bytea  PRIMARY KEY,
    token      bigint NOT NULL REFERENCES rapport.tokens (id),
    csrf       text   NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE rapport.menu (
    item       text PRIMARY KEY,
    kind       text NOT NULL,
    title      text NOT NULL,
    options    text NOT NULL,
    updated_at bigint NOT NULL
);

-- What forgetting leaves: figures that identify nobody (JSON: currency -> total).
CREATE TABLE rapport.forgotten (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      bigint NOT NULL,
    events  bigint NOT NULL,
    amounts text   NOT NULL
);

-- Tombstones: HMAC of a forgotten person's id under a secret kept in the vault.
CREATE TABLE rapport.tombstones (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mac bytea  NOT NULL UNIQUE,
    at  bigint NOT NULL
);

-- The index of scripted answers (see the SQLite backend's 0005 and 0007 for the method).
CREATE TABLE rapport.script_variants (
    id      bigint PRIMARY KEY,
    key     bigint NOT NULL UNIQUE,
    script  bigint NOT NULL,
    wording bigint NOT NULL,
    words   bytea  NOT NULL
);
CREATE INDEX script_variants_by_script ON rapport.script_variants (script, wording);
-- The oldest variant of a wording, to which the same script sent with other names is joined.
CREATE INDEX script_variants_by_wording ON rapport.script_variants (wording, id);

CREATE TABLE rapport.script_bands (
    key     bigint NOT NULL,
    variant bigint NOT NULL,
    PRIMARY KEY (key, variant)
);

CREATE TABLE rapport.script_answers (
    person  bigint NOT NULL,
    seq     bigint NOT NULL,
    variant bigint NOT NULL,
    at      bigint NOT NULL,
    by      text   NOT NULL,
    PRIMARY KEY (person, seq)
);
CREATE INDEX script_answers_by_variant ON rapport.script_answers (variant, person, at, by);
-- A script's shown text picks answers by their ledger number.
CREATE INDEX script_answers_by_seq ON rapport.script_answers (seq);

CREATE TABLE rapport.scripts (
    id       bigint PRIMARY KEY,
    people   bigint NOT NULL,
    answers  bigint NOT NULL,
    first_at bigint NOT NULL,
    last_at  bigint NOT NULL
);
CREATE INDEX scripts_by_people ON rapport.scripts (people);

CREATE TABLE rapport.cost_factors (
    position bigint PRIMARY KEY,
    name     text NOT NULL UNIQUE,
    unit     text NOT NULL,
    source   text NOT NULL
);
CREATE TABLE rapport.cost_products (
    position bigint PRIMARY KEY,
    product  text NOT NULL UNIQUE,
    name     text
);
CREATE TABLE rapport.cost_values (
    product bigint NOT NULL REFERENCES rapport.cost_products (position),
    factor  bigint NOT NULL REFERENCES rapport.cost_factors (position),
    value   double precision NOT NULL CHECK (value >= 0),
    PRIMARY KEY (product, factor)
);

-- The vault: each person's key wrapped by the master key (person '' holds the check value
-- that proves the master key), the ledger's own wrapped secrets, and its identity.
CREATE TABLE rapport_vault.keys (
    person  text  PRIMARY KEY,
    wrapped bytea NOT NULL
);
CREATE TABLE rapport_vault.secrets (
    name    text  PRIMARY KEY,
    wrapped bytea NOT NULL
);
CREATE TABLE rapport_vault.meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
