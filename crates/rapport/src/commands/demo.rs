//! `rapport demo`: a realistic ledger from the seeded generator, and where to look in it.
//!
//! The demo ledger is marked as such, so running the demo again replaces it, while a real
//! ledger at the same path is never touched.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use app::App;
use import::Format;
use store::MasterKey;
use store::keys::MASTER_KEY_ENV;

use crate::cli::DemoArgs;
use crate::commands::import::import_reader;
use crate::ledger;

const DEMO_MARK: &str = "demo";

pub fn run(db: &app::Location, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = db.path()
        && path.exists()
    {
        let is_demo = db
            .master_key()
            .ok()
            .and_then(|key| App::open(db, key).ok())
            .and_then(|app| app.ledger().setting(DEMO_MARK).ok().flatten())
            .is_some();
        if !is_demo {
            bail!(
                "{} exists and is not a demo ledger; give the demo another file with --db demo.db",
                path.display()
            );
        }
        db.remove_files()?;
    }
    let started = Instant::now();
    let key = MasterKey::generate();
    let from_env = std::env::var(MASTER_KEY_ENV).is_ok_and(|v| !v.trim().is_empty());
    if !from_env {
        let Some(key_path) = db.default_key_file() else {
            bail!(
                "a PostgreSQL demo keeps its master key away from the database: set {MASTER_KEY_ENV} \
                 or {} first",
                app::MASTER_KEY_FILE_ENV
            );
        };
        key.write_new(&key_path)?;
    }
    let key = db.master_key()?;
    let app = App::create(db, key).with_context(|| format!("creating {db}"))?;
    app.ledger().set_setting(DEMO_MARK, "1")?;
    let actor = ledger::actor();

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
        &app,
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
        app.menu_put(
            item,
            store::MenuItem {
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
            &actor,
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
    app.catalogue_put(&catalogue, &actor)?;
    // Loyalty and value come from fitted models: fit them, as `rapport fit` would.
    for model in ["bgnbd", "gamma-gamma"] {
        if let Err(e) = crate::commands::fit::fit_quietly(&app, model) {
            eprintln!(
                "note: the demo's {model} fit failed ({e:#}); cards show no {model} readings"
            );
        }
    }
    let totals = app.ledger().totals()?;
    println!(
        "Built the demo ledger {db}: {} people, {} events (seed {}) in {:.1} s.",
        totals.people,
        totals.events,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    let _ = stats;
    let exe = "rapport";
    let db_flag = match db {
        app::Location::Sqlite(p) if p.as_os_str() == "rapport.db" => String::new(),
        other => format!(" --db {other}"),
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
    let token = app.token_create("demo", "admin", &actor)?;
    let config = crate::commands::serve::config(app, 5, 16, false);
    crate::commands::serve::serve(config, &args.bind, Some(&token))
}
