//! Where `curio eval`'s data comes from: MovieLens directories, interaction files (with
//! `--items`), the generated shop, and the split each protocol makes of them.

use std::io::BufReader;
use std::path::Path;

use curio::data::{Dataset, IdMap, ItemFeatures};
use curio::eval::{cold_start_split, explicit_split, leave_last_out, stratified_split, Split};
use curio::interaction_files;
use curio::movielens::{
    attach_features, implicit_dataset, read_genres, read_items, read_ratings, Rating,
};

use super::{EvalArgs, Protocol};

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
pub(super) fn load_movielens_log(dir: &Path) -> Result<curio::eval::replay::ShopLog, String> {
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

pub(super) fn load_split(args: &EvalArgs) -> Result<(Split, String), String> {
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
