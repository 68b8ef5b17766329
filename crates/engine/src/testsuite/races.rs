//! Races: what concurrent writers (and readers) must not break. On SQLite
//! the single writer serialises them; on PostgreSQL they run truly at once.

use super::fixtures::{ctx, run};
use super::*;
use crate::Engine;
use gridsweep_domain::Reach;
use gridsweep_storage::pipeline;
use gridsweep_storage::*;

/// Runs `f` on two threads at once, released together.
fn at_once<T: Send>(f: impl Fn(usize) -> T + Sync) -> (T, T) {
    let gate = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            gate.wait();
            f(0)
        });
        let b = s.spawn(|| {
            gate.wait();
            f(1)
        });
        (a.join().unwrap(), b.join().unwrap())
    })
}

/// A new device's batch sent twice at once (a retry on a timeout, two open
/// tabs): both copies get the sequential answer, everything applied once.
pub fn a_new_devices_batch_sent_twice_at_once_applies_once(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    for trial in 0..5 {
        let tube = format!("TWICE-{trial}");
        let batch = device_queue(round, site, &tube, &persons, 1);
        let device = format!("race/twice-{trial}");
        let (a, b) = at_once(|_| engine.sync(device.clone(), batch.clone(), Reach::Everywhere));
        for r in [a.unwrap(), b.unwrap()] {
            assert_eq!(
                r.accepted,
                (1..=22).collect::<Vec<_>>(),
                "trial {trial}: {r:?}"
            );
            assert!(r.rejected.is_empty() && r.pending.is_empty(), "{r:?}");
            assert_eq!(r.next_seq, 23);
        }
        assert_eq!(store.tube(&tube).unwrap().unwrap().samples, 20);
    }
}

/// A new device's queue split in two batches sent at once: whichever runs
/// first, nothing acknowledged is lost and the cursor never moves back.
pub fn overlapping_first_batches_at_once_lose_nothing(engine: &Engine) {
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 20);
    for trial in 0..5 {
        let tube = format!("HALVES-{trial}");
        let all = device_queue(round, site, &tube, &persons, 1);
        let halves = [all[..11].to_vec(), all[11..].to_vec()];
        let device = format!("race/halves-{trial}");
        let (a, b) = at_once(|i| engine.sync(device.clone(), halves[i].clone(), Reach::Everywhere));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.rejected.is_empty() && b.rejected.is_empty(),
            "{a:?} {b:?}"
        );
        // Every acknowledged event stays acknowledged on a resend.
        let again = engine.sync(device.clone(), all, Reach::Everywhere).unwrap();
        assert_eq!(again.accepted, (1..=22).collect::<Vec<_>>(), "{again:?}");
        for seq in a.accepted.iter().chain(&b.accepted) {
            assert!(again.accepted.contains(seq));
        }
        assert_eq!(again.next_seq, 23);
        assert_eq!(store.tube(&tube).unwrap().unwrap().samples, 20);
    }
}

/// Two devices filling the same two tubes in opposite orders at once: on a
/// backend with concurrent writers their row locks meet crosswise; the
/// loser runs again instead of failing.
pub fn opposite_order_tubes_at_once_both_apply(engine: &Engine) {
    use pipeline::{Command, DeviceEvent};
    let store: &dyn Store = &**engine.store();
    let (round, site, persons, _) = pipeline_fixture(store, 40);
    let at = ctx("t").at;
    for trial in 0..5 {
        let tubes = [format!("CROSS-{trial}-A"), format!("CROSS-{trial}-B")];
        for t in &tubes {
            run(
                engine,
                Command::OpenTube {
                    tube: t.clone(),
                    round,
                    site,
                    kind: gridsweep_domain::pipeline::TubeKind::Human,
                    capacity: None,
                },
            )
            .unwrap();
        }
        // Device i scans 10 persons into one tube, then 10 into the other,
        // in opposite orders.
        let batch = |i: usize| -> Vec<DeviceEvent> {
            let order = if i == 0 { [0, 1] } else { [1, 0] };
            let mut out = Vec::new();
            for (k, t) in order.iter().enumerate() {
                for p in &persons[i * 20 + k * 10..i * 20 + k * 10 + 10] {
                    out.push(DeviceEvent {
                        seq: out.len() as i64 + 1,
                        at,
                        command: Command::AddPerson {
                            tube: tubes[*t].clone(),
                            document: Some(p.document.number().into()),
                            document_kind: None,
                            qr: None,
                        },
                    });
                }
            }
            out
        };
        let (a, b) = at_once(|i| {
            engine.sync(
                format!("race/cross-{trial}-{i}"),
                batch(i),
                Reach::Everywhere,
            )
        });
        for r in [a.unwrap(), b.unwrap()] {
            assert_eq!(r.accepted, (1..=20).collect::<Vec<_>>(), "{r:?}");
        }
        for t in &tubes {
            assert_eq!(store.tube(t).unwrap().unwrap().samples, 20);
        }
    }
}

/// A read never waits for a writer: while a write holds a tube (as a
/// result being posted does), a read of it — the dashboard's live view —
/// answers at once from its snapshot.
pub fn a_read_never_waits_for_a_writer(engine: &Engine) {
    use std::sync::mpsc;
    let store: &dyn Store = &**engine.store();
    let (round, site, _, _) = pipeline_fixture(store, 1);
    run(
        engine,
        pipeline::Command::OpenTube {
            tube: "HELD-1".into(),
            round,
            site,
            kind: gridsweep_domain::pipeline::TubeKind::Human,
            capacity: None,
        },
    )
    .unwrap();
    let (held, is_held) = mpsc::channel::<()>();
    let (read, was_read) = mpsc::channel::<()>();
    let read_while_held = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            store.write(move |tx| {
                tx.tube("HELD-1")?;
                let _ = held.send(());
                // The failsafe only ends the wait of a reader that blocks.
                Ok(was_read
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .is_ok())
            })
        });
        is_held.recv().unwrap();
        let t = store.read(|tx| tx.tube("HELD-1")).unwrap();
        assert_eq!(t.unwrap().barcode, "HELD-1");
        let _ = read.send(());
        writer.join().unwrap().unwrap()
    });
    assert!(read_while_held, "the read waited for the writer to commit");
}
