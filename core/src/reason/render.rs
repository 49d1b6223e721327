//! Saying a reason in a locale: the English sentence or the Chinese one, one reason or a
//! field-error map, and serialising a reason as its English sentence.

use super::{zh, Reason};
use crate::error::FieldErrors;
use crate::schema::Locale;
use std::collections::BTreeMap;

impl Reason {
    /// Free text (see [`Reason::Text`]).
    pub fn text(s: impl Into<String>) -> Self {
        Reason::Text(s.into())
    }

    /// The reason in `locale`: English is the `Display` sentence; Chinese is written in
    /// `zh.rs`, for every reason. Free text ([`Reason::Text`], a plugin's words) passes
    /// through unchanged. The edges (API, UI, plugin host) choose the locale.
    pub fn render(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.to_string(),
            Locale::ZhCn => zh::render(self),
        }
    }
}

/// Every reason of a field-error map in `locale`, for an API body, a form or a plugin.
pub fn render_fields(errors: &FieldErrors, locale: Locale) -> BTreeMap<String, String> {
    errors
        .iter()
        .map(|(k, r)| (k.clone(), r.render(locale)))
        .collect()
}

/// Serialises as the English sentence, so that a `FieldErrors` map still reads
/// `{"field": "why"}`. An edge that knows the user's locale should render the reason itself.
impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
