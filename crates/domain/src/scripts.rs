//! Scripted answers: an answer is *scripted* when, after masking what makes it personal
//! (names, numbers, e-mail addresses, URLs, handles and the sign-off), it is a near-duplicate
//! of answers sent to at least five other people (READINGS.md, "personal").
//!
//! Near-duplicate means a Jaccard similarity of at least 0.8 between the answers' sets of word
//! 3-shingles. Comparing every pair is out of the question at a million answers, so:
//! identical shingle sets are collapsed first (a script sent ten thousand times is one
//! variant), MinHash signatures with banding propose candidate pairs among the variants, and
//! each candidate is confirmed with the exact Jaccard similarity. Confirmed variants are
//! joined (union-find) into scripts; an answer is scripted when its script reached at least
//! five people other than its own recipient. Masking needs no word lists, so it works in any
//! language: a name is a capitalised word that does not start a sentence.

use std::collections::HashMap;

#[cfg(test)]
use crate::similar::jaccard;
use crate::similar::{FNV_START, find, fnv_extend as fnv, mix, shared};

/// Whether the Jaccard similarity of two sorted sets without repeats is at least [`SIMILAR`],
/// stopping as soon as the answer is known: most candidates banding proposes are not similar,
/// and sizes alone, or the first part of the merge, usually tell.
fn near(a: &[u64], b: &[u64]) -> bool {
    let (small, large) = (a.len().min(b.len()), a.len().max(b.len()));
    // J ≤ |small| / |large|. (The bounds are kept a little loose so that rounding can never
    // turn away a pair the exact test below would take.)
    if large == 0 || (small as f64) < SIMILAR * large as f64 - 1e-9 {
        return false;
    }
    // J ≥ s needs |A ∩ B| ≥ s (|A| + |B|) / (1 + s).
    let need = ((SIMILAR * (a.len() + b.len()) as f64 / (1.0 + SIMILAR)) - 1e-9).floor() as usize;
    let Some(both) = shared(a, b, need) else {
        return false;
    };
    both as f64 / (a.len() + b.len() - both) as f64 >= SIMILAR
}

/// Jaccard similarity at or above which two answers are the same script.
pub const SIMILAR: f64 = 0.8;
/// How many *other* people must have received the same script.
pub const OTHERS: usize = 5;

/// MinHash bands and rows per band (16 × 4).
pub const BANDS: usize = 16;
const ROWS: usize = 4;
const HASHES: usize = BANDS * ROWS;
/// Within one LSH bucket each variant is compared with at most this many earlier ones.
pub const PER_BUCKET: usize = 24;

fn ends_sentence(token: &str) -> bool {
    token.ends_with(['.', '!', '?', '。', '！', '？'])
}

/// What one word-like token of an answer is, once masked.
enum Masked<'a> {
    Email,
    Url,
    Handle,
    Number,
    /// Runs of letters, each lower-cased unless it is a name (`true`).
    Words(Vec<(&'a str, bool)>),
}

impl Masked<'_> {
    fn mask(&self) -> Option<&'static str> {
        match self {
            Masked::Email => Some("<email>"),
            Masked::Url => Some("<url>"),
            Masked::Handle => Some("<handle>"),
            Masked::Number => Some("<number>"),
            Masked::Words(_) => None,
        }
    }
}

/// Whether a character belongs to a writing system that puts no spaces between words (Chinese,
/// Japanese, Thai, Lao, Khmer, Myanmar): there each character counts as a word, so that
/// shingles are character trigrams.
fn unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'   // Thai, Lao
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}' // Khmer
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
    )
}

/// A word split so that each character of an unspaced writing system stands alone.
fn unspaced_apart(word: &str) -> Vec<&str> {
    if !word.chars().any(unspaced) {
        return vec![word];
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in word.char_indices() {
        if unspaced(c) {
            if start < i {
                out.push(&word[start..i]);
            }
            out.push(&word[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    if start < word.len() {
        out.push(&word[start..]);
    }
    out
}

/// Splits an answer into tokens (raw text, its core without surrounding punctuation, what it
/// masks to), without the sign-off: a short last sentence of at most four words.
fn tokens(text: &str) -> Vec<(&str, &str, Masked<'_>)> {
    let raw: Vec<&str> = text.split_whitespace().collect();
    let mut end = raw.len();
    if let Some(last) = raw.iter().rposition(|t| ends_sentence(t))
        && last + 1 < raw.len()
        && raw.len() - last - 1 <= 4
    {
        end = last + 1;
    }
    let mut out = Vec::with_capacity(end);
    let mut sentence_start = true;
    for raw in &raw[..end] {
        let t = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '/');
        if t.is_empty() {
            sentence_start = sentence_start || ends_sentence(raw);
            continue;
        }
        let lower_start = |p: &str| t.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
        let masked = if t.find('@').is_some_and(|i| i > 0 && t[i..].contains('.')) {
            Masked::Email
        } else if t.starts_with('@') {
            Masked::Handle
        } else if lower_start("http://") || lower_start("https://") || lower_start("www.") {
            Masked::Url
        } else if t.chars().any(|c| c.is_ascii_digit()) {
            Masked::Number
        } else {
            let mut words = Vec::new();
            for word in t
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .flat_map(unspaced_apart)
            {
                let capital = word.chars().next().is_some_and(char::is_uppercase);
                // An acronym (FAQ, IBAN) is not a name.
                let acronym = word.chars().count() > 1 && !word.chars().any(char::is_lowercase);
                words.push((word, capital && !acronym && !sentence_start));
                sentence_start = false;
            }
            Masked::Words(words)
        };
        sentence_start = ends_sentence(raw);
        out.push((*raw, t, masked));
    }
    out
}

/// The words of an answer with what makes it personal masked: `<email>`, `<url>`,
/// `<handle>`, `<number>`, `<name>` (a capitalised word that does not start a sentence), and
/// the sign-off (a short last sentence of at most four words) dropped.
pub fn masked_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (_, _, m) in tokens(text) {
        match m {
            Masked::Words(words) => out.extend(words.into_iter().map(|(w, name)| {
                if name {
                    "<name>".to_owned()
                } else {
                    w.to_lowercase()
                }
            })),
            other => out.extend(other.mask().map(str::to_owned)),
        }
    }
    out
}

/// An answer as a script's representative shows it: its own punctuation and case, with
/// names, numbers, addresses, links and handles replaced by `‹name›`, `‹number›`… and the
/// sign-off left out, so that a script's text names nobody who received it.
pub fn masked_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (raw, core, m) in tokens(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        let at = raw.find(core).unwrap_or(0);
        out.push_str(&raw[..at]);
        match m {
            Masked::Words(words) if words.iter().all(|(_, name)| !name) => out.push_str(core),
            Masked::Words(_) => out.push_str("‹name›"),
            other => {
                let mask = other.mask().unwrap_or_default();
                out.push('‹');
                out.push_str(mask.trim_matches(['<', '>']));
                out.push('›');
            }
        }
        out.push_str(&raw[at + core.len()..]);
    }
    out
}

/// The answer's word 3-shingles, hashed, sorted, without repeats. A reply of one or two words
/// is one shingle; an empty one has none (and is never a script).
pub fn shingles(words: &[String]) -> Vec<u64> {
    let hash = |ws: &[String]| {
        ws.iter()
            .fold(FNV_START, |h, w| fnv(w.as_bytes(), fnv(b"\x1f", h)))
    };
    let mut s: Vec<u64> = if words.len() < 3 {
        if words.is_empty() {
            Vec::new()
        } else {
            vec![hash(words)]
        }
    } else {
        words.windows(3).map(hash).collect()
    };
    s.sort_unstable();
    s.dedup();
    s
}

/// An answer's text made ready for grouping: [`shingles`] of [`masked_words`].
pub fn prepare(text: &str) -> Vec<u64> {
    shingles(&masked_words(text))
}

/// A variant's key: one hash of its whole shingle set, the same on every run and machine.
pub fn variant_key(shingles: &[u64]) -> u64 {
    shingles
        .iter()
        .fold(FNV_START, |h, x| fnv(&x.to_le_bytes(), h))
}

/// The keys under which locality-sensitive hashing files a variant: one per band of its
/// MinHash signature. Two variants with Jaccard similarity 0.8 share at least one key with
/// probability 1 − (1 − 0.8⁴)¹⁶ ≈ 0.9998.
pub fn band_keys(shingles: &[u64]) -> [u64; BANDS] {
    let mut sig = [u64::MAX; HASHES];
    for &x in shingles {
        for (h, slot) in sig.iter_mut().enumerate() {
            let m = mix(x, h as u64 + 1);
            if m < *slot {
                *slot = m;
            }
        }
    }
    std::array::from_fn(|b| {
        sig[b * ROWS..(b + 1) * ROWS]
            .iter()
            .fold(b as u64, |acc, &x| mix(acc ^ x, 7))
    })
}

/// What has been grouped before: the ledger's index of variants, or nothing.
pub trait Index {
    type Error;
    /// The variant with this [`variant_key`], if known: its id and its script.
    fn variant(&mut self, key: u64) -> Result<Option<(i64, i64)>, Self::Error>;
    /// Up to `limit` known variants filed under a band key.
    fn band(&mut self, key: u64, limit: usize) -> Result<Vec<i64>, Self::Error>;
    /// A known variant's shingles and script.
    fn shingles(&mut self, variant: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error>;
}

/// Nothing grouped before: every answer is new.
pub struct Nothing;

impl Index for Nothing {
    type Error = std::convert::Infallible;
    fn variant(&mut self, _: u64) -> Result<Option<(i64, i64)>, Self::Error> {
        Ok(None)
    }
    fn band(&mut self, _: u64, _: usize) -> Result<Vec<i64>, Self::Error> {
        Ok(Vec::new())
    }
    fn shingles(&mut self, _: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error> {
        Ok(None)
    }
}

/// A variant seen for the first time, to be added to the index.
#[derive(Debug, Clone)]
pub struct NewVariant {
    pub id: i64,
    pub key: u64,
    pub script: i64,
    /// Index into the sets given to [`group`].
    pub set: usize,
    pub bands: [u64; BANDS],
}

/// What grouping new answers changes in the index.
#[derive(Debug, Clone, Default)]
pub struct Grouping {
    /// For each set given to [`group`], its variant's id (`None` for an empty answer).
    pub variant_of: Vec<Option<i64>>,
    pub new: Vec<NewVariant>,
    /// Known scripts joined into another by the new variants: `(from, into)`.
    pub merges: Vec<(i64, i64)>,
}

/// A node of the union-find forest: a new variant (by its place among the new ones) or a
/// known script.
#[derive(Clone, Copy)]
enum Node {
    New(u32),
    Known(i64),
}

/// Groups new answers' shingle sets (distinct ones; see [`variant_key`]) against what `index`
/// knows: a set seen before keeps its variant; a new set becomes a new variant (ids from
/// `next_id` on), joined with every variant, new or known, whose exact Jaccard similarity
/// with it is at least [`SIMILAR`] among the candidates MinHash banding proposes. Joining two
/// known scripts merges them into the older (smaller id). Nothing is redone for answers that
/// were grouped before, so an import costs what it adds.
pub fn group<I: Index>(
    sets: &[Vec<u64>],
    next_id: i64,
    index: &mut I,
) -> Result<Grouping, I::Error> {
    let mut out = Grouping {
        variant_of: vec![None; sets.len()],
        ..Grouping::default()
    };
    let mut nodes: Vec<Node> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut known_node: HashMap<i64, u32> = HashMap::new();
    let mut new_node: Vec<u32> = Vec::new();
    let mut new_sets: Vec<usize> = Vec::new();
    let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut cache: HashMap<i64, Option<(Vec<u64>, i64)>> = HashMap::new();
    let mut checked: Vec<i64> = Vec::new();
    // For each new variant, the last new variant compared with it.
    let mut compared_with: Vec<u32> = Vec::new();
    let add_node = |nodes: &mut Vec<Node>, parent: &mut Vec<u32>, n: Node| {
        nodes.push(n);
        parent.push(parent.len() as u32);
        (parent.len() - 1) as u32
    };
    let union = |parent: &mut Vec<u32>, a: u32, b: u32| {
        let (a, b) = (find(parent, a), find(parent, b));
        if a != b {
            parent[a.max(b) as usize] = a.min(b);
        }
    };
    for (i, s) in sets.iter().enumerate() {
        if s.is_empty() {
            continue;
        }
        let key = variant_key(s);
        if let Some((id, _)) = index.variant(key)? {
            out.variant_of[i] = Some(id);
            continue;
        }
        let n = new_sets.len() as u32;
        let me = add_node(&mut nodes, &mut parent, Node::New(n));
        new_node.push(me);
        new_sets.push(i);
        let bands = band_keys(s);
        checked.clear();
        compared_with.push(u32::MAX);
        for &b in &bands {
            let bucket = buckets.entry(b).or_default();
            for &other in bucket.iter().take(PER_BUCKET) {
                // Near-identical texts share many bands: compare each pair once.
                if compared_with[other as usize] == n {
                    continue;
                }
                compared_with[other as usize] = n;
                let o = new_node[other as usize];
                if find(&mut parent, me) != find(&mut parent, o)
                    && near(s, &sets[new_sets[other as usize]])
                {
                    union(&mut parent, me, o);
                }
            }
            bucket.push(n);
            for candidate in index.band(b, PER_BUCKET)? {
                if checked.contains(&candidate) {
                    continue;
                }
                checked.push(candidate);
                let loaded = match cache.entry(candidate) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(index.shingles(candidate)?)
                    }
                };
                let Some((theirs, script)) = loaded else {
                    continue;
                };
                let node = *known_node
                    .entry(*script)
                    .or_insert_with(|| add_node(&mut nodes, &mut parent, Node::Known(*script)));
                if find(&mut parent, me) != find(&mut parent, node) && near(s, theirs) {
                    union(&mut parent, me, node);
                }
            }
        }
        out.variant_of[i] = Some(next_id + i64::from(n));
        out.new.push(NewVariant {
            id: next_id + i64::from(n),
            key,
            script: 0,
            set: i,
            bands,
        });
    }
    // Each group's script is its oldest member: known scripts' ids (ids of variants) are all
    // smaller than the new variants'.
    let id_of = |node: &Node| match node {
        Node::Known(script) => *script,
        Node::New(n) => next_id + i64::from(*n),
    };
    let mut target: HashMap<u32, i64> = HashMap::new();
    for (x, node) in nodes.iter().enumerate() {
        let t = target
            .entry(find(&mut parent, x as u32))
            .or_insert(i64::MAX);
        *t = (*t).min(id_of(node));
    }
    for (x, node) in nodes.iter().enumerate() {
        let t = target[&find(&mut parent, x as u32)];
        match node {
            Node::Known(script) if *script != t => out.merges.push((*script, t)),
            Node::Known(_) => {}
            Node::New(n) => out.new[*n as usize].script = t,
        }
    }
    out.merges.sort_unstable();
    Ok(out)
}

/// Which answers in a ledger are scripted: their ledger numbers, as the index of scripts says.
/// What the `personal` reading asks of everyone else's answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scripted(Vec<i64>);

impl Scripted {
    pub fn new(mut seqs: Vec<i64>) -> Scripted {
        seqs.sort_unstable();
        seqs.dedup();
        Scripted(seqs)
    }

    pub fn contains(&self, answer: i64) -> bool {
        self.0.binary_search(&answer).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One script: the answers that are near-duplicates of each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Indexes into the answers given to [`detect`].
    pub answers: Vec<usize>,
    /// How many different people received it.
    pub people: usize,
}

/// What [`detect`] finds: which answers are scripted, and the scripts themselves (those that
/// reached more than [`OTHERS`] people), largest first.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    pub scripted: Vec<bool>,
    pub scripts: Vec<Script>,
}

/// Finds the scripted answers among `answers` all at once (nothing grouped before): each its
/// recipient (any id) and its shingles ([`prepare`]).
pub fn detect(answers: &[(u32, Vec<u64>)]) -> Detection {
    // Identical shingle sets are one variant.
    let mut set_of: HashMap<u64, usize> = HashMap::new();
    let mut sets: Vec<Vec<u64>> = Vec::new();
    let of_answer: Vec<Option<usize>> = answers
        .iter()
        .map(|(_, s)| {
            (!s.is_empty()).then(|| {
                *set_of.entry(variant_key(s)).or_insert_with(|| {
                    sets.push(s.clone());
                    sets.len() - 1
                })
            })
        })
        .collect();
    let Ok(g) = group(&sets, 1, &mut Nothing);
    let script_of: HashMap<i64, i64> = g.new.iter().map(|v| (v.id, v.script)).collect();
    let mut groups: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, set) in of_answer.iter().enumerate() {
        if let Some(variant) = set.and_then(|s| g.variant_of[s]) {
            groups.entry(script_of[&variant]).or_default().push(i);
        }
    }
    let mut scripted = vec![false; answers.len()];
    let mut scripts = Vec::new();
    for members in groups.into_values() {
        let mut people: Vec<u32> = members.iter().map(|&i| answers[i].0).collect();
        people.sort_unstable();
        people.dedup();
        if people.len() > OTHERS {
            for &i in &members {
                scripted[i] = true;
            }
            scripts.push(Script {
                people: people.len(),
                answers: members,
            });
        }
    }
    scripts.sort_by(|a, b| {
        b.people
            .cmp(&a.people)
            .then(a.answers[0].cmp(&b.answers[0]))
    });
    Detection { scripted, scripts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(text: &str) -> Vec<u64> {
        shingles(&masked_words(text))
    }

    #[test]
    fn names_numbers_addresses_links_handles_and_the_sign_off_are_masked() {
        let w = masked_words(
            "Dear Mehmet Bey, your order 4471 ships today. Mail ada@example.org or see https://x.org/t, @shop. Warm wishes, Kasia",
        );
        assert_eq!(
            w.join(" "),
            "dear <name> <name> your order <number> ships today mail <email> or see <url> <handle>"
        );
    }

    #[test]
    fn the_same_text_to_different_people_is_the_same_after_masking() {
        assert_eq!(
            sh("Dear Ann, thanks for your order 12. We ship it today. Best, Kasia"),
            sh("Dear Bo, thanks for your order 991. We ship it today. Cheers, Tom")
        );
    }

    #[test]
    fn a_script_sent_to_six_people_is_scripted_and_a_personal_answer_is_not() {
        let script = "Thank you for contacting us. We have received your request and will get back to you within two working days. If you have any other questions in the meantime, simply reply to this message and we will gladly help you further. Kind regards";
        let mut answers: Vec<(u32, Vec<u64>)> = (0..6).map(|p| (p, sh(script))).collect();
        // A near-duplicate with one word changed is the same script.
        answers.push((6, sh(&script.replace("request", "question"))));
        answers.push((
            7,
            sh("The grinder you asked about fits the moka pot; I checked it myself this morning."),
        ));
        answers.push((8, sh("")));
        let d = detect(&answers);
        assert_eq!(
            d.scripted,
            vec![true, true, true, true, true, true, true, false, false]
        );
        assert_eq!(d.scripts.len(), 1);
        assert_eq!(d.scripts[0].people, 7);
    }

    #[test]
    fn a_text_sent_to_only_five_people_in_all_is_not_a_script() {
        let text = "Thank you for contacting us. We will get back to you within two working days.";
        let answers: Vec<(u32, Vec<u64>)> = (0..5).map(|p| (p, sh(text))).collect();
        // Five answers, five people: each answer went to only four others.
        assert!(detect(&answers).scripted.iter().all(|s| !s));
        let mut more = answers.clone();
        more.push((5, sh(text)));
        assert!(detect(&more).scripted.iter().all(|s| *s));
    }

    /// An index kept in memory, as the ledger's tables keep it.
    #[derive(Default)]
    struct Memory {
        variants: HashMap<u64, (i64, i64)>,
        sets: HashMap<i64, (Vec<u64>, i64)>,
        bands: HashMap<u64, Vec<i64>>,
        next: i64,
    }

    impl Memory {
        fn add(&mut self, sets: &[Vec<u64>]) -> Vec<Option<i64>> {
            let Ok(g) = group(sets, self.next + 1, self);
            for (from, into) in &g.merges {
                for v in self.variants.values_mut().filter(|v| v.1 == *from) {
                    v.1 = *into;
                }
                for v in self.sets.values_mut().filter(|v| v.1 == *from) {
                    v.1 = *into;
                }
            }
            for v in &g.new {
                self.variants.insert(v.key, (v.id, v.script));
                self.sets.insert(v.id, (sets[v.set].clone(), v.script));
                for b in v.bands {
                    self.bands.entry(b).or_default().push(v.id);
                }
                self.next = self.next.max(v.id);
            }
            g.variant_of
        }

        fn script(&self, variant: i64) -> i64 {
            self.sets[&variant].1
        }
    }

    impl Index for Memory {
        type Error = std::convert::Infallible;
        fn variant(&mut self, key: u64) -> Result<Option<(i64, i64)>, Self::Error> {
            Ok(self.variants.get(&key).copied())
        }
        fn band(&mut self, key: u64, limit: usize) -> Result<Vec<i64>, Self::Error> {
            Ok(self
                .bands
                .get(&key)
                .map(|v| v.iter().take(limit).copied().collect())
                .unwrap_or_default())
        }
        fn shingles(&mut self, variant: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error> {
            Ok(self.sets.get(&variant).cloned())
        }
    }

    const SCRIPT: &str = "Thank you for contacting us. We have received your request and will get back to you within two working days. If you have any other questions in the meantime, simply reply to this message and we will gladly help you further. Kind regards";

    #[test]
    fn answers_grouped_in_two_imports_join_the_script_of_the_first() {
        let mut index = Memory::default();
        let first = index.add(&[
            sh(SCRIPT),
            sh("The grinder fits the moka pot; I checked it myself."),
        ]);
        let later = index.add(&[
            sh(SCRIPT),
            sh(&SCRIPT.replace("request", "question")),
            sh("Something else entirely, written for you alone this morning."),
        ]);
        let script = index.script(first[0].unwrap());
        // The same text is the same variant; a near-duplicate is a new variant of the same script.
        assert_eq!(later[0], first[0]);
        assert_ne!(later[1], first[0]);
        assert_eq!(index.script(later[1].unwrap()), script);
        assert_ne!(index.script(later[2].unwrap()), script);
        assert_ne!(index.script(first[1].unwrap()), script);
    }

    #[test]
    fn a_new_answer_that_bridges_two_known_scripts_merges_them_into_the_older() {
        let words: Vec<String> = (0..48)
            .map(|i| {
                format!(
                    "w{}",
                    ["alpha", "beta", "gamma", "delta", "omega"][i % 5].repeat(1 + i / 5)
                )
            })
            .collect();
        let text = |range: std::ops::Range<usize>| words[range].join(" ");
        let mut index = Memory::default();
        // A and B share 34 of their 38 shingles with C, but only 30 with each other.
        let a = index.add(&[sh(&text(0..40))])[0].unwrap();
        let b = index.add(&[sh(&text(8..48))])[0].unwrap();
        assert!(jaccard(&sh(&text(0..40)), &sh(&text(8..48))) < SIMILAR);
        assert!(jaccard(&sh(&text(0..40)), &sh(&text(4..44))) >= SIMILAR);
        assert_ne!(index.script(a), index.script(b));
        let c = index.add(&[sh(&text(4..44))])[0].unwrap();
        assert_eq!(index.script(a), a);
        assert_eq!(index.script(b), a);
        assert_eq!(index.script(c), a);
    }

    #[test]
    fn text_without_spaces_between_words_is_compared_by_its_characters() {
        let a =
            "お問い合わせいただきありがとうございます。担当者より三営業日以内にご連絡いたします。";
        let b =
            "お問い合わせいただきありがとうございます。担当者より五営業日以内にご連絡いたします。";
        let other = "ご注文の商品は本日発送しました。到着まで今しばらくお待ちください。";
        assert!(masked_words(a).len() > 30, "one word per character");
        assert!(jaccard(&sh(a), &sh(b)) >= SIMILAR);
        assert!(jaccard(&sh(a), &sh(other)) < 0.2);
    }

    #[test]
    fn the_quick_similarity_test_agrees_with_the_exact_jaccard() {
        let mut x: u64 = 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let base: Vec<u64> = (0..(next() % 40)).map(|_| next() % 60).collect();
            let mut a = base.clone();
            let mut b: Vec<u64> = base.into_iter().filter(|_| next() % 8 != 0).collect();
            b.extend((0..(next() % 4)).map(|_| next() % 60));
            a.sort_unstable();
            a.dedup();
            b.sort_unstable();
            b.dedup();
            assert_eq!(near(&a, &b), jaccard(&a, &b) >= SIMILAR, "{a:?} {b:?}");
        }
    }

    #[test]
    fn empty_answers_have_no_variant() {
        let mut index = Memory::default();
        assert_eq!(index.add(&[sh(""), sh("  ... ")]), vec![None, None]);
    }

    #[test]
    fn a_script_is_shown_with_names_numbers_and_links_masked_and_without_its_sign_off() {
        assert_eq!(
            masked_text(
                "Dear Mehmet, your order #4471 ships today (see https://x.org/t or our FAQ). Mail ada@example.org! Warm wishes, Kasia"
            ),
            "Dear ‹name›, your order #‹number› ships today (see ‹url› or our FAQ). Mail ‹email›!"
        );
    }
}
