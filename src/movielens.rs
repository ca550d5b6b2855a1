//! Reads MovieLens `u.data` (tab-separated `user item rating timestamp`), with errors that
//! name the line and field.

use std::io::BufRead;

use crate::data::{Dataset, IdMap, ItemFeatures};
use crate::recommender::EngineError;

/// One rating of `u.data`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    /// MovieLens user id.
    pub user: u32,
    /// MovieLens item id.
    pub item: u32,
    /// 1 to 5 stars.
    pub stars: f32,
    /// Unix seconds.
    pub time: i64,
}

/// Parses `u.data`; `source` names the input in errors.
pub fn read_ratings(reader: impl BufRead, source: &str) -> Result<Vec<Rating>, EngineError> {
    let mut ratings = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index + 1;
        let line =
            line.map_err(|e| EngineError::Data(format!("{source}:{line_no}: cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 4 {
            return Err(EngineError::Data(format!(
                "{source}:{line_no}: expected 4 tab-separated fields (user, item, rating, timestamp), found {}",
                fields.len()
            )));
        }
        let field = |n: usize, name: &str| -> Result<i64, EngineError> {
            fields[n].trim().parse::<i64>().map_err(|_| {
                EngineError::Data(format!(
                    "{source}:{line_no}: field {name} is not a whole number: {:?}",
                    fields[n]
                ))
            })
        };
        let stars = field(2, "rating")?;
        if !(1..=5).contains(&stars) {
            return Err(EngineError::Data(format!(
                "{source}:{line_no}: field rating must be 1 to 5, found {stars}"
            )));
        }
        let id = |n: usize, name: &str| -> Result<u32, EngineError> {
            u32::try_from(field(n, name)?).map_err(|_| {
                EngineError::Data(format!("{source}:{line_no}: field {name} is out of range"))
            })
        };
        ratings.push(Rating {
            user: id(0, "user")?,
            item: id(1, "item")?,
            stars: stars as f32,
            time: field(3, "timestamp")?,
        });
    }
    Ok(ratings)
}

/// Reads `u.genre` (`name|index` lines) into the genre names by index.
pub fn read_genres(reader: impl BufRead, source: &str) -> Result<Vec<String>, EngineError> {
    let mut genres: Vec<(usize, String)> = Vec::new();
    for (index, line) in reader.split(b'\n').enumerate() {
        let line =
            latin1(&line.map_err(|e| {
                EngineError::Data(format!("{source}:{}: cannot read: {e}", index + 1))
            })?);
        if line.trim().is_empty() {
            continue;
        }
        let (name, number) = line.trim().rsplit_once('|').ok_or_else(|| {
            EngineError::Data(format!("{source}:{}: expected `name|index`", index + 1))
        })?;
        let number = number.parse::<usize>().map_err(|_| {
            EngineError::Data(format!(
                "{source}:{}: field index is not a whole number: {number:?}",
                index + 1
            ))
        })?;
        genres.push((number, name.to_string()));
    }
    genres.sort();
    Ok(genres.into_iter().map(|(_, name)| name).collect())
}

/// Reads `u.item` (`id|title|release|video release|url|` then one 0/1 flag per genre,
/// Latin-1) into each item's features: the title, and the genres as tags (unordered labels, not a category path).
pub fn read_items(
    reader: impl BufRead,
    genres: &[String],
    source: &str,
) -> Result<Vec<(u32, ItemFeatures)>, EngineError> {
    let mut items = Vec::new();
    for (index, line) in reader.split(b'\n').enumerate() {
        let line_no = index + 1;
        let line = latin1(
            &line
                .map_err(|e| EngineError::Data(format!("{source}:{line_no}: cannot read: {e}")))?,
        );
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.trim_end_matches(['\r', '\n']).split('|').collect();
        if fields.len() != 5 + genres.len() {
            return Err(EngineError::Data(format!(
                "{source}:{line_no}: expected {} `|`-separated fields, found {}",
                5 + genres.len(),
                fields.len()
            )));
        }
        let id = fields[0].parse::<u32>().map_err(|_| {
            EngineError::Data(format!(
                "{source}:{line_no}: field movie id is not a whole number: {:?}",
                fields[0]
            ))
        })?;
        let tags = genres
            .iter()
            .zip(&fields[5..])
            .filter(|(_, flag)| **flag == "1")
            .map(|(genre, _)| genre.clone())
            .collect();
        items.push((
            id,
            ItemFeatures {
                title: fields[1].to_string(),
                tags,
                ..ItemFeatures::default()
            },
        ));
    }
    Ok(items)
}

/// Attaches features to a dataset's items (by MovieLens id); items without a line keep
/// empty features.
pub fn attach_features(data: &mut Dataset, items: Vec<(u32, ItemFeatures)>) {
    let mut features = vec![ItemFeatures::default(); data.n_items()];
    for (id, item) in items {
        if let Some(index) = data.items.get(&id.to_string()) {
            features[index as usize] = item;
        }
    }
    data.features = features;
}

/// The 19 genre names of `u.genre`, in the order of the `u.item` flag columns; used when
/// a directory has no `u.genre`.
pub const GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// MovieLens text is Latin-1: every byte is the character of the same number.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// Every rating as one implicit interaction of weight 1 (the benchmark protocol: each
/// rated item is relevant, whatever its stars).
pub fn implicit_dataset(ratings: &[Rating]) -> Dataset {
    let mut users = IdMap::new();
    let mut items = IdMap::new();
    let events: Vec<(u32, u32, f32, i64)> = ratings
        .iter()
        .map(|r| {
            (
                users.get_or_insert(&r.user.to_string()),
                items.get_or_insert(&r.item.to_string()),
                1.0,
                r.time,
            )
        })
        .collect();
    Dataset::from_timed(users, items, &events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_good_lines_and_names_bad_ones() {
        let text = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n";
        let ratings = read_ratings(text.as_bytes(), "u.data").unwrap();
        assert_eq!(ratings.len(), 2);
        assert_eq!(
            ratings[0],
            Rating {
                user: 196,
                item: 242,
                stars: 3.0,
                time: 881250949
            }
        );
        let data = implicit_dataset(&ratings);
        assert_eq!((data.n_users(), data.n_items()), (2, 2));
        assert_eq!(
            data.user_events(0).next(),
            Some((0, 1.0, 881250949)),
            "times are kept"
        );

        let bad = "196\t242\t3\t881250949\n186\tabc\t3\t891717742\n";
        let err = read_ratings(bad.as_bytes(), "u.data")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "u.data:2: field item is not a whole number: \"abc\"");
        let short = "1\t2\t3\n";
        assert!(read_ratings(short.as_bytes(), "f")
            .unwrap_err()
            .to_string()
            .starts_with("f:1: expected 4"));
        let genres = read_genres("unknown|0\nAction|1\nComedy|2\n".as_bytes(), "u.genre").unwrap();
        assert_eq!(genres, vec!["unknown", "Action", "Comedy"]);
        let items = read_items(
            b"242|Caf\xe9 Noir (1996)|01-Jan-1996||http://x|0|1|1\n".as_slice(),
            &genres,
            "u.item",
        )
        .unwrap();
        assert_eq!(items[0].0, 242);
        assert_eq!(items[0].1.title, "Caf\u{e9} Noir (1996)", "Latin-1 decoded");
        assert_eq!(items[0].1.tags, vec!["Action", "Comedy"]);
        let bad = read_items(b"x|T||||0|0|0\n".as_slice(), &genres, "u.item")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("u.item:1: field movie id"), "{bad}");
        let mut data = implicit_dataset(&ratings);
        attach_features(&mut data, items);
        assert_eq!(
            data.features[data.items.get("242").unwrap() as usize].title,
            "Caf\u{e9} Noir (1996)"
        );
        let stars = "1\t2\t9\t0\n";
        assert!(read_ratings(stars.as_bytes(), "f")
            .unwrap_err()
            .to_string()
            .contains("rating must be 1 to 5"));
    }
}
