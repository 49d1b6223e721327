//! Pieces of the plugin's report pages.

use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::Value;

/// A table row of `cells` read from `row` (text fields; missing ones empty), escaped.
pub fn row(row: &Value, cells: &[&str]) -> String {
    let mut s = String::from("<tr>");
    for c in cells {
        s.push_str("<td>");
        s.push_str(&esc(row[*c].as_str().unwrap_or("")));
        s.push_str("</td>");
    }
    s.push_str("</tr>");
    s
}
