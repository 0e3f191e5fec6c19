//! The readings held to READINGS.md, case by case.

use serde_json::json;

use super::*;
use crate::event::NewEvent;
use crate::values::{PersonId, Ref};

/// Builds a person's history from short event descriptions; `seq` is the line number.
fn history(events: &[serde_json::Value]) -> Vec<Recorded> {
    events
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut m = v.as_object().unwrap().clone();
            m.entry("source").or_insert(json!("t"));
            m.entry("id").or_insert(json!(format!("e{i}")));
            m.entry("person").or_insert(json!("p"));
            let e = NewEvent::from_json(&m).unwrap_or_else(|err| panic!("{v}: {err}"));
            Recorded {
                seq: i as i64,
                at: e.at,
                body: e.body,
            }
        })
        .collect()
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn inv(id: &str, issued: &str, amount: &str, due: &str) -> serde_json::Value {
    json!({"kind":"invoice.issued","at":issued,"invoice":id,"amount":amount,"currency":"EUR","due":due})
}

fn pay(id: &str, when: &str, amount: &str) -> serde_json::Value {
    json!({"kind":"payment.received","at":when,"invoice":id,"amount":amount})
}

#[test]
fn an_invoice_is_settled_by_the_payment_that_completes_it() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "100.00", "2024-01-31"),
        pay("1", "2024-01-20T00:00:00Z", "60.00"),
        pay("1", "2024-02-09T12:00:00Z", "40.00"),
    ]);
    let p = punctuality_of(&h, "2024-06-01T00:00:00Z");
    assert_eq!(p.invoices_due, 1);
    assert_eq!(p.on_time_share, Some(0.0));
    assert_eq!(p.mean_days_late, Some(9.0));
    assert_eq!(p.late[0].days_late, 9);
    assert!(!p.late[0].open);
}

fn punctuality_of(h: &[Recorded], t: &str) -> Punctuality {
    Readings::compute(h, at(t), &NoOthers).punctuality.unwrap()
}

#[test]
fn paying_on_the_due_day_is_on_time() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        pay("1", "2024-01-31T23:59:00Z", "10.00"),
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert_eq!(p.on_time_share, Some(1.0));
    assert_eq!(p.mean_days_late, Some(0.0));
}

#[test]
fn an_invoice_not_yet_due_does_not_count() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        inv("2", "2024-02-01T00:00:00Z", "10.00", "2024-03-31"),
    ]);
    let p = punctuality_of(&h, "2024-02-10T00:00:00Z");
    assert_eq!(p.invoices_due, 1);
    assert_eq!(p.on_time_share, Some(0.0));
    // Open and 10 days past due at T.
    assert_eq!(p.open_overdue.count, 1);
    assert_eq!(p.open_overdue.amount.0["EUR"], "10.00");
    assert_eq!(p.mean_days_late, Some(10.0));
}

#[test]
fn days_late_are_weighted_by_invoice_amount() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "300.00", "2024-01-10"),
        pay("1", "2024-01-20T00:00:00Z", "300.00"), // 10 days late
        inv("2", "2024-01-01T00:00:00Z", "100.00", "2024-01-10"),
        pay("2", "2024-01-10T00:00:00Z", "100.00"), // on time
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert_eq!(p.mean_days_late, Some(5.0));
    assert_eq!(p.weighted_days_late, Some(7.5));
    assert_eq!(p.on_time_share, Some(0.5));
}

#[test]
fn a_payment_for_an_invoice_never_issued_is_unmatched_not_an_error() {
    let h = history(&[pay("404", "2024-01-20T00:00:00Z", "5.00")]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert_eq!(p.unmatched_payments, 1);
    assert_eq!(p.on_time_share, None);
}

fn correct(invoice: &str, at: &str, amount: &str) -> serde_json::Value {
    json!({"kind":"invoice.corrected","at":at,"invoice":invoice,"amount":amount,"currency":"EUR"})
}

#[test]
fn a_credit_note_lowers_what_settles_an_invoice_and_one_that_cancels_it_settles_it() {
    // Lowered from 100 to 80 before a payment of 80: settled by the payment, on time.
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "100.00", "2024-01-31"),
        correct("1", "2024-01-05T00:00:00Z", "20.00"),
        pay("1", "2024-01-20T00:00:00Z", "80.00"),
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert_eq!(p.on_time_share, Some(1.0));
    // Paid 80 late, then lowered to 80: settled by the credit note, on its day.
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "100.00", "2024-01-31"),
        pay("1", "2024-01-20T00:00:00Z", "80.00"),
        correct("1", "2024-02-10T00:00:00Z", "20.00"),
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert_eq!(p.late[0].days_late, 10);
    assert!(!p.late[0].open);
    // Cancelled before it was due and never paid: settled on time, nothing open.
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "100.00", "2024-01-31"),
        correct("1", "2024-01-03T00:00:00Z", "100.00"),
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert_eq!((p.on_time_share, p.unmatched_payments), (Some(1.0), 0));
    // A credit note in another currency changes nothing.
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "100.00", "2024-01-31"),
        json!({"kind":"invoice.corrected","at":"2024-01-03T00:00:00Z","invoice":"1","amount":"100.00","currency":"USD"}),
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert!(p.late[0].open);
}

#[test]
fn events_after_the_as_of_moment_are_ignored() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        pay("1", "2024-03-15T00:00:00Z", "10.00"),
    ]);
    let p = punctuality_of(&h, "2024-03-01T00:00:00Z");
    assert!(p.late[0].open);
    assert_eq!(p.late[0].days_late, 30);
}

#[test]
fn readings_without_data_are_null_not_zero() {
    let h = history(&[json!({"kind":"wish.stated","at":"2024-01-01T00:00:00Z","text":"hi"})]);
    let r = Readings::compute(&h, at("2024-06-01T00:00:00Z"), &NoOthers);
    assert!(r.punctuality.is_none());
    assert!(r.invoice_friction.is_none());
    assert!(r.advocacy.is_none());
    assert!(r.resilience.is_none());
    assert!(r.heard.is_none());
    assert!(r.made_right.is_none());
    assert!(r.promises_kept.is_none());
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["punctuality"], serde_json::Value::Null);
}

#[test]
fn upheld_disputes_are_the_business_s_error_not_friction() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        inv("2", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        inv("3", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        inv("4", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        json!({"kind":"invoice.disputed","at":"2024-01-05T00:00:00Z","invoice":"1"}),
        json!({"kind":"dispute.resolved","at":"2024-01-06T00:00:00Z","invoice":"1","outcome":"upheld"}),
        json!({"kind":"invoice.disputed","at":"2024-01-05T00:00:00Z","invoice":"2"}),
        json!({"kind":"dispute.resolved","at":"2024-01-06T00:00:00Z","invoice":"2","outcome":"rejected"}),
    ]);
    let r = Readings::compute(&h, at("2024-06-01T00:00:00Z"), &NoOthers);
    let f = r.invoice_friction.unwrap();
    assert_eq!(f.disputed_share, 0.5);
    assert_eq!(f.friction_share, 0.25);
    assert_eq!(r.made_right.unwrap().upheld_disputes, 1);
}

#[test]
fn contacts_caused_by_an_incident_are_not_the_person_s_load() {
    let h = history(&[
        json!({"kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"A"}),
        json!({"kind":"contact.opened","at":"2024-02-01T00:00:00Z","contact":"c1","channel":"email"}),
        json!({"kind":"contact.opened","at":"2024-02-02T00:00:00Z","contact":"c2","channel":"email","caused_by":"i1"}),
    ]);
    // 2024-01-01 .. 2024-07-01 is 182 days = 5.9795 months.
    let l = Readings::compute(&h, at("2024-07-01T00:00:00Z"), &NoOthers)
        .service_load
        .unwrap();
    assert_eq!(l.contacts, 1);
    assert_eq!(l.caused_by_business, 1);
    assert_eq!(l.active_months, 182.0 / 30.4375);
    assert_eq!(l.contacts_per_month, 1.0 / (182.0 / 30.4375));
}

#[test]
fn a_short_history_counts_as_at_least_one_month() {
    let h = history(&[
        json!({"kind":"contact.opened","at":"2024-02-01T00:00:00Z","contact":"c1","channel":"email"}),
        json!({"kind":"contact.opened","at":"2024-02-03T00:00:00Z","contact":"c2","channel":"email"}),
    ]);
    let l = Readings::compute(&h, at("2024-02-05T00:00:00Z"), &NoOthers)
        .service_load
        .unwrap();
    assert_eq!(l.active_months, 1.0);
    assert_eq!(l.contacts_per_month, 2.0);
}

struct Buyers(Vec<(&'static str, &'static str)>);

impl Others for Buyers {
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp> {
        self.0
            .iter()
            .find(|(p, _)| *p == person.as_str())
            .map(|(_, t)| at(t))
    }
    fn scripted(&self, _: i64) -> bool {
        false
    }
}

#[test]
fn a_referral_is_active_when_the_referred_person_buys_later() {
    let h = history(&[
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"friend"}),
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"stranger"}),
        json!({"kind":"referral.made","at":"2024-05-01T00:00:00Z","referred":"old-buyer"}),
        json!({"kind":"review.given","at":"2024-02-01T00:00:00Z","score":6}),
        json!({"kind":"review.given","at":"2024-03-01T00:00:00Z","score":9}),
    ]);
    let others = Buyers(vec![
        ("friend", "2024-02-01T00:00:00Z"),
        ("old-buyer", "2024-01-01T00:00:00Z"),
    ]);
    let a = Readings::compute(&h, at("2024-06-01T00:00:00Z"), &others)
        .advocacy
        .unwrap();
    assert_eq!(a.referrals, 3);
    assert_eq!(a.referrals_active, 1);
    assert_eq!(a.latest_review, Some(9));
    assert_eq!(a.mean_review, Some(7.5));
}

#[test]
fn resilience_counts_only_incidents_ninety_days_old_and_splits_by_apology() {
    let h = history(&[
        json!({"kind":"incident.occurred","at":"2024-01-01T00:00:00Z","incident":"i1"}),
        json!({"kind":"apology.made","at":"2024-01-02T00:00:00Z","incident":"i1"}),
        json!({"kind":"order.placed","at":"2024-03-01T00:00:00Z","order":"o1","amount":"5.00"}),
        json!({"kind":"incident.occurred","at":"2024-02-01T00:00:00Z","incident":"i2"}),
        // i2 is followed by the same order (within 90 days of it too).
        json!({"kind":"incident.occurred","at":"2024-06-01T00:00:00Z","incident":"i3"}),
        // i3 has its order 100 days later: too late.
        json!({"kind":"order.placed","at":"2024-09-09T00:00:00Z","order":"o2","amount":"5.00"}),
        // i4 is less than 90 days before T: not considered yet.
        json!({"kind":"incident.occurred","at":"2024-10-01T00:00:00Z","incident":"i4"}),
    ]);
    let r = Readings::compute(&h, at("2024-11-01T00:00:00Z"), &NoOthers)
        .resilience
        .unwrap();
    assert_eq!(r.incidents, 3);
    assert_eq!(r.weathered, 2);
    assert_eq!(r.weathered_share, 2.0 / 3.0);
    assert_eq!(r.with_apology, Some(1.0));
    assert_eq!(r.without_apology, Some(0.5));
}

#[test]
fn heard_measures_answers_and_keeps_open_questions_with_their_age() {
    let h = history(&[
        json!({"kind":"contact.opened","at":"2024-01-01T00:00:00Z","contact":"c1","channel":"email"}),
        json!({"kind":"contact.answered","at":"2024-01-01T02:00:00Z","contact":"c1","by":"a"}),
        json!({"kind":"contact.answered","at":"2024-01-01T05:00:00Z","contact":"c1","by":"a"}),
        json!({"kind":"contact.opened","at":"2024-01-02T00:00:00Z","contact":"c2","channel":"email"}),
        json!({"kind":"contact.answered","at":"2024-01-03T00:00:00Z","contact":"c2","by":"a"}),
        json!({"kind":"contact.opened","at":"2024-01-10T00:00:00Z","contact":"c3","channel":"phone"}),
    ]);
    let r = Readings::compute(&h, at("2024-01-20T00:00:00Z"), &NoOthers)
        .heard
        .unwrap();
    assert_eq!(r.contacts, 3);
    assert_eq!(r.answered_share, 2.0 / 3.0);
    assert_eq!(r.first_answer_hours.median, Some(13.0));
    assert_eq!(r.first_answer_hours.max, Some(24.0));
    assert_eq!(r.open_questions.len(), 1);
    assert_eq!(r.open_questions[0].contact.as_str(), "c3");
    assert_eq!(r.open_questions[0].age_days, 10.0);
}

#[test]
fn made_right_counts_apologies_and_their_speed() {
    let h = history(&[
        json!({"kind":"incident.occurred","at":"2024-01-01T00:00:00Z","incident":"i1"}),
        json!({"kind":"apology.made","at":"2024-01-01T10:00:00Z","incident":"i1"}),
        json!({"kind":"incident.occurred","at":"2024-01-05T00:00:00Z","incident":"i2"}),
        json!({"kind":"apology.made","at":"2024-01-06T06:00:00Z","incident":"i2"}),
        json!({"kind":"incident.occurred","at":"2024-01-07T00:00:00Z","incident":"i3"}),
    ]);
    let m = Readings::compute(&h, at("2024-02-01T00:00:00Z"), &NoOthers)
        .made_right
        .unwrap();
    assert_eq!(m.incidents, 3);
    assert_eq!(m.apologised_share, Some(2.0 / 3.0));
    assert_eq!(m.hours_to_apology, Some(20.0));
    assert_eq!(m.unapologised, vec![Ref::parse("i3").unwrap()]);
}

#[test]
fn a_promise_is_kept_only_on_or_before_its_due_day() {
    let h = history(&[
        json!({"kind":"promise.made","at":"2024-01-01T00:00:00Z","promise":"a","due":"2024-01-10"}),
        json!({"kind":"promise.kept","at":"2024-01-10T23:00:00Z","promise":"a"}),
        json!({"kind":"promise.made","at":"2024-01-01T00:00:00Z","promise":"b","due":"2024-01-10"}),
        json!({"kind":"promise.kept","at":"2024-01-11T01:00:00Z","promise":"b"}),
        json!({"kind":"promise.made","at":"2024-01-01T00:00:00Z","promise":"c","due":"2024-01-10"}),
        json!({"kind":"promise.made","at":"2024-01-01T00:00:00Z","promise":"d","due":"2024-12-31"}),
    ]);
    let p = Readings::compute(&h, at("2024-02-01T00:00:00Z"), &NoOthers)
        .promises_kept
        .unwrap();
    assert_eq!(p.due, 3);
    assert_eq!(p.kept, 1);
    assert_eq!(p.kept_share, 1.0 / 3.0);
    assert_eq!(
        p.broken,
        vec![Ref::parse("b").unwrap(), Ref::parse("c").unwrap()]
    );
}

#[test]
fn the_trend_compares_the_last_180_days_with_everything_before() {
    let h = history(&[
        inv("1", "2023-01-01T00:00:00Z", "10.00", "2023-01-31"),
        pay("1", "2023-01-20T00:00:00Z", "10.00"),
        inv("2", "2024-05-01T00:00:00Z", "10.00", "2024-05-31"),
        pay("2", "2024-06-20T00:00:00Z", "10.00"),
    ]);
    let t = trends(&h, at("2024-07-01T00:00:00Z"), &NoOthers);
    let p = t[0].as_ref().unwrap();
    assert_eq!(p.field, "on_time_share");
    assert_eq!(p.earlier, 1.0);
    assert_eq!(p.recent, 0.0);
    assert_eq!(p.change, -1.0);
    // Nothing before the window: no trend.
    let t = trends(&h[2..], at("2024-07-01T00:00:00Z"), &NoOthers);
    assert!(t[0].is_none());
}

#[test]
fn standing_in_words_says_a_shared_perfect_score_as_a_tie_not_a_rank() {
    // 39 of 39 on time, like more than half of everyone: percentile 72 as a mid rank.
    let mut v = vec![1.0; 55];
    v.extend(std::iter::repeat_n(0.5, 45));
    let d = Distribution::new(v);
    assert_eq!(d.percentile(1.0), Some(72.5));
    assert_eq!(
        d.standing_words(1.0, true).unwrap(),
        "as good as it gets, like 55% of people"
    );
    assert_eq!(
        d.standing_words(0.5, true).unwrap(),
        "at the bottom, with 45% of people"
    );
    // Lower is better (disputed share): the same figures read the other way.
    assert_eq!(
        d.standing_words(0.5, false).unwrap(),
        "as good as it gets, like 45% of people"
    );
    let d = Distribution::new(vec![0.0, 0.25, 0.5, 0.5, 1.0]);
    assert_eq!(
        d.standing_words(0.5, true).unwrap(),
        "better than 40% of people, worse than 20%; 40% have the same figure"
    );
    assert_eq!(
        d.standing_words(0.25, true).unwrap(),
        "better than 20% of people, worse than 60%"
    );
    assert_eq!(d.standing_words(1.0, true).unwrap(), "the best of everyone");
    assert_eq!(Distribution::new(vec![]).standing_words(1.0, true), None);
}

#[test]
fn percentiles_are_mid_ranks() {
    let d = Distribution::new(vec![0.0, 0.5, 0.5, 1.0]);
    assert_eq!(d.percentile(0.0), Some(12.5));
    assert_eq!(d.percentile(0.5), Some(50.0));
    assert_eq!(d.percentile(1.0), Some(87.5));
    assert_eq!(Distribution::new(vec![]).percentile(1.0), None);
}

#[test]
fn the_explanation_names_the_late_invoice() {
    let mut events = Vec::new();
    for i in 0..12 {
        let id = format!("2024-{i}");
        events.push(inv(&id, "2024-01-01T00:00:00Z", "10.00", "2024-01-31"));
        let when = if i == 11 {
            "2024-02-09T00:00:00Z"
        } else {
            "2024-01-30T00:00:00Z"
        };
        events.push(pay(&id, when, "10.00"));
    }
    let h = history(&events);
    let r = Readings::compute(&h, at("2024-03-01T00:00:00Z"), &NoOthers);
    let ex = explain(&r);
    assert_eq!(
        ex[0].sentence,
        "Paid 11 of 12 invoices on time; invoice 2024-11 was 9 days late."
    );
}

#[test]
fn any_field_can_be_read_by_its_dotted_name() {
    let h = history(&[
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        pay("1", "2024-01-20T00:00:00Z", "10.00"),
    ]);
    let r = Readings::compute(&h, at("2024-03-01T00:00:00Z"), &NoOthers);
    assert_eq!(r.field("punctuality.on_time_share"), Some(1.0));
    assert_eq!(r.field("punctuality.open_overdue"), Some(0.0));
    assert_eq!(r.field("heard.answered_share"), None);
    assert_eq!(r.field("nonsense"), None);
}

#[test]
fn everyone_s_pass_counts_a_referral_as_active_when_the_referred_person_buys_later() {
    let people = vec![PersonId::parse("a").unwrap(), PersonId::parse("b").unwrap()];
    let a = history(&[
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"b"}),
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"nobody"}),
    ]);
    let b = history(&[
        json!({"kind":"order.placed","at":"2024-02-01T00:00:00Z","order":"o","amount":"5.00"}),
    ]);
    let all = assess_all(&people, &[a, b], at("2024-06-01T00:00:00Z"));
    let adv = all[0].advocacy.as_ref().unwrap();
    assert_eq!(adv.referrals, 2);
    assert_eq!(adv.referrals_active, 1);
    // Both have a service-load reading; the percentile is filled in for each.
    assert_eq!(all[1].service_load.as_ref().unwrap().percentile, Some(50.0));
}

/// The serialised reading is the definition of each field's name; the fast extractor must
/// agree with it for every sortable field.
fn field_by_json(r: &Readings, path: &str) -> Option<f64> {
    let (reading, field) = path.split_once('.')?;
    let all = serde_json::to_value(r).unwrap();
    match all.get(reading)?.get(field)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::Object(o) => o
            .get("count")
            .or_else(|| o.get("median"))
            .and_then(serde_json::Value::as_f64),
        serde_json::Value::Array(a) => Some(a.len() as f64),
        _ => None,
    }
}

#[test]
fn every_sortable_field_reads_the_same_as_its_json_name() {
    let a = history(&[
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        pay("1", "2024-02-20T00:00:00Z", "10.00"),
        inv("2", "2024-02-01T00:00:00Z", "20.00", "2024-02-28"),
        json!({"kind":"invoice.disputed","at":"2024-02-02T00:00:00Z","invoice":"2"}),
        json!({"kind":"contact.opened","at":"2024-02-03T00:00:00Z","contact":"c1","channel":"email"}),
        json!({"kind":"contact.answered","at":"2024-02-03T05:00:00Z","contact":"c1","by":"agent"}),
        json!({"kind":"contact.opened","at":"2024-02-04T00:00:00Z","contact":"c2","channel":"phone"}),
        json!({"kind":"incident.occurred","at":"2024-02-05T00:00:00Z","incident":"i1"}),
        json!({"kind":"apology.made","at":"2024-02-06T00:00:00Z","incident":"i1"}),
        json!({"kind":"promise.made","at":"2024-02-07T00:00:00Z","promise":"p1","due":"2024-02-10"}),
        json!({"kind":"referral.made","at":"2024-02-08T00:00:00Z","referred":"b"}),
        json!({"kind":"review.given","at":"2024-02-09T00:00:00Z","score":4}),
        json!({"kind":"order.placed","at":"2024-02-10T00:00:00Z","order":"o1","amount":"5.00"}),
    ]);
    let people = vec![PersonId::parse("a").unwrap()];
    let all = assess_all(&people, &[a], at("2024-06-01T00:00:00Z"));
    let r = &all[0];
    let fields = r.fields();
    let mut seen = 0;
    for (i, path) in SORTABLE.iter().enumerate() {
        assert_eq!(fields[i], field_by_json(r, path), "{path}");
        seen += usize::from(fields[i].is_some());
    }
    assert!(
        seen > 25,
        "the example should exercise most fields, got {seen}"
    );
}

#[test]
fn one_persons_readings_match_everyones_pass_given_the_same_distributions() {
    let people = vec![PersonId::parse("a").unwrap(), PersonId::parse("b").unwrap()];
    let a = history(&[
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"b"}),
        json!({"kind":"contact.opened","at":"2024-01-02T00:00:00Z","contact":"c1","channel":"email"}),
    ]);
    let b = history(&[
        json!({"kind":"order.placed","at":"2024-02-01T00:00:00Z","order":"o","amount":"5.00"}),
        json!({"kind":"contact.opened","at":"2024-02-02T00:00:00Z","contact":"c2","channel":"email"}),
        json!({"kind":"contact.opened","at":"2024-02-03T00:00:00Z","contact":"c3","channel":"email"}),
    ]);
    let as_of = at("2024-06-01T00:00:00Z");
    let all = assess_all(&people, &[a.clone(), b], as_of);
    let dists = distributions(all.iter());
    struct BBought;
    impl Others for BBought {
        fn last_transaction(&self, p: &PersonId) -> Option<Timestamp> {
            (p.as_str() == "b").then(|| at("2024-02-01T00:00:00Z"))
        }
        fn scripted(&self, _: i64) -> bool {
            false
        }
    }
    let one = assess_one(&a, as_of, &Models::default(), &BBought, &dists);
    assert_eq!(one, all[0]);
}

/// Answers 2 and 4 of a history are scripts.
struct ScriptedTwoAndFour;

impl Others for ScriptedTwoAndFour {
    fn last_transaction(&self, _: &PersonId) -> Option<Timestamp> {
        None
    }
    fn scripted(&self, answer: i64) -> bool {
        answer == 2 || answer == 4
    }
}

#[test]
fn personal_is_the_share_of_answers_that_were_scripts() {
    let h = history(&[
        json!({"kind":"contact.opened","at":"2024-01-01T00:00:00Z","contact":"c1","channel":"email"}),
        json!({"kind":"contact.answered","at":"2024-01-01T01:00:00Z","contact":"c1","by":"ann"}),
        json!({"kind":"contact.answered","at":"2024-01-02T01:00:00Z","contact":"c1","by":"ann"}),
        json!({"kind":"contact.answered","at":"2024-01-03T01:00:00Z","contact":"c1","by":"bot"}),
        json!({"kind":"contact.answered","at":"2024-01-04T01:00:00Z","contact":"c1","by":"bot"}),
    ]);
    let seqs: Vec<i64> = h.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![0, 1, 2, 3, 4], "the test names answers by seq");
    let p = Readings::compute(&h, at("2024-02-01T00:00:00Z"), &ScriptedTwoAndFour)
        .personal
        .unwrap();
    assert_eq!((p.answers, p.scripted), (4, 2));
    assert_eq!(p.scripted_share, 0.5);
    assert_eq!(p.scripted_answers, vec![2, 4]);
    // Nobody answered: no reading, not a zero.
    let none = history(&[
        json!({"kind":"contact.opened","at":"2024-01-01T00:00:00Z","contact":"c1","channel":"email"}),
    ]);
    assert!(
        Readings::compute(&none, at("2024-02-01T00:00:00Z"), &ScriptedTwoAndFour)
            .personal
            .is_none()
    );
}

#[test]
fn a_contact_opened_three_times_with_one_reference_is_one_contact_in_service_load_and_heard() {
    let opened = |at: &str, caused_by: Option<&str>| {
        let mut v = json!({"kind":"contact.opened","at":at,"contact":"c1","channel":"email"});
        if let Some(c) = caused_by {
            v["caused_by"] = json!(c);
        }
        v
    };
    let h = history(&[
        opened("2024-02-01T00:00:00Z", None),
        opened("2024-02-02T00:00:00Z", None),
        // A repeat claiming another cause changes nothing: the first decides.
        opened("2024-02-03T00:00:00Z", Some("i1")),
        json!({"kind":"contact.opened","at":"2024-02-04T00:00:00Z","contact":"c2","channel":"email","caused_by":"i1"}),
        json!({"kind":"contact.opened","at":"2024-02-05T00:00:00Z","contact":"c2","channel":"email"}),
    ]);
    let r = Readings::compute(&h, at("2024-02-10T00:00:00Z"), &NoOthers);
    let load = r.service_load.unwrap();
    assert_eq!((load.contacts, load.caused_by_business), (1, 1));
    assert_eq!(load.evidence, vec![0]);
    assert_eq!(r.heard.unwrap().contacts, 2);
}

#[test]
fn a_person_referred_twice_who_then_buys_is_one_active_referral() {
    let h = history(&[
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"friend"}),
        json!({"kind":"referral.made","at":"2024-01-15T00:00:00Z","referred":"friend"}),
        json!({"kind":"referral.made","at":"2024-01-20T00:00:00Z","referred":"other"}),
    ]);
    // One person's own pass, with the buyers known.
    let others = Buyers(vec![("friend", "2024-02-01T00:00:00Z")]);
    let a = Readings::compute(&h, at("2024-06-01T00:00:00Z"), &others)
        .advocacy
        .unwrap();
    assert_eq!((a.referrals, a.referrals_active), (3, 1));
    let r = Readings::compute(&h, at("2024-06-01T00:00:00Z"), &others);
    assert_eq!(
        explain(&r)[3].sentence,
        "Made 3 referrals; 1 referred person went on to buy."
    );
    // Everyone's pass.
    let people = vec![
        PersonId::parse("a").unwrap(),
        PersonId::parse("friend").unwrap(),
    ];
    let friend = history(&[
        json!({"kind":"order.placed","at":"2024-02-01T00:00:00Z","order":"o","amount":"5.00"}),
    ]);
    let all = assess_all(&people, &[h, friend], at("2024-06-01T00:00:00Z"));
    let a = all[0].advocacy.as_ref().unwrap();
    assert_eq!((a.referrals, a.referrals_active), (3, 1));
}

#[test]
fn a_referred_person_who_bought_between_two_referrals_is_active_since_the_first() {
    let h = history(&[
        json!({"kind":"referral.made","at":"2024-01-01T00:00:00Z","referred":"friend"}),
        json!({"kind":"referral.made","at":"2024-03-01T00:00:00Z","referred":"friend"}),
    ]);
    let others = Buyers(vec![("friend", "2024-02-01T00:00:00Z")]);
    let a = Readings::compute(&h, at("2024-06-01T00:00:00Z"), &others)
        .advocacy
        .unwrap();
    assert_eq!(a.referrals_active, 1);
}

#[test]
fn shares_carry_full_precision_in_json_26_of_27_is_not_0_963() {
    let mut events = Vec::new();
    for i in 0..27 {
        let day = format!("2024-01-{:02}T00:00:00Z", i + 1);
        events.push(
            json!({"kind":"contact.opened","at":day,"contact":format!("c{i}"),"channel":"email"}),
        );
        if i > 0 {
            events.push(
                json!({"kind":"contact.answered","at":day,"contact":format!("c{i}"),"by":"a"}),
            );
        }
        events.push(json!({"kind":"outreach.sent","at":day,"channel":"email","topic":"news"}));
        if i == 0 {
            events.push(json!({"kind":"consent.withdrawn","at":day,"purpose":"news"}));
        }
        if i == 1 {
            events.push(json!({"kind":"consent.given","at":day,"purpose":"news"}));
        }
    }
    let r = Readings::compute(&history(&events), at("2024-03-01T00:00:00Z"), &NoOthers);
    let v = serde_json::to_value(&r).unwrap();
    // 26 of 27 questions answered; 26 of 27 outreach kept to the choices (the one sent after
    // the withdrawal went against them).
    assert_eq!(v["heard"]["answered_share"], json!(26.0 / 27.0));
    assert_eq!(v["respects_choices"]["respected_share"], json!(26.0 / 27.0));
    assert_eq!(
        v["heard"]["answered_share"].to_string(),
        "0.9629629629629629"
    );
    // Rounding is for the sentence, not the figure.
    assert!(
        explain(&r)[5]
            .sentence
            .starts_with("26 of 27 questions answered")
    );
}

/// The trend of one headline, by reading name.
fn trend_of(h: &[Recorded], t: &str, reading: &str) -> Option<Trend> {
    let i = HEADLINES.iter().position(|x| x.reading == reading).unwrap();
    trends(h, at(t), &NoOthers).swap_remove(i)
}

#[test]
fn a_consent_withdrawn_before_the_window_still_holds_in_it_so_the_trend_is_not_better() {
    // The review's case: consent withdrawn in 2024; 35 of 36 outreach went against it, most
    // of them in the last 180 days.
    let out =
        |day: &str| json!({"kind":"outreach.sent","at":day,"channel":"email","topic":"offers"});
    let mut events = vec![
        out("2024-01-10T00:00:00Z"),
        json!({"kind":"consent.withdrawn","at":"2024-02-01T00:00:00Z","purpose":"all"}),
    ];
    for month in 3..=7 {
        events.push(out(&format!("2024-{month:02}-15T00:00:00Z")));
    }
    for i in 0..30 {
        events.push(out(&format!(
            "2025-{:02}-{:02}T00:00:00Z",
            1 + i / 6,
            1 + (i % 6) * 4
        )));
    }
    let h = history(&events);
    let t = "2025-06-01T00:00:00Z";
    let r = Readings::compute(&h, at(t), &NoOthers)
        .respects_choices
        .unwrap();
    assert_eq!((r.outreach, r.conflicts.len()), (36, 35));
    let trend = trend_of(&h, t, "respects_choices").unwrap();
    // Before the window: 1 of 6 kept to the choices; in it, none of 30.
    assert_eq!(trend.earlier, 1.0 / 6.0);
    assert_eq!(trend.recent, 0.0);
    assert!(trend.change < 0.0);
    let mut readings = Readings::compute(&h, at(t), &NoOthers);
    readings.set_standing(9, Some(50.0), Some(trend));
    let standing = explain(&readings)[9].standing.clone().unwrap();
    assert!(standing.ends_with("(worse)"), "{standing}");
}

#[test]
fn a_frequency_and_a_channel_chosen_before_the_window_still_hold_in_it() {
    let out = |day: &str, channel: &str| json!({"kind":"outreach.sent","at":day,"channel":channel,"topic":"news"});
    let h = history(&[
        json!({"kind":"menu.chosen","at":"2024-01-01T00:00:00Z","item":"frequency","option":"monthly"}),
        json!({"kind":"menu.chosen","at":"2024-01-01T00:00:00Z","item":"channel","option":"post"}),
        out("2024-02-01T00:00:00Z", "post"),
        out("2024-03-05T00:00:00Z", "post"),
        // In the window: a second letter within the month, and an e-mail.
        out("2024-12-28T00:00:00Z", "post"),
        out("2025-01-10T00:00:00Z", "post"),
        out("2025-03-01T00:00:00Z", "email"),
        out("2025-04-15T00:00:00Z", "post"),
    ]);
    let trend = trend_of(&h, "2025-06-01T00:00:00Z", "respects_choices").unwrap();
    assert_eq!(trend.earlier, 1.0);
    assert_eq!(trend.recent, 2.0 / 4.0);
}

#[test]
fn an_invoice_left_open_before_the_window_counts_in_it_and_one_settled_before_does_not() {
    let h = history(&[
        // Settled on time long ago: the earlier half only.
        inv("1", "2024-01-01T00:00:00Z", "10.00", "2024-01-31"),
        pay("1", "2024-01-20T00:00:00Z", "10.00"),
        // Due before the window and still unpaid when it began: late in both halves.
        inv("2", "2024-06-01T00:00:00Z", "10.00", "2024-06-30"),
        pay("2", "2025-02-01T00:00:00Z", "10.00"),
        // Due and paid on time in the window.
        inv("3", "2025-01-01T00:00:00Z", "10.00", "2025-01-31"),
        pay("3", "2025-01-30T00:00:00Z", "10.00"),
    ]);
    // T − 180 days = 2024-12-03.
    let trend = trend_of(&h, "2025-06-01T00:00:00Z", "punctuality").unwrap();
    assert_eq!(trend.earlier, 0.5);
    assert_eq!(trend.recent, 0.5);
}

#[test]
fn a_question_asked_before_the_window_and_still_waiting_when_it_began_counts_in_it() {
    let h = history(&[
        json!({"kind":"contact.opened","at":"2024-01-01T00:00:00Z","contact":"c1","channel":"email"}),
        json!({"kind":"contact.answered","at":"2024-01-02T00:00:00Z","contact":"c1","by":"a"}),
        json!({"kind":"contact.opened","at":"2024-11-01T00:00:00Z","contact":"c2","channel":"email"}),
        json!({"kind":"contact.opened","at":"2025-03-01T00:00:00Z","contact":"c3","channel":"email"}),
        json!({"kind":"contact.answered","at":"2025-03-01T05:00:00Z","contact":"c3","by":"a"}),
    ]);
    let trend = trend_of(&h, "2025-06-01T00:00:00Z", "heard").unwrap();
    // Before: c1 answered, c2 waiting. Since: c2 still waiting, c3 answered.
    assert_eq!(trend.earlier, 0.5);
    assert_eq!(trend.recent, 0.5);
}

#[test]
fn the_recent_half_counts_promises_due_in_it_and_contacts_over_the_months_of_it() {
    let h = history(&[
        json!({"kind":"person.identified","at":"2023-01-01T00:00:00Z","name":"A"}),
        json!({"kind":"promise.made","at":"2024-01-01T00:00:00Z","promise":"old","due":"2024-02-01"}),
        json!({"kind":"promise.kept","at":"2024-01-15T00:00:00Z","promise":"old"}),
        // Made before the window, due in it, not kept.
        json!({"kind":"promise.made","at":"2024-11-01T00:00:00Z","promise":"p","due":"2025-01-15"}),
        json!({"kind":"contact.opened","at":"2025-05-01T00:00:00Z","contact":"c1","channel":"email"}),
    ]);
    let t = "2025-06-01T00:00:00Z";
    assert_eq!(trend_of(&h, t, "promises_kept").unwrap().recent, 0.0);
    // One contact in the 180 days of the window, not in the month since the first of them.
    let load = trend_of(&h, t, "service_load").unwrap();
    assert_eq!(load.recent, 1.0 / (180.0 / 30.4375));
    assert_eq!(load.earlier, 0.0);
}
