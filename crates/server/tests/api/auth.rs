//! Accounts and authorisation over HTTP: the whole permission matrix
//! generated from the route table, sessions with CSRF, login throttling,
//! tokens, masking by role, and the audit trail.

use crate::common::{TestServer, bearer_client, blocking, error_code, role_accounts, stores};
use gridsweep_domain::{ROLES, Role, SiteKind};
use gridsweep_engine::Engine;
use gridsweep_engine::testsuite::{Fixture, person, pipeline_fixture};
use gridsweep_server::API_ROUTES;
use gridsweep_server::auth::{Access, Scope};
use gridsweep_storage::pipeline::{Command, CommandContext, NewRound};
use gridsweep_storage::{IdKind, NewSite, NewUser, PopulationBatch, Store};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// One object of each kind inside the community 瓦屋李社区 and one in
/// 翡翠华庭社区, so every scope rule has an in and an out.
pub(crate) struct World {
    pub f: Fixture,
    pub round: [i64; 2],
    pub site: [i64; 2],
    pub tube: [String; 2],
    pub boxed: [String; 2],
    pub person: [i64; 2],
    pub incident: [i64; 2],
}

pub(crate) fn world(shared: &Arc<dyn Store>) -> World {
    let engine = Engine::new(shared.clone());
    let store: &dyn Store = &**shared;
    let (_, site_in, persons, f) = pipeline_fixture(store, 2);
    let c2 = store.area(f.other_community).unwrap().unwrap();
    let h3 = store.area(f.other_household).unwrap().unwrap();
    let site_out = store.allocate_ids(IdKind::Site, 1).unwrap();
    let outsider = person(store, "翡翠居民", 901, &h3);
    store
        .write_population(&PopulationBatch {
            sites: vec![NewSite {
                id: site_out,
                area: c2.id,
                area_path: c2.path.clone(),
                kind: SiteKind::Hut,
                name: "翡翠华庭采样点".into(),
            }],
            persons: vec![outsider.clone()],
            ..Default::default()
        })
        .unwrap();
    let round = |areas| {
        let now = chrono::Utc::now();
        store
            .create_round(NewRound {
                name: "matrix".into(),
                pool_size: 20,
                starts_at: now - chrono::Duration::hours(1),
                ends_at: now + chrono::Duration::days(1),
                areas,
            })
            .unwrap()
            .id
    };
    let rounds = [round(vec![f.community]), round(vec![f.other_community])];
    let ctx = CommandContext {
        actor: "setup".into(),
        at: chrono::Utc::now(),
        cutoffs: Default::default(),
        reach: gridsweep_domain::Reach::Everywhere,
    };
    for (i, (site, who)) in [(site_in, &persons[0]), (site_out, &outsider)]
        .into_iter()
        .enumerate()
    {
        let tube = format!("MX-T{i}");
        for cmd in [
            Command::OpenTube {
                tube: tube.clone(),
                round: rounds[i],
                site,
                kind: gridsweep_domain::pipeline::TubeKind::Human,
                capacity: None,
            },
            Command::AddPerson {
                tube: tube.clone(),
                document: Some(who.document.number().into()),
                document_kind: None,
                qr: None,
            },
            Command::SealTube { tube: tube.clone() },
            Command::BoxTubes {
                box_barcode: format!("MX-B{i}"),
                tubes: vec![tube.clone()],
            },
        ] {
            engine.execute(cmd, ctx.clone()).unwrap().unwrap();
        }
    }
    // A suspect tube at each site opens an incident in each community.
    let mut incident = [0i64; 2];
    for (i, slot) in incident.iter_mut().enumerate() {
        let other = format!("MX-R{i}");
        let who = [&persons[1], &outsider][i];
        for cmd in [
            Command::OpenTube {
                tube: other.clone(),
                round: rounds[i],
                site: [site_in, site_out][i],
                kind: gridsweep_domain::pipeline::TubeKind::Human,
                capacity: None,
            },
            Command::AddPerson {
                tube: other.clone(),
                document: Some(who.document.number().into()),
                document_kind: None,
                qr: None,
            },
            Command::SealTube {
                tube: other.clone(),
            },
            Command::Receive {
                tubes: vec![other.clone()],
                boxes: vec![],
            },
            Command::PostResult {
                tube: other.clone(),
                outcome: Some(gridsweep_domain::pipeline::Outcome::Suspected),
                ct: Default::default(),
                correction: false,
            },
        ] {
            engine.execute(cmd, ctx.clone()).unwrap().unwrap();
        }
        engine.respond_to_result(other.clone(), ctx.at).unwrap();
        *slot = engine
            .incidents()
            .unwrap()
            .iter()
            .find(|inc| inc.trigger_tube.as_deref() == Some(other.as_str()))
            .expect("incident opened")
            .id;
    }
    World {
        incident,
        f,
        round: rounds,
        site: [site_in, site_out],
        tube: ["MX-T0".into(), "MX-T1".into()],
        boxed: ["MX-B0".into(), "MX-B1".into()],
        person: [persons[0].id.0, outsider.id.0],
    }
}

/// Whether a scope rule can put a target out of reach of `role`: labs
/// reach any tube (their scope is the lab), the admin any place.
pub(crate) fn scope_binds(scope: Scope, role: Role) -> bool {
    match scope {
        Scope::None | Scope::Lab => false,
        _ if role == Role::Admin => false,
        Scope::TubePath(_) | Scope::TubesBody(_) | Scope::BoxPath(_) | Scope::SyncEvents => {
            role != Role::Lab
        }
        Scope::AreaPath(_)
        | Scope::AreaQuery(_)
        | Scope::AreasBody(_)
        | Scope::RoundPath(_)
        | Scope::RoundPathPersonBody(..)
        | Scope::SiteBody(_)
        | Scope::PersonPath(_)
        | Scope::IncidentPath(_) => true,
    }
}

/// A concrete request for a route, aimed inside (`i = 0`) or outside
/// (`i = 1`) the community, generated from the route's scope rule.
pub(crate) fn request(
    w: &World,
    method: &str,
    path: &str,
    scope: Scope,
    role: Role,
    i: usize,
) -> (String, Option<Value>) {
    let area = [w.f.community, w.f.other_community][i].get();
    let mut params: HashMap<&str, String> = HashMap::new();
    let mut query = String::new();
    let mut body = json!({
        "tube": w.tube[i], "tubes": [w.tube[i]], "box": w.boxed[i], "round": w.round[i],
        "site": w.site[i], "areas": [area], "name": "matrix", "pool_size": 20,
        "starts_at": "2022-06-13T00:00:00Z", "ends_at": "2022-06-14T00:00:00Z",
        "device": "matrix", "person": w.person[i], "kind": "away", "by": "matrix", "user": 1, "username": "x", "password": "x", "role": "cdc",
        "events": [{ "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "open_tube",
                     "tube": format!("MX-S{i}"), "round": w.round[i], "site": w.site[i] }]
    });
    if role == Role::Lab {
        body["events"] = json!([{ "seq": 1, "at": "2022-06-13T04:00:00Z", "type": "receive",
                                  "tubes": [w.tube[i]] }]);
    }
    match scope {
        Scope::AreaPath(p) => drop(params.insert(p, area.to_string())),
        Scope::AreaQuery(q) => query = format!("?{q}={area}&q=居民"),
        Scope::RoundPath(p) | Scope::RoundPathPersonBody(p, _) => {
            drop(params.insert(p, w.round[i].to_string()))
        }
        Scope::TubePath(p) => drop(params.insert(p, w.tube[i].clone())),
        Scope::BoxPath(p) => drop(params.insert(p, w.boxed[i].clone())),
        Scope::PersonPath(p) => drop(params.insert(p, w.person[i].to_string())),
        Scope::IncidentPath(p) => drop(params.insert(p, w.incident[i].to_string())),
        Scope::AreasBody(_)
        | Scope::SiteBody(_)
        | Scope::TubesBody(_)
        | Scope::SyncEvents
        | Scope::Lab
        | Scope::None => {}
    }
    let concrete: Vec<String> = path
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => params.get(name).cloned().unwrap_or_else(|| "1".into()),
                None => seg.to_string(),
            },
        )
        .collect();
    let body = (method != "get").then_some(body);
    (format!("{}{query}", concrete.join("/")), body)
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    url: &str,
    body: &Option<Value>,
) -> u16 {
    let full = format!("{base}{url}");
    let req = match method {
        "get" => client.get(full),
        "post" => client.post(full),
        "put" => client.put(full),
        "delete" => client.delete(full),
        other => panic!("the matrix test does not know method {other}"),
    };
    let req = match body {
        Some(b) => req.json(b),
        None => req,
    };
    let r = req
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_denies_every_role_and_scope_it_should() {
    for store in stores("matrix") {
        let w = blocking(|| world(&store));
        let srv = TestServer::start(store.clone()).await;
        let community = w.f.community;
        let (tokens, ids) = blocking(|| role_accounts(&*store, Some(community), "-c"));
        let mut cells = 0;
        for route in API_ROUTES {
            if route.path == "/api/v1/events" {
                // A stream never ends: checked by its headers below.
                continue;
            }
            let Some(roles) = route.access.roles() else {
                // Public: answers without credentials.
                let (url, body) =
                    request(&w, route.method, route.path, Scope::None, Role::Admin, 0);
                let s = call(&srv.client, &srv.base, route.method, &url, &body).await;
                // (Login answers 401 bad_credentials to the matrix's made-up password.)
                assert!(
                    s != 403 && s < 500,
                    "public {} {} answered {s}",
                    route.method,
                    route.path
                );
                continue;
            };
            let scope = route.access.scope();
            // Without credentials: 401.
            let (url, body) = request(&w, route.method, route.path, scope, Role::Admin, 0);
            let s = call(&srv.client, &srv.base, route.method, &url, &body).await;
            assert_eq!(s, 401, "anonymous {} {url}", route.method);
            for role in ROLES {
                let client = bearer_client(&tokens[&role]);
                for i in [0, 1] {
                    let (url, mut body) = request(&w, route.method, route.path, scope, role, i);
                    if let Some(b) = body.as_mut() {
                        // Tokens are issued for service accounts.
                        b["user"] = ids[&Role::Sampler].into();
                    }
                    let denied = !roles.contains(&role) || (i == 1 && scope_binds(scope, role));
                    let s = call(&client, &srv.base, route.method, &url, &body).await;
                    let side = if i == 0 { "in scope" } else { "out of scope" };
                    if denied {
                        assert_eq!(
                            s, 403,
                            "{role} {} {url} ({side}) must be denied",
                            route.method
                        );
                    } else {
                        assert!(
                            s != 401 && s != 403,
                            "{role} {} {url} ({side}) must be allowed, got {s}",
                            route.method
                        );
                    }
                    cells += 1;
                }
            }
        }
        assert!(
            cells >= (API_ROUTES.len() - 4) * ROLES.len() * 2,
            "{cells} cells"
        );
        // The live stream: 401, 403, and a stream for command/cdc.
        let events = format!("{}/api/v1/events", srv.base);
        assert_eq!(srv.client.get(&events).send().await.unwrap().status(), 401);
        for role in ROLES {
            let r = bearer_client(&tokens[&role])
                .get(&events)
                .send()
                .await
                .unwrap();
            let allowed = matches!(role, Role::Command | Role::Cdc);
            assert_eq!(
                r.status().as_u16(),
                if allowed { 200 } else { 403 },
                "{role}"
            );
        }
    }
}

#[test]
fn every_scope_rule_names_a_parameter_the_route_has() {
    for r in API_ROUTES {
        let name = match r.access.scope() {
            Scope::AreaPath(p)
            | Scope::RoundPath(p)
            | Scope::TubePath(p)
            | Scope::BoxPath(p)
            | Scope::PersonPath(p) => p,
            _ => continue,
        };
        assert!(
            r.path.contains(&format!("{{{name}}}")),
            "{} {}: no {{{name}}}",
            r.method,
            r.path
        );
        assert!(!matches!(r.access, Access::Public));
    }
}

async fn login(srv: &TestServer, username: &str, password: &str) -> (u16, Value, Option<String>) {
    let r = srv
        .client
        .post(format!("{}/api/v1/auth/login", srv.base))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap_or(Value::Null), cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_csrf_throttling_tokens_and_audit() {
    for store in stores("sessions") {
        let w = blocking(|| world(&store));
        let srv = TestServer::start(store.clone()).await;
        let c = w.f.community;
        blocking(|| {
            let hash = gridsweep_server::auth::hash_password("wawuli-password").unwrap();
            for (name, role) in [("wawuli", Role::Community), ("tracer", Role::Cdc)] {
                store
                    .create_user(NewUser {
                        username: name.into(),
                        display_name: name.into(),
                        role,
                        scope_area: Some(c),
                        lab: None,
                        password_hash: Some(hash.clone()),
                        created_at: chrono::Utc::now(),
                    })
                    .unwrap();
            }
        });
        let (s, b, cookie) = login(&srv, "wawuli", "wawuli-password").await;
        assert_eq!(s, 200, "{b}");
        let cookie = cookie.unwrap();
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie}");
        }
        let session = cookie.split(';').next().unwrap().to_string();
        let csrf = b["csrf_token"].as_str().unwrap().to_string();
        let get = |path: &str| {
            srv.client
                .get(format!("{}{path}", srv.base))
                .header("cookie", &session)
                .send()
        };
        let me: Value = get("/api/v1/auth/me").await.unwrap().json().await.unwrap();
        assert_eq!(
            (me["username"].as_str(), me["role"].as_str()),
            (Some("wawuli"), Some("community"))
        );
        assert!(me.get("password_hash").is_none());
        // Residents of its own community, not of 翡翠华庭.
        let ok = get(&format!("/api/v1/persons?area={c}&q=居民"))
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        let other = get(&format!(
            "/api/v1/persons?area={}&q=翡翠",
            w.f.other_community
        ))
        .await
        .unwrap();
        assert_eq!(other.status(), 403);
        // A person's record: masked for the community, audited.
        let p: Value = get(&format!("/api/v1/persons/{}", w.person[0]))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            p["document_masked"].as_str().unwrap().contains("********"),
            "{p}"
        );
        assert!(
            p.get("document").is_none() && p.get("phone").is_none(),
            "{p}"
        );
        assert_eq!(
            get(&format!("/api/v1/persons/{}", w.person[1]))
                .await
                .unwrap()
                .status(),
            403
        );
        // Cookie writes need the CSRF token.
        let post = |csrf: Option<&str>| {
            let mut r = srv
                .client
                .post(format!("{}/api/v1/tubes", srv.base))
                .header("cookie", &session)
                .json(&json!({ "tube": "CS-0001", "round": w.round[0], "site": w.site[0] }));
            if let Some(t) = csrf {
                r = r.header("x-csrf-token", t);
            }
            r.send()
        };
        let r = post(None).await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(error_code(&r.json().await.unwrap()), "csrf_failed");
        assert_eq!(post(Some("wrong")).await.unwrap().status(), 403);
        assert_eq!(post(Some(&csrf)).await.unwrap().status(), 201);
        // Logout ends the session.
        let r = srv
            .client
            .post(format!("{}/api/v1/auth/logout", srv.base))
            .header("cookie", &session)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(get("/api/v1/auth/me").await.unwrap().status(), 401);

        // CDC reads the record in full; that read is audited with the address.
        let (s, b, cookie) = login(&srv, "tracer", "wawuli-password").await;
        assert_eq!(s, 200, "{b}");
        let tracer = cookie.unwrap().split(';').next().unwrap().to_string();
        let full: Value = srv
            .client
            .get(format!("{}/api/v1/persons/{}", srv.base, w.person[0]))
            .header("cookie", &tracer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(full["document"].as_str().unwrap().len(), 18, "{full}");
        assert_eq!(full["phone"].as_str().unwrap().len(), 11, "{full}");

        // Throttling: after three wrong passwords from one address each try
        // waits (1 s, 2 s, …), the right password too — but only that long:
        // the owner is slowed, never locked out.
        for _ in 0..3 {
            assert_eq!(login(&srv, "wawuli", "wrong-password").await.0, 401);
        }
        let (s, b, _) = login(&srv, "wawuli", "wawuli-password").await;
        assert_eq!((s, error_code(&b).as_str()), (429, "too_many_attempts"));
        let wait = b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (s, b, _) = login(&srv, "wawuli", "wawuli-password").await;
        assert_eq!(
            s, 200,
            "after the back-off ({wait}) the owner signs in: {b}"
        );

        // Tokens: issued once by the admin, revocable.
        let admin = srv.client_as(Role::Admin);
        let r: Value = admin
            .post(format!("{}/api/v1/tokens", srv.base))
            .json(&json!({ "user": srv.users[&Role::Sampler], "name": "PDA 7", "expires_in_days": 30 }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = r["token"].as_str().unwrap().to_string();
        let pda = bearer_client(&token);
        let me = format!("{}/api/v1/auth/me", srv.base);
        assert_eq!(pda.get(&me).send().await.unwrap().status(), 200);
        let listed: Value = admin
            .get(format!("{}/api/v1/tokens", srv.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            !listed.to_string().contains(&token),
            "a token is shown once only"
        );
        let r = admin
            .post(format!("{}/api/v1/tokens/{}/revoke", srv.base, r["id"]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(pda.get(&me).send().await.unwrap().status(), 401);
        // Disabling an account stops its tokens at once.
        let lab = srv.client_as(Role::Lab);
        assert_eq!(lab.get(&me).send().await.unwrap().status(), 200);
        let r = admin
            .post(format!(
                "{}/api/v1/users/{}/disable",
                srv.base,
                srv.users[&Role::Lab]
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(lab.get(&me).send().await.unwrap().status(), 401);
        // Users: created by the admin, validated.
        let create = |b: Value| {
            admin
                .post(format!("{}/api/v1/users", srv.base))
                .json(&b)
                .send()
        };
        let r = create(json!({ "username": "new-cdc", "role": "cdc", "scope_area": w.f.district, "password": "long-enough-1" })).await.unwrap();
        assert_eq!(r.status(), 201);
        let r = create(json!({ "username": "new-cdc", "role": "cdc", "scope_area": w.f.district }))
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = create(json!({ "username": "nolab", "role": "lab" }))
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = create(
            json!({ "username": "short", "role": "cdc", "scope_area": c, "password": "short" }),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);

        // The trail: who, what, from where; filters; full values never in it.
        let audit = |q: &str| {
            let admin = admin.clone();
            let url = format!("{}/api/v1/audit{q}", srv.base);
            async move {
                admin
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        let reads = audit("?action=person.read").await;
        let reads = reads.as_array().unwrap();
        assert_eq!(reads.len(), 2, "{reads:?}");
        assert_eq!(reads[0]["actor"], "tracer");
        assert_eq!(reads[0]["target"], format!("person:{}", w.person[0]));
        assert!(reads[0]["detail"].as_str().unwrap().contains("full"));
        assert!(reads[1]["detail"].as_str().unwrap().contains("masked"));
        assert_eq!(reads[0]["address"], "127.0.0.1");
        let all = audit("?limit=1000").await;
        let actions: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "login",
            "login_failed",
            "logout",
            "token.create",
            "token.revoke",
            "user.disable",
            "user.create",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        let text = all.to_string();
        assert!(!text.contains(full["document"].as_str().unwrap()));
        assert!(!text.contains("wawuli-password") && !text.contains("long-enough-1"));
        assert_eq!(
            audit("?actor=tracer&action=login")
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // Nobody else reads it.
        let r = srv
            .client_as(Role::Cdc)
            .get(format!("{}/api/v1/audit", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_accounts_sign_in_with_the_documented_password() {
    let store = stores("demo").remove(0);
    blocking(|| {
        let spec = gridsweep_population::GenSpec::demo();
        gridsweep_population::generate(&*store, &spec, &mut |_| {}).unwrap();
        assert_eq!(
            gridsweep_server::create_demo_users(&*store).unwrap(),
            gridsweep_server::DEMO_USERS.len()
        );
        assert_eq!(
            gridsweep_server::create_demo_users(&*store).unwrap(),
            0,
            "idempotent"
        );
        assert_eq!(gridsweep_server::ensure_admin(&*store, None).unwrap(), None);
    });
    let srv = TestServer::start(store.clone()).await;
    for (username, role, _, _) in gridsweep_server::DEMO_USERS {
        let (s, b, _) = login(&srv, username, gridsweep_server::DEMO_PASSWORD).await;
        assert_eq!(s, 200, "{username}: {b}");
        assert_eq!(b["user"]["role"], role.as_str());
        assert_eq!(
            b["user"]["scope_area"].is_null(),
            !role.needs_area(),
            "{username}"
        );
    }
}

#[test]
fn first_start_creates_one_admin() {
    let store = stores("first").remove(0);
    let pw = gridsweep_server::ensure_admin(&*store, None)
        .unwrap()
        .unwrap();
    assert!(pw.len() >= 16);
    let admin = store.user_by_name("admin").unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(
        admin.must_change_password,
        "a printed password is for one sign-in"
    );
    assert!(gridsweep_server::auth::verify_password(
        &pw,
        admin.password_hash.as_deref().unwrap()
    ));
    assert_eq!(
        gridsweep_server::ensure_admin(&*store, Some("other")).unwrap(),
        None
    );
    assert_eq!(store.users().unwrap().len(), 1);
}

/// One signed-in browser: the session cookie and its CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn sign_in(srv: &TestServer, username: &str, password: &str) -> (Self, Value) {
        let (s, b, cookie) = login(srv, username, password).await;
        assert_eq!(s, 200, "{b}");
        let cookie = cookie.unwrap().split(';').next().unwrap().to_string();
        let csrf = b["csrf_token"].as_str().unwrap().to_string();
        (Self { cookie, csrf }, b)
    }

    async fn get(&self, srv: &TestServer, path: &str) -> (u16, Value) {
        let r = srv
            .client
            .get(format!("{}{path}", srv.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, srv: &TestServer, path: &str, body: Value) -> (u16, Value) {
        let r = srv
            .client
            .post(format!("{}{path}", srv.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_password_opens_only_its_own_change() {
    for store in stores("one-time") {
        let st = store.clone();
        let pw = blocking(move || gridsweep_server::ensure_admin(&*st, None).unwrap().unwrap());
        let srv = TestServer::start(store.clone()).await;
        let (a, b) = Browser::sign_in(&srv, "admin", &pw).await;
        assert_eq!(b["user"]["must_change_password"], true);
        let (other, _) = Browser::sign_in(&srv, "admin", &pw).await;
        // Nothing but who am I, sign out, and the change itself.
        let (s, e) = a.get(&srv, "/api/v1/users").await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (403, "password_change_required")
        );
        let (s, e) = a.get(&srv, "/api/v1/audit").await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (403, "password_change_required")
        );
        assert_eq!(a.get(&srv, "/api/v1/auth/me").await.0, 200);

        let change =
            |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
        let (s, e) = a
            .post(
                &srv,
                "/api/v1/auth/password",
                change("wrong-password", "a-new-password"),
            )
            .await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (403, "bad_credentials"),
            "{e}"
        );
        let (s, e) = a
            .post(&srv, "/api/v1/auth/password", change(&pw, "short"))
            .await;
        assert_eq!(
            (s, e["error"]["field"].as_str()),
            (400, Some("new_password")),
            "{e}"
        );
        let (s, e) = a
            .post(&srv, "/api/v1/auth/password", change(&pw, &pw))
            .await;
        assert_eq!(
            (s, e["error"]["field"].as_str()),
            (400, Some("new_password")),
            "{e}"
        );
        // Without the CSRF header the cookie alone changes nothing.
        let r = srv
            .client
            .post(format!("{}/api/v1/auth/password", srv.base))
            .header("cookie", &a.cookie)
            .json(&change(&pw, "a-new-password"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);

        let (s, e) = a
            .post(&srv, "/api/v1/auth/password", change(&pw, "a-new-password"))
            .await;
        assert_eq!(s, 204, "{e}");
        // The changing session goes on, now with every right of the role;
        // the other session of the account has ended.
        assert_eq!(a.get(&srv, "/api/v1/users").await.0, 200);
        assert_eq!(other.get(&srv, "/api/v1/auth/me").await.0, 401);
        assert_eq!(login(&srv, "admin", &pw).await.0, 401);
        let (_, b) = Browser::sign_in(&srv, "admin", "a-new-password").await;
        assert_eq!(b["user"]["must_change_password"], false);
        let (_, audit) = a.get(&srv, "/api/v1/audit").await;
        let text = audit.to_string();
        assert!(text.contains("password.change"), "{text}");
        assert!(!text.contains("a-new-password") && !text.contains(&pw));

        // Devices and lab systems have no password to change.
        let r = srv
            .client_as(Role::Lab)
            .post(format!("{}/api/v1/auth/password", srv.base))
            .json(&change("x", "a-new-password"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let e: Value = r.json().await.unwrap();
        assert_eq!(error_code(&e), "session_required");
    }
}
