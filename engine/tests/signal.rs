//! SignalStore: identities, sessions, prekeys, signed prekeys, sender keys.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use wacore::store::traits::SignalStore;

#[tokio::test]
async fn identities_round_trip_upsert_and_delete() {
    let t = common::fresh();
    let s = &t.store;
    assert_eq!(s.load_identity("a@s.whatsapp.net").await.unwrap(), None);
    s.put_identity("a@s.whatsapp.net", [1; 32]).await.unwrap();
    s.put_identity("a@s.whatsapp.net", [2; 32]).await.unwrap();
    assert_eq!(
        s.load_identity("a@s.whatsapp.net").await.unwrap(),
        Some([2; 32])
    );
    s.delete_identity("a@s.whatsapp.net").await.unwrap();
    s.delete_identity("a@s.whatsapp.net").await.unwrap();
    assert_eq!(s.load_identity("a@s.whatsapp.net").await.unwrap(), None);

    let batch: Vec<(Arc<str>, [u8; 32])> = vec![
        ("x".into(), [1; 32]),
        ("y".into(), [2; 32]),
        ("x".into(), [3; 32]),
    ];
    s.put_identities_batch(&batch).await.unwrap();
    assert_eq!(
        s.load_identity("x").await.unwrap(),
        Some([3; 32]),
        "last duplicate wins"
    );
    assert_eq!(s.load_identity("y").await.unwrap(), Some([2; 32]));
    s.put_identities_batch(&[]).await.unwrap();
}

#[tokio::test]
async fn sessions_round_trip_batch_and_edge_sizes() {
    let t = common::fresh();
    let s = &t.store;
    assert!(s.get_session("nobody").await.unwrap().is_none());
    assert!(!s.has_session("nobody").await.unwrap());
    s.put_session("", b"").await.unwrap();
    assert_eq!(
        s.get_session("").await.unwrap(),
        Some(Bytes::new()),
        "empty key and value"
    );

    let big = vec![0xAB; (1 << 20) + 7];
    let long_key = "k".repeat(64 * 1024);
    s.put_session(&long_key, &big).await.unwrap();
    assert_eq!(
        s.get_session(&long_key).await.unwrap().unwrap().len(),
        big.len()
    );

    let batch: Vec<(Arc<str>, Bytes)> = (0..1000)
        .map(|i| {
            (
                Arc::from(format!("u{i}@lid")),
                Bytes::from(vec![i as u8; 100]),
            )
        })
        .chain([(Arc::from("u0@lid"), Bytes::from_static(b"last"))])
        .collect();
    s.put_sessions_batch(&batch).await.unwrap();
    assert_eq!(
        s.get_session("u0@lid").await.unwrap().unwrap(),
        &b"last"[..]
    );
    assert_eq!(
        s.get_session("u999@lid").await.unwrap().unwrap(),
        &[231u8; 100][..]
    );
    assert!(s.has_session("u5@lid").await.unwrap());
    s.delete_session("u5@lid").await.unwrap();
    assert!(!s.has_session("u5@lid").await.unwrap());
    s.put_session("ünïcødé:3@lid", "ж".as_bytes())
        .await
        .unwrap();
    assert_eq!(
        s.get_session("ünïcødé:3@lid").await.unwrap().unwrap(),
        "ж".as_bytes()
    );
}

#[tokio::test]
async fn has_signal_state_for_user_is_an_exact_match() {
    let t = common::fresh();
    let s = &t.store;
    assert!(!s.has_signal_state_for_user("123").await.unwrap());
    s.put_session("1234@s.whatsapp.net", b"x").await.unwrap();
    assert!(
        !s.has_signal_state_for_user("123").await.unwrap(),
        "prefix of another user"
    );
    s.put_session("a_c:2@lid", b"x").await.unwrap();
    assert!(
        !s.has_signal_state_for_user("abc").await.unwrap(),
        "_ is not a wildcard"
    );
    assert!(
        !s.has_signal_state_for_user("a%").await.unwrap(),
        "% is not a wildcard"
    );
    assert!(
        !s.has_signal_state_for_user("A_C").await.unwrap(),
        "case is significant"
    );
    assert!(
        s.has_signal_state_for_user("a_c").await.unwrap(),
        "device form matches"
    );
    s.put_identity("777@s.whatsapp.net", [0; 32]).await.unwrap();
    assert!(
        s.has_signal_state_for_user("777").await.unwrap(),
        "identity alone counts"
    );
}

#[tokio::test]
async fn prekeys_ids_are_u32_and_marking_never_resurrects() {
    let t = common::fresh();
    let s = &t.store;
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 0);
    s.store_prekey(5, b"five", false).await.unwrap();
    s.store_prekey(0x8000_0001, b"big", false).await.unwrap();
    s.store_prekey(u32::MAX, b"max", true).await.unwrap();
    s.store_prekey(0, b"zero", false).await.unwrap();
    assert_eq!(s.get_max_prekey_id().await.unwrap(), u32::MAX);
    assert_eq!(
        s.load_prekey(0x8000_0001).await.unwrap().unwrap(),
        &b"big"[..]
    );
    assert_eq!(s.load_prekey(0).await.unwrap().unwrap(), &b"zero"[..]);

    s.remove_prekey(5).await.unwrap();
    s.mark_prekeys_uploaded(&[5, 0, 12345]).await.unwrap();
    assert!(
        s.load_prekey(5).await.unwrap().is_none(),
        "deleted prekey stays deleted"
    );
    assert!(
        s.load_prekey(12345).await.unwrap().is_none(),
        "mark never inserts"
    );
    assert_eq!(s.load_prekey(0).await.unwrap().unwrap(), &b"zero"[..]);

    s.remove_prekey(u32::MAX).await.unwrap();
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 0x8000_0001);

    let batch: Vec<(u32, Bytes)> = (100..912).map(|i| (i, Bytes::from(vec![1; 32]))).collect();
    s.store_prekeys_batch(&batch, false).await.unwrap();
    let loaded = s.load_prekeys_batch(&[901, 7, 100, 901, 0]).await.unwrap();
    let ids: Vec<u32> = loaded.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        vec![901, 100, 0],
        "request order, missing skipped, duplicates once"
    );
}

#[tokio::test]
async fn signed_prekeys_and_sender_keys() {
    let t = common::fresh();
    let s = &t.store;
    assert!(s.load_all_signed_prekeys().await.unwrap().is_empty());
    s.store_signed_prekey(u32::MAX, b"m").await.unwrap();
    s.store_signed_prekey(1, b"a").await.unwrap();
    s.store_signed_prekey(1, b"b").await.unwrap();
    assert_eq!(
        s.load_all_signed_prekeys().await.unwrap(),
        vec![(1, b"b".to_vec()), (u32::MAX, b"m".to_vec())]
    );
    s.remove_signed_prekey(1).await.unwrap();
    assert!(s.load_signed_prekey(1).await.unwrap().is_none());

    s.put_sender_key("g@g.us::u:1", b"k1").await.unwrap();
    let batch: Vec<(Arc<str>, Bytes)> = vec![
        ("a".into(), Bytes::from_static(b"1")),
        ("a".into(), Bytes::from_static(b"2")),
    ];
    s.put_sender_keys_batch(&batch).await.unwrap();
    assert_eq!(s.get_sender_key("a").await.unwrap().unwrap(), b"2");
    assert_eq!(
        s.get_sender_key("g@g.us::u:1").await.unwrap().unwrap(),
        b"k1"
    );
    s.delete_sender_key("a").await.unwrap();
    assert!(s.get_sender_key("a").await.unwrap().is_none());
}

/// A repeated id is returned once, also when the repeats are adjacent (the
/// ascending fast path must be strict). Mutants turning its `<` into `<=`
/// or `==` survived the engine's tests before this one.
#[tokio::test]
async fn load_prekeys_batch_returns_an_adjacent_repeat_once() {
    let t = common::fresh();
    let s = &t.store;
    for id in [1u32, 2, 3] {
        s.store_prekey(id, &[id as u8], false).await.unwrap();
    }
    let ids = |got: Vec<(u32, Bytes)>| got.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(ids(s.load_prekeys_batch(&[2, 2]).await.unwrap()), vec![2]);
    assert_eq!(
        ids(s.load_prekeys_batch(&[1, 2, 2, 3]).await.unwrap()),
        vec![1, 2, 3]
    );
}
