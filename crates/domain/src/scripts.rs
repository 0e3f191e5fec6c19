//! Scripted answers: an answer is *scripted* when, after masking what makes it personal
//! (names, numbers, e-mail addresses, URLs, handles and the sign-off), it is a near-duplicate
//! of answers sent to at least five other people (READINGS.md, "personal").
//!
//! Near-duplicate means a Jaccard similarity of at least 0.8 between the answers' sets of word
//! 3-shingles. Comparing every pair is out of the question at a million answers, so:
//! identical texts (after masking numbers, addresses and links) are collapsed first (a script
//! sent ten thousand times is one variant per name it was sent with), MinHash signatures with
//! banding propose candidate pairs among the variants, and each candidate is confirmed with
//! the exact Jaccard similarity. Confirmed variants are joined (union-find) into scripts; an
//! answer is scripted when its script reached at least five people other than its own
//! recipient.
//!
//! **Names.** Masking needs no word lists, so it works in any language — but a capitalised
//! word is not always a name: German capitalises every noun, and "Vielen Dank für Ihre
//! Bestellung" must not become "vielen ‹name› für ‹name› ‹name›", or different German answers
//! look alike. So a capitalised word that does not start a sentence is only a *possible* name
//! ([`prepare`] marks it), and which possible names are names is decided pair by pair: a name
//! is what differs between two answers of one script. When two answers are compared, the
//! possible names of each that the other does not contain at all are masked (a run of them,
//! "Frau Anna Berg", as one name) — provided there are at most [`NAMES`] of them on each side;
//! a word both answers contain is never a name, and answers that differ in more capitalised
//! words than that are compared as written.
//! Banding, which only proposes candidates, masks every possible name, so that "Dear Ann"
//! and "Dear Bo" are proposed together.

use std::cell::OnceCell;
use std::collections::HashMap;

#[cfg(test)]
use crate::similar::jaccard;
use crate::similar::{FNV_START, find, fnv_extend as fnv, mix, shared};

/// At most this many capitalised words of each of two answers, absent from the other, are
/// read as names when the two are compared: a title, a first name and a surname ("Frau Anna
/// Berg", "Madame Dupont"). More than that is not a greeting but a different answer.
pub const NAMES: usize = 3;

/// Set on a word's hash ([`prepare`]) when the word may be a name.
const MAYBE_NAME: u64 = 1;

/// A word as grouping compares it: its hash without the possible-name mark.
fn word_id(word: u64) -> u64 {
    word & !MAYBE_NAME
}

/// The hash of a lower-cased word (or of a mask such as `<number>`), possible-name mark clear.
fn hash_word(word: &str) -> u64 {
    word_id(mix(fnv(word.as_bytes(), FNV_START), 0x5c_1e57))
}

/// What a name becomes once masked.
fn name_word() -> u64 {
    hash_word("<name>")
}

/// Whether two answers' words ([`prepare`]) are near-duplicates: masking the names that tell
/// them apart (see the module's header), is the Jaccard similarity of their 3-shingles at
/// least [`SIMILAR`]?
#[cfg(test)]
fn near(a: &[u64], b: &[u64]) -> bool {
    near_known(a, &OnceCell::new(), b, None)
}

/// [`near`], given a place for `a`'s shingles as written (no name masked; made when first
/// needed, and kept for `a`'s next comparison), and `b`'s if known: most pairs that banding
/// proposes share no possible name to mask, and are then told apart by these alone — often
/// by their sizes, before `b`'s are even made. (The same script sent with other names is told
/// by its names, and never needs them.)
fn near_known(a: &[u64], a_plain: &OnceCell<Vec<u64>>, b: &[u64], b_plain: Option<&[u64]>) -> bool {
    match (names_apart(a, b), names_apart(b, a)) {
        (Some(of_a), Some(of_b)) if !of_a.is_empty() || !of_b.is_empty() => near_sets(
            &shingle_set(a, |w| of_a.contains(&word_id(w))),
            &shingle_set(b, |w| of_b.contains(&word_id(w))),
        ),
        _ => match b_plain {
            Some(b_plain) => near_sets(a_plain.get_or_init(|| shingle_set(a, |_| false)), b_plain),
            None => {
                // `b` has at most one shingle per word after its first two: too few to
                // reach `a`'s size?
                let a_plain = a_plain.get_or_init(|| shingle_set(a, |_| false));
                let most = b.len().saturating_sub(2).max(1);
                if (most as f64) < SIMILAR * a_plain.len() as f64 - 1e-9 {
                    return false;
                }
                near_sets(a_plain, &shingle_set(b, |_| false))
            }
        },
    }
}

/// The possible names of `a` (their word ids) that `b` does not contain at all, or `None`
/// when there are more than [`NAMES`] of them.
fn names_apart(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    let mut apart: Vec<u64> = Vec::new();
    let mut theirs: Option<Vec<u64>> = None;
    for &w in a {
        let id = word_id(w);
        if w & MAYBE_NAME == 0 || apart.contains(&id) {
            continue;
        }
        // Most answers have no possible name at all: sort the other's words only when needed.
        let theirs = theirs.get_or_insert_with(|| {
            let mut t: Vec<u64> = b.iter().map(|x| word_id(*x)).collect();
            t.sort_unstable();
            t
        });
        if theirs.binary_search(&id).is_err() {
            if apart.len() == NAMES {
                return None;
            }
            apart.push(id);
        }
    }
    Some(apart)
}

/// Whether the Jaccard similarity of two sorted sets without repeats is at least [`SIMILAR`],
/// stopping as soon as the answer is known: most candidates banding proposes are not similar,
/// and sizes alone, or the first part of the merge, usually tell.
fn near_sets(a: &[u64], b: &[u64]) -> bool {
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

/// The words of an answer as banding sees them: `<email>`, `<url>`, `<handle>`, `<number>`,
/// `<name>` for every possible name (a capitalised word that does not start a sentence; a run
/// of them is one), the rest lower-cased, and the sign-off (a short last sentence of at most
/// four words) dropped.
/// (Confirming a candidate masks fewer words: see the module's header.)
pub fn masked_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, _, m) in tokens(text) {
        match m {
            Masked::Words(words) => {
                for (w, name) in words {
                    // A run of names is one name, as in [`names_masked`].
                    if !name {
                        out.push(w.to_lowercase());
                    } else if out.last().is_none_or(|l| l != "<name>") {
                        out.push("<name>".to_owned());
                    }
                }
            }
            other => out.extend(other.mask().map(str::to_owned)),
        }
    }
    out
}

/// An answer as a script's representative shows it: its own punctuation and case, with
/// names, numbers, addresses, links and handles replaced by `‹name›`, `‹number›`… and the
/// sign-off left out, so that a script's text names nobody who received it.
///
/// `others` are answers of the same script to *other* people. A possible name is shown as a
/// word when every one of them contains it too (a German noun of the script, a product's
/// name): a word shared by the answers of different people names none of them. Without
/// others to compare with, every possible name is masked.
pub fn masked_text(text: &str, others: &[&str]) -> String {
    let theirs: Vec<Vec<u64>> = others
        .iter()
        .map(|t| {
            let mut ids: Vec<u64> = prepare(t).into_iter().map(word_id).collect();
            ids.sort_unstable();
            ids
        })
        .collect();
    let shared = |word: &str| {
        let id = hash_word(&word.to_lowercase());
        !theirs.is_empty() && theirs.iter().all(|t| t.binary_search(&id).is_ok())
    };
    let mut out = String::with_capacity(text.len());
    for (raw, core, m) in tokens(text) {
        let at = raw.find(core).unwrap_or(0);
        let name =
            matches!(&m, Masked::Words(words) if words.iter().any(|(w, name)| *name && !shared(w)));
        // A run of names is one name: "Frau Anna Berg" is shown as one ‹name›.
        if name && at == 0 && out.ends_with("‹name›") {
            out.push_str(&raw[core.len()..]);
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&raw[..at]);
        match m {
            Masked::Words(_) if !name => out.push_str(core),
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

/// An answer's text made ready for grouping: its words in order, each hashed (lower-cased;
/// e-mail addresses, links, handles and numbers as their masks; the sign-off dropped), with
/// the possible names marked. Which of those are names is decided when two answers are
/// compared ([`near`]); the words are what the index keeps of an answer — never its text.
/// An answer without words has none (and is never a script).
pub fn prepare(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for (_, _, m) in tokens(text) {
        match m {
            Masked::Words(words) => {
                out.extend(words.into_iter().map(|(w, name)| {
                    hash_word(&w.to_lowercase()) | if name { MAYBE_NAME } else { 0 }
                }))
            }
            other => out.extend(other.mask().map(hash_word)),
        }
    }
    out
}

/// The 3-shingles of an answer's words ([`prepare`]), hashed, sorted, without repeats, with
/// the words for which `name` holds masked as `<name>`. A reply of one or two words is one
/// shingle; an empty one has none.
fn shingle_set(words: &[u64], name: impl Fn(u64) -> bool) -> Vec<u64> {
    let words = names_masked(words, name);
    let words = words.as_slice();
    let hash = |ws: &[u64]| {
        ws.iter()
            .fold(0x5eed ^ ws.len() as u64, |h, &w| mix(h ^ w, 0x3))
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

/// Word ids with the words for which `name` holds masked as `<name>`, a run of them as one:
/// "Frau Anna Berg" and "Jonas" are both one name.
fn names_masked(words: &[u64], name: impl Fn(u64) -> bool) -> Vec<u64> {
    let masked = name_word();
    let mut out: Vec<u64> = Vec::with_capacity(words.len());
    for &w in words {
        if !name(w) {
            out.push(word_id(w));
        } else if out.last() != Some(&masked) {
            out.push(masked);
        }
    }
    out
}

/// The shingles banding files an answer under: every possible name masked.
fn banded_shingles(words: &[u64]) -> Vec<u64> {
    shingle_set(words, |w| w & MAYBE_NAME != 0)
}

/// A variant's key: one hash of its words (with their possible-name marks), the same on every
/// run and machine. Answers with the same key are the same text once numbers, addresses and
/// links are masked.
pub fn variant_key(words: &[u64]) -> u64 {
    words
        .iter()
        .fold(FNV_START, |h, x| fnv(&x.to_le_bytes(), h))
}

/// A variant's *wording*: one hash of its words with every possible name masked. The answers
/// of one script that differ only in names have one wording; a script's figures count its
/// wordings as its variants, and its representative text is drawn from its commonest one.
pub fn wording_key(words: &[u64]) -> u64 {
    names_masked(words, |w| w & MAYBE_NAME != 0)
        .iter()
        .fold(FNV_START, |h, w| fnv(&w.to_le_bytes(), h))
}

/// The keys under which locality-sensitive hashing files a variant (by its words,
/// [`prepare`]): one per band of the MinHash signature of its shingles with every possible
/// name masked. Two variants with Jaccard similarity 0.8 share at least one key with
/// probability 1 − (1 − 0.8⁴)¹⁶ ≈ 0.9998.
pub fn band_keys(words: &[u64]) -> [u64; BANDS] {
    let shingles = banded_shingles(words);
    let mut sig = [u64::MAX; HASHES];
    for &x in &shingles {
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
    /// A known variant's words ([`prepare`]) and script.
    fn words(&mut self, variant: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error>;
    /// A known variant of this [`wording_key`], if any (the first, which is filed under its
    /// bands).
    fn wording(&mut self, key: u64) -> Result<Option<i64>, Self::Error>;
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
    fn words(&mut self, _: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error> {
        Ok(None)
    }
    fn wording(&mut self, _: u64) -> Result<Option<i64>, Self::Error> {
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
    /// Its MinHash band keys, to be filed under; `None` when a variant of the same wording
    /// already took it into its script (see [`group`]): its bands would be that variant's.
    pub bands: Option<[u64; BANDS]>,
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

/// A known variant loaded from the index: its words, its shingles as written (no name
/// masked), its script.
type Loaded = (Vec<u64>, Vec<u64>, i64);

/// A node of the union-find forest: a new variant (by its place among the new ones) or a
/// known script.
#[derive(Clone, Copy)]
enum Node {
    New(u32),
    Known(i64),
}

/// A known variant's words, plain shingles and script, read from `index` once per grouping.
fn load<'c, I: Index>(
    cache: &'c mut HashMap<i64, Option<Loaded>>,
    index: &mut I,
    variant: i64,
) -> Result<&'c Option<Loaded>, I::Error> {
    Ok(match cache.entry(variant) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(index.words(variant)?.map(|(words, script)| {
                let plain = shingle_set(&words, |_| false);
                (words, plain, script)
            }))
        }
    })
}

/// Groups new answers' words ([`prepare`]; distinct ones, see [`variant_key`]) against what
/// `index` knows: words seen before keep their variant; new words become a new variant (ids
/// from `next_id` on), joined with every variant, new or known, that is a near-duplicate of
/// it (its names masked, Jaccard similarity at least [`SIMILAR`]) among the candidates MinHash
/// banding proposes. Joining two known scripts merges them into the older (smaller id).
/// Nothing is redone for answers that were grouped before, so an import costs what it adds.
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
    let mut cache: HashMap<i64, Option<Loaded>> = HashMap::new();
    let mut checked: Vec<i64> = Vec::new();
    // For each new variant, the last new variant compared with it.
    let mut compared_with: Vec<u32> = Vec::new();
    // The first new variant of each wording (the one filed under its bands).
    let mut by_wording: HashMap<u64, u32> = HashMap::new();
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
        let plain = OnceCell::new();
        compared_with.push(u32::MAX);
        // The same script sent with other names: one comparison with a variant of the same
        // wording (every possible name masked) settles it, without searching the bands — they
        // are that variant's bands. Only when the two are not near-duplicates after all (a
        // German answer differing in its nouns) is the new variant searched and filed anew.
        let wording = wording_key(s);
        let mut joined = false;
        if let Some(&first) = by_wording.get(&wording) {
            let o = new_node[first as usize];
            if near_known(s, &plain, &sets[new_sets[first as usize]], None) {
                union(&mut parent, me, o);
                joined = true;
            }
        } else if let Some(candidate) = index.wording(wording)?
            && let Some((theirs, their_plain, script)) = load(&mut cache, index, candidate)?
            && near_known(s, &plain, theirs, Some(their_plain))
        {
            let node = *known_node
                .entry(*script)
                .or_insert_with(|| add_node(&mut nodes, &mut parent, Node::Known(*script)));
            union(&mut parent, me, node);
            joined = true;
        }
        if joined {
            out.variant_of[i] = Some(next_id + i64::from(n));
            out.new.push(NewVariant {
                id: next_id + i64::from(n),
                key,
                script: 0,
                set: i,
                bands: None,
            });
            continue;
        }
        by_wording.entry(wording).or_insert(n);
        let bands = band_keys(s);
        checked.clear();
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
                    && near_known(s, &plain, &sets[new_sets[other as usize]], None)
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
                let Some((theirs, their_plain, script)) = load(&mut cache, index, candidate)?
                else {
                    continue;
                };
                let node = *known_node
                    .entry(*script)
                    .or_insert_with(|| add_node(&mut nodes, &mut parent, Node::Known(*script)));
                if find(&mut parent, me) != find(&mut parent, node)
                    && near_known(s, &plain, theirs, Some(their_plain))
                {
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
            bands: Some(bands),
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
/// recipient (any id) and its words ([`prepare`]).
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

    /// An answer as grouping takes it.
    fn sh(text: &str) -> Vec<u64> {
        prepare(text)
    }

    /// An answer's shingles as written (no name masked), for exact similarities.
    fn shingled(text: &str) -> Vec<u64> {
        shingle_set(&prepare(text), |_| false)
    }

    #[test]
    fn names_numbers_addresses_links_handles_and_the_sign_off_are_masked() {
        let w = masked_words(
            "Dear Mehmet Bey, your order 4471 ships today. Mail ada@example.org or see https://x.org/t, @shop. Warm wishes, Kasia",
        );
        assert_eq!(
            w.join(" "),
            "dear <name> your order <number> ships today mail <email> or see <url> <handle>"
        );
    }

    #[test]
    fn the_same_text_to_different_people_is_the_same_after_masking() {
        let (a, b) = (
            sh("Dear Ann, thanks for your order 12. We ship it today. Best, Kasia"),
            sh("Dear Bo, thanks for your order 991. We ship it today. Cheers, Tom"),
        );
        // Two variants (the names differ), one wording, filed together, and near-duplicates.
        assert_ne!(variant_key(&a), variant_key(&b));
        assert_eq!(wording_key(&a), wording_key(&b));
        assert_eq!(band_keys(&a), band_keys(&b));
        assert!(near(&a, &b));
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
        wordings: HashMap<u64, i64>,
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
                self.wordings
                    .entry(wording_key(&sets[v.set]))
                    .or_insert(v.id);
                for b in v.bands.into_iter().flatten() {
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
        fn words(&mut self, variant: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error> {
            Ok(self.sets.get(&variant).cloned())
        }
        fn wording(&mut self, key: u64) -> Result<Option<i64>, Self::Error> {
            Ok(self.wordings.get(&key).copied())
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
        assert!(jaccard(&shingled(&text(0..40)), &shingled(&text(8..48))) < SIMILAR);
        assert!(jaccard(&shingled(&text(0..40)), &shingled(&text(4..44))) >= SIMILAR);
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
        assert!(jaccard(&shingled(a), &shingled(b)) >= SIMILAR);
        assert!(jaccard(&shingled(a), &shingled(other)) < 0.2);
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
            assert_eq!(near_sets(&a, &b), jaccard(&a, &b) >= SIMILAR, "{a:?} {b:?}");
        }
    }

    #[test]
    fn telling_answers_apart_by_size_first_never_turns_away_a_near_duplicate() {
        let mut x: u64 = 7;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let vocabulary = [
            "a", "b", "c", "d", "Anna", "Köln", "e", "f", "g", "h", "i", "j",
        ];
        let mut near_ones = 0;
        for _ in 0..2000 {
            let a: Vec<&str> = (0..1 + next(30))
                .map(|_| vocabulary[next(12) as usize])
                .collect();
            // Another text, or this one with a word or two changed and a few more at its end.
            let b: Vec<&str> = if next(2) == 0 {
                (0..1 + next(30))
                    .map(|_| vocabulary[next(12) as usize])
                    .collect()
            } else {
                let mut b: Vec<&str> = a
                    .iter()
                    .map(|w| {
                        if next(12) == 0 {
                            vocabulary[next(12) as usize]
                        } else {
                            w
                        }
                    })
                    .collect();
                b.extend((0..next(4)).map(|_| vocabulary[next(12) as usize]));
                b
            };
            let (a, b) = (prepare(&a.join(" ")), prepare(&b.join(" ")));
            let pb = shingle_set(&b, |_| false);
            near_ones += usize::from(near_known(&a, &OnceCell::new(), &b, Some(&pb)));
            assert_eq!(
                near_known(&a, &OnceCell::new(), &b, None),
                near_known(&a, &OnceCell::new(), &b, Some(&pb)),
                "{a:?} {b:?}"
            );
        }
        assert!(
            near_ones > 100,
            "the cases should include near-duplicates: {near_ones}"
        );
    }

    #[test]
    fn empty_answers_have_no_variant() {
        let mut index = Memory::default();
        assert_eq!(index.add(&[sh(""), sh("  ... ")]), vec![None, None]);
    }

    /// One script in each language, sent to six people with their own names (titles and
    /// surnames included), numbers and agents' sign-offs.
    const IN_FOUR_LANGUAGES: [(&str, &str, [&str; 6]); 4] = [
        (
            "de",
            "Hallo {name}, vielen Dank für Ihre Nachricht zu Ihrer Bestellung {n}. Unser Kundenservice prüft Ihr Anliegen und meldet sich innerhalb von zwei Werktagen bei Ihnen. Bei weiteren Fragen antworten Sie einfach auf diese E-Mail. Viele Grüße, {agent}",
            [
                "Frau Schneider",
                "Herr Yilmaz",
                "Anna",
                "Herr Becker",
                "Frau Nowak",
                "Jonas",
            ],
        ),
        (
            "nl",
            "Beste {name}, bedankt voor je bericht over bestelling {n}. We hebben je vraag ontvangen en reageren binnen twee werkdagen. Heb je intussen nog een vraag, antwoord dan gewoon op deze mail. Met vriendelijke groet, {agent}",
            [
                "Bram",
                "mevrouw Jansen",
                "meneer De Vries",
                "Fleur",
                "Sanne",
                "meneer Bakker",
            ],
        ),
        (
            "en",
            "Dear {name}, thank you for contacting us about order {n}. We have received your request and will get back to you within two working days. If you have any other questions in the meantime, simply reply to this message. Kind regards, {agent}",
            [
                "Mr Smith",
                "Mrs Jones",
                "Ann",
                "Dr Patel",
                "Bo",
                "Ms O'Neill",
            ],
        ),
        (
            "fr",
            "Bonjour {name}, merci pour votre message concernant la commande {n}. Notre service client reviendra vers vous sous deux jours ouvrés. Si vous avez d'autres questions, répondez simplement à ce message. Cordialement, {agent}",
            [
                "Madame Dupont",
                "Monsieur Martin",
                "Camille",
                "Madame Lefèvre",
                "Monsieur Bernard",
                "Léa",
            ],
        ),
    ];

    fn sent_to(script: &str, name: &str, i: usize) -> String {
        script
            .replace("{name}", name)
            .replace("{n}", &(4400 + 7 * i).to_string())
            .replace("{agent}", ["Kasia", "Tom", "Anouk"][i % 3])
    }

    #[test]
    fn a_script_sent_with_different_names_is_one_script_in_german_dutch_english_and_french() {
        for (language, script, names) in IN_FOUR_LANGUAGES {
            let answers: Vec<(u32, Vec<u64>)> = names
                .iter()
                .enumerate()
                .map(|(i, name)| (i as u32, sh(&sent_to(script, name, i))))
                .collect();
            let d = detect(&answers);
            assert!(
                d.scripted.iter().all(|s| *s),
                "{language}: {:?}",
                d.scripted
            );
            assert_eq!(d.scripts.len(), 1, "{language}");
        }
    }

    /// Six answers written for six people in German: each says where their own thing is, who
    /// will call and about what. Every noun is capitalised, so masking every capitalised word
    /// made them one text ("ihre ‹name› ist beim ‹name› in ‹name› …").
    const GERMAN_PERSONAL: [&str; 6] = [
        "Ihre Kaffeemühle ist beim Techniker in Köln, Jonas ruft Sie am Montag wegen der Garantie an.",
        "Ihre Espressomaschine ist beim Händler in Bremen, Lena ruft Sie am Dienstag wegen der Rechnung an.",
        "Ihre Bestellung ist beim Zoll in Hamburg, Murat ruft Sie am Mittwoch wegen der Lieferung an.",
        "Ihre Rücksendung ist beim Lager in Kassel, Sophie ruft Sie am Donnerstag wegen der Gutschrift an.",
        "Ihre Milchkanne ist beim Hersteller in Ulm, Paul ruft Sie am Freitag wegen der Reparatur an.",
        "Ihre Thermoskanne ist beim Kurier in Essen, Mia ruft Sie am Samstag wegen der Erstattung an.",
    ];

    #[test]
    fn different_personal_answers_in_german_are_not_one_script() {
        let answers: Vec<(u32, Vec<u64>)> = GERMAN_PERSONAL
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u32, sh(t)))
            .collect();
        // With every capitalised word masked — the old rule, and what banding still sees —
        // they are one text sent to six people: a script. Confirming tells them apart.
        assert!(answers.iter().all(
            |a| masked_words(GERMAN_PERSONAL[0]) == masked_words(GERMAN_PERSONAL[a.0 as usize])
        ));
        assert!(
            answers
                .iter()
                .all(|a| wording_key(&a.1) == wording_key(&answers[0].1))
        );
        let d = detect(&answers);
        assert!(d.scripted.iter().all(|s| !s), "{:?}", d.scripted);
        assert!(d.scripts.is_empty());
        // Nor do they join when they arrive in two imports.
        let mut index = Memory::default();
        let first = index.add(&answers[..3].iter().map(|a| a.1.clone()).collect::<Vec<_>>());
        let later = index.add(&answers[3..].iter().map(|a| a.1.clone()).collect::<Vec<_>>());
        let mut scripts: Vec<i64> = first
            .iter()
            .chain(&later)
            .map(|v| index.script(v.unwrap()))
            .collect();
        scripts.sort_unstable();
        scripts.dedup();
        assert_eq!(scripts.len(), 6);
    }

    #[test]
    fn a_name_is_what_differs_between_two_answers_and_at_most_three_words_of_each() {
        let a = sh("Ihre Kaffeemühle ist beim Techniker, Jonas ruft Sie an.");
        // Only the first name differs: one possible name each, masked, the same text.
        assert!(near(
            &a,
            &sh("Ihre Kaffeemühle ist beim Techniker, Lena ruft Sie an.")
        ));
        // "Sie" and the nouns both contain are words, not names.
        assert_eq!(
            names_apart(
                &a,
                &sh("Ihre Kaffeemühle ist beim Techniker, Lena ruft Sie an.")
            ),
            Some(vec![hash_word("jonas")])
        );
        // Four capitalised words apart on one side: not a greeting but another answer, so the
        // two are compared as written.
        let b = sh("Ihre Bestellung ist beim Zoll, Murat ruft Sie am Montag an.");
        assert_eq!(names_apart(&a, &b).map(|n| n.len()), Some(3));
        assert_eq!(names_apart(&b, &a), None);
        assert!(!near(&a, &b));
    }

    #[test]
    fn the_text_of_a_german_script_shows_its_nouns_as_words_and_its_names_masked() {
        let (_, script, names) = IN_FOUR_LANGUAGES[0];
        let texts: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| sent_to(script, n, i))
            .collect();
        let others: Vec<&str> = texts[1..].iter().map(String::as_str).collect();
        assert_eq!(
            masked_text(&texts[0], &others),
            "Hallo ‹name›, vielen Dank für Ihre Nachricht zu Ihrer Bestellung ‹number›. Unser Kundenservice prüft Ihr Anliegen und meldet sich innerhalb von zwei Werktagen bei Ihnen. Bei weiteren Fragen antworten Sie einfach auf diese E-Mail."
        );
        // A word only some of the others contain may be a name: masked.
        assert!(masked_text(&texts[1], &[texts[3].as_str()]).starts_with("Hallo Herr ‹name›,"));
        assert!(masked_text(&texts[1], &[texts[0].as_str()]).starts_with("Hallo ‹name›,"));
        // With nothing to compare with, every capitalised word that does not start a sentence
        // is masked, as before.
        assert!(masked_text(&texts[0], &[]).starts_with("Hallo ‹name›, vielen ‹name› für ‹name›"));
    }

    #[test]
    fn a_script_is_shown_with_names_numbers_and_links_masked_and_without_its_sign_off() {
        assert_eq!(
            masked_text(
                "Dear Mehmet, your order #4471 ships today (see https://x.org/t or our FAQ). Mail ada@example.org! Warm wishes, Kasia",
                &[]
            ),
            "Dear ‹name›, your order #‹number› ships today (see ‹url› or our FAQ). Mail ‹email›!"
        );
    }
}
