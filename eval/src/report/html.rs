//! [`render_html`]: a [`Report`] as one self-contained XHTML page.

use std::fmt::Write;

use super::model::{MetricsTable, Report};
use super::svg::{colour, histogram_plot, roc_plot};

/// Escapes `&`, `<`, `>`, `"` and `'` so `text` is safe in element content
/// and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' && c != '\r' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1000px;\
color:#222;padding:0 16px}h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;\
border-bottom:1px solid #ddd;padding-bottom:4px}.meta{color:#666;margin:0}.plots{display:flex;\
flex-wrap:wrap;gap:16px;align-items:flex-start}.histograms{display:flex;flex-direction:column;gap:8px}\
table{border-collapse:collapse;font-size:14px}th,td{padding:4px 12px;border-bottom:1px solid #eee;\
text-align:right}th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #ccc}\
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}\
pre{background:#f6f6f6;padding:12px;overflow:auto;font-size:12px;max-height:480px}\
svg{max-width:100%;height:auto}";

/// Renders `report` as a self-contained page: well-formed XHTML (it parses as
/// XML), inline SVG plots, a small inline style sheet, no script and no
/// external asset. Every text from the report is escaped.
///
/// The page holds, in order: the title and kind, the ROC plot (all curves, the
/// chance diagonal, axes, ticks and a legend), one score-histogram panel per
/// series with its threshold marked, the metrics table, and the source JSON in
/// a collapsed `<details>` block.
pub fn render_html(report: &Report) -> String {
    let title = escape(&report.title);
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>{title}</title><style>{STYLE}</style></head><body>
<header><h1>{title}</h1><p class="meta">{} · created {} · {} series</p></header>
"#,
        escape(report.kind.label()),
        escape(&report.created),
        report.curves.len()
    );
    out.push_str(
        r#"<section id="plots"><h2>ROC curve and score distributions</h2><div class="plots">"#,
    );
    out.push_str(&roc_plot(&report.curves));
    out.push_str(r#"<div class="histograms">"#);
    for panel in &report.histograms {
        out.push_str(&histogram_plot(panel));
    }
    out.push_str("</div></div></section>\n");
    if let Some(t) = report.threshold {
        let criterion = match t.criterion {
            crate::summary::ThresholdCriterion::Youden => "maximises Youden's J = TPR − FPR",
            crate::summary::ThresholdCriterion::Accuracy => "maximises accuracy",
        };
        let _ = writeln!(
            out,
            r#"<p class="threshold">Suggested threshold{}: <strong>{:.4}</strong> ({criterion}; predict a match when score ≥ threshold): TPR {:.3}, FPR {:.3}, accuracy {:.3}.</p>"#,
            report
                .curves
                .last()
                .map(|c| format!(" for {}", escape(&c.name)))
                .unwrap_or_default(),
            t.threshold,
            t.tpr,
            t.fpr,
            t.accuracy
        );
    }
    out.push_str(&metrics_table(&report.metrics));
    out.push_str(r#"<section id="source"><h2>Source</h2>"#);
    for (i, source) in report.sources.iter().enumerate() {
        let json = serde_json::to_string_pretty(source).unwrap_or_default();
        let _ = write!(
            out,
            "<details><summary>Evaluation JSON {}</summary><pre>{}</pre></details>",
            i + 1,
            escape(&json)
        );
    }
    out.push_str("</section>\n</body></html>\n");
    out
}

/// The metrics table, one column per series with its colour swatch.
fn metrics_table(table: &MetricsTable) -> String {
    let mut out = String::from(
        r#"<section id="metrics"><h2>Metrics</h2><table class="metrics"><thead><tr><th>metric</th>"#,
    );
    for (i, column) in table.columns.iter().enumerate() {
        let _ = write!(
            out,
            r#"<th><span class="swatch" style="background:{}"></span>{}</th>"#,
            colour(i),
            escape(column)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        let _ = write!(out, "<tr><td>{}</td>", escape(&row.name));
        for value in &row.values {
            match value {
                Some(v) => {
                    let _ = write!(out, "<td>{v:.*}</td>", row.decimals);
                }
                None => out.push_str("<td>–</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{ReportKind, ReportSeries};
    use crate::summary::{RocOptions, RocSummary};

    fn series(name: &str, shift: f64) -> ReportSeries {
        let labels: Vec<bool> = (0..400).map(|i| i % 4 == 0).collect();
        let scores: Vec<f64> = (0..400)
            .map(|i| f64::from((i * 37) % 101) / 101.0 + if i % 4 == 0 { shift } else { 0.0 })
            .collect();
        ReportSeries {
            name: name.into(),
            summary: RocSummary::compute(&labels, &scores, &RocOptions::default()).unwrap(),
            extra_metrics: vec![("nDCG@10".into(), Some(0.5 + shift))],
        }
    }

    fn report() -> Report {
        Report::from_series(
            "Before <&> after",
            ReportKind::Retrieval,
            "2026-11-27T10:00:00Z",
            &[series("zero-shot", 0.1), series("fine-tuned \"MW\"", 0.4)],
            vec![serde_json::json!({"note": "</pre><script>alert(1)</script>"})],
        )
    }

    fn parse(html: &str) -> roxmltree::Document<'_> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        roxmltree::Document::parse_with_options(html, options).expect("well-formed XHTML")
    }

    fn by_class<'a, 'i>(
        doc: &'a roxmltree::Document<'i>,
        class: &str,
    ) -> Vec<roxmltree::Node<'a, 'i>> {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .collect()
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("bell\u{7}"), "bell\u{FFFD}");
    }

    #[test]
    fn page_parses_and_holds_the_curves_legend_and_table() {
        let report = report();
        let html = render_html(&report);
        let doc = parse(&html);
        let svg_ns = "http://www.w3.org/2000/svg";
        let curves = by_class(&doc, "roc-curve");
        assert_eq!(curves.len(), 2);
        for (curve, named) in curves.iter().zip(&report.curves) {
            assert_eq!(curve.tag_name().name(), "polyline");
            assert_eq!(curve.tag_name().namespace(), Some(svg_ns));
            assert_eq!(curve.attribute("data-series"), Some(named.name.as_str()));
            let points = curve.attribute("points").unwrap().split(' ').count();
            assert_eq!(points, named.points.len());
            assert!(points > 2);
        }
        let legend: Vec<String> = by_class(&doc, "legend-item")
            .iter()
            .filter_map(|n| n.descendants().find(|d| d.has_tag_name("text")))
            .filter_map(|t| t.text().map(str::to_string))
            .collect();
        assert_eq!(legend.len(), 3);
        assert!(legend[0].starts_with("zero-shot (AUC 0."), "{legend:?}");
        assert!(
            legend[1].starts_with("fine-tuned \"MW\" (AUC "),
            "{legend:?}"
        );
        assert_eq!(legend[2], "chance (AUC 0.5)");
        assert_eq!(by_class(&doc, "chance").len(), 1);
        assert_eq!(by_class(&doc, "histogram-plot").len(), 2);
        assert_eq!(by_class(&doc, "threshold").len(), 3); // two plots + the sentence
        let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
        assert_eq!(title.text(), Some("Before <&> after"));
        // The source JSON stays text: no script element is ever emitted.
        assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
        let pre = doc.descendants().find(|n| n.has_tag_name("pre")).unwrap();
        assert!(pre.text().unwrap().contains("<script>alert(1)</script>"));
        let rows = doc.descendants().filter(|n| n.has_tag_name("tr")).count();
        assert_eq!(rows, 1 + report.metrics.rows.len());
        assert!(
            !html.contains("http://") || !html.contains("src="),
            "no external assets"
        );
    }

    #[test]
    fn a_report_without_series_still_renders() {
        let empty = Report::from_series("empty", ReportKind::Roc, "t", &[], vec![]);
        let html = render_html(&empty);
        let doc = parse(&html);
        assert!(by_class(&doc, "roc-curve").is_empty());
        assert!(!html.contains("Suggested threshold"));
    }
}
