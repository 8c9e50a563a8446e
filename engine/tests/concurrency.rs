//! Atomic read-modify-writes and batch visibility under concurrent callers,
//! on tokio's multi-thread and current-thread runtimes and without tokio.

mod common;

use std::sync::Arc;

use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{
    AppSyncStore, MsgSecretEntry, MsgSecretStore, ProtocolStore, SignalStore,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tc_token_writers_converge() {
    let t = common::fresh();
    let store = Arc::new(t.store.clone());
    let mut tasks = Vec::new();
    for i in 0..64i64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                s.touch_tc_token_sender_timestamp("jid", 1000 + i)
                    .await
                    .unwrap();
            } else {
                s.store_received_tc_token("jid", format!("tok{i}").as_bytes(), 500 + i)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let e = store.get_tc_token("jid").await.unwrap().unwrap();
    assert_eq!(
        e.sender_timestamp,
        Some(1062),
        "greatest sender timestamp, none lost"
    );
    assert_eq!(
        (e.token.as_slice(), e.token_timestamp),
        (&b"tok63"[..], 563),
        "newest token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn take_sent_message_has_exactly_one_winner() {
    let t = common::fresh();
    let store = Arc::new(t.store.clone());
    for round in 0..20 {
        let id = format!("m{round}");
        store
            .store_sent_message("chat", &id, b"payload")
            .await
            .unwrap();
        let takers: Vec<_> = (0..16)
            .map(|_| {
                let (s, id) = (store.clone(), id.clone());
                tokio::spawn(async move { s.take_sent_message("chat", &id).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for taker in takers {
            winners += taker.await.unwrap().is_some() as u32;
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_msg_secret_merges_keep_the_latest_deadline() {
    let t = common::fresh();
    let store = Arc::new(t.store.clone());
    let tasks: Vec<_> = (1..=64i64)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.put_msg_secrets(vec![MsgSecretEntry {
                    chat: "c".into(),
                    sender: "s".into(),
                    msg_id: "m".into(),
                    secret: [i as u8; 32],
                    expires_at: 10_000 + i,
                    message_ts: i,
                }])
                .await
                .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store
            .get_msg_secret_with_ts("c", "s", "m")
            .await
            .unwrap()
            .unwrap()
            .1,
        64
    );
    assert_eq!(
        store.delete_expired_msg_secrets(10_063).await.unwrap(),
        0,
        "deadline 10064 kept"
    );
    assert_eq!(store.delete_expired_msg_secrets(10_064).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_half_a_batch() {
    let t = common::fresh();
    let store = Arc::new(t.store.clone());
    let index: Vec<[u8; 32]> = (0..500u32)
        .map(|i| {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_be_bytes());
            k
        })
        .collect();
    let writer = {
        let (s, index) = (store.clone(), index.clone());
        tokio::spawn(async move {
            for round in 1..=30u8 {
                let batch: Vec<_> = index
                    .iter()
                    .map(|k| AppStateMutationMAC {
                        index_mac: k.to_vec(),
                        value_mac: vec![round],
                    })
                    .collect();
                s.put_mutation_macs("regular", round as u64, &batch)
                    .await
                    .unwrap();
            }
        })
    };
    let mut observed = 0;
    while !writer.is_finished() {
        let got = store.get_mutation_macs("regular", &index).await.unwrap();
        if got.is_empty() {
            tokio::task::yield_now().await;
            continue;
        }
        assert_eq!(got.len(), 500, "partial batch visible");
        let first = &got[&index[0]];
        assert!(
            got.values().all(|v| v == first),
            "rows of two batches mixed"
        );
        observed += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    // The final state is whole too (and guarantees at least one observation).
    let got = store.get_mutation_macs("regular", &index).await.unwrap();
    assert_eq!(got.len(), 500);
    assert!(
        got.values().all(|v| v == &vec![30u8]),
        "last batch not whole"
    );
    observed += 1;
    assert!(observed > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_finish_and_share_commits() {
    let t = common::fresh();
    let store = Arc::new(t.store.clone());
    let before = store.writer_stats();
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let s = store.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    s.put_session(&format!("t{task}-{i}"), b"v").await.unwrap();
                }
            })
        })
        .collect();
    let all = futures::future::join_all(tasks);
    tokio::time::timeout(std::time::Duration::from_secs(60), all)
        .await
        .expect("deadlock: 64 writers did not finish in 60 s");
    let after = store.writer_stats();
    let requests = after.requests_committed - before.requests_committed;
    let commits = after.commits - before.commits;
    assert_eq!(requests, 64 * 20);
    assert!(
        commits < requests,
        "group commit never grouped: {commits} commits"
    );
    assert!(store.get_session("t63-19").await.unwrap().is_some());
}

/// Durable writers polled together (a `join_all`) share one group, one
/// log record and one `fdatasync`, and each reads its write once answered.
#[tokio::test]
async fn durable_writers_polled_together_share_one_sync() {
    let t = common::fresh();
    let store = &t.store;
    let before = store.writer_stats();
    let names: Vec<String> = (0..16).map(|i| format!("w{i}")).collect();
    let writes = names.iter().map(|name| store.put_session(name, b"v"));
    for r in futures::future::join_all(writes).await {
        r.unwrap();
    }
    let after = store.writer_stats();
    assert_eq!(after.requests_committed - before.requests_committed, 16);
    assert_eq!(after.commits - before.commits, 1, "{after:?}");
    assert_eq!(after.log_syncs - before.log_syncs, 1, "{after:?}");
    for name in &names {
        assert!(store.has_session(name).await.unwrap(), "{name}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime() {
    let t = common::fresh();
    let s = &t.store;
    let names: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    let writes = names.iter().map(|name| s.put_session(name, b"v"));
    for r in futures::future::join_all(writes).await {
        r.unwrap();
    }
    assert!(s.has_session("k99").await.unwrap());
}

#[test]
fn works_without_tokio() {
    let t = common::fresh();
    futures::executor::block_on(async {
        t.store.put_session("a", b"v").await.unwrap();
        assert!(t.store.take_sent_message("c", "m").await.unwrap().is_none());
        assert_eq!(t.store.get_session("a").await.unwrap().unwrap(), &b"v"[..]);
    });
}
