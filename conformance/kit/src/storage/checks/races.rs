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
    touch_tc_token_races_put_tc_token,
    received_tc_token_races_delete_tc_token,
    take_sent_message_races_the_expiry_sweep,
    mark_prekeys_uploaded_races_a_re_store,
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
        mark_uploaded_non_atomically(&*self.inner, ids).await
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
        take_non_atomically(&*self.inner, chat_jid, message_id).await
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

/// A tc-token entry.
fn tc(
    token: &[u8],
    token_timestamp: i64,
    sender_timestamp: Option<i64>,
) -> wacore::store::traits::TcTokenEntry {
    wacore::store::traits::TcTokenEntry {
        token: token.to_vec(),
        token_timestamp,
        sender_timestamp,
    }
}

check!(
    touch_tc_token_races_put_tc_token,
    "ProtocolStore",
    Contract,
    Nothing,
    [put_tc_token, touch_tc_token_sender_timestamp, get_tc_token],
    "touch_tc_token_sender_timestamp against a concurrent put_tc_token of a whole new entry: the result is one of the two orders (the new entry as put, or the new entry touched), never the old token touched",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let jid = format!("{round}@s.whatsapp.net");
            s.put_tc_token(&jid, &tc(&[7], 100, Some(100))).await?;
            let new = tc(&[9], 500, Some(50));
            let (touched, put) = race(
                round,
                s.touch_tc_token_sender_timestamp(&jid, 200),
                s.put_tc_token(&jid, &new),
            )
            .await;
            touched?;
            put?;
            let e = s
                .get_tc_token(&jid)
                .await?
                .map(|e| (e.token, e.token_timestamp, e.sender_timestamp));
            let allowed = [
                Some((vec![9], 500, Some(50))),
                Some((vec![9], 500, Some(200))),
            ];
            crate::ensure!(
                allowed.contains(&e),
                "round {round}: after a touch raced a put of a new entry the row is {e:?}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Touches by read, yield, write: a whole entry put in between is
    /// overwritten by the old one.
    touch_writes_back_a_stale_entry, caught_by: touch_tc_token_races_put_tc_token;
    async fn touch_tc_token_sender_timestamp(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        touch_non_atomically(&*self.inner, jid, sender_timestamp, 1).await
    }
}

check!(
    received_tc_token_races_delete_tc_token,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        put_tc_token,
        store_received_tc_token,
        delete_tc_token,
        get_tc_token
    ],
    "store_received_tc_token against a concurrent delete_tc_token: the row is gone, or (receive after delete) a fresh row holding the new token and no sender timestamp; the deleted row's sender timestamp never comes back",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let jid = format!("{round}@s.whatsapp.net");
            s.put_tc_token(&jid, &tc(&[7], 100, Some(100))).await?;
            let (received, deleted) = race(
                round,
                s.store_received_tc_token(&jid, &[2], 300),
                s.delete_tc_token(&jid),
            )
            .await;
            received?;
            deleted?;
            let e = s
                .get_tc_token(&jid)
                .await?
                .map(|e| (e.token, e.token_timestamp, e.sender_timestamp));
            let allowed = [None, Some((vec![2], 300, None))];
            crate::ensure!(
                allowed.contains(&e),
                "round {round}: after a receive raced a delete the row is {e:?}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Receives by read, yield, write: a delete in between is undone, the
    /// deleted row's sender timestamp with it.
    receive_resurrects_a_deleted_row, caught_by: received_tc_token_races_delete_tc_token;
    async fn store_received_tc_token(&self, jid: &str, token: &[u8], token_timestamp: i64) -> Result<()> {
        receive_non_atomically(&*self.inner, jid, token, token_timestamp, 1).await
    }
}

check!(
    take_sent_message_races_the_expiry_sweep,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        store_sent_message,
        take_sent_message,
        delete_expired_sent_messages
    ],
    "take_sent_message against a concurrent delete_expired_sent_messages of the same row: exactly one of them gets it (taken, or counted as deleted), never both and never neither",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let id = format!("3EB1{round:04}");
            s.store_sent_message(super::CHAT, &id, b"payload").await?;
            let (taken, swept) = race(
                round,
                s.take_sent_message(super::CHAT, &id),
                s.delete_expired_sent_messages(i64::MAX),
            )
            .await;
            let (taken, swept) = (taken?.is_some(), swept?);
            crate::ensure!(
                u32::from(taken) + swept == 1,
                "round {round}: the message was taken: {taken}, and the sweep deleted {swept} rows"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Takes, puts the row back for a yield, then deletes it: a sweep in
    /// that window deletes it too, and both report it.
    take_leaves_a_window_for_the_sweep, caught_by: take_sent_message_races_the_expiry_sweep;
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        take_non_atomically(&*self.inner, chat_jid, message_id).await
    }
}

check!(
    mark_prekeys_uploaded_races_a_re_store,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekey, mark_prekeys_uploaded, load_prekey],
    "mark_prekeys_uploaded against a concurrent store_prekey of a new record under the same id: the new record survives either order (marking changes the flag, never the record)",
    |ctx| {
        let s = ctx.store();
        for round in 0..ROUNDS {
            let id = 2000 + round;
            s.store_prekey(id, &[1], false).await?;
            let (marked, stored) = race(
                round,
                s.mark_prekeys_uploaded(&[id]),
                s.store_prekey(id, &[2], false),
            )
            .await;
            marked?;
            stored?;
            let left = s.load_prekey(id).await?.map(|b| b.to_vec());
            ensure_eq!(
                left,
                Some(vec![2]),
                "prekey {id} after the race of round {round}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Marks by reading the record, yielding, then writing it back: a new
    /// record stored in that window is replaced by the old one.
    mark_writes_back_a_stale_record, caught_by: mark_prekeys_uploaded_races_a_re_store;
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        mark_uploaded_non_atomically(&*self.inner, ids).await
    }
}
