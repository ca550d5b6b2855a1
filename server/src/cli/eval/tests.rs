use super::*;
use clap::Parser;
use curio::eval::leave_last_out;
use curio::interaction_files;

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
        err.ends_with("train.tsv:2: expected `user item [unix-seconds]`, found \"only-one-field\""),
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
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"))
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
    let (served, knn, popularity) = (row("for_you/item-knn"), row("item-knn"), row("popularity"));
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
