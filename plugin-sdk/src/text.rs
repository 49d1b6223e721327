//! A plugin's own words in the caller's language (`en` or `zh-CN`), so a plugin need not
//! write the same locale check again.

use crate::host;

/// Whether the current call speaks Chinese (`host::context().locale` is `zh-CN`).
///
/// ```no_run
/// # use qingguan_plugin_sdk::text;
/// let unit = if text::zh() { "件" } else { "pcs" };
/// ```
pub fn zh() -> bool {
    host::context().locale == "zh-CN"
}

/// `en` or `zh_text`, by the current call's language.
///
/// ```no_run
/// # use qingguan_plugin_sdk::text::t;
/// let title = t("Stock levels", "库存");
/// ```
pub fn t(en: &str, zh_text: &str) -> String {
    if zh() {
        zh_text.to_string()
    } else {
        en.to_string()
    }
}
