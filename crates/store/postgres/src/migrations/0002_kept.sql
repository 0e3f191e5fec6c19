-- Kept readings (see store's kept.rs): each person's figures as of the end of the reading
-- day, an index of every sortable field, each headline's distribution as counts, and the
-- marks of people written since their figures were kept.
CREATE TABLE rapport.kept (
    person       text COLLATE "C" PRIMARY KEY,
    -- The first day (days since 1970-01-01) on which the figures may change by themselves.
    next_change  integer,
    last_tx      bigint,
    scripted     bigint NOT NULL,
    scripted_sum bigint NOT NULL,
    -- A fingerprint of whom they referred and what they chose (kept_refs, kept_choices).
    extras       bigint NOT NULL,
    figures      bytea NOT NULL
);
CREATE INDEX kept_by_next_change ON rapport.kept (next_change) WHERE next_change IS NOT NULL;

-- Every sortable field a person has (field = its place in the list of sortable fields), and
-- each headline's change over 30 days (field 100 + headline).
CREATE TABLE rapport.kept_order (
    field  integer NOT NULL,
    value  double precision NOT NULL,
    person text COLLATE "C" NOT NULL,
    PRIMARY KEY (field, value, person)
);

CREATE TABLE rapport.kept_counts (
    field  integer PRIMARY KEY,
    people bigint NOT NULL
);

CREATE TABLE rapport.kept_dist (
    field  integer NOT NULL,
    value  double precision NOT NULL,
    people bigint NOT NULL,
    PRIMARY KEY (field, value)
);

CREATE TABLE rapport.kept_refs (
    referred text NOT NULL,
    referrer text NOT NULL,
    PRIMARY KEY (referred, referrer)
);
CREATE INDEX kept_refs_by_referrer ON rapport.kept_refs (referrer);

-- Each person's current menu choices, as their kept readings saw them.
CREATE TABLE rapport.kept_choices (
    person text COLLATE "C" NOT NULL,
    item   text NOT NULL,
    option text NOT NULL,
    PRIMARY KEY (person, item)
);

CREATE TABLE rapport.kept_dirty (
    pk bigint PRIMARY KEY
);
