//! The results table.

/// One measured figure and its baseline.
#[derive(Debug)]
pub struct Row {
    group: String,
    name: String,
    value: f64,
    unit: String,
    baseline: Option<(String, f64)>,
    note: String,
}

/// All results of a run.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    pub fn new() -> Self {
        Report::default()
    }

    /// Adds a figure; `baseline` is `(what, value)` in the same unit.
    pub fn add(
        &mut self,
        group: &str,
        name: &str,
        value: f64,
        unit: &str,
        baseline: Option<(&str, f64)>,
        note: &str,
    ) {
        eprintln!("{group:8} {name}: {value:.3} {unit}");
        self.rows.push(Row {
            group: group.into(),
            name: name.into(),
            value,
            unit: unit.into(),
            baseline: baseline.map(|(w, v)| (w.to_string(), v)),
            note: note.into(),
        });
    }

    /// The table as markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::from("| group | benchmark | measured | baseline | ratio | notes |\n|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let (base, ratio) = match &r.baseline {
                Some((what, v)) => (
                    format!("{} {}: {}", what, fmt(*v), r.unit),
                    if *v > 0.0 {
                        format!("{:.2}", r.value / v)
                    } else {
                        "-".into()
                    },
                ),
                None => ("-".into(), "-".into()),
            };
            s.push_str(&format!(
                "| {} | {} | {} {} | {} | {} | {} |\n",
                r.group,
                r.name,
                fmt(r.value),
                r.unit,
                base,
                ratio,
                r.note
            ));
        }
        s
    }
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
