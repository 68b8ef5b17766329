//! The shared storage suite on a fresh SQLite file per test.

use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh() -> Option<Box<dyn Store>> {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gridsweep-sqlite-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Some(Box::new(SqliteStore::open(dir.join("t.db")).unwrap()))
}

gridsweep_engine::storage_tests!(fresh);

#[test]
fn reopening_keeps_data_and_migrations_run_once() {
    let dir = std::env::temp_dir().join(format!("gridsweep-sqlite-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("t.db");
    let f = {
        let s = SqliteStore::open(&path).unwrap();
        gridsweep_engine::testsuite::fixture(&s)
    };
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.area(f.district).unwrap().unwrap().name, "高新区");
    assert!(gridsweep_storage_sqlite::path_from_url("sqlite://a/b.db").is_some());
    assert!(gridsweep_storage_sqlite::path_from_url("postgres://x").is_none());
}

#[test]
fn audit_log_refuses_update_and_delete() {
    use gridsweep_storage::NewAudit;
    let dir = std::env::temp_dir().join(format!("gridsweep-sqlite-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("t.db");
    let s = SqliteStore::open(&path).unwrap();
    s.append_audit(NewAudit {
        at: chrono::Utc::now(),
        actor_id: None,
        actor: "x".into(),
        role: None,
        action: "login_failed".into(),
        target: None,
        detail: None,
        address: None,
    })
    .unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let e = c
        .execute("UPDATE audit_log SET actor = 'y'", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = c.execute("DELETE FROM audit_log", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}
