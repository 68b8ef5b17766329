//! The 6·13 drill as the lab sees it, and as the log sees it: every answer
//! the lab account receives during the whole drill holds no personal field
//! or value, and a debug-level log of the whole drill holds no full ID
//! number or phone of any resident.

use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use serde_json::Value;
use std::collections::HashSet;
use std::process::Command;

/// Every run of ASCII alphanumerics (ID numbers end in X) in `text`.
fn tokens(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| t.len() >= 11)
        .map(str::to_string)
        .collect()
}

/// Every 2–8 character piece of every run of CJK text in `text`.
fn cjk_pieces(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut run: Vec<char> = Vec::new();
    let mut flush = |run: &mut Vec<char>| {
        for len in 2..=8 {
            for w in run.windows(len) {
                out.insert(w.iter().collect::<String>());
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if ('\u{4e00}'..='\u{9fff}').contains(&c) || c == '·' {
            run.push(c);
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    out
}

#[test]
fn lab_answers_and_debug_log_of_the_drill_hold_no_personal_data() {
    let dir = std::env::temp_dir().join(format!("gridsweep-drill-privacy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("drill.db");
    let answers_path = dir.join("lab-answers.json");
    let out = Command::new(env!("CARGO_BIN_EXE_gridsweep"))
        .args(["demo", "--database-url"])
        .arg(format!("sqlite://{}", db.display()))
        .arg("--lab-answers")
        .arg(&answers_path)
        .env("GRIDSWEEP_LOG", "debug")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.contains("DEBUG"), "the log ran at debug level");
    let answers: Value = serde_json::from_slice(&std::fs::read(&answers_path).unwrap()).unwrap();
    let answers = answers.as_array().unwrap();
    assert!(
        answers.len() > 360,
        "the lab received and resulted every tube ({} answers)",
        answers.len()
    );
    let text = serde_json::to_string(answers).unwrap();
    for key in [
        "\"name\"",
        "\"document",
        "\"phone",
        "\"address",
        "\"household",
        "\"person",
    ] {
        assert!(!text.contains(key), "a lab answer carries {key}");
    }

    let store = SqliteStore::open(&db).unwrap();
    let district = store.roots().unwrap().remove(0);
    let residents = store.residents_of(&district.path, 1_000_000).unwrap();
    assert!(residents.len() >= 60_000, "{} residents", residents.len());
    let in_answers = tokens(&text);
    let in_log = tokens(&log);
    let names = cjk_pieces(&text);
    for p in &residents {
        let id = p.document.number();
        assert!(!in_answers.contains(id), "a lab answer holds an ID number");
        assert!(!in_log.contains(id), "the debug log holds a full ID number");
        if let Some(phone) = &p.phone {
            assert!(
                !in_answers.contains(phone.as_str()),
                "a lab answer holds a phone"
            );
            assert!(
                !in_log.contains(phone.as_str()),
                "the debug log holds a full phone"
            );
        }
        assert!(
            !names.contains(p.name.as_str()),
            "a lab answer holds the name of a resident"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
