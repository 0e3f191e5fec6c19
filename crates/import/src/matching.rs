//! Matching bank credits to open invoices, as a bookkeeper would, and never by a guess.
//!
//! The rules, in order: the structured reference the invoice asked for; the invoice number
//! in the remittance text; the payer's account known for one person together with an amount
//! equal to one of their open invoices, or to exactly one combination of them. A credit that
//! no rule places, or that two places fit equally, stays unmatched with the reason, for a
//! person to resolve. Each match names its rule.

use domain::{Amount, Currency, Day, PersonId, Ref};
use rustc_hash::FxHashMap;

/// An invoice not yet paid in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub person: PersonId,
    pub invoice: Ref,
    pub currency: Currency,
    /// Its amount less corrections and payments so far (positive).
    pub outstanding: Amount,
    pub due: Day,
    /// The structured payment reference it asked for, if any.
    pub reference: Option<String>,
}

/// Money received, as a bank statement says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub booked: Day,
    pub amount: Amount,
    pub currency: Currency,
    pub iban: Option<String>,
    pub reference: Option<String>,
    pub text: Option<String>,
}

/// Which rule placed a credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The structured reference equals the invoice's.
    Reference,
    /// The invoice number appears in the remittance text.
    InvoiceNumber,
    /// The payer's account is known for the person and the amount equals one open invoice.
    AccountAndAmount,
    /// The payer's account is known for the person and the amount equals exactly one
    /// combination of their open invoices.
    AccountAndCombination,
    /// Someone chose it by hand.
    ByHand,
}

impl Rule {
    /// As stored on the payment (`matched` in docs/events.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Reference => "reference",
            Rule::InvoiceNumber => "invoice-number",
            Rule::AccountAndAmount => "account-and-amount",
            Rule::AccountAndCombination => "account-and-combination",
            Rule::ByHand => "by-hand",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        [
            Rule::Reference,
            Rule::InvoiceNumber,
            Rule::AccountAndAmount,
            Rule::AccountAndCombination,
            Rule::ByHand,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// In words, for pages and the command line.
    pub fn words(self) -> &'static str {
        domain::event::matched_words(self.as_str()).unwrap_or("by a rule")
    }
}

/// Part of a credit put toward one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub person: PersonId,
    pub invoice: Ref,
    pub amount: Amount,
}

/// What became of one credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Matched {
        rule: Rule,
        to: Vec<Allocation>,
    },
    /// In words a bookkeeper understands ("two open invoices of 100.00 for this account").
    Unmatched {
        reason: String,
    },
}

/// Invoice numbers with fewer letters and digits than this are never looked for in a
/// description: "7", "12", "A-1" or "123" turn up in dates, amounts and street numbers of
/// nearly every remittance text, so finding one there says nothing about the invoice.
const MIN_NUMBER_CHARS: usize = 4;

/// Combinations are tried among at most this many open invoices of one person in one
/// currency (2^16 = 65,536 sums). With more, one combination fitting the amount is too
/// likely to be luck, and the search too long to run for every credit of a statement.
const MAX_COMBINATION_INVOICES: usize = 16;

/// The open invoices and known accounts a statement is matched against; each decision
/// updates what is still open, so two credits never pay the same euro twice.
#[derive(Debug, Default)]
pub struct Book {
    /// Every invoice given, in the order given. `outstanding` goes down as credits are
    /// matched; an invoice at zero is paid, and stays here (and in the indexes below) so that
    /// a second payment for it is told "already paid" rather than "no reference".
    invoices: Vec<OpenInvoice>,
    /// The invoice's reference without white space, in upper case → invoices.
    by_reference: FxHashMap<String, Vec<usize>>,
    /// The invoice number in upper case, without punctuation at either end → invoices.
    by_number: FxHashMap<String, Vec<usize>>,
    /// The most runs of letters and digits in one indexed invoice number ("INV-2024-001"
    /// has 3), and the longest indexed number in bytes: how far a description is searched
    /// from each word.
    number_runs: usize,
    number_len: usize,
    by_person: FxHashMap<PersonId, Vec<usize>>,
    /// A payer's IBAN (without spaces, upper case) → the distinct people it is known for.
    accounts: FxHashMap<String, Vec<PersonId>>,
}

/// Where a credit goes: the rule, and (invoice index, amount) pairs.
type Placement = (Rule, Vec<(usize, Amount)>);

impl Book {
    /// `accounts`: payer IBANs (without spaces, upper case) known for a person.
    ///
    /// An invoice given with nothing outstanding (zero or less) is taken as paid: a credit
    /// naming it is told so.
    pub fn new(invoices: Vec<OpenInvoice>, accounts: Vec<(String, PersonId)>) -> Book {
        let n = invoices.len();
        let mut book = Book {
            invoices: Vec::with_capacity(n),
            by_reference: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            by_number: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            ..Book::default()
        };
        for (i, mut invoice) in invoices.into_iter().enumerate() {
            if invoice.outstanding.is_negative() {
                invoice.outstanding = Amount::ZERO;
            }
            if let Some(key) = invoice.reference.as_deref().map(compact)
                && !key.is_empty()
            {
                book.by_reference.entry(key).or_default().push(i);
            }
            if let Some((key, runs)) = number_key(invoice.invoice.as_str()) {
                book.number_runs = book.number_runs.max(runs);
                book.number_len = book.number_len.max(key.len());
                book.by_number.entry(key).or_default().push(i);
            }
            book.by_person
                .entry(invoice.person.clone())
                .or_default()
                .push(i);
            book.invoices.push(invoice);
        }
        for (iban, person) in accounts {
            let key = compact(&iban);
            if key.is_empty() {
                continue;
            }
            let people = book.accounts.entry(key).or_default();
            if !people.contains(&person) {
                people.push(person);
            }
        }
        book
    }

    /// Places one credit, and takes what it pays off the invoices it pays.
    pub fn decide(&mut self, credit: &Credit) -> Decision {
        match self.place(credit) {
            Ok((rule, parts)) => {
                let mut to = Vec::with_capacity(parts.len());
                for (i, amount) in parts {
                    if let Some(invoice) = self.invoices.get_mut(i) {
                        let left = invoice
                            .outstanding
                            .ten_thousandths()
                            .saturating_sub(amount.ten_thousandths())
                            .max(0);
                        invoice.outstanding = Amount::from_ten_thousandths(left);
                        to.push(Allocation {
                            person: invoice.person.clone(),
                            invoice: invoice.invoice.clone(),
                            amount,
                        });
                    }
                }
                Decision::Matched { rule, to }
            }
            Err(reason) => Decision::Unmatched { reason },
        }
    }

    /// The person's open invoices, oldest due first (for resolving by hand).
    pub fn open_of(&self, person: &PersonId) -> Vec<OpenInvoice> {
        let mut open = self.open_among(self.by_person.get(person).map_or(&[], Vec::as_slice));
        self.oldest_first(&mut open);
        open.into_iter()
            .filter_map(|i| self.invoices.get(i).cloned())
            .collect()
    }

    /// The rules in order; the first that finds a clue decides, so a reference naming a paid
    /// invoice is never overruled by an account that happens to have an invoice of that
    /// amount.
    fn place(&self, credit: &Credit) -> Result<Placement, String> {
        if credit.amount <= Amount::ZERO {
            return Err("not money received".to_owned());
        }
        let reference = credit
            .reference
            .as_deref()
            .map(compact)
            .filter(|r| !r.is_empty());
        let rf = reference.as_deref().is_some_and(is_rf);

        if let Some(key) = &reference {
            let found = self.referenced(key, rf);
            if !found.is_empty() {
                let what = format!(
                    "the reference {}",
                    credit.reference.as_deref().unwrap_or_default().trim()
                );
                return self.pay_named(&found, credit, Rule::Reference, &what);
            }
        }

        let mut named = Vec::new();
        if let Some(text) = &credit.text {
            self.numbers_in(text, &mut named);
        }
        if !rf && let Some(text) = &credit.reference {
            self.numbers_in(text, &mut named);
        }
        if !named.is_empty() {
            named.sort_unstable();
            named.dedup();
            return self.pay_named(&named, credit, Rule::InvoiceNumber, "the description");
        }

        let iban = credit.iban.as_deref().map(compact);
        if let Some(people) = iban.and_then(|k| self.accounts.get(&k)) {
            return match people.as_slice() {
                [person] => self.pay_by_account(person, credit),
                _ => Err(format!(
                    "this account is known for {} people ({})",
                    count(people.len()),
                    list(people.iter().map(PersonId::to_string))
                )),
            };
        }

        Err(match reference {
            Some(_) if rf => format!(
                "the reference {} is on no invoice, and there is no invoice number or known account",
                credit.reference.as_deref().unwrap_or_default().trim()
            ),
            _ => "no reference, invoice number or known account".to_owned(),
        })
    }

    /// Invoices whose reference is the credit's `key` (compacted). First those whose
    /// reference, as the invoice holds it, equals the key ignoring case; if none of those is
    /// open and the key is a valid RF reference, also those equal once their own spaces are
    /// removed (an invoice printed "RF18 5390 0754 7034"). A free reference is not loosened
    /// that way: it is read for invoice numbers instead.
    fn referenced(&self, key: &str, rf: bool) -> Vec<usize> {
        let Some(hits) = self.by_reference.get(key) else {
            return Vec::new();
        };
        let exact: Vec<usize> = hits
            .iter()
            .copied()
            .filter(|&i| {
                self.invoices
                    .get(i)
                    .and_then(|v| v.reference.as_deref())
                    .is_some_and(|r| r.to_uppercase() == key)
            })
            .collect();
        if rf && self.open_among(&exact).is_empty() {
            hits.clone()
        } else {
            exact
        }
    }

    /// Adds the invoices whose number appears in `text` as a whole token: bounded by
    /// characters that are neither letters nor digits, compared without case.
    ///
    /// Each window of consecutive runs of letters and digits, as long as the longest
    /// indexed number, is looked up in the index: "Payment INV-2024-001 thanks" tries
    /// "PAYMENT", "PAYMENT INV", …, "INV-2024-001", "2024", … — a few lookups per word,
    /// whatever the number of invoices.
    fn numbers_in(&self, text: &str, out: &mut Vec<usize>) {
        if self.by_number.is_empty() {
            return;
        }
        let folded = text.to_uppercase();
        let runs = runs(&folded);
        for (i, &(start, _)) in runs.iter().enumerate() {
            for &(_, end) in runs.iter().skip(i).take(self.number_runs) {
                if end - start > self.number_len {
                    break;
                }
                if let Some(hits) = folded.get(start..end).and_then(|w| self.by_number.get(w)) {
                    out.extend_from_slice(hits);
                }
            }
        }
    }

    /// Pays invoices named by a reference or a description: only open ones, only in the
    /// credit's currency, saying why not otherwise.
    fn pay_named(
        &self,
        found: &[usize],
        credit: &Credit,
        rule: Rule,
        what: &str,
    ) -> Result<Placement, String> {
        let open = self.open_among(found);
        if open.is_empty() {
            return Err(match found {
                [one] => format!("invoice {} is already paid", self.number(*one)),
                _ => format!(
                    "invoices {} are already paid",
                    list(found.iter().map(|&i| self.number(i)))
                ),
            });
        }
        let mut here: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&i| self.currency(i) == Some(credit.currency))
            .collect();
        if here.is_empty() {
            return Err(format!(
                "the payment is in {}, {}",
                credit.currency,
                self.currencies_of(&open)
            ));
        }
        self.oldest_first(&mut here);
        if rule == Rule::Reference && !self.one_person(&here) {
            return Err(format!(
                "{what} is on open invoices of different people ({})",
                self.numbers_and_people(&here)
            ));
        }
        self.share(&here, credit, rule, what)
            .map(|parts| (rule, parts))
    }

    /// Shares a credit among named open invoices (oldest due first, all in its currency).
    fn share(
        &self,
        named: &[usize],
        credit: &Credit,
        rule: Rule,
        what: &str,
    ) -> Result<Vec<(usize, Amount)>, String> {
        let money = |a: Amount| a.grouped(credit.currency.decimals());
        let amount = credit.amount;
        if let [one] = named {
            let outstanding = self.outstanding(*one);
            // An overpayment under a structured reference is still that invoice's payment:
            // the payer used the reference we gave for it, so the whole credit goes there and
            // the excess shows as the invoice paid over (the outstanding stops at zero here).
            // A number in free text is weaker: the payer may have meant other invoices too.
            if amount <= outstanding || rule == Rule::Reference {
                return Ok(vec![(*one, amount)]);
            }
            return Err(format!(
                "{} is more than the {} still open on invoice {}",
                money(amount),
                money(outstanding),
                self.number(*one)
            ));
        }
        let total = self.total(named);
        let numbers = || list(named.iter().map(|&i| self.number(i)));
        if i128::from(amount.ten_thousandths()) == total {
            return Ok(named.iter().map(|&i| (i, self.outstanding(i))).collect());
        }
        if !self.one_person(named) {
            return Err(format!(
                "{what} names invoices of different people ({}) and {} is not their sum of {}",
                self.numbers_and_people(named),
                money(amount),
                money(to_amount(total))
            ));
        }
        if i128::from(amount.ten_thousandths()) > total {
            return Err(format!(
                "{} is more than the {} still open on invoices {}",
                money(amount),
                money(to_amount(total)),
                numbers()
            ));
        }
        // One person's invoices, less than their sum: oldest due first, as far as the money
        // goes; the last one reached is paid in part.
        let mut left = amount.ten_thousandths();
        let mut parts = Vec::new();
        for &i in named {
            if left <= 0 {
                break;
            }
            let part = left.min(self.outstanding(i).ten_thousandths());
            parts.push((i, Amount::from_ten_thousandths(part)));
            left -= part;
        }
        Ok(parts)
    }

    /// Rule 3: the account is known for `person` alone; the amount must equal one open
    /// invoice of theirs in the credit's currency, or exactly one combination of them.
    fn pay_by_account(&self, person: &PersonId, credit: &Credit) -> Result<Placement, String> {
        let money = |a: Amount| a.grouped(credit.currency.decimals());
        let amount = credit.amount;
        let mut open: Vec<usize> = self
            .open_among(self.by_person.get(person).map_or(&[], Vec::as_slice))
            .into_iter()
            .filter(|&i| self.currency(i) == Some(credit.currency))
            .collect();
        if open.is_empty() {
            return Err(format!(
                "the account is {person}'s, who has no open invoices in {}",
                credit.currency
            ));
        }
        self.oldest_first(&mut open);
        let equal: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&i| self.outstanding(i) == amount)
            .collect();
        match equal.as_slice() {
            [one] => return Ok((Rule::AccountAndAmount, vec![(*one, amount)])),
            [] => {}
            several => {
                return Err(format!(
                    "{} open invoices of {} for this account ({})",
                    count(several.len()),
                    money(amount),
                    list(several.iter().map(|&i| self.number(i)))
                ));
            }
        }
        let nothing = || {
            format!(
                "no open invoice of {person}'s in {}, alone or together with others, comes to {}",
                credit.currency,
                money(amount)
            )
        };
        if open.len() < 2 {
            return Err(nothing());
        }
        if open.len() > MAX_COMBINATION_INVOICES {
            return Err(format!(
                "the account is {person}'s, who has {} open invoices in {}: too many to find which add up to {}",
                open.len(),
                credit.currency,
                money(amount)
            ));
        }
        let values: Vec<i128> = open
            .iter()
            .map(|&i| i128::from(self.outstanding(i).ten_thousandths()))
            .collect();
        match one_combination(&values, i128::from(amount.ten_thousandths())) {
            Combination::None => Err(nothing()),
            Combination::Several => Err(format!(
                "several combinations of open invoices add up to {}",
                money(amount)
            )),
            Combination::One(mask) => Ok((
                Rule::AccountAndCombination,
                open.iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & (1 << bit) != 0)
                    .map(|(_, &i)| (i, self.outstanding(i)))
                    .collect(),
            )),
        }
    }

    fn open_among(&self, found: &[usize]) -> Vec<usize> {
        found
            .iter()
            .copied()
            .filter(|&i| self.outstanding(i) > Amount::ZERO)
            .collect()
    }

    fn oldest_first(&self, found: &mut [usize]) {
        found.sort_by_key(|&i| {
            let v = self.invoices.get(i);
            (v.map(|v| v.due), v.map(|v| v.invoice.as_str()), i)
        });
    }

    fn outstanding(&self, i: usize) -> Amount {
        self.invoices.get(i).map_or(Amount::ZERO, |v| v.outstanding)
    }

    fn currency(&self, i: usize) -> Option<Currency> {
        self.invoices.get(i).map(|v| v.currency)
    }

    fn number(&self, i: usize) -> String {
        self.invoices
            .get(i)
            .map_or_else(String::new, |v| v.invoice.to_string())
    }

    fn total(&self, found: &[usize]) -> i128 {
        found
            .iter()
            .map(|&i| i128::from(self.outstanding(i).ten_thousandths()))
            .sum()
    }

    fn one_person(&self, found: &[usize]) -> bool {
        let mut people = found
            .iter()
            .filter_map(|&i| self.invoices.get(i))
            .map(|v| &v.person);
        let first = people.next();
        people.all(|p| Some(p) == first)
    }

    /// "INV-1 of P-1 and INV-2 of P-2".
    fn numbers_and_people(&self, found: &[usize]) -> String {
        list(
            found
                .iter()
                .filter_map(|&i| self.invoices.get(i))
                .map(|v| format!("{} of {}", v.invoice, v.person)),
        )
    }

    /// "invoice INV-7 is in EUR", "invoices INV-7 and INV-8 are in EUR", or with mixed
    /// currencies "invoices INV-7 (EUR) and INV-9 (GBP) are in other currencies".
    fn currencies_of(&self, found: &[usize]) -> String {
        let invoices: Vec<&OpenInvoice> =
            found.iter().filter_map(|&i| self.invoices.get(i)).collect();
        match invoices.as_slice() {
            [one] => format!("invoice {} is in {}", one.invoice, one.currency),
            [first, rest @ ..] if rest.iter().all(|v| v.currency == first.currency) => format!(
                "invoices {} are in {}",
                list(invoices.iter().map(|v| v.invoice.to_string())),
                first.currency
            ),
            _ => format!(
                "invoices {} are in other currencies",
                list(
                    invoices
                        .iter()
                        .map(|v| format!("{} ({})", v.invoice, v.currency))
                )
            ),
        }
    }
}

/// How many subsets of at least two invoices add up to the amount.
enum Combination {
    None,
    One(u32),
    Several,
}

/// Walks every subset of `values` (at most [`MAX_COMBINATION_INVOICES`]) in Gray-code order,
/// so each step adds or removes one value: 65,536 additions at most, no memory.
fn one_combination(values: &[i128], amount: i128) -> Combination {
    let n = values.len().min(MAX_COMBINATION_INVOICES);
    let mut sum: i128 = 0;
    let mut found = None;
    for step in 1u32..(1 << n) {
        let bit = step.trailing_zeros();
        let gray = step ^ (step >> 1);
        let value = values.get(bit as usize).copied().unwrap_or_default();
        if gray & (1 << bit) != 0 {
            sum += value;
        } else {
            sum -= value;
        }
        // Single invoices were tried before, by equality.
        if sum == amount && gray.count_ones() >= 2 {
            if found.is_some() {
                return Combination::Several;
            }
            found = Some(gray);
        }
    }
    found.map_or(Combination::None, Combination::One)
}

/// A reference or IBAN as compared: without white space, in upper case.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// An invoice number as looked for in descriptions: upper case, without punctuation at
/// either end, and with the number of its runs of letters and digits; `None` when it has
/// fewer than [`MIN_NUMBER_CHARS`] letters and digits.
fn number_key(number: &str) -> Option<(String, usize)> {
    let folded = number.to_uppercase();
    let key = folded.trim_matches(|c: char| !c.is_alphanumeric());
    if key.chars().filter(|c| c.is_alphanumeric()).count() < MIN_NUMBER_CHARS {
        return None;
    }
    let runs = key
        .split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty())
        .count();
    Some((key.to_owned(), runs))
}

/// The byte ranges of the runs of letters and digits in `s`.
fn runs(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                out.push((from, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        out.push((from, s.len()));
    }
    out
}

/// Whether a compacted reference is a valid ISO 11649 creditor reference: `RF`, two check
/// digits, 1 to 21 letters or digits, and the whole (first four moved to the end, letters
/// as 10–35) leaving 1 when divided by 97.
fn is_rf(s: &str) -> bool {
    let b = s.as_bytes();
    if !(5..=25).contains(&b.len())
        || !b.starts_with(b"RF")
        || !b[2].is_ascii_digit()
        || !b[3].is_ascii_digit()
        || !b.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c.to_ascii_uppercase() - b'A') + 10) % 97
        };
    }
    rem == 1
}

fn to_amount(v: i128) -> Amount {
    Amount::from_ten_thousandths(i64::try_from(v).unwrap_or(i64::MAX))
}

/// "two", "three"…, then digits.
fn count(n: usize) -> String {
    match n {
        2 => "two".to_owned(),
        3 => "three".to_owned(),
        4 => "four".to_owned(),
        n => n.to_string(),
    }
}

/// "A", "A and B", "A, B and C"; past six, the first five and how many more.
fn list(items: impl Iterator<Item = String>) -> String {
    const SHOWN: usize = 6;
    let items: Vec<String> = items.collect();
    let mut shown: Vec<String> = if items.len() > SHOWN {
        let mut first = items[..SHOWN - 1].to_vec();
        first.push(format!("{} more", items.len() - (SHOWN - 1)));
        first
    } else {
        items
    };
    match shown.pop() {
        None => String::new(),
        Some(last) if shown.is_empty() => last,
        Some(last) => format!("{} and {last}", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn money(s: &str) -> Amount {
        Amount::parse(s, 4).unwrap()
    }

    fn person(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    fn invoice(who: &str, number: &str, outstanding: &str, due: &str) -> OpenInvoice {
        OpenInvoice {
            person: person(who),
            invoice: Ref::parse(number).unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            outstanding: money(outstanding),
            due: day(due),
            reference: None,
        }
    }

    fn with_reference(mut v: OpenInvoice, reference: &str) -> OpenInvoice {
        v.reference = Some(reference.to_owned());
        v
    }

    fn in_currency(mut v: OpenInvoice, currency: &str) -> OpenInvoice {
        v.currency = Currency::parse(currency).unwrap();
        v
    }

    fn credit(amount: &str) -> Credit {
        Credit {
            booked: day("2024-06-03"),
            amount: money(amount),
            currency: Currency::parse("EUR").unwrap(),
            iban: None,
            reference: None,
            text: None,
        }
    }

    fn referenced(amount: &str, reference: &str) -> Credit {
        Credit {
            reference: Some(reference.to_owned()),
            ..credit(amount)
        }
    }

    fn described(amount: &str, text: &str) -> Credit {
        Credit {
            text: Some(text.to_owned()),
            ..credit(amount)
        }
    }

    fn from_account(amount: &str, iban: &str) -> Credit {
        Credit {
            iban: Some(iban.to_owned()),
            ..credit(amount)
        }
    }

    const IBAN: &str = "DE89370400440532013000";

    fn account(who: &str) -> Vec<(String, PersonId)> {
        vec![(IBAN.to_owned(), person(who))]
    }

    /// (invoice, amount) of a matched decision with its rule; panics with the reason otherwise.
    fn paid(decision: Decision, rule: Rule) -> Vec<(String, String)> {
        match decision {
            Decision::Matched { rule: r, to } => {
                assert_eq!(r, rule);
                to.into_iter()
                    .map(|a| (a.invoice.to_string(), a.amount.format(2)))
                    .collect()
            }
            Decision::Unmatched { reason } => panic!("unmatched: {reason}"),
        }
    }

    fn pair(invoice: &str, amount: &str) -> (String, String) {
        (invoice.to_owned(), amount.to_owned())
    }

    fn reason(decision: Decision) -> String {
        match decision {
            Decision::Unmatched { reason } => reason,
            matched => panic!("matched: {matched:?}"),
        }
    }

    fn outstanding(book: &Book, who: &str) -> Vec<(String, String)> {
        book.open_of(&person(who))
            .into_iter()
            .map(|v| (v.invoice.to_string(), v.outstanding.format(2)))
            .collect()
    }

    const RF: &str = "RF18 5390 0754 7034";

    #[test]
    fn rf_references_are_checked_by_their_check_digits() {
        assert!(is_rf("RF18539007547034"));
        assert!(is_rf("RF18000000000539007547034"));
        assert!(!is_rf("RF19539007547034"), "wrong check digits");
        assert!(!is_rf("RF18"), "nothing after the check digits");
        assert!(!is_rf("RF1853900754703412345678901"), "longer than 25");
        assert!(!is_rf("INV-2024-001"));
    }

    #[test]
    fn a_credit_with_an_invoices_reference_pays_that_invoice() {
        let mut book = Book::new(
            vec![
                with_reference(
                    invoice("P-1", "INV-1", "100", "2024-05-01"),
                    "RF18539007547034",
                ),
                invoice("P-1", "INV-2", "100", "2024-05-02"),
            ],
            vec![],
        );
        let d = book.decide(&referenced("100", "RF18539007547034"));
        assert_eq!(paid(d, Rule::Reference), [pair("INV-1", "100.00")]);
        assert_eq!(outstanding(&book, "P-1"), [pair("INV-2", "100.00")]);
    }

    #[test]
    fn an_rf_reference_is_found_with_spaces_and_in_lower_case_on_either_side() {
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                RF,
            )],
            vec![],
        );
        let d = book.decide(&referenced("100", "rf18 5390 0754 7034"));
        assert_eq!(paid(d, Rule::Reference), [pair("INV-1", "100.00")]);
    }

    #[test]
    fn a_free_reference_written_with_other_spaces_is_not_taken_as_the_invoices_reference() {
        // Not an RF reference: only the credit's own spaces and case are set aside.
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "X-1", "100", "2024-05-01"),
                "AB 12 34",
            )],
            vec![],
        );
        assert_eq!(
            reason(book.decide(&referenced("100", "ab1234"))),
            "no reference, invoice number or known account"
        );
        let d = book.decide(&referenced("100", "AB12 34"));
        assert_eq!(reason(d), "no reference, invoice number or known account");
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "X-1", "100", "2024-05-01"),
                "ab1234",
            )],
            vec![],
        );
        let d = book.decide(&referenced("100", "AB 1234"));
        assert_eq!(paid(d, Rule::Reference), [pair("X-1", "100.00")]);
    }

    #[test]
    fn one_reference_on_invoices_of_two_people_is_left_unmatched() {
        let mut book = Book::new(
            vec![
                with_reference(invoice("P-1", "INV-1", "100", "2024-05-01"), RF),
                with_reference(invoice("P-2", "INV-2", "100", "2024-05-01"), RF),
            ],
            vec![],
        );
        assert_eq!(
            reason(book.decide(&referenced("200", RF))),
            "the reference RF18 5390 0754 7034 is on open invoices of different people \
             (INV-1 of P-1 and INV-2 of P-2)"
        );
    }

    #[test]
    fn one_reference_on_two_invoices_of_one_person_pays_them_oldest_first() {
        let mut book = Book::new(
            vec![
                with_reference(invoice("P-1", "INV-2", "50", "2024-05-20"), RF),
                with_reference(invoice("P-1", "INV-1", "100", "2024-05-01"), RF),
            ],
            vec![],
        );
        let d = book.decide(&referenced("120", RF));
        assert_eq!(
            paid(d, Rule::Reference),
            [pair("INV-1", "100.00"), pair("INV-2", "20.00")]
        );
        assert_eq!(outstanding(&book, "P-1"), [pair("INV-2", "30.00")]);
    }

    #[test]
    fn a_credit_smaller_than_the_invoice_pays_part_of_it_and_leaves_the_rest_open() {
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                RF,
            )],
            vec![],
        );
        assert_eq!(
            paid(book.decide(&referenced("40", RF)), Rule::Reference),
            [pair("INV-1", "40.00")]
        );
        assert_eq!(outstanding(&book, "P-1"), [pair("INV-1", "60.00")]);
        assert_eq!(
            paid(book.decide(&referenced("60", RF)), Rule::Reference),
            [pair("INV-1", "60.00")]
        );
        assert_eq!(outstanding(&book, "P-1"), []);
    }

    #[test]
    fn a_credit_larger_than_the_referenced_invoice_is_all_put_on_that_invoice() {
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                RF,
            )],
            vec![],
        );
        assert_eq!(
            paid(book.decide(&referenced("110", RF)), Rule::Reference),
            [pair("INV-1", "110.00")]
        );
        assert_eq!(outstanding(&book, "P-1"), []);
        assert_eq!(book.invoices[0].outstanding, Amount::ZERO);
    }

    #[test]
    fn a_second_credit_for_a_paid_invoice_on_the_same_statement_is_left_unmatched() {
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                RF,
            )],
            account("P-1"),
        );
        let first = referenced("100", RF);
        assert_eq!(
            paid(book.decide(&first), Rule::Reference),
            [pair("INV-1", "100.00")]
        );
        assert_eq!(reason(book.decide(&first)), "invoice INV-1 is already paid");
        assert_eq!(
            reason(book.decide(&described("100", "Invoice INV-1"))),
            "invoice INV-1 is already paid"
        );
        assert_eq!(
            reason(book.decide(&from_account("100", IBAN))),
            "the account is P-1's, who has no open invoices in EUR"
        );
    }

    #[test]
    fn an_invoice_given_with_nothing_outstanding_is_already_paid() {
        let mut book = Book::new(
            vec![invoice("P-1", "INV-2024-001", "0", "2024-05-01")],
            vec![],
        );
        assert_eq!(
            reason(book.decide(&described("10", "INV-2024-001"))),
            "invoice INV-2024-001 is already paid"
        );
    }

    #[test]
    fn a_credit_in_another_currency_than_the_named_invoice_is_left_unmatched() {
        let mut book = Book::new(
            vec![
                with_reference(invoice("P-1", "INV-7", "100", "2024-05-01"), RF),
                invoice("P-1", "INV-2024-008", "100", "2024-05-01"),
            ],
            account("P-1"),
        );
        let usd = |c: Credit| Credit {
            currency: Currency::parse("USD").unwrap(),
            ..c
        };
        assert_eq!(
            reason(book.decide(&usd(referenced("100", RF)))),
            "the payment is in USD, invoice INV-7 is in EUR"
        );
        assert_eq!(
            reason(book.decide(&usd(described("100", "INV-2024-008")))),
            "the payment is in USD, invoice INV-2024-008 is in EUR"
        );
        assert_eq!(
            reason(book.decide(&usd(from_account("100", IBAN)))),
            "the account is P-1's, who has no open invoices in USD"
        );
        assert_eq!(outstanding(&book, "P-1").len(), 2);
    }

    #[test]
    fn an_invoice_number_in_the_description_pays_that_invoice() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-2024-001", "100", "2024-05-01"),
                invoice("P-1", "INV-2024-0012", "100", "2024-05-01"),
            ],
            vec![],
        );
        let d = book.decide(&described("100", "Payment INV-2024-001 thanks"));
        assert_eq!(
            paid(d, Rule::InvoiceNumber),
            [pair("INV-2024-001", "100.00")]
        );
    }

    #[test]
    fn an_invoice_number_inside_a_longer_token_is_not_found() {
        let mut book = Book::new(
            vec![invoice("P-1", "INV-2024-001", "100", "2024-05-01")],
            vec![],
        );
        for text in [
            "INV-2024-0012",
            "XINV-2024-001",
            "INV-2024-001A",
            "INV-2024-00",
        ] {
            assert_eq!(
                reason(book.decide(&described("100", text))),
                "no reference, invoice number or known account",
                "{text}"
            );
        }
    }

    #[test]
    fn invoice_numbers_are_found_without_case_between_any_separators() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-2024-001", "100", "2024-05-01"),
                invoice("P-1", "INV-2024-002", "50", "2024-05-02"),
            ],
            vec![],
        );
        let d = book.decide(&described("150", "ref:inv-2024-001/INV-2024-002."));
        assert_eq!(
            paid(d, Rule::InvoiceNumber),
            [
                pair("INV-2024-001", "100.00"),
                pair("INV-2024-002", "50.00")
            ]
        );
    }

    #[test]
    fn a_free_reference_is_read_for_invoice_numbers() {
        let mut book = Book::new(
            vec![invoice("P-1", "20240017", "100", "2024-05-01")],
            vec![],
        );
        let d = book.decide(&referenced("100", "Rechnung 20240017"));
        assert_eq!(paid(d, Rule::InvoiceNumber), [pair("20240017", "100.00")]);
    }

    #[test]
    fn short_invoice_numbers_are_never_looked_for_in_the_description() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "123", "100", "2024-05-01"),
                invoice("P-1", "A-12", "100", "2024-05-01"),
            ],
            vec![],
        );
        let d = book.decide(&described("100", "Invoice 123 of 2024-05-01, A-12"));
        assert_eq!(reason(d), "no reference, invoice number or known account");
    }

    #[test]
    fn a_description_naming_invoices_of_two_people_pays_both_when_the_amount_is_their_sum() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1001", "100", "2024-05-01"),
                invoice("P-2", "INV-1002", "30", "2024-04-01"),
            ],
            vec![],
        );
        let d = book.decide(&described("130", "INV-1001 INV-1002"));
        assert_eq!(
            paid(d, Rule::InvoiceNumber),
            [pair("INV-1002", "30.00"), pair("INV-1001", "100.00")]
        );
    }

    #[test]
    fn a_description_naming_invoices_of_two_people_with_another_amount_is_left_unmatched() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1001", "100", "2024-05-01"),
                invoice("P-2", "INV-1002", "30", "2024-04-01"),
            ],
            vec![],
        );
        assert_eq!(
            reason(book.decide(&described("120", "INV-1001 INV-1002"))),
            "the description names invoices of different people (INV-1002 of P-2 and \
             INV-1001 of P-1) and 120.00 is not their sum of 130.00"
        );
    }

    #[test]
    fn a_description_naming_one_persons_invoices_pays_the_oldest_first_as_far_as_the_money_goes() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1003", "100", "2024-05-03"),
                invoice("P-1", "INV-1001", "100", "2024-05-01"),
                invoice("P-1", "INV-1002", "100", "2024-05-02"),
            ],
            vec![],
        );
        let d = book.decide(&described("150", "INV-1001, INV-1002 and INV-1003"));
        assert_eq!(
            paid(d, Rule::InvoiceNumber),
            [pair("INV-1001", "100.00"), pair("INV-1002", "50.00")]
        );
        assert_eq!(
            outstanding(&book, "P-1"),
            [pair("INV-1002", "50.00"), pair("INV-1003", "100.00")]
        );
    }

    #[test]
    fn a_description_paying_more_than_the_named_invoices_is_left_unmatched() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1001", "100", "2024-05-01"),
                invoice("P-1", "INV-1002", "1000", "2024-05-01"),
            ],
            vec![],
        );
        assert_eq!(
            reason(book.decide(&described("100.5", "INV-1001"))),
            "100.50 is more than the 100.00 still open on invoice INV-1001"
        );
        assert_eq!(
            reason(book.decide(&described("1234.5", "INV-1001 INV-1002"))),
            "1,234.50 is more than the 1,100.00 still open on invoices INV-1001 and INV-1002"
        );
    }

    #[test]
    fn the_reference_comes_before_the_invoice_number_and_the_account() {
        let mut book = Book::new(
            vec![
                with_reference(invoice("P-1", "INV-1001", "100", "2024-05-01"), RF),
                invoice("P-1", "INV-1002", "100", "2024-05-02"),
            ],
            account("P-1"),
        );
        let c = Credit {
            text: Some("INV-1002".to_owned()),
            iban: Some(IBAN.to_owned()),
            ..referenced("100", RF)
        };
        assert_eq!(
            paid(book.decide(&c), Rule::Reference),
            [pair("INV-1001", "100.00")]
        );
        let c = Credit {
            reference: None,
            ..c
        };
        assert_eq!(
            paid(book.decide(&c), Rule::InvoiceNumber),
            [pair("INV-1002", "100.00")]
        );
    }

    #[test]
    fn a_known_account_and_the_amount_of_one_open_invoice_pays_it() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                invoice("P-1", "INV-2", "80", "2024-05-02"),
            ],
            account("P-1"),
        );
        let d = book.decide(&from_account("80", "de89 3704 0044 0532 0130 00"));
        assert_eq!(paid(d, Rule::AccountAndAmount), [pair("INV-2", "80.00")]);
    }

    #[test]
    fn a_known_account_and_the_sum_of_exactly_one_combination_pays_those_invoices() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-3", "40", "2024-05-03"),
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                invoice("P-1", "INV-2", "25", "2024-05-02"),
            ],
            account("P-1"),
        );
        let d = book.decide(&from_account("140", IBAN));
        assert_eq!(
            paid(d, Rule::AccountAndCombination),
            [pair("INV-1", "100.00"), pair("INV-3", "40.00")]
        );
        assert_eq!(outstanding(&book, "P-1"), [pair("INV-2", "25.00")]);
    }

    #[test]
    fn two_combinations_with_the_same_sum_leave_the_credit_unmatched() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                invoice("P-1", "INV-2", "50", "2024-05-02"),
                invoice("P-1", "INV-3", "70", "2024-05-03"),
                invoice("P-1", "INV-4", "80", "2024-05-04"),
            ],
            account("P-1"),
        );
        assert_eq!(
            reason(book.decide(&from_account("150", IBAN))),
            "several combinations of open invoices add up to 150.00"
        );
        assert_eq!(outstanding(&book, "P-1").len(), 4);
    }

    #[test]
    fn two_open_invoices_of_the_same_amount_for_an_account_leave_the_credit_unmatched() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                invoice("P-1", "INV-2", "100", "2024-05-02"),
            ],
            account("P-1"),
        );
        assert_eq!(
            reason(book.decide(&from_account("100", IBAN))),
            "two open invoices of 100.00 for this account (INV-1 and INV-2)"
        );
    }

    #[test]
    fn an_account_known_for_two_people_is_left_unmatched() {
        let mut book = Book::new(
            vec![invoice("P-1", "INV-1", "100", "2024-05-01")],
            vec![
                (IBAN.to_owned(), person("P-1")),
                (IBAN.to_owned(), person("P-2")),
                (IBAN.to_owned(), person("P-1")),
            ],
        );
        assert_eq!(
            reason(book.decide(&from_account("100", IBAN))),
            "this account is known for two people (P-1 and P-2)"
        );
    }

    #[test]
    fn an_account_with_no_equal_amount_is_not_guessed_as_a_partial_payment() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                invoice("P-1", "INV-2", "30", "2024-05-01"),
            ],
            account("P-1"),
        );
        assert_eq!(
            reason(book.decide(&from_account("60", IBAN))),
            "no open invoice of P-1's in EUR, alone or together with others, comes to 60.00"
        );
    }

    #[test]
    fn an_account_with_more_than_sixteen_open_invoices_is_not_tried_for_combinations() {
        let many: Vec<OpenInvoice> = (1..=17)
            .map(|n| invoice("P-1", &format!("INV-{n}"), "10", "2024-05-01"))
            .collect();
        let mut book = Book::new(many, account("P-1"));
        assert_eq!(
            reason(book.decide(&from_account("20", IBAN))),
            "the account is P-1's, who has 17 open invoices in EUR: too many to find which \
             add up to 20.00"
        );
    }

    #[test]
    fn sixteen_open_invoices_are_tried_for_one_combination() {
        let mut many: Vec<OpenInvoice> = (0..15)
            .map(|n| {
                invoice(
                    "P-1",
                    &format!("INV-{n}"),
                    &format!("{}", 1 << n),
                    "2024-05-01",
                )
            })
            .collect();
        many.push(invoice("P-1", "INV-X", "0.01", "2024-05-02"));
        let mut book = Book::new(many, account("P-1"));
        let d = book.decide(&from_account("32767.01", IBAN));
        assert_eq!(paid(d, Rule::AccountAndCombination).len(), 16);
    }

    #[test]
    fn zero_and_negative_amounts_are_not_money_received() {
        let mut book = Book::new(
            vec![with_reference(
                invoice("P-1", "INV-1", "100", "2024-05-01"),
                RF,
            )],
            vec![],
        );
        assert_eq!(
            reason(book.decide(&referenced("0", RF))),
            "not money received"
        );
        assert_eq!(
            reason(book.decide(&referenced("-100", RF))),
            "not money received"
        );
    }

    #[test]
    fn a_credit_with_no_clue_is_left_unmatched_with_that_reason() {
        let mut book = Book::new(
            vec![invoice("P-1", "INV-1001", "100", "2024-05-01")],
            account("P-1"),
        );
        let c = Credit {
            text: Some("Thank you".to_owned()),
            iban: Some("FR7630006000011234567890189".to_owned()),
            ..credit("100")
        };
        assert_eq!(
            reason(book.decide(&c)),
            "no reference, invoice number or known account"
        );
        assert_eq!(
            reason(book.decide(&referenced("100", RF))),
            "the reference RF18 5390 0754 7034 is on no invoice, and there is no invoice \
             number or known account"
        );
    }

    #[test]
    fn reasons_write_amounts_grouped_with_the_currencys_decimals() {
        let mut book = Book::new(
            vec![in_currency(
                invoice("P-1", "INV-1001", "1000", "2024-05-01"),
                "JPY",
            )],
            vec![],
        );
        let c = Credit {
            currency: Currency::parse("JPY").unwrap(),
            ..described("1234", "INV-1001")
        };
        assert_eq!(
            reason(book.decide(&c)),
            "1,234 is more than the 1,000 still open on invoice INV-1001"
        );
    }

    #[test]
    fn open_of_lists_a_persons_open_invoices_oldest_due_first_without_paid_ones() {
        let mut book = Book::new(
            vec![
                invoice("P-1", "INV-3", "30", "2024-05-03"),
                invoice("P-1", "INV-1", "10", "2024-05-01"),
                invoice("P-2", "INV-9", "10", "2024-04-01"),
                invoice("P-1", "INV-2", "20", "2024-05-02"),
            ],
            account("P-1"),
        );
        assert_eq!(
            paid(
                book.decide(&from_account("20", IBAN)),
                Rule::AccountAndAmount
            ),
            [pair("INV-2", "20.00")]
        );
        assert_eq!(
            outstanding(&book, "P-1"),
            [pair("INV-1", "10.00"), pair("INV-3", "30.00")]
        );
        assert_eq!(outstanding(&book, "P-3"), []);
    }

    fn arbitrary_book() -> impl Strategy<Value = (Vec<OpenInvoice>, Vec<(String, PersonId)>)> {
        let one = (
            0..4usize,
            0..12usize,
            prop_oneof![Just("EUR"), Just("USD")],
            -50i64..5_000,
            0..60i32,
            proptest::option::of(0..4usize),
        )
            .prop_map(
                |(who, number, currency, cents, due, reference)| OpenInvoice {
                    person: person(&format!("P-{who}")),
                    invoice: Ref::parse(&format!("INV-{number:04}")).unwrap(),
                    currency: Currency::parse(currency).unwrap(),
                    outstanding: Amount::from_ten_thousandths(cents * 100),
                    due: Day::from_days(19_800 + due),
                    reference: reference.map(|r| format!("REF{r}")),
                },
            );
        let accounts = proptest::collection::vec((0..3usize, 0..4usize), 0..5).prop_map(|v| {
            v.into_iter()
                .map(|(iban, who)| (format!("IBAN{iban}"), person(&format!("P-{who}"))))
                .collect()
        });
        // One invoice per (person, number): a ledger never has two.
        let invoices = proptest::collection::vec(one, 0..20).prop_map(|mut v| {
            let mut seen = std::collections::HashSet::new();
            v.retain(|i| seen.insert((i.person.clone(), i.invoice.clone())));
            v
        });
        (invoices, accounts)
    }

    fn arbitrary_credit() -> impl Strategy<Value = Credit> {
        (
            -100i64..12_000,
            prop_oneof![Just("EUR"), Just("USD")],
            proptest::option::of(0..4usize),
            proptest::option::of(0..5usize),
            proptest::option::of(proptest::collection::vec(0..14usize, 0..4)),
        )
            .prop_map(|(cents, currency, iban, reference, numbers)| Credit {
                booked: Day::from_days(19_900),
                amount: Amount::from_ten_thousandths(cents * 100),
                currency: Currency::parse(currency).unwrap(),
                iban: iban.map(|i| format!("iban {i}")),
                reference: reference.map(|r| format!("ref {r}")),
                text: numbers.map(|ns| {
                    ns.iter()
                        .map(|n| format!("inv-{n:04}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            })
    }

    proptest! {
        #[test]
        fn decisions_never_pay_more_than_was_received_nor_leave_an_outstanding_negative(
            (invoices, accounts) in arbitrary_book(),
            credits in proptest::collection::vec(arbitrary_credit(), 0..12),
        ) {
            let mut book = Book::new(invoices, accounts);
            for credit in &credits {
                let before: Vec<Amount> = book.invoices.iter().map(|v| v.outstanding).collect();
                let decision = book.decide(credit);
                if let Decision::Matched { rule, to } = &decision {
                    prop_assert!(!to.is_empty());
                    let sum: i128 = to.iter().map(|a| i128::from(a.amount.ten_thousandths())).sum();
                    prop_assert!(sum <= i128::from(credit.amount.ten_thousandths()));
                    for a in to {
                        prop_assert!(a.amount > Amount::ZERO);
                        let i = book
                            .invoices
                            .iter()
                            .position(|v| v.invoice == a.invoice && v.person == a.person)
                            .unwrap();
                        prop_assert_eq!(book.invoices[i].currency, credit.currency);
                        // Only a lone invoice paid by its reference may be paid over.
                        let overpaid = *rule == Rule::Reference && to.len() == 1;
                        prop_assert!(overpaid || a.amount <= before[i], "{decision:?}");
                    }
                }
                prop_assert!(book.invoices.iter().all(|v| !v.outstanding.is_negative()));
                for (v, was) in book.invoices.iter().zip(&before) {
                    prop_assert!(v.outstanding <= *was);
                }
            }
        }

        #[test]
        fn deciding_never_panics_on_any_text(
            reference in proptest::option::of(".{0,40}"),
            text in proptest::option::of(".{0,80}"),
            iban in proptest::option::of(".{0,30}"),
            cents in proptest::prelude::any::<i64>(),
        ) {
            let mut book = Book::new(
                vec![
                    with_reference(invoice("P-1", "INV-2024-001", "100", "2024-05-01"), RF),
                    invoice("P-1", "ß-ÆØÅ-1", "100", "2024-05-01"),
                ],
                account("P-1"),
            );
            let credit = Credit {
                amount: Amount::from_ten_thousandths(cents),
                reference,
                text,
                iban,
                ..credit("0")
            };
            let _ = book.decide(&credit);
        }
    }

    /// `cargo test -p rapport-import --release --lib matching -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing, to run in release"]
    fn a_hundred_thousand_credits_are_matched_against_a_hundred_thousand_invoices_quickly() {
        const N: usize = 100_000;
        let invoices: Vec<OpenInvoice> = (0..N)
            .map(|n| {
                let mut v = invoice(
                    &format!("P-{}", n / 4),
                    &format!("INV-2024-{n:06}"),
                    &format!("{}.{:02}", 10 + n % 900, n % 100),
                    "2024-05-01",
                );
                if n % 3 == 0 {
                    v.reference = Some(format!("RF-{n:08}"));
                }
                v
            })
            .collect();
        let accounts: Vec<(String, PersonId)> = (0..N / 4)
            .map(|p| (format!("DE00{p:018}"), person(&format!("P-{p}"))))
            .collect();
        let credits: Vec<Credit> = (0..N)
            .map(|n| {
                let amount = format!("{}.{:02}", 10 + n % 900, n % 100);
                match n % 3 {
                    0 => referenced(&amount, &format!("rf-{n:08}")),
                    1 => described(
                        &amount,
                        &format!("Payment for invoice INV-2024-{n:06} of 2024-05-01, thanks"),
                    ),
                    _ => Credit {
                        text: Some("Monthly payment, customer 12345".to_owned()),
                        ..from_account(&amount, &format!("DE00 {:018}", n / 4))
                    },
                }
            })
            .collect();
        let start = std::time::Instant::now();
        let mut book = Book::new(invoices, accounts);
        let built = start.elapsed();
        let start = std::time::Instant::now();
        let matched = credits
            .iter()
            .filter(|c| matches!(book.decide(c), Decision::Matched { .. }))
            .count();
        let decided = start.elapsed();
        println!(
            "Book::new for {N} invoices: {built:?}; {N} decisions: {decided:?}; {matched} matched"
        );
        assert_eq!(matched, N);
    }
}
