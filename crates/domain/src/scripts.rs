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

use crate::similar::{FNV_START, find, fnv_extend as fnv, jaccard, mix};

/// Jaccard similarity at or above which two answers are the same script.
pub const SIMILAR: f64 = 0.8;
/// How many *other* people must have received the same script.
pub const OTHERS: usize = 5;

const BANDS: usize = 16;
const ROWS: usize = 4;
const HASHES: usize = BANDS * ROWS;
/// Within one LSH bucket each variant is compared with at most this many earlier ones.
const PER_BUCKET: usize = 24;

fn ends_sentence(token: &str) -> bool {
    token.ends_with(['.', '!', '?', '。', '！', '？'])
}

/// The words of an answer with what makes it personal masked: `<email>`, `<url>`,
/// `<handle>`, `<number>`, `<name>` (a capitalised word that does not start a sentence), and
/// the sign-off (a short last sentence of at most four words) dropped.
pub fn masked_words(text: &str) -> Vec<String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    // The sign-off: what follows the last sentence end, when it is short.
    let mut end = tokens.len();
    if let Some(last) = tokens.iter().rposition(|t| ends_sentence(t))
        && last + 1 < tokens.len()
        && tokens.len() - last - 1 <= 4
    {
        end = last + 1;
    }
    let mut out = Vec::new();
    let mut sentence_start = true;
    for raw in &tokens[..end] {
        let t = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '/');
        let lower = t.to_lowercase();
        if t.is_empty() {
            sentence_start = sentence_start || ends_sentence(raw);
            continue;
        }
        if t.contains('@') && t.find('@').is_some_and(|i| i > 0 && t[i..].contains('.')) {
            out.push("<email>".to_owned());
        } else if t.starts_with('@') {
            out.push("<handle>".to_owned());
        } else if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            out.push("<url>".to_owned());
        } else if t.chars().any(|c| c.is_ascii_digit()) {
            out.push("<number>".to_owned());
        } else {
            for word in t
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                let capital = word.chars().next().is_some_and(char::is_uppercase);
                if capital && !sentence_start {
                    out.push("<name>".to_owned());
                } else {
                    out.push(word.to_lowercase());
                }
                sentence_start = false;
            }
        }
        sentence_start = ends_sentence(raw) || out.is_empty();
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

/// Finds the scripted answers among `answers`: each its recipient (any id) and its shingles
/// ([`shingles`] of [`masked_words`]).
pub fn detect(answers: &[(u32, Vec<u64>)]) -> Detection {
    // 1. Identical shingle sets are one variant.
    let mut variant_of: HashMap<&[u64], u32> = HashMap::new();
    let mut variants: Vec<&[u64]> = Vec::new();
    let mut of_answer: Vec<Option<u32>> = Vec::with_capacity(answers.len());
    for (_, s) in answers {
        if s.is_empty() {
            of_answer.push(None);
            continue;
        }
        let v = *variant_of.entry(s.as_slice()).or_insert_with(|| {
            variants.push(s.as_slice());
            (variants.len() - 1) as u32
        });
        of_answer.push(Some(v));
    }
    // 2. MinHash with banding proposes pairs of variants; 3. exact Jaccard confirms them.
    let mut parent: Vec<u32> = (0..variants.len() as u32).collect();
    let mut buckets: HashMap<(u8, u64), Vec<u32>> = HashMap::new();
    for (v, s) in variants.iter().enumerate() {
        let mut sig = [u64::MAX; HASHES];
        for &x in *s {
            for (h, slot) in sig.iter_mut().enumerate() {
                let m = mix(x, h as u64 + 1);
                if m < *slot {
                    *slot = m;
                }
            }
        }
        for b in 0..BANDS {
            let key = sig[b * ROWS..(b + 1) * ROWS]
                .iter()
                .fold(b as u64, |acc, &x| mix(acc ^ x, 7));
            let bucket = buckets.entry((b as u8, key)).or_default();
            for &other in bucket.iter().take(PER_BUCKET) {
                let (a, c) = (find(&mut parent, v as u32), find(&mut parent, other));
                if a != c && jaccard(s, variants[other as usize]) >= SIMILAR {
                    parent[a.max(c) as usize] = a.min(c);
                }
            }
            bucket.push(v as u32);
        }
    }
    // 4. Scripts: groups of answers by the root of their variant.
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, v) in of_answer.iter().enumerate() {
        if let Some(v) = v {
            groups.entry(find(&mut parent, *v)).or_default().push(i);
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
}
