//! Reply chains: whose conversation a message is, when only the message it answers says so.
//!
//! Many message logs (social-media exports, help desks) give the business's replies no
//! customer at all: a reply names only the id of the message it answers, and its author is
//! the brand. The person is found by walking up the chain — a reply to a reply to the
//! person's message is still theirs — so this is the one part of a mapping that keeps state
//! across rows.
//!
//! The rules, one message at a time:
//! - a message the person wrote belongs to the person; it opens a contact of its own, unless
//!   the person's message nearest above it is by the same person, whose contact it continues
//!   (a follow-up in the same conversation);
//! - a message of the business takes the person and contact of the person's message nearest
//!   above it; with none (it answers nothing, or only the business's own messages) it answers
//!   nobody, and when the chain leads to a message that is not in the file it is unmatched.
//!
//! Memory: every message id read is kept, with two numbers saying where its chain leads —
//! some tens of bytes per message, so a file of millions of messages needs a few hundred
//! megabytes at most. A message that comes before the message it answers (exports are not
//! always in time order) waits, row and all, until that message is read, and is then
//! settled at once with every message waiting on it; what still waits at the end of the
//! file answers a message that is not in it. So a file in time order keeps no row waiting,
//! and one in reverse order keeps them all until their questions come.

use std::collections::HashMap;
use std::rc::Rc;

/// Where a message's chain leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chain {
    /// A person's message at or above it: whose, and the message that opened the contact.
    Person { person: u32, contact: u32 },
    /// Only messages of the business above it, up to one that answers nothing.
    Business,
    /// It leads to a message that is not in the file (whose id is `missing`).
    Missing { missing: u32 },
}

/// What a chain makes of one message read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// Named as the message some row answers, not read (yet).
    Unseen,
    /// Read, waiting for the message it answers.
    Waiting,
    /// Read and settled: where its chain leads, and who wrote it (`None`: the business).
    Settled(Chain, Option<u32>),
}

/// What a message needs to know of the message it answers.
#[derive(Debug, Clone, Copy)]
struct Parent {
    chain: Chain,
    from: Option<u32>,
}

/// A message read whose chain is not known yet.
struct Waiter<R> {
    msg: u32,
    /// The person who wrote it, or `None` for the business.
    from: Option<u32>,
    line: u64,
    /// False for a second message with an id already read: it is settled like the first,
    /// but what answers that id follows the first.
    record: bool,
    row: R,
}

/// Counts that tell whether the threading looks right (see `Threads::people_who_mostly_answer`).
#[derive(Debug, Clone, Copy, Default)]
struct PersonCounts {
    messages: u32,
    /// Messages that start a conversation or answer the business's message.
    asks: u32,
    /// Messages that answer another person's message.
    answers_others: u32,
}

/// The state of every chain read so far. `R` is what the caller keeps of a row that must
/// wait (its cells), handed back with its chain once it is known.
pub(crate) struct Threads<R> {
    ids: HashMap<Rc<str>, u32>,
    names: Vec<Rc<str>>,
    nodes: Vec<Node>,
    people: HashMap<Rc<str>, u32>,
    person_names: Vec<Rc<str>>,
    counts: Vec<PersonCounts>,
    waiting: HashMap<u32, Vec<Waiter<R>>>,
    /// Messages of the business whose chain leaves the file, with the first one's line.
    pub(crate) unmatched: u64,
    pub(crate) first_unmatched: Option<(u64, u32)>,
    /// Messages of the business, and those that answer no message of a person.
    pub(crate) business: u64,
    pub(crate) answering_nobody: u64,
}

impl<R> Default for Threads<R> {
    fn default() -> Self {
        Threads {
            ids: HashMap::new(),
            names: Vec::new(),
            nodes: Vec::new(),
            people: HashMap::new(),
            person_names: Vec::new(),
            counts: Vec::new(),
            waiting: HashMap::new(),
            unmatched: 0,
            first_unmatched: None,
            business: 0,
            answering_nobody: 0,
        }
    }
}

impl<R> Threads<R> {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        let name: Rc<str> = Rc::from(s);
        self.ids.insert(Rc::clone(&name), i);
        self.names.push(name);
        self.nodes.push(Node::Unseen);
        i
    }

    fn person_index(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.people.get(s) {
            return i;
        }
        let i = self.person_names.len() as u32;
        let name: Rc<str> = Rc::from(s);
        self.people.insert(Rc::clone(&name), i);
        self.person_names.push(name);
        self.counts.push(PersonCounts::default());
        i
    }

    /// A message's id as read.
    pub(crate) fn message_id(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub(crate) fn person(&self, i: u32) -> &str {
        &self.person_names[i as usize]
    }

    /// Reads one message: its id, the id it answers (empty for none) and, when the person
    /// wrote it, the person. Returns the rows whose chain is now known — this one, unless
    /// it must wait, and every row that was waiting for it — each with its chain.
    pub(crate) fn message(
        &mut self,
        id: &str,
        answers: &str,
        person: Option<&str>,
        line: u64,
        row: R,
    ) -> Vec<(R, Chain)> {
        let msg = self.id(id);
        let from = person.map(|p| self.person_index(p));
        let record = self.nodes[msg as usize] == Node::Unseen;
        if record {
            self.nodes[msg as usize] = Node::Waiting;
        }
        let waiter = Waiter {
            msg,
            from,
            line,
            record,
            row,
        };
        let mut out = Vec::new();
        if answers.is_empty() || answers == id {
            self.settle(waiter, None, &mut out);
            return out;
        }
        let parent = self.id(answers);
        match self.nodes[parent as usize] {
            Node::Settled(chain, from) => {
                self.settle(waiter, Some(Parent { chain, from }), &mut out)
            }
            Node::Unseen | Node::Waiting => self.waiting.entry(parent).or_default().push(waiter),
        }
        out
    }

    /// At the end of the file: every row still waiting answers a message that was never
    /// read (or sits in a loop of messages answering each other, broken where it was first met).
    pub(crate) fn finish(&mut self) -> Vec<(R, Chain)> {
        let mut out = Vec::new();
        while !self.waiting.is_empty() {
            let mut parents: Vec<u32> = self.waiting.keys().copied().collect();
            // In the order the ids were first met, so a run is the same every time.
            parents.sort_unstable();
            let mut unseen: Vec<u32> = parents
                .iter()
                .copied()
                .filter(|p| self.nodes[*p as usize] == Node::Unseen)
                .collect();
            if unseen.is_empty() {
                unseen.push(parents[0]);
            }
            for p in unseen {
                for w in self.waiting.remove(&p).unwrap_or_default() {
                    let missing = Parent {
                        chain: Chain::Missing { missing: p },
                        from: None,
                    };
                    self.settle(w, Some(missing), &mut out);
                }
            }
        }
        out
    }

    /// Settles a message whose parent is `parent` (`None`: it answers nothing), and then
    /// everything that waited for it, without recursion (a chain may be very long).
    fn settle(&mut self, first: Waiter<R>, parent: Option<Parent>, out: &mut Vec<(R, Chain)>) {
        let mut stack = vec![(first, parent)];
        while let Some((w, parent)) = stack.pop() {
            let chain = match w.from {
                Some(u) => self.settle_person(u, w.msg, parent),
                None => self.settle_business(w.line, parent.map(|p| p.chain)),
            };
            if w.record {
                self.nodes[w.msg as usize] = Node::Settled(chain, w.from);
                if let Some(children) = self.waiting.remove(&w.msg) {
                    let me = Parent {
                        chain,
                        from: w.from,
                    };
                    for c in children.into_iter().rev() {
                        stack.push((c, Some(me)));
                    }
                }
            }
            out.push((w.row, chain));
        }
    }

    /// A message of person `u`: it continues their own contact, or opens one.
    fn settle_person(&mut self, u: u32, msg: u32, parent: Option<Parent>) -> Chain {
        let c = &mut self.counts[u as usize];
        c.messages += 1;
        match parent {
            Some(Parent { from: Some(p), .. }) if p != u => c.answers_others += 1,
            // A follow-up of their own, or an answer to a message not in the file: neither.
            Some(Parent { from: Some(_), .. })
            | Some(Parent {
                chain: Chain::Missing { .. },
                ..
            }) => {}
            _ => c.asks += 1,
        }
        match parent.map(|p| p.chain) {
            Some(Chain::Person { person, contact }) if person == u => {
                Chain::Person { person: u, contact }
            }
            _ => Chain::Person {
                person: u,
                contact: msg,
            },
        }
    }

    /// A message of the business: it answers whoever its chain leads to, if anyone.
    fn settle_business(&mut self, line: u64, parent: Option<Chain>) -> Chain {
        self.business += 1;
        match parent {
            None | Some(Chain::Business) => {
                self.answering_nobody += 1;
                Chain::Business
            }
            Some(Chain::Missing { missing }) => {
                self.unmatched += 1;
                if self.first_unmatched.is_none() {
                    self.first_unmatched = Some((line, missing));
                }
                Chain::Missing { missing }
            }
            Some(c @ Chain::Person { .. }) => c,
        }
    }

    /// People who answer other people's messages more often than they start a conversation
    /// or answer the business, most messages first. In a log read right a person asks and
    /// the business answers, so there are few; an account with many such messages is the
    /// business's own, taken for a person.
    pub(crate) fn people_who_mostly_answer(&self) -> Vec<(&str, u32)> {
        let mut out: Vec<(&str, u32)> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.answers_others > c.asks)
            .map(|(i, c)| (self.person_names[i].as_ref(), c.messages))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `(id, answers, person)` messages in order; returns each row's chain as
    /// `(person, contact)` text, or "business"/"missing X", in the order rows were settled.
    fn run(messages: &[(&str, &str, Option<&str>)]) -> (Vec<(String, String)>, Threads<String>) {
        let mut t = Threads::default();
        let mut settled = Vec::new();
        for (line, (id, answers, person)) in messages.iter().enumerate() {
            settled.extend(t.message(id, answers, *person, line as u64 + 1, id.to_string()));
        }
        settled.extend(t.finish());
        let shown = settled
            .into_iter()
            .map(|(row, chain)| {
                let what = match chain {
                    Chain::Person { person, contact } => {
                        format!("{} {}", t.person(person), t.message_id(contact))
                    }
                    Chain::Business => "business".to_owned(),
                    Chain::Missing { missing } => format!("missing {}", t.message_id(missing)),
                };
                (row, what)
            })
            .collect();
        (shown, t)
    }

    fn chain_of<'a>(shown: &'a [(String, String)], id: &str) -> &'a str {
        &shown.iter().find(|(r, _)| r == id).unwrap().1
    }

    #[test]
    fn a_reply_to_a_reply_to_the_person_s_message_is_theirs() {
        let (shown, t) = run(&[
            ("1", "", Some("ann")),
            ("2", "1", None),
            ("3", "2", None),
            ("4", "3", Some("ann")),
            ("5", "4", None),
        ]);
        for id in ["1", "2", "3", "4", "5"] {
            assert_eq!(chain_of(&shown, id), "ann 1", "message {id}");
        }
        assert_eq!(t.business, 3);
        assert_eq!(t.unmatched, 0);
        assert!(t.people_who_mostly_answer().is_empty());
    }

    #[test]
    fn replies_that_come_before_their_question_wait_for_it_in_any_order() {
        let (shown, t) = run(&[("3", "2", None), ("2", "1", None), ("1", "", Some("ann"))]);
        for id in ["1", "2", "3"] {
            assert_eq!(chain_of(&shown, id), "ann 1", "message {id}");
        }
        assert!(t.waiting.is_empty());
    }

    #[test]
    fn what_leads_outside_the_file_or_to_nobody_is_told_apart() {
        let (shown, t) = run(&[
            ("9", "", None),
            ("10", "9", None),
            ("11", "404", None),
            ("12", "11", None),
            ("13", "404", Some("bob")),
        ]);
        assert_eq!(chain_of(&shown, "9"), "business");
        assert_eq!(chain_of(&shown, "10"), "business");
        assert_eq!(chain_of(&shown, "11"), "missing 404");
        assert_eq!(chain_of(&shown, "12"), "missing 404");
        assert_eq!(
            chain_of(&shown, "13"),
            "bob 13",
            "a person's message opens its own"
        );
        assert_eq!((t.business, t.answering_nobody, t.unmatched), (4, 2, 2));
        assert_eq!(t.first_unmatched.map(|(line, _)| line), Some(3));
    }

    #[test]
    fn another_person_answering_in_a_thread_opens_a_contact_of_their_own() {
        let (shown, t) = run(&[
            ("1", "", Some("ann")),
            ("2", "1", None),
            ("3", "2", Some("cy")),
            ("4", "3", None),
        ]);
        assert_eq!(chain_of(&shown, "3"), "cy 3");
        assert_eq!(chain_of(&shown, "4"), "cy 3");
        assert_eq!(t.people_who_mostly_answer(), vec![]);
    }

    #[test]
    fn a_brand_taken_for_a_person_mostly_answers_others() {
        let (_, t) = run(&[
            ("1", "", Some("ann")),
            ("2", "1", Some("brand")),
            ("3", "", Some("bob")),
            ("4", "3", Some("brand")),
            ("5", "4", Some("brand")),
        ]);
        assert_eq!(t.people_who_mostly_answer(), vec![("brand", 3)]);
    }

    #[test]
    fn loops_and_duplicate_ids_end_without_hanging() {
        let (shown, _) = run(&[
            ("a", "b", None),
            ("b", "a", Some("ann")),
            ("1", "", Some("ann")),
            ("1", "", Some("bob")),
            ("2", "1", None),
        ]);
        assert_eq!(shown.len(), 5);
        assert_eq!(chain_of(&shown, "b"), "ann b");
        assert_eq!(chain_of(&shown, "a"), "ann b");
        assert_eq!(chain_of(&shown, "2"), "ann 1", "the first message 1 counts");
    }

    #[test]
    fn a_long_chain_in_reverse_order_settles_without_deep_recursion() {
        let n = 200_000;
        let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let mut t: Threads<u32> = Threads::default();
        let mut settled = 0;
        for i in (1..n).rev() {
            settled += t.message(&ids[i], &ids[i - 1], None, 0, 0).len();
        }
        settled += t.message(&ids[0], "", Some("ann"), 0, 0).len();
        assert_eq!(settled, n);
    }
}
