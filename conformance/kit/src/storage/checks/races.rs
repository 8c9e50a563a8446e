//! Races that find late windows: racers start after a different number of
//! yields in every round (jitter), over many rounds, so a read-modify-write
//! whose window opens a little after the start is still hit; and pairs of
//! methods that write the same rows are raced against each other, not only
//! against themselves.

use std::future::Future;

use futures::future::join;

use super::check;
use crate::storage::flaws::flaw;
use crate::{Failure, ensure_eq, yield_now};

crate::storage::checks::register! {
    races:
    mark_prekeys_uploaded_races_remove_prekey,
    tc_token_merges_race_with_jitter,
    take_sent_message_races_a_re_store,
    touch_tc_token_races_delete_tc_token,
}

/// Rounds of each race.
const ROUNDS: u32 = 64;

/// Yields `n` times: the jitter of one racer in one round.
async fn jitter(n: u32) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// Runs `first` and `second` concurrently, each polled first after its
/// jitter for `round` (a store call does nothing until polled).
async fn race<A: Future, B: Future>(round: u32, first: A, second: B) -> (A::Output, B::Output) {
    let first = async {
        jitter(delay(round, 0)).await;
        first.await
    };
    let second = async {
        jitter(delay(round, 1)).await;
        second.await
    };
    join(first, second).await
}

/// Racer `racer`'s jitter in round `round`: 0 to 4 yields, drawn
/// independently per racer (splitmix64 of the pair), so every pair of
/// delays (equal, one ahead, far apart) occurs over the rounds.
fn delay(round: u32, racer: u32) -> u32 {
    let mut z = (u64::from(round) << 32 | u64::from(racer)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % 5) as u32
}

check!(
    mark_prekeys_uploaded_races_remove_prekey,
    "SignalStore",
    Contract,
    Nothing,
    [
        store_prekey,
        mark_prekeys_uploaded,
        remove_prekey,
        load_prekey
    ],
    "mark_prekeys_uploaded is UPDATE-only even against a concurrent remove_prekey: whichever runs first, a removed prekey never comes back",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let id = 1000 + round;
            s.store_prekey(id, &[1], false).await?;
            let (marked, removed) =
                race(round, s.mark_prekeys_uploaded(&[id]), s.remove_prekey(id)).await;
            marked?;
            removed?;
            let left = s.load_prekey(id).await?.map(|b| b.to_vec());
            ensure_eq!(left, None, "prekey {id} after the race of round {round}");
        }
        Ok(None)
    }
);

flaw! {
    /// Marks by reading the record, yielding, then writing it back: a
    /// remove in that window is undone.
    mark_uploaded_read_then_write, caught_by: mark_prekeys_uploaded_races_remove_prekey;
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        for &id in ids {
            if let Some(record) = self.inner.load_prekey(id).await? {
                crate::yield_now().await;
                self.inner.store_prekey(id, &record, true).await?;
            }
        }
        Ok(())
    }
}

check!(
    tc_token_merges_race_with_jitter,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        touch_tc_token_sender_timestamp,
        store_received_tc_token,
        get_tc_token
    ],
    "touch_tc_token_sender_timestamp (sender timestamp only moves forward) and store_received_tc_token (newer token wins, sender timestamp kept) are atomic against each other, whenever each starts",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let jid = format!("{round}@s.whatsapp.net");
            s.store_received_tc_token(&jid, &[1], 100).await?;
            s.touch_tc_token_sender_timestamp(&jid, 100).await?;
            let (touched, received) = race(
                round,
                s.touch_tc_token_sender_timestamp(&jid, 200),
                s.store_received_tc_token(&jid, &[2], 300),
            )
            .await;
            touched?;
            received?;
            let e = s
                .get_tc_token(&jid)
                .await?
                .ok_or_else(|| Failure(format!("tc token {jid} missing")))?;
            ensure_eq!(
                (e.token, e.token_timestamp, e.sender_timestamp),
                (vec![2], 300, Some(200)),
                "tc token after the race of round {round}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Both merges read, wait a few yields (a window that opens late), then
    /// write: the other writer's update in between is lost.
    tc_merges_with_a_late_window, caught_by: tc_token_merges_race_with_jitter;
    async fn touch_tc_token_sender_timestamp(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        touch_non_atomically(&*self.inner, jid, sender_timestamp, 3).await
    }
    async fn store_received_tc_token(&self, jid: &str, token: &[u8], token_timestamp: i64) -> Result<()> {
        receive_non_atomically(&*self.inner, jid, token, token_timestamp, 3).await
    }
}

check!(
    take_sent_message_races_a_re_store,
    "ProtocolStore",
    Contract,
    Nothing,
    [store_sent_message, take_sent_message],
    "take_sent_message is an atomic read-and-delete even against a store of the same message: the payload taken and the one left add up to exactly one of the two, never losing the new one",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let id = format!("3EB0{round:04}");
            s.store_sent_message(super::CHAT, &id, b"old").await?;
            let (taken, stored) = race(
                round,
                s.take_sent_message(super::CHAT, &id),
                s.store_sent_message(super::CHAT, &id, b"new"),
            )
            .await;
            stored?;
            let taken = taken?;
            let left = s.take_sent_message(super::CHAT, &id).await?;
            let outcome = (taken.as_deref(), left.as_deref());
            let allowed = [
                (Some(&b"old"[..]), Some(&b"new"[..])),
                (Some(&b"new"[..]), None),
            ];
            crate::ensure!(
                allowed.contains(&outcome),
                "round {round}: taken {:?}, left {:?}: a stored payload was lost or taken twice",
                outcome.0.map(String::from_utf8_lossy),
                outcome.1.map(String::from_utf8_lossy)
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Takes, puts the row back for a few yields, then deletes it: a store
    /// in that window is deleted unseen.
    take_deletes_late, caught_by: take_sent_message_races_a_re_store;
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        let taken = self.inner.take_sent_message(chat_jid, message_id).await?;
        if let Some(payload) = &taken {
            self.inner.store_sent_message(chat_jid, message_id, payload).await?;
            crate::yield_now().await;
            self.inner.take_sent_message(chat_jid, message_id).await?;
        }
        Ok(taken)
    }
}

check!(
    touch_tc_token_races_delete_tc_token,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        put_tc_token,
        touch_tc_token_sender_timestamp,
        delete_tc_token,
        get_tc_token
    ],
    "touch_tc_token_sender_timestamp against a concurrent delete_tc_token: the row is gone, or (touch after delete) a fresh row with no token; a deleted token never comes back",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let jid = format!("{round}@s.whatsapp.net");
            let entry = wacore::store::traits::TcTokenEntry {
                token: vec![7; 4],
                token_timestamp: 100,
                sender_timestamp: Some(100),
            };
            s.put_tc_token(&jid, &entry).await?;
            let (touched, deleted) = race(
                round,
                s.touch_tc_token_sender_timestamp(&jid, 200),
                s.delete_tc_token(&jid),
            )
            .await;
            touched?;
            deleted?;
            if let Some(e) = s.get_tc_token(&jid).await? {
                ensure_eq!(
                    (e.token, e.sender_timestamp),
                    (vec![], Some(200)),
                    "round {round}: the row a touch made after the delete"
                );
            }
        }
        Ok(None)
    }
);

flaw! {
    /// Touches by read, yield, write: a delete in between is undone, the
    /// deleted token with it.
    touch_resurrects_a_deleted_token, caught_by: touch_tc_token_races_delete_tc_token;
    async fn touch_tc_token_sender_timestamp(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        touch_non_atomically(&*self.inner, jid, sender_timestamp, 1).await
    }
}
