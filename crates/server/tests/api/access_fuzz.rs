//! The probe kept in the suite: every route × every role × a target in and
//! out of scope, each sent plain and then in variants a client or an
//! attacker may send — other JSON content types and cases, padded and
//! look-alike barcodes, ids written differently, a scoped query parameter
//! given twice, sync events reordered and repeated, a trailing slash.
//!
//! The rules: no variant of a refused request succeeds; a variant that
//! means the same as the plain request passes or fails the access check as
//! the plain one did; nothing answers 5xx.

use crate::auth::{request, scope_binds, world};
use crate::common::{TestServer, bearer_client, blocking, role_accounts, stores};
use gridsweep_domain::{ROLES, Role};
use gridsweep_server::API_ROUTES;
use gridsweep_server::auth::Scope;
use serde_json::Value;

/// One variant of a request.
struct Variant {
    name: String,
    url: String,
    body: Option<String>,
    content_type: Option<String>,
    /// Means exactly what the plain request means.
    same: bool,
}

const JSON_TYPES: &[&str] = &[
    "application/vnd.gridsweep+json",
    "APPLICATION/JSON",
    "Application/Json; charset=UTF-8",
    "application/problem+JSON ; q=1",
];
const OTHER_TYPES: &[&str] = &[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
];

/// Look-alikes of a barcode: full-width letters, a Cyrillic М, a zero-width
/// space, a non-breaking space inside.
fn look_alikes(code: &str) -> Vec<String> {
    let full: String = code
        .chars()
        .map(|c| match c {
            'A'..='Z' | '0'..='9' | '-' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect();
    vec![
        full,
        code.replacen('M', "\u{041C}", 1),
        format!("{code}\u{200B}"),
        code.replacen('-', "\u{00A0}", 1),
    ]
}

fn paddings(code: &str) -> Vec<String> {
    vec![
        format!(" {code}"),
        format!("{code} "),
        format!("\t{code}\t"),
        format!("  {code}  "),
    ]
}

fn encode_path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Replaces a barcode everywhere in a JSON body (fields and events).
fn swap_in_body(body: &Value, from: &str, to: &str) -> Value {
    match body {
        Value::String(s) if s == from => Value::String(to.to_string()),
        Value::Array(a) => Value::Array(a.iter().map(|v| swap_in_body(v, from, to)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), swap_in_body(v, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn variants(
    url: &str,
    body: &Option<Value>,
    scope: Scope,
    barcodes: &[&str],
    area_ids: (i64, i64),
) -> Vec<Variant> {
    let text = body.as_ref().map(Value::to_string);
    let mut out = Vec::new();
    let v =
        |name: String, url: String, body: Option<String>, ct: Option<&str>, same: bool| Variant {
            name,
            url,
            body,
            content_type: ct.map(str::to_string),
            same,
        };
    if text.is_some() {
        for ct in JSON_TYPES {
            out.push(v(
                format!("type {ct}"),
                url.into(),
                text.clone(),
                Some(ct),
                true,
            ));
        }
        for ct in OTHER_TYPES {
            // Not JSON: refused (415) where the body matters, else the same.
            out.push(v(
                format!("type {ct}"),
                url.into(),
                text.clone(),
                Some(ct),
                false,
            ));
        }
        out.push(v("no type".into(), url.into(), text.clone(), None, false));
    }
    // Barcodes in the path or body: padded (the same tube), look-alikes
    // (another string).
    for code in barcodes {
        let in_path = url.contains(&format!("/{code}"));
        let in_body = text.as_ref().is_some_and(|t| t.contains(code));
        for (alts, same) in [(paddings(code), true), (look_alikes(code), false)] {
            for alt in alts {
                if in_path {
                    let u = url.replace(
                        &format!("/{code}"),
                        &format!("/{}", encode_path_segment(&alt)),
                    );
                    out.push(v(
                        format!("path {alt:?}"),
                        u,
                        text.clone(),
                        Some("application/json"),
                        same,
                    ));
                }
                if in_body {
                    let b = swap_in_body(body.as_ref().unwrap(), code, &alt).to_string();
                    out.push(v(
                        format!("body {alt:?}"),
                        url.into(),
                        Some(b),
                        Some("application/json"),
                        same,
                    ));
                }
            }
        }
    }
    // Ids written another way in the path.
    let segments: Vec<&str> = url.split('?').next().unwrap_or(url).split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            for alt in [format!("0{seg}"), format!("+{seg}")] {
                let mut s = segments.clone();
                s[i] = &alt;
                let mut u = s.join("/");
                if let Some(q) = url.split_once('?').map(|x| x.1) {
                    u = format!("{u}?{q}");
                }
                out.push(v(
                    format!("id {alt}"),
                    u,
                    text.clone(),
                    Some("application/json"),
                    false,
                ));
            }
        }
    }
    // A scoped query parameter twice, the other area first or last.
    if let Scope::AreaQuery(q) = scope {
        let (mine, theirs) = area_ids;
        for (a, b) in [(mine, theirs), (theirs, mine)] {
            let base = url.split('?').next().unwrap_or(url);
            let rest: String = url
                .split_once('?')
                .map(|x| x.1)
                .unwrap_or("")
                .split('&')
                .filter(|kv| !kv.starts_with(&format!("{q}=")))
                .map(|kv| format!("&{kv}"))
                .collect();
            out.push(v(
                format!("{q} twice {a},{b}"),
                format!("{base}?{q}={a}&{q}={b}{rest}"),
                text.clone(),
                Some("application/json"),
                false,
            ));
        }
    }
    // Sync batches: events reversed, repeated.
    if let (Scope::SyncEvents, Some(b)) = (scope, body) {
        let mut events = b["events"].as_array().cloned().unwrap_or_default();
        events.extend(events.clone());
        let mut twice = b.clone();
        twice["events"] = Value::Array(events.clone());
        out.push(v(
            "events repeated".into(),
            url.into(),
            Some(twice.to_string()),
            Some("application/json"),
            true,
        ));
        events.reverse();
        let mut rev = b.clone();
        rev["events"] = Value::Array(events);
        out.push(v(
            "events reversed".into(),
            url.into(),
            Some(rev.to_string()),
            Some("application/json"),
            true,
        ));
    }
    // A trailing slash names no route.
    let base = url.split('?').next().unwrap_or(url);
    out.push(v(
        "trailing slash".into(),
        url.replacen(base, &format!("{base}/"), 1),
        text.clone(),
        Some("application/json"),
        false,
    ));
    out
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    url: &str,
    body: &Option<String>,
    ct: &Option<String>,
) -> u16 {
    let full = format!("{base}{url}");
    let mut req = match method {
        "get" => client.get(full),
        "post" => client.post(full),
        other => panic!("method {other}"),
    };
    if let Some(b) = body {
        req = req.body(b.clone());
    }
    if let Some(ct) = ct {
        req = req.header("content-type", ct.as_str());
    }
    req.timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(599)
}

fn denied(status: u16) -> bool {
    status == 401 || status == 403
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_variant_of_a_request_gets_past_the_access_check() {
    for store in stores("access-fuzz") {
        let w = blocking(|| world(&store));
        let srv = TestServer::start(store.clone()).await;
        let community = w.f.community;
        let (tokens, ids) = blocking(|| role_accounts(&*store, Some(community), "-f"));
        let (mut requests, mut cells, mut kinds, mut differences) = (
            0usize,
            0usize,
            std::collections::BTreeSet::new(),
            Vec::new(),
        );
        let barcodes: Vec<&str> = vec![
            &w.tube[0],
            &w.tube[1],
            &w.boxed[0],
            &w.boxed[1],
            "MX-S0",
            "MX-S1",
        ];
        for route in API_ROUTES {
            if route.path == "/api/v1/events" || route.access.roles().is_none() {
                continue;
            }
            let roles = route.access.roles().unwrap();
            let scope = route.access.scope();
            for role in ROLES {
                let client = bearer_client(&tokens[&role]);
                cells += 1;
                for i in [0, 1] {
                    let (url, mut body) = request(&w, route.method, route.path, scope, role, i);
                    if let Some(b) = body.as_mut() {
                        b["user"] = ids[&Role::Sampler].into();
                    }
                    let plain_text = body.as_ref().map(Value::to_string);
                    let json_ct = body.as_ref().map(|_| "application/json".to_string());
                    let plain = send(
                        &client,
                        &srv.base,
                        route.method,
                        &url,
                        &plain_text,
                        &json_ct,
                    )
                    .await;
                    requests += 1;
                    let must_deny = !roles.contains(&role) || (i == 1 && scope_binds(scope, role));
                    if must_deny != denied(plain) || plain >= 500 {
                        differences.push(format!(
                            "{role} {} {url}: plain answered {plain}",
                            route.method
                        ));
                    }
                    let areas = (
                        [w.f.community, w.f.other_community][i].get(),
                        [w.f.other_community, w.f.community][i].get(),
                    );
                    for v in variants(&url, &body, scope, &barcodes, areas) {
                        kinds.insert(v.name.split(' ').next().unwrap_or("").to_string());
                        let s = send(
                            &client,
                            &srv.base,
                            route.method,
                            &v.url,
                            &v.body,
                            &v.content_type,
                        )
                        .await;
                        requests += 1;
                        let wrong = s >= 500
                            || (denied(plain) && (200..300).contains(&s))
                            || (v.same && denied(plain) != denied(s));
                        if wrong {
                            differences.push(format!(
                                "{role} {} {} [{}]: {s}, plain {plain}",
                                route.method, v.url, v.name
                            ));
                        }
                    }
                }
            }
        }
        println!(
            "access fuzz ({}): {requests} requests, {cells} route × role cells over {} routes, variant kinds {:?}, {} differences",
            store.backend(),
            API_ROUTES.len(),
            kinds,
            differences.len()
        );
        assert!(differences.is_empty(), "{}", differences.join("\n"));
        assert!(requests > 2000, "{requests} requests");
    }
}
