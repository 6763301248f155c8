//! Clocks for the load loops. An open loop must send each call at its
//! scheduled instant, to the microsecond: tokio's timer wheel ticks in
//! milliseconds and may fire a tick late, which would bunch calls and add
//! up to a millisecond of pacing error to every latency. [`PreciseClock`]
//! uses the runtime timer only for the bulk of a wait, then a thread sleep
//! with the kernel's timer slack lowered, then a short spin.

use std::{
    cell::Cell,
    future::Future,
    time::{Duration, Instant},
};

use tokio::runtime::{Handle, RuntimeFlavor};

/// Where the time comes from: real in a run, virtual in tests (a paused
/// tokio clock), so the loops' logic is checked without timing anything.
pub trait Clock: Clone + Send + Sync + 'static {
    fn now(&self) -> Instant;
    /// Returns at `deadline` (or at once if it has passed).
    fn wait_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send;
}

/// Waits longer than this go to the runtime's millisecond timer first.
const COARSE_MARGIN: Duration = Duration::from_millis(2);
/// The last stretch of a wait is spun: a thread sleep can overshoot by
/// tens of microseconds even with the slack lowered.
const SPIN: Duration = Duration::from_micros(40);

/// The real clock, paced to microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreciseClock;

impl Clock for PreciseClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    async fn wait_until(&self, deadline: Instant) {
        if let Some(early) = deadline.checked_sub(COARSE_MARGIN)
            && early > Instant::now()
        {
            tokio::time::sleep_until(early.into()).await;
        }
        if Instant::now() >= deadline {
            return;
        }
        let multi_thread = Handle::try_current()
            .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
        if multi_thread {
            // Blocking this worker is fine for ≤ 2 ms: block_in_place hands
            // its other tasks (the calls in flight) to another thread.
            tokio::task::block_in_place(|| fine_wait(deadline));
        } else {
            // A single-threaded runtime has no one to hand tasks to: yield
            // between checks so they keep running.
            while Instant::now() < deadline {
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Sleeps the thread until just before `deadline`, then spins to it.
fn fine_wait(deadline: Instant) {
    lower_timer_slack();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let left = deadline - now;
        if left > SPIN {
            std::thread::sleep(left - SPIN);
        } else {
            while Instant::now() < deadline {
                std::hint::spin_loop();
            }
            return;
        }
    }
}

/// Linux lets a sleeping thread wake up to 50 µs late by default (timer
/// slack, for power saving); 1 ns makes the sleep as exact as the
/// hardware timer. Per thread, so done once on each.
fn lower_timer_slack() {
    thread_local! {
        static LOWERED: Cell<bool> = const { Cell::new(false) };
    }
    LOWERED.with(|lowered| {
        if !lowered.get() {
            // Failure only costs precision, which the spin then makes up.
            let _ = nix::sys::prctl::set_timerslack(1);
            lowered.set(true);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn precise_waits_never_return_early() {
        let clock = PreciseClock;
        for micros in [0, 30, 500, 2_500] {
            let deadline = clock.now() + Duration::from_micros(micros);
            clock.wait_until(deadline).await;
            assert!(clock.now() >= deadline);
        }
    }

    #[tokio::test]
    async fn on_a_single_thread_waits_still_end_at_the_deadline() {
        let clock = PreciseClock;
        let deadline = clock.now() + Duration::from_micros(300);
        clock.wait_until(deadline).await;
        assert!(clock.now() >= deadline);
    }
}
