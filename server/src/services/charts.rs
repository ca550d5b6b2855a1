//! The insights' charts, drawn to SVG strings with plotters. Numbers in, markup out: the
//! labels are model, surface and variant names from the server's own configuration.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour-blind-safe series colours (Okabe and Ito), then greys.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(90, 90, 90),
];

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const WIDTH: u32 = 640;
/// Line charts sit two abreast on a wide screen: a narrower canvas keeps their text legible.
const LINE_WIDTH: u32 = 480;
const FONT: &str = "sans-serif";
const GRID: RGBColor = RGBColor(232, 232, 232);
const AXIS: RGBColor = RGBColor(110, 110, 110);

/// A named line of (x, y) points.
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// Points, x increasing.
    pub points: Vec<(f64, f64)>,
}

/// How the axes read.
pub struct Axes<'a> {
    /// Under the x axis.
    pub x_desc: &'a str,
    /// Beside the y axis.
    pub y_desc: &'a str,
    /// Formats an x tick.
    pub x_label: &'a dyn Fn(f64) -> String,
    /// Formats a y tick.
    pub y_label: &'a dyn Fn(f64) -> String,
    /// The x axis' span; `None`: the points' own.
    pub x_range: Option<(f64, f64)>,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("drawing a chart failed: {e}")
}

/// A line chart with a legend; every series drawn with points at its values. The y axis
/// starts at 0 and leaves 10% room above the highest value.
pub fn line_chart(series: &[Series], axes: &Axes<'_>, height: u32) -> Result<String, String> {
    let points = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if let Some((from, to)) = axes.x_range {
        (x0, x1) = (from, to);
    }
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let y1 = if y1 > 0.0 { y1 * 1.1 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (LINE_WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| (axes.x_label)(*x))
            .y_label_formatter(&|y| (axes.y_label)(*y))
            .x_desc(axes.x_desc)
            .y_desc(axes.y_desc)
            .label_style((FONT, 15).into_font().color(&AXIS))
            .axis_desc_style((FONT, 16).into_font())
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 2, c.filled())),
                )
                .map_err(err)?;
        }
        if !series.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(GRID)
                .label_font((FONT, 15))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The chart frame of [`rows_chart`].
type Rows<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordusize>,
    >,
>;

/// A frame with one named row per entry of `names` (top to bottom in order) and an x
/// axis from 0 to `x1`.
fn rows_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    names: &[&str],
    x1: f64,
    x_desc: &str,
    x_label: &dyn Fn(f64) -> String,
) -> Result<Rows<'a, 'b>, String> {
    let n = names.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..x1, (0..n).into_segmented())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .x_labels(5)
        .x_label_formatter(&|x| x_label(*x))
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(i) => names.get(*i).map(|s| s.to_string()).unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc(x_desc)
        .label_style((FONT, 15).into_font().color(&AXIS))
        .axis_desc_style((FONT, 16).into_font())
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Horizontal bars, one per (label, value), largest scale from the values; each bar
/// carries its value as text.
pub fn bar_chart(
    bars: &[(String, f64)],
    x_desc: &str,
    value_label: &dyn Fn(f64) -> String,
) -> Result<String, String> {
    let n = bars.len().max(1);
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
    let x1 = if max > 0.0 { max * 1.2 } else { 1.0 };
    let height = 60 + 30 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let names: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
        let mut chart = rows_chart(&root, &names, x1, x_desc, value_label)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (*v, SegmentValue::Exact(i + 1)),
                    ],
                    colour(i).filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                Text::new(
                    value_label(*v),
                    (*v + x1 * 0.01, SegmentValue::CenterOf(i)),
                    (FONT, 15)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One 100% bar per row, split into its named shares (0-1), each labelled with its
/// name and percentage.
pub fn share_chart(rows: &[(String, Vec<(String, f64)>)]) -> Result<String, String> {
    let n = rows.len().max(1);
    let height = 60 + 40 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let percent = |x: f64| format!("{:.0}%", x * 100.0);
        let mut chart = rows_chart(&root, &names, 1.0, "share of the next lists", &percent)?;
        for (i, (_, shares)) in rows.iter().enumerate() {
            let mut start = 0.0;
            for (j, (variant, share)) in shares.iter().enumerate() {
                let end = (start + share).min(1.0);
                let mut bar = Rectangle::new(
                    [
                        (start, SegmentValue::Exact(i)),
                        (end, SegmentValue::Exact(i + 1)),
                    ],
                    colour(j).filled(),
                );
                bar.set_margin(6, 6, 0, 1);
                chart.draw_series(std::iter::once(bar)).map_err(err)?;
                if *share >= 0.08 {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!("{variant} {:.0}%", share * 100.0),
                            (start + 0.01, SegmentValue::CenterOf(i)),
                            (FONT, 15)
                                .into_font()
                                .color(&WHITE)
                                .pos(Pos::new(HPos::Left, VPos::Center)),
                        )))
                        .map_err(err)?;
                }
                start = end;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    /// Whether a `<text>` element reads exactly `text` (plotters writes it on its own line).
    fn has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!(">\n{text}\n</text>"))
    }

    #[test]
    fn a_line_chart_draws_each_series_and_its_legend() {
        let series = vec![
            Series {
                name: "for_you".into(),
                points: vec![(0.0, 1.0), (60.0, 3.0), (120.0, 2.0)],
            },
            Series {
                name: "trending".into(),
                points: vec![(0.0, 0.0), (60.0, 5.0), (120.0, 4.0)],
            },
        ];
        let axes = Axes {
            x_desc: "time",
            y_desc: "lists",
            x_label: &|x| format!("t{x:.0}"),
            y_label: &|y| format!("{y:.0}"),
            x_range: None,
        };
        let svg = line_chart(&series, &axes, 280).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60.min(svg.len())]);
        assert_eq!(count(&svg, r#"stroke-width="2" points"#), 2, "two lines");
        assert_eq!(
            count(&svg, r#"stroke-width="3" points"#),
            2,
            "two legend marks"
        );
        assert_eq!(count(&svg, "<circle"), 6, "one dot per point");
        assert!(has_text(&svg, "for_you") && has_text(&svg, "trending"));
        assert!(has_text(&svg, "time") && has_text(&svg, "lists"));
        // The y axis starts at 0 and is labelled with the formatter's ticks.
        assert!(has_text(&svg, "0") && has_text(&svg, "2"));
        // The x ticks come from the formatter too.
        assert!(has_text(&svg, "t0"));
    }

    #[test]
    fn bars_carry_their_names_and_values() {
        let bars = vec![("blend".to_string(), 0.31), ("item-knn".to_string(), 0.12)];
        let svg = bar_chart(&bars, "NDCG@10", &|v| format!("{v:.2}")).unwrap();
        assert!(has_text(&svg, "blend") && has_text(&svg, "item-knn"));
        assert!(has_text(&svg, "0.31") && has_text(&svg, "0.12"));
        assert!(count(&svg, "<rect") >= 3, "background and two bars");
    }

    #[test]
    fn shares_fill_one_bar_per_surface() {
        let rows = vec![(
            "for_you".to_string(),
            vec![("blend".to_string(), 0.7), ("neural".to_string(), 0.3)],
        )];
        let svg = share_chart(&rows).unwrap();
        assert!(has_text(&svg, "blend 70%") && has_text(&svg, "neural 30%"));
        assert!(has_text(&svg, "for_you"));
    }

    #[test]
    fn empty_input_still_draws_a_labelled_frame() {
        let axes = Axes {
            x_desc: "time",
            y_desc: "rate",
            x_label: &|x| format!("{x}"),
            y_label: &|y| format!("{y}"),
            x_range: None,
        };
        assert!(has_text(&line_chart(&[], &axes, 200).unwrap(), "rate"));
        assert!(bar_chart(&[], "x", &|v| format!("{v}"))
            .unwrap()
            .starts_with("<svg"));
    }
}
