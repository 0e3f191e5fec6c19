//! The business's own artefacts, end to end: invoices as UBL, payments as a camt.053 bank
//! statement and questions as an mbox give exactly the readings of the same history written
//! as canonical JSON Lines; a credit no rule places waits, and a person's choice about it is
//! stored as the payment it makes; reading everything again adds nothing.

mod common;

use common::{Ledger, stderr, stdout};
use serde_json::Value;

const TODAY: &str = "2024-06-01";

fn ubl_invoice(
    number: &str,
    issued: &str,
    due: &str,
    buyer: (&str, &str, &str),
    amount: &str,
    payment_id: Option<&str>,
) -> String {
    let (id, name, email) = buyer;
    let pay = payment_id
        .map(|p| {
            format!(
                "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>\
                 <cbc:PaymentID>{p}</cbc:PaymentID></cac:PaymentMeans>"
            )
        })
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issued}</cbc:IssueDate>
  <cbc:DueDate>{due}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>Koffie &amp; Co</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PartyIdentification><cbc:ID>{id}</cbc:ID></cac:PartyIdentification>
    <cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity>
    <cac:Contact><cbc:ElectronicMail>{email}</cbc:ElectronicMail></cac:Contact>
  </cac:Party></cac:AccountingCustomerParty>
  {pay}
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount>
    <cbc:PayableAmount currencyID="EUR">{amount}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Espresso machine service</cbc:Name>
      <cac:SellersItemIdentification><cbc:ID>SERVICE-1</cbc:ID></cac:SellersItemIdentification>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{amount}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>
"#
    )
}

fn ubl_credit_note(
    number: &str,
    issued: &str,
    corrects: &str,
    buyer: &str,
    amount: &str,
) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issued}</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{corrects}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
  <cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID></cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PartyIdentification><cbc:ID>{buyer}</cbc:ID></cac:PartyIdentification>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>
</CreditNote>
"#
    )
}

/// One camt.053 entry: (bank's id, booked day, amount, credit?, payer, IBAN, RF ref, text).
type Entry<'a> = (
    &'a str,
    &'a str,
    &'a str,
    bool,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

fn camt053(id: &str, entries: &[Entry<'_>]) -> String {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>{id}</MsgId><CreDtTm>2024-05-01T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>{id}</Id>
   <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>
"#
    );
    for (ref_, day, amount, credit, payer, iban, rf, text) in entries {
        let (ind, party, acct) = if *credit {
            ("CRDT", "Dbtr", "DbtrAcct")
        } else {
            ("DBIT", "Cdtr", "CdtrAcct")
        };
        let strd = rf
            .map(|r| format!("<Strd><CdtrRefInf><Ref>{r}</Ref></CdtrRefInf></Strd>"))
            .unwrap_or_default();
        let ustrd = text
            .map(|t| format!("<Ustrd>{t}</Ustrd>"))
            .unwrap_or_default();
        s.push_str(&format!(
            r#"   <Ntry>
    <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
    <AcctSvcrRef>{ref_}</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <RltdPties><{party}><Nm>{payer}</Nm></{party}><{acct}><Id><IBAN>{iban}</IBAN></Id></{acct}></RltdPties>
     <RmtInf>{ustrd}{strd}</RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
"#
        ));
    }
    s.push_str("  </Stmt>\n </BkToCstmrStmt>\n</Document>\n");
    s
}

const MBOX: &str = "From anna@klant.example Tue Feb 20 10:00:00 2024
From: Anna Jansen <anna@klant.example>
To: support@koffie.example
Subject: Waar blijft mijn factuur?
Date: Tue, 20 Feb 2024 10:00:00 +0000
Message-ID: <q1@klant.example>
Content-Type: text/plain; charset=utf-8

Hallo, ik heb de factuur van januari nog niet ontvangen. Groet, Anna

From support@koffie.example Tue Feb 20 14:30:00 2024
From: Koffie & Co <support@koffie.example>
To: Anna Jansen <anna@klant.example>
Subject: Re: Waar blijft mijn factuur?
Date: Tue, 20 Feb 2024 14:30:00 +0000
Message-ID: <a1@koffie.example>
In-Reply-To: <q1@klant.example>
References: <q1@klant.example>
Content-Type: text/plain; charset=utf-8

Beste Anna, ik heb hem je zojuist opnieuw gestuurd, met excuses voor het wachten.

Op 20 februari schreef Anna Jansen:
> Hallo, ik heb de factuur van januari nog niet ontvangen.
--=20
Koffie & Co klantenservice

From bram@klant.example Sun Mar 10 09:15:00 2024
From: Bram de Vries <bram@klant.example>
To: support@koffie.example
Subject: Machine lekt
Date: Sun, 10 Mar 2024 09:15:00 +0000
Message-ID: <q2@klant.example>
Content-Type: text/plain; charset=utf-8

Mijn machine lekt water sinds de service.

From news@koffie.example Mon Mar 11 08:00:00 2024
From: Koffie & Co <news@koffie.example>
To: bram@klant.example
Subject: Nieuw: bonen van de maand
Date: Mon, 11 Mar 2024 08:00:00 +0000
Message-ID: <n1@koffie.example>
List-Id: <nieuws.koffie.example>
Content-Type: text/plain; charset=utf-8

Deze maand: Ethiopische Yirgacheffe.
";

/// The same history, written by hand in the canonical format.
const CANONICAL: &str = r#"{"kind":"person.identified","source":"e-invoice","id":"buyer:INV-1001","person":"CUST-A","at":"2024-01-10T00:00:00Z","name":"Anna Jansen","email":"anna@klant.example"}
{"kind":"invoice.issued","source":"e-invoice","id":"invoice:INV-1001","person":"CUST-A","at":"2024-01-10T00:00:00Z","invoice":"INV-1001","amount":"100.00","currency":"EUR","due":"2024-02-09","reference":"RF18539007547034","lines":[{"product":"SERVICE-1","qty":1,"unit_price":"100.00"}]}
{"kind":"person.identified","source":"e-invoice","id":"buyer:INV-1002","person":"CUST-A","at":"2024-03-01T00:00:00Z","name":"Anna Jansen","email":"anna@klant.example"}
{"kind":"invoice.issued","source":"e-invoice","id":"invoice:INV-1002","person":"CUST-A","at":"2024-03-01T00:00:00Z","invoice":"INV-1002","amount":"250.00","currency":"EUR","due":"2024-03-31","lines":[{"product":"SERVICE-1","qty":1,"unit_price":"250.00"}]}
{"kind":"invoice.corrected","source":"e-invoice","id":"credit-note:CN-1","person":"CUST-A","at":"2024-03-05T00:00:00Z","invoice":"INV-1002","amount":"50.00","currency":"EUR"}
{"kind":"person.identified","source":"e-invoice","id":"buyer:INV-2001","person":"CUST-B","at":"2024-02-01T00:00:00Z","name":"Bram de Vries","email":"bram@klant.example"}
{"kind":"invoice.issued","source":"e-invoice","id":"invoice:INV-2001","person":"CUST-B","at":"2024-02-01T00:00:00Z","invoice":"INV-2001","amount":"80.00","currency":"EUR","due":"2024-03-02","lines":[{"product":"SERVICE-1","qty":1,"unit_price":"80.00"}]}
{"kind":"person.identified","source":"e-invoice","id":"buyer:INV-2002","person":"CUST-B","at":"2024-03-15T00:00:00Z","name":"Bram de Vries","email":"bram@klant.example"}
{"kind":"invoice.issued","source":"e-invoice","id":"invoice:INV-2002","person":"CUST-B","at":"2024-03-15T00:00:00Z","invoice":"INV-2002","amount":"60.00","currency":"EUR","due":"2024-04-15","lines":[{"product":"SERVICE-1","qty":1,"unit_price":"60.00"}]}
{"kind":"payment.received","source":"bank:NL91ABNA0417164300","id":"B-1","person":"CUST-A","at":"2024-02-12T00:00:00Z","invoice":"INV-1001","amount":"100.00","currency":"EUR","matched":"reference","account":"NL44RABO0123456789"}
{"kind":"payment.received","source":"bank:NL91ABNA0417164300","id":"B-3","person":"CUST-B","at":"2024-03-01T00:00:00Z","invoice":"INV-2001","amount":"80.00","currency":"EUR","matched":"invoice-number","account":"NL02ABNA0123456789"}
{"kind":"payment.received","source":"bank:NL91ABNA0417164300","id":"B-10","person":"CUST-A","at":"2024-03-20T00:00:00Z","invoice":"INV-1002","amount":"200.00","currency":"EUR","matched":"account-and-amount","account":"NL44RABO0123456789"}
{"kind":"contact.opened","source":"mail","id":"q1@klant.example","person":"CUST-A","at":"2024-02-20T10:00:00Z","contact":"q1@klant.example","channel":"email","text":"Waar blijft mijn factuur?"}
{"kind":"contact.answered","source":"mail","id":"a1@koffie.example","person":"CUST-A","at":"2024-02-20T14:30:00Z","contact":"q1@klant.example","by":"support@koffie.example","text":"Beste Anna, ik heb hem je zojuist opnieuw gestuurd, met excuses voor het wachten."}
{"kind":"contact.opened","source":"mail","id":"q2@klant.example","person":"CUST-B","at":"2024-03-10T09:15:00Z","contact":"q2@klant.example","channel":"email","text":"Machine lekt"}
"#;

/// Writes the artefacts into `l`'s folder: a folder of invoices, two statements, a mailbox.
fn artefacts(l: &Ledger) -> [std::path::PathBuf; 4] {
    let anna = ("CUST-A", "Anna Jansen", "anna@klant.example");
    let bram = ("CUST-B", "Bram de Vries", "bram@klant.example");
    let dir = l
        .write(
            "invoices/INV-1001.xml",
            ubl_invoice(
                "INV-1001",
                "2024-01-10",
                "2024-02-09",
                anna,
                "100.00",
                Some("RF18539007547034"),
            )
            .as_bytes(),
        )
        .parent()
        .unwrap()
        .to_owned();
    l.write(
        "invoices/INV-1002.xml",
        ubl_invoice("INV-1002", "2024-03-01", "2024-03-31", anna, "250.00", None).as_bytes(),
    );
    l.write(
        "invoices/CN-1.xml",
        ubl_credit_note("CN-1", "2024-03-05", "INV-1002", "CUST-A", "50.00").as_bytes(),
    );
    l.write(
        "invoices/INV-2001.xml",
        ubl_invoice("INV-2001", "2024-02-01", "2024-03-02", bram, "80.00", None).as_bytes(),
    );
    l.write(
        "invoices/INV-2002.xml",
        ubl_invoice("INV-2002", "2024-03-15", "2024-04-15", bram, "60.00", None).as_bytes(),
    );
    let first = l.write(
        "statement-1.xml",
        camt053(
            "STMT-1",
            &[
                (
                    "B-1",
                    "2024-02-12",
                    "100.00",
                    true,
                    "A. Jansen",
                    "NL44RABO0123456789",
                    Some("RF18 5390 0754 7034"),
                    None,
                ),
                (
                    "B-2",
                    "2024-02-14",
                    "19.99",
                    false,
                    "Energie BV",
                    "NL11INGB0001234567",
                    None,
                    Some("stroom februari"),
                ),
                (
                    "B-3",
                    "2024-03-01",
                    "80.00",
                    true,
                    "B. de Vries",
                    "NL02ABNA0123456789",
                    None,
                    Some("factuur INV-2001 dank"),
                ),
                (
                    "B-4",
                    "2024-03-02",
                    "42.00",
                    true,
                    "Onbekend",
                    "NL55TRIO0212345678",
                    None,
                    Some("gift"),
                ),
            ],
        )
        .as_bytes(),
    );
    let second = l.write(
        "statement-2.xml",
        camt053(
            "STMT-2",
            &[(
                "B-10",
                "2024-03-20",
                "200.00",
                true,
                "A. Jansen",
                "NL44RABO0123456789",
                None,
                Some("betaling"),
            )],
        )
        .as_bytes(),
    );
    let mbox = l.write("support.mbox", MBOX.as_bytes());
    [dir, first, second, mbox]
}

fn people(l: &Ledger) -> Value {
    let out = l
        .command()
        .env("RAPPORT_TODAY", TODAY)
        .args(["people", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut rows: Vec<Value> = stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    rows.sort_by_key(|r| r["person"].as_str().unwrap_or_default().to_owned());
    Value::Array(rows)
}

fn import(l: &Ledger, path: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["import", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = l
        .command()
        .env("RAPPORT_TODAY", TODAY)
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    stdout(&out)
}

#[test]
fn invoices_a_bank_statement_and_a_mailbox_read_as_the_same_history_in_json_lines() {
    let from_artefacts = Ledger::new();
    let [invoices, first, second, mbox] = artefacts(&from_artefacts);
    let said = import(&from_artefacts, &invoices, &[]);
    assert!(said.contains("9 events added"), "{said}");
    let said = import(&from_artefacts, &first, &[]);
    assert!(
        said.contains("2 credit(s) placed on invoices, 1 waiting"),
        "{said}"
    );
    assert!(said.contains("1 debits (money going out)"), "{said}");
    let said = import(&from_artefacts, &second, &[]);
    assert!(
        said.contains("1 by the payer's account and the amount"),
        "{said}"
    );
    let said = import(&from_artefacts, &mbox, &["--ours", "@koffie.example"]);
    assert!(said.contains("automatic mail (mailing list)"), "{said}");

    let from_lines = Ledger::new();
    let path = from_lines.write("history.jsonl", CANONICAL.as_bytes());
    import(&from_lines, &path, &[]);

    let (a, b) = (people(&from_artefacts), people(&from_lines));
    assert_eq!(a, b, "the readings differ");
    let anna = &a[0];
    assert_eq!(anna["person"], "CUST-A");
    let p = &anna["readings"]["punctuality"];
    // INV-1001 paid three days late; INV-1002, lowered to 200.00 by its credit note, paid
    // in full before it was due.
    assert_eq!(p["on_time_share"], 0.5, "{p}");
    assert_eq!(p["mean_days_late"], 1.5, "{p}");
    assert_eq!(anna["readings"]["heard"]["answered_share"], 1.0);
}

#[test]
fn a_credit_no_rule_places_waits_and_a_person_s_choice_is_the_payment_it_makes() {
    let l = Ledger::new();
    let [invoices, first, second, mbox] = artefacts(&l);
    for p in [&invoices, &first, &second] {
        import(&l, p, &[]);
    }
    import(
        &l,
        &mbox,
        &[
            "--ours",
            "support@koffie.example",
            "--ours",
            "@koffie.example",
        ],
    );

    let out = l.run(&["payments", "unmatched", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let waiting: Vec<Value> = stdout(&out)
        .lines()
        .map(|x| serde_json::from_str(x).unwrap())
        .collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let w = &waiting[0];
    assert_eq!(
        (w["amount"].as_str(), w["payer"].as_str()),
        (Some("42.00"), Some("Onbekend"))
    );
    assert!(w["why"].as_str().unwrap().contains("no reference"), "{w}");
    let no = w["line"].as_i64().unwrap().to_string();

    let text = stdout(&l.run(&["payments", "unmatched"]));
    assert!(text.contains("1 bank credit waits for a person"), "{text}");

    // Reading everything again adds nothing, and the waiting credit is not read twice.
    for p in [&invoices, &first, &second] {
        let said = import(&l, p, &[]);
        assert!(said.contains(": 0 events added"), "{said}");
    }
    let said = import(&l, &first, &[]);
    assert!(said.contains("3 credits read before"), "{said}");

    // A wrong invoice is a clear error; then the person places it on Bram's open invoice.
    let out = l.run(&["payments", "resolve", &no, "--invoice", "INV-9999"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no open invoice INV-9999"),
        "{}",
        stderr(&out)
    );
    let out = l.run(&[
        "payments",
        "resolve",
        &no,
        "--invoice",
        "INV-2002",
        "--person",
        "CUST-A",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no open invoice INV-2002 of CUST-A"),
        "{}",
        stderr(&out)
    );
    let out = l.run(&[
        "payments",
        "resolve",
        &no,
        "--invoice",
        "INV-2002",
        "--person",
        "CUST-B",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("matched by hand"), "{}", stdout(&out));

    let out = l.run(&["card", "CUST-B", "--json"]);
    let card: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let timeline = card.to_string();
    assert!(timeline.contains("by hand"), "{timeline}");
    let text = stdout(&l.run(&["payments", "unmatched"]));
    assert!(text.contains("No bank credits wait"), "{text}");
    let out = l.run(&["payments", "resolve", &no, "--invoice", "INV-2002"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not waiting"), "{}", stderr(&out));
}

#[test]
fn a_statement_that_cannot_be_read_stores_nothing_and_names_its_line() {
    let l = Ledger::new();
    let [invoices, ..] = artefacts(&l);
    import(&l, &invoices, &[]);
    let before = l.totals();
    let broken = camt053(
        "STMT-X",
        &[(
            "X-1",
            "2024-02-31",
            "10.00",
            true,
            "A",
            "NL44RABO0123456789",
            None,
            Some("x"),
        )],
    );
    let path = l.write("broken.xml", broken.as_bytes());
    let out = l.run(&["import", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("broken.xml") && err.contains("nothing from it was stored"),
        "{err}"
    );
    assert_eq!(l.totals(), before);
}

#[test]
fn a_mailbox_without_the_business_s_addresses_is_refused_with_what_to_give() {
    let l = Ledger::new();
    let path = l.write("support.mbox", MBOX.as_bytes());
    let out = l.run(&["import", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--ours"), "{}", stderr(&out));
    assert_eq!(l.totals().events, 0);
}
