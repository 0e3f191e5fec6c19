//! The business's menu: what it offers (items with options), kept within bounds a person can
//! read through and compose from. Every face reads and stores items through here.

use serde_json::{Value, json};
use store::{MenuItem, MenuOption, StoreError};

use crate::App;

pub const KINDS: &[&str] = &[
    "product",
    "service",
    "channel",
    "frequency",
    "topic",
    "other",
];

/// Most items on the menu. A menu is something a person reads through and composes from, not
/// a catalogue; and without a bound, one request after another could fill the ledger.
pub const MAX_ITEMS: usize = 200;
/// Most options of one item, for the same reasons.
pub const MAX_OPTIONS: usize = 50;
/// Longest item or option id, in characters: at most 200 bytes, what an event's label holds.
pub const MAX_ID: usize = 50;
/// Longest title of an item or an option, in characters.
pub const MAX_TITLE: usize = 200;

/// A field of a menu item that is wrong, and why.
pub type Wrong = (&'static str, String);

/// A menu id (item or option) as events name it: 1 to [`MAX_ID`] characters, not blank, no
/// control characters; surrounding spaces are dropped.
pub fn check_id(field: &'static str, s: &str) -> Result<String, Wrong> {
    if s.chars().count() > MAX_ID {
        return Err((field, format!("an id is at most {MAX_ID} characters")));
    }
    domain::values::Label::parse(s.trim())
        .map(|l| l.to_string())
        .map_err(|e| (field, e.to_string()))
}

/// A title: text of at most [`MAX_TITLE`] characters; surrounding white space dropped, then
/// no control characters; `None` when blank.
fn parse_title(field: &'static str, v: &Value) -> Result<Option<String>, Wrong> {
    let t = v.as_str().ok_or((field, "a title is text".to_owned()))?;
    if t.chars().count() > MAX_TITLE {
        return Err((field, format!("a title is at most {MAX_TITLE} characters")));
    }
    let t = t.trim();
    if t.chars().any(char::is_control) {
        return Err((field, "a title has no control characters".to_owned()));
    }
    Ok(Some(t).filter(|t| !t.is_empty()).map(str::to_owned))
}

/// A menu item from JSON: `{"kind", "title", "options": [{"id", "title"}]}` (the item's id
/// comes from elsewhere). Any other field is refused rather than ignored, so a misspelt one
/// is not silently lost; at most [`MAX_OPTIONS`] options.
pub fn parse_item(v: &Value) -> Result<MenuItem, Wrong> {
    let fields = v.as_object().ok_or((
        "body",
        "send a JSON object: {\"kind\", \"title\", \"options\"}".to_owned(),
    ))?;
    if let Some(other) = fields
        .keys()
        .find(|k| !["kind", "title", "options"].contains(&k.as_str()))
    {
        return Err((
            "body",
            format!("unknown field {other:?}: an item has kind, title and options"),
        ));
    }
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
    let title = parse_title("title", v.get("title").unwrap_or(&Value::Null))
        .ok()
        .flatten()
        .ok_or((
            "title",
            format!("give a title of 1 to {MAX_TITLE} characters, without control characters"),
        ))?;
    let options = v
        .get("options")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
        .ok_or((
            "options",
            "give at least one option: [{\"id\", \"title\"}]".to_owned(),
        ))?;
    if options.len() > MAX_OPTIONS {
        return Err((
            "options",
            format!(
                "{} options; an item has at most {MAX_OPTIONS}",
                options.len()
            ),
        ));
    }
    let mut parsed: Vec<MenuOption> = Vec::new();
    for o in options {
        let fields = o.as_object().ok_or((
            "options",
            "every option is an object: {\"id\", \"title\"}".to_owned(),
        ))?;
        if let Some(other) = fields
            .keys()
            .find(|k| !["id", "title"].contains(&k.as_str()))
        {
            return Err((
                "options",
                format!("unknown field {other:?} in an option: it has id and title"),
            ));
        }
        let id = o
            .get("id")
            .and_then(Value::as_str)
            .ok_or(("options", "every option needs an id".to_owned()))?;
        let id = check_id("options", id)?;
        if parsed.iter().any(|p| p.id == id) {
            return Err(("options", format!("option {id:?} is given twice")));
        }
        let title = match o.get("title") {
            None => None,
            Some(t) => parse_title("options", t)?,
        };
        parsed.push(MenuOption {
            title: title.unwrap_or_else(|| id.clone()),
            id,
        });
    }
    Ok(MenuItem {
        item: String::new(),
        kind: kind.to_owned(),
        title,
        options: parsed,
    })
}

/// Why a menu item was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MenuError {
    /// A field of the item is wrong (the field, and why).
    #[error("{}: {}", .0.0, .0.1)]
    Wrong(Wrong),
    #[error(
        "the menu already has {MAX_ITEMS} items: change one of them rather than adding another"
    )]
    Full,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// The business's menu.
    pub fn menu(&self) -> Result<Vec<MenuItem>, StoreError> {
        self.ledger.menu()
    }

    /// Adds or replaces the menu item `id` (parsed from JSON with [`parse_item`]), keeping the
    /// menu to at most [`MAX_ITEMS`] items (an existing item can always be changed). The API,
    /// the admin page and the command line all store through here.
    pub fn menu_put(
        &self,
        id: &str,
        mut item: MenuItem,
        actor: &str,
    ) -> Result<MenuItem, MenuError> {
        item.item = check_id("item", id).map_err(MenuError::Wrong)?;
        let menu = self.ledger.menu()?;
        if menu.len() >= MAX_ITEMS && !menu.iter().any(|m| m.item == item.item) {
            return Err(MenuError::Full);
        }
        self.ledger.menu_put(&item)?;
        self.ledger
            .audit(actor, &format!("menu.put:{}", item.item), None)?;
        Ok(item)
    }

    /// Every proposal people made that is not on the menu: who, when, and their words.
    pub fn proposals(
        &self,
    ) -> Result<Vec<(domain::PersonId, domain::Timestamp, String)>, StoreError> {
        self.ledger.texts(domain::Kind::MenuProposed)
    }
}

/// Options written one per line as `id = Title` (or just `id`), as the admin page takes them.
pub fn parse_options(text: &str) -> Result<Vec<Value>, Wrong> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, title) = l.split_once('=').unwrap_or((l, l));
            Ok(json!({"id": check_id("options", id)?, "title": title.trim()}))
        })
        .collect()
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
    fn unknown_fields_and_oversized_items_are_refused_naming_the_field() {
        let option = |i: usize| json!({"id": format!("o{i}")});
        let many: Vec<Value> = (0..=MAX_OPTIONS).map(option).collect();
        let most: Vec<Value> = (0..MAX_OPTIONS).map(option).collect();
        let long_id = "i".repeat(MAX_ID + 1);
        let long_title = "t".repeat(MAX_TITLE + 1);
        let cases: Vec<(Value, Option<&str>)> = vec![
            (
                json!({"kind": "topic", "title": "x", "options": most}),
                None,
            ),
            (
                json!({"kind": "topic", "title": "x", "options": [{"id": "a"}], "colour": "red"}),
                Some("body"),
            ),
            (
                json!({"kind": "topic", "title": "x", "options": [{"id": "a", "price": 3}]}),
                Some("options"),
            ),
            (
                json!({"kind": "topic", "title": "x", "options": many}),
                Some("options"),
            ),
            (
                json!({"kind": "topic", "title": "x", "options": [{"id": long_id}]}),
                Some("options"),
            ),
            (
                json!({"kind": "topic", "title": long_title, "options": [{"id": "a"}]}),
                Some("title"),
            ),
            (
                json!({"kind": "topic", "title": "a\u{7}b", "options": [{"id": "a"}]}),
                Some("title"),
            ),
            (
                json!({"kind": "topic", "title": "x", "options": [{"id": "a", "title": 5}]}),
                Some("options"),
            ),
            (
                json!({"kind": "topic", "title": "x", "options": [{"id": "a", "title": null}]}),
                Some("options"),
            ),
            (
                json!({"kind": "topic", "title": "x", "options": ["a"]}),
                Some("options"),
            ),
            (json!(["not", "an", "object"]), Some("body")),
        ];
        for (v, field) in cases {
            assert_eq!(parse_item(&v).err().map(|e| e.0), field, "{v}");
        }
        // A blank option title falls back to the id.
        let ok = parse_item(
            &json!({"kind": "topic", "title": "x", "options": [{"id": "a", "title": " "}]}),
        )
        .unwrap();
        assert_eq!(ok.options[0].title, "a");
    }

    #[test]
    fn a_full_menu_takes_changes_to_its_items_but_no_new_one() {
        let (_dir, app) = crate::testing::app();
        let item = || {
            parse_item(&json!({"kind": "other", "title": "x", "options": [{"id": "a"}]})).unwrap()
        };
        for i in 0..MAX_ITEMS {
            app.menu_put(&format!("item{i}"), item(), "test").unwrap();
        }
        assert!(matches!(
            app.menu_put(&format!("item{MAX_ITEMS}"), item(), "test"),
            Err(MenuError::Full)
        ));
        let mut changed = item();
        changed.title = "changed".into();
        app.menu_put("item3", changed, "test").unwrap();
        assert_eq!(app.menu().unwrap().len(), MAX_ITEMS);
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
