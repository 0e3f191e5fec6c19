//! A load generator for `rapport serve`, used by bench/web.sh.
//!
//! `cards`: GET /api/people/{id} (`may`: GET /api/people/{id}/may-contact) at a fixed rate (open loop: each request is due at its own
//! moment, and its latency counts from that moment, so a slow server cannot hide its queue
//! by slowing the generator down — wrk, by contrast, waits for each answer before sending the
//! next). `post`: POST /api/events in batches from a JSON Lines file with a few concurrent
//! clients, reporting events per second.
//!
//!   cargo run --release -p rapport-web --example load -- cards URL[,URL…] TOKEN PEOPLE RATE SECONDS
//!
//! With several URLs (servers on one database), requests go to them in turn.
//!   cargo run --release -p rapport-web --example load -- post URL TOKEN FILE BATCH CLIENTS

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn fixed_rate(
    url: String,
    token: String,
    people: u64,
    rate: f64,
    seconds: f64,
    what: &'static str,
) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let total = (rate * seconds) as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let urls: Vec<&str> = url.split(',').collect();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    // A fixed pseudo-random walk over the people, the same in every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let person = format!("P-{:06}", x % people);
        let url = urls[i as usize % urls.len()].to_owned();
        let (client, token) = (client.clone(), token.clone());
        let (latencies, errors) = (latencies.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let path = match what {
                "may" => format!("/api/people/{person}/may-contact?channel=email&topic=newsletter"),
                _ => format!("/api/people/{person}"),
            };
            let r = client
                .get(format!("{url}{path}"))
                .bearer_auth(token)
                .send()
                .await;
            let ok = match r {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            latencies
                .lock()
                .await
                .push(due.elapsed().as_secs_f64() * 1000.0);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().await.clone();
    l.sort_by(f64::total_cmp);
    println!(
        "{what}: {} requests in {:.1} s = {:.0} req/s (target {rate:.0}); errors {}; latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
        l.len(),
        elapsed,
        l.len() as f64 / elapsed,
        errors.load(std::sync::atomic::Ordering::Relaxed),
        percentile(&l, 0.50),
        percentile(&l, 0.90),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN),
    );
}

async fn post(url: String, token: String, file: String, batch: usize, clients: usize) {
    let text = std::fs::read_to_string(&file).expect("reading the events file");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let bodies: Vec<String> = lines
        .chunks(batch)
        .map(|c| format!("[{}]", c.join(",")))
        .collect();
    let events = lines.len();
    let queue = Arc::new(Mutex::new(bodies.into_iter()));
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, client, url, token) =
            (queue.clone(), client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let Some(body) = queue.lock().await.next() else {
                    break;
                };
                let t = Instant::now();
                let r = client
                    .post(format!("{url}/api/events"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("posting");
                let status = r.status();
                let answer = r.text().await.unwrap_or_default();
                assert!(status.is_success(), "{status}: {answer}");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut l = Vec::new();
    for t in tasks {
        l.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    l.sort_by(f64::total_cmp);
    println!(
        "post: {events} events in {} batches of {batch} from {clients} clients in {:.2} s = {:.0} events/s; batch latency ms p50 {:.1} p99 {:.1}",
        l.len(),
        elapsed,
        events as f64 / elapsed,
        percentile(&l, 0.5),
        percentile(&l, 0.99),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: load cards URL TOKEN PEOPLE RATE SECONDS | load post URL TOKEN FILE BATCH CLIENTS";
    match args.first().map(String::as_str) {
        Some(what @ ("cards" | "may")) if args.len() == 6 => {
            fixed_rate(
                args[1].clone(),
                args[2].clone(),
                args[3].parse().expect("PEOPLE"),
                args[4].parse().expect("RATE"),
                args[5].parse().expect("SECONDS"),
                if what == "may" { "may" } else { "cards" },
            )
            .await
        }
        Some("post") if args.len() == 6 => {
            post(
                args[1].clone(),
                args[2].clone(),
                args[3].clone(),
                args[4].parse().expect("BATCH"),
                args[5].parse().expect("CLIENTS"),
            )
            .await
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
