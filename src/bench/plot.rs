//! `btvm bench --plot FILE.svg`: the report as a grouped horizontal bar
//! chart drawn with plotters (SVG backend): one group per row, one bar per
//! target, ns/iter on a log scale (the rows span five orders of magnitude;
//! the `linux-boot` row is ns per boot).

use plotters::prelude::*;

use super::measure::Cell;
use super::report::Report;

/// Bar height and the gap after each group, in chart units (one unit is
/// one bar).
const GROUP_GAP: f64 = 0.8;
/// Pixels per bar.
const BAR_PX: u32 = 14;
/// Fill colours of the targets, in column order (cycled).
const COLOURS: &[RGBColor] = &[
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
];

/// The report as an SVG document.
pub fn to_svg(report: &Report) -> Result<String, String> {
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
    let lo = if lo.is_finite() { lo } else { 1.0 };
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (lo, hi) = (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil()),
    );
    let n = report.targets.len().max(1) as f64;
    let group = n + GROUP_GAP;
    let total = (report.rows.len() as f64 * group).max(1.0);
    let height = 90 + (total * f64::from(BAR_PX)) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "btvm bench: ns per iteration (log scale)",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(90)
            .build_cartesian_2d((lo..hi).log_scale(), total..0.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .max_light_lines(0)
            .x_desc("ns/iter")
            .draw()
            .map_err(|e| e.to_string())?;
        let label = ("sans-serif", 12).into_font();
        // One legend entry per target: the first bar drawn in its colour.
        let mut in_legend = vec![false; report.targets.len()];
        for (ri, r) in report.rows.iter().enumerate() {
            let gy = ri as f64 * group;
            let (px, py) = chart.backend_coord(&(lo, gy + n / 2.0));
            root.draw(&Text::new(
                r.row.to_string(),
                (px - 80, py - 6),
                label.clone(),
            ))
            .map_err(|e| e.to_string())?;
            for (ci, c) in r.cells.iter().enumerate() {
                let y = gy + ci as f64;
                let colour = COLOURS[ci % COLOURS.len()];
                match c {
                    Cell::Ok { ns_per_iter, .. } if *ns_per_iter > 0.0 => {
                        let bar = chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(lo, y + 0.1), (ns_per_iter.max(lo), y + 0.9)],
                                colour.filled(),
                            )))
                            .map_err(|e| e.to_string())?;
                        if !in_legend[ci] {
                            in_legend[ci] = true;
                            bar.label(report.targets[ci]).legend(move |(x, y)| {
                                Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                            });
                        }
                    }
                    other => {
                        let what = match other {
                            Cell::Fail(_) => "FAIL",
                            Cell::Unavailable(_) => "n/a",
                            Cell::Ok { .. } => "?",
                        };
                        chart
                            .draw_series(std::iter::once(Text::new(
                                format!("{} {what}", report.targets[ci]),
                                (lo, y + 0.1),
                                ("sans-serif", 11)
                                    .into_font()
                                    .color(&RGBColor(0x80, 0x80, 0x80)),
                            )))
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::RowResult;

    #[test]
    fn one_bar_group_per_row_and_one_bar_per_measured_cell() {
        let ok = |ns| Cell::Ok {
            iters: 1,
            ns_per_iter: ns,
            exits_per_iter: None,
            insns_per_iter: Some(16.0),
        };
        let r = Report {
            targets: vec!["interp", "qemu"],
            rows: vec![
                RowResult {
                    row: "alu",
                    iters: 1,
                    cells: vec![ok(500.0), Cell::Unavailable("no qemu".into())],
                },
                RowResult {
                    row: "linux-boot",
                    iters: 1,
                    cells: vec![ok(2.0e9), ok(1.9e9)],
                },
            ],
        };
        let svg = to_svg(&r).unwrap();
        assert!(svg.trim_start().starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
        // Text nodes hold their text on a line of its own.
        assert_eq!(svg.matches("\nalu\n").count(), 1, "{svg}");
        assert_eq!(svg.matches("\nlinux-boot\n").count(), 1, "{svg}");
        assert_eq!(svg.matches("\nqemu n/a\n").count(), 1, "{svg}");
        // One bar per measured cell plus one legend swatch per target, in
        // the targets' colours.
        let fill = |c: &str| svg.matches(&format!("fill=\"{c}\"")).count();
        assert_eq!(fill("#4E79A7"), 2 + 1, "{svg}");
        assert_eq!(fill("#F28E2B"), 1 + 1, "{svg}");
    }
}
