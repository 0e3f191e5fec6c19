//! The person's own side on the command line: the menu they choose from, a link to their own
//! page, whether they may be contacted (and which purposes need their consent first), their
//! data to take away, and being forgotten.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use app::{App, AppError, DirectAudit, Ranking};
use domain::{PersonId, Timestamp};
use serde_json::{Value, json};

use crate::cli::{
    ExportArgs, ForgetArgs, LinkArgs, MayContactArgs, MenuCommand, OptInArgs, RekeyArgs, Setting,
    SettingsArgs, WelcomeBackArgs,
};
use crate::ledger;

fn person(id: &str) -> anyhow::Result<PersonId> {
    PersonId::parse(id).map_err(|e| anyhow!("person: {e}"))
}

fn options(list: &[String]) -> anyhow::Result<Vec<Value>> {
    app::menu::parse_options(&list.join("\n")).map_err(|(f, m)| anyhow!("--option ({f}): {m}"))
}

pub fn menu(db: &app::Location, command: &MenuCommand) -> anyhow::Result<ExitCode> {
    let store = ledger::open(db)?;
    let save = |app: &App, id: &str, item: Value| -> anyhow::Result<()> {
        let item = app::menu::parse_item(&item).map_err(|(f, m)| anyhow!("--{f}: {m}"))?;
        let item = app
            .menu_put(id, item, &ledger::actor())
            .map_err(|e| match e {
                app::MenuError::Wrong((_, m)) => anyhow!("item: {m}"),
                other => anyhow::Error::new(other).context("saving the menu"),
            })?;
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
            save(&store, &a.item, item)?;
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
            save(&store, &a.item, item)?;
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

/// The command line's view of a use case's failure: a person's mistake names the flag.
fn failed(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid { field, message } => anyhow!("--{field}: {message}"),
        other => anyhow::Error::new(other),
    }
}

pub fn link(db: &app::Location, args: &LinkArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let app = ledger::open(db)?;
    let (link, expires) = app.own_link(&p, args.valid).map_err(failed)?;
    println!("{}/me/{link}", args.base.trim_end_matches('/'));
    eprintln!(
        "Valid until {expires}, for {p} only. Send it to them; anyone holding it sees their page."
    );
    Ok(ExitCode::SUCCESS)
}

/// Exits 0 for yes and 1 for no; every error exits 2 (see `Command::failure_code`).
pub fn may_contact(db: &app::Location, args: &MayContactArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let app = ledger::open(db)?;
    let answer = app
        .may_contact(&p, &args.channel, args.topic.as_deref(), Timestamp::now())
        .map_err(failed)?;
    let yes = answer.yes;
    let answer = answer.json;
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

pub fn settings(db: &app::Location, args: &SettingsArgs) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    let show = |app: &App| -> anyhow::Result<()> {
        let opt_in = app.opt_in()?;
        let standard = if app.opt_in_is_default()? {
            " (the standard ones)"
        } else {
            ""
        };
        println!("opt-in  {opt_in}{standard}");
        Ok(())
    };
    match &args.setting {
        None | Some(Setting::OptIn(OptInArgs { purposes: None })) => show(&app)?,
        Some(Setting::OptIn(OptInArgs {
            purposes: Some(text),
        })) => {
            let purposes = if text.trim().eq_ignore_ascii_case(app::settings::DEFAULT) {
                None
            } else {
                Some(domain::readings::OptIn::parse(text).map_err(|e| anyhow!("opt-in: {e}"))?)
            };
            app.set_opt_in(purposes.as_ref(), &ledger::actor())
                .context("saving the setting")?;
            show(&app)?;
            ledger::keep_up(&app)?;
            eprintln!(
                "Outreach about these purposes now needs the person's consent first: may-contact, readings and lists follow it at once (a running server within seconds)."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(db: &app::Location, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let app = ledger::open(db)?;
    ledger::keep_up(&app)?;
    let audit = DirectAudit(app.ledger().clone());
    let doc = app
        .export(&p, &ledger::actor(), &audit, Ranking::Kept)
        .map_err(failed)?;
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

pub fn forget(db: &app::Location, args: &ForgetArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    if !args.yes {
        bail!(
            "forgetting {p} cannot be undone: run again with --yes (take `rapport export {p}` first if they want a copy)"
        );
    }
    let app = ledger::open(db)?;
    let audit = DirectAudit(app.ledger().clone());
    let done = app.forget(&p, &ledger::actor(), &audit).map_err(failed)?;
    println!(
        "Forgotten: {} events and {} sealed fields removed and overwritten, the person's key destroyed.",
        done.events, done.sealed
    );
    println!(
        "Later imports skip {p}'s events (the ledger keeps only a keyed hash of the id, not who they were)."
    );
    if !done.cleared_now {
        eprintln!(
            "note: readers kept old copies of the removed rows in the database's log; they go at its next checkpoint (stop the server and run `rapport forget` again to be sure)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn welcome_back(db: &app::Location, args: &WelcomeBackArgs) -> anyhow::Result<ExitCode> {
    let p = person(&args.person)?;
    let app = ledger::open(db)?;
    app.welcome_back(&p, &ledger::actor()).map_err(failed)?;
    println!(
        "Welcome back: events for {p} are imported again from now on, as a new person's. Nothing of the old history returns; re-importing old exports brings back what they hold."
    );
    Ok(ExitCode::SUCCESS)
}

pub fn rekey(db: &app::Location, args: &RekeyArgs) -> anyhow::Result<ExitCode> {
    if !args.yes {
        bail!(
            "re-keying replaces the master key: from then on only the new key opens this ledger. Run again with --yes"
        );
    }
    let app = ledger::open(db)?;
    let done = app
        .rekey(args.print_key, &ledger::actor())
        .map_err(failed)?;
    match &done.file {
        Some(file) => println!(
            "Re-wrapped {} person keys under a new master key, now in {}.",
            done.keys,
            file.display()
        ),
        None => {
            println!("{}", done.key.to_hex());
            eprintln!(
                "Re-wrapped {} person keys under the new master key above (shown only this once): pass it as {} from now on.",
                done.keys,
                store::keys::MASTER_KEY_ENV
            );
        }
    }
    if !done.cleared_now {
        eprintln!(
            "The old wrappings are still in the database's files: a reader or an old transaction held them back. On SQLite, run `rapport rekey` again when nothing else uses the ledger; on PostgreSQL, run `VACUUM FULL rapport_vault.keys, rapport_vault.secrets` when it is quiet."
        );
    }
    eprintln!(
        "Destroy every copy of the old master key: backups of the vault taken before can then no longer be opened. A running server must be restarted with the new key."
    );
    Ok(ExitCode::SUCCESS)
}
