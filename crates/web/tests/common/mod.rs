//! A real server on a free port over a small demo ledger, with a token of each role.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use app::{App, Location};
use domain::NewEvent;
use rapport_web as web;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use store::MasterKey;
use tokio::sync::oneshot;

pub const PEOPLE: usize = 60;

pub struct Server {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub state: Arc<web::AppState>,
    pub admin: String,
    pub agent: String,
    pub analyst: String,
    /// The ledger's master key (a second process, like the command line, opens it with it).
    pub key: MasterKey,
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
    let app = App::create(&Location::Sqlite(db.clone()), key.clone()).unwrap();
    let (admin, agent, analyst) = {
        let store = app.ledger();
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
        let token = |role: &str| {
            let t = web::auth::new_secret("rpt_");
            store.token_add(role, role, &web::auth::hash(&t)).unwrap();
            t
        };
        (token("admin"), token("agent"), token("analyst"))
    };
    let mut config = web::Config::new(app);
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
        key,
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

/// The value of `name="csrf"` in a page's first form.
pub fn csrf_in(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a csrf field");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

pub fn cookie_from(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Signs in with `token`; returns the session cookie (`rapport_session=…`).
pub async fn sign_in(s: &Server, token: &str) -> String {
    let c = client();
    let page = c.get(s.url("/sign-in")).send().await.unwrap();
    let pre = cookie_from(&page, "rapport_sign_in").unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    let r = c
        .post(s.url("/sign-in"))
        .header(COOKIE, pre)
        .form(&[("csrf", csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = cookie_from(&r, "rapport_session").expect("a session cookie");
    let raw = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Strict"),
        "{raw}"
    );
    session
}

pub async fn page(s: &Server, session: &str, path: &str) -> (StatusCode, String) {
    let r = client()
        .get(s.url(path))
        .header(COOKIE, session)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Validates `value` against a schema of the served OpenAPI document.
pub fn check(doc: &Value, schema: &str, value: &Value) {
    let mut root = doc.clone();
    root["$ref"] = json!(format!("#/components/schemas/{schema}"));
    let validator = jsonschema::draft202012::new(&root).expect("the OpenAPI schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "{schema} does not match the document:\n{}",
        errors.join("\n")
    );
}

pub async fn openapi(base: &Server) -> Value {
    client()
        .get(base.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn get(s: &Server, token: &str, path: &str) -> (StatusCode, Value) {
    let r = client()
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}
