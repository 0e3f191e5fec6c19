//! Grouping short texts that say the same thing — ten people proposing a decaf house blend
//! are one request with ten voices — in any language, without word lists.
//!
//! Each text becomes a set of features: its words (Unicode letters and digits, lower-cased,
//! a plural `s` dropped) and its adjacent word pairs, minus words so common across all texts
//! that they carry nothing (those in more than a fifth of them, when there are at least 20
//! texts). MinHash signatures with locality-sensitive hashing propose candidate pairs
//! cheaply; each candidate is then confirmed with the exact Jaccard similarity of the two
//! feature sets, and confirmed pairs are joined into groups (union-find).

use std::collections::HashMap;

/// Jaccard similarity at or above which two texts are the same request.
pub const SAME: f64 = 0.5;

const BANDS: usize = 32;
const ROWS: usize = 2;
const HASHES: usize = BANDS * ROWS;

/// FNV-1a's starting value.
pub(crate) const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over `bytes`, continuing from `h`: a stable hash of words (the same on every run
/// and machine, unlike std's).
pub(crate) fn fnv_extend(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn fnv(s: &str) -> u64 {
    fnv_extend(s.as_bytes(), FNV_START)
}

pub(crate) fn mix(x: u64, seed: u64) -> u64 {
    // splitmix64 of x under a per-hash seed: cheap and well spread.
    let mut z = x ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The words of a text: runs of letters and digits, lower-cased, a final plural `s` dropped.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix('s') {
                Some(stem) if stem.chars().count() >= 3 => stem.to_owned(),
                _ => w,
            }
        })
        .collect()
}

/// One group of texts: the indexes of its members, and the one that best represents it
/// (the member most similar to the others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub members: Vec<usize>,
    pub representative: usize,
}

/// How many elements two sorted sets without repeats share, or `None` as soon as it is clear
/// that they cannot share `need`.
pub(crate) fn shared(a: &[u64], b: &[u64], need: usize) -> Option<usize> {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        if both + (a.len() - i).min(b.len() - j) < need {
            return None;
        }
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (both >= need).then_some(both)
}

/// Exact Jaccard similarity of two sorted sets without repeats.
pub(crate) fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let both = shared(a, b, 0).unwrap_or(0);
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// The root of `x` in a union-find forest, halving paths on the way.
pub(crate) fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

/// Groups `texts` by similarity; the largest groups first, then by first member. Empty
/// texts (no words) are left out.
pub fn group(texts: &[&str]) -> Vec<Group> {
    let tokenised: Vec<Vec<String>> = texts.iter().map(|t| words(t)).collect();
    // Words in more than a fifth of the texts say nothing about what is asked for.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for ws in &tokenised {
        let mut seen: Vec<&str> = ws.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1;
        }
    }
    let common = |w: &str| texts.len() >= 20 && df.get(w).copied().unwrap_or(0) * 5 > texts.len();
    let features: Vec<Vec<u64>> = tokenised
        .iter()
        .map(|ws| {
            let kept: Vec<&str> = ws
                .iter()
                .map(String::as_str)
                .filter(|w| !common(w))
                .collect();
            let mut f: Vec<u64> = kept.iter().map(|w| fnv(w)).collect();
            f.extend(
                kept.windows(2)
                    .map(|p| fnv(p[0]) ^ fnv(p[1]).rotate_left(17)),
            );
            f.sort_unstable();
            f.dedup();
            f
        })
        .collect();

    // MinHash signatures, banded: texts sharing any band are candidates.
    let mut buckets: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        if f.is_empty() {
            continue;
        }
        let sig: Vec<u64> = (0..HASHES as u64)
            .map(|h| f.iter().map(|&x| mix(x, h + 1)).min().unwrap_or(u64::MAX))
            .collect();
        for b in 0..BANDS {
            let key = sig[b * ROWS..(b + 1) * ROWS]
                .iter()
                .fold(0u64, |acc, &v| mix(acc ^ v, b as u64));
            buckets.entry((b, key)).or_default().push(i);
        }
    }
    let mut parent: Vec<u32> = (0..texts.len() as u32).collect();
    let mut checked: std::collections::HashSet<(usize, usize)> = std::collections::HashSet::new();
    for members in buckets.values() {
        if members.len() < 2 {
            continue;
        }
        // Within a bucket, compare each text with the bucket's first few (big buckets are
        // texts that are all alike; comparing everything with everything is not needed).
        for (k, &a) in members.iter().enumerate() {
            for &b in members.iter().take(k).take(8) {
                let pair = (a.min(b), a.max(b));
                if !checked.insert(pair) {
                    continue;
                }
                if jaccard(&features[a], &features[b]) >= SAME {
                    let (ra, rb) = (find(&mut parent, a as u32), find(&mut parent, b as u32));
                    if ra != rb {
                        parent[ra.max(rb) as usize] = ra.min(rb);
                    }
                }
            }
        }
    }
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        if f.is_empty() {
            continue;
        }
        let r = find(&mut parent, i as u32);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Group> = groups
        .into_values()
        .map(|members| {
            // The representative: the member with the highest total similarity to (up to 50 of)
            // the others.
            let sample: Vec<usize> = members.iter().copied().take(50).collect();
            let representative = *members
                .iter()
                .take(50)
                .max_by(|&&a, &&b| {
                    let score = |x: usize| -> f64 {
                        sample
                            .iter()
                            .map(|&y| jaccard(&features[x], &features[y]))
                            .sum()
                    };
                    score(a).total_cmp(&score(b)).then(b.cmp(&a))
                })
                .unwrap_or(&members[0]);
            Group {
                members,
                representative,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.members[0].cmp(&b.members[0]))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_request_in_other_words_is_one_group_and_a_different_one_is_not() {
        let texts = [
            "Please offer a decaf version of the house blend.",
            "please offer a decaf version of your house blend!",
            "Offer a decaf version of the house blend please",
            "Could you deliver on Saturdays?",
            "",
        ];
        let groups = group(&texts);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0].members, vec![0, 1, 2]);
        assert_eq!(groups[1].members, vec![3]);
    }

    #[test]
    fn words_are_found_in_any_script() {
        assert_eq!(
            words("Bitte Entkoffeiniert!"),
            vec!["bitte", "entkoffeiniert"]
        );
        assert_eq!(
            words("カフェインレス を 希望"),
            vec!["カフェインレス", "を", "希望"]
        );
        assert_eq!(words("bags, Bag"), vec!["bag", "bag"]);
    }
}
