//! How long grouping proposals by similarity takes: 10,000 proposals (requests written in many
//! ways, in several languages, plus one-offs), timed over the whole `similar::group` call.
//!
//!   cargo run --release -p rapport-domain --example group_bench [-- COUNT]

use std::time::Instant;

const REQUESTS: &[&str] = &[
    "Please offer a decaf version of the house blend",
    "Could you deliver to my office on Saturdays",
    "I would like one invoice per quarter instead of one per order",
    "Bitte bieten Sie eine entkoffeinierte Hausmischung an",
    "Graag één verzamelfactuur per kwartaal",
    "Offer refills in returnable glass jars",
    "Let me pause my subscription during the summer holidays",
    "Send the tracking link by text message as well as e-mail",
];
const EXTRA: &[&str] = &[
    "please",
    "really",
    "if possible",
    "thanks",
    "soon",
    "kindly",
    "!",
];

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let mut x: u64 = 42;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let texts: Vec<String> = (0..n)
        .map(|i| {
            if i % 5 == 4 {
                // A one-off: words nobody else uses.
                format!(
                    "one-off request number {i} about item {} and colour {}",
                    next() % 997,
                    next() % 991
                )
            } else {
                let base = REQUESTS[(next() % REQUESTS.len() as u64) as usize];
                let extra = EXTRA[(next() % EXTRA.len() as u64) as usize];
                if next() % 2 == 0 {
                    format!("{base} {extra}")
                } else {
                    format!("{extra} {}", base.to_lowercase())
                }
            }
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let groups = rapport_domain::similar::group(&refs);
    let secs = started.elapsed().as_secs_f64();
    let big: Vec<usize> = groups.iter().take(8).map(|g| g.members.len()).collect();
    println!(
        "grouped {n} proposals into {} groups in {secs:.3} s (largest: {big:?})",
        groups.len()
    );
}
