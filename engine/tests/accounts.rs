//! Several accounts in one file: full isolation.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::Device;
use wacore::store::traits::{
    AppSyncStore, DeviceStore, LidPnMappingEntry, MsgSecretStore, ProtocolStore, SignalStore,
};

#[tokio::test]
async fn accounts_see_only_their_own_rows() {
    let t = common::fresh();
    let one = &t.store;
    let two = one.for_device(2);
    let negative = one.for_device(-1);
    assert_eq!((one.device_id(), two.device_id()), (1, 2));

    one.put_session("a@lid", b"one").await.unwrap();
    two.put_session("a@lid", b"two").await.unwrap();
    one.store_prekey(u32::MAX, b"p", false).await.unwrap();
    one.put_mutation_macs(
        "regular",
        1,
        &[AppStateMutationMAC {
            index_mac: vec![1],
            value_mac: vec![1],
        }],
    )
    .await
    .unwrap();
    one.set_sender_key_status("g", &[("d", true)])
        .await
        .unwrap();
    one.put_lid_mapping(&LidPnMappingEntry {
        lid: "l".into(),
        phone_number: "p".into(),
        created_at: 0,
        updated_at: 0,
        learning_source: "s".into(),
    })
    .await
    .unwrap();
    one.put_msg_secret("c", "s", "m", &[1; 32]).await.unwrap();
    one.store_sent_message("c", "m", b"x").await.unwrap();
    one.save(&Device::new()).await.unwrap();

    assert_eq!(
        two.get_session("a@lid").await.unwrap().unwrap(),
        &b"two"[..]
    );
    assert_eq!(
        one.get_session("a@lid").await.unwrap().unwrap(),
        &b"one"[..]
    );
    for other in [&two, &negative] {
        assert_eq!(other.get_max_prekey_id().await.unwrap(), 0);
        assert!(
            other
                .get_mutation_mac("regular", &[1])
                .await
                .unwrap()
                .is_none()
        );
        assert!(other.get_sender_key_devices("g").await.unwrap().is_empty());
        assert!(other.get_all_lid_mappings().await.unwrap().is_empty());
        assert!(other.get_pn_mapping("p").await.unwrap().is_none());
        assert!(other.get_msg_secret("c", "s", "m").await.unwrap().is_none());
        assert!(other.take_sent_message("c", "m").await.unwrap().is_none());
        assert!(!other.exists().await.unwrap());
        assert!(other.get_all_tc_token_jids().await.unwrap().is_empty());
    }
    assert!(!negative.has_signal_state_for_user("a").await.unwrap());

    // Account-wide sweeps stay inside their account.
    two.clear_all_sender_key_devices().await.unwrap();
    assert_eq!(two.delete_expired_sent_messages(i64::MAX).await.unwrap(), 0);
    assert_eq!(two.delete_expired_msg_secrets(i64::MAX).await.unwrap(), 0);
    assert_eq!(one.get_sender_key_devices("g").await.unwrap().len(), 1);
    assert_eq!(
        one.take_sent_message("c", "m").await.unwrap().unwrap(),
        b"x"
    );

    // Extreme ids are accounts like any other.
    let (lo, hi) = (one.for_device(i32::MIN), one.for_device(i32::MAX));
    let batch: Vec<(Arc<str>, Bytes)> = vec![("k".into(), Bytes::from_static(b"lo"))];
    lo.put_sessions_batch(&batch).await.unwrap();
    assert!(hi.get_session("k").await.unwrap().is_none());
    assert_eq!(lo.get_session("k").await.unwrap().unwrap(), &b"lo"[..]);
}
