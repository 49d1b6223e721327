//! Group commit's unit tests: who shares a commit, what each call is told, and the writer's
//! held time (`group_commit.rs`).

use super::SeqCst;
use crate::plugins::KvQuota;
use crate::store::tests::store;
use crate::{CallScope, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

const Q: KvQuota = KvQuota {
    keys: 100,
    bytes: 10_000,
};

/// Waits until `done` holds; fails with `what` after 20 s.
fn until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "{what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until `n` calls wait for the writer.
fn until_waiting(s: &Store, n: usize) {
    until("no call came to wait", || s.group.waiting.load(SeqCst) == n);
}

fn value(s: &Store, key: &str) -> Option<Vec<u8>> {
    s.kv_get("p", key).unwrap()
}

/// A call on another thread (a bulk one with `alone`) that writes `key` and then ends as
/// `end` says; started while this thread holds the writer, it comes to wait for it.
fn call_on_another_thread(
    s: &Arc<Store>,
    key: &'static str,
    alone: bool,
    end: impl FnOnce(CallScope<'_>) -> crate::Result<()> + Send + 'static,
) -> std::thread::JoinHandle<crate::Result<()>> {
    let s = s.clone();
    std::thread::spawn(move || {
        let scope = if alone {
            s.begin_call_alone()
        } else {
            s.begin_call()
        }
        .unwrap();
        s.kv_set("p", key, b"2", Q).unwrap();
        end(scope)
    })
}

fn commit_in_order(scope: CallScope<'_>) -> crate::Result<()> {
    scope.finish(true)
}

#[test]
fn every_call_of_a_group_wakes_with_its_outcome_whenever_it_came_to_wait() {
    for end in [Ok(()), Err("disk full".to_string())] {
        let group = Arc::new(super::Group::default());
        let (came, arrived) = std::sync::mpsc::channel();
        let sleepers: Vec<_> = (0..12)
            .map(|_| {
                let (group, came) = (group.clone(), came.clone());
                std::thread::spawn(move || {
                    came.send(()).unwrap();
                    group.wait()
                })
            })
            .collect();
        for _ in 0..12 {
            arrived.recv().unwrap();
        }
        // Most are asleep by now; a late one may not be: either way it sees the end.
        std::thread::sleep(Duration::from_millis(20));
        group.settle(end.clone());
        for sleeper in sleepers {
            let got = sleeper.join().unwrap().map_err(|e| e.to_string());
            assert_eq!(got.is_ok(), end.is_ok(), "{got:?}");
            if let Err(why) = got {
                assert!(why.contains("disk full"), "{why}");
            }
        }
        let after = group.wait().map_err(|e| e.to_string());
        assert_eq!(
            after.is_ok(),
            end.is_ok(),
            "a call waiting after the end returns at once"
        );
    }
}

#[test]
fn a_group_is_told_when_its_teller_is_dropped_even_in_a_panic() {
    let group = Arc::new(super::Group::default());
    let sleeper = {
        let group = group.clone();
        std::thread::spawn(move || group.wait())
    };
    let tell = super::Tell(Some((group, Err("unwound".into()))));
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _tell = tell;
        panic!("between the writer's release and the telling");
    }));
    assert!(unwound.is_err());
    let got = sleeper.join().unwrap().map_err(|e| e.to_string());
    assert!(got.is_err_and(|e| e.contains("unwound")));
}

#[test]
fn the_writer_is_counted_as_held_from_a_calls_first_write_to_its_end() {
    let (_place, s) = store();
    let before = s.writer_held();
    let reads_only = s.begin_call().unwrap();
    value(&s, "k");
    reads_only.finish(true).unwrap();
    assert_eq!(
        s.writer_held(),
        before,
        "a call that only reads holds nothing"
    );

    let call = s.begin_call().unwrap();
    // Before its first write the call holds nothing: this wait is not counted (the bound
    // below fails if it is).
    std::thread::sleep(Duration::from_millis(300));
    let writing = Instant::now();
    s.kv_set("p", "k", b"1", Q).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    call.finish(true).unwrap();
    let at_most = writing.elapsed();
    let held = s.writer_held() - before;
    assert!(held >= Duration::from_millis(20), "held {held:?}");
    assert!(
        held <= at_most,
        "counted beyond the first write and the end ({held:?} > {at_most:?}): the wait before it was"
    );
}

#[test]
fn a_call_ending_while_another_waits_shares_that_calls_commit() {
    let (_place, s) = store();
    let s = Arc::new(s);
    let alone = s.begin_call().unwrap();
    s.kv_set("p", "alone", b"1", Q).unwrap();
    let before = s.commit_groups();
    alone.finish(true).unwrap();
    let after = s.commit_groups();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 1),
        "no one waited"
    );

    let first = s.begin_call().unwrap();
    s.kv_set("p", "first", b"1", Q).unwrap();
    let second = call_on_another_thread(&s, "second", false, commit_in_order);
    until_waiting(&s, 1);
    let before = s.commit_groups();
    // The second call waits for the writer: the first leaves the transaction to it and
    // returns once the second has committed both.
    first.finish(true).unwrap();
    // Woken only once the second call had let go of the writer: it is free now.
    assert!(
        s.writer.try_lock().is_some(),
        "woken while the writer was still held"
    );
    assert_eq!(value(&s, "first").unwrap(), b"1");
    assert_eq!(
        value(&s, "second").unwrap(),
        b"2",
        "committed with the first"
    );
    let after = s.commit_groups();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 2),
        "one commit"
    );
    second.join().unwrap().unwrap();
}

#[test]
fn a_joining_call_that_fails_or_dies_undoes_only_its_own_part() {
    for dies in [false, true] {
        let (_place, s) = store();
        let s = Arc::new(s);
        let first = s.begin_call().unwrap();
        s.kv_set("p", "first", b"1", Q).unwrap();
        let (wrote, seen) = (std::sync::mpsc::channel(), std::sync::mpsc::channel());
        let observer = {
            let s = s.clone();
            std::thread::spawn(move || {
                wrote.1.recv().unwrap();
                // The first call has ended but its write waits in the open transaction.
                let first = value(&s, "first");
                seen.0.send(()).unwrap();
                first
            })
        };
        let (wrote, seen) = (wrote.0, seen.1);
        let second = call_on_another_thread(&s, "second", false, move |scope| {
            wrote.send(()).unwrap();
            seen.recv().unwrap();
            if dies {
                drop(scope); // as a panic would
                Ok(())
            } else {
                scope.finish(false)
            }
        });
        until_waiting(&s, 1);
        first.finish(true).unwrap();
        second.join().unwrap().unwrap();
        assert_eq!(
            observer.join().unwrap(),
            None,
            "the first call left its commit to the second"
        );
        assert_eq!(
            value(&s, "first").unwrap(),
            b"1",
            "the first call's part is kept"
        );
        assert_eq!(
            value(&s, "second"),
            None,
            "the failed call's part is undone"
        );
        // The writer is free and the store writes on.
        s.kv_set("p", "later", b"3", Q).unwrap();
        assert_eq!(value(&s, "later").unwrap(), b"3");
    }
}

#[test]
fn a_write_outside_any_call_commits_a_transaction_left_open() {
    for in_transaction in [false, true] {
        left_open_then(in_transaction);
    }
}

fn left_open_then(in_transaction: bool) {
    let (_place, s) = store();
    let s = Arc::new(s);
    // A call ends while a caller seems to wait (it never comes): its transaction stays
    // open and it waits for the commit.
    s.group.waiting.fetch_add(1, SeqCst);
    let first = call_on_another_thread(&s, "first", false, commit_in_order);
    until("never left open", || {
        s.group
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    });
    s.group.waiting.fetch_sub(1, SeqCst);
    assert_eq!(value(&s, "first"), None, "not committed yet");
    assert!(!first.is_finished(), "the call waits for its commit");
    // A write of its own (no call scope), or a transaction, commits what was left open
    // first.
    if in_transaction {
        s.transaction(|| s.kv_set("p", "plain", b"2", Q)).unwrap();
    } else {
        s.kv_set("p", "plain", b"2", Q).unwrap();
    }
    first.join().unwrap().unwrap();
    assert_eq!(value(&s, "first").unwrap(), b"2");
    assert_eq!(value(&s, "plain").unwrap(), b"2");
}

#[test]
fn a_call_alone_never_joins_a_group() {
    let (_place, s) = store();
    let s = Arc::new(s);
    let first = s.begin_call().unwrap();
    s.kv_set("p", "first", b"1", Q).unwrap();
    let bulk = call_on_another_thread(&s, "bulk", true, commit_in_order);
    until_waiting(&s, 1);
    let before = s.commit_groups();
    first.finish(true).unwrap();
    bulk.join().unwrap().unwrap();
    let after = s.commit_groups();
    // The first call left its transaction open for the call alone, which committed it before
    // beginning its own: two commits of one call each.
    assert_eq!((after.0 - before.0, after.1 - before.1), (2, 2));
    assert_eq!(value(&s, "bulk").unwrap(), b"2");

    // Nor does a call alone leave its own transaction open for a call that waits.
    let bulk = s.begin_call_alone().unwrap();
    s.kv_set("p", "bulk again", b"3", Q).unwrap();
    let short = call_on_another_thread(&s, "short", false, commit_in_order);
    until_waiting(&s, 1);
    let before = s.commit_groups();
    bulk.finish(true).unwrap();
    let committed_alone = s.commit_groups();
    assert_eq!(
        (committed_alone.0 - before.0, committed_alone.1 - before.1),
        (1, 1)
    );
    assert_eq!(
        value(&s, "bulk again").unwrap(),
        b"3",
        "committed on return"
    );
    short.join().unwrap().unwrap();
}

/// The line's state: whether a call has its turn, and how many sleep waiting for theirs.
fn line(s: &Store) -> (bool, usize) {
    *s.group.line.state.lock().unwrap()
}

/// Waits until the line is in `state`.
fn until_line(s: &Store, state: (bool, usize)) {
    until(&format!("the line never came to {state:?}"), || {
        line(s) == state
    });
}

/// A call on another thread that writes `key` and holds its part open: the first receiver
/// hears once it has written (it holds the writer), the sender ends it.
type HeldCall = (
    std::thread::JoinHandle<crate::Result<()>>,
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
);

fn call_held_open(s: &Arc<Store>, key: &'static str) -> HeldCall {
    let (wrote, has_written) = std::sync::mpsc::channel();
    let (end, may_end) = std::sync::mpsc::channel::<()>();
    let call = call_on_another_thread(s, key, false, move |scope| {
        wrote.send(()).unwrap();
        may_end.recv().unwrap();
        scope.finish(true)
    });
    (call, has_written, end)
}

#[test]
fn the_call_first_in_line_keeps_its_turn_while_it_holds_the_writer() {
    let (_place, s) = store();
    let s = Arc::new(s);
    let (first, first_wrote, end_first) = call_held_open(&s, "first");
    first_wrote.recv().unwrap();
    let (second, second_wrote, end_second) = call_held_open(&s, "second");
    until_waiting(&s, 1);
    until_line(&s, (true, 0));
    let third = call_on_another_thread(&s, "third", false, commit_in_order);
    until_waiting(&s, 2);
    until_line(&s, (true, 1));
    // The first call leaves its transaction to the second, which takes the writer; the
    // second holds it past the group's time for taking more calls, so that it commits the
    // first two and the third commits alone.
    end_first.send(()).unwrap();
    second_wrote.recv().unwrap();
    std::thread::sleep(super::MOST_WAIT + Duration::from_millis(30));
    assert_eq!(
        line(&s),
        (true, 1),
        "the third call sleeps in line while the second holds the writer"
    );
    assert_eq!(s.group.waiting.load(SeqCst), 1);
    let before = s.commit_groups();
    end_second.send(()).unwrap();
    for call in [first, second, third] {
        call.join().unwrap().unwrap();
    }
    for key in ["first", "second", "third"] {
        assert_eq!(value(&s, key).unwrap(), b"2", "{key}");
    }
    let after = s.commit_groups();
    assert_eq!((after.0 - before.0, after.1 - before.1), (2, 3));
    assert_eq!(line(&s), (false, 0), "the turn was given back");
}
