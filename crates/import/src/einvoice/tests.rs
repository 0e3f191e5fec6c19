use proptest::prelude::*;

use super::*;

fn data(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/einvoice")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn amount(s: &str) -> Amount {
    Amount::parse(s, 4).expect("an amount")
}

fn day(s: &str) -> Day {
    Day::parse(s).expect("a day")
}

fn eur() -> Currency {
    Currency::parse("EUR").expect("a currency")
}

fn line(item: Option<&str>, name: &str, qty: &str, price: &str) -> InvoiceLine {
    InvoiceLine {
        item: item.map(str::to_owned),
        name: Some(name.to_owned()),
        qty: amount(qty),
        price: amount(price),
    }
}

fn peppol_buyer() -> Party {
    Party {
        id: Some("0002:FR23342".into()),
        endpoint: Some("0002:FR23342".into()),
        vat: Some("SE4598375937".into()),
        company: Some("0183:39937423947".into()),
        name: Some("Buyer Official Name".into()),
        email: Some("lj@buyer.se".into()),
    }
}

fn peppol_lines() -> Vec<InvoiceLine> {
    vec![
        line(Some("0088:21382183120983"), "item name", "7", "400"),
        line(Some("0088:21382183120983"), "item name 2", "-3", "500"),
    ]
}

fn refusal(xml: &str) -> DocError {
    parse(xml.as_bytes()).expect_err("a refusal")
}

/// The base example with one piece of text replaced.
fn base_with(from: &str, to: &str) -> String {
    let base = String::from_utf8(data("base-example.xml")).expect("UTF-8");
    assert!(base.contains(from), "{from}");
    base.replacen(from, to, 1)
}

#[test]
fn the_peppol_base_example_reads_as_its_buyer_amount_and_due_day() {
    let doc = parse(&data("base-example.xml")).expect("the base example");
    assert_eq!(
        doc,
        EInvoice {
            syntax: Syntax::Ubl,
            kind: DocKind::Invoice,
            number: "Snippet1".into(),
            issued: day("2017-11-13"),
            due: Some(day("2017-12-01")),
            terms: Some("Payment within 10 days, 2% discount".into()),
            currency: eur(),
            payable: amount("1656.25"),
            buyer: peppol_buyer(),
            lines: peppol_lines(),
            payment_id: Some("Snippet1".into()),
            refers_to: vec![],
            buyer_account: None,
        }
    );
}

#[test]
fn the_peppol_credit_note_reads_as_a_correction_of_its_invoice() {
    let doc = parse(&data("base-creditnote-correction.xml")).expect("the credit note");
    assert_eq!(
        doc,
        EInvoice {
            syntax: Syntax::Ubl,
            kind: DocKind::CreditNote,
            number: "Snippet1".into(),
            issued: day("2017-11-13"),
            due: None,
            terms: Some("Payment within 10 days, 2% discount".into()),
            currency: eur(),
            payable: amount("1656.25"),
            buyer: peppol_buyer(),
            lines: peppol_lines(),
            payment_id: Some("Snippet1".into()),
            refers_to: vec!["Snippet1".into()],
            buyer_account: None,
        }
    );
}

#[test]
fn a_plain_ubl_invoice_with_terms_only_has_no_due_day_and_its_terms_say_thirty_days() {
    let doc = parse(&data("ubl21-net30.xml")).expect("the plain UBL invoice");
    assert_eq!(
        doc,
        EInvoice {
            syntax: Syntax::Ubl,
            kind: DocKind::Invoice,
            number: "INV-2024-0042".into(),
            issued: day("2024-03-15"),
            due: None,
            terms: Some("Net 30".into()),
            currency: eur(),
            payable: amount("57.23"),
            buyer: Party {
                id: Some("CUST-7781".into()),
                endpoint: None,
                vat: None,
                company: None,
                name: Some("Café Het Hoekje & Zn.".into()),
                email: Some("admin@hethoekje.example".into()),
            },
            lines: vec![
                line(Some("CR-01"), "Croissant", "24", "1.25"),
                line(None, "Bezorging", "1.5", "15"),
            ],
            payment_id: Some("RF18539007547034".into()),
            refers_to: vec![],
            buyer_account: Some("NL91ABNA0417164300".into()),
        }
    );
    assert_eq!(doc.terms.as_deref().and_then(days_in_terms), Some(30));
}

#[test]
fn the_factur_x_example_reads_as_its_buyer_lines_and_amount_due() {
    let doc = parse(&data("factur-x-en16931.xml")).expect("the Factur-X example");
    assert_eq!(
        doc,
        EInvoice {
            syntax: Syntax::Cii,
            kind: DocKind::Invoice,
            number: "471102".into(),
            issued: day("2018-03-05"),
            due: None,
            terms: Some(
                "Zahlbar innerhalb 30 Tagen netto bis 04.04.2018, 3% Skonto innerhalb 10 \
                 Tagen bis 15.03.2018"
                    .into()
            ),
            currency: eur(),
            payable: amount("529.87"),
            buyer: Party {
                id: Some("GE2020211".into()),
                endpoint: None,
                vat: None,
                company: None,
                name: Some("Kunden AG Mitte".into()),
                email: Some("hans.muster@kunden.example".into()),
            },
            lines: vec![
                line(Some("TB100A4"), "Trennblätter A4", "20", "9.9"),
                line(Some("ARNR2"), "Joghurt Banane", "50", "5.5"),
            ],
            payment_id: None,
            refers_to: vec![],
            buyer_account: None,
        }
    );
    // Two terms (30 days net, 10 with a discount): no single number of days.
    assert_eq!(doc.terms.as_deref().and_then(days_in_terms), None);
}

#[test]
fn a_cii_document_of_type_381_is_a_credit_note_with_its_invoice_and_due_day() {
    let cii = String::from_utf8(data("factur-x-en16931.xml")).expect("UTF-8");
    let cii = cii
        .replace(
            "<ram:TypeCode>380</ram:TypeCode>",
            "<ram:TypeCode>381</ram:TypeCode>",
        )
        .replace(
            "<ram:InvoiceCurrencyCode>",
            "<ram:PaymentReference>471102-RF</ram:PaymentReference>\
             <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>59</ram:TypeCode>\
             <ram:PayerPartyDebtorFinancialAccount><ram:IBANID>DE02 1203 0000 0000 2020 51\
             </ram:IBANID></ram:PayerPartyDebtorFinancialAccount>\
             </ram:SpecifiedTradeSettlementPaymentMeans>\
             <ram:InvoiceCurrencyCode>",
        )
        .replace(
            "</ram:Description>",
            "</ram:Description><ram:DueDateDateTime>\
             <udt:DateTimeString format=\"102\">20180404</udt:DateTimeString>\
             </ram:DueDateDateTime>",
        )
        .replace(
            "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>",
            "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>\
             <ram:InvoiceReferencedDocument><ram:IssuerAssignedID>471101</ram:IssuerAssignedID>\
             </ram:InvoiceReferencedDocument>",
        );
    let doc = parse(cii.as_bytes()).expect("a CII credit note");
    assert_eq!(doc.kind, DocKind::CreditNote);
    assert_eq!(doc.refers_to, vec!["471101".to_owned()]);
    assert_eq!(doc.due, Some(day("2018-04-04")));
    assert_eq!(doc.payment_id.as_deref(), Some("471102-RF"));
    assert_eq!(doc.buyer_account.as_deref(), Some("DE02120300000000202051"));
}

#[test]
fn sniff_tells_ubl_and_cii_from_other_documents() {
    assert_eq!(sniff(&data("base-example.xml")), Some(Syntax::Ubl));
    assert_eq!(
        sniff(&data("base-creditnote-correction.xml")),
        Some(Syntax::Ubl)
    );
    assert_eq!(sniff(&data("ubl21-net30.xml")), Some(Syntax::Ubl));
    assert_eq!(sniff(&data("factur-x-en16931.xml")), Some(Syntax::Cii));
    let camt = br#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>"#;
    assert_eq!(sniff(camt), None);
    assert_eq!(sniff(b"%PDF-1.7"), None);
    assert_eq!(sniff(b""), None);
}

#[test]
fn another_document_is_refused_naming_what_it_is() {
    let cases: &[(&str, &str)] = &[
        (
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>"#,
            "this is a camt.053 bank statement, not an invoice",
        ),
        (
            r#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>"#,
            "this is a UBL Order",
        ),
        (r#"<html><body/></html>"#, "web page"),
        (
            r#"<foo:Bar xmlns:foo="urn:x"/>"#,
            "<Bar> in namespace urn:x",
        ),
        ("%PDF-1.7 binary", "this is a PDF"),
        ("", "empty"),
        ("hello, world", "not XML"),
    ];
    for (doc, says) in cases {
        let e = refusal(doc);
        assert!(e.message.contains(says), "{doc}: {e}");
        assert_eq!(e.line, 1, "{doc}");
    }
}

#[test]
fn a_ubl_version_other_than_2_is_refused_on_its_line() {
    let e = refusal(&base_with(
        "<cbc:ID>Snippet1</cbc:ID>",
        "<cbc:UBLVersionID>1.0</cbc:UBLVersionID>\n<cbc:ID>Snippet1</cbc:ID>",
    ));
    assert_eq!(e.field.as_deref(), Some("cbc:UBLVersionID"));
    assert_eq!(e.line, 7);
    assert!(e.message.contains("UBL 2"), "{e}");
}

#[test]
fn a_missing_required_field_is_refused_by_name() {
    let cases = [
        ("<cbc:ID>Snippet1</cbc:ID>", "cbc:ID"),
        ("<cbc:IssueDate>2017-11-13</cbc:IssueDate>", "cbc:IssueDate"),
        (
            "<cbc:PayableAmount currencyID=\"EUR\">1656.25</cbc:PayableAmount>",
            "cac:LegalMonetaryTotal/cbc:PayableAmount",
        ),
    ];
    for (element, field) in cases {
        let e = refusal(&base_with(element, ""));
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
    }
    // The currency may come from the amount due; with neither, the document is refused.
    let no_code = base_with(
        "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
        "",
    );
    assert_eq!(parse(no_code.as_bytes()).map(|d| d.currency), Ok(eur()));
    let neither = no_code.replace(
        "<cbc:PayableAmount currencyID=\"EUR\">",
        "<cbc:PayableAmount>",
    );
    let e = refusal(&neither);
    assert_eq!(e.field.as_deref(), Some("cbc:DocumentCurrencyCode"));
}

#[test]
fn a_buyer_without_any_identifier_is_refused_at_the_buyer() {
    let base = String::from_utf8(data("base-example.xml")).expect("UTF-8");
    let start = base.find("<cac:AccountingCustomerParty>").expect("a buyer");
    let end = base
        .find("</cac:AccountingCustomerParty>")
        .expect("a buyer");
    let anonymous = format!(
        "{}<cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Someone\
         </cbc:Name></cac:PartyName></cac:Party>{}",
        &base[..start],
        &base[end..]
    );
    let e = refusal(&anonymous);
    assert_eq!(e.field.as_deref(), Some("cac:AccountingCustomerParty"));
    assert_eq!(e.line, 44);
    assert!(e.message.contains("no identifier"), "{e}");
}

#[test]
fn the_sellers_identifiers_never_become_the_buyers() {
    let base = String::from_utf8(data("base-example.xml")).expect("UTF-8");
    let start = base.find("<cac:AccountingCustomerParty>").expect("a buyer");
    let end = base
        .find("</cac:AccountingCustomerParty>")
        .expect("a buyer");
    let only_vat = format!(
        "{}<cac:AccountingCustomerParty><cac:Party><cac:PartyTaxScheme><cbc:CompanyID>\
         SE1</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>\
         </cac:PartyTaxScheme></cac:Party>{}",
        &base[..start],
        &base[end..]
    );
    let doc = parse(only_vat.as_bytes()).expect("a buyer known by VAT number");
    assert_eq!(
        doc.buyer,
        Party {
            vat: Some("SE1".into()),
            ..Party::default()
        }
    );
}

#[test]
fn bad_amounts_and_days_are_refused_with_their_line_and_element() {
    let cases = [
        (
            "<cbc:PayableAmount currencyID=\"EUR\">1656.25</cbc:PayableAmount>",
            "<cbc:PayableAmount currencyID=\"EUR\">1656.123456</cbc:PayableAmount>",
            144,
            "cbc:PayableAmount",
            "decimals",
        ),
        (
            "<cbc:PayableAmount currencyID=\"EUR\">1656.25</cbc:PayableAmount>",
            "<cbc:PayableAmount currencyID=\"EUR\">-1656.25</cbc:PayableAmount>",
            144,
            "cbc:PayableAmount",
            "negative",
        ),
        (
            "<cbc:PayableAmount currencyID=\"EUR\">1656.25</cbc:PayableAmount>",
            "<cbc:PayableAmount currencyID=\"USD\">1656.25</cbc:PayableAmount>",
            144,
            "cbc:PayableAmount",
            "USD",
        ),
        (
            "<cbc:IssueDate>2017-11-13</cbc:IssueDate>",
            "<cbc:IssueDate>13.11.2017</cbc:IssueDate>",
            8,
            "cbc:IssueDate",
            "date",
        ),
        (
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
            "<cbc:DocumentCurrencyCode>Euro</cbc:DocumentCurrencyCode>",
            11,
            "cbc:DocumentCurrencyCode",
            "ISO 4217",
        ),
    ];
    for (from, to, line, field, says) in cases {
        let e = refusal(&base_with(from, to));
        assert_eq!((e.line, e.field.as_deref()), (line, Some(field)), "{e}");
        assert!(e.message.contains(says), "{e}");
    }
}

#[test]
fn broken_xml_is_refused_with_the_line_where_it_breaks() {
    let e = refusal(&base_with("</cbc:IssueDate>", "</cbc:IssueDat>"));
    assert_eq!(e.line, 8, "{e}");
    assert!(e.message.contains("not well-formed"), "{e}");
    let base = String::from_utf8(data("base-example.xml")).expect("UTF-8");
    let cut = &base[..base.len() / 2];
    assert!(refusal(cut).line > 50);
    let end = base.find("</Invoice>").expect("an end");
    let e = refusal(&base[..end]);
    assert!(e.message.contains("cut short"), "{e}");
}

#[test]
fn custom_entities_are_refused_never_expanded() {
    let lol = r#"<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY lol "lol">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&lol;</ID></Invoice>"#;
    let e = refusal(lol);
    assert!(e.message.contains("&lol;"), "{e}");
    assert_eq!(e.line, 2);
}

#[test]
fn a_utf16_or_latin1_document_reads_like_its_utf8_twin() {
    let utf8 = data("ubl21-net30.xml");
    let text = String::from_utf8(utf8.clone()).expect("UTF-8");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(parse(&utf16), parse(&utf8));
    let latin1: Vec<u8> = text
        .replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1)
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect();
    assert_eq!(parse(&latin1), parse(&utf8));
}

#[test]
fn days_in_terms_reads_one_number_of_days_in_four_languages() {
    let cases: &[(&str, Option<u32>)] = &[
        ("Net 30", Some(30)),
        ("NET30", Some(30)),
        ("30 days", Some(30)),
        ("Payment within 30 days", Some(30)),
        ("Payment within 10 days, 2% discount", Some(10)),
        ("30 calendar days net", Some(30)),
        ("binnen 14 dagen", Some(14)),
        ("Betaling binnen 14 dagen na factuurdatum", Some(14)),
        ("innerhalb von 10 Tagen", Some(10)),
        ("Zahlbar innerhalb 10 Tagen ohne Abzug", Some(10)),
        ("à 30 jours", Some(30)),
        ("Paiement à 45 jours fin de mois", Some(45)),
        ("2/10 net 30", Some(30)),
        ("2% 10 days, net 30", None),
        ("Net 30 days", Some(30)),
        ("30 days, i.e. 30 days after the invoice date", Some(30)),
        ("2% 10 days, net 30 days", None),
        ("Net 0", None),
        ("0 days", None),
        ("Due on receipt", None),
        ("Pay by 2024-04-30", None),
        ("Zahlbar bis 04.04.2018", None),
        ("", None),
    ];
    for (terms, days) in cases {
        assert_eq!(days_in_terms(terms), *days, "{terms:?}");
    }
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse(&bytes);
        let _ = sniff(&bytes);
    }

    #[test]
    fn parse_never_panics_on_a_mutated_valid_document(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let name = ["base-example.xml", "base-creditnote-correction.xml", "ubl21-net30.xml",
            "factur-x-en16931.xml"][which];
        let mut bytes = data(name);
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        let _ = parse(&bytes);
        let _ = sniff(&bytes);
    }

    #[test]
    fn days_in_terms_never_panics(terms in ".{0,200}") {
        let _ = days_in_terms(&terms);
    }
}
