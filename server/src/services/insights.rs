//! The merchant's insights behind the UI's `Insights` capability: the role check, the
//! live counts per strategy over time, model versions with their metrics and training
//! curves, coverage, the bandit's split and the newest events, with their charts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use app::error::AppError;
use app::insights::ssr::{Caller, Insights};
use app::insights::*;
use async_trait::async_trait;

use crate::recs::RecService;
use crate::services::charts::{self, Axes, Series};
use crate::store::recs::{EpochPoint, ModelVersionRow, StrategyStat};
use crate::store::Store;

/// Model versions listed.
const VERSIONS_SHOWN: i64 = 12;
/// Events in the stream.
const EVENTS_SHOWN: i64 = 30;

/// The server's implementation of the merchant's views.
#[derive(Clone)]
pub struct InsightsService {
    store: Store,
    recs: Arc<RecService>,
}

/// A time window: its span and bucket, in seconds.
fn window(name: &str) -> Result<(i64, i64), AppError> {
    match name {
        "hour" => Ok((3_600, 60)),
        "day" => Ok((86_400, 1_800)),
        "week" => Ok((7 * 86_400, 6 * 3_600)),
        other => Err(AppError::invalid(
            "window",
            format!("unknown window \"{other}\": use hour, day or week"),
        )),
    }
}

fn utc(unix_secs: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(unix_secs).ok()
}

fn hh_mm(unix_secs: f64) -> String {
    utc(unix_secs as i64)
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .unwrap_or_default()
}

fn day_hour(unix_secs: f64) -> String {
    utc(unix_secs as i64)
        .map(|t| format!("{:02}/{:02} {:02}h", t.day(), u8::from(t.month()), t.hour()))
        .unwrap_or_default()
}

impl InsightsService {
    /// Insights over `store`, with `recs`' in-memory state.
    pub fn new(store: Store, recs: Arc<RecService>) -> Self {
        Self { store, recs }
    }

    /// Succeeds only for a logged-in account whose role (read now, not from the session)
    /// is admin.
    async fn require_admin(&self, caller: &Caller) -> Result<i64, AppError> {
        let account_id = caller.account.ok_or(AppError::Unauthenticated)?;
        match self.store.account_by_id(account_id).await? {
            Some(account) if account.is_admin() => Ok(account.account_id),
            _ => {
                tracing::warn!(account_id, "insights refused: not an admin");
                Err(AppError::Forbidden)
            }
        }
    }
}

/// Live counts split into series: by variant when `surface` is given (its rows only),
/// else by surface. Every series has a point per bucket from `since` to `now`.
fn live_series(
    stats: &[StrategyStat],
    surface: Option<&str>,
    since: i64,
    now: i64,
    bucket: i64,
) -> BTreeMap<String, BTreeMap<i64, LiveTotals>> {
    let mut out: BTreeMap<String, BTreeMap<i64, LiveTotals>> = BTreeMap::new();
    for row in stats {
        let key = match surface {
            Some(s) if row.surface != s => continue,
            Some(_) => row.variant.clone(),
            None => row.surface.clone(),
        };
        let buckets = out.entry(key).or_insert_with(|| {
            (since / bucket..=now / bucket)
                .map(|b| (b * bucket, LiveTotals::default()))
                .collect()
        });
        let totals = buckets.entry(row.bucket).or_default();
        totals.impressions += row.impressions;
        totals.clicks += row.clicks;
        totals.carts += row.carts;
        totals.purchases += row.purchases;
    }
    out
}

fn live_charts(
    series: &BTreeMap<String, BTreeMap<i64, LiveTotals>>,
    span: i64,
    range: (f64, f64),
    by: &str,
) -> Result<Vec<Chart>, String> {
    let x_label: &dyn Fn(f64) -> String = if span > 86_400 { &day_hour } else { &hh_mm };
    let count = |y: f64| format!("{y:.0}");
    let percent = |y: f64| format!("{:.0}%", y * 100.0);
    let kinds: [(&str, &str, &str, fn(&LiveTotals) -> Option<f64>); 4] = [
        ("live-impressions", "Lists served", "lists", |t| {
            Some(t.impressions as f64)
        }),
        ("live-ctr", "Click-through rate", "clicks per list", |t| {
            (t.impressions > 0).then(|| t.clicks as f64 / t.impressions as f64)
        }),
        (
            "live-cart",
            "Add-to-cart rate",
            "add to carts per list",
            |t| (t.impressions > 0).then(|| t.carts as f64 / t.impressions as f64),
        ),
        (
            "live-purchase",
            "Purchase rate",
            "purchases per list",
            |t| (t.impressions > 0).then(|| t.purchases as f64 / t.impressions as f64),
        ),
    ];
    let mut charts = Vec::new();
    for (id, title, y_desc, value) in kinds {
        let lines: Vec<Series> = series
            .iter()
            .map(|(name, buckets)| Series {
                name: name.clone(),
                points: buckets
                    .iter()
                    .filter_map(|(at, t)| value(t).map(|v| (*at as f64, v)))
                    .collect(),
            })
            .collect();
        let axes = Axes {
            x_desc: "time (UTC)",
            y_desc,
            x_label,
            y_label: if id == "live-impressions" {
                &count
            } else {
                &percent
            },
            x_range: Some(range),
        };
        let caption = format!(
            "{title} over time, one line per {by}: {}",
            lines
                .iter()
                .map(|s| {
                    let total: f64 = s.points.iter().map(|p| p.1).sum();
                    if id == "live-impressions" {
                        format!("{} {total:.0}", s.name)
                    } else {
                        s.name.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        charts.push(Chart {
            section: "live".into(),
            id: id.into(),
            title: title.into(),
            caption,
            svg: charts::line_chart(&lines, &axes, 280)?,
        });
    }
    Ok(charts)
}

/// A version row's metrics and curves, parsed (a bad JSON text reads as empty).
fn parse_version(row: &ModelVersionRow) -> (VersionSummary, BTreeMap<String, Vec<EpochPoint>>) {
    let metrics: BTreeMap<String, f64> = serde_json::from_str(&row.metrics).unwrap_or_default();
    let names: Vec<String> = serde_json::from_str(&row.models).unwrap_or_default();
    let curves = serde_json::from_str(&row.curves).unwrap_or_default();
    let models = names
        .into_iter()
        .map(|model| ModelMetrics {
            ndcg: metrics.get(&format!("{model}.ndcg@10")).copied(),
            recall: metrics.get(&format!("{model}.recall@10")).copied(),
            coverage: metrics.get(&format!("{model}.coverage")).copied(),
            model,
        })
        .collect();
    let created = utc(row.created_at)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default();
    (
        VersionSummary {
            id: row.model_version_id,
            created,
            origin: row.origin.clone(),
            status: row.status.clone(),
            events: row.trained_events,
            seconds: row.seconds,
            models,
        },
        curves,
    )
}

/// Each model's value of one metric, highest first (models without it left out).
fn ranked(
    models: &[ModelMetrics],
    metric: impl Fn(&ModelMetrics) -> Option<f64>,
) -> Vec<(String, f64)> {
    let mut bars: Vec<(String, f64)> = models
        .iter()
        .filter_map(|m| metric(m).map(|v| (m.model.clone(), v)))
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    bars
}

/// "name value, name value" for a chart's caption.
fn caption(bars: &[(String, f64)], value: impl Fn(f64) -> String) -> String {
    bars.iter()
        .map(|(name, v)| format!("{name} {}", value(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn offline_charts(
    versions: &[(VersionSummary, BTreeMap<String, Vec<EpochPoint>>)],
) -> Result<Vec<Chart>, String> {
    let mut charts = Vec::new();
    let Some((newest, _)) = versions.iter().find(|(v, _)| v.status == "live") else {
        return Ok(charts);
    };
    let bars = ranked(&newest.models, |m| m.ndcg);
    charts.push(Chart {
        section: "offline".into(),
        id: "offline-ndcg".into(),
        title: format!("NDCG@10 by model, version {}", newest.id),
        caption: caption(&bars, |v| format!("{v:.3}")),
        svg: charts::bar_chart(&bars, "holdout NDCG@10", &|v| format!("{v:.3}"))?,
    });
    // Each model's NDCG@10 across versions, oldest first.
    let mut by_model: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (v, _) in versions.iter().rev() {
        for m in &v.models {
            if let Some(n) = m.ndcg {
                by_model
                    .entry(m.model.clone())
                    .or_default()
                    .push((v.id as f64, n));
            }
        }
    }
    if versions.len() > 1 {
        let lines: Vec<Series> = by_model
            .into_iter()
            .map(|(name, points)| Series { name, points })
            .collect();
        let axes = Axes {
            x_desc: "model version",
            y_desc: "NDCG@10",
            x_label: &|x| format!("v{x:.0}"),
            y_label: &|y| format!("{y:.2}"),
            x_range: None,
        };
        charts.push(Chart {
            section: "offline".into(),
            id: "offline-versions".into(),
            title: "NDCG@10 per model across versions".into(),
            caption: format!(
                "One line per model over the last {} versions, rejected ones included",
                versions.len()
            ),
            svg: charts::line_chart(&lines, &axes, 300)?,
        });
    }
    let coverage = ranked(&newest.models, |m| m.coverage);
    charts.push(Chart {
        section: "coverage".into(),
        id: "coverage-models".into(),
        title: format!(
            "Catalogue coverage of each model's top 10, version {}",
            newest.id
        ),
        caption: caption(&coverage, |v| format!("{:.1}%", v * 100.0)),
        svg: charts::bar_chart(
            &coverage,
            "share of the catalogue in holdout top-10 lists",
            &|v| format!("{:.1}%", v * 100.0),
        )?,
    });
    // Training curves: the newest version that has any.
    if let Some((v, curves)) = versions.iter().find(|(_, c)| !c.is_empty()) {
        let loss: Vec<Series> = curves
            .iter()
            .map(|(name, epochs)| Series {
                name: name.clone(),
                points: epochs.iter().map(|e| (e.epoch as f64, e.loss)).collect(),
            })
            .collect();
        let validation: Vec<Series> = curves
            .iter()
            .map(|(name, epochs)| Series {
                name: name.clone(),
                points: epochs
                    .iter()
                    .filter_map(|e| e.validation_ndcg.map(|n| (e.epoch as f64, n)))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        let epochs = |x: f64| format!("{x:.0}");
        charts.push(Chart {
            section: "training".into(),
            id: "training-loss".into(),
            title: format!("Training loss per epoch, version {}", v.id),
            caption: curves
                .iter()
                .map(|(name, e)| format!("{name}: {} epochs", e.len()))
                .collect::<Vec<_>>()
                .join(", "),
            svg: charts::line_chart(
                &loss,
                &Axes {
                    x_desc: "epoch",
                    y_desc: "mean loss",
                    x_label: &epochs,
                    y_label: &|y| format!("{y:.3}"),
                    x_range: None,
                },
                280,
            )?,
        });
        if !validation.is_empty() {
            charts.push(Chart {
                section: "training".into(),
                id: "training-validation".into(),
                title: format!("Validation NDCG@10 per epoch, version {}", v.id),
                caption: "Early stopping keeps the best epoch's weights".into(),
                svg: charts::line_chart(
                    &validation,
                    &Axes {
                        x_desc: "epoch",
                        y_desc: "NDCG@10",
                        x_label: &epochs,
                        y_label: &|y| format!("{y:.3}"),
                        x_range: None,
                    },
                    280,
                )?,
            });
        }
    }
    Ok(charts)
}

/// One line of the event stream.
fn event_line(e: crate::store::recs::RecentEvent) -> EventLine {
    let at = utc(e.occurred_at.div_euclid(1000))
        .map(|t| format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()))
        .unwrap_or_default();
    let mut detail = Vec::new();
    if let Some(q) = &e.query {
        detail.push(format!("\"{q}\""));
    }
    match (e.kind.as_str(), e.value) {
        ("rating", Some(v)) => detail.push(format!("{v:.0} stars")),
        ("add_to_cart" | "remove_from_cart" | "purchase", Some(v)) => {
            detail.push(format!("x{v:.0}"))
        }
        _ => {}
    }
    if let Some(s) = &e.surface {
        detail.push(format!("from {s}"));
    }
    EventLine {
        id: e.interaction_id,
        at,
        shopper: e.shopper_id,
        kind: e.kind,
        product: e.title,
        sku: e.sku,
        detail: detail.join(", "),
    }
}

#[async_trait]
impl Insights for InsightsService {
    async fn insights(
        &self,
        caller: &Caller,
        window_name: String,
        surface: Option<String>,
    ) -> Result<InsightsView, AppError> {
        self.require_admin(caller).await?;
        let (span, bucket) = window(&window_name)?;
        let surfaces: Vec<String> = self.recs.strategy().surface.keys().cloned().collect();
        if let Some(s) = &surface {
            if !surfaces.contains(s) {
                return Err(AppError::invalid(
                    "surface",
                    format!("unknown surface \"{s}\""),
                ));
            }
        }
        // This node's counts of the last seconds first, so the page is current.
        if let Err(error) = self.recs.flush_bandit().await {
            tracing::warn!(%error, "cannot write the live counts before the insights");
        }
        let now = crate::clock::unix_secs();
        let since = (now - span) / bucket * bucket + bucket;
        let stats = self.store.strategy_stats(since, bucket).await?;

        let mut per_strategy: BTreeMap<(String, String), LiveTotals> = BTreeMap::new();
        let mut overall = LiveTotals::default();
        for row in &stats {
            for t in [
                per_strategy
                    .entry((row.surface.clone(), row.variant.clone()))
                    .or_insert_with(|| LiveTotals {
                        surface: row.surface.clone(),
                        variant: row.variant.clone(),
                        ..Default::default()
                    }),
                &mut overall,
            ] {
                t.impressions += row.impressions;
                t.clicks += row.clicks;
                t.carts += row.carts;
                t.purchases += row.purchases;
            }
        }
        let mut strategies: Vec<LiveTotals> = per_strategy.into_values().collect();
        strategies.sort_by(|a, b| b.impressions.cmp(&a.impressions));

        let series = live_series(&stats, surface.as_deref(), since, now, bucket);
        let by = if surface.is_some() {
            "variant"
        } else {
            "surface"
        };
        let versions: Vec<_> = self
            .store
            .model_versions(VERSIONS_SHOWN)
            .await?
            .iter()
            .map(parse_version)
            .collect();
        let split: Vec<SurfaceSplit> = self
            .recs
            .traffic_split()
            .into_iter()
            .map(|(surface, arms)| SurfaceSplit {
                surface,
                arms: arms
                    .into_iter()
                    .map(|(variant, share, impressions, rewards)| ArmShare {
                        variant,
                        share,
                        impressions,
                        rewards,
                    })
                    .collect(),
            })
            .collect();
        let split_rows: Vec<(String, Vec<(String, f64)>)> = split
            .iter()
            .map(|s| {
                (
                    s.surface.clone(),
                    s.arms
                        .iter()
                        .map(|a| (a.variant.clone(), a.share))
                        .collect(),
                )
            })
            .collect();
        let catalogue = self.recs.current().catalog.len() as i64;
        let served_products = self.recs.served_products() as i64;

        let versions_for_charts = versions.clone();
        let split_caption = split
            .iter()
            .map(|s| {
                let arms: Vec<String> = s
                    .arms
                    .iter()
                    .map(|a| format!("{} {:.0}%", a.variant, a.share * 100.0))
                    .collect();
                format!("{}: {}", s.surface, arms.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        // Drawing is CPU work: off the async workers.
        let charts = tokio::task::spawn_blocking(move || {
            let range = (since as f64, (now / bucket * bucket) as f64);
            let mut charts = live_charts(&series, span, range, by)?;
            if !split_rows.is_empty() {
                charts.push(Chart {
                    section: "bandit".into(),
                    id: "bandit-split".into(),
                    title: "Share of the next lists per variant".into(),
                    caption: split_caption,
                    svg: charts::share_chart(&split_rows)?,
                });
            }
            charts.extend(offline_charts(&versions_for_charts)?);
            Ok::<_, String>(charts)
        })
        .await
        .map_err(|e| crate::error::Error::Command(format!("drawing the charts failed: {e}")))?
        .map_err(crate::error::Error::Command)?;

        let mut names = BTreeSet::new();
        names.extend(surfaces.iter().cloned());
        Ok(InsightsView {
            window: window_name,
            surface,
            surfaces: names.into_iter().collect(),
            overall,
            strategies,
            charts,
            versions: versions.into_iter().map(|(v, _)| v).collect(),
            split,
            catalogue,
            served_products,
        })
    }

    async fn recent_events(&self, caller: &Caller) -> Result<Vec<EventLine>, AppError> {
        self.require_admin(caller).await?;
        Ok(self
            .store
            .recent_events(EVENTS_SHOWN)
            .await?
            .into_iter()
            .map(event_line)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(
        surface: &str,
        variant: &str,
        bucket: i64,
        impressions: i64,
        clicks: i64,
    ) -> StrategyStat {
        StrategyStat {
            surface: surface.into(),
            variant: variant.into(),
            bucket,
            impressions,
            clicks,
            carts: 0,
            purchases: 0,
        }
    }

    #[test]
    fn live_series_fill_every_bucket_and_split_by_surface_or_variant() {
        let stats = vec![
            stat("for_you", "blend", 120, 4, 1),
            stat("for_you", "neural", 120, 2, 0),
            stat("trending", "popular", 240, 3, 3),
        ];
        let by_surface = live_series(&stats, None, 60, 300, 60);
        assert_eq!(by_surface.len(), 2);
        let for_you = &by_surface["for_you"];
        assert_eq!(for_you.len(), 5, "buckets 60..=300");
        assert_eq!(for_you[&120].impressions, 6);
        assert_eq!(for_you[&120].clicks, 1);
        assert_eq!(for_you[&60].impressions, 0);
        let by_variant = live_series(&stats, Some("for_you"), 60, 300, 60);
        assert_eq!(
            by_variant.keys().collect::<Vec<_>>(),
            vec!["blend", "neural"]
        );
    }

    #[test]
    fn stored_versions_give_metric_bars_version_lines_and_training_curves() {
        let row = |id: i64, ndcg: f64, curves: &str| ModelVersionRow {
            model_version_id: id,
            created_at: 1_764_000_000,
            trained_events: 100,
            trained_until: 0,
            models: r#"["blend","neumf"]"#.into(),
            metrics: format!(
                r#"{{"blend.ndcg@10":{ndcg},"neumf.ndcg@10":0.05,"blend.coverage":0.4,"neumf.coverage":0.2}}"#
            ),
            status: "live".into(),
            origin: "serve".into(),
            seconds: 1.0,
            curves: curves.into(),
        };
        let curve = serde_json::to_string(&BTreeMap::from([(
            "neumf".to_string(),
            vec![
                EpochPoint {
                    epoch: 1,
                    loss: 0.6,
                    validation_ndcg: Some(0.03),
                },
                EpochPoint {
                    epoch: 2,
                    loss: 0.4,
                    validation_ndcg: Some(0.05),
                },
            ],
        )]))
        .unwrap();
        // Newest first, as the store lists them; the older one has no curves.
        let versions: Vec<_> = [row(2, 0.09, &curve), row(1, 0.07, "{}")]
            .iter()
            .map(parse_version)
            .collect();
        assert_eq!(versions[0].1["neumf"].len(), 2, "curves read back");
        assert_eq!(versions[0].0.models[0].ndcg, Some(0.09));
        let charts = offline_charts(&versions).unwrap();
        let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "offline-ndcg",
                "offline-versions",
                "coverage-models",
                "training-loss",
                "training-validation"
            ]
        );
        assert_eq!(
            charts[0].caption, "blend 0.090, neumf 0.050",
            "highest first"
        );
        assert_eq!(charts[2].caption, "blend 40.0%, neumf 20.0%");
        assert!(charts[3].caption.contains("neumf: 2 epochs"));
        // A version row whose curves text is not JSON shows no curves, not an error.
        let broken = parse_version(&row(3, 0.1, "not json"));
        assert!(broken.1.is_empty());
    }

    #[test]
    fn unknown_windows_name_the_field() {
        assert_eq!(window("day").unwrap(), (86_400, 1_800));
        match window("year") {
            Err(AppError::Invalid { field, .. }) => assert_eq!(field, "window"),
            other => panic!("{other:?}"),
        }
    }
}
