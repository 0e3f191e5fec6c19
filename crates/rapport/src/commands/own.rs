//! The person's own side on the command line: the menu they choose from, a link to their own
//! page, whether they may be contacted (and which purposes need their consent first), their
//! data to take away, and being forgotten.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use domain::{PersonId, Timestamp};
use serde_json::{Value, json};
use store::{Access, PersonData, Store};

use crate::cli::{
    ExportArgs, ForgetArgs, LinkArgs, MayContactArgs, MenuCommand, OptInArgs, Setting,
    SettingsArgs, WelcomeBackArgs,
};
use crate::ledger;

fn person(id: &str) -> anyhow::Result<PersonId> {
    PersonId::parse(id).map_err(|e| anyhow!("person: {e}"))
}

fn options(list: &[String]) -> anyhow::Result<Vec<Value>> {
    web::menu::parse_options(&list.join("\n")).map_err(|(f, m)| anyhow!("--option ({f}): {m}"))
}

pub fn menu(db: &Path, command: &MenuCommand) -> anyhow::Result<ExitCode> {
    let mut store = ledger::open(db)?;
    let save = |store: &mut store::SqliteStore, id: &str, item: Value| -> anyhow::Result<()> {
        let mut item = web::menu::parse_item(&item).map_err(|(f, m)| anyhow!("--{f}: {m}"))?;
        item.item = web::menu::check_id("item", id).map_err(|(_, m)| anyhow!("item: {m}"))?;
        web::menu::put(store, &item).context("saving the menu")?;
        store.audit(&ledger::actor(), &format!("menu.put:{}", item.item), None)?;
        println!(
            "{}: {} ({}), {} options",
            item.item,
            item.title,
            item.kind,
            item.options.len()
        );
        Ok(())
    };
    match command {
        MenuCommand::Add(a) => {
            if store.menu()?.iter().any(|m| m.item == a.item.trim()) {
                bail!(
                    "{:?} is already on the menu: use `rapport menu edit`",
                    a.item
                );
            }
            let item = json!({"kind": a.kind, "title": a.title, "options": options(&a.options)?});
            save(&mut store, &a.item, item)?;
        }
        MenuCommand::Edit(a) => {
            let old = store
                .menu()?
                .into_iter()
                .find(|m| m.item == a.item.trim())
                .ok_or_else(|| anyhow!("{:?} is not on the menu (rapport menu list)", a.item))?;
            let opts = if a.options.is_empty() {
                serde_json::to_value(&old.options)?
            } else {
                Value::Array(options(&a.options)?)
            };
            let item = json!({
                "kind": a.kind.clone().unwrap_or(old.kind),
                "title": a.title.clone().unwrap_or(old.title),
                "options": opts,
            });
            save(&mut store, &a.item, item)?;
        }
        MenuCommand::List(a) => {
            let items = store.menu()?;
            if a.json {
                for i in &items {
                    println!("{}", serde_json::to_string(i)?);
                }
            } else if items.is_empty() {
                println!(
                    "The menu is empty: rapport menu add ITEM --kind K --title T --option id=Title"
                );
            } else {
                for i in &items {
                    let opts: Vec<String> = i
                        .options
                        .iter()
                        .map(|o| format!("{}={}", o.id, o.title))
                        .collect();
                    println!(
                        "{:<24} {:<10} {}: {}",
                        i.item,
                        i.kind,
                        i.title,
                        opts.join(", ")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn link(db: &Path, args: &LinkArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    if !(1..=366).contains(&args.valid) {
        bail!("--valid {}: give 1 to 366 days", args.valid);
    }
    let store = ledger::open(db)?;
    if store.events_of(&p)?.is_none() {
        bail!("no person {p} in {}", db.display());
    }
    let expires = Timestamp::now().plus_days(args.valid);
    let link = web::selfservice::make_link(&store.secret("links"), &p, expires);
    println!("{}/me/{link}", args.base.trim_end_matches('/'));
    eprintln!(
        "Valid until {expires}, for {p} only. Send it to them; anyone holding it sees their page."
    );
    Ok(ExitCode::SUCCESS)
}

/// Exits 0 for yes and 1 for no; every error exits 2 (see `Command::failure_code`).
pub fn may_contact(db: &Path, args: &MayContactArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let channel = web::view::contact_word(&args.channel).map_err(|m| anyhow!("--channel: {m}"))?;
    let topic = args
        .topic
        .as_deref()
        .map(web::view::contact_word)
        .transpose()
        .map_err(|m| anyhow!("--topic: {m}"))?;
    let store = ledger::open(db)?;
    let answer = web::view::may_contact(&store, &p, channel, topic, Timestamp::now())?
        .ok_or_else(|| anyhow!("no person {p} in {}", db.display()))?;
    let yes = answer["may_contact"] == true;
    let reason = answer["reason"].as_str().unwrap_or("");
    let decided = Some(&answer["decided_by"]).filter(|d| !d.is_null());
    if args.json {
        println!("{answer}");
    } else {
        let by = decided
            .map(|d| {
                format!(
                    " ({} {}/{} at {})",
                    d["kind"].as_str().unwrap_or(""),
                    d["source"].as_str().unwrap_or(""),
                    d["id"].as_str().unwrap_or(""),
                    d["at"].as_str().unwrap_or("")
                )
            })
            .unwrap_or_default();
        println!("{}: {reason}{by}", if yes { "yes" } else { "no" });
    }
    Ok(if yes {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn settings(db: &Path, args: &SettingsArgs) -> anyhow::Result<ExitCode> {
    let mut store = ledger::open(db)?;
    let show = |store: &store::SqliteStore| -> anyhow::Result<()> {
        let opt_in = web::settings::opt_in(store)?;
        let standard = if web::settings::opt_in_is_default(store)? {
            " (the standard ones)"
        } else {
            ""
        };
        println!("opt-in  {opt_in}{standard}");
        Ok(())
    };
    match &args.setting {
        None | Some(Setting::OptIn(OptInArgs { purposes: None })) => show(&store)?,
        Some(Setting::OptIn(OptInArgs {
            purposes: Some(text),
        })) => {
            let purposes = if text.trim().eq_ignore_ascii_case(web::settings::DEFAULT) {
                None
            } else {
                Some(domain::readings::OptIn::parse(text).map_err(|e| anyhow!("opt-in: {e}"))?)
            };
            web::settings::set_opt_in(&store, purposes.as_ref()).context("saving the setting")?;
            store
                .audit(&ledger::actor(), "settings.opt-in", None)
                .context("writing the audit log")?;
            show(&store)?;
            eprintln!(
                "Outreach about these purposes now needs the person's consent first. may-contact follows this at once; a running server's lists and charts at their next refresh (within the hour)."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(db: &Path, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let mut store = ledger::open(db)?;
    let Some(history) = store.history(&p)? else {
        bail!("no person {p} in {}", db.display());
    };
    store
        .audit(&ledger::actor(), "person.export", Some(&p))
        .context("writing the audit log")?;
    let now = Timestamp::now();
    let assessed = ledger::assess(&store, now)?;
    let i = assessed
        .people
        .iter()
        .position(|x| *x == p)
        .context("the person vanished while reading")?;
    let doc = domain::card::export(&p, now, &history, &assessed.readings[i]);
    let text = serde_json::to_string_pretty(&doc)?;
    match &args.out {
        Some(path) => std::fs::write(path, text + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn forget(db: &Path, args: &ForgetArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    if !args.yes {
        bail!(
            "forgetting {p} cannot be undone: run again with --yes (take `rapport export {p}` first if they want a copy)"
        );
    }
    let mut store = ledger::open(db)?;
    let done = store
        .forget(&p)?
        .ok_or_else(|| anyhow!("no person {p} in {}", db.display()))?;
    store
        .audit(&ledger::actor(), "person.forget", None)
        .context("writing the audit log")?;
    println!(
        "Forgotten: {} events and {} sealed fields removed and overwritten, the person's key destroyed.",
        done.events, done.sealed
    );
    println!(
        "Later imports skip {p}'s events (the ledger keeps only a keyed hash of the id, not who they were)."
    );
    if !done.log_cleared {
        eprintln!(
            "note: readers kept the write-ahead log busy; its old pages go at the next checkpoint (stop the server and run `rapport forget` again to be sure)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn welcome_back(db: &Path, args: &WelcomeBackArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let mut store = ledger::open(db)?;
    if store.events_of(&p)?.is_some() {
        bail!("{p} is in the ledger already: only someone who was forgotten can be welcomed back");
    }
    if !store.welcome_back(&p)? {
        bail!(
            "{p} was never forgotten in {}: their events import as they are",
            db.display()
        );
    }
    store
        .audit(&ledger::actor(), "person.welcome_back", None)
        .context("writing the audit log")?;
    println!(
        "Welcome back: events for {p} are imported again from now on, as a new person's. Nothing of the old history returns; re-importing old exports brings back what they hold."
    );
    Ok(ExitCode::SUCCESS)
}
