//! Turning [`Measurement`]s into a ratio table, JSON and an SVG chart.

use std::fmt::Write as _;

use whatsapp_rust_conformance::storage::bench::Measurement;

/// The column a figure goes in: the store's name, except that raw redb runs
/// in both durabilities and its non-durable figures go in `redb-raw-nosync`.
pub fn column(m: &Measurement) -> String {
    if m.backend == "redb-raw" && !m.durability.starts_with("fsync") {
        "redb-raw-nosync".into()
    } else {
        m.backend.clone()
    }
}

fn columns(results: &[Measurement]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for m in results {
        let c = column(m);
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    cols
}

fn workloads(results: &[Measurement]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in results {
        if !names.contains(&m.workload) {
            names.push(m.workload.clone());
        }
    }
    names
}

/// Ops/s of `workload` in `col`, if measured.
pub fn figure(results: &[Measurement], workload: &str, col: &str) -> Option<f64> {
    results
        .iter()
        .find(|m| m.workload == workload && column(m) == col)
        .map(|m| m.ops_per_sec)
}

/// The ratios the table prints: (label, numerator column, denominator column).
pub const RATIOS: [(&str, &str, &str); 5] = [
    ("redb/sqlite", "redb", "sqlite"),
    ("pcs/sqlite", "redb-pcs", "sqlite"),
    ("relaxed/sqlite", "redb-relaxed", "sqlite"),
    ("redb/raw", "redb", "redb-raw"),
    ("relaxed/raw", "redb-relaxed", "redb-raw-nosync"),
];

/// A ratio of two columns for one workload, if both were measured.
pub fn ratio(results: &[Measurement], workload: &str, num: &str, den: &str) -> Option<f64> {
    Some(figure(results, workload, num)? / figure(results, workload, den)?)
}

fn human(v: f64) -> String {
    if v >= 10_000_000.0 {
        format!("{:.0}M", v / 1e6)
    } else if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 1_000.0 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The side-by-side table: ops/s (rows/s for batches) per store, then the
/// ratios in [`RATIOS`], then each store's durability.
pub fn table(results: &[Measurement]) -> String {
    let cols = columns(results);
    let mut out = format!("{:<24}", "workload");
    for c in &cols {
        let _ = write!(out, "{c:>16}");
    }
    for (label, ..) in RATIOS {
        let _ = write!(out, "{label:>15}");
    }
    out.push('\n');
    for w in workloads(results) {
        let _ = write!(out, "{w:<24}");
        for c in &cols {
            let cell = figure(results, &w, c).map_or("-".into(), human);
            let _ = write!(out, "{cell:>16}");
        }
        for (_, num, den) in RATIOS {
            let cell = ratio(results, &w, num, den).map_or("-".into(), |r| format!("{r:.2}x"));
            let _ = write!(out, "{cell:>15}");
        }
        out.push('\n');
    }
    out.push_str("\ndurability:\n");
    for c in &cols {
        if let Some(m) = results.iter().find(|m| &column(m) == c) {
            let _ = writeln!(out, "  {c:<16} {}", m.durability);
        }
    }
    out
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#aec7e8", "#7f7f7f", "#c7c7c7", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal grouped bar chart of every figure, on a log scale, one group
/// per workload, one colour per store; `title` on top (e.g. the machine).
pub fn svg(results: &[Measurement], title: &str) -> String {
    let cols = columns(results);
    let names = workloads(results);
    let bar = 11.0;
    let gap = 10.0;
    let left = 190.0;
    let width = 1000.0;
    let plot = width - left - 90.0;
    let top = 70.0 + 18.0 * ((cols.len() as f64) / 3.0).ceil();
    let group = bar * cols.len() as f64 + gap;
    let height = top + group * names.len() as f64 + 40.0;
    let max = results.iter().map(|m| m.ops_per_sec).fold(1.0, f64::max);
    let decades = max.log10().ceil().max(1.0);
    let x = |v: f64| left + plot * (v.max(1.0).log10() / decades);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="40" fill="#555">operations per second (rows/s for batches), log scale; longer is faster</text>"##
    );
    for (i, c) in cols.iter().enumerate() {
        let lx = 10.0 + 330.0 * (i % 3) as f64;
        let ly = 58.0 + 18.0 * (i / 3) as f64;
        let label = results
            .iter()
            .find(|m| &column(m) == c)
            .map_or(c.clone(), |m| format!("{c}: {}", m.durability));
        let label: String = label.chars().take(52).collect();
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            ly - 10.0,
            COLORS[i % COLORS.len()],
            lx + 16.0,
            ly,
            escape(&label)
        );
    }
    for d in 0..=decades as i32 {
        let gx = x(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{:.0}" stroke="#ddd"/><text x="{gx:.1}" y="{:.0}" text-anchor="middle" fill="#555">1e{d}</text>"##,
            height - 30.0,
            height - 16.0
        );
    }
    for (g, w) in names.iter().enumerate() {
        let gy = top + group * g as f64;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            gy + group / 2.0,
            escape(w)
        );
        for (i, c) in cols.iter().enumerate() {
            if let Some(v) = figure(results, w, c) {
                let y = gy + bar * i as f64;
                let _ = writeln!(
                    s,
                    r#"<rect x="{left}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} on {c}: {v:.0}/s</title></rect><text x="{:.1}" y="{:.1}" font-size="9">{}</text>"#,
                    (x(v) - left).max(1.0),
                    bar - 1.0,
                    COLORS[i % COLORS.len()],
                    escape(w),
                    x(v) + 3.0,
                    y + bar - 2.5,
                    human(v)
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn m(workload: &str, backend: &str, durability: &str, v: f64) -> Measurement {
        Measurement {
            workload: workload.into(),
            backend: backend.into(),
            durability: durability.into(),
            ops_per_sec: v,
            runs: 1,
            elapsed: Duration::from_secs(1),
        }
    }

    #[test]
    fn ratios_json_and_chart() {
        let results = vec![
            m("put_session", "redb", "fsync before ack", 3000.0),
            m("put_session", "sqlite", "no fsync", 1500.0),
            m("put_session", "redb-raw", "fsync before ack", 4000.0),
            m(
                "put_session",
                "redb-raw",
                "crash may lose recent commits",
                70000.0,
            ),
        ];
        assert_eq!(ratio(&results, "put_session", "redb", "sqlite"), Some(2.0));
        assert_eq!(
            ratio(&results, "put_session", "redb", "redb-raw"),
            Some(0.75)
        );
        assert_eq!(
            figure(&results, "put_session", "redb-raw-nosync"),
            Some(70000.0)
        );
        let table = table(&results);
        assert!(
            table.contains("2.00x") && table.contains("0.75x"),
            "{table}"
        );
        let chart = svg(&results, "t<>");
        assert!(chart.starts_with("<svg") && chart.contains("t&lt;&gt;"));
        assert_eq!(chart.matches("<rect x=\"190\"").count(), 4);
    }
}
