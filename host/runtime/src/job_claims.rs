//! Which jobs run in this process now, so that the scheduler and an administrator never run
//! the same job twice at once.

use std::collections::HashSet;
use std::sync::Mutex;

/// Jobs running in this process, so that the scheduler and an administrator do not run the
/// same job twice at once.
#[derive(Debug, Default)]
pub(crate) struct RunningJobs(Mutex<HashSet<(String, String)>>);

pub(crate) struct Claim<'a>(&'a RunningJobs, (String, String));

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0
             .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

impl RunningJobs {
    pub(crate) fn claim(&self, plugin: &str, job: &str) -> Option<Claim<'_>> {
        let key = (plugin.to_string(), job.to_string());
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(key.clone()).then(|| Claim(self, key))
    }
}
