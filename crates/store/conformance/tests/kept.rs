//! Kept readings equal a full recomputation, on every backend: random sequences of imports,
//! posts, forgettings, menu and consent choices, model fits, settings and moves of the clock,
//! with every person's kept figures and everyone's distributions compared to the last digit
//! after each step (`App::check_kept`, the code path `--as-of` uses).

use std::sync::Arc;

use domain::{Day, NewEvent, PersonId};
use proptest::prelude::*;
use rapport_store_tests::{Backend, Postgres, Sqlite};
use store::{Ledger, MasterKey};

const PEOPLE: usize = 9;
const TEXTS: [&str; 3] = [
    "Thank you for your message, we will look into it and come back to you soon.",
    "Your parcel has been sent again today and should arrive within three days.",
    "I checked your account myself and corrected the second invoice by hand.",
];

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    /// Events, each (kind, person, another person, days from the clock, a small number).
    Import(Vec<(u8, usize, usize, i32, u8)>),
    Forget(usize),
    /// The clock moves this many days on.
    Days(u16),
    OptIn(bool),
    Fit,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec((0u8..16, 0..PEOPLE, 0..PEOPLE, -400i32..40, 0u8..4), 1..25)
            .prop_map(Step::Import),
        1 => (0..PEOPLE).prop_map(Step::Forget),
        3 => prop_oneof![1u16..3, 25u16..40, 85u16..100, 170u16..200].prop_map(Step::Days),
        1 => any::<bool>().prop_map(Step::OptIn),
        1 => Just(Step::Fit),
    ]
}

fn event(n: usize, e: &(u8, usize, usize, i32, u8), today: Day) -> NewEvent {
    let (kind, p, q, days, k) = *e;
    let day = Day::from_days(today.days_since_epoch() + days);
    let at = format!("{day}T{:02}:00:00Z", 8 + k);
    let later = Day::from_days(day.days_since_epoch() + 10 + 20 * i32::from(k));
    let person = format!("p{p}");
    let other = format!("p{q}");
    let r = k % 3; // which of a few references
    let body = match kind {
        0 => format!(
            r#""kind":"invoice.issued","invoice":"i{r}","amount":"{}.50","currency":"EUR","due":"{later}""#,
            10 + k
        ),
        1 => format!(
            r#""kind":"payment.received","invoice":"i{r}","amount":"{}.50","currency":"EUR""#,
            10 + k
        ),
        2 => format!(r#""kind":"order.placed","order":"o{n}","amount":"12.00","currency":"EUR""#),
        3 => format!(r#""kind":"contact.opened","contact":"c{r}","channel":"email","topic":"x""#),
        4 => format!(
            r#""kind":"contact.answered","contact":"c{r}","by":"agent","text":"{}""#,
            TEXTS[usize::from(k) % TEXTS.len()]
        ),
        5 => format!(r#""kind":"referral.made","referred":"{other}""#),
        6 => format!(r#""kind":"incident.occurred","incident":"n{r}","what":"late""#),
        7 => format!(r#""kind":"apology.made","incident":"n{r}","text":"sorry""#),
        8 => format!(r#""kind":"promise.made","promise":"m{r}","due":"{later}","what":"call""#),
        9 => format!(r#""kind":"promise.kept","promise":"m{r}""#),
        10 => format!(
            r#""kind":"outreach.sent","channel":"email","topic":"{}""#,
            ["newsletter", "service", "surveys", "marketing"][usize::from(k)]
        ),
        11 => format!(
            r#""kind":"consent.given","purpose":"{}""#,
            ["newsletter", "all", "surveys", "marketing"][usize::from(k)]
        ),
        12 => format!(
            r#""kind":"consent.withdrawn","purpose":"{}""#,
            ["newsletter", "all", "surveys", "service"][usize::from(k)]
        ),
        13 => format!(
            r#""kind":"menu.chosen","item":"{}","option":"{}""#,
            ["frequency", "channel", "topic.service", "frequency"][usize::from(k)],
            ["weekly", "email", "no", "2-per-month"][usize::from(k)]
        ),
        14 => format!(r#""kind":"review.given","score":{}"#, 3 + 2 * k),
        _ => format!(r#""kind":"invoice.disputed","invoice":"i{r}","reason":"too much""#),
    };
    NewEvent::from_json_line(&format!(
        r#"{{"source":"t","id":"e{n}","person":"{person}","at":"{at}",{body}}}"#
    ))
    .expect("a valid event")
}

fn fit() -> store::StoredFit {
    store::StoredFit {
        seq: 0,
        model: "bgnbd".into(),
        params: serde_json::json!({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}),
        std_errors: serde_json::json!({}),
        log_likelihood: -1.0,
        iterations: 1,
        gradient_norm: 0.0,
        converged: true,
        fitted_at: domain::Timestamp::from_unix(1_700_000_000),
        calibration_end: domain::Timestamp::from_unix(1_700_000_000),
        unit: "weeks".into(),
        events: 1,
        people: 1,
        covariance: None,
    }
}

/// Runs `steps` on a fresh ledger of `backend`, checking the kept readings after each.
/// `scan`: catch-ups read everyone's events in one pass (as for many people at once) rather
/// than each person's.
fn run(backend: &dyn Backend, steps: &[Step], scan: bool) -> Result<(), TestCaseError> {
    let ledger: Arc<dyn Ledger> = Arc::from(backend.create(&MasterKey::generate()).unwrap());
    let mut app = app::App::over(ledger.clone(), app::Location::Sqlite("unused".into()));
    if scan {
        app = app.scanning_always();
    }
    let mut today = Day::parse("2024-03-01").unwrap();
    let mut n = 0;
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Import(events) => {
                let events: Vec<NewEvent> = events
                    .iter()
                    .map(|e| {
                        n += 1;
                        event(n, e, today)
                    })
                    .collect();
                rapport_store_tests::import(&*ledger, events);
            }
            Step::Forget(p) => {
                ledger
                    .forget(&PersonId::parse(&format!("p{p}")).unwrap())
                    .unwrap();
            }
            Step::Days(d) => today = Day::from_days(today.days_since_epoch() + i32::from(*d)),
            Step::OptIn(surveys) => {
                let o =
                    surveys.then(|| domain::readings::OptIn::parse("surveys,newsletter").unwrap());
                app.set_opt_in(o.as_ref(), "test").unwrap();
            }
            Step::Fit => {
                app.save_fit(&fit(), "test").unwrap();
            }
        }
        app.keep_up(today, &mut |_| true, &|_, _| {}).unwrap();
        let report = app.check_kept().unwrap();
        prop_assert!(
            report.differences.is_empty(),
            "{}: after step {i} ({s:?}) of {steps:?}, on {today}: {:#?}",
            backend.name(),
            report.differences
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn kept_readings_equal_a_full_recomputation_after_every_step_on_sqlite(
        steps in prop::collection::vec(step(), 1..10),
        scan in any::<bool>(),
    ) {
        run(&Sqlite::new(), &steps, scan)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn kept_readings_equal_a_full_recomputation_after_every_step_on_postgres(
        steps in prop::collection::vec(step(), 1..8),
        scan in any::<bool>(),
    ) {
        if let Some(b) = Postgres::new() {
            run(&b, &steps, scan)?;
        }
    }
}
