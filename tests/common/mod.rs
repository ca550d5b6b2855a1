//! Data the integration tests share.

use std::io::BufReader;
use std::path::PathBuf;

/// MovieLens-100k with titles and genres as item features, read from ../shared/datasets
/// (or $CURIO_DATASETS), never copied into the repository.
pub fn ml_100k() -> curio::Dataset {
    let dir = std::env::var_os("CURIO_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"))
        .join("ml-100k");
    let open =
        |name: &str| {
            let path = dir.join(name);
            BufReader::new(std::fs::File::open(&path).unwrap_or_else(|e| {
                panic!("{} is needed (set CURIO_DATASETS): {e}", path.display())
            }))
        };
    let ratings = curio::movielens::read_ratings(open("u.data"), "u.data").unwrap();
    assert_eq!(ratings.len(), 100_000, "u.data is the whole MovieLens-100k");
    let mut data = curio::movielens::implicit_dataset(&ratings);
    let genres = curio::movielens::read_genres(open("u.genre"), "u.genre").unwrap();
    let items = curio::movielens::read_items(open("u.item"), &genres, "u.item").unwrap();
    curio::movielens::attach_features(&mut data, items);
    data
}
