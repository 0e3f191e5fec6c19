//! What pages and the API both show, built once for either: a person's card (audited, and
//! without personal text for analysts) and a row of the people list.

use std::sync::Arc;

use domain::readings::SORTABLE;
use domain::{Card, PersonId};
use serde_json::{Map, Value};

use crate::auth::{Principal, pseudonym};
use crate::snapshot::Snapshot;
use crate::state::AppState;

/// Why a card could not be shown.
#[derive(Debug)]
pub enum CardError {
    NotFound,
    Failed(app::AppError),
}

impl From<app::AppError> for CardError {
    fn from(e: app::AppError) -> CardError {
        match e {
            app::AppError::NoPerson { .. } => CardError::NotFound,
            other => CardError::Failed(other),
        }
    }
}

/// How `snapshot` ranks one person's readings: against the distributions it holds, with the
/// fits it holds; what the person needs of others is looked up in the kept readings.
pub fn ranking(snapshot: &Snapshot) -> app::Ranking<'_> {
    app::Ranking::KeptWith {
        models: &snapshot.models,
        dists: &snapshot.dists,
    }
}

/// The card of `person` as `who` may see it, with the snapshot it was ranked against. The
/// view is written to the audit log (and committed) before the card is returned.
pub async fn card(
    state: &Arc<AppState>,
    who: &Principal,
    person: &str,
) -> Result<(Card, Arc<Snapshot>), CardError> {
    let person = PersonId::parse(person).map_err(|_| CardError::NotFound)?;
    let snapshot = state.snapshot();
    let s = state.clone();
    let snap = snapshot.clone();
    let actor = who.actor();
    let mut card = tokio::task::spawn_blocking(move || {
        s.app
            .card(&person, &actor, &s.audit, s.as_of(), ranking(&snap))
    })
    .await
    .map_err(|e| CardError::Failed(app::AppError::Refused(e.to_string())))??;
    if !who.role.sees_personal_text() {
        let key = state.pseudonym_key;
        card.withhold_personal(&|k| pseudonym(&key, k));
    }
    Ok((card, snapshot))
}

/// Forgets a person for good (see `store::PersonData::forget`) and records that it happened,
/// without recording who it was; then takes them out of this server's lists at once (other
/// servers follow within seconds: see `AppState::watch_forgotten`).
pub async fn forget(
    state: &Arc<AppState>,
    person: &PersonId,
    actor: &str,
) -> Result<store::Forgotten, app::AppError> {
    let s = state.clone();
    let p = person.clone();
    let actor = actor.to_owned();
    let done = tokio::task::spawn_blocking(move || {
        // The server's own catch-up of the kept readings (after the person's last change, say)
        // may hold the ledger for a moment: wait for it as a write of events does, up to
        // `WRITER_WAIT`, rather than answer an error. A busy ledger has done nothing yet.
        let started = std::time::Instant::now();
        let done = loop {
            match s.app.forget(&p, &actor, &s.audit) {
                Err(e) if e.is_busy() && started.elapsed() < crate::state::WRITER_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        s.catch_up_forgotten();
        Ok::<_, app::AppError>(done)
    })
    .await
    .map_err(|e| app::AppError::Refused(e.to_string()))??;
    state.mark_dirty();
    Ok(done)
}

/// The names a list shows for `people`, as `who` may see them: their current names, or for
/// those who may not read personal text a pseudonym of each person who has one (blocking).
pub fn list_names(state: &AppState, who: &Principal, people: &[PersonId]) -> Vec<Option<String>> {
    let names = state.snapshot().names.names_of(people).unwrap_or_else(|| {
        state.app.names_of(people).unwrap_or_else(|e| {
            tracing::warn!("reading names for a list: {e}");
            vec![None; people.len()]
        })
    });
    if who.role.sees_personal_text() {
        return names;
    }
    names
        .into_iter()
        .zip(people)
        .map(|(n, p)| n.map(|_| pseudonym(&state.pseudonym_key, p.as_str())))
        .collect()
}

/// Every sortable field the person has, nested by reading as in READINGS.md.
pub fn list_readings(fields: &[Option<f64>]) -> Value {
    let mut readings = Map::new();
    for (path, v) in SORTABLE.iter().zip(fields) {
        let Some(v) = *v else {
            continue;
        };
        let (reading, field) = path.split_once('.').unwrap_or((path, ""));
        let entry = readings
            .entry(reading)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(o) = entry {
            o.insert(field.to_owned(), number(v));
        }
    }
    Value::Object(readings)
}

/// A figure as JSON: whole numbers as integers, others at full precision (26/27 is
/// 0.9629629629629629, not 0.963). Rounding is for what people read, never for machines.
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// Everything held about a person (see `domain::card::export`), recorded as an export by
/// `actor`.
pub async fn export(
    state: &Arc<AppState>,
    person: &PersonId,
    actor: &str,
) -> Result<Value, app::AppError> {
    let s = state.clone();
    let p = person.clone();
    let actor = actor.to_owned();
    let snapshot = state.snapshot();
    tokio::task::spawn_blocking(move || s.app.export(&p, &actor, &s.audit, ranking(&snapshot)))
        .await
        .map_err(|e| app::AppError::Refused(e.to_string()))?
}

/// The scripts in use as `who` may see them: the `limit` largest (at most
/// [`crate::snapshot::SCRIPTS_LISTED`]). Analysts see a script's text only when that very text
/// went to more than five people — then it cannot be about one of them.
pub fn scripts(snapshot: &Snapshot, who: &Principal, limit: usize) -> store::ScriptsOverview {
    let mut o = (*snapshot.scripts).clone();
    o.list.truncate(limit);
    if !who.role.sees_personal_text() {
        for s in &mut o.list {
            if s.text_people <= domain::scripts::OTHERS as u64 {
                s.text = None;
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_figures_carry_full_precision_and_whole_numbers_stay_whole() {
        for (v, json) in [
            (26.0 / 27.0, "0.9629629629629629"),
            (0.5, "0.5"),
            (3.0, "3"),
            (-2.0, "-2"),
            (1e-7, "1e-7"),
        ] {
            assert_eq!(number(v).to_string(), json, "{v}");
        }
        assert_eq!(number(f64::NAN), Value::Null);
    }
}
