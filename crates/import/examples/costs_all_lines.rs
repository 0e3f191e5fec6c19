//! How long hidden costs take for every line of UCI Online Retail — all 541,909, the rows
//! without a customer included (the ledger skips those; here they are orders of nobody):
//!
//!   gzip -dc online_retail.csv.gz > /tmp/online_retail.csv
//!   cargo run --release -p rapport-import --example costs_all_lines -- \
//!     /tmp/online_retail.csv crates/import/tests/data/online_retail_catalogue
//!
//! Times reading the catalogue, reading and parsing the CSV into orders (one per InvoiceNo;
//! `C…` invoices are returns), and costing every line in total and by month, product and
//! person; prints the totals so they can be checked against the Python computation in
//! docs/performance.md.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDateTime;
use domain::costs::{By, OrderView, Report, Tally};
use domain::event::Line;
use domain::values::Label;
use domain::{Amount, Currency, PersonId, Ref, Timestamp};

struct Order {
    person: Option<PersonId>,
    order: Ref,
    at: Timestamp,
    returned: bool,
    lines: Vec<Line>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(csv_path), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: costs_all_lines ONLINE_RETAIL.csv CATALOGUE_DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    let all = Instant::now();

    let t = Instant::now();
    let catalogue =
        rapport_import::catalogue::read(&dir.join("products.csv"), &dir.join("factors.csv"))
            .unwrap_or_else(|e| panic!("{e}"));
    let catalogue_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap_or_else(|e| panic!("{csv_path}: {e}"));
    let mut orders: Vec<Order> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    while rdr
        .read_record(&mut record)
        .unwrap_or_else(|e| panic!("{e}"))
    {
        rows += 1;
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let invoice = cell(0);
        let i = match index.get(invoice) {
            Some(&i) => i,
            None => {
                let at = NaiveDateTime::parse_from_str(cell(4), "%Y-%m-%d %H:%M:%S")
                    .unwrap_or_else(|e| panic!("row {rows}: {e}"));
                orders.push(Order {
                    person: PersonId::parse(cell(6)).ok(),
                    order: Ref::parse(invoice).unwrap(),
                    at: Timestamp::from_unix(at.and_utc().timestamp()),
                    returned: invoice.starts_with('C'),
                    lines: Vec::new(),
                });
                index.insert(invoice.to_owned(), orders.len() - 1);
                orders.len() - 1
            }
        };
        orders[i].lines.push(Line {
            product: Label::parse(cell(1)).unwrap(),
            qty: cell(3).parse().unwrap(),
            unit_price: Amount::parse(cell(5), 4).unwrap(),
        });
    }
    let read_s = t.elapsed().as_secs_f64();

    let gbp = Currency::parse("GBP").ok();
    let cost = |by: Option<By>| -> (Report, f64) {
        let t = Instant::now();
        let mut tally = Tally::new(&catalogue, by);
        for o in &orders {
            tally.order(&OrderView {
                person: o.person.as_ref(),
                order: &o.order,
                at: o.at,
                returned: o.returned,
                currency: gbp,
                lines: &o.lines,
            });
        }
        let r = tally.finish(None);
        (r, t.elapsed().as_secs_f64())
    };
    let (total, total_s) = cost(None);
    let (months, months_s) = cost(Some(By::Month));
    let (products, products_s) = cost(Some(By::Product));
    let (people, people_s) = cost(Some(By::Person));
    let all_s = all.elapsed().as_secs_f64();

    let f = &total.total;
    println!(
        "{rows} rows, {} orders ({} returns), {} lines ({} unmatched), {} units net, {}",
        total.orders, total.returns, f.lines, f.unmatched_lines, f.net_quantity, f.money[0]
    );
    for c in &f.costs {
        println!(
            "  {}: {:.2} {} over {} lines ({} missing)",
            c.factor, c.total, c.unit, c.lines, c.missing_lines
        );
    }
    println!(
        "  {} months, {} products, {} people (nobody counts as one), {} unmatched products",
        months.group_count,
        products.group_count,
        people.group_count,
        total.unmatched.len()
    );
    println!("catalogue read            {catalogue_s:>7.3} s");
    println!("CSV read into orders      {read_s:>7.3} s");
    println!("costed: total             {total_s:>7.3} s");
    println!("costed: by month          {months_s:>7.3} s");
    println!("costed: by product        {products_s:>7.3} s");
    println!("costed: by person         {people_s:>7.3} s");
    println!("everything, end to end    {all_s:>7.3} s");
}
