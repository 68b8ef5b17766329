//! The shared storage suite on a fresh PostgreSQL database per test.
//! Runs when `GRIDSWEEP_TEST_DATABASE_URL` names a server; skipped otherwise.

use gridsweep_storage::prelude::*;
use gridsweep_storage_postgres::{PgStore, create_scratch_database};
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh() -> Option<Box<dyn Store>> {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = std::env::var("GRIDSWEEP_TEST_DATABASE_URL").ok()?;
    let name = format!(
        "gs_storage_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let url = create_scratch_database(&base, &name).unwrap();
    Some(Box::new(PgStore::connect(&url).unwrap()))
}

gridsweep_engine::storage_tests!(fresh);

#[test]
fn audit_log_refuses_update_delete_and_truncate() {
    use gridsweep_storage::NewAudit;
    let Ok(base) = std::env::var("GRIDSWEEP_TEST_DATABASE_URL") else {
        return eprintln!("skipped: no database configured");
    };
    let url = create_scratch_database(&base, &format!("gs_audit_{}", std::process::id())).unwrap();
    let s = PgStore::connect(&url).unwrap();
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
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'y'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains("append-only"), "{sql}: {e}");
    }
}
