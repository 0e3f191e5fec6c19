//! How long finding scripted answers takes: 1,000,000 answers (by default) to 200,000 people —
//! most written from 50 templates with names, numbers and the odd word changed, the rest
//! written for the person — masked (`scripts::prepare`) and grouped with `scripts::detect`.
//! Prints the time of each step and the process's peak memory.
//!
//!   cargo run --release -p rapport-domain --example scripts_bench [-- COUNT]
//!
//! With `jsonl COUNT FIRST` it writes the same kind of answers as ledger events instead, ids
//! from FIRST on (what `bench/scripts.sh` imports).

use std::time::Instant;

use rapport_domain::scripts::{detect, prepare};

const WORDS: &[&str] = &[
    "order",
    "parcel",
    "coffee",
    "beans",
    "grinder",
    "delivery",
    "refund",
    "invoice",
    "week",
    "today",
    "tomorrow",
    "checked",
    "warehouse",
    "courier",
    "sorry",
    "happy",
    "help",
    "again",
    "colleague",
    "morning",
    "blend",
    "roast",
    "subscription",
    "pause",
    "address",
    "label",
    "kitchen",
    "machine",
    "filter",
    "cup",
    "taste",
    "bitter",
    "fresh",
    "stock",
    "shelf",
    "price",
    "discount",
    "voucher",
    "account",
    "password",
    "payment",
    "card",
    "bank",
    "late",
];

/// `n` answers to people `P-000000`…: most from 50 templates with names, numbers and the odd
/// word changed, the rest written for the person. `seed` varies the draw.
fn answers(n: usize, seed: u64) -> Vec<(u32, String)> {
    let mut x: u64 = 7 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let templates: Vec<String> = (0..50)
        .map(|t| {
            let body: Vec<&str> = (0..30).map(|i| WORDS[(t * 7 + i * 13) % WORDS.len()]).collect();
            format!("Dear Name, thank you for writing to us about template {t}. {}. Kind regards, Agent", body.join(" "))
        })
        .collect();
    (0..n)
        .map(|i| {
            let person = next(200_000) as u32;
            let text = if next(10) < 6 {
                let t = &templates[next(50) as usize];
                let mut s = t.replace("Name", ["Ann", "Bo", "Chen", "Dara"][next(4) as usize]);
                if next(5) == 0 {
                    s = s.replacen(WORDS[next(WORDS.len() as u64) as usize], "changed", 1);
                }
                format!("{s} Ticket {i}.")
            } else {
                let len = 5 + next(55) as usize;
                let w: Vec<&str> = (0..len)
                    .map(|_| WORDS[next(WORDS.len() as u64) as usize])
                    .collect();
                w.join(" ")
            };
            (person, text)
        })
        .collect()
}

/// Writes the answers as ledger events (JSON Lines), ids from `first`.
fn write_jsonl(n: usize, first: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, (person, text)) in answers(n, first as u64).into_iter().enumerate() {
        let id = first + i;
        let line = serde_json::json!({
            "source": "desk", "id": format!("a{id}"), "person": format!("P-{person:06}"),
            "kind": "contact.answered",
            "at": format!("2025-{:02}-{:02}T{:02}:00:00Z", 1 + id % 12, 1 + id % 28, id % 24),
            "contact": format!("c{id}"), "by": format!("agent-{}", id % 17), "text": text,
        });
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("jsonl") {
        let n = args
            .get(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1_000_000);
        let first = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
        write_jsonl(n, first);
        return;
    }
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let texts = answers(n, 0);
    let generated = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let answers: Vec<(u32, Vec<u64>)> = texts.iter().map(|(p, t)| (*p, prepare(t))).collect();
    drop(texts);
    let shingled = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let d = detect(&answers);
    let detected = started.elapsed().as_secs_f64();
    let scripted = d.scripted.iter().filter(|s| **s).count();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
                    / 1024
            })
        })
        .unwrap_or(0);
    println!(
        "{n} answers: generated in {generated:.1} s; masked in {shingled:.1} s; \
         detected in {detected:.1} s ({} scripts, {scripted} scripted answers); \
         masking + detection {:.1} s; peak memory {peak} MiB (including the generated texts)",
        d.scripts.len(),
        shingled + detected
    );
}
