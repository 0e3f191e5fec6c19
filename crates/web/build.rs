//! Lists the words of the person's own page, one TOML file per language in `locales/`, so the
//! server embeds every file there: adding a language is adding a file, with no code to change.
//!
//! It writes `$OUT_DIR/locales.rs`, a table of `(code, include_str!(file))`, in code order.
//! A file whose name is not a language code (`nl.toml`, `pt-br.toml`) stops the build, so a
//! stray file is found at once rather than served as a language.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    // A directory is scanned for changes as a whole: a file added or edited rebuilds.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found: Vec<(String, String)> = Vec::new();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading the page's languages in {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("listing locales/").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let code = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            is_code(&code),
            "{}: a language file is named by its code in lower case, such as nl.toml or pt-br.toml",
            path.display()
        );
        let full = path.to_str().expect("a path in UTF-8").to_owned();
        found.push((code, full));
    }
    found.sort();
    assert!(
        found.iter().any(|(c, _)| c == "en"),
        "locales/en.toml is missing: English is what every other language falls back to"
    );
    let mut out = String::from("/// Every language file in `locales/`: (code, its text).\n");
    out.push_str("pub const FILES: &[(&str, &str)] = &[\n");
    for (code, path) in &found {
        out.push_str(&format!("    ({code:?}, include_str!({path:?})),\n"));
    }
    out.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("locales.rs");
    std::fs::write(&target, out).expect("writing locales.rs");
}

/// `xx`, `xxx`, or either followed by `-` and a region or script (`pt-br`, `zh-hant`).
fn is_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang = parts.next().unwrap_or_default();
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
    lang_ok
        && parts.all(|p| {
            (2..=8).contains(&p.len())
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}
