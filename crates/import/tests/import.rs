//! Rosters imported into a fresh SQLite store built with the storage
//! suite's fixture: 高新区 / 梧桐街办事处 / 瓦屋李社区 / 瓦屋李新居 / 1号楼
//! (households 1单元101, 1单元102), 翡翠华庭社区 / 8号楼 (no compound),
//! and the school 高新区第三十七中学.

use gridsweep_domain::ids::id_check_char;
use gridsweep_domain::{AffiliationKind, AreaId, DocumentKind, Gender, mask_id_number};
use gridsweep_engine::testsuite::fixture;
use gridsweep_import::{
    ImportError, ImportOptions, ImportReport, ImportStatus, RosterFormat, import_roster,
};
use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh() -> SqliteStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gridsweep-import-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    SqliteStore::open(dir.join("t.db")).unwrap()
}

/// A valid resident ID: Zhengzhou region, a birth date, a sequence.
fn id(birth: &str, seq: u32) -> String {
    let body = format!("410105{birth}{seq:03}");
    let mut b = [0u8; 17];
    b.copy_from_slice(body.as_bytes());
    format!("{body}{}", id_check_char(&b))
}

/// The same ID with a wrong check character.
fn bad_check(good: &str) -> String {
    let last = good.chars().last().unwrap();
    let wrong = if last == '1' { '2' } else { '1' };
    format!("{}{wrong}", &good[..17])
}

const HEADER: &str = "姓名,身份证号,手机号,性别,街道,社区,网格,小区,楼栋,单元,房号";

fn csv(rows: &[String]) -> String {
    let mut s = format!("{HEADER}\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s
}

fn wawuli(name: &str, id: &str, room: &str) -> String {
    format!("{name},{id},13812345678,,梧桐街办事处,瓦屋李社区,,瓦屋李新居,1号楼,1单元,{room}")
}

fn import(store: &dyn Store, bytes: &[u8], opts: ImportOptions) -> ImportReport {
    import_roster(store, bytes, RosterFormat::Auto, opts).unwrap()
}

fn count(store: &dyn Store, id: AreaId) -> i64 {
    store.area(id).unwrap().unwrap().resident_count
}

fn strict() -> ImportOptions {
    ImportOptions::default()
}

fn skipping() -> ImportOptions {
    ImportOptions {
        skip_bad_rows: true,
        dry_run: false,
    }
}

#[test]
fn utf8_with_and_without_bom_round_trips_any_name() {
    for bom in [false, true] {
        let store = fresh();
        let f = fixture(&store);
        let maimaiti = id("19900101", 11);
        let ouyang = id("19950615", 22);
        let text = csv(&[
            wawuli("买买提·艾力", &maimaiti, "101"),
            wawuli("欧阳娜娜", &ouyang, "301"),
        ]);
        let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { vec![] };
        bytes.extend_from_slice(text.as_bytes());
        let report = import(&store, &bytes, strict());
        assert_eq!(report.status, ImportStatus::Imported, "{report:?}");
        assert_eq!(
            report.encoding.as_deref(),
            Some(if bom { "UTF-8 (BOM)" } else { "UTF-8" })
        );
        assert_eq!((report.rows_total, report.rows_imported), (2, 2));
        assert_eq!(
            report.households_created, 1,
            "1单元101 exists, 1单元301 is new"
        );
        let p = store
            .person_by_document(DocumentKind::ResidentId, &maimaiti)
            .unwrap()
            .unwrap();
        assert_eq!(p.name.as_str(), "买买提·艾力");
        assert_eq!(p.household, f.households[0]);
        assert_eq!(p.birth_date.as_deref(), Some("1990-01-01"));
        assert_eq!(p.gender, Some(Gender::Male));
        assert_eq!(p.phone.unwrap().as_str(), "13812345678");
        let q = store
            .person_by_document(DocumentKind::ResidentId, &ouyang)
            .unwrap()
            .unwrap();
        assert_eq!(q.name.as_str(), "欧阳娜娜");
        assert_eq!(q.gender, Some(Gender::Female));
        let home = store.area(q.household).unwrap().unwrap();
        assert_eq!(home.name, "1单元301");
        assert_eq!(home.parent, Some(f.building));
        assert_eq!(count(&store, f.building), 2);
        assert_eq!(count(&store, f.district), 2);
    }
}

/// The must-show case: a GBK CSV (as Excel on Chinese Windows
/// saves it) with a wrong check digit, a missing name, an unknown building.
fn gbk_with_three_bad_rows() -> (Vec<u8>, [String; 3]) {
    let good = [id("19800101", 31), id("19810202", 42), id("19820303", 53)];
    let text = csv(&[
        wawuli("张伟", &good[0], "101"),
        wawuli("李娜", &bad_check(&id("19830404", 64)), "102"),
        wawuli("", &id("19840505", 75), "201"),
        format!(
            "王芳,{},13912345678,女,梧桐街办事处,瓦屋李社区,,瓦屋李新居,99号楼,1单元,101",
            id("19850606", 86)
        ),
        wawuli("刘洋", &good[1], "201"),
        String::new(),
        format!(
            "陈静,{},,,梧桐街办事处,翡翠华庭社区,,,8号楼,2单元,301",
            good[2]
        ),
    ]);
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "must really be GBK");
    (bytes.into_owned(), good)
}

#[test]
fn gbk_csv_with_three_bad_rows_is_rejected_and_writes_nothing() {
    let store = fresh();
    let f = fixture(&store);
    let (bytes, good) = gbk_with_three_bad_rows();
    let before = store.stats().unwrap();
    let report = import(&store, &bytes, strict());
    assert_eq!(report.status, ImportStatus::Rejected);
    assert_eq!(report.encoding.as_deref(), Some("GB18030"));
    assert_eq!(
        (report.rows_total, report.rows_bad, report.rows_imported),
        (6, 3, 0)
    );
    let got: Vec<(u32, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(3, "身份证号"), (4, "姓名"), (5, "楼栋")],
        "{report:#?}"
    );
    assert_eq!(
        report.errors[0].reason,
        format!(
            "身份证号校验位错误 (check digit wrong: expected {}, found {})",
            id("19830404", 64).chars().last().unwrap(),
            bad_check(&id("19830404", 64)).chars().last().unwrap()
        )
    );
    assert_eq!(
        report.errors[0].value_masked,
        mask_id_number(&bad_check(&id("19830404", 64)))
    );
    assert_eq!(report.errors[1].reason, "姓名为空 (name is missing)");
    assert!(
        report.errors[2].reason.contains("99号楼"),
        "{}",
        report.errors[2].reason
    );
    assert!(report.errors[2].reason.contains("瓦屋李新居"));
    assert!(report.skipped_rows.is_empty());
    assert_eq!(report.households_created, 0);
    assert_eq!(store.stats().unwrap(), before, "nothing written");
    assert_eq!(count(&store, f.district), 0);
    for doc in &good {
        assert!(
            store
                .person_by_document(DocumentKind::ResidentId, doc)
                .unwrap()
                .is_none()
        );
    }
    let text = report.render_text();
    assert!(
        text.contains("REJECTED") && text.contains("99号楼"),
        "{text}"
    );
}

#[test]
fn gbk_csv_with_skip_bad_rows_writes_the_good_rows() {
    let store = fresh();
    let f = fixture(&store);
    let (bytes, good) = gbk_with_three_bad_rows();
    let before = store.stats().unwrap();
    let report = import(&store, &bytes, skipping());
    assert_eq!(report.status, ImportStatus::Imported);
    assert_eq!(report.skipped_rows, vec![3, 4, 5]);
    assert_eq!(report.errors.len(), 3);
    assert_eq!(report.rows_imported, 3);
    // 1单元101 exists; 1单元201 and 8号楼's 2单元301 (fixture) → one new.
    assert_eq!(report.households_created, 1);
    let after = store.stats().unwrap();
    assert_eq!(after.persons, before.persons + 3);
    assert_eq!(after.areas, before.areas + 1);
    for doc in &good {
        assert!(
            store
                .person_by_document(DocumentKind::ResidentId, doc)
                .unwrap()
                .is_some()
        );
    }
    let chen = store
        .person_by_document(DocumentKind::ResidentId, &good[2])
        .unwrap()
        .unwrap();
    assert_eq!(
        chen.household, f.other_household,
        "building directly under a community"
    );
    assert_eq!(count(&store, f.community), 2);
    assert_eq!(count(&store, f.other_community), 1);
    assert!(report.render_text().contains("3, 4, 5"));
}

#[test]
fn duplicate_within_the_file_names_both_rows() {
    let store = fresh();
    fixture(&store);
    let dup = id("19900101", 101);
    let text = csv(&[
        wawuli("周杰", &dup, "101"),
        wawuli("赵敏", &id("19900101", 103), "101"),
        wawuli("周杰伦", &dup, "102"),
    ]);
    let report = import(&store, text.as_bytes(), strict());
    assert_eq!(report.status, ImportStatus::Rejected);
    assert_eq!(report.errors.len(), 1, "{report:#?}");
    let e = &report.errors[0];
    assert_eq!((e.row, e.column.as_str()), (4, "身份证号"));
    assert!(e.reason.contains("rows 2 and 4"), "{}", e.reason);
    assert_eq!(store.stats().unwrap().persons, 0);
}

#[test]
fn already_on_the_roster_is_a_row_error() {
    let store = fresh();
    fixture(&store);
    let a = id("19700101", 201);
    let first = csv(&[wawuli("孙丽", &a, "101")]);
    assert_eq!(
        import(&store, first.as_bytes(), strict()).status,
        ImportStatus::Imported
    );
    let again = csv(&[
        wawuli("孙丽", &a, "101"),
        wawuli("吴刚", &id("19700101", 203), "102"),
    ]);
    let report = import(&store, again.as_bytes(), strict());
    assert_eq!(report.status, ImportStatus::Rejected);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].row, 2);
    assert!(report.errors[0].reason.contains("already on the roster"));
    assert_eq!(store.stats().unwrap().persons, 1);
    let report = import(&store, again.as_bytes(), skipping());
    assert_eq!(
        (report.rows_imported, report.skipped_rows.clone()),
        (1, vec![2])
    );
    assert_eq!(store.stats().unwrap().persons, 2);
}

#[test]
fn dry_run_writes_nothing_but_says_what_would_happen() {
    let store = fresh();
    fixture(&store);
    let text = csv(&[
        wawuli("郑爽", &id("19920202", 301), "501"),
        wawuli("郑秀", &id("19920202", 302), "501"),
    ]);
    let before = store.stats().unwrap();
    let report = import(
        &store,
        text.as_bytes(),
        ImportOptions {
            skip_bad_rows: false,
            dry_run: true,
        },
    );
    assert_eq!(report.status, ImportStatus::DryRun);
    assert_eq!((report.rows_imported, report.households_created), (2, 1));
    assert_eq!(store.stats().unwrap(), before);
    let report = import(&store, text.as_bytes(), strict());
    assert_eq!(
        (report.rows_imported, report.households_created),
        (2, 1),
        "one shared new household"
    );
}

#[test]
fn xlsx_with_excel_mangled_numbers() {
    use rust_xlsxwriter::Workbook;
    let store = fresh();
    let f = fixture(&store);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "姓名",
        "身份证号",
        "手机号",
        "社区",
        "小区",
        "楼栋",
        "单元",
        "房号",
        "学校",
        "备注",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let good = id("20100301", 401);
    // Row 2: ID as text, phone and room as numbers (as Excel stores them).
    sheet.write_string(1, 0, "买买提·艾力").unwrap();
    sheet.write_string(1, 1, &good).unwrap();
    sheet.write_number(1, 2, 13812345678.0).unwrap();
    sheet.write_string(1, 3, "瓦屋李社区").unwrap();
    sheet.write_string(1, 4, "瓦屋李新居").unwrap();
    sheet.write_string(1, 5, "1号楼").unwrap();
    sheet.write_number(1, 6, 1.0).unwrap();
    sheet.write_number(1, 7, 102.0).unwrap();
    sheet.write_string(1, 8, "高新区第三十七中学").unwrap();
    // Row 3 is left empty; row 4: the ID typed into a General cell, which
    // Excel keeps as a float rounded to 15 digits (4.10105E+17).
    let rounded = id("19900101", 403);
    sheet.write_string(3, 0, "欧阳娜娜").unwrap();
    sheet
        .write_number(3, 1, rounded.parse::<f64>().unwrap())
        .unwrap();
    sheet.write_number(3, 2, 13912345678.0).unwrap();
    sheet.write_string(3, 3, "瓦屋李社区").unwrap();
    sheet.write_string(3, 4, "瓦屋李新居").unwrap();
    sheet.write_string(3, 5, "1号楼").unwrap();
    sheet.write_string(3, 6, "1单元").unwrap();
    sheet.write_number(3, 7, 101.0).unwrap();
    book.add_worksheet().write_string(0, 0, "其他").unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let report = import(&store, &bytes, strict());
    assert_eq!(report.format, "xlsx");
    assert_eq!(report.status, ImportStatus::Rejected, "{report:#?}");
    assert_eq!(report.errors.len(), 1, "{report:#?}");
    let e = &report.errors[0];
    assert_eq!((e.row, e.column.as_str()), (4, "身份证号"));
    assert!(e.reason.contains("rounded"), "{}", e.reason);
    assert!(
        !e.value_masked.contains(&rounded[6..14]),
        "masked: {}",
        e.value_masked
    );
    assert!(report.warnings.iter().any(|w| w.contains("备注")));
    assert!(report.warnings.iter().any(|w| w.contains("first sheet")));

    // A workbook declared as CSV (a browser's guess) is still read as one.
    let declared_csv = import_roster(&store, &bytes, RosterFormat::Csv, strict()).unwrap();
    assert_eq!(declared_csv.format, "xlsx");
    assert!(
        declared_csv
            .warnings
            .iter()
            .any(|w| w.contains("sent as CSV"))
    );

    let report = import_roster(&store, &bytes, RosterFormat::Xlsx, skipping()).unwrap();
    assert_eq!(
        (report.rows_imported, report.skipped_rows.clone()),
        (1, vec![4])
    );
    let p = store
        .person_by_document(DocumentKind::ResidentId, &good)
        .unwrap()
        .unwrap();
    assert_eq!(p.name.as_str(), "买买提·艾力");
    assert_eq!(p.phone.unwrap().as_str(), "13812345678");
    assert_eq!(
        p.household, f.households[1],
        "unit 1 + room 102.0 → 1单元102"
    );
    assert_eq!(p.affiliations.len(), 1);
    assert_eq!(p.affiliations[0].area, f.school);
    assert_eq!(p.affiliations[0].kind, AffiliationKind::Student);
}

#[test]
fn file_level_errors() {
    let store = fresh();
    fixture(&store);
    let err = import_roster(
        &store,
        "姓名,身份证号,社区\r\n张三,1,瓦屋李社区\r\n".as_bytes(),
        RosterFormat::Csv,
        strict(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImportError::MissingColumns(m) if m.len() == 2),
        "{err}"
    );
    assert_eq!(err.code(), "missing_column");
    assert!(err.is_client_error());
    let err = import_roster(&store, b"", RosterFormat::Auto, strict()).unwrap_err();
    assert!(matches!(err, ImportError::Empty));
    let err =
        import_roster(&store, b"hello,world\n1,2\n", RosterFormat::Auto, strict()).unwrap_err();
    assert!(matches!(err, ImportError::NotARoster(_)), "{err}");
}

#[test]
fn report_json_never_holds_a_full_id_or_phone() {
    let store = fresh();
    fixture(&store);
    let doc = bad_check(&id("19881212", 501));
    let text = csv(&[format!(
        "马超,{doc},1381234567,,,瓦屋李社区,,瓦屋李新居,1号楼,1单元,101"
    )]);
    let report = import(&store, text.as_bytes(), strict());
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"status\":\"rejected\""), "{json}");
    assert!(
        !json.contains(&doc) && !json.contains("1381234567"),
        "{json}"
    );
    assert!(json.contains("410105********"), "{json}");
    let text = report.render_text();
    assert!(!text.contains(&doc) && !text.contains("1381234567"));
    let back: ImportReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn header_below_a_title_row_and_english_aliases() {
    let store = fresh();
    let f = fixture(&store);
    let text = format!(
        "瓦屋李社区居民花名册,,,,\n\nName,ID Number,Community,Building,Room,Unit\n张三,{},瓦屋李,1号楼,1单元101,\n",
        id("19600101", 601)
    );
    let report = import(&store, text.as_bytes(), strict());
    assert_eq!(report.status, ImportStatus::Imported, "{report:#?}");
    assert_eq!(report.households_created, 0);
    assert!(
        report.warnings.iter().any(|w| w.contains("row 3")),
        "{:?}",
        report.warnings
    );
    assert_eq!(count(&store, f.households[0]), 1);
}

#[test]
fn ambiguous_and_unknown_addresses_say_which() {
    use gridsweep_domain::AreaLevel;
    use gridsweep_storage::{IdKind, NewArea, PopulationBatch};
    let store = fresh();
    let f = fixture(&store);
    // A second compound in 瓦屋李社区 with its own 1号楼.
    let c = store.area(f.community).unwrap().unwrap();
    let first = store.allocate_ids(IdKind::Area, 2).unwrap();
    let comp = NewArea::child(
        c.id,
        c.level,
        &c.path,
        AreaId::new(first).unwrap(),
        AreaLevel::Compound,
        "瓦屋李花园",
    )
    .unwrap();
    let b = NewArea::child(
        comp.id,
        comp.level,
        &comp.path,
        AreaId::new(first + 1).unwrap(),
        AreaLevel::Building,
        "1号楼",
    )
    .unwrap();
    store
        .write_population(&PopulationBatch {
            areas: vec![comp, b],
            ..Default::default()
        })
        .unwrap();
    let text = csv(&[
        format!(
            "甲,{},,,梧桐街办事处,不存在社区,,,1号楼,,101",
            id("19600101", 701)
        ),
        format!(
            "乙,{},,,,瓦屋李社区,,瓦屋李新居,1号楼,,101",
            id("19600101", 703)
        ),
        format!("丙,{},,,,瓦屋李社区,,,1号楼,,101", id("19600101", 705)),
        format!(
            "丁,{},,,,瓦屋李社区,,瓦屋李新居,2号楼,,101",
            id("19600101", 707)
        ),
    ]);
    let report = import(&store, text.as_bytes(), strict());
    let got: Vec<(u32, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    // Row 3 resolves: no sub-district is needed when the community is unique.
    assert_eq!(
        got,
        vec![(2, "社区"), (4, "楼栋"), (5, "楼栋")],
        "{report:#?}"
    );
    assert!(report.errors[0].reason.contains("不存在社区"));
    assert!(
        report.errors[1].reason.contains("ambiguous: 2 buildings"),
        "{}",
        report.errors[1].reason
    );
    assert!(
        report.errors[2]
            .reason
            .contains("瓦屋李社区 瓦屋李新居 2号楼")
    );
}

/// The shipped examples import into a district shaped like the demo's.
#[test]
fn shipped_examples_import_into_the_demo_shape() {
    use gridsweep_domain::AreaLevel;
    use gridsweep_storage::{IdKind, NewArea, PopulationBatch};
    let store = fresh();
    let first = store.allocate_ids(IdKind::Area, 100).unwrap();
    let mut next = first;
    let mut id = || {
        next += 1;
        AreaId::new(next - 1).unwrap()
    };
    let d = NewArea::root(id(), "高新区");
    let mut areas = vec![d.clone()];
    // As in the demo district: both communities are in 梧桐街办事处.
    let sd = NewArea::child(
        d.id,
        d.level,
        &d.path,
        id(),
        AreaLevel::SubDistrict,
        "梧桐街办事处",
    )
    .unwrap();
    areas.push(sd.clone());
    for (c, comp, n) in [
        ("瓦屋李社区", "瓦屋李新居", 20),
        ("翡翠华庭社区", "翡翠华庭", 12),
    ] {
        let c = NewArea::child(sd.id, sd.level, &sd.path, id(), AreaLevel::Community, c).unwrap();
        let comp = NewArea::child(c.id, c.level, &c.path, id(), AreaLevel::Compound, comp).unwrap();
        areas.extend([c, comp.clone()]);
        for b in 1..=n {
            areas.push(
                NewArea::child(
                    comp.id,
                    comp.level,
                    &comp.path,
                    id(),
                    AreaLevel::Building,
                    &format!("{b}号楼"),
                )
                .unwrap(),
            );
        }
    }
    store
        .write_population(&PopulationBatch {
            areas,
            ..Default::default()
        })
        .unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/");
    let example = std::fs::read(format!("{dir}roster-example.csv")).unwrap();
    assert!(example.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with BOM");
    let report = import(&store, &example, strict());
    assert_eq!(
        report.status,
        ImportStatus::Imported,
        "{}",
        report.render_text()
    );
    assert!(report.rows_imported >= 10);
    assert!(
        store
            .search_persons(&d.path, "买买提·艾力", 5)
            .unwrap()
            .len()
            == 1
    );
    assert!(store.search_persons(&d.path, "欧阳娜娜", 5).unwrap().len() == 1);

    let bad = std::fs::read(format!("{dir}roster-bad-gbk.csv")).unwrap();
    let before = store.stats().unwrap();
    let report = import(&store, &bad, strict());
    assert_eq!(report.encoding.as_deref(), Some("GB18030"));
    assert_eq!(
        report.status,
        ImportStatus::Rejected,
        "{}",
        report.render_text()
    );
    assert_eq!(report.errors.len(), 3, "{}", report.render_text());
    let columns: Vec<&str> = report.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, vec!["身份证号", "姓名", "楼栋"]);
    assert!(report.errors[0].reason.contains("check digit"));
    assert!(report.errors[2].reason.contains("99号楼"));
    assert_eq!(store.stats().unwrap(), before);
}
