//! Hidden costs: what the orders carried that no invoice shows (kilograms of CO2e, litres of
//! water, grams of packaging…), beside the money, per order, person, product or month.
//!
//! Order lines are matched to the [`Catalogue`] by product id and multiplied by each factor's
//! per-unit figure. Returns are netted: every line of an `order.returned` subtracts its
//! quantity (whatever its sign), and a negative quantity in an `order.placed` subtracts too.
//! Lines whose product the catalogue does not know, or knows without any figure, are
//! *unmatched*: counted, with their quantity and money, and listed by product — never taken
//! as zero. A matched product that lacks one factor counts as *missing* for that factor, so
//! every total says how many lines it covers.
//!
//! [`Tally`] takes orders one at a time, so a caller can stream the whole ledger through it
//! without holding it in memory. Pure: no I/O.

pub mod catalogue;

use std::fmt;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::event::{Body, Line};
use crate::values::{Amount, Currency, PersonId, Ref, Timestamp};

pub use catalogue::{Catalogue, CatalogueError, Factor, PerUnit, Product};

/// How a report is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Order,
    Person,
    Product,
    /// The calendar month (UTC) of the order event.
    Month,
}

impl By {
    pub const ALL: [By; 4] = [By::Person, By::Product, By::Month, By::Order];

    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Order => "order",
            By::Person => "person",
            By::Product => "product",
            By::Month => "month",
        }
    }
}

impl fmt::Display for By {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One order event as the tally needs it.
#[derive(Debug, Clone, Copy)]
pub struct OrderView<'a> {
    /// `None` for an order nobody is known for (the benchmark costs such rows too).
    pub person: Option<&'a PersonId>,
    pub order: &'a Ref,
    pub at: Timestamp,
    /// An `order.returned`: every line subtracts.
    pub returned: bool,
    pub currency: Option<Currency>,
    pub lines: &'a [Line],
}

impl<'a> OrderView<'a> {
    /// The order in an event's body; `None` for any other kind of event.
    pub fn of(person: Option<&'a PersonId>, at: Timestamp, body: &'a Body) -> Option<Self> {
        let (order, currency, lines, returned) = match body {
            Body::OrderPlaced {
                order,
                currency,
                lines,
                ..
            } => (order, *currency, lines, false),
            Body::OrderReturned {
                order,
                currency,
                lines,
                ..
            } => (order, *currency, lines, true),
            // An invoice that lists what it bills (an e-invoice does) counts like an order;
            // one without lines has nothing to count.
            Body::InvoiceIssued {
                invoice,
                currency,
                lines,
                ..
            } if !lines.is_empty() => (invoice, Some(*currency), lines, false),
            _ => return None,
        };
        Some(OrderView {
            person,
            order,
            at,
            returned,
            currency,
            lines,
        })
    }
}

/// Money in one currency (`None`: the ledger was given no currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub currency: Option<Currency>,
    pub amount: Amount,
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("currency", &self.currency)?;
        st.serialize_field("amount", &self.to_string_amount())?;
        st.end()
    }
}

impl Money {
    /// For people to read: thousands separated, then the currency ("12,345.67 EUR"). The
    /// plain `Display` ("12345.67 EUR") stays exact text a program can read back.
    pub fn grouped(&self) -> String {
        let number = crate::values::thousands(&self.to_string_amount());
        match self.currency {
            Some(c) => format!("{number} {c}"),
            None => number,
        }
    }

    /// The amount as exact decimal text with the currency's decimals.
    pub fn to_string_amount(&self) -> String {
        self.amount
            .format(self.currency.map_or(2, |c| c.decimals()))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.currency {
            Some(c) => write!(f, "{} {c}", self.to_string_amount()),
            None => f.write_str(&self.to_string_amount()),
        }
    }
}

/// One factor's total in a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorTotal {
    pub factor: String,
    pub unit: String,
    /// Σ net quantity × per-unit figure over the lines that have a figure.
    pub total: f64,
    /// Lines with a figure for this factor.
    pub lines: u64,
    /// Lines of catalogued products that lack a figure for this factor (not in `total`).
    pub missing_lines: u64,
}

/// The figures of one group (or of everything).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Order events with at least one line here (returns included).
    pub orders: u64,
    pub lines: u64,
    /// Lines whose product the catalogue has figures for.
    pub matched_lines: u64,
    /// Lines whose product is not in the catalogue or has no figure at all.
    pub unmatched_lines: u64,
    /// Units bought less units returned.
    pub net_quantity: i64,
    /// Money of the lines (quantity × unit price), netted, per currency.
    pub money: Vec<Money>,
    /// One entry per factor, in the catalogue's order.
    pub costs: Vec<FactorTotal>,
}

impl Figures {
    /// The money per currency, "1,145.30 EUR + 56.72 GBP"; "–" when there is none.
    pub fn money_in_words(&self) -> String {
        if self.money.is_empty() {
            return "–".to_owned();
        }
        self.money
            .iter()
            .map(Money::grouped)
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// "12.5 kg CO2e, 300 litres water" — only factors with at least one line.
    pub fn costs_in_words(&self) -> String {
        let parts: Vec<String> = self
            .costs
            .iter()
            .filter(|c| c.lines > 0)
            .map(|c| format!("{} {} ({})", figure(c.total), c.unit, c.factor))
            .collect();
        if parts.is_empty() {
            "no hidden cost known".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// The card's sentence: the costs, over how many lines, and what is not counted.
    pub fn sentence(&self) -> String {
        let money: Vec<String> = self.money.iter().map(Money::grouped).collect();
        let mut s = format!(
            "{} over {} order {} ({} units net{})",
            self.costs_in_words(),
            self.lines,
            plural(self.lines, "line", "lines"),
            self.net_quantity,
            if money.is_empty() {
                String::new()
            } else {
                format!(", {}", money.join(" + "))
            }
        );
        if self.unmatched_lines > 0 {
            s.push_str(&format!(
                "; {} {} of products without figures not counted",
                self.unmatched_lines,
                plural(self.unmatched_lines, "line", "lines")
            ));
        }
        let missing: u64 = self
            .costs
            .iter()
            .map(|c| c.missing_lines)
            .max()
            .unwrap_or(0);
        if missing > 0 {
            s.push_str(&format!(
                "; up to {missing} more {} a figure for some factor",
                plural(missing, "line lacks", "lines lack")
            ));
        }
        s.push('.');
        s
    }
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// A hidden-cost figure for people to read: three significant digits below 100, whole
/// numbers with thousands separators above.
pub fn figure(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    let a = v.abs();
    if a >= 100.0 {
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        return out;
    }
    let decimals = if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// One group of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The person id, product id, order reference or month (`YYYY-MM`).
    pub key: String,
    /// The product's name from the catalogue (products only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A product whose lines could not be costed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmatched {
    pub product: String,
    /// Whether the catalogue lists it (without any figure) or not at all.
    pub in_catalogue: bool,
    pub lines: u64,
    pub net_quantity: i64,
    pub money: Vec<Money>,
}

/// Everything a costs report says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub by: Option<By>,
    pub factors: Vec<Factor>,
    /// Order events seen (placed and returned), with or without lines.
    pub orders: u64,
    pub returns: u64,
    /// Orders that give only an amount: no line can be costed, so none is.
    pub orders_without_lines: u64,
    pub total: Figures,
    /// How many groups there are; `groups` may hold fewer when a limit was given.
    pub group_count: usize,
    pub groups: Vec<Group>,
    /// Unmatched products, most lines first.
    pub unmatched: Vec<Unmatched>,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    orders: u64,
    lines: u64,
    unmatched_lines: u64,
    net_qty: i64,
    sums: Vec<f64>,
    covered: Vec<u64>,
    missing: Vec<u64>,
    money: Vec<Money>,
}

impl Acc {
    fn new(factors: usize) -> Acc {
        Acc {
            sums: vec![0.0; factors],
            covered: vec![0; factors],
            missing: vec![0; factors],
            ..Acc::default()
        }
    }

    fn add_money(money: &mut Vec<Money>, currency: Option<Currency>, amount: Amount) {
        match money.iter_mut().find(|m| m.currency == currency) {
            Some(m) => m.amount = m.amount.saturating_add(amount),
            None => money.push(Money { currency, amount }),
        }
    }

    fn line(&mut self, cost: &LineCost, product: Option<&Product>) {
        self.lines += 1;
        self.net_qty = self.net_qty.saturating_add(cost.qty);
        Acc::add_money(&mut self.money, cost.currency, cost.money);
        match product.filter(|p| !p.has_no_factors()) {
            None => self.unmatched_lines += 1,
            Some(p) => {
                let q = cost.qty as f64;
                for (i, v) in p.values.iter().enumerate() {
                    match v {
                        Some(v) => {
                            self.sums[i] += q * v.get();
                            self.covered[i] += 1;
                        }
                        None => self.missing[i] += 1,
                    }
                }
            }
        }
    }

    fn figures(&self, factors: &[Factor]) -> Figures {
        let mut money = self.money.clone();
        money.sort_by_key(|m| m.currency);
        Figures {
            orders: self.orders,
            lines: self.lines,
            matched_lines: self.lines - self.unmatched_lines,
            unmatched_lines: self.unmatched_lines,
            net_quantity: self.net_qty,
            money,
            costs: factors
                .iter()
                .enumerate()
                .map(|(i, f)| FactorTotal {
                    factor: f.name.to_string(),
                    unit: f.unit.to_string(),
                    total: self.sums[i],
                    lines: self.covered[i],
                    missing_lines: self.missing[i],
                })
                .collect(),
        }
    }
}

/// One line, netted: its signed quantity and money.
struct LineCost {
    qty: i64,
    money: Amount,
    currency: Option<Currency>,
}

/// Adds up hidden costs order by order; [`Tally::finish`] gives the report.
pub struct Tally<'c> {
    catalogue: &'c Catalogue,
    by: Option<By>,
    orders: u64,
    returns: u64,
    orders_without_lines: u64,
    total: Acc,
    groups: FxHashMap<String, Acc>,
    unmatched: FxHashMap<String, (Acc, bool)>,
    /// Products already counted for the current order (for per-product order counts).
    seen: Vec<usize>,
    key: String,
}

impl<'c> Tally<'c> {
    pub fn new(catalogue: &'c Catalogue, by: Option<By>) -> Tally<'c> {
        Tally {
            catalogue,
            by,
            orders: 0,
            returns: 0,
            orders_without_lines: 0,
            total: Acc::new(catalogue.factors().len()),
            groups: FxHashMap::default(),
            unmatched: FxHashMap::default(),
            seen: Vec::new(),
            key: String::new(),
        }
    }

    /// Adds an event if it is an order (anything else is ignored).
    pub fn event(&mut self, person: Option<&PersonId>, at: Timestamp, body: &Body) {
        if let Some(order) = OrderView::of(person, at, body) {
            self.order(&order);
        }
    }

    pub fn order(&mut self, o: &OrderView<'_>) {
        self.orders += 1;
        if o.returned {
            self.returns += 1;
        }
        if o.lines.is_empty() {
            self.orders_without_lines += 1;
            return;
        }
        let catalogue = self.catalogue;
        let n = catalogue.factors().len();
        self.total.orders += 1;
        // The group every line of this order goes to (all but product grouping).
        let key: Option<&str> = match self.by {
            None | Some(By::Product) => None,
            Some(By::Person) => Some(o.person.map_or("(nobody)", PersonId::as_str)),
            Some(By::Order) => Some(o.order.as_str()),
            Some(By::Month) => {
                let (y, m) = o.at.day().year_month();
                self.key.clear();
                use std::fmt::Write;
                let _ = write!(self.key, "{y:04}-{m:02}");
                Some(self.key.as_str())
            }
        };
        let mut group = key.map(|k| {
            if !self.groups.contains_key(k) {
                self.groups.insert(k.to_owned(), Acc::new(n));
            }
            k.to_owned()
        });
        if let Some(k) = &group
            && let Some(g) = self.groups.get_mut(k.as_str())
        {
            g.orders += 1;
        }
        self.seen.clear();
        for line in o.lines {
            let qty = if o.returned {
                line.qty.saturating_abs().saturating_neg()
            } else {
                line.qty
            };
            let cost = LineCost {
                qty,
                money: line.unit_price.times(qty),
                currency: o.currency,
            };
            let index = catalogue.index_of(line.product.as_str());
            let product = index.map(|i| &catalogue.products()[i]);
            self.total.line(&cost, product);
            let p = line.product.as_str();
            if product.is_none_or(Product::has_no_factors) {
                let (u, _) = self
                    .unmatched
                    .entry(p.to_owned())
                    .or_insert_with(|| (Acc::new(0), product.is_some()));
                u.line(&cost, None);
            }
            if self.by == Some(By::Product) {
                let g = match self.groups.get_mut(p) {
                    Some(g) => g,
                    None => self
                        .groups
                        .entry(p.to_owned())
                        .or_insert_with(|| Acc::new(n)),
                };
                // A product on several lines of one order is one order for it.
                let id = index.unwrap_or(usize::MAX);
                if index.is_none() || !self.seen.contains(&id) {
                    g.orders += 1;
                    self.seen.push(id);
                }
                g.line(&cost, product);
            } else if let Some(k) = group.as_mut()
                && let Some(g) = self.groups.get_mut(k.as_str())
            {
                g.line(&cost, product);
            }
        }
    }

    /// The report; `limit` keeps only the first groups (months in order; otherwise the
    /// largest first by the first factor, then by money, then by key).
    pub fn finish(self, limit: Option<usize>) -> Report {
        let factors = self.catalogue.factors();
        let mut groups: Vec<Group> = self
            .groups
            .into_iter()
            .map(|(key, acc)| Group {
                name: match self.by {
                    Some(By::Product) => self.catalogue.product(&key).and_then(|p| p.name.clone()),
                    _ => None,
                },
                figures: acc.figures(factors),
                key,
            })
            .collect();
        match self.by {
            Some(By::Month) | None => groups.sort_by(|a, b| a.key.cmp(&b.key)),
            _ => groups.sort_by(|a, b| {
                let first = |g: &Group| g.figures.costs.first().map_or(0.0, |c| c.total);
                let money = |g: &Group| {
                    g.figures
                        .money
                        .first()
                        .map_or(0, |m| m.amount.ten_thousandths())
                };
                first(b)
                    .total_cmp(&first(a))
                    .then_with(|| money(b).cmp(&money(a)))
                    .then_with(|| a.key.cmp(&b.key))
            }),
        }
        let group_count = groups.len();
        if let Some(limit) = limit {
            groups.truncate(limit);
        }
        let mut unmatched: Vec<Unmatched> = self
            .unmatched
            .into_iter()
            .map(|(product, (acc, in_catalogue))| {
                let mut money = acc.money;
                money.sort_by_key(|m| m.currency);
                Unmatched {
                    product,
                    in_catalogue,
                    lines: acc.lines,
                    net_quantity: acc.net_qty,
                    money,
                }
            })
            .collect();
        unmatched.sort_by(|a, b| {
            b.lines
                .cmp(&a.lines)
                .then_with(|| a.product.cmp(&b.product))
        });
        Report {
            by: self.by,
            factors: factors.to_vec(),
            orders: self.orders,
            returns: self.returns,
            orders_without_lines: self.orders_without_lines,
            total: self.total.figures(factors),
            group_count,
            groups,
            unmatched,
        }
    }
}

/// The hidden costs of one person's orders (the card's line), from their events.
pub fn of_person<'e>(
    catalogue: &Catalogue,
    events: impl IntoIterator<Item = (Timestamp, &'e Body)>,
) -> Figures {
    let mut tally = Tally::new(catalogue, None);
    for (at, body) in events {
        tally.event(None, at, body);
    }
    tally.finish(None).total
}

#[cfg(test)]
mod tests;
