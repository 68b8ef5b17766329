//! The 6·13 drill as a story test: `gridsweep demo` builds the demo
//! district and replays the scenario through the HTTP API; the report's
//! figures are asserted. Runs on SQLite, and on PostgreSQL too when
//! `GRIDSWEEP_TEST_DATABASE_URL` names a server.

use serde_json::Value;
use std::process::Command;

fn databases(tag: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("gridsweep-drill-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![format!("sqlite://{}", dir.join("drill.db").display())];
    if let Ok(base) = std::env::var("GRIDSWEEP_TEST_DATABASE_URL") {
        let name = format!("gs_drill_{tag}_{}", std::process::id());
        out.push(gridsweep_storage_postgres::create_scratch_database(&base, &name).unwrap());
    }
    out
}

fn demo(url: &str, scenario: &str) -> Value {
    let path = format!("{}/../../scenarios/{scenario}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_gridsweep"))
        .args(["demo", "--json", "--scenario", &path, "--database-url", url])
        .env("GRIDSWEEP_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The generator reports on stdout before the report: the JSON is the
    // last top-level object.
    let text = String::from_utf8(out.stdout).unwrap();
    let at = text.find("\n{").map_or(0, |i| i + 1);
    serde_json::from_str(&text[at..]).unwrap()
}

fn hm(v: &Value) -> String {
    let t: chrono::DateTime<chrono::Utc> = serde_json::from_value(v.clone()).unwrap();
    gridsweep_response::time::hm(t)
}

#[test]
fn drill_613_figure_for_figure() {
    for url in databases("613") {
        let r = demo(&url, "613.toml");
        assert_eq!(hm(&r["incident"]["opened_at"]), "03:04");
        let trigger = &r["trigger"];
        assert_eq!(trigger["site"], "瓦屋李核酸采样小屋");
        assert_eq!(trigger["capacity"], 20);
        assert_eq!(trigger["outcome"], "suspected");
        let mob = r["mobilisation"].as_array().unwrap();
        assert_eq!(mob.len(), 3, "three grid levels: {mob:?}");
        assert!(mob.iter().all(|m| hm(&m["at"]) == "03:20"));
        let controls = r["controls"].as_array().unwrap();
        assert_eq!(controls.len(), 5, "five places under static control");
        assert!(controls.iter().all(|c| hm(&c["lifted_at"]) == "16:54"));
        let e = &r["expansion"];
        assert_eq!(hm(&e["first_at"]), "04:00");
        assert_eq!(e["tubes"], 360);
        assert_eq!(r["pool"], 20);
        assert_eq!(e["people"], 6799);
        assert_eq!(e["env_tubes"], 8);
        assert_eq!(e["env_points"], 80);
        assert_eq!(e["non_negative"], 0);
        assert_eq!(r["all_negative"], true);
        let wawuli = r["communities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["community"] == "瓦屋李社区")
            .unwrap();
        assert_eq!(wawuli["counts"]["person_times"], 5293);
        assert!(hm(&wawuli["counts"]["last_at"]).as_str() <= "12:00");
        let sites: std::collections::BTreeSet<&str> = r["communities"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| {
                c["sites"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
            })
            .collect();
        assert_eq!(sites.len(), 5, "five sites: {sites:?}");
        let iso = r["isolations"].as_array().unwrap();
        assert!(iso.len() >= 2, "student and household: {iso:?}");
        assert!(iso.iter().all(|i| i["days"] == 7));
        assert!(iso.iter().any(|i| {
            i["affiliations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a.as_str().unwrap().starts_with("郑州大学南校区"))
        }));
        assert_eq!(r["retests"]["grey_zone"], 1);
        assert_eq!(r["retests"]["negative"], 19);
        assert_eq!(hm(&r["all_clear_at"]), "16:54");
        assert_eq!(r["time_to_all_clear"], "13 h 50 m");
        let decisions = r["decisions"].as_array().unwrap();
        assert!(decisions.iter().all(|d| d["status"] == "confirmed"));
        assert!(
            decisions
                .iter()
                .any(|d| d["kind"] == "lift_and_close" && d["decided_role"] == "district_command")
        );
        assert_eq!(r["savings"]["tests_used"], 360);
        assert!(r["cascades"].as_array().unwrap().is_empty());
        // Coverage per controlled compound, over the incident's rounds: on
        // the day controls were lifted before every resident was sampled
        // or accounted for, so the lift is an override with its reason.
        let coverage = r["coverage"].as_array().unwrap();
        assert_eq!(coverage.len(), 5);
        for c in coverage {
            let sum = c["sampled"].as_u64().unwrap()
                + c["accounted"].as_u64().unwrap()
                + c["missing"].as_u64().unwrap();
            assert_eq!(c["roster"].as_u64().unwrap(), sum, "{c}");
            assert_eq!(c["lifted"], true);
        }
        let school = coverage
            .iter()
            .find(|c| c["area"]["name"] == "高新区第三十七中学")
            .unwrap();
        assert!(school["missing"].as_u64().unwrap() > 0, "{school}");
        assert_eq!(r["overrides"].as_array().unwrap().len(), 1);
        assert!(r["conclusion"].as_str().unwrap().contains("提前解除"));
        // The trigger tube's chain is resolved; nothing else was reactive.
        let chains = r["chains"].as_array().unwrap();
        assert_eq!(chains.len(), 1);
        assert_eq!(chains[0]["resolved"], true);
    }
}

#[test]
fn positive_retest_cascades_and_controls_stay() {
    for url in databases("cascade") {
        let r = demo(&url, "613-positive-retest.toml");
        assert_eq!(r["incident"]["status"], "open");
        assert!(r["all_clear_at"].is_null());
        assert_eq!(r["retests"]["positive"], 1);
        assert_eq!(r["confirmed_cases"].as_array().unwrap().len(), 1);
        let cascades = r["cascades"].as_array().unwrap();
        assert_eq!(cascades.len(), 1);
        assert!(cascades[0]["contacts"].as_u64().unwrap() > 0);
        assert_eq!(cascades[0]["status"], "open");
        assert!(
            r["controls"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["incident"] == r["incident"]["id"])
                .all(|c| c["lifted_at"].is_null()),
            "controls stay on"
        );
        assert!(
            !r["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["kind"] == "lift_and_close"),
            "lift is never proposed next to a case"
        );
        assert!(r["conclusion"].as_str().unwrap().contains("管控继续"));
    }
}
