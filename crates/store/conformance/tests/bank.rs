//! Bank statement lines, on every backend: recorded with the batch's events or not at all,
//! read back by source and as the waiting list with their details opened, a decision
//! replacing state and dropping details, the details sealed in the files and still opening
//! after a rekey.

use domain::{Amount, Currency, Day, PersonId};
use rapport_store_tests::{Backend, conformance, events, found_in};
use store::{BankDetails, LineState, MasterKey, NewBankLine};

fn line(id: &str, state: LineState, payer: Option<&str>) -> NewBankLine {
    NewBankLine {
        source: "bank:NL91ABNA0417164300".into(),
        id: id.into(),
        booked: Day::parse("2024-03-02").unwrap(),
        amount: Amount::parse("42.00", 2).unwrap(),
        currency: Currency::parse("EUR").unwrap(),
        state,
        reason: (state == LineState::Unmatched).then(|| "no reference".to_owned()),
        details: payer.map(|p| BankDetails {
            counterparty: Some(p.to_owned()),
            iban: Some("NL55TRIO0212345678".into()),
            reference: None,
            text: Some("gift".into()),
        }),
    }
}

const PAYMENT: &str = r#"{"kind":"payment.received","source":"bank:NL91ABNA0417164300","id":"B-1","person":"CUST-A","at":"2024-02-12T00:00:00Z","invoice":"INV-1","amount":"100.00","currency":"EUR","matched":"reference","account":"NL44RABO0123456789"}"#;

fn lines_come_with_their_batch_or_not_at_all_and_wait_with_their_details_opened(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    // A batch dropped before its commit leaves neither its events nor its lines.
    {
        let mut batch = s.batch("statement.xml").unwrap();
        for e in events(&[PAYMENT]) {
            batch.append(e).unwrap();
        }
        batch
            .bank_lines(vec![line("B-1", LineState::Matched, None)])
            .unwrap();
    }
    assert!(s.bank_seen("bank:NL91ABNA0417164300").unwrap().is_empty());
    assert_eq!(s.totals().unwrap().events, 0);

    let mut batch = s.batch("statement.xml").unwrap();
    for e in events(&[PAYMENT]) {
        batch.append(e).unwrap();
    }
    batch
        .bank_lines(vec![
            line("B-1", LineState::Matched, None),
            line("B-4", LineState::Unmatched, Some("Onbekend Persoon")),
        ])
        .unwrap();
    batch.commit().unwrap();
    let seen = s.bank_seen("bank:NL91ABNA0417164300").unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen.contains("B-1") && seen.contains("B-4"));
    assert!(s.bank_seen("bank:other").unwrap().is_empty());

    let (total, waiting) = s.bank_unmatched(10).unwrap();
    assert_eq!((total, waiting.len()), (1, 1));
    let w = &waiting[0];
    assert_eq!((w.id.as_str(), w.state), ("B-4", LineState::Unmatched));
    assert_eq!(w.amount, Amount::parse("42", 2).unwrap());
    assert_eq!(w.reason.as_deref(), Some("no reference"));
    let d = w.details.as_ref().expect("the details open");
    assert_eq!(d.counterparty.as_deref(), Some("Onbekend Persoon"));
    assert_eq!(s.bank_line(w.no).unwrap().as_ref(), Some(w));
    assert_eq!(s.bank_line(w.no + 1000).unwrap(), None);

    // The payer's account is in the payment's sealed fields.
    let paid = s.personal_of_kind(domain::Kind::PaymentReceived).unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].0, PersonId::parse("CUST-A").unwrap());
    assert_eq!(paid[0].2.account.as_deref(), Some("NL44RABO0123456789"));

    if b.files_readable() {
        b.flush();
        assert_eq!(
            found_in(&b.data_files(), b"Onbekend Persoon"),
            None,
            "a waiting line's payer is sealed"
        );
    }

    // A decision replaces the state and drops the details.
    let mut batch = s.batch("payments dismiss").unwrap();
    let mut decided = line("B-4", LineState::Dismissed, None);
    decided.reason = Some("a refund from a supplier".into());
    batch.bank_lines(vec![decided]).unwrap();
    batch.commit().unwrap();
    assert_eq!(s.bank_unmatched(10).unwrap().0, 0);
    let after = s.bank_line(w.no).unwrap().unwrap();
    assert_eq!(after.state, LineState::Dismissed);
    assert_eq!(after.reason.as_deref(), Some("a refund from a supplier"));
    assert_eq!(after.details, None);
    assert_eq!(after.read_at, w.read_at, "first read stays");
}

fn a_waiting_line_s_details_still_open_after_a_rekey(b: &dyn Backend) {
    let old = MasterKey::generate();
    let s = b.create(&old).unwrap();
    let mut batch = s.batch("statement.xml").unwrap();
    batch
        .bank_lines(vec![line("B-4", LineState::Unmatched, Some("Onbekend"))])
        .unwrap();
    batch.commit().unwrap();
    let new = MasterKey::generate();
    s.rekey(&new).unwrap();
    drop(s);
    let s = b.open(&new).unwrap();
    let (_, waiting) = s.bank_unmatched(10).unwrap();
    assert_eq!(
        waiting[0]
            .details
            .as_ref()
            .and_then(|d| d.counterparty.as_deref()),
        Some("Onbekend")
    );
}

conformance!(
    lines_come_with_their_batch_or_not_at_all_and_wait_with_their_details_opened,
    a_waiting_line_s_details_still_open_after_a_rekey,
);
