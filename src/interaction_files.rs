//! Interaction files: `user item [unix-seconds]` per line (tab- or space-separated), the
//! format of `curio eval --data`, `--train` and `--test` and of the published sequence
//! benchmarks (Amazon as preprocessed for SASRec): without a time column, file order is
//! time order.

use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::data::{Dataset, IdMap};

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
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let at = || format!("{}:{}", path.display(), index + 1);
        let line = line.map_err(|e| format!("{}: cannot read: {e}", at()))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut fields: Box<dyn Iterator<Item = &str>> = if line.contains('\t') {
            Box::new(line.split('\t').map(str::trim))
        } else {
            Box::new(line.split_whitespace())
        };
        let (Some(user), Some(item)) = (fields.next(), fields.next()) else {
            return Err(format!(
                "{}: expected `user item [unix-seconds]`, found {line:?}",
                at()
            ));
        };
        if user.is_empty() || item.is_empty() {
            return Err(format!("{}: empty user or item in {line:?}", at()));
        }
        let time = match fields.next().filter(|t| !t.is_empty()) {
            None => 0,
            Some(text) => text.parse::<i64>().map_err(|_| {
                format!(
                    "{}: column 3 (time) must be whole unix seconds, found {text:?}",
                    at()
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
