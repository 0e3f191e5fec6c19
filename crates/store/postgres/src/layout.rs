//! The partitioned layout: which tables hold a person's rows, how each is partitioned by the
//! person, and the statements that make a partition here or on another server.
//!
//! Every person-keyed table is `PARTITION BY HASH` on its person column, all with the same
//! modulus (the ledger's `partitions`, 64 unless chosen at `init`), and partition *n* of
//! every table lives on the same server: a person's events, sealed fields, kept readings,
//! menu choices and key are always together (see `partition` for how the two key types are
//! made to agree). What is not a person's — the directory of people, the menu, tokens,
//! sessions, the index of scripts, the distributions and the index of kept figures, fits,
//! the audit log — stays on the coordinating server.
//!
//! PostgreSQL refuses a foreign partition under a parent with a unique index, so the parents
//! carry only plain indexes; each partition carries its own primary key and unique keys,
//! which all include the person (a key unique within a partition is unique everywhere, since
//! a person is in one partition only). For imports this means an event is the same event when
//! its `(person, source, id)` is: docs/sharding.md says what that changes.

use deadpool_postgres::GenericClient;

use crate::error::Result;
use crate::partition;

/// The default number of partitions of a new ledger: enough to spread over a few dozen
/// servers by moving whole partitions, few enough that a partition is a unit worth moving.
pub const DEFAULT_PARTITIONS: u32 = 64;

/// A table partitioned by the person.
pub struct Table {
    pub schema: &'static str,
    pub name: &'static str,
    /// The partition key: the person's ledger key or id.
    pub key: &'static str,
    pub columns: &'static str,
    /// Enforced per partition (each includes the person).
    pub unique: &'static [&'static str],
    /// Plain indexes, on the parent (and so on every local partition) and on remote ones.
    pub indexes: &'static [(&'static str, &'static str)],
}

impl Table {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The partition's table name (unqualified), e.g. `events_p07`.
    pub fn part(&self, n: u32) -> String {
        format!("{}_p{n:02}", self.name)
    }

    pub fn qualified_part(&self, n: u32) -> String {
        format!("{}.{}", self.schema, self.part(n))
    }

    fn constraints(&self, table: &str) -> String {
        self.unique
            .iter()
            .map(|u| format!("ALTER TABLE {table} ADD {u};"))
            .collect()
    }

    /// The parent on the coordinating server.
    pub fn create_parent(&self) -> String {
        format!(
            "CREATE TABLE {} ({}) PARTITION BY HASH ({});",
            self.qualified(),
            self.columns,
            self.key
        )
    }

    pub fn parent_indexes(&self) -> String {
        self.indexes
            .iter()
            .map(|(name, def)| format!("CREATE INDEX {name} ON {} {def};", self.qualified()))
            .collect()
    }

    /// Partition `n` of `count`, kept on the coordinating server.
    pub fn create_local(&self, n: u32, count: u32) -> String {
        let part = self.qualified_part(n);
        format!(
            "CREATE TABLE {part} PARTITION OF {} FOR VALUES WITH (MODULUS {count}, REMAINDER {n});{}",
            self.qualified(),
            self.constraints(&part)
        )
    }

    /// Partition `n` as a table of its own called `table` (qualified): on another server, or
    /// beside the partition while it is copied back to the coordinator. Same columns, keys and
    /// indexes.
    pub fn create_standalone(&self, n: u32, table: &str) -> String {
        let suffix = table.rsplit('_').next().filter(|s| *s == "in");
        let mut sql = format!(
            "CREATE TABLE {table} ({});{}",
            self.columns,
            self.constraints(table)
        );
        for (name, def) in self.indexes {
            let name = match suffix {
                Some(s) => format!("{name}_{n:02}_{s}"),
                None => format!("{name}_{n:02}"),
            };
            sql.push_str(&format!("CREATE INDEX {name} ON {table} {def};"));
        }
        sql
    }

    /// Partition `n` on another server: a partition of a parent of that server's own (made if
    /// missing), so that the direct import path sends one `COPY` per table and server.
    pub fn create_remote_partition(&self, n: u32, count: u32) -> String {
        let (parent, part) = (self.qualified(), self.qualified_part(n));
        let mut sql = format!(
            "CREATE TABLE IF NOT EXISTS {parent} ({}) PARTITION BY HASH ({});",
            self.columns, self.key
        );
        for (name, def) in self.indexes {
            sql.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON {parent} {def};"
            ));
        }
        sql.push_str(&format!(
            "CREATE TABLE {part} PARTITION OF {parent} FOR VALUES WITH (MODULUS {count}, REMAINDER {n});{}",
            self.constraints(&part)
        ));
        sql
    }

    /// Partition `n` as a foreign table on the coordinating server, its rows on `server`.
    pub fn create_foreign(&self, n: u32, count: u32, server: &str) -> String {
        format!(
            "CREATE FOREIGN TABLE {} PARTITION OF {} FOR VALUES WITH (MODULUS {count}, REMAINDER {n})
             SERVER {server} OPTIONS (schema_name '{}', table_name '{}');",
            self.qualified_part(n),
            self.qualified(),
            self.schema,
            self.part(n)
        )
    }
}

/// Every table that holds a person's rows, in the order a move copies them.
pub const TABLES: &[Table] = &[
    Table {
        schema: "rapport",
        name: "events",
        key: "person",
        columns: "person bigint NOT NULL, seq bigint NOT NULL, source text NOT NULL,
                  id text NOT NULL, kind smallint NOT NULL, at bigint NOT NULL,
                  body bytea NOT NULL, lines text, batch bigint NOT NULL",
        unique: &["PRIMARY KEY (person, seq)", "UNIQUE (person, source, id)"],
        indexes: &[],
    },
    Table {
        schema: "rapport",
        name: "sealed",
        key: "person",
        columns: "person bigint NOT NULL, seq bigint NOT NULL, blob bytea NOT NULL",
        unique: &["PRIMARY KEY (person, seq)"],
        indexes: &[],
    },
    Table {
        schema: "rapport",
        name: "script_answers",
        key: "person",
        columns: "person bigint NOT NULL, seq bigint NOT NULL, variant bigint NOT NULL,
                  at bigint NOT NULL, by text NOT NULL",
        unique: &["PRIMARY KEY (person, seq)"],
        indexes: &[
            ("script_answers_by_variant", "(variant, person, at, by)"),
            ("script_answers_by_seq", "(seq)"),
        ],
    },
    Table {
        schema: "rapport",
        name: "kept",
        key: "person",
        columns: "person text COLLATE \"C\" NOT NULL, next_change integer, last_tx bigint,
                  scripted bigint NOT NULL, scripted_sum bigint NOT NULL,
                  extras bigint NOT NULL, figures bytea NOT NULL",
        unique: &["PRIMARY KEY (person)"],
        indexes: &[(
            "kept_by_next_change",
            "(next_change) WHERE next_change IS NOT NULL",
        )],
    },
    Table {
        schema: "rapport",
        name: "kept_choices",
        key: "person",
        columns: "person text COLLATE \"C\" NOT NULL, item text NOT NULL, option text NOT NULL",
        unique: &["PRIMARY KEY (person, item)"],
        indexes: &[],
    },
    Table {
        schema: "rapport",
        name: "kept_dirty",
        key: "pk",
        columns: "pk bigint NOT NULL",
        unique: &["PRIMARY KEY (pk)"],
        indexes: &[],
    },
    Table {
        schema: "rapport_vault",
        name: "keys",
        key: "person",
        columns: "person text NOT NULL, wrapped bytea NOT NULL",
        unique: &["PRIMARY KEY (person)"],
        indexes: &[],
    },
];

/// Migration 3: partitions every person-keyed table by the person, keeping their rows, and
/// renumbers the ledger's keys of people already there so that each key falls in the same
/// partition as the person's id. Runs inside the caller's transaction.
pub(crate) async fn partition(c: &impl GenericClient, count: u32) -> Result<()> {
    let people: Vec<(i64, String)> = c
        .query("SELECT pk, id FROM rapport.people ORDER BY pk", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut after = 0;
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for (pk, id) in &people {
        let k = partition::key_for(id, after, count);
        after = k;
        if k != *pk {
            old.push(*pk);
            new.push(k);
        }
    }
    let remap = !old.is_empty();
    if remap {
        c.batch_execute(
            "CREATE TEMP TABLE rapport_remap (old bigint PRIMARY KEY, new bigint NOT NULL)
             ON COMMIT DROP",
        )
        .await?;
        c.execute(
            "INSERT INTO rapport_remap SELECT * FROM unnest($1::bigint[], $2::bigint[])",
            &[&old, &new],
        )
        .await?;
        // Through negative keys, so that no key is taken twice on the way.
        c.batch_execute(
            "UPDATE rapport.people p SET pk = -r.new FROM rapport_remap r WHERE p.pk = r.old;
             UPDATE rapport.people SET pk = -pk WHERE pk < 0;",
        )
        .await?;
    }
    for t in TABLES {
        let q = t.qualified();
        c.batch_execute(&format!(
            "ALTER TABLE {q} RENAME TO {}_unpartitioned;",
            t.name
        ))
        .await?;
        let mut sql = t.create_parent();
        for n in 0..count {
            sql.push_str(&t.create_local(n, count));
        }
        c.batch_execute(&sql).await?;
        let old_table = format!("{}.{}_unpartitioned", t.schema, t.name);
        let bigint_key = t.columns.starts_with(&format!("{} bigint", t.key));
        if remap && bigint_key {
            let cols: Vec<&str> = t
                .columns
                .split(',')
                .map(|c| c.split_whitespace().next().unwrap_or(""))
                .collect();
            let select: Vec<String> = cols
                .iter()
                .map(|col| {
                    if *col == t.key {
                        format!("coalesce(r.new, o.{col})")
                    } else {
                        format!("o.{col}")
                    }
                })
                .collect();
            c.batch_execute(&format!(
                "INSERT INTO {q} ({}) SELECT {} FROM {old_table} o
                 LEFT JOIN rapport_remap r ON r.old = o.{}",
                cols.join(", "),
                select.join(", "),
                t.key
            ))
            .await?;
        } else {
            c.batch_execute(&format!("INSERT INTO {q} SELECT * FROM {old_table}"))
                .await?;
        }
        c.batch_execute(&format!("DROP TABLE {old_table};{}", t.parent_indexes()))
            .await?;
    }
    c.batch_execute(
        "CREATE TABLE rapport.shard_servers (
             name     text PRIMARY KEY,
             url      text NOT NULL,
             added_at bigint NOT NULL
         );
         -- Where each partition's rows are: NULL on this (the coordinating) server.
         CREATE TABLE rapport.placement (
             part   integer PRIMARY KEY,
             server text REFERENCES rapport.shard_servers (name)
         );",
    )
    .await?;
    c.execute(
        "INSERT INTO rapport.placement (part) SELECT generate_series(0, $1::int - 1)",
        &[&(count as i32)],
    )
    .await?;
    crate::set_meta(c, "rapport.meta", "partitions", &count.to_string()).await?;
    Ok(())
}
