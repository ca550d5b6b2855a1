//! The model registry: every model Curio knows, named once. `curio eval`, `curio train`
//! and the server build, label and load models only through here.
//!
//! A model is built from its table of hyper-parameters (`[als] factors = 128`) and a
//! seed; the blender's table also names its members (`members = ["ease", "als"]`), each
//! built from its own table.

use crate::blend::{Blend, BlendConfig};
use crate::models::{
    Als, AlsConfig, Bpr, BprConfig, Content, ContentConfig, Ease, EaseConfig, ItemKnn,
    ItemKnnConfig, Popularity, SessionKnn, SessionKnnConfig, Trending, TrendingConfig, UserKnn,
    UserKnnConfig,
};
use crate::neural::{NeuMf, NeuMfConfig, SasRec, SasRecConfig, TwoTower, TwoTowerConfig};
use crate::recommender::{EngineError, Recommender};

/// What the registry knows of one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelInfo {
    /// Stable name: in parameter files, strategies, saved versions and metrics.
    pub name: &'static str,
    /// How the shop's pages name it.
    pub label: &'static str,
    /// Fits in seconds on a shop-sized catalogue: a first start serves these first.
    pub quick: bool,
    /// Among the blender's members when its parameters name none.
    pub blend_member: bool,
    /// Among the models `curio eval` runs when `--models` names none.
    pub eval_default: bool,
    /// Needs item features (titles, categories...) for every item.
    pub needs_features: bool,
    /// Trained and served by a shop node when `--models` names none. EASE is left out:
    /// its dense item x item matrix is 140 MB on the default shop and grows with the
    /// square of the catalogue.
    pub served: bool,
}

const fn info(name: &'static str, label: &'static str) -> ModelInfo {
    ModelInfo {
        name,
        label,
        quick: false,
        blend_member: false,
        eval_default: false,
        needs_features: false,
        served: true,
    }
}

/// Every model, in the order tables and menus list them.
pub const MODELS: [ModelInfo; 13] = [
    ModelInfo {
        quick: true,
        blend_member: true,
        eval_default: true,
        ..info("popularity", "Best sellers")
    },
    ModelInfo {
        quick: true,
        ..info("trending", "Trending")
    },
    ModelInfo {
        quick: true,
        blend_member: true,
        eval_default: true,
        ..info("item-knn", "Item-kNN")
    },
    ModelInfo {
        blend_member: true,
        eval_default: true,
        ..info("user-knn", "User-kNN")
    },
    ModelInfo {
        blend_member: true,
        eval_default: true,
        served: false,
        ..info("ease", "EASE")
    },
    ModelInfo {
        blend_member: true,
        eval_default: true,
        ..info("als", "ALS (matrix factorization)")
    },
    ModelInfo {
        blend_member: true,
        eval_default: true,
        ..info("bpr", "BPR (matrix factorization)")
    },
    ModelInfo {
        quick: true,
        blend_member: true,
        eval_default: true,
        needs_features: true,
        ..info("content", "Content-based")
    },
    ModelInfo {
        quick: true,
        blend_member: true,
        ..info("session-knn", "Session-kNN (recent clicks)")
    },
    info("neumf", "NeuMF (neural)"),
    ModelInfo {
        needs_features: true,
        ..info("two-tower", "Two-tower (neural)")
    },
    ModelInfo {
        // Not served until a strategy variant uses it; `curio eval --models sasrec`.
        served: false,
        ..info("sasrec", "SASRec (sequence)")
    },
    info("blend", "Blender (all models)"),
];

/// A model name or parameter table the registry cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    /// No model has this name.
    #[error("unknown model {name:?}; known: {}", names().collect::<Vec<_>>().join(", "))]
    UnknownModel {
        /// The name asked for.
        name: String,
    },
    /// A model's parameter table does not fit its settings.
    #[error("parameters of {model}: {reason}")]
    Params {
        /// Which model.
        model: String,
        /// What was wrong (the field at fault).
        reason: String,
    },
    /// Parameters given for a name that is no model.
    #[error("parameters given for unknown model {name:?}; known: {}", names().collect::<Vec<_>>().join(", "))]
    ParamsForUnknown {
        /// The table's name.
        name: String,
    },
    /// A `--set MODEL.KEY=VALUE` override that is not of that form.
    #[error("--set {0:?}: expected MODEL.KEY=VALUE")]
    Override(String),
    /// The blender's `members` list is unusable.
    #[error("blend.members: {0}")]
    BlendMembers(String),
}

/// The names of every model, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODELS.iter().map(|m| m.name)
}

/// What the registry knows of `name`.
pub fn get(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| m.name == name)
}

/// Whether `name` is a model.
pub fn is_known(name: &str) -> bool {
    get(name).is_some()
}

/// The model's label for people; an unknown name is its own label.
pub fn label(name: &str) -> &str {
    get(name).map_or(name, |m| m.label)
}

/// The blender's members when its parameters name none.
pub fn default_blend_members() -> Vec<String> {
    blend_members_for(true)
}

/// The blender's default members that data with (or without) item features can feed.
fn blend_members_for(has_features: bool) -> Vec<String> {
    MODELS
        .iter()
        .filter(|m| m.blend_member && (has_features || !m.needs_features))
        .map(|m| m.name.to_string())
        .collect()
}

/// `params` with the blender's default members set to those the data can feed, unless
/// the blender's members are named: without item features, the members that need them
/// (content) are left out.
pub fn with_feedable_blend(params: toml::Table, has_features: bool) -> toml::Table {
    let members = blend_members_for(has_features)
        .into_iter()
        .map(toml::Value::String)
        .collect();
    with_blend_default(params, "members", toml::Value::Array(members))
}

/// `params` with the blender's `key` set to `value` unless the blender's table names it
/// (`curio eval` asks a latest-item holdout of the blender under leave-last-out).
pub fn with_blend_default(mut params: toml::Table, key: &str, value: toml::Value) -> toml::Table {
    let blend = params
        .entry("blend")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(table) = blend.as_table_mut() {
        table.entry(key).or_insert(value);
    }
    params
}

/// The models a shop node trains and serves when `--models` names none.
pub fn serve_defaults() -> Vec<String> {
    MODELS
        .iter()
        .filter(|m| m.served)
        .map(|m| m.name.to_string())
        .collect()
}

/// The parameters a shop node uses when `--model-params` names none: every model's own
/// defaults, and a blender whose members are the served ones among its default members.
pub fn serve_default_params() -> toml::Table {
    let members: Vec<toml::Value> = MODELS
        .iter()
        .filter(|m| m.blend_member && m.served)
        .map(|m| toml::Value::String(m.name.to_string()))
        .collect();
    let mut blend = toml::Table::new();
    blend.insert("members".into(), toml::Value::Array(members));
    let mut table = toml::Table::new();
    table.insert("blend".into(), toml::Value::Table(blend));
    table
}

/// The models that fit in seconds (a first start serves these), among `names`.
pub fn quick_among(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| get(n).is_some_and(|m| m.quick))
        .cloned()
        .collect()
}

/// `curio eval`'s models when none are named: those the data can feed.
pub fn eval_defaults(has_features: bool) -> Vec<String> {
    MODELS
        .iter()
        .filter(|m| m.eval_default && (has_features || !m.needs_features))
        .map(|m| m.name.to_string())
        .collect()
}

/// Applies `MODEL.KEY=VALUE` overrides to a parameter table (values in TOML syntax; a
/// bare word is a string), then checks that every table names a model.
pub fn apply_overrides(
    mut table: toml::Table,
    overrides: &[String],
) -> Result<toml::Table, RegistryError> {
    for item in overrides {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| RegistryError::Override(item.clone()))?;
        let (model, field) = key
            .split_once('.')
            .ok_or_else(|| RegistryError::Override(item.clone()))?;
        let value: toml::Value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        table
            .entry(model.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| RegistryError::Params {
                model: model.to_string(),
                reason: "must be a table".into(),
            })?
            .insert(field.to_string(), value);
    }
    if let Some(name) = table.keys().find(|name| !is_known(name)) {
        return Err(RegistryError::ParamsForUnknown { name: name.clone() });
    }
    Ok(table)
}

fn config<T: serde::de::DeserializeOwned + Default>(
    model: &str,
    params: Option<&toml::Value>,
) -> Result<T, RegistryError> {
    match params {
        None => Ok(T::default()),
        Some(value) => {
            value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| RegistryError::Params {
                    model: model.to_string(),
                    reason: e.to_string(),
                })
        }
    }
}

/// A seeded model's parameter table with `seed` filled in unless it sets one.
fn seeded(params: Option<&toml::Value>, seed: u64) -> toml::Value {
    let mut table = params
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    table
        .entry("seed")
        .or_insert(toml::Value::Integer(seed as i64));
    toml::Value::Table(table)
}

/// A new, unfitted model by name, configured from its table in `params` (the blender
/// also reads its members' tables); models that draw random numbers take `seed` unless
/// their table sets one.
pub fn build(
    name: &str,
    params: &toml::Table,
    seed: u64,
) -> Result<Box<dyn Recommender>, RegistryError> {
    let own = params.get(name);
    let seeded_own = seeded(own, seed);
    let with_seed = Some(&seeded_own);
    Ok(match name {
        "popularity" => Box::new(Popularity::new()),
        "trending" => Box::new(Trending::new(config::<TrendingConfig>(name, own)?)),
        "item-knn" => Box::new(ItemKnn::new(config::<ItemKnnConfig>(name, own)?)),
        "user-knn" => Box::new(UserKnn::new(config::<UserKnnConfig>(name, own)?)),
        "ease" => Box::new(Ease::new(config::<EaseConfig>(name, own)?)),
        "als" => Box::new(Als::new(config::<AlsConfig>(name, with_seed)?)),
        "bpr" => Box::new(Bpr::new(config::<BprConfig>(name, with_seed)?)),
        "content" => Box::new(Content::new(config::<ContentConfig>(name, own)?)),
        "session-knn" => Box::new(SessionKnn::new(config::<SessionKnnConfig>(name, own)?)),
        "neumf" => Box::new(NeuMf::new(config::<NeuMfConfig>(name, with_seed)?)),
        "two-tower" => Box::new(TwoTower::new(config::<TwoTowerConfig>(name, with_seed)?)),
        "sasrec" => Box::new(SasRec::new(config::<SasRecConfig>(name, with_seed)?)),
        "blend" => {
            // `members` picks the models; every other key is the blender's own.
            let mut own = own
                .cloned()
                .unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
            let members = match own.as_table_mut().and_then(|t| t.remove("members")) {
                None => default_blend_members(),
                Some(toml::Value::Array(list)) => list
                    .into_iter()
                    .map(|v| match v {
                        toml::Value::String(s) => Ok(s),
                        other => Err(RegistryError::BlendMembers(format!(
                            "expected model names, found {other}"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(other) => {
                    return Err(RegistryError::BlendMembers(format!(
                        "expected a list of model names, found {other}"
                    )))
                }
            };
            if members.iter().any(|m| m == "blend") || members.is_empty() {
                return Err(RegistryError::BlendMembers(
                    "name at least one model, and not blend itself".into(),
                ));
            }
            let members = members
                .iter()
                .map(|m| build(m, params, seed))
                .collect::<Result<Vec<_>, _>>()?;
            let cfg = config::<BlendConfig>(name, Some(&seeded(Some(&own), seed)))?;
            Box::new(Blend::new(cfg, members))
        }
        other => {
            return Err(RegistryError::UnknownModel {
                name: other.to_string(),
            })
        }
    })
}

/// Reads back a model saved by [`Recommender::to_bytes`], given its name
/// ([`Recommender::name`]).
pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Box<dyn Recommender>, EngineError> {
    Ok(match name {
        "popularity" => Box::new(Popularity::from_bytes(bytes)?),
        "trending" => Box::new(Trending::from_bytes(bytes)?),
        "content" => Box::new(Content::from_bytes(bytes)?),
        "session-knn" => Box::new(SessionKnn::from_bytes(bytes)?),
        "item-knn" => Box::new(ItemKnn::from_bytes(bytes)?),
        "user-knn" => Box::new(UserKnn::from_bytes(bytes)?),
        "ease" => Box::new(Ease::from_bytes(bytes)?),
        "als" => Box::new(Als::from_bytes(bytes)?),
        "bpr" => Box::new(Bpr::from_bytes(bytes)?),
        "neumf" => Box::new(NeuMf::from_bytes(bytes)?),
        "two-tower" => Box::new(TwoTower::from_bytes(bytes)?),
        "sasrec" => Box::new(SasRec::from_bytes(bytes)?),
        "blend" => Box::new(Blend::from_bytes(bytes, from_bytes)?),
        other => {
            return Err(EngineError::Load {
                model: "model",
                reason: format!("unknown model name {other:?}"),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn every_registered_model_builds_and_names_itself() {
        for model in MODELS {
            let built = build(model.name, &toml::Table::new(), 7).unwrap();
            assert_eq!(built.name(), model.name);
            assert_ne!(label(model.name), "");
        }
        assert_eq!(label("no-such-model"), "no-such-model");
        assert!(matches!(
            build("magic", &toml::Table::new(), 1),
            Err(RegistryError::UnknownModel { .. })
        ));
    }

    #[test]
    fn defaults_follow_the_flags() {
        assert_eq!(
            eval_defaults(false),
            ["popularity", "item-knn", "user-knn", "ease", "als", "bpr"]
        );
        assert_eq!(
            eval_defaults(true).last().map(String::as_str),
            Some("content")
        );
        assert!(!default_blend_members().contains(&"blend".to_string()));
        let served: Vec<String> = ["popularity", "als", "content", "blend"]
            .map(String::from)
            .to_vec();
        assert_eq!(quick_among(&served), ["popularity", "content"]);
        // A node serves everything but EASE, and its blender leaves EASE out too.
        let node = serve_defaults();
        let bare = with_feedable_blend(toml::Table::new(), false);
        let members = bare["blend"]["members"].as_array().unwrap();
        assert!(
            !members.iter().any(|m| m.as_str() == Some("content")),
            "{members:?}"
        );
        assert!(members.iter().any(|m| m.as_str() == Some("item-knn")));
        let full = with_feedable_blend(toml::Table::new(), true);
        assert_eq!(
            full["blend"]["members"].as_array().unwrap().len(),
            default_blend_members().len()
        );
        let named: toml::Table = toml::from_str("[blend]\nmembers = [\"content\"]").unwrap();
        assert_eq!(
            with_feedable_blend(named.clone(), false),
            named,
            "named members stay"
        );
        let last = with_blend_default(named.clone(), "holdout", "last".into());
        assert_eq!(last["blend"]["holdout"].as_str(), Some("last"));
        assert_eq!(last["blend"]["members"], named["blend"]["members"]);
        let random: toml::Table = toml::from_str("[blend]\nholdout = \"random\"").unwrap();
        assert_eq!(
            with_blend_default(random.clone(), "holdout", "last".into()),
            random
        );
        let built = build("blend", &last, 1).unwrap();
        assert_eq!(built.name(), "blend");
        assert_eq!(node.len(), MODELS.len() - 2);
        for left_out in ["ease", "sasrec"] {
            assert!(!node.contains(&left_out.to_string()), "{left_out}");
        }
        let members = serve_default_params()["blend"]["members"].clone();
        assert_eq!(
            members,
            toml::Value::Array(
                [
                    "popularity",
                    "item-knn",
                    "user-knn",
                    "als",
                    "bpr",
                    "content",
                    "session-knn"
                ]
                .map(|m| toml::Value::String(m.into()))
                .to_vec()
            )
        );
    }

    #[test]
    fn overrides_are_typed_and_checked() {
        let merged = apply_overrides(
            table("[item-knn]\nneighbours = 5"),
            &["item-knn.shrinkage=0".into(), "als.solver=cg".into()],
        )
        .unwrap();
        assert_eq!(merged["item-knn"]["neighbours"].as_integer(), Some(5));
        assert_eq!(merged["item-knn"]["shrinkage"].as_integer(), Some(0));
        assert_eq!(merged["als"]["solver"].as_str(), Some("cg"));
        assert_eq!(
            apply_overrides(toml::Table::new(), &["nodot=1".into()]),
            Err(RegistryError::Override("nodot=1".into()))
        );
        let err = apply_overrides(table("[magic]\nx = 1"), &[]).unwrap_err();
        assert!(err.to_string().contains("unknown model \"magic\""), "{err}");
    }

    #[test]
    fn blend_members_are_checked_when_built() {
        let ok = build(
            "blend",
            &table("[blend]\nmembers = [\"ease\", \"als\"]\nfolds = 2"),
            1,
        )
        .unwrap();
        assert_eq!(ok.name(), "blend");
        for (text, expected) in [
            ("[blend]\nmembers = [\"blend\"]", "not blend itself"),
            ("[blend]\nmembers = []", "at least one model"),
            ("[blend]\nmembers = \"ease\"", "expected a list"),
            ("[blend]\nmembers = [\"magic\"]", "unknown model \"magic\""),
            ("[blend]\nfoldz = 2", "parameters of blend"),
            (
                "[blend]\nmembers = [\"als\"]\n[als]\nfactorz = 2",
                "parameters of als",
            ),
        ] {
            let Err(err) = build("blend", &table(text), 1) else {
                panic!("{text}: accepted")
            };
            assert!(err.to_string().contains(expected), "{text}: {err}");
        }
    }
}
