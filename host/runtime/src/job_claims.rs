//! Which jobs run in this process now, so that the scheduler and an administrator never run
//! the same job twice at once. A claim is owned: it moves with a run to the thread doing it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

type Claimed = Arc<Mutex<HashSet<(String, String)>>>;

/// Jobs running in this process.
#[derive(Debug, Default)]
pub(crate) struct RunningJobs(Claimed);

/// A job claimed for one run; released when dropped.
#[derive(Debug)]
pub(crate) struct Claim(Claimed, (String, String));

impl Drop for Claim {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

impl RunningJobs {
    /// Whether a job runs in this process now.
    pub(crate) fn is_running(&self, plugin: &str, job: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(plugin.to_string(), job.to_string()))
    }

    /// Claims a job, unless it is running already.
    pub(crate) fn claim(&self, plugin: &str, job: &str) -> Option<Claim> {
        let key = (plugin.to_string(), job.to_string());
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(key.clone()).then(|| Claim(self.0.clone(), key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_claimed_once_until_released() {
        let jobs = RunningJobs::default();
        let first = jobs.claim("p", "j").expect("free");
        assert!(jobs.claim("p", "j").is_none());
        assert!(jobs.claim("p", "other").is_some());
        drop(first);
        assert!(jobs.claim("p", "j").is_some());
    }
}
