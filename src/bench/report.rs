//! The benchmark report: one row per microbenchmark, one column per target
//! (engines in `--engines` order, then QEMU), the ratios of neighbouring
//! columns, and guest instructions per iteration. Printed as a text table
//! or as JSON.

use serde_json::{json, Map, Value};

use super::measure::Cell;

/// The results of one row.
#[derive(Clone, Debug)]
pub struct RowResult {
    /// Row name.
    pub row: &'static str,
    /// The N asked for (QEMU may have run more, see [`Cell::Ok`]).
    pub iters: u64,
    /// One cell per target, in [`Report::targets`] order.
    pub cells: Vec<Cell>,
}

/// A whole benchmark run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Column names: engines, then `qemu`.
    pub targets: Vec<&'static str>,
    /// The rows, in table order.
    pub rows: Vec<RowResult>,
}

impl RowResult {
    /// ns/iter of column `i`, when measured.
    fn ns(&self, i: usize) -> Option<f64> {
        match self.cells.get(i) {
            Some(Cell::Ok { ns_per_iter, .. }) => Some(*ns_per_iter),
            _ => None,
        }
    }

    /// KVM exits per iteration, from the kvm column.
    fn exits(&self) -> Option<f64> {
        self.cells.iter().find_map(|c| match c {
            Cell::Ok { exits_per_iter, .. } => *exits_per_iter,
            _ => None,
        })
    }

    /// Guest instructions per iteration from the first target counting them.
    fn insns(&self) -> Option<f64> {
        self.cells.iter().find_map(|c| match c {
            Cell::Ok { insns_per_iter, .. } => *insns_per_iter,
            _ => None,
        })
    }
}

impl Report {
    /// Whether any cell failed (n/a is not a failure).
    pub fn any_failed(&self) -> bool {
        self.rows
            .iter()
            .flat_map(|r| &r.cells)
            .any(|c| matches!(c, Cell::Fail(_)))
    }

    /// The ratio columns: (name, numerator index, denominator index), one
    /// per pair of neighbouring targets (interp/jit, jit/qemu, ...), then
    /// every other engine over kvm (interp/kvm: translation vs world
    /// switch) and jit/qemu when they are not neighbours.
    pub fn ratios(&self) -> Vec<(String, usize, usize)> {
        let t = &self.targets;
        let mut pairs: Vec<(usize, usize)> = (1..t.len()).map(|i| (i - 1, i)).collect();
        let col = |name: &str| t.iter().position(|&x| x == name);
        if let Some(k) = col("kvm") {
            for (a, name) in t.iter().enumerate() {
                if a != k && *name != "qemu" && !pairs.contains(&(a, k)) {
                    pairs.push((a, k));
                }
            }
        }
        if let (Some(j), Some(q)) = (col("jit"), col("qemu")) {
            if !pairs.contains(&(j, q)) {
                pairs.push((j, q));
            }
        }
        pairs
            .into_iter()
            .map(|(a, b)| (format!("{}/{}", t[a], t[b]), a, b))
            .collect()
    }

    /// The report as an aligned text table, with FAIL and n/a reasons as
    /// numbered notes below it.
    pub fn to_table(&self) -> String {
        let mut notes: Vec<String> = Vec::new();
        let mut note = |text: String| -> usize {
            match notes.iter().position(|n| *n == text) {
                Some(i) => i + 1,
                None => {
                    notes.push(text);
                    notes.len()
                }
            }
        };
        let mut header = vec!["row".to_string(), "N".to_string()];
        header.extend(self.targets.iter().map(|t| format!("{t} ns/iter")));
        let ratios = self.ratios();
        header.extend(ratios.iter().map(|r| r.0.clone()));
        let kvm = self.targets.contains(&"kvm");
        if kvm {
            header.push("kvm exits/iter".to_string());
        }
        header.push("insns/iter".to_string());
        let mut lines = vec![header];
        for r in &self.rows {
            let mut line = vec![r.row.to_string(), r.iters.to_string()];
            for (i, c) in r.cells.iter().enumerate() {
                line.push(match c {
                    Cell::Ok { ns_per_iter, .. } => format!("{ns_per_iter:.1}"),
                    Cell::Fail(why) => {
                        format!(
                            "FAIL [{}]",
                            note(format!("{} on {}: {why}", r.row, self.targets[i]))
                        )
                    }
                    Cell::Unavailable(why) => {
                        format!("n/a [{}]", note(format!("{}: {why}", self.targets[i])))
                    }
                });
            }
            for (_, a, b) in &ratios {
                line.push(match (r.ns(*a), r.ns(*b)) {
                    (Some(x), Some(y)) if y > 0.0 => ratio_text(x / y),
                    _ => "-".to_string(),
                });
            }
            if kvm {
                line.push(r.exits().map_or("-".to_string(), |n| format!("{n:.2}")));
            }
            line.push(r.insns().map_or("-".to_string(), |n| format!("{n:.1}")));
            lines.push(line);
        }
        let cols = lines[0].len();
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l.get(c).map_or(0, |s| s.len()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for l in &lines {
            let mut s = String::new();
            for (c, cell) in l.iter().enumerate() {
                if c == 0 {
                    s.push_str(&format!("{cell:<w$}", w = widths[c]));
                } else {
                    s.push_str(&format!("  {cell:>w$}", w = widths[c]));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        for (i, n) in notes.iter().enumerate() {
            out.push_str(&format!("[{}] {n}\n", i + 1));
        }
        out
    }

    /// The report as JSON: `{"targets": [...], "rows": [{"row", "iters",
    /// "results": {target: {"status": "ok"|"fail"|"n/a", ...}},
    /// "ratios": {"interp/jit": x, ...}, "insns_per_iter"}]}`.
    pub fn to_json(&self) -> Value {
        let ratios = self.ratios();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut results = Map::new();
                for (i, c) in r.cells.iter().enumerate() {
                    let v = match c {
                        Cell::Ok {
                            iters,
                            ns_per_iter,
                            exits_per_iter,
                            insns_per_iter,
                        } => json!({
                            "status": "ok",
                            "iters": iters,
                            "ns_per_iter": ns_per_iter,
                            "exits_per_iter": exits_per_iter,
                            "insns_per_iter": insns_per_iter,
                        }),
                        Cell::Fail(why) => json!({"status": "fail", "reason": why}),
                        Cell::Unavailable(why) => json!({"status": "n/a", "reason": why}),
                    };
                    results.insert(self.targets[i].to_string(), v);
                }
                let mut rat = Map::new();
                for (name, a, b) in &ratios {
                    let v = match (r.ns(*a), r.ns(*b)) {
                        (Some(x), Some(y)) if y > 0.0 => json!(x / y),
                        _ => Value::Null,
                    };
                    rat.insert(name.clone(), v);
                }
                json!({
                    "row": r.row,
                    "iters": r.iters,
                    "results": results,
                    "ratios": rat,
                    "kvm_exits_per_iter": r.exits(),
                    "insns_per_iter": r.insns(),
                })
            })
            .collect();
        json!({ "targets": self.targets, "rows": rows })
    }
}

/// A ratio with two decimals, or three significant digits below 0.1
/// (jit/kvm on a nested KVM is 0.001-ish, not 0.00).
fn ratio_text(r: f64) -> String {
    if r >= 0.1 || r <= 0.0 {
        format!("{r:.2}")
    } else {
        let digits = (2.0 - r.log10().floor()) as usize;
        format!("{r:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            targets: vec!["interp", "jit", "qemu"],
            rows: vec![RowResult {
                row: "alu",
                iters: 10,
                cells: vec![
                    Cell::Ok {
                        iters: 10,
                        ns_per_iter: 40.0,
                        exits_per_iter: None,
                        insns_per_iter: Some(16.0),
                    },
                    Cell::Ok {
                        iters: 10,
                        ns_per_iter: 10.0,
                        exits_per_iter: None,
                        insns_per_iter: Some(16.0),
                    },
                    Cell::Unavailable("qemu-system-i386 not found on PATH".into()),
                ],
            }],
        }
    }

    #[test]
    fn small_ratios_keep_three_digits() {
        assert_eq!(ratio_text(20.954), "20.95");
        assert_eq!(ratio_text(0.00129), "0.00129");
        assert_eq!(ratio_text(0.0512), "0.0512");
    }

    #[test]
    fn ratios_are_neighbouring_columns() {
        let r = sample();
        let names: Vec<_> = r.ratios().into_iter().map(|r| r.0).collect();
        assert_eq!(names, ["interp/jit", "jit/qemu"]);
        let j = r.to_json();
        assert_eq!(j["rows"][0]["ratios"]["interp/jit"], json!(4.0));
        assert_eq!(j["rows"][0]["ratios"]["jit/qemu"], Value::Null);
        assert_eq!(j["rows"][0]["results"]["qemu"]["status"], "n/a");
        let mut r = sample();
        r.targets = vec!["interp", "jit", "kvm", "qemu"];
        let names: Vec<_> = r.ratios().into_iter().map(|r| r.0).collect();
        assert_eq!(
            names,
            [
                "interp/jit",
                "jit/kvm",
                "kvm/qemu",
                "interp/kvm",
                "jit/qemu"
            ]
        );
    }

    #[test]
    fn table_marks_unavailable_and_failed_cells_with_notes() {
        let mut r = sample();
        r.rows[0].cells[1] = Cell::Fail("exit status 3".into());
        assert!(r.any_failed());
        let t = r.to_table();
        assert!(t.contains("FAIL [1]"), "{t}");
        assert!(t.contains("n/a [2]"), "{t}");
        assert!(t.contains("[1] alu on jit: exit status 3"), "{t}");
        assert!(!sample().any_failed());
    }
}
