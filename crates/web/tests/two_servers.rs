//! Two servers on one PostgreSQL database, as behind a load balancer: both take writes and
//! reads, nothing is lost or duplicated, every card view is audited once, and a token revoked
//! through one is refused by the other within seconds. Skipped (and said so) without a
//! PostgreSQL server, unless `RAPPORT_POSTGRES_TESTS=require`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::{App, Location};
use rapport_web as web;
use reqwest::StatusCode;
use serde_json::{Value, json};
use store::MasterKey;

fn serve(app: App, rt: &tokio::runtime::Runtime) -> (SocketAddr, Arc<web::AppState>) {
    rt.block_on(async {
        let mut config = web::Config::new(app);
        config.refresh_after = Duration::from_millis(50);
        let state = tokio::task::spawn_blocking(move || web::AppState::open(config))
            .await
            .unwrap()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let s = state.clone();
        tokio::spawn(async move {
            let _ = web::serve_state(listener, s, std::future::pending()).await;
        });
        (addr, state)
    })
}

fn wish(id: usize, person: usize) -> Value {
    json!({"source": "lb", "id": format!("w{id}"), "kind": "wish.stated",
           "person": format!("P-{person}"), "at": "2025-01-01T00:00:00Z",
           "text": format!("wish {id}")})
}

#[test]
fn two_servers_on_one_database_share_writes_reads_audit_and_revocations() {
    let Some(pg) = store_tests::Postgres::new() else {
        return;
    };
    let location = Location::parse(pg.url());
    let key = MasterKey::generate();
    let first = App::create(&location, key.clone()).unwrap();
    let admin = first.token_create("lb", "admin", "test").unwrap();
    let agent = first.token_create("agent", "agent", "test").unwrap();
    // Two "processes": each its own App over its own pool.
    let second = App::open(&location, key).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (a, _) = serve(first.clone(), &rt);
    let (b, _) = serve(second, &rt);
    let client = reqwest::Client::new();
    let urls = [format!("http://{a}"), format!("http://{b}")];

    rt.block_on(async {
        // Writes through both at once, half of them sent to both (the same ids).
        let mut tasks = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            for round in 0..5 {
                let batch: Vec<Value> = (0..40)
                    .map(|k| {
                        let id = round * 100 + k + if k % 2 == 0 { 0 } else { 1000 * (i + 1) };
                        wish(id, k % 7)
                    })
                    .collect();
                let (client, url, admin) = (client.clone(), url.clone(), admin.clone());
                tasks.push(tokio::spawn(async move {
                    let r = client
                        .post(format!("{url}/api/events"))
                        .bearer_auth(admin)
                        .json(&batch)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::OK);
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    // 5 rounds × (20 shared ids + 20 own ids on each of two servers) = 300 events.
    assert_eq!(first.ledger().totals().unwrap().events, 300);

    // Reads on both; each view audited once.
    rt.block_on(async {
        for url in &urls {
            let r = client
                .get(format!("{url}/api/people/P-3"))
                .bearer_auth(&agent)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let card: Value = r.json().await.unwrap();
            assert_eq!(card["person"], "P-3");
        }
    });
    let views = first
        .audit_page(None, 100)
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.action == "card.view" && e.person.as_deref() == Some("P-3"))
        .count();
    assert_eq!(views, 2);

    // A token revoked through one server is refused by the other within seconds.
    let agent_id = first
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.role == "agent")
        .unwrap()
        .id;
    first.token_revoke(agent_id, "test").unwrap();
    let started = Instant::now();
    rt.block_on(async {
        loop {
            let r = client
                .get(format!("{}/api/people/P-3", urls[1]))
                .bearer_auth(&agent)
                .send()
                .await
                .unwrap();
            if r.status() == StatusCode::UNAUTHORIZED {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the other server still takes the revoked token"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    drop(pg);
}
