//! The menu: what the business offers (items with options), and what people make of it —
//! how many chose each option, which combinations people actually compose, and what they
//! propose that is not on it, grouped so that ten people asking for the same thing are one
//! request with ten voices. Counts of choices and voices; never a segment of people.

use std::collections::HashMap;
use std::sync::Arc;

use domain::Kind;
use serde_json::{Value, json};
use store::{MenuItem, MenuOption, PersonData};

use crate::state::AppState;

pub const KINDS: &[&str] = &[
    "product",
    "service",
    "channel",
    "frequency",
    "topic",
    "other",
];

/// A menu id (item or option) as events name it.
pub fn check_id(field: &'static str, s: &str) -> Result<String, (&'static str, String)> {
    domain::values::Label::parse(s.trim())
        .map(|l| l.to_string())
        .map_err(|e| (field, e.to_string()))
}

/// A menu item from JSON: `{"kind", "title", "options": [{"id", "title"}]}` (the item's id
/// comes from elsewhere).
pub fn parse_item(v: &Value) -> Result<MenuItem, (&'static str, String)> {
    let kind = v.get("kind").and_then(Value::as_str).ok_or((
        "kind",
        format!("give the kind: one of {}", KINDS.join(", ")),
    ))?;
    if !KINDS.contains(&kind) {
        return Err((
            "kind",
            format!("{kind:?} is not one of {}", KINDS.join(", ")),
        ));
    }
    let title = v
        .get("title")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.chars().count() <= 200)
        .ok_or(("title", "give a title of 1 to 200 characters".to_owned()))?;
    let options = v
        .get("options")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
        .ok_or((
            "options",
            "give at least one option: [{\"id\", \"title\"}]".to_owned(),
        ))?;
    let mut parsed: Vec<MenuOption> = Vec::new();
    for o in options {
        let id = o
            .get("id")
            .and_then(Value::as_str)
            .ok_or(("options", "every option needs an id".to_owned()))?;
        let id = check_id("options", id)?;
        if parsed.iter().any(|p| p.id == id) {
            return Err(("options", format!("option {id:?} is given twice")));
        }
        let title = o
            .get("title")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(&id)
            .to_owned();
        parsed.push(MenuOption { id, title });
    }
    Ok(MenuItem {
        item: String::new(),
        kind: kind.to_owned(),
        title: title.to_owned(),
        options: parsed,
    })
}

/// Options written one per line as `id = Title` (or just `id`), as the admin page takes them.
pub fn parse_options(text: &str) -> Result<Vec<Value>, (&'static str, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, title) = l.split_once('=').unwrap_or((l, l));
            Ok(json!({"id": check_id("options", id)?, "title": title.trim()}))
        })
        .collect()
}

/// The business's view of the menu (see the module header). `texts`: whether proposal texts
/// may be shown (not to analysts).
pub async fn report(state: &Arc<AppState>, texts: bool) -> Result<Value, String> {
    let snapshot = state.snapshot();
    let s = state.clone();
    let (menu, proposals) = tokio::task::spawn_blocking(move || {
        s.readers
            .with(|st| Ok::<_, store::StoreError>((st.menu()?, st.texts(Kind::MenuProposed)?)))
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
    let chosen: Vec<Value> = snapshot
        .choices
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
    let combinations: Vec<Value> = snapshot
        .choices
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
        "people_choosing": snapshot.choices.people,
        "chosen": chosen,
        "combinations": combinations,
        "proposals": grouped,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_menu_item_is_read_and_its_mistakes_named() {
        let ok = parse_item(&json!({"kind": "channel", "title": "How we reach you",
            "options": [{"id": "email", "title": "E-mail"}, {"id": "phone"}]}))
        .unwrap();
        assert_eq!(ok.options[1].title, "phone");
        let bad = |v: Value| parse_item(&v).unwrap_err().0;
        assert_eq!(bad(json!({"title": "x", "options": [{"id": "a"}]})), "kind");
        assert_eq!(
            bad(json!({"kind": "weird", "title": "x", "options": [{"id": "a"}]})),
            "kind"
        );
        assert_eq!(
            bad(json!({"kind": "topic", "options": [{"id": "a"}]})),
            "title"
        );
        assert_eq!(
            bad(json!({"kind": "topic", "title": "x", "options": []})),
            "options"
        );
        assert_eq!(
            bad(json!({"kind": "topic", "title": "x", "options": [{"id": "a"}, {"id": "a"}]})),
            "options"
        );
    }

    #[test]
    fn options_are_read_one_per_line() {
        let o = parse_options("email = E-mail\n\nphone\n").unwrap();
        assert_eq!(
            o,
            vec![
                json!({"id": "email", "title": "E-mail"}),
                json!({"id": "phone", "title": "phone"})
            ]
        );
    }
}
