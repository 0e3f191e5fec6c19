//! Property tests: no mapping text, template or cell content makes the importer panic.

mod common;

use std::path::Path;

use proptest::prelude::*;
use rapport_import::{Collect, Mapping};

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_template_engine_never_panics_on_arbitrary_templates_and_cells(
        template in r"[{}|:a-zA-Z_%0-9 ,.\-]{0,40}|\PC{0,40}",
        cells in proptest::collection::vec(r"\PC{0,20}|[0-9.,\- ]{0,12}", 0..6),
    ) {
        let toml = format!(
            "source = \"s\"\n[[event]]\nkind = \"order.placed\"\nid = {t}\nperson = {t}\nat = {t}\norder = {t}\namount = {t}\n\
             lines = [{{ product = {t}, qty = {t}, unit_price = {t} }}]\ngroup = {t}\n",
            t = toml_string(&template)
        );
        if let Ok(m) = Mapping::from_toml(&toml, Path::new("p.toml")) {
            let mut csv = String::from("a,b,c,d,e,f\n");
            let row: Vec<String> = cells.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            csv.push_str(&row.join(","));
            csv.push('\n');
            let mut sink = Collect::default();
            let _ = m.read(Path::new("p.csv"), csv.as_bytes(), &mut sink);
        }
    }

    #[test]
    fn filters_never_panic_on_any_cell(
        cell in r"\PC{0,24}|[0-9.,\-+() €$]{0,16}",
        filter in prop::sample::select(vec!["trim", "upper", "lower", "abs", "neg", "yesno", "date", "date:%d.%m.%Y", "decimal", "or:b", "default:x"]),
        comma in any::<bool>(),
    ) {
        let toml = format!(
            "source = \"s\"\ndecimal_comma = {comma}\n[[event]]\nkind = \"wish.stated\"\nid = \"w\"\nperson = \"p\"\nat = \"{{a|{filter}}}\"\ntext = \"{{a|{filter}}}\"\n"
        );
        let m = Mapping::from_toml(&toml, Path::new("p.toml")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let csv = format!("a,b\n\"{}\",x\n", cell.replace('"', "\"\""));
        let mut sink = Collect::default();
        m.read(Path::new("p.csv"), csv.as_bytes(), &mut sink).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(sink.events.len() + sink.rejected.len(), 1);
    }
}
