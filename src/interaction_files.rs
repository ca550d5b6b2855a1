//! Interaction files: `user item [unix-seconds]` per line (tab- or space-separated), the
//! format of `curio eval --data`, `--train` and `--test` and of the published sequence
//! benchmarks (Amazon as preprocessed for SASRec): without a time column, file order is
//! time order. Item files (`--items`): one JSON object per line giving an item's features.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;

use crate::data::{Dataset, IdMap, ItemFeatures};

/// The lines of `path` that are not blank, each with its `file:line` for error messages.
fn lines(
    path: &Path,
) -> Result<impl Iterator<Item = Result<(String, String), String>> + '_, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(BufReader::new(file)
        .lines()
        .enumerate()
        .filter_map(move |(index, line)| {
            let at = format!("{}:{}", path.display(), index + 1);
            match line {
                Err(e) => Some(Err(format!("{at}: cannot read: {e}"))),
                Ok(line) if line.trim().is_empty() => None,
                Ok(line) => Some(Ok((at, line))),
            }
        }))
}

/// The interactions of `path` (see `--data`) as an implicit dataset in time order.
pub fn load(path: &Path) -> Result<Dataset, String> {
    let mut users = IdMap::new();
    let mut items = IdMap::new();
    let rows = read(path, &mut users, &mut items)?;
    Ok(Dataset::from_timed(users, items, &rows))
}

/// Reads `user item [unix-seconds]` lines (tab- or space-separated) as
/// `(user, item, weight 1, time)`, in file order; the time is 0 where the column is
/// absent, so file order orders them. Names the file, line and field of anything
/// unreadable.
pub fn read(
    path: &Path,
    users: &mut IdMap,
    items: &mut IdMap,
) -> Result<Vec<(u32, u32, f32, i64)>, String> {
    let mut rows = Vec::new();
    for entry in lines(path)? {
        let (at, line) = entry?;
        let mut fields: Box<dyn Iterator<Item = &str>> = if line.contains('\t') {
            Box::new(line.split('\t').map(str::trim))
        } else {
            Box::new(line.split_whitespace())
        };
        let (Some(user), Some(item)) = (fields.next(), fields.next()) else {
            return Err(format!(
                "{}: expected `user item [unix-seconds]`, found {line:?}",
                at
            ));
        };
        if user.is_empty() || item.is_empty() {
            return Err(format!("{}: empty user or item in {line:?}", at));
        }
        let time = match fields.next().filter(|t| !t.is_empty()) {
            None => 0,
            Some(text) => text.parse::<i64>().map_err(|_| {
                format!(
                    "{}: column 3 (time) must be whole unix seconds, found {text:?}",
                    at
                )
            })?,
        };
        rows.push((
            users.get_or_insert(user),
            items.get_or_insert(item),
            1.0,
            time,
        ));
    }
    Ok(rows)
}

/// One line of an item file. Fields other than these are ignored.
#[derive(Deserialize)]
struct ItemLine {
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    /// `"Electronics > Cameras"` or `["Electronics", "Cameras"]`, most general first.
    #[serde(default)]
    category: Option<OneOrMany>,
    #[serde(default)]
    tags: Option<OneOrMany>,
    /// In major units (`12.5` is 12.50).
    #[serde(default)]
    price: Option<f64>,
}

/// An id as the interaction files write it: a string or a whole number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(i64),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_list(self, separator: &str) -> Vec<String> {
        let list = match self {
            Self::One(text) => text.split(separator).map(str::to_string).collect(),
            Self::Many(list) => list,
        };
        list.into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// What [`read_items`] found.
#[derive(Debug)]
pub struct ItemFile {
    /// One per item of the id map, in index order; an item without a line has only its id
    /// as title.
    pub features: Vec<ItemFeatures>,
    /// Items of the id map that had a line.
    pub described: usize,
    /// Lines whose id is not an item of the interactions (skipped).
    pub unknown: usize,
}

/// Reads an item file: one JSON object per line, `{"id": "B00X", "title": "...",
/// "description": "...", "brand": "...", "category": "Games > Consoles", "tags": ["retro"],
/// "price": 19.99}`; only `id` is required, and it must match the interactions' item
/// column. Names the file, line and field of anything unreadable; a file that describes
/// none of the items is an error (the ids are most likely from another data set).
pub fn read_items(path: &Path, items: &IdMap) -> Result<ItemFile, String> {
    let mut features: Vec<Option<ItemFeatures>> = vec![None; items.len()];
    let (mut described, mut unknown) = (0, 0);
    for entry in lines(path)? {
        let (at, line) = entry?;
        let item: ItemLine = serde_json::from_str(&line).map_err(|e| format!("{}: {e}", at))?;
        let id = match item.id {
            Id::Text(text) => text,
            Id::Number(n) => n.to_string(),
        };
        let price_minor = match item.price {
            None => None,
            Some(p) if p.is_finite() && (0.0..1e13).contains(&p) => {
                Some((p * 100.0).round() as i64)
            }
            Some(p) => {
                return Err(format!(
                    "{}: field `price` must be a non-negative amount below 1e13, found {p}",
                    at
                ))
            }
        };
        let Some(index) = items.get(id.trim()) else {
            unknown += 1;
            continue;
        };
        let slot = &mut features[index as usize];
        if slot.is_some() {
            return Err(format!("{}: item {id:?} is described twice", at));
        }
        described += 1;
        *slot = Some(ItemFeatures {
            title: item.title.unwrap_or_else(|| id.clone()),
            description: item.description.unwrap_or_default(),
            categories: item.category.map_or_else(Vec::new, |c| c.into_list(">")),
            tags: item.tags.map_or_else(Vec::new, |t| t.into_list(",")),
            brand: item.brand.filter(|b| !b.trim().is_empty()),
            price_minor,
        });
    }
    if described == 0 {
        return Err(format!(
            "{}: no line describes an item of the interactions (the `id` field must match \
             their item column)",
            path.display()
        ));
    }
    let features = features
        .into_iter()
        .enumerate()
        .map(|(index, f)| {
            f.unwrap_or_else(|| ItemFeatures {
                title: items.external(index as u32).unwrap_or_default().to_string(),
                ..ItemFeatures::default()
            })
        })
        .collect();
    Ok(ItemFile {
        features,
        described,
        unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("curio-items-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn ids(list: &[&str]) -> IdMap {
        let mut map = IdMap::new();
        for id in list {
            map.get_or_insert(id);
        }
        map
    }

    #[test]
    fn item_lines_give_features_by_id() {
        let path = file(
            "items.jsonl",
            concat!(
                r#"{"id": "b", "title": "Bee", "category": "Games > Consoles", "tags": ["retro", " "], "brand": "Acme", "price": 19.99, "stars": 4}"#,
                "\n\n",
                r#"{"id": 7, "description": "seven", "category": ["Toys", "Cars"], "tags": "red, fast"}"#,
                "\n",
                r#"{"id": "zz", "title": "not in the interactions"}"#,
                "\n",
            ),
        );
        let found = read_items(&path, &ids(&["a", "b", "7"])).unwrap();
        assert_eq!((found.described, found.unknown), (2, 1));
        let [a, b, seven] = &found.features[..] else {
            panic!("{:?}", found.features)
        };
        assert_eq!(a.title, "a");
        assert!(a.categories.is_empty() && a.brand.is_none());
        assert_eq!(b.title, "Bee");
        assert_eq!(b.categories, ["Games", "Consoles"]);
        assert_eq!(b.tags, ["retro"]);
        assert_eq!(b.brand.as_deref(), Some("Acme"));
        assert_eq!(b.price_minor, Some(1999));
        assert_eq!(seven.title, "7");
        assert_eq!(seven.description, "seven");
        assert_eq!(seven.categories, ["Toys", "Cars"]);
        assert_eq!(seven.tags, ["red", "fast"]);
    }

    #[test]
    fn bad_item_lines_name_the_line_and_field() {
        let known = ids(&["a", "b"]);
        let err = |text: &str| read_items(&file("bad.jsonl", text), &known).unwrap_err();
        let named = |text: &str, needles: &[&str]| {
            let e = err(text);
            assert!(
                needles.iter().all(|n| e.contains(n)),
                "{e} lacks {needles:?}"
            );
        };
        named(
            "{\"id\": \"a\"}\n{\"title\": \"no id\"}\n",
            &["bad.jsonl:2", "`id`"],
        );
        named(
            "{\"id\": \"a\", \"title\": 3}\n",
            &["bad.jsonl:1", "invalid type"],
        );
        named(
            "{\"id\": \"a\", \"price\": -2}\n",
            &["bad.jsonl:1", "`price`"],
        );
        named(
            "{\"id\": \"a\"}\n{\"id\": \"a\"}\n",
            &["bad.jsonl:2", "twice"],
        );
        named("{\"id\": \"q\"}\n", &["no line describes"]);
        named("not json\n", &["bad.jsonl:1"]);
    }
}
