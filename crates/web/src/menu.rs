//! The menu: what the business offers (items with options), and what people make of it —
//! how many chose each option, which combinations people actually compose, and what they
//! propose that is not on it, grouped so that ten people asking for the same thing are one
//! request with ten voices. Counts of choices and voices; never a segment of people.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use store::MenuItem;

use crate::state::AppState;

pub use app::menu::{
    KINDS, MAX_ID, MAX_ITEMS, MAX_OPTIONS, MAX_TITLE, Wrong, check_id, parse_item, parse_options,
};

/// The business's view of the menu (see the module header). `texts`: whether proposal texts
/// may be shown (not to analysts).
pub async fn report(state: &Arc<AppState>, texts: bool) -> Result<Value, String> {
    let snapshot = state.snapshot();
    let s = state.clone();
    let snap = snapshot.clone();
    let (menu, proposals, choices) = tokio::task::spawn_blocking(move || {
        Ok::<_, store::StoreError>((s.app.menu()?, s.app.proposals()?, snap.choices(&s.app)?))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let grouped = tokio::task::spawn_blocking(move || {
        let list: Vec<&str> = proposals.iter().map(|(_, _, t)| t.as_str()).collect();
        let groups = domain::similar::group(&list);
        groups
            .iter()
            .map(|g| {
                let people: std::collections::BTreeSet<&str> =
                    g.members.iter().map(|&i| proposals[i].0.as_str()).collect();
                let (first, last) = g.members.iter().fold((None, None), |(a, b), &i| {
                    let at = proposals[i].1;
                    (
                        Some(a.map_or(at, |x: domain::Timestamp| x.min(at))),
                        Some(b.map_or(at, |x: domain::Timestamp| x.max(at))),
                    )
                });
                let mut other: Vec<&str> = g
                    .members
                    .iter()
                    .filter(|&&i| i != g.representative)
                    .map(|&i| proposals[i].2.as_str())
                    .collect();
                other.dedup();
                json!({
                    "voices": people.len(),
                    "proposals": g.members.len(),
                    "text": texts.then(|| proposals[g.representative].2.clone()),
                    "also_said": if texts { json!(other.iter().take(3).collect::<Vec<_>>()) } else { json!([]) },
                    "first": first.map(|t| t.to_rfc3339()),
                    "last": last.map(|t| t.to_rfc3339()),
                })
            })
            .collect::<Vec<Value>>()
    })
    .await
    .map_err(|e| e.to_string())?;
    let titles: HashMap<&str, &MenuItem> = menu.iter().map(|m| (m.item.as_str(), m)).collect();
    let chosen: Vec<Value> = choices
        .counts
        .iter()
        .map(|((item, option), n)| {
            json!({
                "item": item,
                "option": option,
                "title": titles.get(item.as_str()).map(|m| m.title.clone()),
                "people": n,
            })
        })
        .collect();
    let combinations: Vec<Value> = choices
        .combinations
        .iter()
        .map(|(combo, n)| {
            json!({
                "choices": combo.iter().map(|(i, o)| format!("{i} = {o}")).collect::<Vec<_>>(),
                "people": n,
            })
        })
        .collect();
    Ok(json!({
        "as_of": snapshot.as_of.to_rfc3339(),
        "menu": menu,
        "people_choosing": choices.people,
        "chosen": chosen,
        "combinations": combinations,
        "proposals": grouped,
    }))
}
