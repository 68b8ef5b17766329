//! Property tests of the device protocol (`POST /api/v1/sync`'s decoder
//! and `pipeline::sync_batch`): a device's queue sent in any split, order
//! and number of repeats ends the same as sent once in order — every event
//! applied exactly once — and any JSON a device may send decodes or is
//! refused, never panics.

use gridsweep_domain::Reach;
use gridsweep_engine::testsuite::{device_queue, pipeline_fixture};
use gridsweep_storage::pipeline::DeviceEvent;
use gridsweep_storage::prelude::*;
use gridsweep_storage_sqlite::SqliteStore;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh() -> SqliteStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gridsweep-sync-props-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    SqliteStore::open(dir.join("t.db")).unwrap()
}

/// Batches as a flaky network delivers them: the queue cut into pieces,
/// pieces shuffled and some sent again.
fn deliveries(n: usize) -> impl Strategy<Value = Vec<Vec<usize>>> {
    (
        prop::collection::vec(1..6usize, 1..12),
        prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        any::<u64>(),
    )
        .prop_map(move |(cuts, repeats, seed)| {
            let mut pieces = Vec::new();
            let mut i = 0;
            let mut c = cuts.iter().cycle();
            while i < n {
                let len = (*c.next().unwrap()).min(n - i);
                pieces.push((i..i + len).collect::<Vec<_>>());
                i += len;
            }
            for r in &repeats {
                let p = pieces[r.index(pieces.len())].clone();
                pieces.push(p);
            }
            // A deterministic shuffle from the seed.
            let mut s = seed | 1;
            for k in (1..pieces.len()).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                pieces.swap(k, (s % (k as u64 + 1)) as usize);
            }
            pieces
        })
}

/// Any JSON value of a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("open_tube"),
            Just("add_person"),
            Just("seal_tube"),
            Just("box_tubes"),
            Just("receive"),
            Just("post_result")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("seq".to_string()),
                    Just("at".to_string()),
                    Just("type".to_string()),
                    Just("tube".to_string()),
                    Just("tubes".to_string()),
                    Just("site".to_string()),
                    Just("round".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_of_a_queue_applies_each_event_once(plan in deliveries(44)) {
        let store = std::sync::Arc::new(fresh());
        let engine = gridsweep_engine::Engine::new(store.clone());
        let (round, site, persons, _) = pipeline_fixture(&*store, 40);
        let mut queue = device_queue(round, site, "P0001", &persons[..20], 1);
        queue.extend(device_queue(round, site, "P0002", &persons[20..], 23));
        prop_assert_eq!(queue.len(), 44);
        for piece in &plan {
            let batch: Vec<DeviceEvent> = piece.iter().map(|i| queue[*i].clone()).collect();
            let r = engine.sync("prop/pda".into(), batch, Reach::Everywhere).unwrap();
            prop_assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        }
        // Whatever arrived, the gap-free prefix is applied once, in order.
        let mut covered = [false; 44];
        for piece in &plan {
            for i in piece {
                covered[*i] = true;
            }
        }
        let prefix = covered.iter().take_while(|c| **c).count();
        let first = store.tube("P0001").unwrap();
        let second = store.tube("P0002").unwrap();
        let expect_first = prefix.saturating_sub(1).min(20) as u32;
        prop_assert_eq!(first.map(|t| t.samples), (prefix >= 1).then_some(expect_first));
        let expect_second = prefix.saturating_sub(23).min(20) as u32;
        prop_assert_eq!(second.map(|t| t.samples), (prefix >= 23).then_some(expect_second));
        // Sending everything once more changes nothing applied and fills the rest.
        let r = engine.sync("prop/pda".into(), queue.clone(), Reach::Everywhere).unwrap();
        prop_assert_eq!(r.accepted.len(), 44);
        prop_assert_eq!(store.tube("P0001").unwrap().unwrap().samples, 20);
        prop_assert_eq!(store.tube("P0002").unwrap().unwrap().samples, 20);
    }

    #[test]
    fn any_json_decodes_or_is_refused(v in json_value()) {
        let _ = serde_json::from_value::<Vec<DeviceEvent>>(v.clone());
        if let Ok(e) = serde_json::from_value::<DeviceEvent>(v) {
            // What decodes round-trips.
            let again: DeviceEvent = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
            prop_assert_eq!(again, e);
        }
    }
}
