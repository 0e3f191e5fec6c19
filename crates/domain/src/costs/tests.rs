use super::*;
use crate::NewEvent;
use crate::values::Label;

/// Two factors: co2e (kg) and water (l). A: both; B: co2e only; E: listed without figures.
fn catalogue() -> Catalogue {
    let factor = |name: &str, unit: &str| Factor {
        name: Label::parse(name).unwrap(),
        unit: Label::parse(unit).unwrap(),
        source: "test".into(),
    };
    let product = |id: &str, values: [Option<f64>; 2]| Product {
        id: Label::parse(id).unwrap(),
        name: Some(format!("product {id}")),
        values: values
            .into_iter()
            .map(|v| v.map(|v| PerUnit::new(v).unwrap()))
            .collect(),
    };
    Catalogue::new(
        vec![factor("co2e", "kg"), factor("water", "l")],
        vec![
            product("A", [Some(2.0), Some(10.0)]),
            product("B", [Some(0.5), None]),
            product("E", [None, None]),
        ],
    )
    .unwrap()
}

fn event(json: &str) -> NewEvent {
    NewEvent::from_json_line(json).unwrap()
}

/// An order event: `kind` placed or returned, lines as (product, qty, unit price).
fn order(kind: &str, person: &str, id: &str, at: &str, lines: &[(&str, i64, &str)]) -> NewEvent {
    let lines: Vec<String> = lines
        .iter()
        .map(|(p, q, u)| format!(r#"{{"product":"{p}","qty":{q},"unit_price":"{u}"}}"#))
        .collect();
    event(&format!(
        r#"{{"source":"s","id":"{id}","kind":"order.{kind}","person":"{person}","at":"{at}","order":"{id}","currency":"GBP","lines":[{}]}}"#,
        lines.join(",")
    ))
}

fn report(events: &[NewEvent], by: Option<By>) -> Report {
    let c = catalogue();
    let mut t = Tally::new(&c, by);
    for e in events {
        t.event(Some(&e.person), e.at, &e.body);
    }
    t.finish(None)
}

fn cost<'a>(f: &'a Figures, factor: &str) -> &'a FactorTotal {
    f.costs.iter().find(|c| c.factor == factor).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn a_return_subtracts_what_was_bought() {
    let r = report(
        &[
            order(
                "placed",
                "p",
                "1",
                "2020-01-05T10:00:00Z",
                &[("A", 10, "1.50")],
            ),
            order(
                "returned",
                "p",
                "C1",
                "2020-01-06T10:00:00Z",
                &[("A", 3, "1.50")],
            ),
        ],
        None,
    );
    assert!(close(cost(&r.total, "co2e").total, 14.0));
    assert!(close(cost(&r.total, "water").total, 70.0));
    assert_eq!(r.total.net_quantity, 7);
    assert_eq!(r.total.money[0].to_string_amount(), "10.50");
    assert_eq!((r.orders, r.returns), (2, 1));
}

#[test]
fn a_returned_line_with_a_negative_quantity_still_subtracts() {
    let r = report(
        &[
            order(
                "placed",
                "p",
                "1",
                "2020-01-05T10:00:00Z",
                &[("A", 10, "1")],
            ),
            order(
                "returned",
                "p",
                "C1",
                "2020-01-06T10:00:00Z",
                &[("A", -4, "1")],
            ),
        ],
        None,
    );
    assert_eq!(r.total.net_quantity, 6);
    assert!(close(cost(&r.total, "co2e").total, 12.0));
    assert_eq!(r.total.money[0].to_string_amount(), "6.00");
}

#[test]
fn a_negative_quantity_a_ledger_holds_from_before_it_was_refused_still_subtracts() {
    // Validation refuses such a line now (a return is an `order.returned`), but a ledger
    // may hold one from before: the tally still nets it rather than failing.
    let mut placed = order(
        "placed",
        "p",
        "1",
        "2020-01-05T10:00:00Z",
        &[("A", 5, "1"), ("A", 2, "1")],
    );
    if let Body::OrderPlaced { lines, .. } = &mut placed.body {
        lines[1].qty = -2;
    }
    let r = report(&[placed], None);
    assert_eq!(r.total.net_quantity, 3);
    assert!(close(cost(&r.total, "co2e").total, 6.0));
}

#[test]
fn lines_of_unknown_products_are_counted_and_listed_not_taken_as_zero() {
    let r = report(
        &[order(
            "placed",
            "p",
            "1",
            "2020-01-05T10:00:00Z",
            &[
                ("A", 1, "1"),
                ("POST", 1, "18"),
                ("POST", 2, "18"),
                ("E", 4, "0.5"),
            ],
        )],
        None,
    );
    assert_eq!(r.total.lines, 4);
    assert_eq!(r.total.matched_lines, 1);
    assert_eq!(r.total.unmatched_lines, 3);
    assert_eq!(cost(&r.total, "co2e").lines, 1);
    assert!(close(cost(&r.total, "co2e").total, 2.0));
    assert_eq!(r.unmatched.len(), 2);
    let post = &r.unmatched[0];
    assert_eq!(
        (
            post.product.as_str(),
            post.in_catalogue,
            post.lines,
            post.net_quantity
        ),
        ("POST", false, 2, 3)
    );
    assert_eq!(post.money[0].to_string_amount(), "54.00");
    let e = &r.unmatched[1];
    assert_eq!((e.product.as_str(), e.in_catalogue), ("E", true));
    // The money of unmatched lines is still in the total: only the hidden cost is unknown.
    assert_eq!(r.total.money[0].to_string_amount(), "57.00");
}

#[test]
fn a_product_without_one_factor_counts_as_missing_for_that_factor_only() {
    let r = report(
        &[order(
            "placed",
            "p",
            "1",
            "2020-01-05T10:00:00Z",
            &[("A", 1, "1"), ("B", 4, "1")],
        )],
        None,
    );
    let co2e = cost(&r.total, "co2e");
    let water = cost(&r.total, "water");
    assert_eq!((co2e.lines, co2e.missing_lines), (2, 0));
    assert!(close(co2e.total, 4.0));
    assert_eq!((water.lines, water.missing_lines), (1, 1));
    assert!(close(water.total, 10.0));
    assert_eq!(r.total.unmatched_lines, 0);
    assert!(r.unmatched.is_empty());
}

#[test]
fn months_are_calendar_months_in_utc() {
    let r = report(
        &[
            // 23:30 at UTC-1 on 31 January is already February in UTC.
            order(
                "placed",
                "p",
                "1",
                "2020-01-31T23:30:00-01:00",
                &[("A", 1, "1")],
            ),
            order("placed", "p", "2", "2020-01-31T22:00:00Z", &[("A", 2, "1")]),
            order(
                "returned",
                "q",
                "C2",
                "2020-02-10T00:00:00Z",
                &[("A", 1, "1")],
            ),
        ],
        Some(By::Month),
    );
    let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["2020-01", "2020-02"]);
    assert_eq!(r.groups[0].figures.net_quantity, 2);
    // February: one bought, one returned.
    assert_eq!(r.groups[1].figures.net_quantity, 0);
    assert_eq!(r.groups[1].figures.orders, 2);
    assert!(close(cost(&r.groups[1].figures, "co2e").total, 0.0));
}

#[test]
fn grouping_by_product_counts_an_order_once_per_product_and_names_it() {
    let r = report(
        &[
            order(
                "placed",
                "p",
                "1",
                "2020-01-05T10:00:00Z",
                &[("A", 1, "1"), ("A", 1, "1"), ("B", 1, "1")],
            ),
            order("placed", "q", "2", "2020-01-06T10:00:00Z", &[("A", 1, "1")]),
        ],
        Some(By::Product),
    );
    assert_eq!(r.groups[0].key, "A");
    assert_eq!(r.groups[0].name.as_deref(), Some("product A"));
    assert_eq!(r.groups[0].figures.orders, 2);
    assert_eq!(r.groups[0].figures.lines, 3);
    assert_eq!(r.groups[1].key, "B");
}

#[test]
fn grouping_by_person_and_order_puts_every_line_in_its_group() {
    let events = [
        order("placed", "p", "1", "2020-01-05T10:00:00Z", &[("A", 1, "1")]),
        order(
            "placed",
            "q",
            "2",
            "2020-01-06T10:00:00Z",
            &[("A", 3, "1"), ("X", 1, "1")],
        ),
        order("placed", "q", "3", "2020-01-07T10:00:00Z", &[("B", 2, "1")]),
    ];
    let r = report(&events, Some(By::Person));
    let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["q", "p"], "largest first");
    assert_eq!(r.groups[0].figures.orders, 2);
    assert_eq!(r.groups[0].figures.unmatched_lines, 1);
    assert!(close(cost(&r.groups[0].figures, "co2e").total, 7.0));
    let r = report(&events, Some(By::Order));
    assert_eq!(r.group_count, 3);
    assert_eq!(r.groups[0].key, "2");
}

#[test]
fn a_limit_keeps_the_count_of_every_group() {
    let events: Vec<NewEvent> = (0..5)
        .map(|i| {
            order(
                "placed",
                &format!("p{i}"),
                &format!("{i}"),
                "2020-01-05T10:00:00Z",
                &[("A", i + 1, "1")],
            )
        })
        .collect();
    let c = catalogue();
    let mut t = Tally::new(&c, Some(By::Person));
    for e in &events {
        t.event(Some(&e.person), e.at, &e.body);
    }
    let r = t.finish(Some(2));
    assert_eq!(r.group_count, 5);
    assert_eq!(r.groups.len(), 2);
    assert_eq!(r.groups[0].key, "p4");
}

#[test]
fn orders_without_lines_are_counted_apart() {
    let r = report(
        &[event(
            r#"{"source":"s","id":"o","kind":"order.placed","person":"p","at":"2020-01-01T00:00:00Z","order":"o","amount":"12.00"}"#,
        )],
        None,
    );
    assert_eq!((r.orders, r.orders_without_lines), (1, 1));
    assert_eq!(r.total.lines, 0);
    assert_eq!(r.total.costs_in_words(), "no hidden cost known");
}

#[test]
fn events_other_than_orders_are_ignored() {
    let r = report(
        &[event(
            r#"{"source":"s","id":"w","kind":"wish.stated","person":"p","at":"2020-01-01T00:00:00Z","text":"x"}"#,
        )],
        None,
    );
    assert_eq!(r.orders, 0);
}

#[test]
fn the_sentence_names_costs_lines_and_what_is_not_counted() {
    let e = order(
        "placed",
        "p",
        "1",
        "2020-01-05T10:00:00Z",
        &[("A", 2, "1"), ("B", 1, "1"), ("POST", 1, "18")],
    );
    let f = of_person(&catalogue(), [(e.at, &e.body)]);
    assert_eq!(
        f.sentence(),
        "4.5 kg (co2e), 20 l (water) over 3 order lines (4 units net, 21.00 GBP); 1 line of \
         products without figures not counted; up to 1 more line lacks a figure for some factor."
    );
}

#[test]
fn figures_are_written_for_reading() {
    for (v, s) in [
        (0.0, "0"),
        (0.1234, "0.123"),
        (1.5, "1.5"),
        (12.345, "12.3"),
        (1234.5, "1,235"),
        (-2_500_000.0, "-2,500,000"),
        (f64::NAN, "–"),
    ] {
        assert_eq!(figure(v), s, "{v}");
    }
}

#[test]
fn groupings_are_read_from_their_names() {
    for b in By::ALL {
        assert_eq!(By::parse(b.as_str()), Some(b));
    }
    assert_eq!(By::parse("customer"), None);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn lines() -> impl Strategy<Value = Vec<(usize, i64, i64)>> {
        // (product index into PRODUCTS, quantity, unit price in hundredths)
        proptest::collection::vec((0..5usize, 1..50i64, 0..10_000i64), 1..12)
    }

    const PRODUCTS: [&str; 5] = ["A", "B", "E", "X", "Y"];

    fn order_of(kind: &str, id: &str, lines: &[(usize, i64, i64)]) -> NewEvent {
        let prices: Vec<String> = lines
            .iter()
            .map(|(_, _, p)| format!("{}.{:02}", p / 100, p % 100))
            .collect();
        let lines: Vec<(&str, i64, &str)> = lines
            .iter()
            .zip(&prices)
            .map(|((i, q, _), p)| (PRODUCTS[*i], q.abs(), p.as_str()))
            .collect();
        order(kind, "p", id, "2020-03-01T00:00:00Z", &lines)
    }

    proptest! {
        #[test]
        fn returning_everything_that_was_bought_nets_every_figure_to_zero(l in lines()) {
            let r = report(
                &[order_of("placed", "1", &l), order_of("returned", "C1", &l)],
                Some(By::Product),
            );
            prop_assert_eq!(r.total.net_quantity, 0);
            prop_assert!(r.total.money.iter().all(|m| m.amount == Amount::ZERO));
            for c in &r.total.costs {
                prop_assert!(c.total.abs() < 1e-9, "{} left {}", c.factor, c.total);
            }
            for u in &r.unmatched {
                prop_assert_eq!(u.net_quantity, 0);
            }
        }

        #[test]
        fn every_line_is_covered_missing_or_unmatched_for_every_factor(l in lines()) {
            let r = report(&[order_of("placed", "1", &l)], Some(By::Month));
            for c in &r.total.costs {
                prop_assert_eq!(c.lines + c.missing_lines + r.total.unmatched_lines, r.total.lines);
            }
            prop_assert_eq!(r.total.lines, l.len() as u64);
            let in_groups: u64 = r.groups.iter().map(|g| g.figures.lines).sum();
            prop_assert_eq!(in_groups, r.total.lines);
        }
    }
}

#[test]
fn money_for_people_is_grouped_by_thousands_and_plain_text_stays_exact() {
    let m = Money {
        currency: Some(Currency::parse("EUR").unwrap()),
        amount: Amount::parse("-12345.6", 2).unwrap(),
    };
    assert_eq!(m.grouped(), "-12,345.60 EUR");
    assert_eq!(m.to_string(), "-12345.60 EUR");
    let small = Money {
        currency: None,
        amount: Amount::parse("999", 2).unwrap(),
    };
    assert_eq!(small.grouped(), "999.00");
}
