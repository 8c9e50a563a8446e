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

    /// A hold on the request's operation, to drop it once its group is
    /// committed and handed over (`Held::release`).
    pub(super) fn hold(&self) -> Option<Held> {
        self.0.clone().map(Held)
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
        let output = lock(&self.work).output.take();
        *slot = Slot::Ready(outcome.and_then(|()| {
            output
                .ok_or_else(|| Error::Database("internal: request committed without output".into()))
        }));
        waker
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

/// Wakes each task in `wakers` once (consecutive duplicates dropped when
/// collected: requests awaited together share their task's waker).
#[derive(Default)]
pub(super) struct Wakers(Vec<Waker>);

impl Wakers {
    /// Adds `waker` unless it wakes the same task as the last one added.
    pub(super) fn add(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if !self.0.last().is_some_and(|last| last.will_wake(&waker)) {
            self.0.push(waker);
        }
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
