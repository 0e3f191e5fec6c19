//! How long finding scripted answers takes: 1,000,000 answers (by default) to 200,000 people —
//! most written from 50 templates with names, numbers and the odd word changed, the rest
//! written for the person — masked, shingled and grouped with `scripts::detect`. Prints the
//! time of each step and the process's peak memory.
//!
//!   cargo run --release -p rapport-domain --example scripts_bench [-- COUNT]

use std::time::Instant;

use rapport_domain::scripts::{detect, masked_words, shingles};

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

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut x: u64 = 7;
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
    let started = Instant::now();
    let texts: Vec<(u32, String)> = (0..n)
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
        .collect();
    let generated = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let answers: Vec<(u32, Vec<u64>)> = texts
        .iter()
        .map(|(p, t)| (*p, shingles(&masked_words(t))))
        .collect();
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
        "{n} answers: generated in {generated:.1} s; masked and shingled in {shingled:.1} s; \
         detected in {detected:.1} s ({} scripts, {scripted} scripted answers); \
         masking + detection {:.1} s; peak memory {peak} MiB (including the generated texts)",
        d.scripts.len(),
        shingled + detected
    );
}
