//! `rapport demo`: a realistic ledger from the seeded generator, and where to look in it.
//!
//! The demo ledger is marked as such, so running the demo again replaces it, while a real
//! ledger at the same path is never touched.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use import::Format;
use store::{MasterKey, SqliteStore, Store, vault};

use crate::cli::DemoArgs;
use crate::commands::import::import_reader;

const DEMO_MARK: &str = "demo";

pub fn run(db: &Path, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if db.exists() {
        let key = MasterKey::locate(db)?;
        let is_demo = SqliteStore::open(db, key)
            .ok()
            .and_then(|s| s.meta(DEMO_MARK).ok().flatten())
            .is_some();
        if !is_demo {
            bail!(
                "{} exists and is not a demo ledger; give the demo another file with --db demo.db",
                db.display()
            );
        }
        for path in [
            db.to_path_buf(),
            vault::sibling(db, "vault"),
            vault::sibling(db, "master-key"),
            vault::sibling(db, "vault-wal"),
            vault::sibling(db, "vault-shm"),
            vault::sibling(db, "wal"),
            vault::sibling(db, "shm"),
        ] {
            let _ = std::fs::remove_file(path);
        }
        // SQLite names its side files rapport.db-wal, not rapport.db.wal.
        for suffix in ["-wal", "-shm"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
            let mut v = vault::sibling(db, "vault").into_os_string();
            v.push(suffix);
            let _ = std::fs::remove_file(v);
        }
    }
    let started = Instant::now();
    let key = MasterKey::generate();
    let key_path = MasterKey::default_path(db);
    if std::env::var(vault::MASTER_KEY_ENV).map_or(true, |v| v.trim().is_empty()) {
        key.write_new(&key_path)?;
    }
    let key = MasterKey::locate(db)?;
    let mut store =
        SqliteStore::create(db, key).with_context(|| format!("creating {}", db.display()))?;
    store.set_meta(DEMO_MARK, "1")?;

    let end = domain::Timestamp::now();
    let opts = demo::Options {
        people: args.people,
        seed: args.seed,
        end,
        years: 3,
    };
    let mut events = Vec::new();
    let stats = demo::generate(&opts, &mut events).context("generating the demo")?;
    let size = events.len() as u64;
    let outcome = import_reader(
        &mut store,
        Path::new("demo.jsonl"),
        &Format::JsonLines,
        events.as_slice(),
        size,
        None,
    )?;
    if !outcome.shown.is_empty() {
        bail!("the generator wrote an invalid event: {}", outcome.shown[0]);
    }
    // The menu the generated people choose from.
    for (item, options) in demo::menu() {
        let (kind, title) = match *item {
            "channel" => ("channel", "How we reach you"),
            "frequency" => ("frequency", "How often we may contact you"),
            "delivery" => ("service", "Delivery"),
            "invoice" => ("service", "Invoices"),
            "packaging" => ("product", "Packaging"),
            _ => ("product", "Roast"),
        };
        store::PersonData::menu_put(
            &mut store,
            &store::MenuItem {
                item: (*item).to_owned(),
                kind: kind.to_owned(),
                title: title.to_owned(),
                options: options
                    .iter()
                    .map(|o| store::MenuOption {
                        id: (*o).to_owned(),
                        title: o.replace('-', " "),
                    })
                    .collect(),
            },
        )?;
    }
    // A catalogue of hidden costs for the demo's products, as `rapport catalogue import`
    // would read it.
    let (factors, products) = demo::catalogue_csv();
    let factors =
        import::catalogue::parse_factors(Path::new("demo factors.csv"), factors.as_bytes())
            .map_err(|e| anyhow::anyhow!("the demo catalogue: {}", e[0]))?;
    let products = import::catalogue::parse_products(
        Path::new("demo products.csv"),
        products.as_bytes(),
        &factors,
    )
    .map_err(|e| anyhow::anyhow!("the demo catalogue: {}", e[0]))?;
    let catalogue = domain::costs::Catalogue::new(factors, products)?;
    store::Costs::catalogue_put(&mut store, &catalogue)?;
    // Loyalty and value come from fitted models: fit them, as `rapport fit` would.
    for model in ["bgnbd", "gamma-gamma"] {
        if let Err(e) = crate::commands::fit::fit_quietly(db, model) {
            eprintln!(
                "note: the demo's {model} fit failed ({e:#}); cards show no {model} readings"
            );
        }
    }
    let totals = store.totals()?;
    println!(
        "Built the demo ledger {}: {} people, {} events (seed {}) in {:.1} s.",
        db.display(),
        totals.people,
        totals.events,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    let _ = stats;
    let exe = "rapport";
    let db_flag = if db == Path::new("rapport.db") {
        String::new()
    } else {
        format!(" --db {}", db.display())
    };
    println!("\nWhere to look:");
    println!("  {exe}{db_flag} people --sort punctuality.on_time_share --limit 20");
    println!("  {exe}{db_flag} people --sort service_load.contacts_per_month --desc --limit 20");
    println!("  {exe}{db_flag} people --json | head -3");
    println!("  {exe}{db_flag} scripts --limit 5");
    println!(
        "  {exe}{db_flag} costs --by month       (hidden costs; the catalogue's figures are made up)"
    );
    println!("\nPeople worth meeting (rapport card ID):");
    for (id, what) in demo::showcase() {
        println!("  {id}  {what}");
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let token = crate::commands::token::create(&mut store, "demo", "admin")?;
    drop(store);
    let config = crate::commands::serve::config(db, 5, 16, false)?;
    crate::commands::serve::serve(config, &args.bind, Some(&token))
}
