//! `lorenz.svg`: the Lorenz curve as a standalone SVG — axes from 0 to 100 %, the line of
//! equality, the curve, the Gini coefficient and the share of the costliest 1 %. Every
//! text is escaped for XML (the file name is the only untrusted one).

use std::fmt::Write;

use super::concentration::CostConcentration;
use evalgate::report::xml_escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 520.0;
const LEFT: f64 = 80.0;
const TOP: f64 = 70.0;
const SIDE: f64 = 380.0;

/// Text for an XML text node or attribute of the SVG, on one line.
pub(crate) fn xml_text(text: &str) -> String {
    xml_escape(text).replace('\n', " ")
}

/// Plot coordinates of the shares (x, y) in [0, 1].
fn at(x: f64, y: f64) -> (f64, f64) {
    (LEFT + x * SIDE, TOP + (1.0 - y) * SIDE)
}

pub(crate) fn render(report: &CostConcentration) -> String {
    let mut svg = String::new();
    title(&mut svg, report);
    axes(&mut svg, report);
    curve(&mut svg, report);
    labels(&mut svg, report);
    svg.push_str("</svg>\n");
    svg
}

/// The SVG's opening, its background and the chart's title.
fn title(out: &mut String, report: &CostConcentration) {
    let _ = writeln!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let noun = report.by.plural();
    let _ = writeln!(
        out,
        r##"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{}</text>
<text x="{LEFT}" y="44" fill="#555">{}</text>"##,
        xml_text(&format!("Cost concentration by {}", report.by.noun())),
        xml_text(&format!("{} · {} {noun}", report.source, report.groups)),
    );
}

/// The grid with ticks every 25 %, the frame, the line of equality and the axis titles.
fn axes(out: &mut String, report: &CostConcentration) {
    let noun = report.by.plural();
    // Grid and ticks every 25 %.
    for tick in 0..=4 {
        let share = f64::from(tick) / 4.0;
        let (x, y) = at(share, share);
        let (x0, y_bottom) = at(0.0, 0.0);
        let (x_right, y_top) = at(1.0, 1.0);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{y_top:.1}" x2="{x:.1}" y2="{y_bottom:.1}" stroke="#eee"/>
<line x1="{x0:.1}" y1="{y:.1}" x2="{x_right:.1}" y2="{y:.1}" stroke="#eee"/>
<text x="{x:.1}" y="{:.1}" text-anchor="middle">{} %</text>
<text x="{:.1}" y="{:.1}" text-anchor="end">{} %</text>"##,
            y_bottom + 18.0,
            tick * 25,
            x0 - 6.0,
            y + 4.0,
            tick * 25,
        );
    }
    let (x0, y0) = at(0.0, 0.0);
    let (x1, y1) = at(1.0, 1.0);
    let _ = writeln!(
        out,
        r##"<rect x="{x0:.1}" y="{y1:.1}" width="{SIDE}" height="{SIDE}" fill="none" stroke="#333"/>
<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="#999" stroke-dasharray="6 4"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>
<text transform="translate(24 {:.1}) rotate(-90)" text-anchor="middle">share of the cost</text>"##,
        (x0 + x1) / 2.0,
        y0 + 40.0,
        xml_text(&format!("share of the {noun}, cheapest first")),
        (y0 + y1) / 2.0,
    );
}

/// The Lorenz curve, or that nothing was spent.
fn curve(out: &mut String, report: &CostConcentration) {
    let (x0, y0) = at(0.0, 0.0);
    let (x1, y1) = at(1.0, 1.0);
    if report.lorenz.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">nothing was spent</text>"#,
            (x0 + x1) / 2.0,
            (y0 + y1) / 2.0
        );
    } else {
        let points: Vec<String> = (report.lorenz.iter())
            .map(|p| {
                let (x, y) = at(p.groups, p.cost);
                format!("{x:.2},{y:.2}")
            })
            .collect();
        let _ = writeln!(
            out,
            r##"<polyline points="{}" fill="none" stroke="#c0392b" stroke-width="2"/>"##,
            points.join(" ")
        );
    }
}

/// Gini, and the costliest 1 % marked on the curve.
fn labels(out: &mut String, report: &CostConcentration) {
    let noun = report.by.plural();
    let (x0, _) = at(0.0, 0.0);
    let (_, y1) = at(1.0, 1.0);
    let mut label_y = y1 + 20.0;
    if let Some(gini) = report.gini {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{label_y:.1}">Gini {gini:.3}</text>"#,
            x0 + 12.0
        );
        label_y += 18.0;
    }
    if let Some(top) = report.top_shares.first() {
        let text = match (top.share, &top.unavailable) {
            (Some(share), _) => {
                let (x, y) = at(1.0 - top.groups as f64 / report.groups as f64, 1.0 - share);
                let _ = writeln!(
                    out,
                    r##"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="#c0392b"/>"##
                );
                format!(
                    "costliest 1 % ({} {noun}): {:.1} % of the cost",
                    top.groups,
                    share * 100.0
                )
            }
            (None, Some(why)) => format!("costliest 1 %: {why}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{label_y:.1}">{}</text>"#,
            x0 + 12.0,
            xml_text(&text)
        );
    }
}
