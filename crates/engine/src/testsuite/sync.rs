//! Device queues and their sync: each event applied once, whatever order
//! or how often it arrives.

use super::fixtures::pipeline_fixture;
use crate::Engine;
use gridsweep_domain::Reach;
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

fn events(
    range: std::ops::RangeInclusive<i64>,
    all: &[pipeline::DeviceEvent],
) -> Vec<pipeline::DeviceEvent> {
    all.iter()
        .filter(|e| range.contains(&e.seq))
        .cloned()
        .collect()
}

/// A device's queue: open a tube, scan `persons`, seal; seq from 1.
pub fn device_queue(
    round: i64,
    site: i64,
    tube: &str,
    persons: &[NewPerson],
    first_seq: i64,
) -> Vec<pipeline::DeviceEvent> {
    use chrono::{TimeZone, Utc};
    use pipeline::{Command, DeviceEvent};
    let at = Utc.with_ymd_and_hms(2022, 6, 13, 4, 0, 0).unwrap();
    let mut out = vec![Command::OpenTube {
        tube: tube.into(),
        round,
        site,
        kind: gridsweep_domain::pipeline::TubeKind::Human,
        capacity: None,
    }];
    out.extend(persons.iter().map(|p| Command::AddPerson {
        tube: tube.into(),
        document: Some(p.document.number().into()),
        document_kind: None,
        qr: None,
    }));
    out.push(Command::SealTube { tube: tube.into() });
    out.into_iter()
        .enumerate()
        .map(|(i, command)| DeviceEvent {
            seq: first_seq + i as i64,
            at: at + chrono::Duration::seconds(i as i64 * 15),
            command,
        })
        .collect()
}

/// A device's events are applied once each, in order, however often or
/// out of order they arrive.
pub fn sync_applies_each_event_once(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 40);
    let mut all = device_queue(round, site, "S0001", &persons[..20], 1);
    all.extend(device_queue(round, site, "S0002", &persons[20..], 23));
    // The same batch three times.
    for _ in 0..3 {
        let r = engine
            .sync("dev-1".into(), events(1..=10, &all), Reach::Everywhere)
            .unwrap();
        assert_eq!(r.accepted, (1..=10).collect::<Vec<_>>());
        assert!(r.rejected.is_empty() && r.pending.is_empty());
        assert_eq!(r.next_seq, 11);
    }
    // Out of order: the tail arrives before the middle.
    let r = engine
        .sync("dev-1".into(), events(30..=44, &all), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.pending, (30..=44).collect::<Vec<_>>());
    assert!(r.accepted.is_empty());
    assert_eq!(r.next_seq, 11);
    // Overlapping: 5..=29 repeats 5..=10 and fills the gap.
    let r = engine
        .sync("dev-1".into(), events(5..=29, &all), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.accepted, (5..=44).collect::<Vec<_>>(), "{r:?}");
    assert_eq!(r.next_seq, 45);
    // Everything again: same answers, nothing doubled.
    let r = engine
        .sync("dev-1".into(), all.clone(), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.accepted, (1..=44).collect::<Vec<_>>());
    let t1 = store.tube("S0001").unwrap().unwrap();
    let t2 = store.tube("S0002").unwrap().unwrap();
    assert_eq!((t1.samples, t2.samples), (20, 20));
    assert_eq!(t1.status, gridsweep_domain::pipeline::TubeStatus::Sealed);
    // A rejected event keeps its rejection on resend; other devices are separate.
    let dup = vec![pipeline::DeviceEvent {
        seq: 45,
        ..all[1].clone()
    }];
    let r = engine
        .sync("dev-1".into(), dup.clone(), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].code, "tube_not_open");
    let r = engine.sync("dev-1".into(), dup, Reach::Everywhere).unwrap();
    assert_eq!((r.rejected.len(), r.next_seq), (1, 46));
    let r = engine
        .sync("dev-2".into(), events(1..=1, &all), Reach::Everywhere)
        .unwrap();
    assert_eq!(r.rejected[0].code, "tube_exists");
}
