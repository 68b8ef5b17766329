//! Invariants that must hold for every design and input.

use gridsweep_pooling::{
    Accuracy, Decoder, Design, McConfig, binary_entropy, characteristics, exact_characteristics,
    next_stage,
};
use proptest::prelude::*;

fn any_design() -> impl Strategy<Value = Design> {
    prop_oneof![
        Just(Design::Individual),
        (2u32..30).prop_map(|pool| Design::Dorfman { pool }),
        (4u32..30)
            .prop_flat_map(|pool| (Just(pool), 1..pool / 2 + 1, 0..pool / 2))
            .prop_filter("valid D3", |&(pool, j, c)| c + 2 * j <= pool
                && !(j == 1 && c == 0))
            .prop_map(|(pool, sub_pools, singles)| Design::Hierarchical3 {
                pool,
                sub_pools,
                singles
            }),
        (2u32..7, 2u32..7, any::<bool>()).prop_map(|(rows, cols, master_pool)| Design::Array {
            rows,
            cols,
            master_pool
        }),
        (2u32..5, 1u32..4).prop_map(|(side, dims)| Design::Hypercube { side, dims }),
        (2u32..30, any::<bool>())
            .prop_map(|(pool, third_round)| Design::PoolCode { pool, third_round }),
        (
            1u32..20,
            2u32..12,
            prop_oneof![Just(Decoder::Comp), Just(Decoder::Dd), Just(Decoder::Scomp)]
        )
            .prop_map(|(items, tests, decoder)| Design::NonAdaptive {
                items,
                tests,
                tests_per_item: 2,
                decoder
            }),
    ]
}

fn decode_perfect(d: &Design, truth: &[bool]) -> gridsweep_pooling::Decision {
    let mut hist: Vec<Vec<bool>> = Vec::new();
    loop {
        let dec = next_stage(d, truth.len(), &hist).unwrap();
        if dec.complete {
            return dec;
        }
        assert!(
            hist.len() < d.max_rounds() as usize,
            "{} asked for too many rounds",
            d.label()
        );
        for t in &dec.retest_tubes {
            assert!(!t.is_empty() && t.len() <= d.largest_pool().max(1));
        }
        hist.push(
            dec.retest_tubes
                .iter()
                .map(|t| t.iter().any(|&i| truth[i]))
                .collect(),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// With perfect tests, no design (other than DD/SCOMP, which trade
    /// misses for fewer false flags) clears a truly positive person, and
    /// every member ends cleared or flagged exactly once.
    #[test]
    fn perfect_tests_never_clear_a_positive(d in any_design(), bits in proptest::collection::vec(any::<bool>(), 0..1000), frac in 0usize..4) {
        let n = d.block_size();
        prop_assume!(n <= 200);
        let members = n - (n * frac / 8);
        let truth: Vec<bool> = (0..members).map(|i| bits.get(i).copied().unwrap_or(false) && bits.get(i + 500).copied().unwrap_or(false)).collect();
        let dec = decode_perfect(&d, &truth);
        let mut seen = vec![0u8; members];
        for &i in dec.cleared.iter().chain(&dec.flagged) { seen[i] += 1; }
        prop_assert!(seen.iter().all(|&s| s == 1), "{}: {:?}", d.label(), dec);
        let may_miss = matches!(d, Design::NonAdaptive { decoder: Decoder::Dd | Decoder::Scomp, .. });
        if !may_miss {
            for &i in &dec.cleared { prop_assert!(!truth[i], "{} cleared positive {}", d.label(), i); }
        }
        let exact = !matches!(d, Design::NonAdaptive { .. } | Design::PoolCode { third_round: false, .. });
        if exact {
            let want: Vec<usize> = (0..members).filter(|&i| truth[i]).collect();
            prop_assert_eq!(&dec.flagged, &want);
        }
        if matches!(d, Design::NonAdaptive { decoder: Decoder::Dd, .. }) {
            for &i in &dec.flagged { prop_assert!(truth[i]); }
        }
    }

    /// Garbage results never panic: they are decoded or refused.
    #[test]
    fn arbitrary_results_never_panic(d in any_design(), rounds in proptest::collection::vec(proptest::collection::vec(any::<bool>(), 0..40), 0..4)) {
        let _ = next_stage(&d, d.block_size().min(200), &rounds);
    }

    /// Figures are probabilities, and zero-error designs cannot beat H(p).
    #[test]
    fn figures_are_sane(d in any_design(), p in 0.0005f64..0.3, se in 0.8f64..1.0, sp in 0.8f64..1.0) {
        prop_assume!(d.block_size() <= 64);
        let mc = McConfig { trials: 200, seed: 1 };
        for acc in [Accuracy::uniform(se, sp), Accuracy::perfect()] {
            let c = characteristics(&d, p, &acc, &mc).unwrap();
            for x in [c.sensitivity, c.specificity, c.ppv, c.npv] {
                prop_assert!((0.0..=1.0).contains(&x), "{} {:?}", d.label(), c);
            }
            for x in &c.round_probabilities { prop_assert!((0.0..=1.0 + 1e-12).contains(x)); }
            prop_assert!(c.tests_per_person > 0.0);
            prop_assert!(c.expected_rounds >= 1.0 - 1e-12 && c.expected_rounds <= c.max_rounds as f64 + 1e-9);
        }
        // designs that never misclassify with perfect tests (PC2 flags its
        // ambiguous candidates; non-adaptive decoders guess)
        let zero_error = !matches!(d, Design::NonAdaptive { .. } | Design::PoolCode { third_round: false, .. });
        if let Some(c) = exact_characteristics(&d, p, &Accuracy::perfect()).unwrap() {
            prop_assert!((0.0..=1.0 + 1e-9).contains(&c.sensitivity) && (0.0..=1.0 + 1e-9).contains(&c.specificity));
            if zero_error {
                prop_assert!(c.tests_per_person >= binary_entropy(p) - 1e-9, "{} beats the bound", d.label());
                prop_assert!((c.sensitivity - 1.0).abs() < 1e-9 && (c.specificity - 1.0).abs() < 1e-9, "{} {:?}", d.label(), c);
            }
        }
    }
}
