//! The kit catches broken backends: each `Flaw` breaks one rule of the
//! contract on top of `InMemoryBackend`, and the check named for it must fail
//! (not pass, not be skipped). The unflawed wrapper must pass everything, so
//! each failure is the flaw's doing.

mod backend;
mod sequences;

use std::sync::Arc;

use backend::{Broken, Flaw};
use wacore::store::InMemoryBackend;
use whatsapp_rust_conformance::references::memory_expectations;
use whatsapp_rust_conformance::{
    Capabilities, Expectations, Outcome, SimpleFactory, find_check, run_check, run_suite,
};

pub fn factory(flaw: Flaw) -> SimpleFactory {
    SimpleFactory::new(
        format!("broken-{flaw:?}"),
        Capabilities::none()
            .pending_inbound(true)
            .group_metadata(true),
        move || async move { Ok(Arc::new(Broken::new(Arc::new(InMemoryBackend::new()), flaw)) as _) },
    )
}

/// Each flaw and the check that must catch it.
const CASES: &[(Flaw, &str)] = &[
    (
        Flaw::MissingSessionIsAnError,
        "signal::missing_signal_rows_read_as_none",
    ),
    (Flaw::IdentityPutIsInsertOnly, "signal::identity_round_trip"),
    (
        Flaw::IdentityBatchFirstDuplicateWins,
        "signal::identity_batch_last_duplicate_wins",
    ),
    (
        Flaw::SessionBatchDropsLastRow,
        "signal::session_batch_last_duplicate_wins",
    ),
    (
        Flaw::HasSignalStateAlwaysTrue,
        "signal::has_signal_state_matches_user_and_device_forms",
    ),
    (
        Flaw::HasSignalStateFoldsCase,
        "signal::has_signal_state_matches_exactly",
    ),
    (
        Flaw::MarkUploadedUpserts,
        "signal::mark_prekeys_uploaded_never_resurrects",
    ),
    (
        Flaw::MaxPrekeyIgnoresHighIds,
        "signal::prekey_ids_above_i32_max",
    ),
    (
        Flaw::MaxPrekeyOneWhenEmpty,
        "signal::max_prekey_id_is_zero_when_empty",
    ),
    (
        Flaw::LoadPrekeysBatchInventsMissing,
        "signal::prekey_batches",
    ),
    (
        Flaw::SignedPrekeyListDropsOne,
        "signal::signed_prekeys_round_trip",
    ),
    (
        Flaw::DeleteSenderKeyIsNoop,
        "signal::sender_keys_round_trip",
    ),
    (
        Flaw::UnknownVersionIsOne,
        "app_sync::version_default_and_round_trip",
    ),
    (
        Flaw::LatestSyncKeyAlwaysNone,
        "app_sync::latest_sync_key_is_set",
    ),
    (
        Flaw::ClearMutationMacsMatchesPrefix,
        "app_sync::clear_mutation_macs_touches_one_collection",
    ),
    (
        Flaw::GetMutationMacsDropsOne,
        "app_sync::mutation_macs_round_trip",
    ),
    (
        Flaw::DeleteDeviceRowsIsNoop,
        "protocol::delete_sender_key_device_rows_across_groups",
    ),
    (
        Flaw::ClearAllSenderKeyDevicesIsNoop,
        "protocol::clear_all_sender_key_devices",
    ),
    (
        Flaw::PnMappingAlwaysNone,
        "protocol::pn_mapping_finds_the_lid",
    ),
    (Flaw::BaseKeyAlwaysSame, "protocol::base_keys"),
    (
        Flaw::DeviceListTimestampI32,
        "protocol::device_list_timestamps_are_i64",
    ),
    (
        Flaw::RawIdNoneBecomesZero,
        "edge::device_list_without_raw_id",
    ),
    (
        Flaw::TcExpiryNeedsOneWindowDead,
        "protocol::tc_token_expiry_needs_both_windows_dead",
    ),
    (
        Flaw::TimestampsClampedToI32,
        "edge::timestamps_at_i64_limits",
    ),
    (
        Flaw::TouchOverwritesSenderTimestamp,
        "protocol::touch_tc_token_only_moves_forward",
    ),
    (
        Flaw::TcWritesNotAtomic,
        "protocol::tc_token_writers_are_atomic",
    ),
    (
        Flaw::ReceivedTokenLastWriteWins,
        "protocol::store_received_tc_token_is_newer_wins",
    ),
    (
        Flaw::TakeDoesNotDelete,
        "protocol::sent_message_is_taken_once",
    ),
    (
        Flaw::SentExpiryInclusive,
        "protocol::sent_message_expiry_is_strict",
    ),
    (
        Flaw::PendingInboundIgnoresSender,
        "protocol::pending_inbound_round_trip",
    ),
    (
        Flaw::MsgSecretExpiryExclusive,
        "msg_secret::msg_secret_expiry_is_inclusive",
    ),
    (
        Flaw::MsgSecretIgnoresSender,
        "msg_secret::msg_secret_keyed_by_chat_sender_and_id",
    ),
    (Flaw::LoadAlwaysNone, "device::device_round_trip"),
    (Flaw::GroupMetadataDropped, "protocol::group_metadata"),
    (Flaw::ValuesTruncatedAt1MiB, "edge::large_keys_and_values"),
    (Flaw::SessionKeysCaseFolded, "edge::unicode_keys"),
    (Flaw::EmptyBatchIsAnError, "edge::empty_strings_and_batches"),
    (Flaw::BatchCappedAt10k, "edge::large_batches"),
    (Flaw::MaxIdRejected, "edge::ids_zero_and_u32_max"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unflawed_wrapper_passes_the_whole_suite() {
    let report = run_suite(&factory(Flaw::None), &memory_expectations(), |_, _, _| {}).await;
    assert!(report.is_ok(), "{:#?}", report.to_json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flaw_is_caught_by_its_check() {
    assert!(CASES.len() >= 20);
    let mut missed = Vec::new();
    for &(flaw, check_name) in CASES {
        let check = find_check(check_name).unwrap_or_else(|| panic!("no check {check_name}"));
        let report = run_check(&check, &factory(flaw), &Expectations::none()).await;
        match &report.outcome {
            Outcome::Failed { message } => eprintln!("caught {flaw:?} by {check_name}: {message}"),
            other => missed.push(format!("{flaw:?}: {check_name} -> {other:?}")),
        }
    }
    assert!(
        missed.is_empty(),
        "flaws the kit missed:\n{}",
        missed.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flaw_fails_the_whole_suite() {
    // The same flaws through the full suite run (what a backend author sees).
    for &(flaw, check_name) in CASES.iter().filter(|(f, _)| *f != Flaw::BatchCappedAt10k) {
        let report = run_suite(&factory(flaw), &memory_expectations(), |_, _, _| {}).await;
        assert!(!report.is_ok(), "{flaw:?} passed the suite");
        let failed: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.outcome.fails_run())
            .map(|c| c.check)
            .collect();
        assert!(
            failed.contains(&check_name),
            "{flaw:?}: {check_name} not among {failed:?}"
        );
    }
}
