//! Accounts and lookups: users and scopes, sessions, API tokens, the
//! audit log, and person, site and box lookups.

use super::fixtures::{fixture, pipeline_fixture, run};
use super::sync::device_queue;
use crate::Engine;
use gridsweep_domain::{AreaId, PersonId, Reach};
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

fn t(h: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2022, 6, 13, h, 0, 0).unwrap()
}

fn new_user(name: &str, role: gridsweep_domain::Role, scope: Option<AreaId>) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: format!("{name} 显示名"),
        role,
        scope_area: scope,
        lab: role.is_lab().then(|| "金域检验".to_string()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        created_at: t(1),
    }
}

/// Users are created with a scope or a lab, unique by name, and can be
/// disabled.
pub fn users_and_scopes(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let f = fixture(store);
    let c = store.area(f.community).unwrap().unwrap();
    let u = store
        .create_user(new_user("wawuli", Role::Community, Some(f.community)))
        .unwrap();
    assert_eq!(u.scope_path.as_ref(), Some(&c.path));
    assert_eq!(
        (u.role, u.disabled, u.created_at),
        (Role::Community, false, t(1))
    );
    let lab = store
        .create_user(new_user("lab1", Role::Lab, None))
        .unwrap();
    assert_eq!(
        (lab.lab.as_deref(), lab.scope_path.as_ref()),
        (Some("金域检验"), None)
    );
    assert!(matches!(
        store.create_user(new_user("wawuli", Role::Cdc, None)),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.user_by_name("wawuli").unwrap().unwrap(), u);
    assert_eq!(store.user(lab.id).unwrap().unwrap(), lab);
    assert!(store.user_by_name("nobody").unwrap().is_none());
    let all = store.users().unwrap();
    assert_eq!(
        all.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["wawuli", "lab1"]
    );
    store.set_user_disabled(u.id, true).unwrap();
    assert!(store.user(u.id).unwrap().unwrap().disabled);
    store.set_user_disabled(u.id, false).unwrap();
    assert!(!store.user(u.id).unwrap().unwrap().disabled);
    assert!(matches!(
        store.set_user_disabled(9999, true),
        Err(StoreError::NotFound(_))
    ));
}

/// Sessions end when they expire, when deleted, and when their user is
/// disabled.
pub fn sessions_expire_and_end(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let u = store
        .create_user(new_user("cdc1", Role::Cdc, None))
        .unwrap();
    let s = SessionRow {
        token_hash: "ab".repeat(32),
        user_id: u.id,
        csrf_token: "csrf".into(),
        created_at: t(1),
        expires_at: t(9),
        address: Some("127.0.0.1".into()),
    };
    store.create_session(s.clone()).unwrap();
    assert_eq!(store.session(&s.token_hash, t(2)).unwrap(), Some(s.clone()));
    assert_eq!(store.session(&s.token_hash, t(10)).unwrap(), None);
    assert_eq!(store.session("cd", t(2)).unwrap(), None);
    store.delete_session(&s.token_hash).unwrap();
    assert_eq!(store.session(&s.token_hash, t(2)).unwrap(), None);
    // Disabling an account ends its sessions.
    store.create_session(s.clone()).unwrap();
    store.set_user_disabled(u.id, true).unwrap();
    assert_eq!(store.session(&s.token_hash, t(2)).unwrap(), None);
}

/// Changing a password ends every other session of the user.
pub fn password_change_ends_other_sessions(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let u = store
        .create_user(new_user("admin2", Role::Admin, None))
        .unwrap();
    assert!(!u.must_change_password);
    let session = |hash: &str| SessionRow {
        token_hash: hash.repeat(32),
        user_id: u.id,
        csrf_token: "csrf".into(),
        created_at: t(1),
        expires_at: t(9),
        address: None,
    };
    // First start: a one-time password, to be changed before anything else.
    store
        .set_password(u.id, "one-time".into(), true, None)
        .unwrap();
    let got = store.user(u.id).unwrap().unwrap();
    assert!(got.must_change_password);
    assert_eq!(got.password_hash.as_deref(), Some("one-time"));
    let (mine, other) = (session("aa"), session("bb"));
    store.create_session(mine.clone()).unwrap();
    store.create_session(other.clone()).unwrap();
    store
        .set_password(u.id, "chosen".into(), false, Some(mine.token_hash.clone()))
        .unwrap();
    let got = store.user_by_name("admin2").unwrap().unwrap();
    assert!(!got.must_change_password);
    assert_eq!(got.password_hash.as_deref(), Some("chosen"));
    assert_eq!(store.session(&mine.token_hash, t(2)).unwrap(), Some(mine));
    assert_eq!(store.session(&other.token_hash, t(2)).unwrap(), None);
    assert!(matches!(
        store.set_password(9999, "x".into(), false, None),
        Err(StoreError::NotFound(_))
    ));
}

/// API tokens are found by hash until they expire or are revoked.
pub fn api_tokens_hashed_revocable_expiring(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let u = store
        .create_user(new_user("pda", Role::Sampler, None))
        .unwrap();
    let new = |hash: &str| NewApiToken {
        user_id: u.id,
        name: "PDA 7".into(),
        token_hash: hash.into(),
        prefix: "gs_1234".into(),
        created_at: t(1),
        expires_at: t(9),
    };
    let a = store.create_api_token(new("aa")).unwrap();
    let b = store.create_api_token(new("bb")).unwrap();
    assert!(matches!(
        store.create_api_token(new("aa")),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.api_token_by_hash("aa", t(2)).unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.api_token_by_hash("aa", t(9)).unwrap(),
        None,
        "expired"
    );
    let revoked = store.revoke_api_token(b.id, t(3)).unwrap();
    assert_eq!(revoked.revoked_at, Some(t(3)));
    assert_eq!(
        store.revoke_api_token(b.id, t(4)).unwrap().revoked_at,
        Some(t(3))
    );
    assert_eq!(store.api_token_by_hash("bb", t(3)).unwrap(), None);
    assert_eq!(store.api_tokens().unwrap(), vec![a, revoked]);
    assert!(matches!(
        store.revoke_api_token(999, t(3)),
        Err(StoreError::NotFound(_))
    ));
}

/// The audit log appends entries and filters them, newest first.
pub fn audit_appends_and_filters(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    use gridsweep_domain::Role;
    let entry = |h: u32, actor: &str, action: &str, target: &str| NewAudit {
        at: t(h),
        actor_id: Some(1),
        actor: actor.into(),
        role: Some(Role::Cdc),
        action: action.into(),
        target: Some(target.into()),
        detail: Some("full".into()),
        address: Some("10.0.0.1".into()),
    };
    let first = store
        .append_audit(entry(1, "cdc1", "person.read", "person:7"))
        .unwrap();
    store
        .append_audit(entry(2, "cdc1", "login", "user:1"))
        .unwrap();
    store
        .append_audit(entry(3, "lab1", "result.post", "tube:S1"))
        .unwrap();
    let all = store
        .audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].id, first, "newest first");
    assert_eq!(all[2].entry, entry(1, "cdc1", "person.read", "person:7"));
    let by = |f: AuditFilter| store.audit(&AuditFilter { limit: 10, ..f }).unwrap().len();
    assert_eq!(
        by(AuditFilter {
            actor: Some("cdc1".into()),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        by(AuditFilter {
            action: Some("login".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(AuditFilter {
            target: Some("tube:S1".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(AuditFilter {
            since: Some(t(2)),
            until: Some(t(3)),
            ..Default::default()
        }),
        1
    );
    let newest = store
        .audit(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].entry.action, "result.post");
}

/// Persons, sites and boxes are looked up by id or barcode.
pub fn person_site_and_box_lookups(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, f) = pipeline_fixture(store, 3);
    let p = store.person(persons[0].id).unwrap().unwrap();
    assert_eq!(p.document, persons[0].document);
    assert!(store.person(PersonId(999_999)).unwrap().is_none());
    let s = store.site(site).unwrap().unwrap();
    assert_eq!(s.area, f.community);
    assert!(store.site(999_999).unwrap().is_none());
    engine
        .sync(
            "dev".into(),
            device_queue(round, site, "B0001", &persons, 1),
            Reach::Everywhere,
        )
        .unwrap();
    run(
        engine,
        pipeline::Command::BoxTubes {
            box_barcode: "BOX1".into(),
            tubes: vec!["B0001".into()],
        },
    )
    .unwrap();
    assert_eq!(store.box_tubes("BOX1").unwrap(), vec!["B0001".to_string()]);
    assert!(store.box_tubes("BOX2").unwrap().is_empty());
}
