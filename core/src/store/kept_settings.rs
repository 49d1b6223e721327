//! Install settings kept in memory once read (time zone, currency, default language), with
//! the number of times they were forgotten: a read begun before a change is not kept.

use super::Store;
use crate::schema::Locale;

/// Install settings once read, with the number of times they were forgotten.
#[derive(Debug, Default)]
pub(crate) struct KeptSettings {
    pub(crate) generation: u64,
    /// `Some(None)`: no time zone set.
    pub(crate) time_zone: Option<Option<i32>>,
    pub(crate) currency: Option<&'static str>,
    pub(crate) locale: Option<Locale>,
}

impl KeptSettings {
    /// Empties it; reads begun before are not kept.
    pub(crate) fn forget(&mut self) {
        *self = KeptSettings {
            generation: self.generation.wrapping_add(1),
            ..KeptSettings::default()
        };
    }
}

/// The settings kept in memory around transactions that change them.
impl Store {
    /// Forgets the settings kept in memory (time zone, company currency, default language):
    /// they are read again when next asked, and a read begun before is not kept. Inside a
    /// transaction (a setting changed), this thread's reads skip them until it ends.
    pub(crate) fn forget_settings(&self) {
        if self.in_batch_here() {
            *self
                .settings_changed_by
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(std::thread::current().id());
        }
        self.settings_cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .forget();
    }

    /// At the end of this thread's transaction, while it still holds the writer: if it
    /// changed a setting, the settings are forgotten (others may have kept the value before
    /// the change meanwhile), and its reads use them again.
    pub(crate) fn settings_after_transaction(&self) {
        let mut by = self
            .settings_changed_by
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *by == Some(std::thread::current().id()) {
            *by = None;
            drop(by);
            self.settings_cache
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .forget();
        }
    }

    /// Whether this thread's open transaction changed a setting.
    pub(crate) fn settings_changed_here(&self) -> bool {
        *self
            .settings_changed_by
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            == Some(std::thread::current().id())
    }

    /// The settings kept in memory hold what this thread would read: outside a transaction,
    /// or inside one that has changed no setting (the writer is held, so no one else changes
    /// them meanwhile).
    pub(crate) fn settings_cacheable(&self) -> bool {
        !self.in_batch_here()
            || *self
                .settings_changed_by
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                != Some(std::thread::current().id())
    }
}
