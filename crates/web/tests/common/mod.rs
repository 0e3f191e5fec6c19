//! A real server on a free port over a small demo ledger, with a token of each role.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use domain::NewEvent;
use rapport_web as web;
use store::{Access, MasterKey, SqliteStore, Store};
use tokio::sync::oneshot;

pub const PEOPLE: usize = 60;

pub struct Server {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub state: Arc<web::AppState>,
    pub admin: String,
    pub agent: String,
    pub analyst: String,
    stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("ledger.db")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Builds a demo ledger of [`PEOPLE`] people (the showcase people included) and serves it.
pub async fn start() -> Server {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut web::Config)) -> Server {
    start_sized(PEOPLE, adjust).await
}

/// A server over a demo ledger of `people` people.
pub async fn start_sized(people: usize, adjust: impl FnOnce(&mut web::Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let key = MasterKey::generate();
    let (admin, agent, analyst) = {
        let mut store = SqliteStore::create(&db, key.clone()).unwrap();
        let mut out = Vec::new();
        demo::generate(
            &demo::Options {
                people,
                seed: 7,
                end: domain::Timestamp::now(),
                years: 2,
            },
            &mut out,
        )
        .unwrap();
        let mut batch = store.batch("demo").unwrap();
        for line in String::from_utf8(out).unwrap().lines() {
            batch
                .append(NewEvent::from_json_line(line).unwrap())
                .unwrap();
        }
        batch.commit().unwrap();
        let mut token = |role: &str| {
            let t = web::auth::new_secret("rpt_");
            store.token_add(role, role, &web::auth::hash(&t)).unwrap();
            t
        };
        (token("admin"), token("agent"), token("analyst"))
    };
    let mut config = web::Config::new(db, key);
    config.refresh_after = std::time::Duration::from_millis(50);
    config.body_limit = 256 * 1024;
    adjust(&mut config);
    let state = tokio::task::spawn_blocking(move || web::AppState::open(config))
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let s = state.clone();
    let task = tokio::spawn(async move {
        web::serve_state(listener, s, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server {
        addr,
        dir,
        state,
        admin,
        agent,
        analyst,
        stop: Some(stop),
        task,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
