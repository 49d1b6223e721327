//! Small helpers for plugin pages: HTML escaping and a horizontal bar chart in inline SVG
//! (plugin pages cannot run scripts, so charts are drawn on the server).

use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values.
///
/// ```
/// use qingguan_plugin_sdk::html::escape;
/// assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A titled horizontal bar chart: one `(label, value, caption)` row per bar, bars scaled to
/// the largest value; labels and captions are escaped.
///
/// ```
/// use qingguan_plugin_sdk::html::bars;
/// let svg = bars("Deals", &[("Ann".into(), 3.0, "3".into()), ("<b>".into(), 1.0, "1".into())]);
/// assert!(svg.contains("<svg") && svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
/// ```
pub fn bars(title: &str, rows: &[(String, f64, String)]) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0);
    let h = 28 * rows.len().max(1) + 36;
    let title = escape(title);
    let mut s = format!(
        "<figure class=\"chart\"><figcaption>{title}</figcaption><svg viewBox=\"0 0 480 {h}\" role=\"img\" aria-label=\"{title}\">"
    );
    for (i, (label, v, cap)) in rows.iter().enumerate() {
        let y = 10 + i * 28;
        let w = (v / max * 260.0).max(1.0);
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"130\" y=\"{y}\" width=\"{w:.1}\" height=\"18\" fill=\"#3f6fb5\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 14,
            escape(label),
            136.0 + w,
            y + 14,
            escape(cap)
        );
    }
    s.push_str("</svg></figure>");
    s
}
