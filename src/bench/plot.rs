//! `btvm bench --plot FILE.svg`: the report as a grouped horizontal bar
//! chart, one group per row and one bar per target, ns/iter on a log scale
//! (the rows span five orders of magnitude). Plain SVG text, no plotting
//! dependency.

use std::fmt::Write;

use super::measure::Cell;
use super::report::Report;

const BAR_H: f64 = 12.0;
const GROUP_GAP: f64 = 10.0;
const LEFT: f64 = 90.0;
const PLOT_W: f64 = 560.0;
const TOP: f64 = 40.0;
/// Fill colours of the targets, in column order (cycled).
const COLOURS: &[&str] = &["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2"];

/// Escape text for an SVG text node.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The report as an SVG document.
pub fn to_svg(report: &Report) -> String {
    let values: Vec<f64> = report
        .rows
        .iter()
        .flat_map(|r| &r.cells)
        .filter_map(|c| match c {
            Cell::Ok { ns_per_iter, .. } if *ns_per_iter > 0.0 => Some(*ns_per_iter),
            _ => None,
        })
        .collect();
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(0.1);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let x = |v: f64| LEFT + (v.log10() - f64::from(d0)) / f64::from(d1 - d0) * PLOT_W;
    let n = report.targets.len().max(1) as f64;
    let group_h = n * BAR_H + GROUP_GAP;
    let height = TOP + report.rows.len() as f64 * group_h + 40.0;
    let width = LEFT + PLOT_W + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="16" font-size="13">btvm bench: ns per iteration (log scale)</text>"#
    );
    for (i, t) in report.targets.iter().enumerate() {
        let lx = LEFT + 250.0 + i as f64 * 70.0;
        let c = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="8" width="10" height="10" fill="{c}"/><text x="{}" y="17">{}</text>"#,
            lx + 14.0,
            esc(t)
        );
    }
    let bottom = height - 30.0;
    for d in d0..=d1 {
        let gx = x(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{bottom}" stroke="#ddd"/><text x="{gx:.1}" y="{}" text-anchor="middle">1e{d}</text>"##,
            bottom + 14.0
        );
    }
    for (ri, r) in report.rows.iter().enumerate() {
        let gy = TOP + ri as f64 * group_h;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            gy + n * BAR_H / 2.0 + 4.0,
            esc(r.row)
        );
        for (ci, c) in r.cells.iter().enumerate() {
            let y = gy + ci as f64 * BAR_H;
            match c {
                Cell::Ok { ns_per_iter, .. } if *ns_per_iter > 0.0 => {
                    let w = (x(*ns_per_iter) - LEFT).max(1.0);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{LEFT}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{} {}: {:.1} ns</title></rect>"#,
                        BAR_H - 2.0,
                        COLOURS[ci % COLOURS.len()],
                        esc(r.row),
                        esc(report.targets[ci]),
                        ns_per_iter
                    );
                }
                other => {
                    let label = match other {
                        Cell::Fail(_) => "FAIL",
                        Cell::Unavailable(_) => "n/a",
                        Cell::Ok { .. } => "?",
                    };
                    let _ = writeln!(
                        s,
                        r#"<text x="{}" y="{:.1}" fill="gray">{} {label}</text>"#,
                        LEFT + 2.0,
                        y + BAR_H - 3.0,
                        esc(report.targets[ci])
                    );
                }
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::RowResult;

    #[test]
    fn one_bar_per_measured_cell() {
        let r = Report {
            targets: vec!["interp", "qemu"],
            rows: vec![RowResult {
                row: "alu",
                iters: 1,
                cells: vec![
                    Cell::Ok {
                        iters: 1,
                        ns_per_iter: 500.0,
                        insns_per_iter: Some(16.0),
                    },
                    Cell::Unavailable("no qemu".into()),
                ],
            }],
        };
        let svg = to_svg(&r);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<title>").count(), 1);
        assert!(svg.contains("qemu n/a"));
    }
}
