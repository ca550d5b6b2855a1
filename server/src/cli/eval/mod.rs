//! `curio eval`: fits models on a split and prints accuracy, coverage and novelty at k,
//! as a table and optionally as JSON. With `--surface`, it also replays the strategy's
//! serving pipeline on a temporal split (`curio::eval::replay`): the figure of the lists
//! shoppers get, beside the single models' on the same split.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use curio::eval::{evaluate, Report};
use curio::neural::EpochReport;
use curio::registry;
use curio::Recommender;
use serde::Serialize;

mod data;
mod tuning;

pub use data::{load_demo, load_movielens};
use data::{load_movielens_log, load_split};
use tuning::tune_models;

/// Arguments of `curio eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// A MovieLens directory holding `u.data` (e.g. ../shared/datasets/ml-100k).
    #[arg(
        long,
        conflicts_with_all = ["train", "test", "demo", "data"],
        required_unless_present_any = ["train", "demo", "data"]
    )]
    pub movielens: Option<PathBuf>,
    /// Interactions to split with `--protocol`: `user item [unix-seconds]` lines,
    /// tab- or space-separated. Without the time column, file order is time order
    /// (as in the SASRec datasets, e.g. ../shared/datasets/amazon-games/Video.txt).
    #[arg(long, conflicts_with_all = ["train", "test", "demo"])]
    pub data: Option<PathBuf>,
    /// The shop's generated default catalogue and shoppers (the data a fresh shop starts
    /// with), with product features.
    #[arg(long, conflicts_with_all = ["train", "test"])]
    pub demo: bool,
    /// Training pairs: `user item [unix-seconds]` lines, tab- or space-separated
    /// (columns after the third are ignored). Without the time column, file order is time order.
    #[arg(long, requires = "test")]
    pub train: Option<PathBuf>,
    /// Held-out pairs, same format; every pair is a relevant item.
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// Item features for `--data` or `--train`/`--test`: JSON lines, one object per item,
    /// `{"id": "B00X", "title": "...", "description": "...", "brand": "...",
    /// "category": "Games > Consoles", "tags": ["retro"], "price": 19.99}` (only `id` is
    /// required; it matches the interactions' item column). With it the content model and
    /// the blend's content member run.
    #[arg(long, conflicts_with_all = ["movielens", "demo"])]
    pub items: Option<PathBuf>,
    /// How to split `--movielens`, `--data` or `--demo` data.
    #[arg(long, value_enum, default_value_t = Protocol::Stratified)]
    pub protocol: Protocol,
    /// Share of each user's items that trains (stratified protocol).
    #[arg(long, default_value_t = 0.75)]
    pub ratio: f64,
    /// Share of the items held out entirely (cold-start protocol).
    #[arg(long, default_value_t = 0.2)]
    pub cold_items: f64,
    /// Seed of the split and of every model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Cut-off of the metrics.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Models to evaluate, comma-separated. Default: popularity, item-knn, user-knn, ease,
    /// als, bpr, and content when the data has item features (MovieLens `u.item`).
    #[arg(long, value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// TOML file of hyper-parameters, one table per model: `[als] factors = 128`.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// One hyper-parameter, overriding the file: `--set als.factors=128` (repeatable).
    #[arg(long = "set", value_name = "MODEL.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Replay these surfaces of the strategy (comma-separated, e.g. `for_you`): each
    /// shopper's list as the serving pipeline ranks it, one row per variant, on a
    /// temporal split (the latest `--holdout` of the events held out) that the single
    /// models are measured on too. Needs `--demo` or `--movielens`.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["train", "test"])]
    pub surface: Option<Vec<String>>,
    /// Share of the latest events held out by `--surface`'s temporal split.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// The strategy `--surface` replays (the built-in one otherwise).
    #[arg(long)]
    pub strategy: Option<PathBuf>,
    /// Tune each model first: this many trials of a seeded random search (the first is
    /// the parameters given) on a validation split nested in the training data (for
    /// leave-last-out each user's latest training item, else a stratified `--ratio`
    /// split of it); the test split then measures the best.
    #[arg(long, default_value_t = 0, conflicts_with = "surface")]
    pub tune: usize,
    /// Validation users scored per trial, at most (a seeded sample).
    #[arg(long, default_value_t = 5000)]
    pub tune_users: usize,
    /// Write the tuned parameters (with those given) to this TOML file, for
    /// `curio eval --params` and `curio serve --model-params`.
    #[arg(long, requires = "tune")]
    pub tune_out: Option<PathBuf>,
}

/// How `--movielens`, `--data` or `--demo` data is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Random per-user split by `--ratio` (the Microsoft Recommenders protocol at 0.75).
    Stratified,
    /// Each user's latest item is held out (file order breaks ties of time); models
    /// that stop early validate on the item before it.
    LeaveLastOut,
    /// A share of the items (`--cold-items`) is held out entirely; each user who touched
    /// one ranks the held-out items among themselves.
    ColdStart,
}

/// One model's line of results.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Seconds to fit.
    pub fit_seconds: f64,
    /// Metrics.
    #[serde(flatten)]
    pub report: Report,
}

/// What `curio eval` found.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// Where the data came from and how it was split.
    pub setup: String,
    /// Users and items in the training data.
    pub users: usize,
    /// Items known.
    pub items: usize,
    /// One row per model.
    pub rows: Vec<Row>,
}

/// Runs the evaluation, prints the table, writes the JSON if asked.
pub fn run(args: &EvalArgs) -> Result<Results, String> {
    run_with(args, &mut |_| {})
}

/// [`run`], reporting the neural models' epochs to `progress`.
pub fn run_with(
    args: &EvalArgs,
    progress: &mut dyn FnMut(&EpochReport),
) -> Result<Results, String> {
    let params = load_params(args)?;
    // Check model names and parameters before reading any data.
    let named = args.models.iter().flatten().map(String::as_str);
    for name in named.chain(params.keys().map(String::as_str)) {
        build_model(name.trim(), &params, args.seed)?;
    }
    if let Some(surfaces) = &args.surface {
        return replay_surfaces(args, surfaces, &params, progress);
    }
    let (split, setup) = load_split(args)?;
    let has_features = !split.train.features.is_empty();
    let mut params = registry::with_feedable_blend(params, has_features);
    if args.protocol == Protocol::LeaveLastOut && args.train.is_none() {
        params = registry::with_blend_default(params, "holdout", "last".into());
    }
    let names = args
        .models
        .clone()
        .unwrap_or_else(|| registry::eval_defaults(has_features));
    if args.tune > 0 {
        params = tune_models(args, &names, params, &split)?;
    }
    let mut models = Vec::new();
    for name in &names {
        models.push(build_model(name.trim(), &params, args.seed)?);
    }
    let mut rows = Vec::new();
    for mut model in models {
        let start = Instant::now();
        model
            .fit_with_progress(&split.train, progress)
            .map_err(|e| e.to_string())?;
        let fit_seconds = start.elapsed().as_secs_f64();
        let report = evaluate(model.as_ref(), &split, args.k);
        let learned: Vec<String> = model
            .learned()
            .iter()
            .map(|(k, v)| format!("{k} {v:+.3}"))
            .collect();
        let stages: Vec<String> = model
            .fit_stages()
            .iter()
            .map(|(stage, s)| format!("{stage} {s:.2} s"))
            .collect();
        for (what, list) in [("learned", learned), ("fit", stages)] {
            if !list.is_empty() {
                println!("{} {what}: {}", model.name(), list.join(", "));
            }
        }
        rows.push(Row {
            fit_seconds,
            report,
        });
    }
    let results = Results {
        setup,
        users: split.train.n_users(),
        items: split.train.n_items(),
        rows,
    };
    print_table(&results, args.k);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(results)
}

/// `--surface`: fits the models on a temporal split, measures each, then replays each
/// surface's variants through the serving pipeline.
fn replay_surfaces(
    args: &EvalArgs,
    surfaces: &[String],
    params: &toml::Table,
    progress: &mut dyn FnMut(&EpochReport),
) -> Result<Results, String> {
    use curio::eval::replay::{model_set, replay, temporal_split, ShopLog};
    if !(args.holdout > 0.0 && args.holdout < 1.0) {
        return Err(format!(
            "--holdout must be between 0 and 1, got {}",
            args.holdout
        ));
    }
    let strategy = match &args.strategy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let known: Vec<&str> = registry::names().collect();
            curio::strategy::Strategy::parse(&text, &known)
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => curio::strategy::Strategy::builtin(),
    };
    for name in surfaces {
        if !strategy.surface.contains_key(name) {
            return Err(format!(
                "--surface {name:?}: no such surface (known: {})",
                strategy
                    .surface
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let (log, name) = match (&args.movielens, args.demo) {
        (Some(dir), _) => (
            load_movielens_log(dir)?,
            dir.join("u.data").display().to_string(),
        ),
        (None, true) => (
            ShopLog::from_demo(&curio::demo::generate(&curio::demo::DemoConfig::default())),
            "generated default shop".to_string(),
        ),
        (None, false) => return Err("--surface needs --demo or --movielens DIR".into()),
    };
    let split = temporal_split(&log, args.holdout);
    // The named models, else the defaults plus every model the surfaces' variants use.
    let names = match &args.models {
        Some(names) => names.iter().map(|n| n.trim().to_string()).collect(),
        None => {
            let mut names = registry::eval_defaults(!log.features.is_empty());
            for surface in surfaces {
                for variant in &strategy.surface[surface].variants {
                    for model in &variant.models {
                        if !names.contains(model) {
                            names.push(model.clone());
                        }
                    }
                }
            }
            names
        }
    };
    let mut rows = Vec::new();
    let mut fitted = Vec::new();
    for name in &names {
        let mut model = build_model(name, params, args.seed)?;
        let start = Instant::now();
        model
            .fit_with_progress(&split.split.train, progress)
            .map_err(|e| e.to_string())?;
        let fit_seconds = start.elapsed().as_secs_f64();
        rows.push(Row {
            fit_seconds,
            report: evaluate(model.as_ref(), &split.split, args.k),
        });
        fitted.push(model);
    }
    let set = model_set(&log, &split, fitted).map_err(|e| e.to_string())?;
    for surface in surfaces {
        let reports =
            replay(&set, &strategy, surface, &split, args.k).map_err(|e| e.to_string())?;
        if reports.is_empty() {
            println!("{surface}: no variant has all its models here (add them to --models)");
        }
        rows.extend(reports.into_iter().map(|report| Row {
            fit_seconds: 0.0,
            report,
        }));
    }
    let cut = time::OffsetDateTime::from_unix_timestamp(split.cut_ms.div_euclid(1000))
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_else(|_| split.cut_ms.to_string());
    let results = Results {
        setup: format!(
            "{name}: temporal split, the latest {} of events held out (cut {cut}); \
             surface rows are the served pipeline",
            args.holdout
        ),
        users: split.split.train.n_users(),
        items: split.split.train.n_items(),
        rows,
    };
    print_table(&results, args.k);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(results)
}

fn print_table(results: &Results, k: usize) {
    println!(
        "{} — {} users, {} items",
        results.setup, results.users, results.items
    );
    // The first column fits the longest name (`because_you_liked/knn+content`).
    let w = results
        .rows
        .iter()
        .map(|row| row.report.model.len())
        .max()
        .unwrap_or(0)
        .max(20);
    println!(
        "{:<w$} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}",
        "model",
        "fit s",
        format!("NDCG@{k}"),
        format!("P@{k}"),
        format!("R@{k}"),
        format!("MAP@{k}"),
        format!("HR@{k}"),
        format!("MRR@{k}"),
        "coverage",
        "novelty",
        "diversity"
    );
    for row in &results.rows {
        let m = &row.report.metrics;
        println!(
            "{:<w$} {:>8.2} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.3} {:>8.2} {:>9.3}",
            row.report.model,
            row.fit_seconds,
            m.ndcg,
            m.precision,
            m.recall,
            m.map,
            m.hit_rate,
            m.mrr,
            row.report.coverage,
            row.report.novelty,
            row.report.diversity
        );
    }
}

/// The hyper-parameter tables: the TOML file, then the `--set` overrides.
fn load_params(args: &EvalArgs) -> Result<toml::Table, String> {
    parse_params(args.params.as_deref(), &args.overrides)
}

/// Hyper-parameter tables from an optional TOML file and `MODEL.KEY=VALUE` overrides.
pub fn parse_params(file: Option<&Path>, overrides: &[String]) -> Result<toml::Table, String> {
    let table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            text.parse::<toml::Table>()
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => toml::Table::new(),
    };
    registry::apply_overrides(table, overrides).map_err(|e| e.to_string())
}

/// A model by name from the registry, configured from its table in `params`.
pub fn build_model(
    name: &str,
    params: &toml::Table,
    seed: u64,
) -> Result<Box<dyn Recommender>, String> {
    registry::build(name, params, seed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
