//! Charts as SVG, drawn on the server: horizontal bars, a line through points in order, and a
//! pie — from labelled values. Text goes into the page's template, which escapes it; the
//! shapes are numbers this module computes.

use serde_json::{json, Value as Json};

/// One point of a chart: what it is called, its value, and the value as the reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The group's label.
    pub label: String,
    /// Its value.
    pub value: f64,
    /// Its value as text (the store's exact decimal, a count).
    pub shown: String,
}

const WIDTH: f64 = 480.0;
const COLOURS: [&str; 8] = [
    "#3f6fb5", "#e07b39", "#4c9f70", "#c0504d", "#8064a2", "#4bacc6", "#9b8b2e", "#7f7f7f",
];

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Bars, one row per point, as long as their share of the largest magnitude.
pub fn bars(points: &[Point]) -> Json {
    let max = points.iter().map(|p| p.value.abs()).fold(0.0, f64::max);
    let rows: Vec<Json> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let width = if max > 0.0 {
                round1(p.value.abs() / max * 240.0)
            } else {
                0.0
            };
            json!({"label": p.label, "shown": p.shown, "y": i * 28 + 4, "width": width,
                   "colour": if p.value < 0.0 { "#c0504d" } else { COLOURS[0] }})
        })
        .collect();
    json!({"kind": "bar", "height": points.len() * 28 + 8, "bars": rows})
}

/// A line through the points in order, over a zero-based scale.
pub fn line(points: &[Point]) -> Json {
    let (height, top, bottom) = (220.0, 16.0, 180.0);
    let max = points.iter().map(|p| p.value).fold(0.0, f64::max);
    let min = points.iter().map(|p| p.value).fold(0.0, f64::min);
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let step = if points.len() > 1 {
        (WIDTH - 80.0) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let dots: Vec<Json> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = round1(40.0 + step * i as f64);
            let y = round1(bottom - (p.value - min) / span * (bottom - top));
            json!({"x": x, "y": y, "label": p.label, "shown": p.shown})
        })
        .collect();
    let path = dots
        .iter()
        .map(|d| format!("{},{}", d["x"], d["y"]))
        .collect::<Vec<_>>()
        .join(" ");
    json!({"kind": "line", "height": height, "path": path, "dots": dots, "axis": bottom})
}

/// A pie of the points' shares; `None` when a value is negative or all are zero (a pie cannot
/// show them).
pub fn pie(points: &[Point]) -> Option<Json> {
    if points.iter().any(|p| p.value < 0.0) {
        return None;
    }
    let total: f64 = points.iter().map(|p| p.value).sum();
    if total <= 0.0 {
        return None;
    }
    let (cx, cy, r) = (110.0, 110.0, 100.0);
    let mut angle = -std::f64::consts::FRAC_PI_2;
    let mut slices = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let share = p.value / total;
        let colour = COLOURS[i % COLOURS.len()];
        let percent = format!("{:.1}%", share * 100.0);
        if share >= 0.999_999 {
            slices.push(
                json!({"circle": true, "cx": cx, "cy": cy, "r": r, "colour": colour,
                "label": p.label, "shown": p.shown, "percent": percent}),
            );
            continue;
        }
        let end = angle + share * std::f64::consts::TAU;
        let (x1, y1) = (cx + r * angle.cos(), cy + r * angle.sin());
        let (x2, y2) = (cx + r * end.cos(), cy + r * end.sin());
        let large = i32::from(share > 0.5);
        let d = format!(
            "M{cx},{cy} L{},{} A{r},{r} 0 {large} 1 {},{} Z",
            round1(x1),
            round1(y1),
            round1(x2),
            round1(y2)
        );
        slices.push(
            json!({"d": d, "colour": colour, "label": p.label, "shown": p.shown,
            "percent": percent}),
        );
        angle = end;
    }
    Some(json!({"kind": "pie", "height": 220, "slices": slices}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(label: &str, value: f64) -> Point {
        Point {
            label: label.into(),
            value,
            shown: value.to_string(),
        }
    }

    #[test]
    fn shapes_follow_the_values() {
        let b = bars(&[p("a", 50.0), p("b", 100.0), p("c", -25.0)]);
        assert_eq!(b["bars"][0]["width"], 120.0);
        assert_eq!(b["bars"][1]["width"], 240.0);
        assert_eq!(b["bars"][2]["width"], 60.0);
        assert_eq!(b["bars"][2]["colour"], "#c0504d");
        let l = line(&[p("jan", 0.0), p("feb", 10.0)]);
        assert_eq!(l["dots"][0]["y"], 180.0);
        assert_eq!(l["dots"][1]["y"], 16.0);
        assert_eq!(l["path"], "40.0,180.0 440.0,16.0");
        let pie_ = pie(&[p("a", 1.0), p("b", 3.0)]).unwrap();
        assert_eq!(pie_["slices"][0]["percent"], "25.0%");
        assert_eq!(pie_["slices"][1]["percent"], "75.0%");
        assert_eq!(
            pie_["slices"][0]["d"], "M110,110 L110,10 A100,100 0 0 1 210,110 Z",
            "a quarter from twelve o'clock"
        );
        assert!(pie(&[p("a", 1.0), p("b", -1.0)]).is_none());
        assert!(pie(&[p("a", 0.0)]).is_none());
        assert_eq!(pie(&[p("all", 5.0)]).unwrap()["slices"][0]["circle"], true);
    }
}
