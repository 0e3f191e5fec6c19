//! One generated person: their latent traits and the history that follows from them.
//!
//! There are no segments here. Every person draws a handful of continuous propensities —
//! how punctually they pay, how much they lean on the service desk, how warmly they speak
//! of the business, and how much care the business gives them back — and every event is
//! drawn from those, so each reading varies smoothly across people, as it does in life.
//! The building blocks (`purchase`, `contact`, `incident`, …) take explicit plans so the
//! curated showcase people can be written with the same code.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::line::Lines;
use crate::time::{DAY, HOUR};
use crate::words::{self, ORIGINS};

/// Everything fixed for one run.
pub struct Ctx {
    pub seed: u64,
    pub people: u64,
    /// Digits in a person id.
    pub width: usize,
    /// The demo's "now", in seconds: every event lies before it.
    pub end: i64,
    /// Days of history.
    pub span_days: i64,
}

/// SplitMix64: a strong, cheap mix of 64 bits, for deriving per-person seeds.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// What anyone may know of person `idx` without generating them: when they first appear
/// and whether they ever buy. Referrals use it to point at people who really buy later.
pub fn profile(ctx: &Ctx, idx: u64) -> (i64, bool) {
    if let Some(start) = crate::showcase::start(ctx, idx) {
        return (start, true);
    }
    let h = mix(ctx.seed ^ mix(idx.wrapping_add(0x5eed)));
    let u = unit(h);
    let first = ctx.end - ctx.span_days * DAY;
    let room = ctx.span_days - 14;
    // A third were already there when the history begins; the rest arrive over time.
    let day = if u < 0.33 {
        (u / 0.33 * 45.0) as i64
    } else {
        ((u - 0.33) / 0.67 * room as f64) as i64
    };
    let secs = (mix(h) % DAY as u64) as i64;
    (first + day.min(room) * DAY + secs, (h & 0xff) < 232)
}

/// A currency and how to turn euro cents into its minor units.
#[derive(Clone, Copy)]
pub struct Cur {
    pub code: &'static str,
    pub decimals: u8,
    pub per_cent: f64,
}

pub const EUR: Cur = Cur {
    code: "EUR",
    decimals: 2,
    per_cent: 1.0,
};
pub const USD: Cur = Cur {
    code: "USD",
    decimals: 2,
    per_cent: 1.08,
};
pub const GBP: Cur = Cur {
    code: "GBP",
    decimals: 2,
    per_cent: 0.86,
};
pub const JPY: Cur = Cur {
    code: "JPY",
    decimals: 0,
    per_cent: 1.62,
};

/// The latent propensities of one person (and of the business towards them).
#[derive(Clone, Copy, Debug)]
pub struct Traits {
    /// Chance an invoice is paid by its due date.
    pub punctual: f64,
    /// Mean days late when late.
    pub late_mean: f64,
    /// Chance an invoice is never paid.
    pub forgets: f64,
    /// Chance an invoice is paid in parts.
    pub instalments: f64,
    /// Chance an invoice is disputed.
    pub friction: f64,
    /// Contacts opened per month.
    pub desk: f64,
    /// 0..1: how much they recommend and praise the business.
    pub advocacy: f64,
    /// 0..1: the business's care for them (fast, personal answers, apologies, promises).
    pub care: f64,
    /// Orders per month while active.
    pub buy_rate: f64,
    /// Chance of quietly stopping after each order.
    pub dropout: f64,
    /// Orders are invoiced (rather than paid at checkout).
    pub invoiced: bool,
    /// Chance something goes wrong with an order.
    pub incident: f64,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Traits {
    fn draw(rng: &mut ChaCha8Rng) -> Traits {
        let punctual = logistic(1.5 + 1.8 * normal(rng));
        let care = logistic(1.0 + 1.3 * normal(rng));
        Traits {
            punctual,
            late_mean: 2.0 + 35.0 * (1.0 - punctual) * (0.5 * normal(rng)).exp(),
            forgets: 0.25 * (1.0 - punctual).powi(3),
            instalments: if rng.random_bool(0.1) {
                0.2 + 0.6 * rng.random::<f64>()
            } else {
                0.0
            },
            friction: (0.025 * (0.9 * normal(rng)).exp()).min(0.6),
            desk: (0.02 * (1.1 * normal(rng)).exp()).min(8.0),
            advocacy: logistic(-0.5 + 1.5 * normal(rng)),
            care,
            buy_rate: 0.035 * (0.9 * normal(rng)).exp(),
            dropout: 0.02 + 0.2 * rng.random::<f64>().powi(2),
            invoiced: rng.random_bool(0.8),
            incident: 0.05 * (1.6 - care),
        }
    }

    /// A steady, ordinary person: the base the showcase people adjust.
    pub fn ordinary() -> Traits {
        Traits {
            punctual: 0.9,
            late_mean: 5.0,
            forgets: 0.0,
            instalments: 0.0,
            friction: 0.0,
            desk: 0.05,
            advocacy: 0.5,
            care: 0.8,
            buy_rate: 0.8,
            dropout: 0.0,
            invoiced: true,
            incident: 0.0,
        }
    }
}

pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        return (mean + mean.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p: f64 = rng.random();
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

pub fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A text in `lang`, or in English when there is none in that language.
pub fn in_lang(rng: &mut ChaCha8Rng, items: &[(&str, &'static str)], lang: &str) -> &'static str {
    let lang = if items.iter().any(|(l, _)| *l == lang) {
        lang
    } else {
        "en"
    };
    let n = items.iter().filter(|(l, _)| *l == lang).count().max(1);
    let k = rng.random_range(0..n);
    items
        .iter()
        .filter(|(l, _)| *l == lang)
        .nth(k)
        .map_or("", |(_, t)| t)
}

/// How an invoice gets paid.
#[derive(Clone, Copy, Debug)]
pub enum Pay {
    /// From the person's traits.
    Draw,
    OnTime,
    /// This many days after the due date.
    Late(i64),
    Never,
    /// In this many parts, the first on time, the rest weeks apart.
    Instalments(u32),
    /// Disputed; resolved with this outcome (or still open), then paid.
    Dispute(Option<&'static str>),
    /// Paid on time, but naming the order number instead of the invoice.
    UnknownRef,
}

/// Whether and how a contact gets answered.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Draw,
    Never,
    /// After this many seconds; scripted or personal.
    After(i64, bool),
}

/// Whether a promise gets kept.
#[derive(Clone, Copy, Debug)]
pub enum Kept {
    Draw,
    OnTime,
    Late(i64),
    Never,
}

/// The generator, reused person after person so its buffers are allocated once.
pub struct Gen<'a> {
    pub ctx: &'a Ctx,
    pub lines: Lines,
    pub rng: ChaCha8Rng,
    pub idx: u64,
    n: u32,
    pub start: i64,
    /// When the person stops doing business (the end of the demo, or when they leave).
    pub stop: i64,
    pub traits: Traits,
    pub cur: Cur,
    pub lang: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub female: bool,
    phone: (&'static str, u32),
    /// How answers address them.
    addr: String,
    scratch: String,
    /// Why they left, if they did (written at `stop`).
    pub leaving: Option<&'static str>,
    /// Orders placed so far.
    pub orders: u32,
    /// Incidents without an apology so far.
    pub unapologised: u32,
}

impl<'a> Gen<'a> {
    pub fn new(ctx: &'a Ctx) -> Gen<'a> {
        Gen {
            ctx,
            lines: Lines::new(
                (ctx.end - ctx.span_days * DAY).div_euclid(DAY) - 1,
                ctx.end.div_euclid(DAY) + 400,
            ),
            rng: ChaCha8Rng::seed_from_u64(ctx.seed),
            idx: 0,
            n: 0,
            start: 0,
            stop: 0,
            traits: Traits::ordinary(),
            cur: EUR,
            lang: "nl",
            first: "",
            last: "",
            female: false,
            phone: ("+31 6 ", 8),
            addr: String::with_capacity(64),
            scratch: String::with_capacity(128),
            leaving: None,
            orders: 0,
            unapologised: 0,
        }
    }

    /// Generates every event of person `idx` into `self.lines`.
    pub fn person(&mut self, idx: u64) {
        self.idx = idx;
        self.n = 0;
        self.lines.reset(idx, self.ctx.width);
        self.rng = ChaCha8Rng::seed_from_u64(mix(self.ctx.seed ^ mix(idx)));
        let (start, buyer) = profile(self.ctx, idx);
        self.start = start;
        self.stop = self.ctx.end;
        self.leaving = None;
        self.orders = 0;
        self.unapologised = 0;
        if !crate::showcase::life(self) {
            self.ordinary_life(buyer);
            self.subscription();
        }
    }

    /// Every seventh ordinary person holds a monthly subscription from their first day; some
    /// cancel it, some renew a yearly plan by hand. Chosen by number, not by a draw, and
    /// written after everything else, so the rest of the demo comes out as before.
    fn subscription(&mut self) {
        if !self.idx.is_multiple_of(7) {
            return;
        }
        let start = self.start + HOUR;
        if start >= self.ctx.end {
            return;
        }
        let yearly = self.idx.is_multiple_of(5);
        let n = self.next();
        self.lines
            .begin("billing", "sub", n, "contract.started", start);
        self.lines.reference("contract", "SUB-", n);
        self.lines
            .str("period", if yearly { "year" } else { "month" });
        self.lines
            .str("plan", if yearly { "membership" } else { "coffee-box" });
        let d = self.cur.decimals;
        let price = if yearly { 5_900 } else { 1_250 } * 10i64.pow(u32::from(d)) / 100;
        self.lines.amount("amount", price, d);
        self.lines.str("currency", self.cur.code);
        self.lines.end();
        let contract = n;
        if yearly && start + 365 * DAY < self.ctx.end {
            let r = self.next();
            self.lines
                .begin("billing", "ren", r, "contract.renewed", start + 365 * DAY);
            self.lines.reference("contract", "SUB-", contract);
            self.lines.end();
        }
        let leaves = if yearly { 3 } else { 2 };
        if self.idx.is_multiple_of(leaves) {
            let at = start + (40 + (self.idx % 300) as i64) * DAY;
            if at < self.ctx.end {
                let c = self.next();
                self.lines
                    .begin("billing", "end", c, "contract.cancelled", at);
                self.lines.reference("contract", "SUB-", contract);
                self.lines.str("reason", "price");
                self.lines.end();
            }
        }
    }

    fn next(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    /// A uniform moment in `[lo, hi)`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        self.rng.random_range(lo..hi)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// Picks a random identity from the name lists.
    pub fn random_identity(&mut self) {
        let total: u32 = ORIGINS.iter().map(|o| o.weight).sum();
        let mut w = self.rng.random_range(0..total);
        let mut origin = &ORIGINS[0];
        for o in ORIGINS {
            if w < o.weight {
                origin = o;
                break;
            }
            w -= o.weight;
        }
        self.female = self.rng.random_bool(0.5);
        self.first = if self.female {
            *pick(&mut self.rng, origin.female)
        } else {
            *pick(&mut self.rng, origin.male)
        };
        self.last = *pick(&mut self.rng, origin.last);
        let l = self.rng.random_range(0..100);
        self.lang = origin
            .languages
            .iter()
            .find(|(_, c)| l < *c)
            .map_or("en", |(lang, _)| lang);
        self.phone = origin.phone;
        self.cur = match self.rng.random_range(0..100) {
            0..=85 => EUR,
            86..=90 => USD,
            91..=95 => GBP,
            _ => JPY,
        };
    }

    pub fn set_identity(&mut self, first: &'static str, last: &'static str, female: bool) {
        self.first = first;
        self.last = last;
        self.female = female;
    }

    pub fn set_language(&mut self, lang: &'static str, phone: (&'static str, u32)) {
        self.lang = lang;
        self.phone = phone;
    }

    /// `person.identified`: name, e-mail derived from it, maybe a phone and a form of address.
    /// `address`: 0 none, 1 first name, 2 formal.
    pub fn identified(&mut self, at: i64, with_phone: bool, address: u8) {
        let n = self.next();
        self.lines.begin("crm", "p", n, "person.identified", at);
        self.lines.parts("name", &[self.first, " ", self.last]);
        self.scratch.clear();
        words::fold_into(&mut self.scratch, self.first);
        self.scratch.push('.');
        words::fold_into(&mut self.scratch, self.last);
        if self.rng.random_bool(0.4) {
            crate::line::push_padded(&mut self.scratch, self.idx % 997, 1);
        }
        self.scratch.push('@');
        self.scratch
            .push_str(pick::<&str>(&mut self.rng, words::MAIL_DOMAINS));
        self.lines.str("email", &self.scratch);
        if with_phone {
            self.scratch.clear();
            self.scratch.push_str(self.phone.0);
            for i in 0..self.phone.1 {
                if i == 4 && self.phone.1 == 8 {
                    self.scratch.push(' ');
                }
                let d = self.rng.random_range(0..10u8);
                self.scratch.push(char::from(b'0' + d));
            }
            self.lines.str("phone", &self.scratch);
        }
        self.lines.str("language", self.lang);
        self.addr.clear();
        match address {
            1 => {
                self.addr.push_str(self.first);
                self.lines.str("address_as", self.first);
            }
            2 => {
                self.formal_address();
                self.lines.str("address_as", &self.addr);
            }
            _ => self.addr.push_str(self.first),
        }
        if self.rng.random_bool(0.08) {
            self.scratch.clear();
            self.scratch.push_str("org-");
            crate::line::push_padded(&mut self.scratch, self.rng.random_range(0..5000), 4);
            self.lines.str("org", &self.scratch);
        }
        self.lines.end();
    }

    fn formal_address(&mut self) {
        let f = self.female;
        let (title, name) = match self.lang {
            "nl" => (if f { "mevrouw " } else { "meneer " }, self.last),
            "de" => (if f { "Frau " } else { "Herr " }, self.last),
            "fr" => (if f { "Madame " } else { "Monsieur " }, self.last),
            "pl" => (if f { "Pani " } else { "Pan " }, self.first),
            "id" => (if f { "Ibu " } else { "Bapak " }, self.first),
            "tr" => {
                self.addr.push_str(self.first);
                self.addr.push_str(if f { " Hanım" } else { " Bey" });
                return;
            }
            _ => (if f { "Ms " } else { "Mr " }, self.last),
        };
        self.addr.push_str(title);
        let mut chars = name.chars();
        if let Some(c) = chars.next() {
            self.addr.extend(c.to_uppercase());
            self.addr.push_str(chars.as_str());
        }
    }

    fn amount_of(&self, cents: i64) -> i64 {
        let minor = cents as f64 * self.cur.per_cent;
        if self.cur.decimals == 0 {
            // Yen prices end in tens.
            ((minor / 10.0).round() * 10.0) as i64
        } else {
            minor.round() as i64
        }
    }

    /// An order, its invoice (for invoiced people) and the payments `pay` describes.
    /// Returns the invoice number, if one was issued.
    pub fn purchase(&mut self, at: i64, pay: Pay) -> Option<u32> {
        let order = self.next();
        let k =
            1 + usize::from(self.rng.random_bool(0.35)) + usize::from(self.rng.random_bool(0.15));
        let mut items: [(&str, i64, i64); 3] = [("", 0, 0); 3];
        let mut total = 0;
        for item in items.iter_mut().take(k) {
            let (product, cents) = *pick(&mut self.rng, words::PRODUCTS);
            let qty = 1 + i64::from(self.rng.random_range(0..10u8) / 6);
            let unit = self.amount_of(cents);
            *item = (product, qty, unit);
            total += qty * unit;
        }
        let d = self.cur.decimals;
        self.lines.begin("shop", "ord", order, "order.placed", at);
        self.lines.reference("order", "ORD-", order);
        self.lines.amount("amount", total, d);
        self.lines.str("currency", self.cur.code);
        self.lines.order_lines(&items[..k], d);
        self.lines.end();
        self.orders += 1;
        if self.chance(0.04) {
            let when = at + self.between(3 * DAY, 20 * DAY);
            if when < self.ctx.end {
                let (product, _, unit) = items[0];
                let n = self.next();
                self.lines.begin("shop", "ret", n, "order.returned", when);
                self.lines.reference("order", "ORD-", order);
                self.lines.amount("amount", unit, d);
                self.lines.str("currency", self.cur.code);
                self.lines.order_lines(&[(product, -1, unit)], d);
                self.lines.end();
            }
        }
        if !self.traits.invoiced {
            return None;
        }
        let issued = at + self.between(HOUR, 30 * HOUR);
        if issued >= self.ctx.end {
            return None;
        }
        let inv = self.next();
        let terms = if self.chance(0.7) { 14 } else { 30 };
        let due_day = issued.div_euclid(DAY) + terms;
        self.lines.begin("ar", "inv", inv, "invoice.issued", issued);
        self.lines.reference("invoice", "INV-", inv);
        self.lines.amount("amount", total, d);
        self.lines.str("currency", self.cur.code);
        self.lines.date("due", due_day);
        self.lines.end();
        // Now and then a credit note takes a tenth off the next day (a price corrected), and
        // the person pays what is left. Chosen by the invoice's number, not by a draw, so the
        // rest of the demo comes out as before.
        let mut owed = total;
        let credit = total / 10;
        if inv.is_multiple_of(53) && credit > 0 && issued + DAY < self.ctx.end {
            let n = self.next();
            self.lines
                .begin("ar", "cn", n, "invoice.corrected", issued + DAY);
            self.lines.reference("invoice", "INV-", inv);
            self.lines.amount("amount", credit, d);
            self.lines.str("currency", self.cur.code);
            self.lines.end();
            owed -= credit;
        }
        let pay = match pay {
            Pay::Draw => self.draw_pay(),
            p => p,
        };
        self.settle(inv, order, owed, issued, due_day, pay);
        Some(inv)
    }

    fn draw_pay(&mut self) -> Pay {
        let t = self.traits;
        if self.chance(t.friction) {
            let o = match self.rng.random_range(0..10) {
                0..=2 => Some("upheld"),
                3..=5 => Some("rejected"),
                6..=8 => Some("settled"),
                _ => None,
            };
            return Pay::Dispute(o);
        }
        if self.chance(t.forgets) {
            return Pay::Never;
        }
        if self.chance(0.004) {
            return Pay::UnknownRef;
        }
        if self.chance(t.instalments) {
            return Pay::Instalments(2 + u32::from(self.rng.random_bool(0.4)));
        }
        if self.chance(t.punctual) {
            Pay::OnTime
        } else {
            let mean = t.late_mean;
            let late = 1.0 + (-mean * (1.0 - self.rng.random::<f64>()).ln());
            Pay::Late(late.min(365.0) as i64)
        }
    }

    fn payment(&mut self, at: i64, prefix: &str, n: u32, amount: i64) {
        if at >= self.ctx.end {
            return;
        }
        let id = self.next();
        self.lines.begin("bank", "pay", id, "payment.received", at);
        self.lines.reference("invoice", prefix, n);
        self.lines.amount("amount", amount, self.cur.decimals);
        self.lines.str("currency", self.cur.code);
        self.lines.end();
    }

    fn settle(&mut self, inv: u32, order: u32, total: i64, issued: i64, due_day: i64, pay: Pay) {
        let due_end = due_day * DAY + 20 * HOUR;
        match pay {
            Pay::Draw | Pay::OnTime => {
                let at = self.between(issued + HOUR, due_end);
                self.payment(at, "INV-", inv, total);
            }
            Pay::Late(days) => {
                let at = (due_day + days.max(1)) * DAY + self.between(7 * HOUR, 22 * HOUR);
                self.payment(at, "INV-", inv, total);
            }
            Pay::Never => {}
            Pay::UnknownRef => {
                let at = self.between(issued + HOUR, due_end);
                self.payment(at, "ORD-", order, total);
            }
            Pay::Instalments(parts) => {
                let parts = i64::from(parts.max(1));
                let share = total / parts;
                let mut at = self.between(issued + HOUR, due_end);
                for i in 0..parts {
                    let amount = if i == parts - 1 {
                        total - share * (parts - 1)
                    } else {
                        share
                    };
                    self.payment(at, "INV-", inv, amount);
                    at += self.between(10 * DAY, 35 * DAY);
                }
            }
            Pay::Dispute(outcome) => {
                let at = issued + self.between(DAY, 8 * DAY);
                if at >= self.ctx.end {
                    return;
                }
                let n = self.next();
                let reason = *pick(&mut self.rng, words::DISPUTE_REASONS);
                self.lines.begin("ar", "dis", n, "invoice.disputed", at);
                self.lines.reference("invoice", "INV-", inv);
                self.lines.str("reason", reason);
                self.lines.end();
                let Some(outcome) = outcome else { return };
                let resolved = at + self.between(2 * DAY, 25 * DAY);
                if resolved >= self.ctx.end {
                    return;
                }
                let n = self.next();
                self.lines
                    .begin("ar", "res", n, "dispute.resolved", resolved);
                self.lines.reference("invoice", "INV-", inv);
                self.lines.str("outcome", outcome);
                self.lines.end();
                let paid = resolved + self.between(HOUR, 6 * DAY);
                self.payment(paid, "INV-", inv, total);
            }
        }
    }

    /// A contact the person opens, and what the business does with it. Returns when it
    /// was answered, if it was.
    pub fn contact(&mut self, at: i64, caused_by: Option<u32>, answer: Answer) -> Option<i64> {
        let c = self.next();
        let channel = *pick(&mut self.rng, &words::CHANNELS[..4]);
        let (topic, question) = if caused_by.is_some() {
            (
                0,
                in_lang(&mut self.rng, words::INCIDENT_QUESTIONS, self.lang),
            )
        } else {
            let lang = if words::QUESTIONS.iter().any(|q| q.1 == self.lang) {
                self.lang
            } else {
                "en"
            };
            let count = words::QUESTIONS.iter().filter(|q| q.1 == lang).count();
            let k = self.rng.random_range(0..count);
            words::QUESTIONS
                .iter()
                .filter(|q| q.1 == lang)
                .nth(k)
                .map_or((0, ""), |q| (q.0, q.2))
        };
        self.lines.begin("desk", "msg", c, "contact.opened", at);
        self.lines.reference("contact", "T-", c);
        self.lines.str("channel", channel);
        self.lines.str("topic", words::TOPICS[topic]);
        self.lines.str("text", question);
        if let Some(i) = caused_by {
            self.lines.reference("caused_by", "INC-", i);
        }
        self.lines.end();
        let care = self.traits.care;
        let (delay, scripted) = match answer {
            Answer::Never => (None, false),
            Answer::After(d, s) => (Some(d), s),
            Answer::Draw => {
                if self.chance(0.5 + 0.49 * care) {
                    let median_h = 1.5 + 60.0 * (1.0 - care).powi(2);
                    let h = median_h * (1.1 * normal(&mut self.rng)).exp();
                    let scripted = self.chance(0.08 + 0.6 * (1.0 - care));
                    (Some((h * HOUR as f64) as i64 + 60), scripted)
                } else {
                    (None, false)
                }
            }
        };
        let answered = delay.map(|d| at + d).filter(|t| *t < self.ctx.end);
        match answered {
            Some(when) => {
                self.answer(when, c, topic, scripted);
                let closed = when + self.between(HOUR, 72 * HOUR);
                if closed < self.ctx.end {
                    let resolved = self.chance(0.6 + 0.38 * care);
                    self.close(closed, c, resolved);
                }
                if !scripted && matches!(answer, Answer::Draw) && self.chance(0.1) {
                    let due = self.rng.random_range(1..10);
                    self.promise(when, due, Kept::Draw);
                }
            }
            None => {
                let closed = at + self.between(30 * DAY, 90 * DAY);
                if closed < self.ctx.end && self.chance(0.3) {
                    self.close(closed, c, false);
                }
            }
        }
        answered
    }

    fn answer(&mut self, at: i64, c: u32, topic: usize, scripted: bool) {
        let n = self.next();
        let (agent, signature) = *pick(&mut self.rng, words::AGENTS);
        let by = if scripted && self.chance(0.5) {
            "autoreply"
        } else {
            agent
        };
        self.lines.begin("desk", "msg", n, "contact.answered", at);
        self.lines.reference("contact", "T-", c);
        self.lines.str("by", by);
        if scripted {
            // The script depends on the topic, never on the person.
            let lang = if words::SCRIPTED.iter().any(|(l, _)| *l == self.lang) {
                self.lang
            } else {
                "en"
            };
            let mut texts = words::SCRIPTED.iter().filter(|(l, _)| *l == lang);
            let first = texts.next().map_or("", |t| t.1);
            let text = if topic == 1 || topic == 4 {
                texts.next().map_or(first, |t| t.1)
            } else {
                first
            };
            self.lines.str("text", text);
        } else {
            // The desk writes in Dutch or English; everyone else gets English.
            let a = words::ANSWERS
                .iter()
                .find(|a| a.lang == self.lang)
                .unwrap_or(&words::ANSWERS[1]);
            let r = &mut self.rng;
            let greet = *pick(r, a.greet);
            let ack = *pick(r, a.ack);
            let body = *pick(r, a.body[topic.min(4)]);
            let product = *pick(r, a.product);
            let next = *pick(r, a.next);
            let close = *pick(r, a.close);
            self.lines.parts(
                "text",
                &[
                    greet, " ", &self.addr, ",\n\n", ack, " ", body, " ", product, " ", next,
                    "\n\n", close, "\n", signature,
                ],
            );
        }
        self.lines.end();
    }

    fn close(&mut self, at: i64, c: u32, resolved: bool) {
        let n = self.next();
        self.lines.begin("desk", "msg", n, "contact.closed", at);
        self.lines.reference("contact", "T-", c);
        self.lines.bool("resolved", resolved);
        self.lines.end();
    }

    /// Something the business got wrong; maybe an apology after `apology` seconds, maybe a
    /// contact it causes. Returns the incident number.
    pub fn incident(&mut self, at: i64, apology: Option<i64>, contact: Option<Answer>) -> u32 {
        let i = self.next();
        let what = *pick(&mut self.rng, words::INCIDENTS);
        self.lines.begin("ops", "inc", i, "incident.occurred", at);
        self.lines.reference("incident", "INC-", i);
        self.lines.str("what", what);
        self.lines.end();
        if let Some(answer) = contact {
            let when = at + self.between(HOUR, 48 * HOUR);
            if when < self.ctx.end {
                self.contact(when, Some(i), answer);
            }
        }
        match apology.map(|d| at + d).filter(|t| *t < self.ctx.end) {
            Some(when) => {
                let n = self.next();
                let text = in_lang(&mut self.rng, words::APOLOGIES, self.lang);
                self.lines.begin("ops", "apo", n, "apology.made", when);
                self.lines.reference("incident", "INC-", i);
                self.lines.str("text", text);
                self.lines.end();
            }
            None => self.unapologised += 1,
        }
        i
    }

    /// A promise made at `at`, due `due_days` later, and whether it is kept.
    pub fn promise(&mut self, at: i64, due_days: i64, kept: Kept) {
        let p = self.next();
        let due_day = at.div_euclid(DAY) + due_days.max(0);
        let what = *pick(&mut self.rng, words::PROMISES);
        self.lines.begin("desk", "prm", p, "promise.made", at);
        self.lines.reference("promise", "PRM-", p);
        self.lines.date("due", due_day);
        self.lines.str("what", what);
        self.lines.end();
        let kept = match kept {
            Kept::Draw => {
                let care = self.traits.care;
                if self.chance(0.3 + 0.68 * care) {
                    Kept::OnTime
                } else if self.chance(0.5) {
                    Kept::Late(self.rng.random_range(1..15))
                } else {
                    Kept::Never
                }
            }
            k => k,
        };
        let when = match kept {
            Kept::OnTime => self.between(at + HOUR, due_day * DAY + 18 * HOUR),
            Kept::Late(d) => (due_day + d.max(1)) * DAY + self.between(8 * HOUR, 18 * HOUR),
            Kept::Draw | Kept::Never => return,
        };
        if when < self.ctx.end {
            let n = self.next();
            self.lines.begin("desk", "prmk", n, "promise.kept", when);
            self.lines.reference("promise", "PRM-", p);
            self.lines.end();
        }
    }

    pub fn referral(&mut self, at: i64, referred: u64) {
        let n = self.next();
        self.lines.begin("crm", "ref", n, "referral.made", at);
        self.lines.person_ref("referred", referred, self.ctx.width);
        self.lines.end();
    }

    /// Refers someone: preferably a person who arrives later, just after the referral.
    pub fn refer_someone(&mut self, lo: i64, hi: i64, want_buyer: bool, tries: u32) {
        let people = self.ctx.people;
        if people < 2 || hi <= lo {
            return;
        }
        let mut fallback = None;
        for _ in 0..tries {
            let j = self.rng.random_range(0..people);
            if j == self.idx {
                continue;
            }
            let (start, buyer) = profile(self.ctx, j);
            if start > lo + 2 * DAY && start < hi && (buyer || !want_buyer) {
                let at = (start - self.between(DAY, 14 * DAY)).max(lo + HOUR);
                self.referral(at, j);
                return;
            }
            fallback.get_or_insert(j);
        }
        if let Some(j) = fallback {
            let at = self.between(lo + HOUR, hi);
            self.referral(at, j);
        }
    }

    pub fn review(&mut self, at: i64, score: u8, with_text: bool) {
        let n = self.next();
        self.lines.begin("web", "rev", n, "review.given", at);
        self.lines.int("score", u64::from(score.min(10)));
        if with_text {
            let band = match score {
                0..=3 => 0,
                4..=6 => 1,
                7..=8 => 2,
                _ => 3,
            };
            let text = in_lang(&mut self.rng, &words::REVIEWS[band], self.lang);
            self.lines.str("text", text);
        }
        self.lines.end();
    }

    pub fn outreach(&mut self, at: i64, channel: &str, topic: &str) {
        let n = self.next();
        self.lines.begin("mail", "out", n, "outreach.sent", at);
        self.lines.str("channel", channel);
        self.lines.str("topic", topic);
        self.lines.end();
    }

    /// A note someone at the business wrote on the card.
    pub fn note(&mut self, at: i64, text: &str) {
        let n = self.next();
        self.lines.begin("card", "note", n, "note.added", at);
        self.lines.str("text", text);
        self.lines.end();
    }

    pub fn wish(&mut self, at: i64, text: &str) {
        let n = self.next();
        self.lines.begin("self", "w", n, "wish.stated", at);
        self.lines.str("text", text);
        self.lines.end();
    }

    pub fn menu_chosen(&mut self, at: i64, item: &str, option: &str) {
        let n = self.next();
        self.lines.begin("self", "m", n, "menu.chosen", at);
        self.lines.str("item", item);
        self.lines.str("option", option);
        self.lines.end();
    }

    pub fn menu_proposed(&mut self, at: i64, item: Option<&str>, text: &str) {
        let n = self.next();
        self.lines.begin("self", "m", n, "menu.proposed", at);
        if let Some(item) = item {
            self.lines.str("item", item);
        }
        self.lines.str("text", text);
        self.lines.end();
    }

    pub fn consent(&mut self, at: i64, given: bool, purpose: &str, how: &str) {
        let n = self.next();
        let kind = if given {
            "consent.given"
        } else {
            "consent.withdrawn"
        };
        self.lines.begin("self", "c", n, kind, at);
        self.lines.str("purpose", purpose);
        self.lines.str("how", how);
        self.lines.end();
    }

    pub fn ended(&mut self, at: i64, reason: &str) {
        let n = self.next();
        self.lines.begin("crm", "end", n, "relationship.ended", at);
        self.lines.str("reason", reason);
        self.lines.end();
    }

    /// The history of everyone who is not a showcase person.
    fn ordinary_life(&mut self, buyer: bool) {
        self.random_identity();
        self.traits = Traits::draw(&mut self.rng);
        let t = self.traits;
        let start = self.start;
        let end = self.ctx.end;
        let phone = self.chance(0.6);
        let address = match self.rng.random_range(0..10) {
            0..=5 => 0,
            6..=7 => 1,
            _ => 2,
        };
        self.identified(start, phone, address);

        // Consents and choices come first, and are what outreach is measured against.
        let mut newsletter_given = false;
        let mut newsletter_withdrawn = None;
        if self.chance(0.4) {
            let how = *pick(&mut self.rng, words::CONSENT_HOW);
            self.consent(start + 120, true, "newsletter", how);
            newsletter_given = true;
            if self.chance(0.2) {
                let at = self.between(start + 10 * DAY, end);
                let how = *pick(&mut self.rng, words::CONSENT_HOW);
                self.consent(at, false, "newsletter", how);
                newsletter_withdrawn = Some(at);
            }
        }
        if self.chance(0.12) {
            let purpose = *pick(&mut self.rng, &words::CONSENT_PURPOSES[1..]);
            let how = *pick(&mut self.rng, words::CONSENT_HOW);
            self.consent(start + 180, true, purpose, how);
        }
        if self.chance(0.03) {
            let lo = start + 30 * DAY;
            if lo < end {
                self.stop = self.between(lo, end);
                self.leaving = Some(match self.rng.random_range(0..10) {
                    0..=4 => "price",
                    5..=7 => "moved",
                    _ => "other",
                });
            }
        }

        if buyer {
            let mut at = start + self.between(600, 3 * DAY);
            while at < self.stop {
                self.purchase(at, Pay::Draw);
                if self.chance(t.incident) {
                    self.random_incident(at);
                }
                if self.chance(t.dropout) {
                    break;
                }
                let mean_gap = 30.44 * DAY as f64 / t.buy_rate.max(0.001);
                let gap = -mean_gap * (1.0 - self.rng.random::<f64>()).ln();
                at += (gap as i64).max(HOUR);
            }
        }

        let stop = self.stop;
        let months = (stop - start) as f64 / (30.44 * DAY as f64);
        for _ in 0..poisson(&mut self.rng, t.desk * months) {
            let at = self.between(start + HOUR, stop);
            self.contact(at, None, Answer::Draw);
        }
        let years = months / 12.0;
        for _ in 0..poisson(&mut self.rng, t.advocacy.powi(3) * years * 0.6) {
            self.refer_someone(start, stop, false, 3);
        }
        if self.chance(0.1 + 0.25 * t.advocacy) {
            let at = self.between(start + DAY, stop);
            let score = 1.0 + 9.5 * t.advocacy - 2.0 * f64::from(self.unapologised)
                + 1.3 * normal(&mut self.rng);
            let with_text = self.chance(0.7);
            self.review(at, score.round().clamp(0.0, 10.0) as u8, with_text);
        }
        for _ in 0..poisson(&mut self.rng, 0.025 * months) {
            let at = self.between(start + DAY, stop);
            let topic = *pick(&mut self.rng, words::OUTREACH_TOPICS);
            // The newsletter is opt-in: a careful business sends it only to people who asked
            // for it and have not withdrawn; a careless one sends it anyway.
            if topic == "newsletter"
                && (!newsletter_given || newsletter_withdrawn.is_some_and(|w| at > w))
                && self.chance(t.care)
            {
                continue;
            }
            let channel = *pick(&mut self.rng, words::OUTREACH_CHANNELS);
            self.outreach(at, channel, topic);
        }
        if self.chance(0.08) {
            let at = self.between(start + HOUR, stop);
            let text = in_lang(&mut self.rng, words::WISHES, self.lang);
            self.wish(at, text);
        }
        if self.chance(0.1) {
            let k = self.rng.random_range(1..4);
            for _ in 0..k {
                let at = self.between(start + HOUR, stop);
                let (item, options) = *pick(&mut self.rng, words::MENU);
                let option = *pick(&mut self.rng, options);
                self.menu_chosen(at, item, option);
            }
        }
        if self.chance(0.02) {
            let at = self.between(start + HOUR, stop);
            let (item, text) = *pick(&mut self.rng, words::PROPOSALS);
            self.menu_proposed(at, item, text);
        }
        if let Some(reason) = self.leaving {
            self.ended(self.stop, reason);
        }
    }

    /// An incident after an order, drawn from the traits: apologised or not, causing a
    /// contact or not, and sometimes the reason the person leaves.
    fn random_incident(&mut self, order_at: i64) {
        let t = self.traits;
        let at = order_at + self.between(DAY, 6 * DAY);
        if at >= self.stop {
            return;
        }
        let apology = self.chance(0.2 + 0.75 * t.care).then(|| {
            let h = (4.0 + 40.0 * (1.0 - t.care)) * (0.8 * normal(&mut self.rng)).exp();
            (h * HOUR as f64) as i64
        });
        let contact = self.chance(0.6).then_some(Answer::Draw);
        self.incident(at, apology, contact);
        if self.chance(0.4) {
            let due = self.rng.random_range(2..10);
            let when = at + self.between(2 * HOUR, DAY);
            self.promise(when, due, Kept::Draw);
        }
        let leave = if apology.is_some() {
            0.02
        } else {
            0.1 + 0.25 * (1.0 - t.advocacy)
        };
        if self.leaving.is_none() && self.chance(leave) {
            let when = at + self.between(3 * DAY, 60 * DAY);
            if when < self.ctx.end {
                self.stop = when;
                self.leaving = Some("service");
            }
        }
    }
}
