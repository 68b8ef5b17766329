//! Scenarios beyond the 6·13 story (`scenarios/*.toml`), replayed with
//! `gridsweep demo` and checked figure by figure against what each
//! scenario implies: reactive expansion tubes (human and environmental)
//! whose chains resolve before the lift, two cases with their cascades,
//! members across four sub-districts, incomplete coverage lifted only by an
//! explicit override, full coverage reached with marks across midnight,
//! and malformed files refused before anything is written. Runs on SQLite,
//! and on PostgreSQL too when `GRIDSWEEP_TEST_DATABASE_URL` names a server.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A database holding the demo district only, to copy per scenario.
enum Db {
    Sqlite(PathBuf),
    Postgres { base: String, template: String },
}

fn scratch_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gridsweep-scenarios-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gridsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridsweep"))
        .args(args)
        .env("GRIDSWEEP_LOG", "warn")
        .output()
        .unwrap()
}

/// The populations the scenarios run on: SQLite always, PostgreSQL when
/// configured. Generated once per test.
fn populations(tag: &str) -> Vec<Db> {
    let dir = scratch_dir(tag);
    let file = dir.join("population.db");
    let url = format!("sqlite://{}", file.display());
    let out = gridsweep(&["--database-url", &url, "gen"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dbs = vec![Db::Sqlite(file)];
    if let Ok(base) = std::env::var("GRIDSWEEP_TEST_DATABASE_URL") {
        let name = format!("gs_scn_{tag}_{}", std::process::id());
        let url = gridsweep_storage_postgres::create_scratch_database(&base, &name).unwrap();
        let out = gridsweep(&["--database-url", &url, "gen"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dbs.push(Db::Postgres {
            base,
            template: name,
        });
    }
    dbs
}

fn pg_admin(base: &str) -> postgres::Client {
    base.parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .unwrap()
}

fn pg_url(base: &str, name: &str) -> String {
    let host = base.split("://").nth(1).unwrap().split('/').next().unwrap();
    format!("postgres://{host}/{name}")
}

/// A fresh copy of the population for one run; returns its URL.
fn copy_of(db: &Db, name: &str) -> String {
    match db {
        Db::Sqlite(file) => {
            let copy = file.with_file_name(format!("{name}.db"));
            std::fs::copy(file, &copy).unwrap();
            format!("sqlite://{}", copy.display())
        }
        Db::Postgres { base, template } => {
            let db = format!("{template}_{name}").replace('-', "_");
            let mut admin = pg_admin(base);
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\""))
                .unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE \"{db}\" TEMPLATE \"{template}\""))
                .unwrap();
            pg_url(base, &db)
        }
    }
}

fn scenario_path(name: &str) -> String {
    format!("{}/../../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Replays `file` with `--json`: stdout must be the report and nothing else.
fn replay(url: &str, file: &str) -> (Value, String) {
    replay_with(url, file, &[])
}

fn replay_with(url: &str, file: &str, extra: &[&str]) -> (Value, String) {
    let mut args = vec!["demo", "--json", "--scenario", file, "--database-url", url];
    args.extend_from_slice(extra);
    let out = gridsweep(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "demo failed: {stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let report = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("--json printed more than the report ({e}): {text:.300}"));
    (report, stderr)
}

fn hm(v: &Value) -> String {
    let t: chrono::DateTime<chrono::Utc> = serde_json::from_value(v.clone()).unwrap();
    gridsweep_response::time::hm(t)
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap()
}

fn coverage<'a>(r: &'a Value, compound: &str) -> &'a Value {
    arr(&r["coverage"])
        .iter()
        .find(|c| c["area"]["name"] == compound && c["incident"] == r["incident"]["id"])
        .unwrap_or_else(|| panic!("no coverage of {compound}: {}", r["coverage"]))
}

#[test]
fn reactive_expansion_tubes_have_their_chains_and_then_lift() {
    for db in populations("reactive") {
        let url = copy_of(&db, "reactive");
        let dir = scratch_dir("reactive-files");
        let (html, xlsx) = (dir.join("report.html"), dir.join("report.xlsx"));
        let (r, _) = replay_with(
            &url,
            &scenario_path("reactive-expansion.toml"),
            &[
                "--html",
                html.to_str().unwrap(),
                "--xlsx",
                xlsx.to_str().unwrap(),
            ],
        );
        // The page shows the reactive tubes' chains and the coverage.
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains("<td>扩面筛查 KM1-1-0004</td>"), "chain row");
        assert!(
            page.contains("<td>扩面筛查 HJ1-1-01（环境）</td>"),
            "chain row"
        );
        assert!(page.contains(
            "<td>百合御府</td><td>415</td><td>415</td><td>0</td><td>0</td><td>100%</td>"
        ));
        assert!(std::fs::metadata(&xlsx).unwrap().len() > 0);
        let e = &r["expansion"];
        // 21 human tubes, all counted — the reactive one too.
        assert_eq!(e["tubes"], 21);
        assert_eq!(e["people"], 405);
        assert_eq!(e["person_times"], 405);
        // 2 environmental tubes of 10 points, plus the resampling of the
        // positive one's site.
        assert_eq!(e["env_tubes"], 3);
        assert_eq!(e["env_points"], 30);
        assert_eq!(e["non_negative"], 2);
        assert_eq!(r["all_negative"], false);
        let chains = arr(&r["chains"]);
        assert_eq!(chains.len(), 3, "trigger, expansion and environmental");
        assert!(chains.iter().all(|c| c["resolved"] == true), "{chains:?}");
        let human = chains
            .iter()
            .find(|c| c["role"] == "expansion" && c["kind"] == "human")
            .unwrap();
        // 405 over 21 tubes: tube #4 holds 20 (the first 6 hold 20).
        assert_eq!(human["tube"], "KM1-1-0004");
        assert_eq!(human["persons"], 20);
        assert_eq!(human["awaiting"], 0);
        let env = chains
            .iter()
            .find(|c| c["kind"] == "environmental")
            .unwrap();
        assert_eq!(env["tube"], "HJ1-1-01");
        assert_eq!(
            (&env["disinfected"], &env["resampled"]),
            (&Value::Bool(true), &Value::Bool(true))
        );
        // Every person retested: the 10 trigger members and the 20 of the
        // reactive tube (whatever else they are), all negative.
        let rt = &r["retests"];
        assert_eq!(rt["members"], 30);
        assert_eq!(rt["negative"], 30);
        assert_eq!(rt["pending"], 0);
        // The environmental chain's tasks.
        let tasks: BTreeMap<String, (u64, u64)> = arr(&r["tasks_by_kind"])
            .iter()
            .map(|t| {
                (
                    t[0].as_str().unwrap().to_string(),
                    (t[1].as_u64().unwrap(), t[2].as_u64().unwrap()),
                )
            })
            .collect();
        assert_eq!(tasks["disinfection"], (1, 1));
        assert_eq!(tasks["env_resample"], (1, 1));
        // Every resident of 百合御府 covered: 10 retested + 405 sampled.
        let c = coverage(&r, "百合御府");
        assert_eq!(
            (&c["roster"], &c["sampled"], &c["accounted"], &c["missing"]),
            (
                &Value::from(415),
                &Value::from(415),
                &Value::from(0),
                &Value::from(0)
            )
        );
        // The playbook proposed the lift itself once every chain resolved
        // (the last follow-up result, 13:30); command confirmed at 13:50.
        let lift = arr(&r["decisions"])
            .iter()
            .find(|d| d["kind"] == "lift_and_close")
            .unwrap();
        assert_eq!(lift["proposed_by"], "预案(playbook)");
        assert_eq!(hm(&lift["proposed_at"]), "13:30");
        assert_eq!(lift["status"], "confirmed");
        assert!(lift["override_reason"].is_null());
        assert_eq!(r["incident"]["status"], "closed");
        assert_eq!(hm(&r["all_clear_at"]), "13:50");
        assert_eq!(r["time_to_all_clear"], "11 h 35 m");
        assert!(
            r["conclusion"]
                .as_str()
                .unwrap()
                .contains("非阴性 2 管，处置链均已闭环"),
            "{}",
            r["conclusion"]
        );
        // The timeline has each chain's steps.
        let texts: Vec<&str> = arr(&r["timeline"])
            .iter()
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("KM1-1-0004") && t.contains("成员隔离待复核"))
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("HJ1-1-01") && t.contains("消杀与复采任务下发"))
        );
        assert!(texts.iter().any(|t| t.contains("HJ1-1-01-R 阴性")));
    }
}

#[test]
fn two_cases_cascade_and_the_report_says_what_blocks() {
    for db in populations("cases") {
        let url = copy_of(&db, "cases");
        let (r, stderr) = replay(&url, &scenario_path("two-cases.toml"));
        assert_eq!(r["incident"]["status"], "open");
        assert!(r["all_clear_at"].is_null());
        assert_eq!(arr(&r["confirmed_cases"]).len(), 2);
        assert_eq!(r["retests"]["members"], 16);
        assert_eq!(r["retests"]["positive"], 2);
        assert_eq!(r["retests"]["negative"], 14);
        let cascades = arr(&r["cascades"]);
        assert_eq!(cascades.len(), 2);
        // No fixed cap: every other resident of the case's building is a
        // contact (the cases' building in 升龙府 holds more than 300), and
        // no "left out" note was needed.
        for c in cascades {
            assert_eq!(c["status"], "open");
            assert!(c["contacts"].as_u64().unwrap() > 300, "{c}");
        }
        assert!(
            !arr(&r["timeline"])
                .iter()
                .any(|e| e["text"].as_str().unwrap().contains("未纳入"))
        );
        assert!(
            !arr(&r["decisions"])
                .iter()
                .any(|d| d["kind"] == "lift_and_close"),
            "lift is never proposed next to a case"
        );
        assert!(stderr.contains("lift_and_close: nothing of that kind was proposed"));
        let conclusion = r["conclusion"].as_str().unwrap();
        assert!(conclusion.starts_with("确诊 2 例"), "{conclusion}");
        assert!(conclusion.contains("2 人复核阳性"), "{conclusion}");
        let blockers = arr(&r["blockers"]);
        assert!(
            blockers
                .iter()
                .any(|b| b.as_str().unwrap().contains("升龙府 覆盖"))
        );
        // The trigger tube's chain stays open on the two cases.
        let chain = &arr(&r["chains"])[0];
        assert_eq!(
            (&chain["cases"], &chain["resolved"]),
            (&Value::from(2), &Value::Bool(false))
        );
    }
}

#[test]
fn members_in_four_sub_districts_are_all_alerted_and_every_line_kept() {
    for db in populations("subdistricts") {
        let url = copy_of(&db, "subdistricts");
        let (r, _) = replay(&url, &scenario_path("three-subdistricts.toml"));
        let alerted: Vec<&str> = arr(&r["alerted"])
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        for name in [
            "梧桐街办事处",
            "瓦屋李社区",
            "冬青街办事处",
            "紫锦社区",
            "玉兰街办事处",
            "紫竹社区",
            "石佛办事处",
            "观悦社区",
        ] {
            assert!(alerted.contains(&name), "{name} not alerted: {alerted:?}");
        }
        // The alert itself went out to them, on the timeline.
        let notified: Vec<&str> = arr(&r["timeline"])
            .iter()
            .filter(|e| e["kind"] == "notified")
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        for name in ["冬青街办事处", "石佛办事处", "紫竹社区", "观悦社区"] {
            assert!(
                notified.iter().any(|t| t.contains(name)),
                "{name}: {notified:?}"
            );
        }
        // Six reports from three sub-districts: all six kept.
        assert_eq!(arr(&r["mobilisation"]).len(), 6);
        assert_eq!(arr(&r["controls"]).len(), 4);
        assert_eq!(r["incident"]["status"], "open");
        // Nothing lifted: the conclusion names the compounds short of
        // coverage, with their figures.
        let c = coverage(&r, "博雅家园");
        assert_eq!(c["roster"], 461);
        assert_eq!(c["sampled"], 104, "100 in the expansion round, 4 retested");
        assert_eq!(c["missing"], 357);
        let conclusion = r["conclusion"].as_str().unwrap();
        assert!(conclusion.starts_with("处置中，管控继续："), "{conclusion}");
        assert!(conclusion.contains("博雅家园 覆盖 22%"), "{conclusion}");
        assert!(conclusion.contains("牡丹佳苑 覆盖 1%"), "{conclusion}");
        assert!(
            !arr(&r["decisions"])
                .iter()
                .any(|d| d["kind"] == "lift_and_close")
        );
    }
}

#[test]
fn incomplete_coverage_lifts_only_by_an_override_with_its_reason() {
    for db in populations("override") {
        let url = copy_of(&db, "override");
        let (r, stderr) = replay(&url, &scenario_path("incomplete-coverage.toml"));
        // Every tube negative, yet the playbook did not propose the lift.
        assert_eq!(r["all_negative"], true);
        assert!(stderr.contains("lift_and_close: nothing of that kind was proposed"));
        let c = coverage(&r, "牡丹佳苑");
        assert_eq!(c["roster"], 281);
        assert_eq!(c["sampled"], 155, "5 retested members + 150 sampled");
        assert_eq!(c["accounted"], 20);
        assert_eq!(c["missing"], 106);
        assert_eq!(c["lifted"], true);
        // Command's own proposal, confirmed as an override with its reason.
        let decisions = arr(&r["decisions"]);
        assert_eq!(decisions.len(), 1);
        let d = &decisions[0];
        assert_eq!(d["kind"], "lift_and_close");
        // The account that proposed it, under the title the scenario gives.
        assert_eq!(d["proposed_by"], "高新区疫情指挥部 指挥长 (drill-command)");
        let reason = "全部扩面管及复核管阴性；未采 106 人为夜班务工人员，由社区次日上门补采";
        assert_eq!(d["override_reason"], reason);
        assert_eq!(arr(&r["overrides"]).len(), 1);
        assert!(r["conclusion"].as_str().unwrap().contains(reason));
        assert!(
            arr(&r["timeline"]).iter().any(|e| {
                let t = e["text"].as_str().unwrap();
                t.contains("覆盖率未达预案要求") && t.contains("牡丹佳苑 覆盖 62%")
            }),
            "the override and the shortfall it passed are on the timeline"
        );
        assert_eq!(hm(&r["all_clear_at"]), "07:00");
        assert_eq!(r["time_to_all_clear"], "6 h 30 m");
    }
}

#[test]
fn marks_complete_coverage_and_an_overnight_incident_shows_dates() {
    for db in populations("overnight") {
        let url = copy_of(&db, "overnight");
        let out = gridsweep(&[
            "demo",
            "--scenario",
            &scenario_path("marks-overnight.toml"),
            "--database-url",
            &url,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        // Times carry their date across midnight.
        assert!(
            text.contains("静态化管控 凯旋路制药厂家属院 07-12 22:30 → 解除 07-13 09:00"),
            "{text}"
        );
        assert!(
            text.contains("全部管控解除 07-13 09:00，用时 10 h 30 m"),
            "{text}"
        );
        assert!(
            text.contains(
                "覆盖 凯旋路制药厂家属院：应检 368 人，已采 320，已说明 48，缺 0，覆盖 100%"
            ),
            "{text}"
        );
        // Proposed by the playbook once the marks completed coverage.
        assert!(
            text.contains("决定 #1 解除管控并结案 ：提出 07-13"),
            "{text}"
        );
        assert!(text.contains("预案(playbook)"), "{text}");
        assert!(!text.contains("覆盖率未达标提前解除"), "{text}");
        // `[lab] name` is honoured: the results came from that lab's account.
        if let Some(path) = url.strip_prefix("sqlite://") {
            let c = rusqlite::Connection::open(path).unwrap();
            let lab: String = c
                .query_row(
                    "SELECT lab FROM users WHERE username = 'drill-lab'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(lab, "凯旋路第三方医学检验所");
        }
    }
}

/// Row counts of every table of the database `url` names.
fn row_counts(url: &str) -> BTreeMap<String, i64> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let c = rusqlite::Connection::open(path).unwrap();
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        tables
            .into_iter()
            .map(|t| {
                let n: i64 = c
                    .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                    .unwrap();
                (t, n)
            })
            .collect()
    } else {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let tables: Vec<String> = c
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        tables
            .into_iter()
            .map(|t| {
                let n: i64 = c
                    .query_one(&format!("SELECT count(*) FROM \"{t}\""), &[])
                    .unwrap()
                    .get(0);
                (t, n)
            })
            .collect()
    }
}

/// Each malformed file is refused with a non-zero exit and a message
/// naming the fault, before anything is written: the row count of every
/// table is the same before and after (and on SQLite the file itself is
/// byte for byte the same). The fixed file then replays once, normally.
#[test]
fn malformed_files_are_refused_before_any_write() {
    let base = std::fs::read_to_string(scenario_path("incomplete-coverage.toml")).unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "unknown place",
            "{ place = \"牡丹佳苑\", count = 5 }",
            "{ place = \"不存在的小区\", count = 5 }",
            "not on the roster",
        ),
        (
            "ambiguous place",
            "from = [\"牡丹佳苑\"]",
            "from = [\"1号楼\"]",
            "ambiguous: 47 areas",
        ),
        (
            "unknown site",
            "site = \"观悦社区上门采样一队\"",
            "site = \"观悦社区上门采样九队\"",
            "does not exist",
        ),
        (
            "too few residents",
            "count = 20",
            "count = 2000",
            "wants 2000 persons",
        ),
        (
            "tube over its pool",
            "tubes = 8",
            "tubes = 7",
            "do not fill 7 tubes",
        ),
        (
            "bad time",
            "start = \"01:30\"",
            "start = \"25:30\"",
            "time 25:30",
        ),
        (
            "negative Ct",
            "orf1ab = 34.0",
            "orf1ab = -3.0",
            "not a possible value",
        ),
        (
            "unknown mark kind",
            "kind = \"away\"",
            "kind = \"vanished\"",
            "unknown kind \"vanished\"",
        ),
        (
            "unknown decision kind",
            "at = \"06:30\"\nkind = \"lift_and_close\"",
            "at = \"06:30\"\nkind = \"declare_victory\"",
            "unknown kind \"declare_victory\"",
        ),
        (
            "received before sampled",
            "received = \"2022-07-09T20:00\"",
            "received = \"2022-07-09T15:00\"",
            "is before trigger.sampled",
        ),
        (
            "resulted before received",
            "resulted = \"05:00\"",
            "resulted = \"01:45\"",
            "retests.resulted",
        ),
        (
            "retest tag of no member",
            "resulted = \"05:00\"",
            "resulted = \"05:00\"\nresult = [{ tag = \"ghost\", ct = { orf1ab = 30.0 } }]",
            "tag \"ghost\" names no trigger member",
        ),
        (
            "lab index out of range",
            "results_to = \"06:00\"",
            "results_to = \"06:00\"\nresult = [{ index = 8, ct = { orf1ab = 30.0 } }]",
            "index 8 is out of range",
        ),
        (
            "unknown outcome",
            "outcome = \"suspected\"",
            "outcome = \"maybe\"",
            "unknown outcome",
        ),
        (
            "unknown key",
            "seed = 710",
            "seed = 710\nlabs = 2",
            "unknown field",
        ),
    ];
    for db in populations("malformed") {
        let url = copy_of(&db, "malformed");
        let dir = scratch_dir("malformed-files");
        let bytes = |url: &str| {
            url.strip_prefix("sqlite://")
                .map(|p| std::fs::read(Path::new(p)).unwrap())
        };
        let counts = row_counts(&url);
        let file_before = bytes(&url);
        for (what, from, to, says) in cases {
            assert!(base.contains(from), "{what}: base lacks {from}");
            let text = base.replacen(from, to, 1);
            let file = dir.join(format!("{}.toml", what.replace(' ', "-")));
            std::fs::write(&file, text).unwrap();
            let out = gridsweep(&[
                "demo",
                "--json",
                "--scenario",
                file.to_str().unwrap(),
                "--database-url",
                &url,
            ]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{what}: accepted");
            assert!(stderr.contains(says), "{what}: says {stderr}");
            assert!(
                out.stdout.is_empty(),
                "{what}: printed {:?}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert_eq!(row_counts(&url), counts, "{what}: the database changed");
            assert_eq!(bytes(&url), file_before, "{what}: the file changed");
        }
        // The fixed file replays once, as on a database never touched.
        let (r, _) = replay(&url, &scenario_path("incomplete-coverage.toml"));
        assert_eq!(
            r["incident"]["id"], 1,
            "no earlier incident was left behind"
        );
        assert_eq!(r["expansion"]["tubes"], 8);
        assert_eq!(coverage(&r, "牡丹佳苑")["sampled"], 155);
    }
}

/// A replay that passes every check but is refused midway by the server
/// (command tries to lift by override while two cases stand: 409
/// `conditions_changed`) has by then written rounds, tubes, results and
/// incidents — in its scratch copy. The database is left as it was.
#[test]
fn a_replay_failing_midway_leaves_the_database_as_it_was() {
    let text = std::fs::read_to_string(scenario_path("two-cases.toml")).unwrap()
        + "\n[[decisions]]\nat = \"09:10\"\nkind = \"lift_and_close\"\nby = \"高新区疫情指挥部 指挥长\"\nrole = \"district_command\"\noverride = \"试图在确诊病例存在时解除\"\n";
    for db in populations("midway") {
        let url = copy_of(&db, "midway");
        let dir = scratch_dir("midway-file");
        let file = dir.join("two-cases-lift.toml");
        std::fs::write(&file, &text).unwrap();
        let counts = row_counts(&url);
        let bytes = url
            .strip_prefix("sqlite://")
            .map(|p| std::fs::read(p).unwrap());
        let out = gridsweep(&[
            "demo",
            "--json",
            "--scenario",
            file.to_str().unwrap(),
            "--database-url",
            &url,
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("conditions_changed"), "{stderr}");
        assert!(stderr.contains("the database is unchanged"), "{stderr}");
        // It got far: the incident and its cascades were opened first.
        assert!(stderr.contains("incident #1 opened"), "{stderr}");
        assert_eq!(row_counts(&url), counts, "the database changed");
        if let Some(before) = bytes {
            let after = std::fs::read(url.strip_prefix("sqlite://").unwrap()).unwrap();
            assert!(after == before, "the file changed");
        }
    }
}
