//! Inline SVG plots: ROC curves on one set of axes, and score histograms.
//!
//! Plain SVG 1.1 with presentation attributes (no CSS or script needed), valid
//! XML, every text escaped.

use std::fmt::Write;

use super::html::escape;
use super::model::{NamedHistograms, NamedRoc};

/// Line colours, in series order (Okabe-Ito, readable with colour blindness).
const PALETTE: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
];
/// Colour of the positives' bars.
const POSITIVE: &str = "#D55E00";
/// Colour of the negatives' bars.
const NEGATIVE: &str = "#0072B2";

/// Colour of series `i`.
pub(crate) fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A plot area inside an SVG canvas, mapping data to pixels.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        let (lo, hi) = self.x_range;
        self.left + (v - lo) / (hi - lo) * self.width
    }

    fn y(&self, v: f64) -> f64 {
        let (lo, hi) = self.y_range;
        self.top + self.height - (v - lo) / (hi - lo) * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }

    fn right(&self) -> f64 {
        self.left + self.width
    }

    /// Grid lines, tick labels, the axis box and both axis titles.
    fn axes(&self, out: &mut String, x_ticks: &[f64], y_ticks: &[f64], titles: (&str, &str)) {
        out.push_str(r##"<g class="axes" font-size="12" fill="#333">"##);
        for &t in x_ticks {
            let x = self.x(t);
            let _ = write!(
                out,
                r##"<line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#e5e5e5"/><text x="{x:.2}" y="{:.2}" text-anchor="middle">{}</text>"##,
                self.top,
                self.bottom(),
                self.bottom() + 16.0,
                tick_label(t, x_ticks)
            );
        }
        for &t in y_ticks {
            let y = self.y(t);
            let _ = write!(
                out,
                r##"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#e5e5e5"/><text x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"##,
                self.left,
                self.right(),
                self.left - 6.0,
                y + 4.0,
                tick_label(t, y_ticks)
            );
        }
        let _ = write!(
            out,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="none" stroke="#333"/><text class="axis-title" x="{:.2}" y="{:.2}" text-anchor="middle">{}</text><text class="axis-title" transform="translate({:.2} {:.2}) rotate(-90)" text-anchor="middle">{}</text></g>"##,
            self.left,
            self.top,
            self.width,
            self.height,
            self.left + self.width / 2.0,
            self.bottom() + 36.0,
            escape(titles.0),
            self.left - 42.0,
            self.top + self.height / 2.0,
            escape(titles.1)
        );
    }
}

/// Tick label with as many decimals as the tick spacing needs.
fn tick_label(value: f64, ticks: &[f64]) -> String {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    };
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        1
    };
    let text = format!("{value:.decimals$}");
    if text.starts_with("-0") && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_string()
    } else {
        text
    }
}

/// Four to seven "nice" ticks (steps of 1, 2 or 5 × 10^k) covering `[lo, hi]`.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return vec![lo];
    }
    let magnitude = 10f64.powf((span / 6.0).log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| span / s <= 7.0)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// The ROC plot: every curve on one pair of axes, the chance diagonal, and a
/// legend with each curve's name and AUC. Each curve is one
/// `<polyline class="roc-curve">` holding exactly its points.
pub(crate) fn roc_plot(curves: &[NamedRoc]) -> String {
    let frame = Frame {
        left: 60.0,
        top: 16.0,
        width: 380.0,
        height: 380.0,
        x_range: (0.0, 1.0),
        y_range: (0.0, 1.0),
    };
    let mut out = String::from(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="roc-plot" viewBox="0 0 460 460" width="460" height="460" role="img" aria-label="ROC curves" font-family="Helvetica, Arial, sans-serif"><title>ROC curves</title>"##,
    );
    let ticks: Vec<f64> = (0..=5).map(|i| f64::from(i) / 5.0).collect();
    frame.axes(
        &mut out,
        &ticks,
        &ticks,
        ("False positive rate", "True positive rate"),
    );
    let _ = write!(
        out,
        r##"<line class="chance" x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="#888" stroke-dasharray="5 4"/>"##,
        frame.x(0.0),
        frame.y(0.0),
        frame.x(1.0),
        frame.y(1.0)
    );
    for (i, curve) in curves.iter().enumerate() {
        let points: Vec<String> = curve
            .points
            .iter()
            .map(|p| format!("{:.2},{:.2}", frame.x(p.fpr), frame.y(p.tpr)))
            .collect();
        let _ = write!(
            out,
            r##"<polyline class="roc-curve" data-series="{}" points="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"/>"##,
            escape(&curve.name),
            points.join(" "),
            colour(i)
        );
    }
    // Legend in the lower right, where ROC curves rarely go.
    let rows = curves.len() + 1;
    let (legend_w, row_h) = (230.0, 18.0);
    let legend_x = frame.right() - legend_w - 8.0;
    let legend_y = frame.bottom() - 8.0 - row_h * rows as f64 - 6.0;
    let _ = write!(
        out,
        r##"<g class="legend" font-size="12"><rect x="{legend_x:.2}" y="{legend_y:.2}" width="{legend_w:.2}" height="{:.2}" fill="#fff" fill-opacity="0.9" stroke="#bbb"/>"##,
        row_h * rows as f64 + 6.0
    );
    let entries = curves
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("{} (AUC {:.3})", c.name, c.auc), colour(i), ""))
        .chain(std::iter::once((
            "chance (AUC 0.5)".to_string(),
            "#888",
            r#" stroke-dasharray="5 4""#,
        )));
    for (row, (label, stroke, dash)) in entries.enumerate() {
        let y = legend_y + 3.0 + row_h * (row as f64 + 0.5) + 1.0;
        let _ = write!(
            out,
            r##"<g class="legend-item"><line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{stroke}" stroke-width="2"{dash}/><text x="{:.2}" y="{:.2}" fill="#222">{}</text></g>"##,
            legend_x + 8.0,
            legend_x + 30.0,
            legend_x + 36.0,
            y + 4.0,
            escape(&label)
        );
    }
    out.push_str("</g></svg>");
    out
}

/// One histogram panel: positives and negatives as fractions of their class
/// over the shared bins, overlaid, with the threshold as a vertical line.
pub(crate) fn histogram_plot(panel: &NamedHistograms) -> String {
    let h = &panel.histograms;
    let lo = h.edges.first().copied().unwrap_or(0.0);
    let hi = h.edges.last().copied().unwrap_or(1.0);
    let total = |v: &[u64]| v.iter().sum::<u64>().max(1) as f64;
    let (n_pos, n_neg) = (total(&h.positives), total(&h.negatives));
    let pos: Vec<f64> = h.positives.iter().map(|&c| c as f64 / n_pos).collect();
    let neg: Vec<f64> = h.negatives.iter().map(|&c| c as f64 / n_neg).collect();
    let peak = pos.iter().chain(&neg).copied().fold(0.0, f64::max);
    let y_ticks = nice_ticks(0.0, peak.max(1e-9) * 1.05);
    let y_top = y_ticks
        .last()
        .copied()
        .unwrap_or(1.0)
        .max(peak * 1.05)
        .max(1e-9);
    let frame = Frame {
        left: 60.0,
        top: 46.0,
        width: 380.0,
        height: 180.0,
        x_range: (lo, hi),
        y_range: (0.0, y_top),
    };
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="histogram-plot" data-series="{name}" viewBox="0 0 460 280" width="460" height="280" role="img" aria-label="Score histograms: {name}" font-family="Helvetica, Arial, sans-serif"><title>Score histograms: {name}</title><text x="60" y="16" font-size="13" font-weight="bold" fill="#222">{name}</text>"##,
        name = escape(&panel.name)
    );
    frame.axes(
        &mut out,
        &nice_ticks(lo, hi),
        &y_ticks,
        ("Score", "Fraction of class"),
    );
    for (values, fill, class) in [(&neg, NEGATIVE, "negatives"), (&pos, POSITIVE, "positives")] {
        let _ = write!(
            out,
            r#"<g class="{class}" fill="{fill}" fill-opacity="0.45">"#
        );
        for (i, &v) in values.iter().enumerate() {
            let (Some(&a), Some(&b)) = (h.edges.get(i), h.edges.get(i + 1)) else {
                continue;
            };
            if v > 0.0 {
                let _ = write!(
                    out,
                    r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}"/>"#,
                    frame.x(a),
                    frame.y(v),
                    (frame.x(b) - frame.x(a)).max(0.5),
                    frame.bottom() - frame.y(v)
                );
            }
        }
        out.push_str("</g>");
    }
    if let Some(t) = panel.threshold.filter(|t| t.is_finite()) {
        let x = frame.x(t.clamp(lo, hi));
        let anchor = if x > frame.left + frame.width * 0.7 {
            "end"
        } else {
            "start"
        };
        let dx = if anchor == "end" { -4.0 } else { 4.0 };
        let _ = write!(
            out,
            r##"<g class="threshold"><line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#222" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{:.2}" y="{:.2}" font-size="11" text-anchor="{anchor}" fill="#222">threshold {t:.3}</text></g>"##,
            frame.top,
            frame.bottom(),
            x + dx,
            frame.top + 12.0,
        );
    }
    let _ = write!(
        out,
        r##"<g class="legend" font-size="12" fill="#222"><rect x="60" y="24" width="12" height="12" fill="{POSITIVE}" fill-opacity="0.45"/><text x="76" y="34">positives ({})</text><rect x="210" y="24" width="12" height="12" fill="{NEGATIVE}" fill-opacity="0.45"/><text x="226" y="34">negatives ({})</text></g></svg>"##,
        h.positives.iter().sum::<u64>(),
        h.negatives.iter().sum::<u64>()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_the_range() {
        let t = nice_ticks(0.0, 1.0);
        assert_eq!((t.len(), t[0], t[5]), (6, 0.0, 1.0));
        // Step 0.2 (0.1 would give 10 ticks): 0, 0.2, ..., 0.8.
        let t = nice_ticks(-0.13, 0.92);
        assert_eq!((t.len(), t[0], t[4]), (5, 0.0, 0.8));
        assert_eq!(nice_ticks(3.0, 3.0), vec![3.0]);
    }

    #[test]
    fn tick_labels_use_the_step_precision() {
        let ticks = [0.0, 0.05, 0.1];
        assert_eq!(tick_label(0.05, &ticks), "0.05");
        assert_eq!(tick_label(20.0, &[0.0, 20.0]), "20");
        assert_eq!(tick_label(-0.0, &[0.0, 0.2]), "0.0");
    }
}
