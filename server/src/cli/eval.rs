//! `curio eval`: fits models on a split and prints accuracy, coverage and novelty at k,
//! as a table and optionally as JSON. With `--surface`, it also replays the strategy's
//! serving pipeline on a temporal split (`curio::eval::replay`): the figure of the lists
//! shoppers get, beside the single models' on the same split.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use curio::data::{Dataset, IdMap, ItemFeatures};
use curio::eval::{
    cold_start_split, evaluate, explicit_split, leave_last_out, stratified_split, Report, Split,
};
use curio::movielens::{
    attach_features, implicit_dataset, read_genres, read_items, read_ratings, Rating,
};
use curio::neural::EpochReport;
use curio::Recommender;
use curio::{interaction_files, registry, tune};
use serde::Serialize;

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
        let learned = model.learned();
        if !learned.is_empty() {
            let list: Vec<String> = learned
                .iter()
                .map(|(k, v)| format!("{k} {v:+.3}"))
                .collect();
            println!("{} learned: {}", model.name(), list.join(", "));
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

/// `--tune`: tunes each named model that has a search space (the blender's members when
/// the blender is named) and returns `params` with the best tables; writes `--tune-out`.
fn tune_models(
    args: &EvalArgs,
    names: &[String],
    mut params: toml::Table,
    split: &Split,
) -> Result<toml::Table, String> {
    let nested = match args.protocol {
        Protocol::LeaveLastOut => tune::Nested::LeaveLastOut,
        Protocol::Stratified | Protocol::ColdStart => tune::Nested::Stratified(args.ratio),
    };
    let validation = tune::nested_split(&split.train, nested, args.seed, args.tune_users);
    let scored = validation.test.iter().filter(|t| !t.is_empty()).count();
    let mut queue: Vec<String> = Vec::new();
    for name in names.iter().map(|n| n.trim().to_string()) {
        let members = (name == "blend")
            .then(|| params.get("blend")?.get("members")?.as_array().cloned())
            .flatten()
            .unwrap_or_default();
        for m in members
            .iter()
            .filter_map(|m| m.as_str())
            .map(str::to_string)
        {
            if !queue.contains(&m) {
                queue.push(m);
            }
        }
        if !queue.contains(&name) {
            queue.push(name);
        }
    }
    let mut tuned = Vec::new();
    for name in queue {
        if tune::space(&name).is_none() {
            println!("{name}: nothing to tune, kept as given");
            continue;
        }
        println!(
            "tuning {name}: {} trials on a nested {nested:?} split, {scored} validation users",
            args.tune
        );
        let search = tune::tune(
            &name,
            &params,
            &validation,
            args.tune,
            args.seed,
            args.k,
            &mut |index, trial| {
                println!(
                    "  {name} trial {index}: NDCG@{} {:.4} in {:.1} s ({})",
                    args.k,
                    trial.ndcg,
                    trial.fit_seconds,
                    describe(&trial.params)
                )
            },
        )?;
        let best = search.best();
        println!(
            "{name} tuned: validation NDCG@{} {:.4} as given, {:.4} at trial {} ({})",
            args.k,
            search.trials[0].ndcg,
            best.ndcg,
            search.best,
            describe(&best.params)
        );
        params.insert(name.clone(), toml::Value::Table(best.params.clone()));
        tuned.push((name, best.params.clone()));
    }
    if let Some(path) = &args.tune_out {
        // The tables given and the tuned ones; not the blender's members that eval
        // filled in for this data (a shop node picks its own).
        let mut file = load_params(args)?;
        for (name, table) in tuned {
            file.insert(name, toml::Value::Table(table));
        }
        let text = format!(
            "# Tuned by `curio eval --tune {}` (seed {}).\n{}",
            args.tune,
            args.seed,
            toml::to_string(&file).map_err(|e| e.to_string())?
        );
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("tuned parameters written to {}", path.display());
    }
    Ok(params)
}

/// `key = value` pairs of a parameter table, or "defaults".
fn describe(table: &toml::Table) -> String {
    if table.is_empty() {
        return "defaults".into();
    }
    table
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// Loads a MovieLens directory: `u.data` as implicit feedback, and titles and genres
/// from `u.item` and `u.genre` when they are there.
pub fn load_movielens(dir: &Path) -> Result<Dataset, String> {
    let (ratings, items) = read_movielens(dir)?;
    let mut data = implicit_dataset(&ratings);
    if let Some(items) = items {
        attach_features(&mut data, items);
    }
    Ok(data)
}

/// A MovieLens directory as a shop's log: star ratings in time order, with the movies'
/// titles and genres when `u.item` and `u.genre` are there.
fn load_movielens_log(dir: &Path) -> Result<curio::eval::replay::ShopLog, String> {
    let (ratings, items) = read_movielens(dir)?;
    Ok(curio::eval::replay::ShopLog::from_movielens(
        &ratings,
        items.unwrap_or_default(),
    ))
}

type MovieLensFiles = (Vec<Rating>, Option<Vec<(u32, ItemFeatures)>>);

/// The ratings of `u.data`, and the movies of `u.item` (with `u.genre`) when both are there.
fn read_movielens(dir: &Path) -> Result<MovieLensFiles, String> {
    let open = |p: &Path| {
        std::fs::File::open(p)
            .map(BufReader::new)
            .map_err(|e| format!("cannot open {}: {e}", p.display()))
    };
    let path = dir.join("u.data");
    let ratings =
        read_ratings(open(&path)?, &path.display().to_string()).map_err(|e| e.to_string())?;
    let (item_path, genre_path) = (dir.join("u.item"), dir.join("u.genre"));
    if !(item_path.exists() && genre_path.exists()) {
        return Ok((ratings, None));
    }
    let genres = read_genres(open(&genre_path)?, &genre_path.display().to_string())
        .map_err(|e| e.to_string())?;
    let items = read_items(open(&item_path)?, &genres, &item_path.display().to_string())
        .map_err(|e| e.to_string())?;
    Ok((ratings, Some(items)))
}

/// The generated default shop's data (the same seed and sizes a fresh shop starts with).
pub fn load_demo() -> Dataset {
    curio::demo::generate(&curio::demo::DemoConfig::default()).dataset()
}

/// Gives `data` the features of an `--items` file, saying how many items it described.
fn attach_item_file(data: &mut Dataset, path: Option<&Path>) -> Result<(), String> {
    let Some(path) = path else { return Ok(()) };
    let found = interaction_files::read_items(path, &data.items)?;
    println!(
        "{}: {} of {} items described{}",
        path.display(),
        found.described,
        data.n_items(),
        if found.unknown > 0 {
            format!(
                ", {} lines for items without interactions skipped",
                found.unknown
            )
        } else {
            String::new()
        }
    );
    data.features = found.features;
    Ok(())
}

fn load_split(args: &EvalArgs) -> Result<(Split, String), String> {
    let source = match (&args.movielens, &args.data, args.demo) {
        (Some(dir), _, _) => Some((
            load_movielens(dir)?,
            dir.join("u.data").display().to_string(),
        )),
        (None, Some(path), _) => {
            let mut data = interaction_files::load(path)?;
            attach_item_file(&mut data, args.items.as_deref())?;
            Some((data, path.display().to_string()))
        }
        (None, None, true) => Some((load_demo(), "generated default shop".to_string())),
        (None, None, false) => None,
    };
    if let Some((data, name)) = source {
        return Ok(match args.protocol {
            Protocol::Stratified => {
                if !(0.0..1.0).contains(&args.ratio) || args.ratio == 0.0 {
                    return Err(format!(
                        "--ratio must be between 0 and 1, got {}",
                        args.ratio
                    ));
                }
                (
                    stratified_split(&data, args.ratio, args.seed),
                    format!(
                        "{name}: stratified split {} (seed {})",
                        args.ratio, args.seed
                    ),
                )
            }
            Protocol::LeaveLastOut => (leave_last_out(&data), format!("{name}: leave-last-out")),
            Protocol::ColdStart => {
                if !(0.0..1.0).contains(&args.cold_items) || args.cold_items == 0.0 {
                    return Err(format!(
                        "--cold-items must be between 0 and 1, got {}",
                        args.cold_items
                    ));
                }
                let split = cold_start_split(&data, args.cold_items, args.seed);
                let n = split.candidates.as_ref().map_or(0, Vec::len);
                (
                    split,
                    format!(
                        "{name}: cold start, {n} items held out ({} of those with interactions, seed {}), ranked among themselves",
                        args.cold_items, args.seed
                    ),
                )
            }
        });
    }
    let (train_path, test_path) =
        match (&args.train, &args.test) {
            (Some(train), Some(test)) => (train, test),
            _ => return Err(
                "give --movielens DIR, --data FILE, --demo, or both --train FILE and --test FILE"
                    .into(),
            ),
        };
    let mut users = IdMap::new();
    let mut items = IdMap::new();
    let train_rows = interaction_files::read(train_path, &mut users, &mut items)?;
    let test_pairs: Vec<(u32, u32)> = interaction_files::read(test_path, &mut users, &mut items)?
        .into_iter()
        .map(|(u, i, _, _)| (u, i))
        .collect();
    let mut train = Dataset::from_timed(users, items, &train_rows);
    attach_item_file(&mut train, args.items.as_deref())?;
    Ok((
        explicit_split(train, &test_pairs),
        format!(
            "train {} / test {}",
            train_path.display(),
            test_path.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        eval: EvalArgs,
    }

    fn args(list: &[&str]) -> EvalArgs {
        Cli::parse_from(std::iter::once("eval").chain(list.iter().copied())).eval
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn explicit_files_give_a_table_and_json() {
        let dir = std::env::temp_dir().join(format!("curio-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Two tastes: a/b/c like x-y-z, d/e/f like p-q-r; each held-out item fits the taste.
        let train = write(
            &dir,
            "train.tsv",
            "a\tx\na\ty\nb\tx\nb\tz\nc\ty\nc\tz\nd\tp\nd\tq\ne\tp\ne\tr\nf\tq\nf\tr\n",
        );
        let test = write(&dir, "test.tsv", "a\tz\nb\ty\nc\tx\nd\tr\ne\tq\nf\tp\n");
        let json = dir.join("out.json");
        // The file sets two values; `--set` overrides one of them.
        let params = write(
            &dir,
            "params.toml",
            "[item-knn]\nneighbours = 5\nshrinkage = 50.0\n",
        );
        let a = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--k",
            "1",
            "--models",
            "popularity,item-knn",
            "--params",
            params.to_str().unwrap(),
            "--set",
            "item-knn.shrinkage=0",
            "--json",
            json.to_str().unwrap(),
        ]);
        let results = run(&a).unwrap();
        assert_eq!(results.rows.len(), 2);
        let knn = &results.rows[1].report;
        assert_eq!(knn.model, "item-knn");
        assert_eq!(knn.metrics.hit_rate, 1.0, "{knn:?}");
        assert!(knn.metrics.ndcg > results.rows[0].report.metrics.ndcg);
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(written["rows"][1]["model"], "item-knn");
        let merged = load_params(&a).unwrap();
        assert_eq!(
            merged["item-knn"]["neighbours"].as_integer(),
            Some(5),
            "from the file"
        );
        assert_eq!(
            merged["item-knn"]["shrinkage"].as_integer(),
            Some(0),
            "--set wins"
        );
        // No --models, no item features: the defaults and the blender's members are the
        // models these files can feed (no content model), as the README runs it.
        let plain = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
        ]);
        let results = run(&plain).unwrap();
        let names: Vec<&str> = results
            .rows
            .iter()
            .map(|r| r.report.model.as_str())
            .collect();
        assert!(!names.contains(&"content"), "{names:?}");
        assert!(names.contains(&"item-knn"), "{names:?}");
        let blend = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--models",
            "blend",
        ]);
        // Six users are too few for the blender to learn weights; what it must not say is
        // that a member needs features.
        if let Err(e) = run(&blend) {
            assert!(!e.contains("features"), "{e}");
        }
        // With --items the defaults take the content model, and the two categories of
        // the file are the two tastes, so content alone finds every held-out item.
        let mut lines = String::new();
        for (id, category) in [("x", "Games"), ("y", "Games"), ("z", "Games")]
            .into_iter()
            .chain([("p", "Toys"), ("q", "Toys"), ("r", "Toys")])
        {
            lines.push_str(&format!(
                "{{\"id\": \"{id}\", \"title\": \"{category} {id}\", \"category\": \"{category}\"}}\n"
            ));
        }
        let items = write(&dir, "items.jsonl", &lines);
        let described = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--items",
            items.to_str().unwrap(),
            "--k",
            "1",
        ]);
        let results = run(&described).unwrap();
        let content = results
            .rows
            .iter()
            .find(|r| r.report.model == "content")
            .expect("content runs with --items");
        assert_eq!(content.report.metrics.hit_rate, 1.0, "{content:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tuned_parameters_are_written_and_read_back() {
        let dir = std::env::temp_dir().join(format!("curio-tune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Twelve users in two tastes of six items, four items each in file order.
        let mut train = String::new();
        let mut test = String::new();
        for user in 0..12 {
            let base = if user % 2 == 0 { 0 } else { 6 };
            for step in 0..5 {
                let item = base + (user / 2 + step) % 6;
                let line = format!("u{user}\ti{item}\n");
                if step < 4 {
                    train.push_str(&line)
                } else {
                    test.push_str(&line)
                }
            }
        }
        let train = write(&dir, "train.tsv", &train);
        let test = write(&dir, "test.tsv", &test);
        let out = dir.join("tuned.toml");
        let files = [
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--protocol",
            "leave-last-out",
            "--models",
            "popularity,user-knn",
        ];
        let mut tuned_args = files.to_vec();
        tuned_args.extend(["--tune", "3", "--tune-out", out.to_str().unwrap()]);
        let tuned = run(&args(&tuned_args)).unwrap();
        let written: toml::Table = std::fs::read_to_string(&out).unwrap().parse().unwrap();
        assert!(!written.contains_key("blend"), "{written:?}");
        let knn = written["user-knn"].as_table().unwrap();
        assert!(knn.is_empty() || knn.contains_key("neighbours"), "{knn:?}");
        // The file reproduces the tuned run's figures.
        let mut again_args = files.to_vec();
        again_args.extend(["--params", out.to_str().unwrap()]);
        let again = run(&args(&again_args)).unwrap();
        for (a, b) in tuned.rows.iter().zip(&again.rows) {
            assert_eq!(
                a.report.metrics.ndcg, b.report.metrics.ndcg,
                "{}",
                a.report.model
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_order_is_time_order() {
        let dir = std::env::temp_dir().join(format!("curio-eval-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Space-separated, no times: the last line of each user is their latest item,
        // whatever the ids' order; a time column, when given, wins over file order.
        let plain = write(&dir, "plain.txt", "1 30\n1 10\n1 20\n2 10\n2 30\n");
        let data = interaction_files::load(&plain).unwrap();
        let split = leave_last_out(&data);
        let item = |i: u32| data.items.external(i).unwrap().to_string();
        let user = |u: &str| data.users.get(u).unwrap();
        assert_eq!(
            split.test[user("1") as usize]
                .iter()
                .map(|&i| item(i))
                .collect::<Vec<_>>(),
            ["20"]
        );
        assert_eq!(
            split.test[user("2") as usize]
                .iter()
                .map(|&i| item(i))
                .collect::<Vec<_>>(),
            ["30"]
        );
        let order: Vec<String> = data
            .sequence(user("1"))
            .iter()
            .map(|&(i, _)| item(i))
            .collect();
        assert_eq!(order, ["30", "10", "20"]);
        let timed = write(&dir, "timed.tsv", "u\tb\t200\nu\ta\t100\n");
        let data = interaction_files::load(&timed).unwrap();
        let last = data.last_item(0).unwrap();
        assert_eq!(data.items.external(last), Some("b"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_input_is_named() {
        let dir = std::env::temp_dir().join(format!("curio-eval-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let train = write(&dir, "train.tsv", "a\tx\nonly-one-field\n");
        let test = write(&dir, "test.tsv", "a\ty\n");
        let a = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
        ]);
        let err = run(&a).unwrap_err();
        assert!(
            err.ends_with(
                "train.tsv:2: expected `user item [unix-seconds]`, found \"only-one-field\""
            ),
            "{err}"
        );
        let timed = write(&dir, "timed.tsv", "a\tx\t1700000000\na\ty\tyesterday\n");
        let err = run(&args(&["--data", timed.to_str().unwrap()])).unwrap_err();
        assert!(
            err.ends_with(
                "timed.tsv:2: column 3 (time) must be whole unix seconds, found \"yesterday\""
            ),
            "{err}"
        );

        let a = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--set",
            "als.factorz=3",
        ]);
        let err = run(&a).unwrap_err();
        assert!(
            err.contains("parameters of als") && err.contains("factorz"),
            "{err}"
        );
        let a = args(&[
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--models",
            "magic",
        ]);
        assert!(run(&a).unwrap_err().contains("unknown model \"magic\""));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The real MovieLens-100k beside the checkout (never copied into the repository).
    fn ml_100k_dir() -> PathBuf {
        std::env::var_os("CURIO_DATASETS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets")
            })
            .join("ml-100k")
    }

    #[test]
    fn movielens_directory_gives_every_model_and_both_protocols() {
        let dir = ml_100k_dir();
        assert!(
            dir.join("u.data").exists(),
            "{} is needed (set CURIO_DATASETS)",
            dir.display()
        );
        let dir = dir.to_str().unwrap();

        // No --models: every model the data allows; u.item is there, so content too.
        let results = run(&args(&["--movielens", dir])).unwrap();
        let names: Vec<&str> = results
            .rows
            .iter()
            .map(|r| r.report.model.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "popularity",
                "item-knn",
                "user-knn",
                "ease",
                "als",
                "bpr",
                "content"
            ]
        );
        assert_eq!((results.users, results.items), (943, 1682));
        let best = results
            .rows
            .iter()
            .map(|r| r.report.metrics.ndcg)
            .fold(0.0, f64::max);
        assert!(best >= 0.45, "best NDCG@10 {best}");

        let last = run(&args(&[
            "--movielens",
            dir,
            "--protocol",
            "leave-last-out",
            "--models",
            "popularity",
        ]))
        .unwrap();
        let popularity = &last.rows[0].report;
        assert_eq!(popularity.users, 943, "every user has a held-out item");
        assert!(
            (popularity.metrics.hit_rate - 0.086).abs() < 0.005,
            "{popularity:?}"
        );

        let err = run(&args(&["--movielens", dir, "--ratio", "1.5"])).unwrap_err();
        assert!(err.contains("--ratio must be between 0 and 1"), "{err}");
    }

    /// The rows of `--surface for_you` with the quick models: the single models, then the
    /// served pipeline's item-kNN variant, measured on the same shoppers.
    fn check_for_you_rows(results: &Results, shoppers: usize) {
        let names: Vec<&str> = results
            .rows
            .iter()
            .map(|r| r.report.model.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "popularity",
                "trending",
                "item-knn",
                "content",
                "for_you/item-knn"
            ],
            "the blend and two-tower variants sit out without their models"
        );
        let row = |name: &str| {
            &results
                .rows
                .iter()
                .find(|r| r.report.model == name)
                .unwrap()
                .report
        };
        let (served, knn, popularity) =
            (row("for_you/item-knn"), row("item-knn"), row("popularity"));
        assert_eq!(served.users, knn.users);
        assert!(served.users >= shoppers, "{served:?}");
        assert!(
            served.metrics.ndcg > 0.0 && served.metrics.recall > 0.0,
            "{served:?}"
        );
        assert!(popularity.metrics.ndcg > 0.0, "{popularity:?}");
    }

    #[test]
    fn surface_replay_runs_on_the_demo_shop_and_on_movielens() {
        let quick = [
            "--models",
            "popularity,trending,item-knn,content",
            "--surface",
            "for_you",
        ];
        let demo: Vec<&str> = ["--demo"].into_iter().chain(quick).collect();
        let results = run(&args(&demo)).unwrap();
        assert!(
            results.setup.contains("temporal split"),
            "{}",
            results.setup
        );
        check_for_you_rows(&results, 300);
        let (served, popularity) = (&results.rows[4].report, &results.rows[0].report);
        assert!(
            served.metrics.ndcg > popularity.metrics.ndcg,
            "the demo's shoppers have tastes: {served:?} vs {popularity:?}"
        );

        let dir = ml_100k_dir();
        let dir = dir.to_str().unwrap();
        let movielens: Vec<&str> = ["--movielens", dir].into_iter().chain(quick).collect();
        let results = run(&args(&movielens)).unwrap();
        check_for_you_rows(&results, 20);

        let err = run(&args(&["--demo", "--surface", "nowhere"])).unwrap_err();
        assert!(err.contains("no such surface"), "{err}");
        let err = run(&args(&["--demo", "--surface", "for_you", "--holdout", "1"])).unwrap_err();
        assert!(err.contains("--holdout"), "{err}");
    }
}
