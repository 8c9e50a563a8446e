//! MsgSecretStore: merges and inclusive expiry.

mod common;

use std::sync::Arc;

use wacore::store::traits::{MsgSecretEntry, MsgSecretStore};

fn entry(id: &str, secret: u8, expires_at: i64, message_ts: i64) -> MsgSecretEntry {
    MsgSecretEntry {
        chat: Arc::from("c@g.us"),
        sender: Arc::from("s@s.whatsapp.net"),
        msg_id: Arc::from(id),
        secret: [secret; 32],
        expires_at,
        message_ts,
    }
}

#[tokio::test]
async fn secrets_merge_and_keep_message_ts() {
    let t = common::fresh();
    let s = &t.store;
    assert!(
        s.get_msg_secret("c@g.us", "s@s.whatsapp.net", "m")
            .await
            .unwrap()
            .is_none()
    );
    s.put_msg_secret("c@g.us", "s@s.whatsapp.net", "plain", &[4; 32])
        .await
        .unwrap();
    assert_eq!(
        s.get_msg_secret_with_ts("c@g.us", "s@s.whatsapp.net", "plain")
            .await
            .unwrap(),
        Some((vec![4; 32], 0))
    );

    assert_eq!(
        s.put_msg_secrets(vec![entry("m", 1, 100, 50)])
            .await
            .unwrap(),
        1
    );
    s.put_msg_secrets(vec![entry("m", 2, 90, 0)]).await.unwrap();
    let (secret, ts) = s
        .get_msg_secret_with_ts("c@g.us", "s@s.whatsapp.net", "m")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (secret, ts),
        (vec![2; 32], 50),
        "secret replaced, message_ts max"
    );
    // expiry: max, 0 wins
    assert_eq!(
        s.delete_expired_msg_secrets(99).await.unwrap(),
        0,
        "kept its later deadline 100"
    );
    s.put_msg_secrets(vec![entry("m", 2, 0, 60)]).await.unwrap();
    assert_eq!(
        s.delete_expired_msg_secrets(i64::MAX).await.unwrap(),
        0,
        "0 = never wins"
    );
    assert_eq!(
        s.get_msg_secret_with_ts("c@g.us", "s@s.whatsapp.net", "m")
            .await
            .unwrap()
            .unwrap()
            .1,
        60
    );
    // isolation by all three key parts
    assert!(
        s.get_msg_secret("c@g.us", "other", "m")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_msg_secret("other", "s@s.whatsapp.net", "m")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn expiry_is_inclusive_and_batches_are_large() {
    let t = common::fresh();
    let s = &t.store;
    let batch: Vec<_> = (0..10_000)
        .map(|i| entry(&format!("m{i}"), 1, 1000 + i, 0))
        .collect();
    assert_eq!(s.put_msg_secrets(batch).await.unwrap(), 10_000);
    assert_eq!(s.delete_expired_msg_secrets(999).await.unwrap(), 0);
    assert_eq!(
        s.delete_expired_msg_secrets(1000).await.unwrap(),
        1,
        "expires_at == cutoff goes"
    );
    assert_eq!(s.delete_expired_msg_secrets(1009).await.unwrap(), 9);
    assert!(
        s.get_msg_secret("c@g.us", "s@s.whatsapp.net", "m10")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(s.put_msg_secrets(vec![]).await.unwrap(), 0);
}
