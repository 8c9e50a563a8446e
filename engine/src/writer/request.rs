//! A write request and the slot its answer goes to, in one allocation
//! shared by the writer side (which applies and answers it: the writer
//! thread, a leading caller, the sync thread) and the caller's future
//! (which waits for the answer).
//!
//! Before, a request was a box holding its operation and the sending half
//! of a oneshot channel: two allocations per write, and each answer woke
//! its caller at once, so a task awaiting a group's requests together (a
//! `join_all`) was woken while the rest of the group was still being
//! answered and polled them again. [`answer`](super::answer) now stores a
//! group's answers first and then wakes each waiting task once.
//!
//! A group handed to the sync thread is answered through one [`Group`]
//! its requests share: the sync thread sets one outcome and wakes the
//! group's tasks, and each caller reads the outcome and takes its output
//! from its own request. Answering each request on the sync thread cost
//! every request's memory two trips between the cores (there and back to
//! the caller's), on the way from the `fdatasync` to the callers.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};
use crate::txn::Tx;

/// One write request, type-erased so requests of any output type share a
/// queue.
trait Job: Send + Sync {
    /// Stages the request's changes into `txn`.
    fn apply(&self, txn: &Tx<'_>) -> Result<()>;
    /// Drops the request's operation (and the rows it holds).
    fn release(&self);
    /// Stores the request's answer (the first one given wins) and returns
    /// the waker of the caller waiting for it, if any.
    fn settle(&self, outcome: Result<()>) -> Option<Waker>;
    /// Makes the request's answer `group`'s outcome; its caller's waker,
    /// if any, goes to the group.
    fn join(&self, group: &Arc<Group>);
}

/// The writer side of a request. Dropped unanswered (its queue or thread
/// gone), it answers [`Error::WriterStopped`].
pub(super) struct Ticket(Option<Arc<dyn Job>>);

/// The caller's side of a request: resolves to its answer.
pub(super) struct Reply<T>(Arc<dyn Answer<T>>);

/// A new request running `op`: the writer's ticket and the caller's reply.
pub(super) fn request<T, F>(op: F) -> (Ticket, Reply<T>)
where
    T: Send + 'static,
    F: FnMut(&Tx<'_>) -> Result<T> + Send + 'static,
{
    let shared = Arc::new(Request {
        work: Mutex::new(Work {
            op: Some(op),
            output: None,
        }),
        answer: Mutex::new(Slot::Waiting(None)),
    });
    (Ticket(Some(shared.clone())), Reply(shared))
}

impl Ticket {
    /// Stages the request's changes into `txn`.
    pub(super) fn apply(&self, txn: &Tx<'_>) -> Result<()> {
        match &self.0 {
            Some(job) => job.apply(txn),
            None => Err(Error::Database(
                "internal: request applied after its answer".into(),
            )),
        }
    }

    /// Makes the request's answer `group`'s outcome (it is committed, its
    /// output stored); returns a hold on its operation, to drop once the
    /// group is handed over (`Held::release`).
    pub(super) fn join(mut self, group: &Arc<Group>) -> Option<Held> {
        let job = self.0.take()?;
        job.join(group);
        Some(Held(job))
    }

    /// Answers the request; returns the waker to wake once the rest of
    /// its group is answered too.
    pub(super) fn complete(mut self, outcome: Result<()>) -> Option<Waker> {
        self.0.take()?.settle(outcome)
    }
}

/// A request whose operation is still held, though its ticket went on
/// (to the sync thread).
pub(super) struct Held(Arc<dyn Job>);

impl Held {
    /// Drops the request's operation (and the rows it holds): on the
    /// leader's thread, whose allocator then gets the buffers back, and
    /// after the hand-over, while the sync thread syncs (before, it was on
    /// the way to the sync: a sixteen-request group freed 32 buffers
    /// there).
    pub(super) fn release(self) {
        self.0.release();
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(waker) = self
            .0
            .take()
            .and_then(|job| job.settle(Err(Error::WriterStopped)))
        {
            waker.wake();
        }
    }
}

impl<T> Future for Reply<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        self.0.poll_answer(cx)
    }
}

/// What the caller's future sees of a request.
trait Answer<T>: Send + Sync {
    fn poll_answer(&self, cx: &mut Context<'_>) -> Poll<Result<T>>;
}

struct Request<T, F> {
    /// The writer side's alone (a lock nobody else waits for).
    work: Mutex<Work<T, F>>,
    answer: Mutex<Slot<T>>,
}

struct Work<T, F> {
    /// `None` once released; kept until then, as a group that refuses one
    /// request applies the others again.
    op: Option<F>,
    output: Option<T>,
}

enum Slot<T> {
    /// Not answered yet; the waker of the task polling the reply, if any.
    Waiting(Option<Waker>),
    Ready(Result<T>),
    /// Answered by the group's outcome (with the output in `work`).
    Grouped(Arc<Group>),
    /// The reply took the answer.
    Taken,
}

/// Locks `mutex`, ignoring poison: a request's operation runs under its
/// `work` lock and may panic (the panic is caught and becomes that
/// request's error); what the lock guards stays whole.
fn lock<X>(mutex: &Mutex<X>) -> MutexGuard<'_, X> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T, F> Job for Request<T, F>
where
    T: Send,
    F: FnMut(&Tx<'_>) -> Result<T> + Send,
{
    fn apply(&self, txn: &Tx<'_>) -> Result<()> {
        let mut work = lock(&self.work);
        let op = work
            .op
            .as_mut()
            .ok_or_else(|| Error::Database("internal: request applied after release".into()))?;
        let output = op(txn)?;
        work.output = Some(output);
        Ok(())
    }

    fn release(&self) {
        let op = lock(&self.work).op.take();
        drop(op);
    }

    fn settle(&self, outcome: Result<()>) -> Option<Waker> {
        let mut slot = lock(&self.answer);
        let Slot::Waiting(waker) = &mut *slot else {
            return None;
        };
        let waker = waker.take();
        *slot = Slot::Ready(outcome.and_then(|()| self.output()));
        waker
    }

    fn join(&self, group: &Arc<Group>) {
        let mut slot = lock(&self.answer);
        if let Slot::Waiting(waker) = &mut *slot {
            lock(&group.state).wakers.add(waker.take());
            *slot = Slot::Grouped(group.clone());
        }
    }
}

impl<T, F> Request<T, F> {
    /// The output its operation stored when its group applied it.
    fn output(&self) -> Result<T> {
        lock(&self.work)
            .output
            .take()
            .ok_or_else(|| Error::Database("internal: request committed without output".into()))
    }
}

impl<T, F> Answer<T> for Request<T, F>
where
    T: Send,
    F: Send,
{
    fn poll_answer(&self, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let mut slot = lock(&self.answer);
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Ready(answer) => Poll::Ready(answer),
            Slot::Grouped(group) => match group.poll_outcome(cx) {
                Poll::Ready(outcome) => Poll::Ready(outcome.and_then(|()| self.output())),
                Poll::Pending => {
                    *slot = Slot::Grouped(group);
                    Poll::Pending
                }
            },
            Slot::Waiting(known) => {
                let waker = match known {
                    Some(known) if known.will_wake(cx.waker()) => known,
                    _ => cx.waker().clone(),
                };
                *slot = Slot::Waiting(Some(waker));
                Poll::Pending
            }
            Slot::Taken => Poll::Ready(Err(Error::Database(
                "internal: a write's reply polled after it resolved".into(),
            ))),
        }
    }
}

/// The answer of a group of requests (all committed together), shared by
/// them: one outcome, and the wakers of the tasks awaiting it.
pub(super) struct Group {
    state: Mutex<GroupState>,
    /// How many requests joined it, for the counters.
    requests: usize,
}

struct GroupState {
    /// `None` until settled.
    outcome: Option<Result<()>>,
    wakers: Wakers,
}

impl Group {
    /// A group for `requests` requests, to [`Ticket::join`].
    pub(super) fn new(requests: usize) -> (Arc<Group>, GroupTicket) {
        let group = Arc::new(Group {
            state: Mutex::new(GroupState {
                outcome: None,
                wakers: Wakers::default(),
            }),
            requests,
        });
        (group.clone(), GroupTicket(Some(group)))
    }

    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut state = lock(&self.state);
        match &state.outcome {
            Some(outcome) => Poll::Ready(outcome.clone()),
            None => {
                state.wakers.add_ref(cx.waker());
                Poll::Pending
            }
        }
    }
}

/// The answering side of a [`Group`]. Dropped unsettled (its thread
/// gone), it answers [`Error::WriterStopped`].
pub(super) struct GroupTicket(Option<Arc<Group>>);

impl GroupTicket {
    /// How many requests it answers.
    pub(super) fn requests(&self) -> usize {
        self.0.as_ref().map_or(0, |group| group.requests)
    }

    /// Answers every request of the group with `outcome`; its tasks'
    /// wakers go to `wakers`, to wake once the rest of the batch is
    /// answered too.
    pub(super) fn settle(mut self, outcome: Result<()>, wakers: &mut Wakers) {
        if let Some(group) = self.0.take() {
            let mut state = lock(&group.state);
            if state.outcome.is_none() {
                state.outcome = Some(outcome);
                wakers.append(std::mem::take(&mut state.wakers));
            }
        }
    }
}

impl Drop for GroupTicket {
    fn drop(&mut self) {
        if self.0.is_some() {
            let mut wakers = Wakers::default();
            GroupTicket(self.0.take()).settle(Err(Error::WriterStopped), &mut wakers);
            wakers.wake_all();
        }
    }
}

/// Wakes each task in `wakers` once (consecutive duplicates dropped when
/// collected: requests awaited together share their task's waker).
#[derive(Default)]
pub(super) struct Wakers(Vec<Waker>);

impl Wakers {
    /// Adds `waker` unless it wakes the same task as the last one added.
    pub(super) fn add(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if !self.wakes_last(&waker) {
            self.0.push(waker);
        }
    }

    /// [`Wakers::add`] of a waker it clones only if it keeps it.
    fn add_ref(&mut self, waker: &Waker) {
        if !self.wakes_last(waker) {
            self.0.push(waker.clone());
        }
    }

    /// Adds every waker of `other`, in order.
    pub(super) fn append(&mut self, other: Wakers) {
        other.0.into_iter().for_each(|waker| self.add(Some(waker)));
    }

    fn wakes_last(&self, waker: &Waker) -> bool {
        self.0.last().is_some_and(|last| last.will_wake(waker))
    }

    pub(super) fn wake_all(self) {
        self.0.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Counts its wakes.
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A waker that counts its wakes, and the count.
    fn counting_waker() -> (Waker, Arc<Counting>) {
        let counter = Arc::new(Counting(AtomicUsize::new(0)));
        (Waker::from(counter.clone()), counter)
    }

    impl Counting {
        fn wakes(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn noop(_: &Tx<'_>) -> Result<u8> {
        Ok(7)
    }

    #[test]
    fn a_ticket_dropped_unanswered_answers_writer_stopped_and_wakes() {
        let (ticket, mut reply) = request(noop);
        let (waker, counter) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut reply).poll(&mut cx).is_pending());
        drop(ticket);
        assert_eq!(counter.wakes(), 1);
        assert!(matches!(
            Pin::new(&mut reply).poll(&mut cx),
            Poll::Ready(Err(Error::WriterStopped))
        ));
    }

    #[test]
    fn the_first_answer_wins_and_the_caller_is_woken_by_whoever_gives_it() {
        let (ticket, mut reply) = request(noop);
        let (waker, counter) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut reply).poll(&mut cx).is_pending());
        let mut wakers = Wakers::default();
        wakers.add(ticket.complete(Err(Error::Poisoned)));
        assert_eq!(counter.wakes(), 0, "woken before wake_all");
        wakers.wake_all();
        assert_eq!(counter.wakes(), 1);
        assert!(matches!(
            Pin::new(&mut reply).poll(&mut cx),
            Poll::Ready(Err(Error::Poisoned))
        ));
    }

    /// Requests joined to a group, each polled (so awaited by one task)
    /// before it joined or after.
    fn joined(
        requests: u8,
        polled_before: bool,
        cx: &mut Context<'_>,
    ) -> (GroupTicket, Vec<Held>, Vec<Reply<u8>>) {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        let (group, answer) = Group::new(requests.into());
        let (mut held, mut replies) = (Vec::new(), Vec::new());
        for n in 0..requests {
            let (ticket, mut reply) = request(move |_: &Tx<'_>| Ok(n));
            if polled_before {
                assert!(Pin::new(&mut reply).poll(cx).is_pending());
            }
            ticket.apply(&Tx::new(&txn)).unwrap();
            held.extend(ticket.join(&group));
            if !polled_before {
                assert!(Pin::new(&mut reply).poll(cx).is_pending());
            }
            replies.push(reply);
        }
        (answer, held, replies)
    }

    #[test]
    fn a_group_is_answered_once_and_each_caller_gets_its_own_output() {
        let (waker, counter) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let (answer, held, mut replies) = joined(16, false, &mut cx);
        held.into_iter().for_each(Held::release);
        assert_eq!(answer.requests(), 16);
        let mut wakers = Wakers::default();
        answer.settle(Ok(()), &mut wakers);
        assert_eq!(counter.wakes(), 0, "woken before wake_all");
        wakers.wake_all();
        assert_eq!(counter.wakes(), 1, "one task, one wake");
        for (n, reply) in replies.iter_mut().enumerate() {
            match Pin::new(reply).poll(&mut cx) {
                Poll::Ready(Ok(output)) => assert_eq!(usize::from(output), n),
                other => panic!("request {n}: {:?}", other.map(|r| r.err())),
            }
        }
    }

    #[test]
    fn a_group_dropped_unsettled_answers_writer_stopped_and_wakes() {
        let (waker, counter) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let (answer, _held, mut replies) = joined(3, true, &mut cx);
        drop(answer);
        assert_eq!(counter.wakes(), 1);
        for reply in &mut replies {
            assert!(matches!(
                Pin::new(reply).poll(&mut cx),
                Poll::Ready(Err(Error::WriterStopped))
            ));
        }
    }

    #[test]
    fn requests_awaited_by_one_task_wake_it_once() {
        let (waker, counter) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut wakers = Wakers::default();
        let mut replies = Vec::new();
        for _ in 0..16 {
            let (ticket, mut reply) = request(noop);
            assert!(Pin::new(&mut reply).poll(&mut cx).is_pending());
            wakers.add(ticket.complete(Err(Error::Poisoned)));
            replies.push(reply);
        }
        wakers.wake_all();
        assert_eq!(counter.wakes(), 1);
    }
}
