//! What pages and the API both show, built once for either: a person's card (audited, and
//! without personal text for analysts) and a row of the people list.

use std::sync::Arc;

use domain::readings::{SORTABLE, assess_one, sort_in_time};
use domain::{Card, PersonId, Timestamp};
use serde_json::{Map, Value};
use store::Store;

use crate::auth::{Principal, pseudonym};
use crate::snapshot::Snapshot;
use crate::state::AppState;

/// Why a card could not be shown.
#[derive(Debug)]
pub enum CardError {
    NotFound,
    Failed(String),
}

/// One person's readings as of `as_of` from their own history, ranked against everyone's
/// figures in `snapshot` (the one place cards, exports and a person's own page get them).
pub fn readings_now(
    snapshot: &Snapshot,
    history: &[domain::card::FullEvent],
    as_of: Timestamp,
) -> domain::readings::Readings {
    let mut events: Vec<_> = history.iter().map(|e| e.recorded()).collect();
    sort_in_time(&mut events);
    assess_one(&events, as_of, &snapshot.models, snapshot, &snapshot.dists)
}

/// The card of `person` as `who` may see it, with the snapshot it was ranked against. The
/// view is written to the audit log (and committed) before the card is returned.
pub async fn card(
    state: &Arc<AppState>,
    who: &Principal,
    person: &str,
) -> Result<(Card, Arc<Snapshot>), CardError> {
    let person = PersonId::parse(person).map_err(|_| CardError::NotFound)?;
    let s = state.clone();
    let p = person.clone();
    let (history, catalogue) = tokio::task::spawn_blocking(move || {
        s.readers.with(|store| {
            let history = store.history(&p)?;
            // The catalogue only matters for someone who is there.
            let catalogue = match history {
                Some(_) => store::Costs::catalogue(store)?,
                None => None,
            };
            Ok::<_, store::StoreError>((history, catalogue))
        })
    })
    .await
    .map_err(|e| CardError::Failed(e.to_string()))?
    .map_err(|e| CardError::Failed(e.to_string()))?;
    let history = history.ok_or(CardError::NotFound)?;
    state
        .audit
        .record(&who.actor(), "card.view", Some(&person))
        .await
        .map_err(CardError::Failed)?;
    let snapshot = state.snapshot();
    let as_of = Timestamp::now();
    let readings = readings_now(&snapshot, &history, as_of);
    let mut card = Card::build(&person, as_of, &history, &readings);
    card.hidden_costs = hidden_costs(catalogue.as_ref(), &history, as_of);
    if !who.role.sees_personal_text() {
        let key = state.pseudonym_key;
        card.withhold_personal(&|k| pseudonym(&key, k));
    }
    Ok((card, snapshot))
}

/// What a person's orders up to `as_of` cost that no invoice shows; `None` without a
/// catalogue. The card and the person's own page both show it.
pub fn hidden_costs(
    catalogue: Option<&domain::costs::Catalogue>,
    history: &[domain::card::FullEvent],
    as_of: Timestamp,
) -> Option<domain::costs::Figures> {
    catalogue.map(|c| {
        domain::costs::of_person(
            c,
            history
                .iter()
                .filter(|e| e.at <= as_of)
                .map(|e| (e.at, &e.body)),
        )
    })
}

/// Forgets a person for good (see `store::PersonData::forget`) and records that it happened,
/// without recording who it was. `None` if there was no such person.
pub async fn forget(
    state: &Arc<AppState>,
    person: &PersonId,
    actor: &str,
) -> Result<Option<store::Forgotten>, String> {
    let s = state.clone();
    let p = person.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut w = s
            .writer
            .lock()
            .map_err(|_| "the writer is poisoned".to_owned())?;
        let done = store::PersonData::forget(&mut *w, &p).map_err(|e| e.to_string())?;
        // No connection keeps the destroyed key in its cache.
        s.readers.each(|r| r.evict_key(p.as_str()));
        Ok::<_, String>(done)
    })
    .await
    .map_err(|e| e.to_string())??;
    if done.is_some() {
        // Gone from lists, search and charts before this answers (other servers follow
        // within seconds: see `AppState::watch_forgotten`).
        let s = state.clone();
        let _ = tokio::task::spawn_blocking(move || s.catch_up_forgotten()).await;
        state.mark_dirty();
        state.audit.record(actor, "person.forget", None).await?;
    }
    Ok(done)
}

/// The name a list shows for the person at `rank`, as `who` may see it.
pub fn list_name(state: &AppState, snap: &Snapshot, who: &Principal, rank: u32) -> Option<String> {
    // Forgotten since the snapshot was built: no name (and no place in any list).
    let name = snap.name(rank)?;
    if who.role.sees_personal_text() {
        Some(name.to_owned())
    } else {
        Some(pseudonym(
            &state.pseudonym_key,
            snap.people[rank as usize].as_str(),
        ))
    }
}

/// Every sortable field the person has, nested by reading as in READINGS.md.
pub fn list_readings(snap: &Snapshot, rank: u32) -> Value {
    let mut readings = Map::new();
    for (f, path) in SORTABLE.iter().enumerate() {
        let Some(v) = snap.value(f, rank) else {
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

/// Everything held about a person (see `domain::card::export`); `None` if unknown.
pub async fn export(state: &Arc<AppState>, person: &PersonId) -> Result<Option<Value>, String> {
    let s = state.clone();
    let p = person.clone();
    let history = tokio::task::spawn_blocking(move || s.readers.with(|st| st.history(&p)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let Some(history) = history else {
        return Ok(None);
    };
    let now = Timestamp::now();
    let readings = readings_now(&state.snapshot(), &history, now);
    Ok(Some(domain::card::export(person, now, &history, &readings)))
}

/// Longest channel or topic a may-contact question takes, in characters.
pub const MAX_CONTACT_WORD: usize = 200;

/// A channel or topic as a may-contact question takes it, as events' labels are read:
/// surrounding white space dropped, then not empty and without control characters; at most
/// [`MAX_CONTACT_WORD`] characters (counted before trimming). The API and the command line
/// check the same way, and the OpenAPI document says the same.
pub fn contact_word(value: &str) -> Result<&str, String> {
    if value.chars().count() > MAX_CONTACT_WORD {
        return Err(format!("at most {MAX_CONTACT_WORD} characters"));
    }
    match value.trim() {
        "" => Err("is empty: give a word such as email or newsletter".to_owned()),
        word if word.chars().any(char::is_control) => {
            Err("contains a control character".to_owned())
        }
        word => Ok(word),
    }
}

/// Whether `person` may be contacted at `now` on `channel` about `topic`: the answer, its
/// reason and the event that decided it, as the API and the command line give it. `None` if
/// there is no such person. Only public fields are read; the ledger's opt-in purposes are
/// read on every call, so a change applies at once.
pub fn may_contact(
    store: &store::SqliteStore,
    person: &PersonId,
    channel: &str,
    topic: Option<&str>,
    now: Timestamp,
) -> Result<Option<Value>, store::StoreError> {
    use domain::readings::Verdict;
    let Some(events) = store.events_of(person)? else {
        return Ok(None);
    };
    let opt_in = crate::settings::opt_in(store)?;
    let verdict = domain::readings::choices_at(&events, now).check(now, channel, topic, &opt_in);
    let (may, reason, decided) = match verdict {
        Verdict::Yes {
            decided_by: Some(seq),
        } => (true, "chosen", Some(seq)),
        Verdict::Yes { decided_by: None } => (true, "no choice against it", None),
        Verdict::No { reason, decided_by } => (false, reason.words(), decided_by),
    };
    let decided_by = match decided {
        None => Value::Null,
        Some(seq) => {
            let e = events.iter().find(|e| e.seq == seq);
            let ids = store.event_id(person, seq)?;
            serde_json::json!({
                "source": ids.as_ref().map(|i| i.0.clone()),
                "id": ids.as_ref().map(|i| i.1.clone()),
                "kind": e.map(|e| e.body.kind().as_str()),
                "at": e.map(|e| e.at.to_rfc3339()),
            })
        }
    };
    Ok(Some(serde_json::json!({
        "person": person.as_str(),
        "channel": channel,
        "topic": topic,
        "may_contact": may,
        "reason": reason,
        "decided_by": decided_by,
        "as_of": now.to_rfc3339(),
    })))
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

    #[test]
    fn a_channel_or_topic_is_trimmed_and_blank_control_or_long_ones_are_refused() {
        let long = "x".repeat(MAX_CONTACT_WORD + 1);
        let widest = "é".repeat(MAX_CONTACT_WORD);
        let cases: &[(&str, Option<&str>)] = &[
            ("email", Some("email")),
            ("  E-mail ", Some("E-mail")),
            (&widest, Some(&widest)),
            ("", None),
            ("   ", None),
            ("\u{3000}\u{a0}", None),
            ("e\tmail", None),
            ("email\t\n", Some("email")),
            ("em\u{85}ail", None),
            (&long, None),
        ];
        for (value, expected) in cases {
            assert_eq!(contact_word(value).ok(), *expected, "{value:?}");
        }
    }
}
