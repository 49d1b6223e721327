//! Waiting in tests for what a server does in its own time: polled against a deadline, never
//! slept for a fixed while (a slow, busy machine outlasts any fixed sleep).

use std::time::{Duration, Instant};

/// Polls `done` every 50 ms until it holds; fails the test, naming `what`, after 30 s.
pub fn until(what: &str, done: impl FnMut() -> bool) {
    until_within(what, Duration::from_secs(30), done)
}

/// [`until`] with a deadline of `limit`.
pub fn until_within(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "never within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_that_comes_true_ends_the_wait() {
        let mut polls = 0;
        until("the third poll", || {
            polls += 1;
            polls == 3
        });
        assert_eq!(polls, 3);
    }

    #[test]
    #[should_panic(expected = "never within 200ms: nothing")]
    fn a_condition_that_never_comes_true_fails_the_test_at_the_deadline() {
        until_within("nothing", Duration::from_millis(200), || false);
    }
}
