//! The two charts of docs/PERFORMANCE.md, drawn as SVG from the figures of
//! one run: throughput next to its baseline, and open-loop latency.

use plotters::prelude::*;
use std::path::Path;

/// Horizontal bars: (label, value, is_baseline).
pub fn throughput(path: &Path, bars: &[(String, f64, bool)]) -> anyhow::Result<()> {
    let max = bars.iter().map(|b| b.1).fold(1.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (900, 80 + 36 * bars.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "smartship: throughput and same-run baselines (per second)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, (0..bars.len()).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&|v| format!("{:.0}", v))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v, baseline))| {
        let color = if *baseline {
            RGBColor(170, 170, 170)
        } else {
            RGBColor(40, 110, 190)
        };
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (*v, SegmentValue::Exact(i + 1)),
            ],
            color.filled(),
        );
        bar.set_margin(5, 5, 0, 0);
        bar
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v, _))| {
        Text::new(
            format!("{v:.0}"),
            (*v + max * 0.01, SegmentValue::CenterOf(i)),
            ("sans-serif", 14),
        )
    }))?;
    root.present()?;
    Ok(())
}

/// Latency percentiles (ms): smartship's bar next to the harness's own
/// figure against the plain hyper server at the same schedule, and the
/// target as a line.
pub fn latency(
    path: &Path,
    title: &str,
    points: &[(String, f64, f64)],
    target_ms: f64,
) -> anyhow::Result<()> {
    let max = points
        .iter()
        .map(|p| p.1.max(p.2))
        .fold(target_ms, f64::max)
        * 1.25;
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..points.len() as f64, 0.0..max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(points.len() * 2 + 1)
        .x_label_formatter(&|v| {
            let i = v.floor() as usize;
            if (v - i as f64 - 0.5).abs() < 0.01 {
                points.get(i).map(|p| p.0.clone()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("ms")
        .draw()?;
    let blue = RGBColor(40, 110, 190);
    let grey = RGBColor(170, 170, 170);
    chart
        .draw_series(points.iter().enumerate().map(|(i, p)| {
            let x = i as f64;
            Rectangle::new([(x + 0.12, 0.0), (x + 0.48, p.1)], blue.filled())
        }))?
        .label("package/get")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], blue.filled()));
    chart
        .draw_series(points.iter().enumerate().map(|(i, p)| {
            let x = i as f64;
            Rectangle::new([(x + 0.52, 0.0), (x + 0.88, p.2)], grey.filled())
        }))?
        .label("harness alone (hello-JSON hyper)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], grey.filled()));
    chart.draw_series(points.iter().enumerate().flat_map(|(i, p)| {
        let x = i as f64;
        [
            Text::new(
                format!("{:.2}", p.1),
                (x + 0.14, p.1 + max * 0.045),
                ("sans-serif", 13),
            ),
            Text::new(
                format!("{:.2}", p.2),
                (x + 0.54, p.2 + max * 0.045),
                ("sans-serif", 13),
            ),
        ]
    }))?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, target_ms), (points.len() as f64, target_ms)],
            RED.stroke_width(2),
        ))?
        .label(format!("target p99 {target_ms} ms"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}
