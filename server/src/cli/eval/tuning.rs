//! `curio eval --tune`: the search of each named model's parameters before the test split
//! measures them (the search itself is `curio::tune`).

use curio::eval::Split;
use curio::tune;

use super::{load_params, EvalArgs, Protocol};

/// `--tune`: tunes each named model that has a search space (the blender's members when
/// the blender is named) and returns `params` with the best tables; writes `--tune-out`.
pub(super) fn tune_models(
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
