//! The list of every check, in one place. It feeds [`all_checks`], the
//! `conformance_tests!` macro (one `#[test]` per check) and the CLI.

/// Calls `$callback!` with `{ $args } module::check ...` for every check.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_check_list {
    ($callback:ident { $($args:tt)* }) => {
        $crate::$callback! { { $($args)* }
            signal::missing_signal_rows_read_as_none
            signal::identity_round_trip
            signal::identity_batch_last_duplicate_wins
            signal::session_round_trip
            signal::session_batch_last_duplicate_wins
            signal::has_signal_state_matches_user_and_device_forms
            signal::has_signal_state_matches_exactly
            signal::prekey_round_trip
            signal::prekey_batches
            signal::load_prekeys_batch_order
            signal::mark_prekeys_uploaded_never_resurrects
            signal::max_prekey_id_is_zero_when_empty
            signal::prekey_ids_above_i32_max
            signal::signed_prekeys_round_trip
            signal::sender_keys_round_trip
            app_sync::sync_key_round_trip
            app_sync::latest_sync_key_is_set
            app_sync::latest_sync_key_choice
            app_sync::version_default_and_round_trip
            app_sync::mutation_macs_round_trip
            app_sync::mutation_mac_batch_last_duplicate_wins
            app_sync::clear_mutation_macs_touches_one_collection
            app_sync::mutation_mac_batches_are_never_seen_half_written
            protocol::sender_key_devices_per_group
            protocol::delete_sender_key_device_rows_across_groups
            protocol::clear_all_sender_key_devices
            protocol::lid_mapping_round_trip
            protocol::lid_mapping_before_device_row
            protocol::pn_mapping_finds_the_lid
            protocol::pn_mapping_after_a_remap
            protocol::pn_mapping_choice
            protocol::base_keys
            protocol::device_list_round_trip
            protocol::device_list_timestamps_are_i64
            protocol::group_metadata
            protocol::tc_token_round_trip
            protocol::tc_token_expiry_needs_both_windows_dead
            protocol::touch_tc_token_only_moves_forward
            protocol::store_received_tc_token_is_newer_wins
            protocol::tc_token_writers_are_atomic
            protocol::sent_message_is_taken_once
            protocol::take_sent_message_race_has_one_winner
            protocol::sent_message_expiry_is_strict
            protocol::sent_message_capacity
            protocol::pending_inbound_round_trip
            protocol::pending_inbound_batches_and_expiry
            msg_secret::msg_secret_round_trip
            msg_secret::msg_secret_merge_rules
            msg_secret::msg_secret_expiry_is_inclusive
            msg_secret::msg_secret_keyed_by_chat_sender_and_id
            msg_secret::msg_secret_with_ts_returns_stored_time
            msg_secret::msg_secret_merges_are_atomic
            device::device_round_trip
            device::create_makes_a_loadable_device
            device::create_twice
            device::snapshot_db_accepts_a_name
            device::resource_report
            edge::empty_strings_and_batches
            edge::unicode_keys
            edge::large_keys_and_values
            edge::large_batches
            edge::ids_zero_and_u32_max
            edge::timestamps_at_i64_limits
            edge::device_list_without_raw_id
            accounts::accounts_are_isolated
            accounts::reopen_keeps_every_domain
            accounts::sixty_four_concurrent_callers_finish
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __build_registry {
    ({} $($module:ident :: $check:ident)*) => {
        vec![$(
            $crate::Check {
                name: concat!(stringify!($module), "::", stringify!($check)),
                ..$crate::checks::$module::$check()
            }
        ),*]
    };
}

/// Every check of the suite, in a stable order.
pub fn all_checks() -> Vec<crate::Check> {
    crate::__with_check_list!(__build_registry {})
}

/// The check with this name (`module::check`), if any.
pub fn find_check(name: &str) -> Option<crate::Check> {
    all_checks().into_iter().find(|c| c.name == name)
}
