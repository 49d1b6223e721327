//! Install settings kept in memory once read (time zone, currency, default language), with
//! the number of times they were forgotten: a read begun before a change is not kept.

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
