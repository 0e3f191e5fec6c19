//! One example of every event kind, in the canonical JSON Lines format.
//!
//! The same lines appear in `docs/events.md`; a test checks that each one there is valid and
//! that every kind has one, so the documentation cannot drift from what the importer accepts.

pub const ALL: &[&str] = &[
    r#"{"source":"crm","id":"p-0379","kind":"person.identified","person":"0379-NEVHP","at":"2013-01-01T09:00:00Z","name":"Anna de Vries","email":"anna@example.org","phone":"+31 6 1234 5678","language":"nl","address_as":"Anna","org":"acme-bv"}"#,
    r#"{"source":"ar","id":"inv-17","kind":"invoice.issued","person":"0379-NEVHP","at":"2013-01-02T00:00:00Z","invoice":"17","amount":"55.94","currency":"USD","due":"2013-02-01"}"#,
    r#"{"source":"ar","id":"pay-17-1","kind":"payment.received","person":"0379-NEVHP","at":"2013-01-28T14:02:00Z","invoice":"17","amount":"55.94","currency":"USD"}"#,
    r#"{"source":"ar","id":"dis-17","kind":"invoice.disputed","person":"0379-NEVHP","at":"2013-01-05T10:00:00Z","invoice":"17","reason":"Charged twice for the March delivery"}"#,
    r#"{"source":"ar","id":"res-17","kind":"dispute.resolved","person":"0379-NEVHP","at":"2013-01-09T16:00:00Z","invoice":"17","outcome":"upheld"}"#,
    r#"{"source":"shop","id":"ord-9001","kind":"order.placed","person":"0379-NEVHP","at":"2013-03-01T12:00:00Z","order":"9001","amount":"32.50","currency":"EUR","lines":[{"product":"85123A","qty":5,"unit_price":"6.50"}]}"#,
    r#"{"source":"shop","id":"ret-9001","kind":"order.returned","person":"0379-NEVHP","at":"2013-03-08T12:00:00Z","order":"9001","amount":"6.50","currency":"EUR","lines":[{"product":"85123A","qty":-1,"unit_price":"6.50"}]}"#,
    r#"{"source":"desk","id":"msg-1","kind":"contact.opened","person":"0379-NEVHP","at":"2013-03-09T08:15:00Z","contact":"T-88","channel":"email","topic":"delivery","text":"My parcel arrived broken. What now?","caused_by":"inc-4"}"#,
    r#"{"source":"desk","id":"msg-2","kind":"contact.answered","person":"0379-NEVHP","at":"2013-03-09T11:40:00Z","contact":"T-88","by":"agent-ruben","text":"Dear Anna, I am sorry. A new one leaves today."}"#,
    r#"{"source":"desk","id":"msg-3","kind":"contact.closed","person":"0379-NEVHP","at":"2013-03-12T09:00:00Z","contact":"T-88","resolved":true}"#,
    r#"{"source":"ops","id":"inc-4","kind":"incident.occurred","person":"0379-NEVHP","at":"2013-03-08T18:00:00Z","incident":"inc-4","what":"Parcel damaged by our carrier"}"#,
    r#"{"source":"ops","id":"apo-4","kind":"apology.made","person":"0379-NEVHP","at":"2013-03-09T11:40:00Z","incident":"inc-4","text":"We are sorry: our packaging was not good enough."}"#,
    r#"{"source":"desk","id":"prm-5","kind":"promise.made","person":"0379-NEVHP","at":"2013-03-09T11:40:00Z","promise":"prm-5","due":"2013-03-12","what":"Replacement delivered by Tuesday"}"#,
    r#"{"source":"desk","id":"prm-5-kept","kind":"promise.kept","person":"0379-NEVHP","at":"2013-03-11T15:00:00Z","promise":"prm-5"}"#,
    r#"{"source":"crm","id":"ref-1","kind":"referral.made","person":"0379-NEVHP","at":"2013-04-01T10:00:00Z","referred":"0412-KQXRT"}"#,
    r#"{"source":"web","id":"rev-1","kind":"review.given","person":"0379-NEVHP","at":"2013-04-02T10:00:00Z","score":9,"text":"They fixed it without fuss."}"#,
    r#"{"source":"mail","id":"out-1","kind":"outreach.sent","person":"0379-NEVHP","at":"2013-04-10T07:00:00Z","channel":"email","topic":"newsletter"}"#,
    r#"{"source":"self","id":"w-1","kind":"wish.stated","person":"0379-NEVHP","at":"2013-04-11T20:00:00Z","text":"Please call me after 17:00, never before."}"#,
    r#"{"source":"self","id":"m-1","kind":"menu.chosen","person":"0379-NEVHP","at":"2013-04-11T20:01:00Z","item":"channel","option":"phone"}"#,
    r#"{"source":"self","id":"m-2","kind":"menu.proposed","person":"0379-NEVHP","at":"2013-04-11T20:02:00Z","item":"delivery","text":"Could you deliver to my allotment on Saturdays?"}"#,
    r#"{"source":"self","id":"c-1","kind":"consent.given","person":"0379-NEVHP","at":"2013-04-11T20:03:00Z","purpose":"newsletter","how":"self-service page"}"#,
    r#"{"source":"self","id":"c-2","kind":"consent.withdrawn","person":"0379-NEVHP","at":"2013-06-01T09:00:00Z","purpose":"newsletter","how":"e-mail reply"}"#,
    r#"{"source":"card","id":"note-1","kind":"note.added","person":"0379-NEVHP","at":"2013-04-12T09:30:00Z","text":"Prefers a call to an e-mail; asked us to mention the order number."}"#,
    r#"{"source":"crm","id":"end-1","kind":"relationship.ended","person":"0379-NEVHP","at":"2014-01-01T00:00:00Z","reason":"moved"}"#,
    r#"{"source":"billing","id":"sub-88","kind":"contract.started","person":"0379-NEVHP","at":"2013-04-01T10:00:00Z","contract":"SUB-88","period":"month","plan":"coffee-box","amount":"12.50","currency":"EUR"}"#,
    r#"{"source":"billing","id":"sub-88-r3","kind":"contract.renewed","person":"0379-NEVHP","at":"2013-07-01T00:00:00Z","contract":"SUB-88"}"#,
    r#"{"source":"billing","id":"sub-88-end","kind":"contract.cancelled","person":"0379-NEVHP","at":"2013-11-14T16:20:00Z","contract":"SUB-88","reason":"price"}"#,
    r#"{"source":"ar","id":"cn-17","kind":"invoice.corrected","person":"0379-NEVHP","at":"2013-01-10T00:00:00Z","invoice":"17","amount":"5.00","currency":"USD"}"#,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_is_documented_in_docs_events_md_verbatim() {
        let doc = include_str!("../../../docs/events.md");
        for line in super::ALL {
            assert!(doc.contains(line), "docs/events.md lacks {line}");
        }
    }
}
