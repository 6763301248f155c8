//! The load loops. Closed: `concurrency` callers, each sending its next
//! call as soon as the last one answers. Open: calls scheduled at a fixed
//! rate whatever the answers do, with the latency of each measured from its
//! scheduled instant (corrected for coordinated omission: a stall delays
//! every call queued behind it, and those delays are real latency a server
//! sending at that rate would see) as well as from the instant it was
//! actually sent (uncorrected). Both loops stop at whichever bound comes
//! first, the call count or the time, or when cancelled.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{histogram::Latencies, pacing::Clock};

/// One call of whatever is measured; resolves to the error text if it failed.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// Makes calls; shared by every concurrent caller of a loop.
pub type Caller = Arc<dyn Fn() -> CallFuture + Send + Sync>;

/// How calls are issued.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mode {
    /// Back to back, `concurrency` in flight.
    Closed { concurrency: usize },
    /// `rate` calls per second in all, spread over `concurrency` callers
    /// (so at most that many in flight).
    Open { rate: f64, concurrency: usize },
}

impl Mode {
    pub fn concurrency(self) -> usize {
        match self {
            Mode::Closed { concurrency } | Mode::Open { concurrency, .. } => concurrency.max(1),
        }
    }
}

/// Whichever comes first ends the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub calls: u64,
    pub duration: Duration,
}

/// What one loop measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Successful calls. In an open loop, from the scheduled instant.
    pub latencies: Latencies,
    /// Open loop only: the same calls timed from when they were sent.
    pub uncorrected: Option<Latencies>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Open loop only: calls due within the time bound that were never
    /// sent, because the answers fell so far behind the schedule.
    pub missed: u64,
}

impl Measured {
    /// Adds `other`'s calls to these.
    pub fn absorb(&mut self, other: Measured) {
        self.latencies.merge(&other.latencies);
        if let Some(theirs) = other.uncorrected {
            self.uncorrected
                .get_or_insert_with(Latencies::new)
                .merge(&theirs);
        }
        self.errors += other.errors;
        self.missed += other.missed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn failed(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }

    /// Every call that was sent, answered or not.
    pub fn calls(&self) -> u64 {
        self.latencies.count() + self.errors
    }
}

/// Runs `caller` in `mode` until `bounds` or `cancel` stop it.
pub async fn run<C: Clock>(
    caller: &Caller,
    mode: Mode,
    bounds: Bounds,
    clock: &C,
    cancel: &CancellationToken,
) -> Measured {
    if bounds.calls == 0 || bounds.duration.is_zero() {
        return Measured::default();
    }
    match mode {
        Mode::Closed { concurrency } => {
            closed(caller, concurrency.max(1), bounds, clock, cancel).await
        }
        Mode::Open { rate, concurrency } => {
            open(caller, rate, concurrency.max(1), bounds, clock, cancel).await
        }
    }
}

async fn closed<C: Clock>(
    caller: &Caller,
    concurrency: usize,
    bounds: Bounds,
    clock: &C,
    cancel: &CancellationToken,
) -> Measured {
    let end = clock.now() + bounds.duration;
    // Claimed before each call, so the count bound holds across callers.
    let claimed = Arc::new(AtomicU64::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (caller, clock, cancel, claimed) = (
            caller.clone(),
            clock.clone(),
            cancel.clone(),
            claimed.clone(),
        );
        workers.spawn(async move {
            let mut measured = Measured::default();
            while clock.now() < end && claimed.fetch_add(1, Ordering::Relaxed) < bounds.calls {
                let sent = clock.now();
                let Some(answer) = call_unless_cancelled(&caller, &cancel).await else {
                    break;
                };
                match answer {
                    Ok(()) => measured.latencies.record(clock.now() - sent),
                    Err(error) => measured.failed(error),
                }
            }
            measured
        });
    }
    gather(workers).await
}

async fn open<C: Clock>(
    caller: &Caller,
    rate: f64,
    concurrency: usize,
    bounds: Bounds,
    clock: &C,
    cancel: &CancellationToken,
) -> Measured {
    let start = clock.now();
    let end = start + bounds.duration;
    let scheduled = move |index: u64| start + Duration::from_secs_f64(index as f64 / rate);
    // Calls scheduled before the time bound, within the count bound; the
    // float estimate may be one off at the edge either way.
    let mut due = ((bounds.duration.as_secs_f64() * rate).ceil() as u64).min(bounds.calls);
    while due > 0 && scheduled(due - 1) >= end {
        due -= 1;
    }
    while due < bounds.calls && scheduled(due) < end {
        due += 1;
    }
    let mut workers = JoinSet::new();
    for first in 0..concurrency as u64 {
        let (caller, clock, cancel) = (caller.clone(), clock.clone(), cancel.clone());
        workers.spawn(async move {
            let mut measured = Measured {
                uncorrected: Some(Latencies::new()),
                ..Measured::default()
            };
            // Caller k takes calls k, k + C, k + 2C...: together they keep
            // the schedule, with at most C calls in flight.
            for index in (first..due).step_by(concurrency) {
                if clock.now() >= end {
                    break;
                }
                let intended = scheduled(index);
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => break,
                    () = clock.wait_until(intended) => {}
                }
                let sent = clock.now();
                let Some(answer) = call_unless_cancelled(&caller, &cancel).await else {
                    break;
                };
                let done = clock.now();
                match answer {
                    Ok(()) => {
                        measured.latencies.record(done - intended);
                        if let Some(uncorrected) = &mut measured.uncorrected {
                            uncorrected.record(done - sent);
                        }
                    }
                    Err(error) => measured.failed(error),
                }
            }
            measured
        });
    }
    let mut measured = gather(workers).await;
    if !cancel.is_cancelled() {
        measured.missed = due.saturating_sub(measured.calls());
    }
    measured
}

/// The call's answer, or `None` if the loop was cancelled first.
async fn call_unless_cancelled(
    caller: &Caller,
    cancel: &CancellationToken,
) -> Option<Result<(), String>> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        answer = caller() => Some(answer),
    }
}

async fn gather(mut workers: JoinSet<Measured>) -> Measured {
    let mut total = Measured::default();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(measured) => total.absorb(measured),
            Err(err) => total.failed(format!("a load worker failed: {err}")),
        }
    }
    total
}

/// Bounds split evenly over `rounds` (each round gets at least one call).
pub fn per_round(bounds: Bounds, rounds: usize) -> Bounds {
    let rounds = rounds.max(1) as u64;
    Bounds {
        calls: bounds.calls.div_ceil(rounds).max(1),
        duration: bounds.duration / rounds as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::histogram::Stat;
    use std::time::Instant;

    /// Tokio's paused clock: virtual time that jumps to the next timer, so
    /// the loops run their real logic without anything being timed.
    #[derive(Clone)]
    struct VirtualClock;

    impl Clock for VirtualClock {
        fn now(&self) -> Instant {
            tokio::time::Instant::now().into_std()
        }

        async fn wait_until(&self, deadline: Instant) {
            tokio::time::sleep_until(deadline.into()).await;
        }
    }

    /// Answers in 1 ms, except call number `stall_at`, which takes `stall`.
    fn stalling_responder(stall_at: u64, stall: Duration) -> Caller {
        let calls = Arc::new(AtomicU64::new(0));
        Arc::new(move || {
            let index = calls.fetch_add(1, Ordering::Relaxed);
            Box::pin(async move {
                let service = if index == stall_at {
                    stall
                } else {
                    Duration::from_millis(1)
                };
                tokio::time::sleep(service).await;
                Ok(())
            })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_corrects_for_a_stalled_responder() {
        // 100 calls/s against a responder that answers in 1 ms but stalls
        // for 500 ms on call 10: the 50-odd calls scheduled during the stall
        // waited too, which only the corrected histogram shows.
        let caller = stalling_responder(10, Duration::from_millis(500));
        let bounds = Bounds {
            calls: 100,
            duration: Duration::from_secs(60),
        };
        let mode = Mode::Open {
            rate: 100.0,
            concurrency: 1,
        };
        let measured = run(
            &caller,
            mode,
            bounds,
            &VirtualClock,
            &CancellationToken::new(),
        )
        .await;
        let uncorrected = measured.uncorrected.as_ref().unwrap();
        assert_eq!(measured.latencies.count(), 100);
        assert_eq!(uncorrected.count(), 100);
        assert_eq!((measured.errors, measured.missed), (0, 0));
        let slow = Duration::from_millis(100);
        // Uncorrected, only the stalled call itself was slow...
        assert_eq!(uncorrected.count_at_least(slow), 1);
        assert!(uncorrected.get(Stat::P99) < slow.as_nanos() as f64);
        // ...corrected, so were the 44 scheduled in its first 440 ms.
        assert!(measured.latencies.count_at_least(slow) >= 40);
        assert!(measured.latencies.get(Stat::P90) >= slow.as_nanos() as f64);
        assert!(measured.latencies.get(Stat::P50) > uncorrected.get(Stat::P50));
    }

    #[tokio::test(start_paused = true)]
    async fn closed_loop_stops_at_the_count_and_the_time_bound() {
        let caller = stalling_responder(u64::MAX, Duration::ZERO);
        let cancel = CancellationToken::new();
        let by_count = Bounds {
            calls: 25,
            duration: Duration::from_secs(3600),
        };
        let mode = Mode::Closed { concurrency: 3 };
        let measured = run(&caller, mode, by_count, &VirtualClock, &cancel).await;
        assert_eq!(measured.calls(), 25);
        assert!(measured.uncorrected.is_none());
        // 1 ms per call, 3 in flight, 100 ms: about 300 calls, never 10 000.
        let by_time = Bounds {
            calls: 10_000,
            duration: Duration::from_millis(100),
        };
        let measured = run(&caller, mode, by_time, &VirtualClock, &cancel).await;
        assert!(
            (250..=310).contains(&measured.calls()),
            "{}",
            measured.calls()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_loop_that_cannot_keep_up_counts_missed_calls() {
        // 1000 calls/s against 1 ms answers plus a 500 ms stall, for 1 s,
        // one in flight: the schedule never catches up again.
        let caller = stalling_responder(0, Duration::from_millis(500));
        let bounds = Bounds {
            calls: 1_000_000,
            duration: Duration::from_secs(1),
        };
        let mode = Mode::Open {
            rate: 1000.0,
            concurrency: 1,
        };
        let measured = run(
            &caller,
            mode,
            bounds,
            &VirtualClock,
            &CancellationToken::new(),
        )
        .await;
        assert!(measured.missed >= 400, "{measured:?}");
        assert_eq!(measured.calls() + measured.missed, 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_stops_a_loop_and_keeps_what_it_measured() {
        let caller = stalling_responder(5, Duration::from_secs(3600));
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            stop.cancel();
        });
        let bounds = Bounds {
            calls: 1_000,
            duration: Duration::from_secs(7200),
        };
        let measured = run(
            &caller,
            Mode::Closed { concurrency: 1 },
            bounds,
            &VirtualClock,
            &cancel,
        )
        .await;
        assert_eq!(measured.latencies.count(), 5);
        assert_eq!(measured.errors, 0);
    }

    #[test]
    fn bounds_split_over_rounds() {
        let bounds = Bounds {
            calls: 10,
            duration: Duration::from_secs(3),
        };
        assert_eq!(
            per_round(bounds, 3),
            Bounds {
                calls: 4,
                duration: Duration::from_secs(1)
            }
        );
        assert_eq!(per_round(bounds, 0).calls, 10);
    }
}
