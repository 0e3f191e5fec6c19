//! The words of the person's own page, in their language.
//!
//! Every language is one TOML file in `crates/web/locales/` (`en.toml`, `nl.toml`, …), embedded
//! when the server is built (`build.rs` lists the folder) and read once into a map. Adding a
//! language is adding a file: nothing in the code names the languages. A key a language leaves
//! out is shown in English, and a test holds every file to exactly the keys of `en.toml`, so a
//! gap is found by the tests rather than by a reader.
//!
//! Which language a page speaks is decided by [`choose`]: the person's explicit choice (the
//! page's picker, remembered in a cookie), then the language the ledger holds for them
//! (`person.identified`'s `language`), then their browser's `Accept-Language`, then English.
//! A language rapport has no file for is passed over.
//!
//! Written by hand rather than with a localisation crate: the page needs a flat key → text
//! map with named `{placeholders}` and one/many forms, which `toml` (already in the workspace)
//! and sixty lines give; Fluent or gettext would bring a message syntax and a runtime for
//! plural rules the page does not use. The cost: a language whose plurals differ from
//! "one / many" (Polish, Arabic) would need a little code here first.

use std::collections::HashMap;
use std::sync::LazyLock;

mod files {
    include!(concat!(env!("OUT_DIR"), "/locales.rs"));
}

/// The language every other falls back to, key by key.
pub const FALLBACK: &str = "en";

/// One language's words.
#[derive(Debug)]
pub struct Locale {
    /// Its code, as the file is named and the html `lang` attribute takes it (`nl`, `pt-br`).
    pub code: &'static str,
    /// The language's name in itself (the file's `language` key), for the picker.
    pub name: String,
    words: HashMap<String, String>,
}

/// Every language there is a file for, in code order.
static LOCALES: LazyLock<Vec<Locale>> = LazyLock::new(|| {
    files::FILES
        .iter()
        .filter_map(|(code, text)| match parse(text) {
            Ok(words) => Some(Locale {
                code,
                name: words
                    .get("language")
                    .cloned()
                    .unwrap_or_else(|| code.to_string()),
                words,
            }),
            Err(e) => {
                // The tests parse every file; a broken one never reaches a server. Were it to,
                // the language is left out rather than the page failing.
                tracing::error!("locales/{code}.toml is not valid: {e}");
                None
            }
        })
        .collect()
});

/// A language file's keys and texts: nested tables give dotted keys (`[menu] save` is
/// `menu.save`); every value is text.
fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    fn walk(
        prefix: &str,
        table: &toml::Table,
        out: &mut HashMap<String, String>,
    ) -> Result<(), String> {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                toml::Value::Table(t) => walk(&key, t, out)?,
                _ => return Err(format!("{key}: every value is text in quotes")),
            }
        }
        Ok(())
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

/// Every language there is a file for, in code order.
pub fn all() -> &'static [Locale] {
    &LOCALES
}

/// English: always there (`build.rs` refuses to build without `en.toml`).
pub fn english() -> &'static Locale {
    find(FALLBACK).expect("locales/en.toml is embedded")
}

/// The language with this code, if there is a file for it: `fr`, `FR`, `fr-BE` and `fr_be`
/// all find `fr` (unless there is an `fr-be`).
pub fn find(code: &str) -> Option<&'static Locale> {
    let code = code.trim().to_ascii_lowercase().replace('_', "-");
    if code.is_empty() {
        return None;
    }
    let exact = LOCALES.iter().find(|l| l.code == code);
    exact.or_else(|| {
        let primary = code.split('-').next()?;
        LOCALES.iter().find(|l| l.code == primary)
    })
}

/// The languages of an `Accept-Language` header, most wanted first (`q=0` ones left out).
fn accepted(header: &str) -> Vec<&str> {
    let mut langs: Vec<(&str, f32)> = header
        .split(',')
        .filter_map(|part| {
            let mut bits = part.split(';');
            let lang = bits.next()?.trim();
            let q = bits
                .filter_map(|b| b.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!lang.is_empty() && lang != "*" && q > 0.0).then_some((lang, q))
        })
        .collect();
    // A stable sort keeps the header's order among equals.
    langs.sort_by(|a, b| b.1.total_cmp(&a.1));
    langs.into_iter().map(|(l, _)| l).collect()
}

/// The language a page speaks: the person's explicit choice (`chosen`, in order: this
/// request's, then the remembered one), then the language the ledger holds for them, then
/// their browser's `Accept-Language`, then English. Any of them rapport has no words for is
/// passed over.
pub fn choose(
    chosen: &[Option<&str>],
    ledger: Option<&str>,
    accept_language: Option<&str>,
) -> &'static Locale {
    chosen
        .iter()
        .flatten()
        .chain(ledger.as_ref())
        .find_map(|c| find(c))
        .or_else(|| {
            accepted(accept_language.unwrap_or_default())
                .into_iter()
                .find_map(find)
        })
        .unwrap_or_else(english)
}

impl Locale {
    /// The text of `key`: this language's, else English's, else the key itself (so a missing
    /// word shows as `menu.save` on the page rather than as nothing).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.words
            .get(key)
            .or_else(|| english().words.get(key))
            .map_or(key, String::as_str)
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut out = self.get(key).to_owned();
        for (name, value) in values {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// [`Locale::fill`] with one value, as the templates call it.
    pub fn one(&self, key: &str, name: &str, value: &str) -> String {
        self.fill(key, &[(name, value)])
    }

    /// A count in words: `key.one` for 1 and `key.many` otherwise, with `{n}` filled.
    pub fn count(&self, key: &str, n: usize) -> String {
        let form = if n == 1 { "one" } else { "many" };
        self.one(&format!("{key}.{form}"), "n", &n.to_string())
    }

    /// How often: `times.once`, `times.twice`, or `times.many` with `{n}`.
    pub fn times(&self, n: usize) -> String {
        match n {
            1 => self.get("times.once").to_owned(),
            2 => self.get("times.twice").to_owned(),
            n => self.one("times.many", "n", &n.to_string()),
        }
    }

    /// Whether this is the fallback language.
    pub fn is_english(&self) -> bool {
        self.code == FALLBACK
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(code: &str) -> BTreeSet<String> {
        let (_, text) = files::FILES.iter().find(|(c, _)| *c == code).unwrap();
        parse(text).unwrap().into_keys().collect()
    }

    #[test]
    fn every_language_file_parses_and_has_exactly_the_keys_of_english() {
        let english = keys(FALLBACK);
        assert!(english.len() > 50, "{} keys in en.toml", english.len());
        for (code, text) in files::FILES {
            let words = parse(text).unwrap_or_else(|e| panic!("locales/{code}.toml: {e}"));
            let have: BTreeSet<String> = words.keys().cloned().collect();
            let missing: Vec<_> = english.difference(&have).collect();
            let extra: Vec<_> = have.difference(&english).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "locales/{code}.toml: missing {missing:?}, not in en.toml {extra:?}"
            );
            for (key, text) in &words {
                assert!(
                    !text.trim().is_empty(),
                    "locales/{code}.toml: {key} is empty"
                );
            }
        }
        assert_eq!(all().len(), files::FILES.len(), "every file is read");
    }

    #[test]
    fn every_placeholder_of_english_is_in_each_translation() {
        let placeholders = |s: &str| -> BTreeSet<String> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
                .collect()
        };
        let en = english();
        for l in all() {
            for (key, text) in &l.words {
                assert_eq!(
                    placeholders(text),
                    placeholders(en.get(key)),
                    "locales/{}.toml: {key}",
                    l.code
                );
            }
        }
    }

    #[test]
    fn the_page_speaks_at_least_dutch_english_german_and_french() {
        for code in ["nl", "en", "de", "fr"] {
            assert_eq!(find(code).map(|l| l.code), Some(code));
        }
        assert_eq!(find("nl").unwrap().name, "Nederlands");
    }

    #[test]
    fn a_word_missing_in_a_language_is_given_in_english() {
        let partial = Locale {
            code: "xx",
            name: "Test".into(),
            words: parse("language = \"Test\"\n[wishes]\nsave = \"Bewaar\"\n").unwrap(),
        };
        let partial: &'static Locale = Box::leak(Box::new(partial));
        assert_eq!(partial.get("wishes.save"), "Bewaar");
        assert_eq!(
            partial.get("wishes.heading"),
            english().get("wishes.heading")
        );
        assert_eq!(partial.get("no.such.key"), "no.such.key");
    }

    #[test]
    fn codes_are_found_whatever_their_case_or_region() {
        let cases: &[(&str, Option<&str>)] = &[
            ("fr", Some("fr")),
            ("FR", Some("fr")),
            ("fr-BE", Some("fr")),
            ("nl_NL", Some("nl")),
            (" de ", Some("de")),
            ("tr", None),
            ("", None),
            ("-", None),
        ];
        for (code, expected) in cases {
            assert_eq!(find(code).map(|l| l.code), *expected, "{code:?}");
        }
    }

    #[test]
    fn the_language_is_the_choice_then_the_ledger_s_then_the_browser_s_then_english() {
        // (chosen, ledger's, Accept-Language, the language spoken)
        type Case<'a> = (
            &'a [Option<&'a str>],
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
        );
        let cases: &[Case] = &[
            // An explicit choice wins over everything.
            (&[Some("nl")], Some("fr"), Some("de"), "nl"),
            // This request's choice over the remembered one.
            (&[Some("de"), Some("nl")], Some("fr"), None, "de"),
            (&[None, Some("nl")], Some("fr"), None, "nl"),
            // A choice of a language there is no file for is passed over.
            (&[Some("xx")], Some("fr"), None, "fr"),
            // The ledger's language over the browser's.
            (&[None], Some("fr"), Some("de"), "fr"),
            // Turkish has no file: the browser's, then English.
            (&[], Some("tr"), Some("de-CH,de;q=0.9"), "de"),
            (&[], Some("tr"), None, "en"),
            // The browser's most wanted language there is a file for.
            (&[], None, Some("tr;q=1, nl;q=0.5, fr;q=0.8"), "fr"),
            (&[], None, Some("de;q=0, nl"), "nl"),
            (&[], None, Some("*"), "en"),
            (&[], None, Some("garbage;;q=x,,"), "en"),
            (&[], None, None, "en"),
        ];
        for (chosen, ledger, accept, expected) in cases {
            assert_eq!(
                choose(chosen, *ledger, *accept).code,
                *expected,
                "{chosen:?} {ledger:?} {accept:?}"
            );
        }
    }

    #[test]
    fn counts_and_placeholders_are_filled_in() {
        let en = english();
        assert_eq!(en.count("count.order", 1), "1 order");
        assert_eq!(en.count("count.order", 3), "3 orders");
        assert_eq!(en.times(1), "once");
        assert_eq!(en.times(2), "twice");
        assert_eq!(en.times(5), "5 times");
        assert_eq!(
            en.one("between.ended", "day", "2024-04-01"),
            "You ended our relationship on 2024-04-01."
        );
        let fr = find("fr").unwrap();
        assert_eq!(fr.times(2), "deux fois");
    }
}
