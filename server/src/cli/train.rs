//! `curio train`: trains one neural model (NeuMF or two-tower) on a data set, with early
//! stopping, checkpoints and a progress bar, and writes the fitted model to a file that
//! the model's `from_bytes` reads back.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use curio::neural::EpochReport;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::eval::{build_model, load_demo, load_movielens, parse_params};

/// The models `curio train` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NeuralModel {
    /// Neural matrix factorisation (GMF + MLP).
    Neumf,
    /// The two-tower model whose item tower reads product features.
    TwoTower,
}

impl NeuralModel {
    fn name(self) -> &'static str {
        match self {
            NeuralModel::Neumf => "neumf",
            NeuralModel::TwoTower => "two-tower",
        }
    }
}

/// Where training runs (`flex` unless a GPU feature was compiled in and is asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// burn's flex CPU backend.
    Flex,
    /// wgpu (needs a build with `--features wgpu`).
    Wgpu,
    /// CUDA (needs a build with `--features cuda`).
    Cuda,
}

/// Arguments of `curio train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Which model.
    #[arg(long, value_enum, required_unless_present = "publish")]
    pub model: Option<NeuralModel>,
    /// A MovieLens directory holding `u.data` (and `u.item`, `u.genre` for features).
    #[arg(long, conflicts_with = "demo", required_unless_present_any = ["demo", "publish"])]
    pub movielens: Option<PathBuf>,
    /// Train the shop's served models (`--models`) on its database (`DATABASE_URL`) and
    /// publish them as a model version, unless they score worse on the holdout than the
    /// version serving now; serving nodes pick it up within 30 seconds.
    #[arg(long, conflicts_with_all = ["model", "movielens", "demo", "out", "checkpoints"])]
    pub publish: bool,
    /// The shop's generated default data.
    #[arg(long)]
    pub demo: bool,
    /// TOML file of hyper-parameters, as for `curio eval` (`[neumf] epochs = 20`).
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// One hyper-parameter, overriding the file: `--set neumf.gmf_factors=16`.
    #[arg(long = "set", value_name = "MODEL.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Where training runs.
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Write each improving epoch's model into this directory.
    #[arg(long)]
    pub checkpoints: Option<PathBuf>,
    /// Seed of the weights, the validation split and the sampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The fitted model (configuration and weights) goes here.
    #[arg(long, default_value = "model.bin")]
    pub out: PathBuf,
}

/// What a training run produced.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Epochs run.
    pub epochs: Vec<EpochReport>,
    /// Bytes written.
    pub bytes: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Runs `curio train`.
pub fn run(args: &TrainArgs) -> Result<Trained, String> {
    let Some(model) = args.model else {
        return Err("name a model with --model, or train the shop's set with --publish".into());
    };
    let name = model.name();
    let mut overrides = args.overrides.clone();
    if let Some(backend) = args.backend {
        let value = match backend {
            BackendArg::Flex => "flex",
            BackendArg::Wgpu => "wgpu",
            BackendArg::Cuda => "cuda",
        };
        overrides.push(format!("{name}.backend=\"{value}\""));
    }
    if let Some(dir) = &args.checkpoints {
        let dir = dir.display().to_string();
        overrides.push(format!(
            "{name}.checkpoint_dir={}",
            toml::Value::String(dir)
        ));
    }
    let params = parse_params(args.params.as_deref(), &overrides)?;
    for key in params.keys() {
        if key != name {
            return Err(format!(
                "parameters given for {key:?}, but this run trains {name:?}"
            ));
        }
    }
    let mut model = build_model(name, &params, args.seed)?;
    let data = match &args.movielens {
        Some(dir) => load_movielens(dir)?,
        None => load_demo(),
    };
    tracing::info!(
        model = name,
        users = data.n_users(),
        items = data.n_items(),
        interactions = data.matrix.nnz(),
        "training"
    );
    let started = Instant::now();
    let mut epochs = Vec::new();
    let mut report = epoch_reporter();
    model
        .fit_with_progress(&data, &mut |r| {
            report(r);
            epochs.push(r.clone());
        })
        .map_err(|e| e.to_string())?;
    let bytes = model.to_bytes().map_err(|e| e.to_string())?;
    write_atomically(&args.out, &bytes)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(last) = epochs.last() {
        let best = &epochs[last.best_epoch.max(1) - 1];
        println!(
            "{name}: kept epoch {} of {} run (validation NDCG@10 {}), {:.1} s; {} bytes written to {}",
            last.best_epoch,
            epochs.len(),
            best.validation_ndcg
                .map_or("not measured".to_string(), |v| format!("{v:.4}")),
            seconds,
            bytes.len(),
            args.out.display()
        );
    }
    Ok(Trained {
        epochs,
        bytes: bytes.len(),
        seconds,
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
/// reader never sees half a model.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Training progress: a bar with loss and validation NDCG@10 on a terminal, a tracing
/// event per epoch otherwise.
pub fn epoch_reporter() -> impl FnMut(&EpochReport) {
    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<(&'static str, ProgressBar)> = None;
    move |r: &EpochReport| {
        let validation = r
            .validation_ndcg
            .map_or("-".to_string(), |v| format!("{v:.4}"));
        if !terminal {
            tracing::info!(
                model = r.model,
                epoch = r.epoch,
                epochs = r.epochs,
                loss = r.loss,
                validation_ndcg = r.validation_ndcg,
                best_epoch = r.best_epoch,
                seconds = r.seconds,
                checkpoint = r.checkpoint.as_ref().map(|p| p.display().to_string()),
                "epoch"
            );
            return;
        }
        if bar
            .as_ref()
            .is_none_or(|(m, _)| *m != r.model || r.epoch == 1)
        {
            let b = ProgressBar::new(r.epochs as u64);
            b.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b.set_prefix(r.model);
            bar = Some((r.model, b));
        }
        if let Some((_, b)) = &bar {
            b.set_position(r.epoch as u64);
            b.set_message(format!(
                "loss {:.4}  val NDCG@10 {validation}  best epoch {}  {:.2} s/epoch",
                r.loss, r.best_epoch, r.seconds
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        train: TrainArgs,
    }

    fn args(list: &[&str]) -> TrainArgs {
        Cli::parse_from(std::iter::once("train").chain(list.iter().copied())).train
    }

    #[test]
    fn trains_writes_checkpoints_and_a_loadable_model() {
        let dir = std::env::temp_dir().join(format!("curio-train-{}", std::process::id()));
        let data = dir.join("ml");
        std::fs::create_dir_all(&data).unwrap();
        // 40 users over 30 items, two tastes; MovieLens `u.data` lines.
        let mut lines = String::new();
        for user in 1..=40 {
            let base = if user <= 20 { 1 } else { 16 };
            for k in 0..8 {
                let item = base + (user * 3 + k * 2) % 15;
                lines.push_str(&format!("{user}\t{item}\t4\t{}\n", 1000 + k));
            }
        }
        std::fs::write(data.join("u.data"), lines).unwrap();
        let out = dir.join("neumf.bin");
        let checkpoints = dir.join("checkpoints");
        let trained = run(&args(&[
            "--model",
            "neumf",
            "--movielens",
            data.to_str().unwrap(),
            "--set",
            "neumf.epochs=3",
            "--set",
            "neumf.batch_size=64",
            "--checkpoints",
            checkpoints.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]))
        .unwrap();
        assert!(!trained.epochs.is_empty() && trained.epochs.len() <= 3);
        let model = curio::neural::NeuMf::from_bytes(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(
            model.config().epochs,
            3,
            "the configuration is saved with the weights"
        );
        assert_eq!(
            model.config().checkpoint_dir.as_deref(),
            Some(checkpoints.as_path())
        );
        let best = trained.epochs.last().unwrap().best_epoch;
        assert!(checkpoints.join(format!("neumf-epoch-{best}.bin")).exists());

        // A backend this build lacks is refused with the feature to build.
        let err = run(&args(&[
            "--model",
            "two-tower",
            "--movielens",
            data.to_str().unwrap(),
            "--backend",
            "cuda",
            "--out",
            out.to_str().unwrap(),
        ]));
        if !cfg!(feature = "cuda") {
            assert!(err.unwrap_err().contains("--features cuda"));
        }
        // Parameters for another model are an error, not silently ignored.
        let err = run(&args(&[
            "--model",
            "neumf",
            "--movielens",
            data.to_str().unwrap(),
            "--set",
            "als.factors=3",
        ]))
        .unwrap_err();
        assert!(err.contains("this run trains \"neumf\""), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
