use domain::{Amount, Currency, Day};
use proptest::prelude::*;

use super::bench::{camt053_example, creditor_reference};
use super::*;

const CAMT_V02: &[u8] = include_bytes!("../../tests/data/bank/camt053_v02.xml");
const CAMT_V08: &[u8] = include_bytes!("../../tests/data/bank/camt053_v08.xml");
const MT940_RABO: &[u8] = include_bytes!("../../tests/data/bank/mt940_rabobank.sta");
const MT940_DE: &[u8] = include_bytes!("../../tests/data/bank/mt940_german.sta");

fn eur(s: &str) -> Amount {
    Amount::parse(s, 2).unwrap()
}

fn d(s: &str) -> Day {
    Day::parse(s).unwrap()
}

fn one(stmts: Vec<Statement>) -> Statement {
    assert_eq!(stmts.len(), 1, "{stmts:#?}");
    stmts.into_iter().next().unwrap()
}

fn camt(bytes: &[u8]) -> Statement {
    one(parse_camt053(bytes).unwrap())
}

#[test]
fn a_creditor_reference_is_checked_by_mod_97() {
    for valid in [
        "RF18539007547034",
        "RF18 5390 0754 7034",
        "rf18539007547034",
        "RF712348231",
    ] {
        assert!(is_creditor_reference(valid), "{valid}");
    }
    for invalid in [
        "RF19539007547034",
        "RF18539007547035",
        "RF18",
        "",
        "XX18539007547034",
        "RFAB539007547034",
        "RF18 5390 0754 7034 5678 9012 3456",
        "RF18-5390-0754-7034",
        "RF18539007547034é",
    ] {
        assert!(!is_creditor_reference(invalid), "{invalid}");
    }
    assert!(is_creditor_reference(&creditor_reference("123456789")));
}

#[test]
fn camt_053_and_mt940_are_told_apart_by_their_first_bytes() {
    assert_eq!(sniff(CAMT_V02), Some(BankFormat::Camt053));
    assert_eq!(sniff(CAMT_V08), Some(BankFormat::Camt053));
    assert_eq!(sniff(MT940_RABO), Some(BankFormat::Mt940));
    assert_eq!(sniff(MT940_DE), Some(BankFormat::Mt940));
    assert_eq!(sniff(b"<Invoice xmlns=\"urn:oasis\"/>"), None);
    assert_eq!(sniff(b"date,amount\n2024-01-01,3\n"), None);
    assert_eq!(sniff(b""), None);
}

#[test]
fn a_camt_053_statement_names_its_version_account_and_id() {
    let s = camt(CAMT_V02);
    assert_eq!(s.format, "camt.053.001.02");
    assert_eq!(s.id, "053D2024050100001-0001");
    assert_eq!(s.account.as_deref(), Some("NL91ABNA0417164300"));
    assert_eq!(camt(CAMT_V08).format, "camt.053.001.08");
}

#[test]
fn a_credit_with_a_structured_reference_gives_the_reference_without_spaces() {
    let s = camt(CAMT_V02);
    let e = &s.entries[0];
    assert_eq!(e.id, "2024050100012345");
    assert_eq!(e.line, 35);
    assert_eq!(e.booked, d("2024-05-01"));
    assert_eq!(e.amount, eur("1210.00"));
    assert_eq!(e.currency, Currency::parse("EUR").unwrap());
    assert_eq!(e.direction, Direction::Credit);
    assert!(!e.reversal);
    assert_eq!(e.counterparty.as_deref(), Some("Bakkerij De Korenaar B.V."));
    assert_eq!(e.iban.as_deref(), Some("NL44RABO0123456789"));
    assert_eq!(e.reference.as_deref(), Some("RF18539007547034"));
    assert_eq!(e.text, None);
}

#[test]
fn unstructured_remittance_lines_are_joined_with_a_space() {
    let e = &camt(CAMT_V02).entries[1];
    assert_eq!(e.text.as_deref(), Some("Factuur 2024-0043 klantnr 1187"));
    assert_eq!(e.reference, None);
    assert_eq!(e.counterparty.as_deref(), Some("J. de Vries & Zn."));
}

#[test]
fn a_batch_booking_is_one_credit_per_transaction() {
    let s = camt(CAMT_V02);
    let batch: Vec<&Entry> = s
        .entries
        .iter()
        .filter(|e| e.id.starts_with("2024050100012347"))
        .collect();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0].id, "2024050100012347/E2E-501");
    assert_eq!(batch[1].id, "2024050100012347/E2E-502");
    assert_eq!(batch[0].amount, eur("500"));
    assert_eq!(batch[1].amount, eur("300"));
    assert_eq!(batch[1].counterparty.as_deref(), Some("Camping De Duinen"));
    assert_eq!(batch[1].iban.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(batch[1].text.as_deref(), Some("Rechnung 2024-0040"));
    assert!(batch[0].line < batch[1].line);
}

#[test]
fn a_batch_without_distinct_references_numbers_its_transactions() {
    let doc = String::from_utf8(CAMT_V02.to_vec()).unwrap().replace(
        "<EndToEndId>E2E-502</EndToEndId>",
        "<EndToEndId>E2E-501</EndToEndId>",
    );
    let s = camt(doc.as_bytes());
    let ids: Vec<&str> = s.entries.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.contains(&"2024050100012347"), "{ids:?}");
    assert!(ids.contains(&"2024050100012347/2"), "{ids:?}");
}

#[test]
fn a_debit_names_the_creditor_as_the_counterparty() {
    let e = &camt(CAMT_V02).entries[4];
    assert_eq!(e.direction, Direction::Debit);
    assert_eq!(e.amount, eur("450"));
    assert_eq!(e.counterparty.as_deref(), Some("Kantoorhuis Utrecht"));
    assert_eq!(e.iban.as_deref(), Some("NL20INGB0001234567"));
}

#[test]
fn a_returned_payment_is_a_reversal_not_a_credit() {
    let e = &camt(CAMT_V02).entries[5];
    assert!(e.reversal);
    assert_eq!(e.amount, eur("157.15"));
    // The reversal is known by its sub-family code (`RRTN`) alone, too.
    let doc = String::from_utf8(CAMT_V02.to_vec())
        .unwrap()
        .replace("<RvslInd>true</RvslInd>", "");
    assert!(camt(doc.as_bytes()).entries[5].reversal);
}

#[test]
fn pending_entries_are_left_out() {
    let s = camt(CAMT_V02);
    assert_eq!(s.entries.len(), 6);
    assert!(s.entries.iter().all(|e| e.currency.as_str() == "EUR"));
}

#[test]
fn version_08_with_a_prefix_reads_the_same_as_version_02() {
    let v02 = camt(CAMT_V02);
    let v08 = camt(CAMT_V08);
    let strip = |s: &Statement| {
        s.entries
            .iter()
            .map(|e| Entry {
                line: 0,
                ..e.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&v02), strip(&v08));
}

#[test]
fn an_entry_in_another_currency_keeps_its_own() {
    let doc = String::from_utf8(CAMT_V02.to_vec()).unwrap().replace(
        "<Amt Ccy=\"EUR\">350.50</Amt>",
        "<Amt Ccy=\"USD\">350.50</Amt>",
    );
    assert_eq!(camt(doc.as_bytes()).entries[1].currency.as_str(), "USD");
}

#[test]
fn other_iso_20022_messages_are_refused_by_name() {
    let cases = [
        (
            "camt.052.001.08",
            "camt.052.001.08 (an intraday account report)",
        ),
        (
            "camt.054.001.08",
            "camt.054.001.08 (a debit/credit notification)",
        ),
        (
            "pain.001.001.09",
            "pain.001.001.09 (a credit transfer initiation)",
        ),
        (
            "camt.053.001.01",
            "camt.053.001.01 is not a supported camt.053 version",
        ),
    ];
    for (ns, says) in cases {
        let doc = String::from_utf8(CAMT_V02.to_vec())
            .unwrap()
            .replace("camt.053.001.02", ns);
        let e = parse_camt053(doc.as_bytes()).unwrap_err();
        assert!(e.message.contains(says), "{ns}: {e}");
        assert_eq!(e.line, 2);
    }
}

#[test]
fn bad_camt_input_is_an_error_with_its_line_and_element() {
    let v02 = String::from_utf8(CAMT_V02.to_vec()).unwrap();
    let e = parse_camt053(v02.replace(">350.50<", ">3x0.50<").as_bytes()).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (72, Some("Ntry/Amt")), "{e}");
    let e = parse_camt053(
        v02.replace(
            "<Dt>2024-05-01</Dt></BookgDt>",
            "<Dt>2024-02-30</Dt></BookgDt>",
        )
        .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("Ntry/BookgDt/Dt"), "{e}");
    let e = parse_camt053(&CAMT_V02[..CAMT_V02.len() / 2]).unwrap_err();
    assert!(
        e.message.contains("cut short") || e.message.contains("well-formed"),
        "{e}"
    );
    let e = parse_camt053(MT940_DE).unwrap_err();
    assert!(e.message.contains("not XML"), "{e}");
    let e = parse_camt053(b"<Invoice><ID>1</ID></Invoice>").unwrap_err();
    assert!(e.message.contains("<Invoice>"), "{e}");
    let e = parse_camt053(b"<a>\xff</a>").unwrap_err();
    assert!(e.message.contains("UTF-8"), "{e}");
}

fn mt940(bytes: &[u8]) -> Vec<Statement> {
    parse_mt940(bytes).unwrap()
}

#[test]
fn a_dutch_mt940_reads_the_slash_form_of_its_information() {
    let s = one(mt940(MT940_RABO));
    assert_eq!(s.format, "MT940");
    assert_eq!(s.id, "940S240501/00121");
    assert_eq!(s.account.as_deref(), Some("NL91RABO0315273637"));
    assert_eq!(s.entries.len(), 4);
    let e = &s.entries[0];
    assert_eq!(e.id, "940S240501/00121/1");
    assert_eq!(e.line, 6);
    assert_eq!(e.booked, d("2024-05-01"));
    assert_eq!(e.amount, eur("1210"));
    assert_eq!(e.direction, Direction::Credit);
    assert_eq!(e.counterparty.as_deref(), Some("Bakkerij De Korenaar B.V."));
    assert_eq!(e.iban.as_deref(), Some("NL44RABO0123456789"));
    assert_eq!(e.reference.as_deref(), Some("RF18539007547034"));
    let e = &s.entries[1];
    assert_eq!(e.text.as_deref(), Some("Factuur 2024-0043 klantnr 1187"));
    assert_eq!(e.counterparty.as_deref(), Some("J. de Vries & Zn."));
    let e = &s.entries[2];
    assert_eq!(e.id, "20240501000123");
    assert_eq!(e.direction, Direction::Debit);
    assert_eq!(e.counterparty.as_deref(), Some("Kantoorhuis Utrecht"));
}

#[test]
fn an_mt940_rc_line_is_a_reversal() {
    let s = one(mt940(MT940_RABO));
    let e = &s.entries[3];
    assert!(e.reversal);
    assert_eq!(e.direction, Direction::Credit);
    assert_eq!(e.amount, eur("157.15"));
}

#[test]
fn a_german_mt940_reads_sepa_tags_in_its_subfields() {
    let all = mt940(MT940_DE);
    assert_eq!(all.len(), 2);
    let s = &all[0];
    assert_eq!(s.id, "STARTUMSE/00001/001");
    assert_eq!(s.account.as_deref(), Some("10020030/1234567890"));
    let e = &s.entries[0];
    assert_eq!(e.amount, eur("1210"));
    assert_eq!(e.direction, Direction::Credit);
    assert_eq!(e.counterparty.as_deref(), Some("Baeckerei Mueller GmbH"));
    assert_eq!(e.iban.as_deref(), Some("DE44500105175407324931"));
    assert_eq!(e.reference.as_deref(), Some("RF18539007547034"));
    assert_eq!(
        e.text.as_deref(),
        Some("RF18539007547034 Rechnung 2024-0042")
    );
    let e = &s.entries[1];
    assert_eq!(e.id, "DD240501-77");
    assert_eq!(e.direction, Direction::Debit);
    assert_eq!(e.text.as_deref(), Some("Stromabschlag Mai Vertrag 4481-22"));
    assert_eq!(e.counterparty.as_deref(), Some("Stadtwerke Musterstadt"));
    assert!(s.entries[2].reversal);
}

#[test]
fn an_mt940_entry_date_before_new_year_is_in_the_year_before() {
    let all = mt940(MT940_DE);
    let e = &all[1].entries[0];
    assert_eq!(e.booked, d("2023-12-31"));
    assert_eq!(e.id, "STARTUMSE/00002/001/1");
}

#[test]
fn free_text_information_is_kept_as_text() {
    let file = ":20:X\n:25:NL91ABNA0417164300\n:28C:1\n:60F:C240101EUR0,\n:61:240102C5,NTRFNONREF\n:86:Betaling factuur\n 77 dank\n:62F:C240102EUR5,\n";
    let e = &one(mt940(file.as_bytes())).entries[0];
    assert_eq!(e.text.as_deref(), Some("Betaling factuur 77 dank"));
    assert_eq!(e.reference, None);
}

#[test]
fn bad_mt940_input_is_an_error_with_its_line_and_field() {
    let head = ":20:X\n:25:DE89370400440532013000\n:60F:C240101EUR0,\n";
    let cases: &[(&str, u64, &str, &str)] = &[
        (
            ":20:X\n:61:240102C5,NTRF\n:62F:C240102EUR5,\n",
            2,
            ":61:",
            "before the account",
        ),
        (
            &format!("{head}:61:240102C5x,NTRF\n"),
            4,
            ":61:",
            "transaction type",
        ),
        (&format!("{head}:61:240230C5,NTRF\n"), 4, ":61:", "exists"),
        (&format!("{head}:61:240102C,NTRF\n"), 4, ":61:", "amount"),
        (
            &format!("{head}:61:240102C5,NTRF\n"),
            1,
            ":62F:",
            "cut short",
        ),
        ("<xml/>", 1, "", "not an MT940"),
    ];
    for (file, line, field, says) in cases {
        let e = parse_mt940(file.as_bytes()).unwrap_err();
        assert_eq!(e.line, *line, "{file}: {e}");
        assert_eq!(e.field.as_deref().unwrap_or(""), *field, "{file}: {e}");
        assert!(e.message.contains(says), "{file}: {e}");
    }
}

#[test]
fn an_mt940_in_latin_1_is_read() {
    let file = b":20:X\n:25:DE89370400440532013000\n:60F:C240101EUR0,\n:61:240102C5,NTRF\n:86:166?20Gr\xfc\xdfe?32M\xfcller\n:62F:C240102EUR5,\n";
    let e = &one(mt940(file)).entries[0];
    assert_eq!(e.counterparty.as_deref(), Some("Müller"));
    assert_eq!(e.text.as_deref(), Some("Grüße"));
}

#[test]
fn the_generated_statement_reads_back_entry_for_entry() {
    let doc = camt053_example(50, 7);
    let s = camt(doc.as_bytes());
    assert_eq!(s.entries.len(), 50);
    assert!(
        s.entries
            .iter()
            .all(|e| e.reference.as_deref().is_some_and(is_creditor_reference))
    );
    assert!(
        s.entries
            .iter()
            .all(|e| e.iban.as_deref().is_some_and(is_iban))
    );
    assert_eq!(doc, camt053_example(50, 7));
}

#[test]
#[ignore = "a timing: run in release with --ignored --nocapture"]
fn a_hundred_thousand_entries_parse_well_under_two_seconds() {
    let doc = camt053_example(100_000, 1);
    let start = std::time::Instant::now();
    let s = camt(doc.as_bytes());
    let took = start.elapsed();
    println!(
        "parsed {} entries ({} MB) in {took:?}",
        s.entries.len(),
        doc.len() / 1_000_000
    );
    assert_eq!(s.entries.len(), 100_000);
    assert!(took.as_secs_f64() < 2.0);
}

/// Changes a valid file at a few places: a byte replaced, removed or the file cut.
fn mutate(file: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = file.to_vec();
    for &(at, kind, byte) in edits {
        if v.is_empty() {
            break;
        }
        let at = at % v.len();
        match kind % 3 {
            0 => v[at] = byte,
            1 => {
                v.remove(at);
            }
            _ => v.truncate(at),
        }
    }
    v
}

#[test]
fn a_balance_with_a_letter_outside_ascii_in_its_date_is_an_error_not_a_panic() {
    // Found by the mutation test: `Ü` straddles the end of the date's six bytes.
    let file = ":20:X\n:25:NL91ABNA0417164300\n:60F:C24043ÜEUR10250,00\n:62F:C240430EUR10250,00\n";
    let err = parse_mt940(file.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("60F"), "{err}");
}

proptest! {
    #[test]
    fn neither_parser_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = sniff(&bytes);
        let _ = parse_camt053(&bytes);
        let _ = parse_mt940(&bytes);
    }

    #[test]
    fn neither_parser_panics_on_mutated_statements(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let file = [CAMT_V02, CAMT_V08, MT940_RABO, MT940_DE][which];
        let bytes = mutate(file, &edits);
        let _ = sniff(&bytes);
        let _ = parse_camt053(&bytes);
        let _ = parse_mt940(&bytes);
    }

    #[test]
    fn mt940_lines_of_any_text_do_not_panic(line in "[:0-9A-Z?/+,. \\nÜé€-]{0,120}") {
        let file = format!(":20:X\n:25:NL91ABNA0417164300\n:60F:C240101EUR0,\n:61:{line}\n:86:{line}\n:62F:C240101EUR0,\n");
        let _ = parse_mt940(file.as_bytes());
    }

    #[test]
    fn mt940_balances_of_any_text_do_not_panic(balance in "[CD0-9A-Z,Üé€]{0,24}") {
        let file = format!(":20:X\n:25:NL91ABNA0417164300\n:60F:{balance}\n:62F:{balance}\n");
        let _ = parse_mt940(file.as_bytes());
    }
}
