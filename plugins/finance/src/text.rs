//! The plugin's own words, in the caller's language (`en` or `zh-CN`).

use qingguan_plugin_sdk::host;

/// Whether the current call speaks Chinese.
pub fn zh() -> bool {
    host::context().locale == "zh-CN"
}

/// `en` or `zh` by the caller's language.
pub fn t(en: &str, zh_text: &str) -> String {
    if zh() {
        zh_text.to_string()
    } else {
        en.to_string()
    }
}
