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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
        match self {
            Rule::Reference => "by its payment reference",
            Rule::InvoiceNumber => "by the invoice number in the description",
            Rule::AccountAndAmount => "by the payer's account and the amount",
            Rule::AccountAndCombination => "by the payer's account and the sum of invoices",
            Rule::ByHand => "by hand",
        }
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
        let mut book = Book {
            invoices: Vec::with_capacity(invoices.len()),
            ..Book::default()
        };
        for (i, mut invoice) in invoices.into_iter().enumerate() {
            if invoice.outstanding.is_negative() {
                invoice.outstanding = Amount::ZERO;
            }
            if let Some(key) = invoice.reference.as_deref().map(compact) {
                if !key.is_empty() {
                    book.by_reference.entry(key).or_default().push(i);
                }
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
        if !rf {
            if let Some(text) = &credit.reference {
                self.numbers_in(text, &mut named);
            }
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
    Some((key.to_owned(), runs(key).len()))
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
