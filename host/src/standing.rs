//! What health says of this host beside the others — in sync as of when, how many hosts —,
//! kept by the change poll and the heartbeat (`peers.rs`) so that health answers from memory:
//! health answers anyone, and so reads nothing from the database.

use chrono::{DateTime, Utc};

/// This host beside the others, as its last change poll and heartbeat found it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Standing {
    /// When the last poll read the database, and the topics it left unhandled (a reload that
    /// failed; the next poll tries again). `None` until the first poll has read it.
    pub(crate) polled: Option<(DateTime<Utc>, Vec<&'static str>)>,
    /// Whether the last poll could read the database at all.
    pub(crate) poll_failed: bool,
    /// Hosts serving the database, as this host last counted them (at joining, then with
    /// every heartbeat).
    pub(crate) hosts: Option<usize>,
}

/// A last poll older than this says the poll is stuck (a hung reload or connection): the host
/// is not in sync, whatever that poll found.
pub(crate) const STALE: std::time::Duration = std::time::Duration::from_secs(5);

impl Standing {
    /// Whether this host had picked up every change committed before its last poll — made
    /// within [`STALE`] of `now` —, and what it had not.
    pub(crate) fn in_sync(&self, now: DateTime<Utc>) -> (bool, Vec<&'static str>) {
        let recent = |at: &DateTime<Utc>| {
            now.signed_duration_since(*at)
                .to_std()
                .map_or(true, |age| age <= STALE)
        };
        match &self.polled {
            Some((at, behind)) if !self.poll_failed && recent(at) => {
                (behind.is_empty(), behind.clone())
            }
            Some((_, behind)) => (false, behind.clone()),
            None => (false, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_sync_only_after_a_poll_that_read_the_database_and_handled_all_it_found() {
        let now = Utc::now();
        let mut s = Standing::default();
        assert_eq!(s.in_sync(now), (false, vec![]), "not polled yet");
        s.polled = Some((now, vec!["plugins"]));
        assert_eq!(s.in_sync(now), (false, vec!["plugins"]), "a reload failed");
        s.polled = Some((now, vec![]));
        assert_eq!(s.in_sync(now), (true, vec![]));
        let later = now + chrono::Duration::seconds(6);
        assert_eq!(s.in_sync(later), (false, vec![]), "the poll is stuck");
        s.poll_failed = true;
        assert_eq!(
            s.in_sync(now),
            (false, vec![]),
            "the last poll could not read the database"
        );
    }
}
