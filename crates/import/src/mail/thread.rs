//! Threads, contacts and answers: the two passes of [`super::read`].
//!
//! The first pass keeps about 24 bytes per message (hashes of its id and sender, its date,
//! whether it is a person's or the business's) and joins messages that name each other in
//! `In-Reply-To` or `References` (union-find over hashed ids). At its end, each thread is
//! walked in date order and every message gets its role: it opens a contact, answers one,
//! only identifies its sender (a follow-up), or adds nothing. The second pass re-reads each
//! message whose role needs its text, and emits the events.
//!
//! The rules, per thread, in date order (the file order breaking ties):
//! - a person's mail opens a contact unless that person already has one open in the thread
//!   (then it is a follow-up); its contact id is its Message-ID;
//! - the business's first reply (it has `In-Reply-To` or `References`) answers every contact
//!   open in the thread; its later mail in the thread adds nothing;
//! - a person's mail after their contact was answered opens a new contact: a new question in
//!   an old thread is still a new question, and counting it as a follow-up would hide it;
//! - the business's mail where no person wrote before is unprompted, and mail among its own
//!   addresses is internal.

use std::hash::Hasher;
use std::path::{Path, PathBuf};

use domain::{NewEvent, PersonId, Timestamp};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value};

use super::source::Item;
use super::{Address, Mail, MailError, MailReport, Ours, own_words, read_message};
use crate::{RowError, Sink};

/// 64-bit FNV-1a: the hash in event ids, so it must never change (a std or rustc-hash
/// hasher may change between versions, and re-reading would then add every event again).
pub(crate) fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.write(&[0]);
        }
        h.write(part);
    }
    h.finish()
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Event ids and references are at most 200 bytes with no control character.
const MAX_REF: usize = 200;

/// The message's id as a reference: its Message-ID when that fits, else a hash of it, or,
/// without one, a hash of its sender, date and subject (stable, so re-reading adds nothing).
fn message_ref(mail: &Mail) -> String {
    match &mail.message_id {
        Some(id) if id.len() <= MAX_REF && !id.chars().any(char::is_control) => id.clone(),
        Some(id) => format!("mid:{:016x}", stable_hash(&[id.as_bytes()])),
        None => format!("mail:{:016x}", synthetic_hash(mail)),
    }
}

fn synthetic_hash(mail: &Mail) -> u64 {
    let from = mail.from.as_ref().map_or("", |a| a.email.as_str());
    let at = mail.date.map_or(0, Timestamp::unix).to_le_bytes();
    let subject = mail.subject.as_deref().unwrap_or("");
    stable_hash(&[b"synthetic", from.as_bytes(), &at, subject.as_bytes()])
}

/// The hash a message is threaded by: its Message-ID's, or the synthetic one.
fn id_hash(mail: &Mail) -> u64 {
    match &mail.message_id {
        Some(id) => stable_hash(&[id.as_bytes()]),
        None => synthetic_hash(mail),
    }
}

fn address_hash(email: &str) -> u64 {
    stable_hash(&[email.as_bytes()])
}

/// What a message is, once read in the first pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// From a person (whose address hashes to this).
    Person(u64),
    /// From the business to someone else; `replies`: it has `In-Reply-To` or `References`.
    Ours { replies: bool },
    /// Among the business's own addresses.
    Internal,
}

/// The first pass's record of one message that takes part in threads.
struct Seen {
    /// Its position among all messages of the input.
    index: u32,
    node: u32,
    at: i64,
    class: Class,
}

/// What the second pass does with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Skip,
    /// A person's follow-up: only their `person.identified`.
    Identify,
    /// Opens a contact; `answered`: a later message answers it.
    Open {
        answered: bool,
    },
    /// Answers the contacts opened by `openers[start..start + len]`.
    Answer {
        start: u32,
        len: u32,
    },
}

/// The first pass's result: a role for each message, in input order.
pub(crate) struct Plan {
    roles: Vec<Role>,
    openers: Vec<u32>,
    bytes: u64,
}

pub(crate) struct FirstPass<'a> {
    ours: &'a Ours,
    report: MailReport,
    automatic: FxHashMap<&'static str, u64>,
    /// Hashed message id → union-find node.
    nodes: FxHashMap<u64, u32>,
    parent: Vec<u32>,
    /// Whether a node's message was read (a second copy of it is skipped).
    read: Vec<bool>,
    seen: Vec<Seen>,
    count: u32,
    bytes: u64,
}

impl<'a> FirstPass<'a> {
    pub(crate) fn new(ours: &'a Ours) -> Self {
        FirstPass {
            ours,
            report: MailReport::default(),
            automatic: FxHashMap::default(),
            nodes: FxHashMap::default(),
            parent: Vec::new(),
            read: Vec::new(),
            seen: Vec::new(),
            count: 0,
            bytes: 0,
        }
    }

    fn node(&mut self, hash: u64) -> u32 {
        let next = self.parent.len() as u32;
        let node = *self.nodes.entry(hash).or_insert(next);
        if node == next {
            self.parent.push(next);
            self.read.push(false);
        }
        node
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            // The smaller root wins, so the result does not depend on the order of unions.
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.parent[hi as usize] = lo;
        }
    }

    fn unreadable(&mut self, item: &Item<'_>, why: &str) {
        let message = match item.name {
            Some(name) => format!("{}: {why}", name.display()),
            None => why.to_owned(),
        };
        self.report.unreadable.push(MailError {
            line: item.line,
            message,
        });
    }

    pub(crate) fn take(&mut self, item: Item<'_>) {
        let index = self.count;
        self.count = self.count.saturating_add(1);
        self.bytes = item.read;
        self.report.messages += 1;
        let Some(bytes) = item.bytes else {
            self.unreadable(&item, "larger than 32 MiB");
            return;
        };
        let mail = match read_message(bytes, item.line, false) {
            Ok(mail) => mail,
            Err(e) => return self.unreadable(&item, &e.message),
        };
        let Some(from) = &mail.from else {
            return self.unreadable(&item, "no From address");
        };
        let Some(at) = mail.date else {
            return self.unreadable(&item, "no Date, or one that cannot be read");
        };
        if let Some(reason) = mail.automatic {
            *self.automatic.entry(reason).or_insert(0) += 1;
            return;
        }
        let node = self.node(id_hash(&mail));
        if self.read[node as usize] {
            return; // The same message saved twice.
        }
        self.read[node as usize] = true;
        for id in mail.in_reply_to.iter().chain(&mail.references) {
            let other = self.node(stable_hash(&[id.as_bytes()]));
            self.union(node, other);
        }
        let class = if !self.ours.is_ours(&from.email) {
            Class::Person(address_hash(&from.email))
        } else if !mail.to.is_empty() && mail.to.iter().all(|a| self.ours.is_ours(&a.email)) {
            Class::Internal
        } else {
            Class::Ours {
                replies: !mail.in_reply_to.is_empty() || !mail.references.is_empty(),
            }
        };
        self.seen.push(Seen {
            index,
            node,
            at: at.unix(),
            class,
        });
    }

    /// Threads the messages and gives each its role.
    pub(crate) fn finish(mut self) -> (Plan, MailReport) {
        self.nodes = FxHashMap::default(); // no longer needed: free it before sorting
        let mut keyed: Vec<(u32, i64, u32, usize)> = Vec::with_capacity(self.seen.len());
        for i in 0..self.seen.len() {
            let root = self.find(self.seen[i].node);
            keyed.push((root, self.seen[i].at, self.seen[i].index, i));
        }
        keyed.sort_unstable();

        let mut roles = vec![Role::Skip; self.count as usize];
        let mut openers = Vec::new();
        let mut start = 0;
        while start < keyed.len() {
            let root = keyed[start].0;
            let end = keyed[start..]
                .iter()
                .position(|k| k.0 != root)
                .map_or(keyed.len(), |n| start + n);
            // Contacts open in this thread: (person, opener's index).
            let mut open: Vec<(u64, u32)> = Vec::new();
            let mut had_contact = false;
            for &(_, _, index, i) in &keyed[start..end] {
                match self.seen[i].class {
                    Class::Person(person) => {
                        if open.iter().any(|&(p, _)| p == person) {
                            self.report.follow_ups += 1;
                            roles[index as usize] = Role::Identify;
                        } else {
                            open.push((person, index));
                            had_contact = true;
                            roles[index as usize] = Role::Open { answered: false };
                        }
                    }
                    Class::Internal => self.report.internal += 1,
                    Class::Ours { replies } => {
                        if replies && !open.is_empty() {
                            let first = openers.len() as u32;
                            for (_, opener) in open.drain(..) {
                                roles[opener as usize] = Role::Open { answered: true };
                                openers.push(opener);
                            }
                            roles[index as usize] = Role::Answer {
                                start: first,
                                len: openers.len() as u32 - first,
                            };
                        } else if !had_contact {
                            self.report.unprompted += 1;
                        }
                        // Else: the business writing again in a contact it answered.
                    }
                }
            }
            start = end;
        }
        let mut automatic: Vec<_> = self.automatic.into_iter().collect();
        automatic.sort_unstable();
        self.report.automatic = automatic;
        let plan = Plan {
            roles,
            openers,
            bytes: self.bytes,
        };
        (plan, self.report)
    }
}

/// A contact whose answer is still to come in the file.
struct Opened {
    contact: String,
    person: PersonId,
}

/// An answer read before the contact it answers.
struct Draft {
    line: u64,
    id: String,
    at: Timestamp,
    by: String,
    text: String,
}

pub(crate) struct SecondPass<'a> {
    file: PathBuf,
    plan: Plan,
    resolve: &'a mut dyn FnMut(&Address) -> PersonId,
    sink: &'a mut dyn Sink,
    count: u32,
    /// Addresses already identified (hashed).
    identified: FxHashSet<u64>,
    waiting: FxHashMap<u32, Opened>,
    early: FxHashMap<u32, Draft>,
}

/// Free text as the ledger takes it: no control character but line breaks and tabs, at most
/// 1 MiB (cut on a character boundary).
fn clean_text(s: &str) -> String {
    const MAX: usize = 1 << 20;
    let mut out: String = s
        .chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect();
    if out.len() > MAX {
        let mut end = MAX;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// A name or address: one line, no control character.
fn clean_line(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    clean_text(one.trim())
}

impl<'a> SecondPass<'a> {
    pub(crate) fn new(
        file: &Path,
        plan: Plan,
        resolve: &'a mut dyn FnMut(&Address) -> PersonId,
        sink: &'a mut dyn Sink,
    ) -> Self {
        SecondPass {
            file: file.to_owned(),
            plan,
            resolve,
            sink,
            count: 0,
            identified: FxHashSet::default(),
            waiting: FxHashMap::default(),
            early: FxHashMap::default(),
        }
    }

    pub(crate) fn take(&mut self, item: Item<'_>) -> Result<(), crate::ImportError> {
        let index = self.count;
        self.count = self.count.saturating_add(1);
        self.sink
            .progress(self.plan.bytes / 2 + item.read.min(self.plan.bytes) / 2);
        let role = self
            .plan
            .roles
            .get(index as usize)
            .copied()
            .unwrap_or(Role::Skip);
        if role == Role::Skip {
            return Ok(());
        }
        let Some(bytes) = item.bytes else {
            return Ok(());
        };
        // The first pass read this message; if it cannot be read now, the file changed
        // between the passes, and the message is left out rather than guessed at.
        let Ok(mail) = read_message(bytes, item.line, true) else {
            return Ok(());
        };
        let (Some(from), Some(at)) = (&mail.from, mail.date) else {
            return Ok(());
        };
        match role {
            Role::Skip => {}
            Role::Identify => {
                self.identify(&mail, from, at)?;
            }
            Role::Open { answered } => {
                let person = self.identify(&mail, from, at)?;
                let contact = message_ref(&mail);
                let words = own_words(&mail.text);
                let text = match (&mail.subject, words.is_empty()) {
                    (Some(s), false) => format!("{s}\n\n{words}"),
                    (Some(s), true) => s.clone(),
                    (None, _) => words,
                };
                let mut m = event("contact.opened", &contact, &person, at);
                m.insert("contact".into(), contact.clone().into());
                m.insert("channel".into(), "email".into());
                if !text.is_empty() {
                    m.insert("text".into(), clean_text(&text).into());
                }
                self.push(mail.line, m)?;
                if answered {
                    match self.early.remove(&index) {
                        Some(draft) => self.answer(draft, &contact, &person)?,
                        None => {
                            self.waiting.insert(index, Opened { contact, person });
                        }
                    }
                }
            }
            Role::Answer { start, len } => {
                let range = start as usize..(start as usize + len as usize);
                let openers: Vec<u32> = self.plan.openers.get(range).unwrap_or(&[]).to_vec();
                let (id, text) = (message_ref(&mail), own_words(&mail.text));
                for opener in openers {
                    let draft = Draft {
                        line: mail.line,
                        id: id.clone(),
                        at,
                        by: from.email.clone(),
                        text: text.clone(),
                    };
                    match self.waiting.remove(&opener) {
                        Some(o) => self.answer(draft, &o.contact, &o.person)?,
                        None => {
                            self.early.insert(opener, draft);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Emits `person.identified` for the sender the first time they are met; their id.
    fn identify(
        &mut self,
        mail: &Mail,
        from: &Address,
        at: Timestamp,
    ) -> Result<PersonId, crate::ImportError> {
        let person = (self.resolve)(from);
        let hash = address_hash(&from.email);
        if self.identified.insert(hash) {
            let id = format!("identified:{hash:016x}");
            let mut m = event("person.identified", &id, &person, at);
            // The name is required: without a display name, the address stands for it.
            let name = from.name.as_deref().unwrap_or(&from.email);
            m.insert("name".into(), clean_line(name).into());
            m.insert("email".into(), clean_line(&from.email).into());
            self.push(mail.line, m)?;
        }
        Ok(person)
    }

    fn answer(
        &mut self,
        draft: Draft,
        contact: &str,
        person: &PersonId,
    ) -> Result<(), crate::ImportError> {
        let mut m = event("contact.answered", &draft.id, person, draft.at);
        m.insert("contact".into(), contact.into());
        m.insert("by".into(), draft.by.into());
        if !draft.text.is_empty() {
            m.insert("text".into(), clean_text(&draft.text).into());
        }
        self.push(draft.line, m)
    }

    /// Validates the event through the one path every event takes, and hands it on.
    fn push(&mut self, line: u64, m: Map<String, Value>) -> Result<(), crate::ImportError> {
        let result = match NewEvent::from_json(&m) {
            Ok(event) => self.sink.push(line, event),
            Err(e) => self.sink.reject(RowError {
                file: self.file.clone(),
                line,
                field: e.field,
                message: e.message,
                // The row is personal mail: it stays out of the rejects file.
                raw: None,
            }),
        };
        result.map_err(crate::ImportError::Sink)
    }

    /// Answers whose contact never came (the file changed between the passes) are dropped.
    pub(crate) fn finish(self) {}
}

fn event(kind: &str, id: &str, person: &PersonId, at: Timestamp) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("source".into(), "mail".into());
    m.insert("id".into(), id.into());
    m.insert("kind".into(), kind.into());
    m.insert("person".into(), person.as_str().into());
    m.insert("at".into(), at.to_rfc3339().into());
    m
}
