//! The test suite every backend runs: the store's own areas, and the use
//! cases of the engine over it.
//!
//! A backend's test file calls [`crate::storage_tests!`] with a function
//! that returns a fresh, empty, migrated store (or `None` to skip, e.g. when
//! no PostgreSQL server is configured). Each case becomes one test,
//! given an [`Engine`](crate::Engine) over that store.
//!
//! The cases are grouped by concern, one file each: `population` (the
//! store's areas, persons and sites), `pipeline` (tubes through the
//! engine, and reach), `sync` (device queues), `incidents` and
//! `pool_code` (the response to results), `accounts` (users, sessions,
//! tokens, audit, lookups); `fixtures` holds what they share. Everything
//! public is re-exported here, so backends and other crates' tests keep
//! naming `testsuite::fixture`, `testsuite::device_queue`, and so on.

mod accounts;
mod fixtures;
mod incidents;
mod pipeline;
mod pool_code;
mod population;
mod races;
mod sync;

pub use accounts::{
    api_tokens_hashed_revocable_expiring, audit_appends_and_filters,
    password_change_ends_other_sessions, person_site_and_box_lookups, sessions_expire_and_end,
    users_and_scopes,
};
pub use fixtures::{Fixture, fixture, person, pipeline_fixture, resident_id};
pub use incidents::{decisions_need_the_right_role, suspect_tube_opens_an_incident};
pub use pipeline::{
    direct_results_need_site_permission, environmental_tubes,
    the_engine_checks_reach_inside_the_transaction, tube_life_cycle,
};
pub use pool_code::{
    pool_code_stage2_clears_and_flags, pool_code_third_round_resolves_two_positives,
};
pub use population::{
    areas_round_trip, duplicate_document_writes_nothing, existing_documents_reported,
    find_areas_by_name, ids_do_not_overlap, persons_round_trip_any_script, resident_counts_roll_up,
    search_is_scoped, sites_in_subtree,
};
pub use races::{
    a_new_devices_batch_sent_twice_at_once_applies_once, a_read_never_waits_for_a_writer,
    opposite_order_tubes_at_once_both_apply, overlapping_first_batches_at_once_lose_nothing,
};
pub use sync::{device_queue, sync_applies_each_event_once};

/// Expands to one `#[test]` per case of the suite.
#[macro_export]
macro_rules! storage_tests {
    ($fresh:path) => {
        $crate::storage_tests!(@cases $fresh;
            areas_round_trip, resident_counts_roll_up, persons_round_trip_any_script,
            search_is_scoped, duplicate_document_writes_nothing, ids_do_not_overlap,
            find_areas_by_name, existing_documents_reported, sites_in_subtree,
            tube_life_cycle, environmental_tubes, direct_results_need_site_permission,
            sync_applies_each_event_once, suspect_tube_opens_an_incident,
            decisions_need_the_right_role, users_and_scopes, sessions_expire_and_end,
            password_change_ends_other_sessions,
            api_tokens_hashed_revocable_expiring, audit_appends_and_filters,
            person_site_and_box_lookups, pool_code_stage2_clears_and_flags,
            pool_code_third_round_resolves_two_positives,
            the_engine_checks_reach_inside_the_transaction,
            a_new_devices_batch_sent_twice_at_once_applies_once,
            overlapping_first_batches_at_once_lose_nothing,
            opposite_order_tubes_at_once_both_apply,
            a_read_never_waits_for_a_writer);
    };
    (@cases $fresh:path; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                match $fresh() {
                    Some(store) => $crate::testsuite::$case(&$crate::Engine::new(std::sync::Arc::from(store))),
                    None => eprintln!("skipped {}: no database configured", stringify!($case)),
                }
            }
        )*
    };
}
