//! A real server on port 0 over a fresh store, for HTTP tests. Every test
//! runs on SQLite, and on PostgreSQL too when `GRIDSWEEP_TEST_DATABASE_URL`
//! names a server.
#![allow(dead_code)]

use gridsweep_server::{AppState, serve};
use gridsweep_storage::Store;
use gridsweep_storage_postgres::{PgStore, create_scratch_database};
use gridsweep_storage_sqlite::SqliteStore;
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
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Binds 127.0.0.1:0 and serves the store.
    pub async fn start(store: Arc<dyn Store>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone());
        tokio::spawn(async move {
            serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self {
            base,
            client: reqwest::Client::new(),
            store,
            stop: Some(tx),
        }
    }

    /// GET and parse JSON, returning the status too.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
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
