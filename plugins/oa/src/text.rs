//! The plugin's own words, in the caller's language (`en` or `zh-CN`).

use qingguan_plugin_sdk::host;

/// `en` or `zh` by the caller's language.
pub fn t(en: &str, zh: &str) -> String {
    if host::context().locale == "zh-CN" {
        zh.to_string()
    } else {
        en.to_string()
    }
}
