//! A real server on port 0 over a fresh store, for HTTP tests. Every test
//! runs on SQLite, and on PostgreSQL too when `GRIDSWEEP_TEST_DATABASE_URL`
//! names a server.
#![allow(dead_code)]

use gridsweep_domain::{AreaId, ROLES, Role};
use gridsweep_engine::Engine;
use gridsweep_server::auth::issue_api_token;
use gridsweep_server::{API_ROUTES, AppState, serve};
use gridsweep_storage::{NewUser, Store};
use gridsweep_storage_postgres::{PgStore, create_scratch_database};
use gridsweep_storage_sqlite::SqliteStore;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

static N: AtomicU32 = AtomicU32::new(0);

/// Runs blocking store code from inside an async test (the PostgreSQL
/// client runs its own runtime, which must not nest in the test's).
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Fresh stores for every configured backend.
pub fn stores(test: &str) -> Vec<Arc<dyn Store>> {
    blocking(|| stores_sync(test))
}

fn stores_sync(test: &str) -> Vec<Arc<dyn Store>> {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("gridsweep-http-{test}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut out: Vec<Arc<dyn Store>> = vec![Arc::new(SqliteStore::open(dir.join("t.db")).unwrap())];
    if let Ok(base) = std::env::var("GRIDSWEEP_TEST_DATABASE_URL") {
        let url =
            create_scratch_database(&base, &format!("gs_http_{test}_{}_{n}", std::process::id()))
                .unwrap();
        out.push(Arc::new(PgStore::connect(&url).unwrap()));
    }
    out
}

/// A running server and a client for it.
pub struct TestServer {
    pub base: String,
    /// Without credentials.
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The server's own engine (its effects reach the live stream).
    pub engine: Engine,
    /// One API token per role, each account scoped to the first district
    /// (labs: lab `测试实验室`).
    pub tokens: HashMap<Role, String>,
    pub users: HashMap<Role, i64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The account name of a role's test account.
pub fn test_username(role: Role) -> String {
    format!("test-{role}")
}

/// Creates one token-only account per role scoped to `scope` (area roles
/// are skipped without one) and returns their tokens and ids.
pub fn role_accounts(
    store: &dyn Store,
    scope: Option<AreaId>,
    suffix: &str,
) -> (HashMap<Role, String>, HashMap<Role, i64>) {
    let mut tokens = HashMap::new();
    let mut ids = HashMap::new();
    for role in ROLES {
        if role.needs_area() && scope.is_none() {
            continue;
        }
        let u = store
            .create_user(NewUser {
                username: format!("{}{suffix}", test_username(role)),
                display_name: format!("test {role}"),
                role,
                scope_area: if role.needs_area() { scope } else { None },
                lab: role.is_lab().then(|| "测试实验室".to_string()),
                password_hash: None,
                created_at: chrono::Utc::now(),
            })
            .unwrap();
        let (t, _) = issue_api_token(store, u.id, "test", chrono::Duration::hours(1)).unwrap();
        tokens.insert(role, t);
        ids.insert(role, u.id);
    }
    (tokens, ids)
}

/// Whether a concrete path matches a route template (`{x}` = one segment).
pub fn matches_template(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
}

/// The first role the route table lets call `method path`: whose job it is.
pub fn role_for(method: &str, path: &str) -> Option<Role> {
    API_ROUTES
        .iter()
        .find(|r| r.method == method && matches_template(r.path, path))
        .and_then(|r| match r.access {
            gridsweep_server::auth::Access::Roles(roles, _) => roles.first().copied(),
            gridsweep_server::auth::Access::Signed => Some(Role::Admin),
            gridsweep_server::auth::Access::Public => None,
        })
}

/// A client that sends `token` as a bearer token.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

impl TestServer {
    /// Binds 127.0.0.1:0 and serves the store.
    pub async fn start(store: Arc<dyn Store>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(Engine::new(store.clone()));
        let engine = state.engine.clone();
        tokio::spawn(async move {
            serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let st = store.clone();
        let (tokens, users) = blocking(move || {
            let root = st.roots().unwrap().first().map(|a| a.id);
            role_accounts(&*st, root, "")
        });
        Self {
            base,
            client: reqwest::Client::new(),
            store,
            engine,
            tokens,
            users,
            stop: Some(tx),
        }
    }

    /// A client acting as `role`'s test account.
    pub fn client_as(&self, role: Role) -> reqwest::Client {
        bearer_client(&self.tokens[&role])
    }

    /// A client acting as the role whose job `method path` is (anonymous
    /// for public routes).
    pub fn client_for(&self, method: &str, path: &str) -> reqwest::Client {
        match role_for(method, path) {
            Some(role) => self.client_as(role),
            None => self.client.clone(),
        }
    }

    /// GET and parse JSON, returning the status too.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .client_for("get", path)
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

impl TestServer {
    /// Begins a graceful stop, as SIGTERM does for `gridsweep serve`.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts the JSON error shape and returns the code.
pub fn error_code(body: &serde_json::Value) -> String {
    let e = &body["error"];
    assert!(e.is_object(), "not an error body: {body}");
    assert!(e["message"].is_string(), "no message: {body}");
    e["code"].as_str().expect("code").to_string()
}
