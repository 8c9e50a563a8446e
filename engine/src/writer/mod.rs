//! The single writer thread and its group commit.
//!
//! Callers never touch a write transaction or an fsync themselves. Without
//! the direct path (invariant 6) they send a request (a closure over a
//! [`Tx`]) down a channel and await its reply. The writer thread
//! loops:
//!
//! 1. block for one request, then take every request already queued (up to
//!    `max_group_size`): the group;
//! 2. apply the group's requests in order inside ONE transaction: over the
//!    overlay in the log modes (`crate::overlay`), a redb write transaction
//!    otherwise;
//! 3. in the log modes, append the group's changes to the commit log as one
//!    record (`crate::log`), then make them visible (`ProcessCrashSafe`) or
//!    stage them for the sync thread (`Immediate`, [`sync`]); otherwise
//!    commit the redb transaction (durably in `Immediate` mode);
//! 4. reply to every caller (in `Immediate` mode with a log the sync thread
//!    replies once the record is synced), then checkpoint if one is due
//!    ([`layered`]), flush on time (`Relaxed`, `ProcessCrashSafe`).
//!
//! Invariants:
//! 1. A caller is answered `Ok` only after its group is committed (and, in
//!    `Immediate` mode, its log record or redb commit is fsynced).
//! 2. A request that fails (or panics) leaves no trace: its group's
//!    transaction is dropped, that caller gets its error, and the rest of
//!    the group is applied again from scratch. Requests are `FnMut` and
//!    deterministic over the store's state, so replay is safe.
//! 3. Requests of one group are applied in arrival order, so two writes from
//!    one task keep their order.
//! 4. A failed commit, log write or sync fails every request of its group,
//!    and the store refuses further writes (`Error::Poisoned`) until the
//!    file is reopened.
//! 5. No fsync ever runs on a caller's thread: the writer, sync and
//!    checkpoint threads make them.
//! 6. Every mode with a commit log, and `Relaxed` mode, has a direct path:
//!    a caller stages its request, yields once to the executor, then
//!    commits every request staged so far (concurrent callers share the
//!    commit) itself, on its own thread, with no fsync ([`direct`]): its
//!    log record written to the OS and the overlay updated (microseconds),
//!    or in `Relaxed` mode a non-durable redb commit. In `Immediate` mode
//!    the group then goes to the sync thread, which answers once its record
//!    is synced: a group costs one hop to that thread and one back, and
//!    groups led while a sync runs share the next one (through the writer
//!    thread, 16 writers arriving together split into two groups and waited
//!    for each other: 13%-24% fewer writes per second in A/B runs). In
//!    `Relaxed` mode, if the gate is taken (the thread is committing a group
//!    or flushing with fsync), the caller does not wait: it queues the
//!    staged requests as usual; over the overlay the gate is only held for
//!    moments and it waits. The gate also records when the oldest
//!    not-yet-flushed commit happened, so the flush deadline covers direct
//!    commits too.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_channel::oneshot;
use redb::{Database, ReadableDatabase, WriteTransaction};

use crate::config::{Durability, StoreConfig};
use crate::error::{Error, Result};
use crate::log::Journal;
use crate::log::format::RecordBuf;
use crate::overlay::{Overlay, SpareIndex};
use crate::txn::Tx;

mod direct;
mod layered;
mod request;
mod sync;

use direct::Direct;
use layered::Checkpointer;
use request::{Group, GroupTicket, Held, Reply, Ticket, Wakers, request};
use sync::{Pending, SyncThread};

/// The requests of one group, in arrival order.
type Jobs = Vec<Ticket>;

enum Message {
    Job(Ticket),
    /// Make every earlier acknowledged write durable, then reply.
    Flush(oneshot::Sender<Result<()>>),
    /// Flush and exit; sent by the last handle's drop.
    Shutdown,
    /// A direct commit started the flush clock: recompute the deadline.
    Nudge,
}

/// Held around every write transaction (invariant 6), with what the
/// writer thread and the fast path share.
struct Gate {
    state: Mutex<GateState>,
}

struct GateState {
    /// Relaxed and ProcessCrashSafe modes: when the oldest commit not yet
    /// made durable (redb flush, log sync) happened.
    unflushed_since: Option<Instant>,
    /// The commit log, in the log modes.
    journal: Option<Journal>,
    /// The last group's record buffer, emptied, for the next group: a
    /// batch's record grew by doubling from empty, each step a copy (a
    /// tenth of a 10,000-row batch's instructions). Kept up to
    /// [`SPARE_RECORD_BYTES`].
    spare_record: Option<RecordBuf>,
    /// The last group's hash index of its changes, emptied, for the next.
    spare_index: Option<SpareIndex>,
    /// `Immediate` mode with a log: where committed groups wait for their
    /// sync, handed over under the gate so they arrive in commit order.
    sync: Option<SyncThread>,
}

/// The largest record buffer kept for the next group.
const SPARE_RECORD_BYTES: usize = 4 << 20;

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        // Nothing in the state is left half-written by a panic: requests run
        // under `apply_guarded`, and the journal's methods do not panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, GateState>> {
        match self.state.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

/// Counters of the writer thread since the file was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterStats {
    /// Write requests answered `Ok`.
    pub requests_committed: u64,
    /// Write requests answered with an error.
    pub requests_failed: u64,
    /// Transactions committed for requests (each holds one or more requests).
    pub commits: u64,
    /// Durable flushes made by relaxed mode (timer, `flush`, close), and
    /// log syncs of process-crash-safe mode.
    pub flushes: u64,
    /// `fdatasync`s of the commit log (log modes).
    pub log_syncs: u64,
    /// Checkpoints (durable redb commits covering the log).
    pub checkpoints: u64,
}

#[derive(Default)]
struct Counters {
    requests_committed: AtomicU64,
    requests_failed: AtomicU64,
    commits: AtomicU64,
    flushes: AtomicU64,
    log_syncs: AtomicU64,
    checkpoints: AtomicU64,
}

impl Counters {
    fn add(&self, counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The caller side of the writer thread. Dropping it flushes and joins the thread.
pub(crate) struct Writer {
    tx: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    /// Set in the Relaxed and ProcessCrashSafe modes: the direct path
    /// (invariant 6).
    direct: Option<Arc<Direct>>,
    /// Set in the log modes: what readers read, and where commits go
    /// (`crate::overlay`).
    overlay: Option<Arc<Overlay>>,
}

impl Writer {
    /// Starts the writer thread; `journal` is the commit log in the log
    /// modes (`None`: every commit is a redb commit of the mode's durability).
    pub(crate) fn spawn(
        db: Arc<Database>,
        config: &StoreConfig,
        journal: Option<Journal>,
    ) -> Result<Writer> {
        let (durability, max_group_size) = (config.durability, config.max_group_size);
        let (tx, rx) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let loop_counters = counters.clone();
        // The log modes commit into the overlay (`crate::overlay`).
        let overlay = match &journal {
            Some(journal) => Some(Arc::new(Overlay::new(db.begin_read()?, journal.last_lsn()))),
            None => None,
        };
        let sync = match (&journal, &overlay) {
            (Some(journal), Some(overlay)) if durability == Durability::Immediate => {
                let (log, poisoned) = journal.sync_side();
                Some(SyncThread::spawn(
                    log,
                    poisoned,
                    overlay.clone(),
                    counters.clone(),
                )?)
            }
            _ => None,
        };
        let early_wake = sync
            .as_ref()
            .map(SyncThread::early_wake)
            .unwrap_or_default();
        let target = Target {
            db: db.clone(),
            overlay: overlay.clone(),
            publish_after_sync: sync.is_some(),
        };
        let gate = Arc::new(Gate {
            state: Mutex::new(GateState {
                unflushed_since: None,
                journal,
                spare_record: None,
                spare_index: None,
                sync,
            }),
        });
        let checkpointer = match &overlay {
            Some(_) => Some(Checkpointer::spawn(
                target.clone(),
                gate.clone(),
                counters.clone(),
            )?),
            None => None,
        };
        // `Immediate` mode takes it only over the log: its syncs then run
        // on the sync thread, while without a log a group's commit is a
        // durable redb commit, which only the writer thread makes.
        let fast_path = match durability {
            Durability::Relaxed { .. } | Durability::ProcessCrashSafe { .. } => true,
            Durability::Immediate => target.publish_after_sync,
        };
        let direct = fast_path.then(|| {
            Arc::new(Direct::new(
                target.clone(),
                gate.clone(),
                tx.clone(),
                counters.clone(),
                durability,
                early_wake,
            ))
        });
        let thread = std::thread::Builder::new()
            .name("redb-storage-writer".into())
            .spawn(move || {
                WriterLoop {
                    target,
                    rx,
                    durability,
                    max_group_size,
                    gate,
                    counters: loop_counters,
                    checkpointer,
                }
                .run()
            })
            .map_err(|e| Error::io("starting the writer thread", e))?;
        Ok(Writer {
            tx,
            thread: Some(thread),
            counters,
            direct,
            overlay,
        })
    }

    /// The overlay readers read in the log modes; `None` in the others.
    pub(crate) fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_deref()
    }

    pub(crate) fn stats(&self) -> WriterStats {
        let c = &self.counters;
        WriterStats {
            requests_committed: c.requests_committed.load(Ordering::Relaxed),
            requests_failed: c.requests_failed.load(Ordering::Relaxed),
            commits: c.commits.load(Ordering::Relaxed),
            flushes: c.flushes.load(Ordering::Relaxed),
            log_syncs: c.log_syncs.load(Ordering::Relaxed),
            checkpoints: c.checkpoints.load(Ordering::Relaxed),
        }
    }

    /// Queues a write request; the returned future resolves after its commit.
    /// With the direct path (invariant 6) the request is staged instead, and
    /// committed on the caller's thread when the future is polled again.
    pub(crate) fn submit<T, F>(&self, op: F) -> impl Future<Output = Result<T>> + use<T, F>
    where
        T: Send + 'static,
        F: FnMut(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (job, rx) = request(op);
        match &self.direct {
            Some(direct) => {
                direct.stage(job);
                reply_future(Some(direct.clone()), true, rx)
            }
            None => {
                let sent = self.tx.send(Message::Job(job)).is_ok();
                reply_future(None, sent, rx)
            }
        }
    }

    /// Resolves once every write acknowledged before the call is durable.
    pub(crate) fn flush(&self) -> impl Future<Output = Result<()>> + use<> {
        let (reply, rx) = oneshot::channel();
        let sent = self.tx.send(Message::Flush(reply)).is_ok();
        async move {
            if !sent {
                return Err(Error::WriterStopped);
            }
            rx.await.unwrap_or(Err(Error::WriterStopped))
        }
    }
}

/// The future `submit` returns. With the direct path it first yields once,
/// so every caller polled in the same turn of the executor stages its
/// request, then commits everything staged (invariant 6); a task writing in
/// a loop also gives its thread's other tasks a turn this way.
async fn reply_future<T>(direct: Option<Arc<Direct>>, sent: bool, rx: Reply<T>) -> Result<T> {
    if let Some(direct) = direct {
        YieldOnce(false).await;
        direct.lead();
    } else if !sent {
        return Err(Error::WriterStopped);
    }
    rx.await
}

/// Pending once (after waking its task), then ready: a yield that works on
/// any executor.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Requests staged but never led (their futures dropped early)
        // go before the shutdown, as queued ones do.
        if let Some(direct) = &self.direct {
            direct.hand_staged_to_writer();
        }
        let _ = self.tx.send(Message::Shutdown);
        if let Some(thread) = self.thread.take() {
            // Joining releases the Database before the last handle is gone, so
            // the same file can be reopened right away. In Immediate mode the
            // thread has nothing left to sync; in Relaxed mode this waits for one
            // fsync (call `RedbStore::close` from async code to avoid that).
            if thread.join().is_err() {
                log::error!("redb-storage writer thread panicked");
            }
        }
    }
}

struct WriterLoop {
    target: Target,
    rx: mpsc::Receiver<Message>,
    durability: Durability,
    max_group_size: usize,
    gate: Arc<Gate>,
    counters: Arc<Counters>,
    /// The log modes: where checkpoints are written ([`layered`]).
    checkpointer: Option<Checkpointer>,
}

impl WriterLoop {
    fn run(mut self) {
        loop {
            let Some(first) = self.next_message() else {
                self.close();
                return;
            };
            let mut jobs = Vec::new();
            let mut flushes = Vec::new();
            let mut shutdown = false;
            let mut next = Some(first);
            while let Some(msg) = next {
                match msg {
                    Message::Job(job) => jobs.push(job),
                    Message::Flush(reply) => flushes.push(reply),
                    Message::Shutdown => shutdown = true,
                    Message::Nudge => {}
                }
                next = if jobs.len() < self.max_group_size {
                    self.rx.try_recv().ok()
                } else {
                    None
                };
            }
            if !jobs.is_empty() {
                self.commit_group(jobs);
            }
            // Also after a nudge: the fast path may have filled the log.
            self.checkpoint(false);
            if !flushes.is_empty() {
                let outcome = self.flush_now();
                for reply in flushes {
                    let _ = reply.send(outcome.clone());
                }
            } else {
                // Under steady load a message always waits, so the timeout in
                // `next_message` may never fire: the interval is a loss bound.
                self.flush_if_due();
            }
            if shutdown {
                self.close();
                return;
            }
        }
    }

    /// Makes everything durable and leaves the log covered by a checkpoint,
    /// so the next open has nothing to replay.
    fn close(&mut self) {
        if let Some(sync) = &mut self.gate.lock().sync {
            sync.finish();
        }
        if let Err(e) = self.flush_now() {
            log::error!("redb-storage: the final flush failed: {e}");
        }
        self.checkpoint(true);
    }

    /// Checkpoints if one is due (or, with `force`, if any record awaits one).
    /// Only the log modes checkpoint, and they all commit into the overlay.
    fn checkpoint(&mut self, force: bool) {
        if let Some(overlay) = self.target.overlay.clone() {
            self.checkpoint_overlay(&overlay, force);
        }
    }

    /// Waits for the next message, waking up to flush (Relaxed,
    /// ProcessCrashSafe) and checkpoint on time. `None` means every sender
    /// is gone.
    fn next_message(&mut self) -> Option<Message> {
        loop {
            let (flush_at, checkpoint_at) = {
                let state = self.gate.lock();
                let checkpoint_at = state
                    .journal
                    .as_ref()
                    .and_then(Journal::checkpoint_deadline);
                (self.flush_deadline(state.unflushed_since), checkpoint_at)
            };
            let Some(deadline) = flush_at.into_iter().chain(checkpoint_at).min() else {
                return self.rx.recv().ok();
            };
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait.max(Duration::from_micros(1))) {
                Ok(msg) => return Some(msg),
                Err(RecvTimeoutError::Timeout) => {
                    self.flush_if_due();
                    self.checkpoint(false);
                }
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// How long a commit may stay unflushed (Relaxed) or unsynced
    /// (ProcessCrashSafe); `None` in Immediate mode.
    fn flush_interval(&self) -> Option<Duration> {
        match self.durability {
            Durability::Relaxed { flush_interval } => Some(flush_interval),
            Durability::ProcessCrashSafe { sync_interval } => Some(sync_interval),
            Durability::Immediate => None,
        }
    }

    /// When the commits unflushed since `unflushed_since` must be flushed.
    fn flush_deadline(&self, unflushed_since: Option<Instant>) -> Option<Instant> {
        Some(unflushed_since? + self.flush_interval()?)
    }

    /// Flushes if the oldest unflushed commit has waited its interval
    /// (after every group: Immediate mode does not even take the gate).
    fn flush_if_due(&mut self) {
        if self.flush_interval().is_none() {
            return;
        }
        let since = self.gate.lock().unflushed_since;
        if self
            .flush_deadline(since)
            .is_some_and(|at| at <= Instant::now())
            && let Err(e) = self.flush_now()
        {
            log::error!("redb-storage: periodic flush failed: {e}");
        }
    }

    /// How group transactions commit: durably only in `Immediate` mode
    /// without a log (the log makes them durable otherwise).
    fn redb_durability(&self, logged: bool) -> redb::Durability {
        match (self.durability, logged) {
            (Durability::Immediate, false) => redb::Durability::Immediate,
            _ => redb::Durability::None,
        }
    }

    /// Applies `jobs` in one transaction and commits (invariants 1 to 4).
    fn commit_group(&mut self, jobs: Jobs) {
        let gate = self.gate.clone();
        let mut state = gate.lock();
        let logging = state.journal.is_some();
        let durability = self.redb_durability(logging);
        let Some((jobs, outcome)) =
            apply_group(&self.target, &mut state, durability, jobs, &self.counters)
        else {
            return;
        };
        let held = finish_group(&mut state, self.durability, jobs, outcome, &self.counters);
        drop(state);
        held.into_iter().for_each(Held::release);
    }

    fn count(&self, counter: &AtomicU64, n: usize) {
        self.counters.add(counter, n);
    }

    /// Makes every commit so far durable: a durable redb commit in Relaxed
    /// mode, a log sync in ProcessCrashSafe mode; a no-op in Immediate mode.
    fn flush_now(&mut self) -> Result<()> {
        let gate = self.gate.clone();
        let mut state = gate.lock();
        if state.unflushed_since.is_none() {
            return Ok(());
        }
        if let Some(journal) = state.journal.as_mut() {
            // The log sync runs outside the gate: writers go on appending
            // meanwhile (what they append starts a new unflushed period).
            let sync = journal.detached_sync()?;
            state.unflushed_since = None;
            drop(state);
            sync.run()?;
            self.count(&self.counters.log_syncs, 1);
        } else {
            begin(&self.target.db, redb::Durability::Immediate)?.commit()?;
            state.unflushed_since = None;
        }
        self.count(&self.counters.flushes, 1);
        Ok(())
    }
}

/// Where groups commit: in the log modes the overlay in front of redb
/// (`crate::overlay`), else redb.
#[derive(Clone)]
pub(super) struct Target {
    db: Arc<Database>,
    overlay: Option<Arc<Overlay>>,
    /// `Immediate` mode: a group's changes become visible once the sync
    /// thread has synced its record (overlay invariant 4).
    publish_after_sync: bool,
}

/// How one attempt at a group ended.
enum Attempt {
    /// Committed (`Ok(logged)`) or failed as a whole.
    Done(Result<bool>),
    /// The request at this index failed; nothing of the attempt remains.
    Refused(usize, Error),
}

/// Applies `jobs` in order in one transaction, then logs and commits it
/// (invariants 2 to 4): a request that fails is answered with its error at
/// once and the others are applied again without it. Returns the requests
/// the transaction holds with the commit's outcome (`Ok(logged)`), or
/// `None` when every request failed.
fn apply_group(
    target: &Target,
    state: &mut GateState,
    durability: redb::Durability,
    mut jobs: Jobs,
    counters: &Counters,
) -> Option<(Jobs, Result<bool>)> {
    loop {
        let attempt = match &target.overlay {
            Some(overlay) => apply_to_overlay(overlay, target.publish_after_sync, state, &mut jobs),
            None => apply_to_redb(&target.db, durability, &mut jobs),
        };
        match attempt {
            Attempt::Done(outcome) => return Some((jobs, outcome)),
            Attempt::Refused(index, error) => {
                answer(vec![jobs.remove(index)], Err(error), counters);
                if jobs.is_empty() {
                    return None;
                }
            }
        }
    }
}

/// Applies every request to `tx`; the first failure, if any.
fn apply_all(tx: &Tx<'_>, jobs: &mut Jobs) -> Option<(usize, Error)> {
    jobs.iter_mut()
        .enumerate()
        .find_map(|(index, job)| apply_guarded(|| job.apply(tx)).err().map(|e| (index, e)))
}

/// One attempt in a redb write transaction (the modes without a log).
fn apply_to_redb(db: &Database, durability: redb::Durability, jobs: &mut Jobs) -> Attempt {
    let txn = match begin(db, durability) {
        Ok(txn) => txn,
        Err(e) => return Attempt::Done(Err(e)),
    };
    let tx = Tx::new(&txn);
    if let Some((index, error)) = apply_all(&tx, jobs) {
        drop(tx);
        // An aborted transaction leaves the store exactly as it was.
        let _ = txn.abort();
        return Attempt::Refused(index, error);
    }
    drop(tx);
    Attempt::Done(txn.commit().map(|()| false).map_err(Into::into))
}

/// One attempt over the overlay: the changes become visible once their log
/// record is written, or with `after_sync` staged until it is synced
/// (overlay invariants 2 and 4).
fn apply_to_overlay(
    overlay: &Overlay,
    after_sync: bool,
    state: &mut GateState,
    jobs: &mut Jobs,
) -> Attempt {
    let layers = overlay.read();
    let record = state.spare_record.take().unwrap_or_else(RecordBuf::new);
    let tx = Tx::over(&layers, record, state.spare_index.take());
    if let Some((index, error)) = apply_all(&tx, jobs) {
        return Attempt::Refused(index, error);
    }
    let (mut changes, pending, index) = tx.into_changes();
    state.spare_index = index;
    drop(layers);
    let Some(journal) = state.journal.as_mut() else {
        return Attempt::Done(Err(Error::Database(
            "internal: the overlay without a log".into(),
        )));
    };
    let logged = journal.record(&mut changes);
    if changes.capacity() <= SPARE_RECORD_BYTES {
        state.spare_record = Some(changes.emptied());
    }
    if let Ok(logged) = logged {
        let lsn = logged.then(|| journal.last_lsn());
        if after_sync {
            overlay.stage(pending, lsn);
        } else {
            overlay.commit(pending, lsn);
        }
    }
    Attempt::Done(logged)
}

/// Counts a group's commit, starts the flush clock if it left something
/// to flush, and answers its callers; in `Immediate` mode over the log the
/// sync thread answers them once their record is synced, and the
/// requests' operations are returned to drop once the gate is released
/// ([`Held::release`]).
#[must_use = "the held operations are to be released"]
fn finish_group(
    state: &mut GateState,
    durability: Durability,
    jobs: Jobs,
    outcome: Result<bool>,
    counters: &Counters,
) -> Vec<Held> {
    if let Ok(logged) = &outcome {
        counters.add(&counters.commits, 1);
        if let Some(sync) = &mut state.sync {
            let (group, answer) = Group::new(jobs.len());
            let held = jobs
                .into_iter()
                .filter_map(|job| job.join(&group))
                .collect();
            let logged = *logged;
            sync.hand_over(Pending { answer, logged }, counters);
            return held;
        }
        let unflushed = match durability {
            Durability::Relaxed { .. } => true,
            Durability::ProcessCrashSafe { .. } => *logged,
            Durability::Immediate => false,
        };
        if state.unflushed_since.is_none() && unflushed {
            state.unflushed_since = Some(Instant::now());
        }
    }
    answer(jobs, outcome.map(|_| ()), counters);
    Vec::new()
}

/// Answers every request of `jobs` with `outcome`, counting them committed
/// or failed: with [`answer_group`], the one place a request's answer is
/// counted.
fn answer(jobs: Jobs, outcome: Result<()>, counters: &Counters) {
    count_answers(counters, &outcome, jobs.len());
    // Every answer first, then the wakes: a task awaiting several of these
    // requests is woken once and finds them all answered.
    let mut wakers = Wakers::default();
    for job in jobs {
        wakers.add(job.complete(outcome.clone()));
    }
    wakers.wake_all();
}

/// Answers a group's requests with `outcome`, counting them; their tasks'
/// wakers go to `wakers`.
fn answer_group(
    answer: GroupTicket,
    outcome: Result<()>,
    counters: &Counters,
    wakers: &mut Wakers,
) {
    count_answers(counters, &outcome, answer.requests());
    answer.settle(outcome, wakers);
}

fn count_answers(counters: &Counters, outcome: &Result<()>, requests: usize) {
    let counter = match outcome {
        Ok(()) => &counters.requests_committed,
        Err(_) => &counters.requests_failed,
    };
    counters.add(counter, requests);
}

fn begin(db: &Database, durability: redb::Durability) -> Result<WriteTransaction> {
    let mut txn = db.begin_write()?;
    txn.set_durability(durability)?;
    Ok(txn)
}

/// Runs a request's staging step; a panic in it becomes an error for that
/// request (invariant 2), on the writer thread and the direct path alike.
fn apply_guarded<T>(apply: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(apply)).unwrap_or_else(|panic| {
        Err(Error::Database(format!(
            "write request panicked: {}",
            panic_message(&panic)
        )))
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableDatabase;

    // A data table: requests write through `Tx`, which knows only those.
    const T: crate::tables::Table = crate::tables::SESSIONS;

    fn setup() -> (tempfile::TempDir, Arc<Database>, Writer) {
        setup_with(&StoreConfig::default())
    }

    /// A writer in `Relaxed` mode flushing every `flush_interval`.
    fn relaxed(flush_interval: Duration) -> StoreConfig {
        StoreConfig::default().with_durability(Durability::Relaxed { flush_interval })
    }

    fn setup_with(config: &StoreConfig) -> (tempfile::TempDir, Arc<Database>, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("w.redb")).unwrap());
        let w = db.begin_write().unwrap();
        w.open_table(T).unwrap();
        w.commit().unwrap();
        let writer = Writer::spawn(db.clone(), config, None).unwrap();
        (dir, db, writer)
    }

    fn put(key: &'static str, fail: bool) -> impl FnMut(&Tx<'_>) -> Result<()> {
        move |txn| {
            txn.open_table(T)?.insert(key.as_bytes(), b"1")?;
            if fail {
                return Err(Error::InvalidInput(format!("{key} fails after writing")));
            }
            Ok(())
        }
    }

    fn present(db: &Database, key: &str) -> bool {
        let r = db.begin_read().unwrap();
        r.open_table(T)
            .unwrap()
            .get(key.as_bytes())
            .unwrap()
            .is_some()
    }

    #[test]
    fn a_failing_or_panicking_request_leaves_no_trace_and_spares_its_group() {
        let (_dir, db, writer) = setup();
        // Queue all before awaiting any, so they can share a group.
        let a = writer.submit(put("a", false));
        let b = writer.submit(put("b", true));
        let c = writer.submit(|txn: &Tx<'_>| -> Result<()> {
            txn.open_table(T)?.insert(b"c", b"1")?;
            panic!("request bug");
        });
        let d = writer.submit(put("d", false));
        futures::executor::block_on(async {
            assert!(a.await.is_ok());
            assert!(matches!(b.await, Err(Error::InvalidInput(_))));
            assert!(matches!(c.await, Err(Error::Database(m)) if m.contains("request bug")));
            assert!(d.await.is_ok());
        });
        assert!(present(&db, "a") && present(&db, "d"));
        assert!(!present(&db, "b"), "failed request's partial write is gone");
        assert!(
            !present(&db, "c"),
            "panicked request's partial write is gone"
        );
        let stats = writer.stats();
        assert_eq!((stats.requests_committed, stats.requests_failed), (2, 2));
    }

    #[test]
    fn a_failing_or_panicking_direct_request_leaves_no_trace() {
        let (_dir, db, writer) = setup_with(&relaxed(Duration::from_secs(60)));
        futures::executor::block_on(async {
            assert!(writer.submit(put("a", false)).await.is_ok());
            assert!(matches!(
                writer.submit(put("b", true)).await,
                Err(Error::InvalidInput(_))
            ));
            let c = writer.submit(|txn: &Tx<'_>| -> Result<()> {
                txn.open_table(T)?.insert(b"c", b"1")?;
                panic!("request bug");
            });
            assert!(matches!(c.await, Err(Error::Database(m)) if m.contains("request bug")));
            assert!(writer.submit(put("d", false)).await.is_ok());
        });
        assert!(present(&db, "a") && present(&db, "d"));
        assert!(!present(&db, "b") && !present(&db, "c"));
        let stats = writer.stats();
        assert_eq!((stats.requests_committed, stats.requests_failed), (2, 2));
        // All four ran on this thread: one commit per successful request.
        assert_eq!(stats.commits, 2);
    }

    #[test]
    fn queued_requests_share_commits() {
        let (_dir, _db, writer) = setup();
        let pending: Vec<_> = (0..500).map(|_| writer.submit(put("k", false))).collect();
        futures::executor::block_on(async {
            for p in pending {
                p.await.unwrap();
            }
        });
        let stats = writer.stats();
        assert_eq!(stats.requests_committed, 500);
        assert!(stats.commits < 500, "no grouping happened: {stats:?}");
    }

    /// The flush interval bounds the loss even while the writer thread's
    /// queue is never empty (its idle timeout then never fires): sixty
    /// queued requests of 1 ms each, one per group, with a 5 ms interval.
    #[test]
    fn a_queue_that_never_empties_is_still_flushed_every_interval() {
        let config = relaxed(Duration::from_millis(5)).with_max_group_size(1);
        let (_dir, _db, writer) = setup_with(&config);
        let counters = writer.counters.clone();
        let flushes_seen_by_the_last = Arc::new(AtomicU64::new(u64::MAX));
        let replies: Vec<_> = (0..60)
            .map(|i| {
                let (counters, seen) = (counters.clone(), flushes_seen_by_the_last.clone());
                let op = move |txn: &Tx<'_>| -> Result<()> {
                    txn.open_table(T)?
                        .insert(b"k".as_slice(), b"1".as_slice())?;
                    std::thread::sleep(Duration::from_millis(1));
                    if i == 59 {
                        seen.store(counters.flushes.load(Ordering::Relaxed), Ordering::Relaxed);
                    }
                    Ok(())
                };
                let (job, rx) = request(op);
                writer.tx.send(Message::Job(job)).unwrap();
                rx
            })
            .collect();
        futures::executor::block_on(async {
            for rx in replies {
                rx.await.unwrap();
            }
        });
        let flushes = flushes_seen_by_the_last.load(Ordering::Relaxed);
        assert!(
            flushes >= 3,
            "{flushes} flushes during 60 ms of queued groups with a 5 ms interval"
        );
    }

    #[test]
    fn direct_requests_polled_together_share_one_commit() {
        let (_dir, db, writer) = setup_with(&relaxed(Duration::from_secs(60)));
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
        // The fifth request fails after writing: it alone is refused.
        let results = futures::executor::block_on(futures::future::join_all(
            keys.iter()
                .enumerate()
                .map(|(i, k)| writer.submit(put(k, i == 4))),
        ));
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result.is_ok(), i != 4, "request {i}: {result:?}");
        }
        let stats = writer.stats();
        assert_eq!((stats.requests_committed, stats.requests_failed), (7, 1));
        assert_eq!(
            stats.commits, 1,
            "the staged requests did not share a commit"
        );
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(present(&db, k), i != 4, "{k}");
        }
    }
}
