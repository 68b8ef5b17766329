//! Property tests over the sheet readers: any bytes — random, CSV-shaped
//! with quotes, GBK and separators in odd places, or a broken workbook —
//! give an answer (a report or a file-level error), never a panic, and a
//! roster that is not imported writes nothing.

use encoding_rs::GBK;
use gridsweep_engine::testsuite::fixture;
use gridsweep_import::results::parse_results;
use gridsweep_import::{ImportOptions, ImportStatus, RosterFormat, import_roster};
use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use proptest::prelude::*;
use std::sync::OnceLock;

/// Cells as real sheets hold them: names in any script, ID-like digits,
/// Chinese result words, Ct values, quotes, separators, blanks.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("阴性".to_string()),
        Just("初筛阳性".to_string()),
        Just("未检出".to_string()),
        Just("买买提·艾力".to_string()),
        Just("\"a, \"\"quoted\"\" cell\"".to_string()),
        Just("=1+1".to_string()),
        "[0-9]{17}[0-9X]",
        "[A-Z]{2,4}-[0-9]{4}",
        "[0-9]{1,2}\\.[0-9]",
        "\\PC{0,12}",
        "[,;\t\"\r\n ]{1,3}",
    ]
}

fn csv_text() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("管号,结果,ORF1ab,N".to_string()),
        Just("姓名,身份证号,手机号,性别,街道,社区,网格,小区,楼栋,单元,房号".to_string()),
        Just("tube,outcome".to_string()),
        "\\PC{0,40}",
    ];
    let rows = prop::collection::vec(prop::collection::vec(cell(), 0..12), 0..20);
    (header, rows).prop_map(|(h, rows)| {
        let mut s = h;
        for r in rows {
            s.push('\n');
            s.push_str(&r.join(","));
        }
        s
    })
}

/// Text as Excel may save it: UTF-8, with a BOM, or GBK.
fn encoded() -> impl Strategy<Value = Vec<u8>> {
    (csv_text(), 0..3u8).prop_map(|(text, how)| match how {
        0 => text.into_bytes(),
        1 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        _ => GBK.encode(&text).0.into_owned(),
    })
}

/// A workbook's bytes with some of them overwritten.
fn broken_workbook() -> impl Strategy<Value = Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "管号").unwrap();
    ws.write_string(0, 1, "结果").unwrap();
    ws.write_string(1, 0, "WWL-0001").unwrap();
    ws.write_string(1, 1, "阴性").unwrap();
    let good = wb.save_to_buffer().unwrap();
    let len = good.len();
    prop::collection::vec((0..len, any::<u8>()), 1..40).prop_map(move |edits| {
        let mut b = good.clone();
        for (i, v) in edits {
            b[i] = v;
        }
        b
    })
}

fn store() -> &'static SqliteStore {
    static S: OnceLock<SqliteStore> = OnceLock::new();
    S.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("gridsweep-import-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = SqliteStore::open(dir.join("t.db")).unwrap();
        fixture(&s);
        s
    })
}

fn persons(s: &dyn Store) -> i64 {
    s.stats().unwrap().persons
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn result_sheets_never_panic(bytes in prop_oneof![encoded(), prop::collection::vec(any::<u8>(), 0..2048), broken_workbook()]) {
        for format in [RosterFormat::Auto, RosterFormat::Csv, RosterFormat::Xlsx] {
            if let Ok(sheet) = parse_results(&bytes, format) {
                prop_assert!(sheet.lines.len() + sheet.rows_bad <= sheet.rows_total);
                prop_assert!(sheet.errors.len() <= gridsweep_import::MAX_LISTED_ERRORS);
                for l in &sheet.lines {
                    prop_assert!(!l.tube.is_empty() && l.tube.trim() == l.tube);
                }
            }
        }
    }

    #[test]
    fn a_roster_that_is_not_imported_writes_nothing(bytes in prop_oneof![encoded(), prop::collection::vec(any::<u8>(), 0..2048), broken_workbook()]) {
        let s = store();
        let before = persons(s);
        match import_roster(s, &bytes, RosterFormat::Auto, ImportOptions::default()) {
            Ok(r) if r.status == ImportStatus::Imported => {
                prop_assert_eq!(persons(s), before + r.rows_imported as i64);
            }
            _ => prop_assert_eq!(persons(s), before),
        }
    }
}
