//! Which models serve which surface, with which rules: the declarative strategy.
//!
//! A strategy is a TOML document a person can read and change without touching code:
//!
//! ```toml
//! [rules]
//! dislike_demotion = 0.5
//!
//! [surface.for_you]
//! title = "Recommended for you"
//! source = "personal"
//! k = 12
//! variants = [{ name = "blend", models = ["blend"] },
//!             { name = "item-knn", models = ["item-knn"] }]
//! assignment = "bandit"
//! diversity = { per_category = 4 }
//! fallback = "trending"
//! ```
//!
//! [`Strategy::parse`] checks everything a typo could break (unknown model, fallback to a
//! surface that does not exist, a loop of fallbacks) and names the field that is wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a surface's items come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The shopper's whole live history, scored by the variant's models ("for you").
    Personal,
    /// Items like the shopper's latest liked (or bought, or carted) product.
    BecauseYouLiked,
    /// Items like the product on screen.
    Similar,
    /// Co-purchase partners of the product on screen, by lift.
    BoughtTogether,
    /// Co-purchase partners of the cart's items.
    CompleteOrder,
    /// What is gaining interest now (time-decayed popularity).
    Trending,
    /// The shopper's recently viewed products, newest first.
    RecentlyViewed,
    /// Consumables the shopper bought before, the longest ago first.
    BuyAgain,
    /// Best sellers across departments, for a new shopper to pick from.
    Onboarding,
}

impl Source {
    /// Whether this source scores with the variant's models (the others need none).
    pub fn uses_models(self) -> bool {
        matches!(
            self,
            Source::Personal | Source::BecauseYouLiked | Source::Similar
        )
    }
}

/// How a shopper's variant is chosen when a surface has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// Thompson sampling on each variant's reward rate, with an exploration floor.
    #[default]
    Bandit,
    /// A fixed, even split by a hash of the shopper (an A/B test).
    Ab,
    /// Always the first variant that can serve.
    First,
}

/// One way of filling a surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Stable name, used in attribution and in the bandit's counts.
    pub name: String,
    /// Models whose rankings are fused (reciprocal rank); one model is the usual case.
    pub models: Vec<String>,
}

/// Diversity rules applied to a surface's ranked candidates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Diversity {
    /// MMR trade-off between relevance (1.0) and novelty against the items already
    /// chosen (0.0).
    pub mmr: Option<f32>,
    /// At most this many items of one leaf category.
    pub per_category: Option<usize>,
}

/// One surface: a row of recommendations somewhere in the shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surface {
    /// The row's heading; `{item}` is replaced by the product it is about.
    pub title: String,
    /// Where the items come from.
    pub source: Source,
    /// Items shown.
    #[serde(default = "default_k")]
    pub k: usize,
    /// The ways of filling it (needed when the source uses models).
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// How a variant is chosen.
    #[serde(default)]
    pub assignment: Assignment,
    /// Share of traffic spread evenly over the variants whatever the evidence.
    #[serde(default = "default_exploration")]
    pub exploration: f64,
    /// Diversity rules.
    #[serde(default)]
    pub diversity: Diversity,
    /// The surface to serve instead when this one has nothing (a new shopper's
    /// "for you").
    pub fallback: Option<String>,
}

fn default_k() -> usize {
    12
}

fn default_exploration() -> f64 {
    0.1
}

/// Rules that apply to every surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Leave out products that cannot be bought now.
    pub exclude_out_of_stock: bool,
    /// How far a disliked product's near-duplicates fall: their relevance loses this
    /// share times their similarity to it (0 turns it off, 1 buries exact twins).
    pub dislike_demotion: f32,
    /// Similarity above which a product counts as a near-duplicate of a disliked one.
    pub near_duplicate: f32,
    /// The product attribute that marks a consumable ("buy again" shows only those).
    pub consumable_attribute: String,
    /// Events within this many minutes of the newest one form the current session and
    /// weigh `session_boost` times more in personal scores.
    pub session_minutes: u32,
    /// See `session_minutes`.
    pub session_boost: f32,
    /// Half-life, in days, of an event's weight in the live history.
    pub half_life_days: f32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            exclude_out_of_stock: true,
            dislike_demotion: 0.6,
            near_duplicate: 0.3,
            consumable_attribute: "consumable".into(),
            session_minutes: 30,
            session_boost: 2.0,
            half_life_days: 60.0,
        }
    }
}

/// The whole strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    /// Rules for every surface.
    #[serde(default)]
    pub rules: Rules,
    /// Surfaces by name (`for_you`, `similar`, ...).
    pub surface: BTreeMap<String, Surface>,
}

/// A strategy that does not hold together, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("strategy: {0}")]
pub struct StrategyError(pub String);

/// The built-in strategy (`src/strategy.toml`): what a shop serves unless told otherwise.
pub const BUILTIN: &str = include_str!("strategy.toml");

impl Strategy {
    /// The built-in strategy, checked against the registry's models.
    pub fn builtin() -> Self {
        let models: Vec<&str> = crate::registry::names().collect();
        // Checked by `the_builtin_strategy_parses` below.
        Self::parse(BUILTIN, &models).expect("the built-in strategy is valid")
    }

    /// Reads and checks a strategy. `models` are the model names that exist.
    pub fn parse(text: &str, models: &[&str]) -> Result<Self, StrategyError> {
        let strategy: Strategy =
            toml::from_str(text).map_err(|e| StrategyError(e.to_string().trim().to_string()))?;
        strategy.check(models)?;
        Ok(strategy)
    }

    /// Checks what the types cannot: sizes, model names, fallbacks.
    pub fn check(&self, models: &[&str]) -> Result<(), StrategyError> {
        let rules = &self.rules;
        if !(0.0..=1.0).contains(&rules.dislike_demotion) {
            return Err(StrategyError(format!(
                "rules.dislike_demotion must be within 0..=1, got {}",
                rules.dislike_demotion
            )));
        }
        if !(0.0..=1.0).contains(&rules.near_duplicate) {
            return Err(StrategyError(format!(
                "rules.near_duplicate must be within 0..=1, got {}",
                rules.near_duplicate
            )));
        }
        if !(rules.session_boost.is_finite() && rules.session_boost >= 1.0) {
            return Err(StrategyError(format!(
                "rules.session_boost must be at least 1, got {}",
                rules.session_boost
            )));
        }
        if !(rules.half_life_days.is_finite() && rules.half_life_days > 0.0) {
            return Err(StrategyError(format!(
                "rules.half_life_days must be positive, got {}",
                rules.half_life_days
            )));
        }
        for (name, surface) in &self.surface {
            let at = format!("surface.{name}");
            if !(1..=100).contains(&surface.k) {
                return Err(StrategyError(format!(
                    "{at}.k must be within 1..=100, got {}",
                    surface.k
                )));
            }
            if !(0.0..=1.0).contains(&surface.exploration) {
                return Err(StrategyError(format!(
                    "{at}.exploration must be within 0..=1, got {}",
                    surface.exploration
                )));
            }
            if let Some(lambda) = surface.diversity.mmr {
                if !(0.0..=1.0).contains(&lambda) {
                    return Err(StrategyError(format!(
                        "{at}.diversity.mmr must be within 0..=1, got {lambda}"
                    )));
                }
            }
            if surface.diversity.per_category == Some(0) {
                return Err(StrategyError(format!(
                    "{at}.diversity.per_category must be at least 1"
                )));
            }
            if surface.source.uses_models() && surface.variants.is_empty() {
                return Err(StrategyError(format!(
                    "{at}.variants: a {:?} surface needs at least one variant",
                    surface.source
                )));
            }
            let mut names = Vec::new();
            for (v, variant) in surface.variants.iter().enumerate() {
                if variant.name.is_empty() || names.contains(&&variant.name) {
                    return Err(StrategyError(format!(
                        "{at}.variants[{v}].name must be non-empty and unique, got {:?}",
                        variant.name
                    )));
                }
                names.push(&variant.name);
                if variant.models.is_empty() {
                    return Err(StrategyError(format!("{at}.variants[{v}].models is empty")));
                }
                for model in &variant.models {
                    if !models.contains(&model.as_str()) {
                        return Err(StrategyError(format!(
                            "{at}.variants[{v}].models: unknown model {model:?} (known: {})",
                            models.join(", ")
                        )));
                    }
                }
            }
            // Follow the fallbacks: each must exist, and they must end.
            let mut seen = vec![name.as_str()];
            let mut next = surface.fallback.as_deref();
            while let Some(target) = next {
                if !self.surface.contains_key(target) {
                    return Err(StrategyError(format!(
                        "{at}.fallback: no surface named {target:?}"
                    )));
                }
                if seen.contains(&target) {
                    return Err(StrategyError(format!(
                        "{at}.fallback: the fallbacks loop ({} -> {target})",
                        seen.join(" -> ")
                    )));
                }
                seen.push(target);
                next = self.surface[target].fallback.as_deref();
            }
        }
        Ok(())
    }

    /// Every model some surface names.
    pub fn models(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .surface
            .values()
            .flat_map(|s| s.variants.iter().flat_map(|v| v.models.iter().cloned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODELS: &[&str] = &["blend", "item-knn", "content"];

    #[test]
    fn the_builtin_strategy_parses() {
        let strategy = Strategy::builtin();
        assert_eq!(strategy.surface["for_you"].source, Source::Personal);
        assert!(strategy.surface.len() >= 9);
    }

    const GOOD: &str = r#"
        [surface.for_you]
        title = "Recommended for you"
        source = "personal"
        variants = [{ name = "blend", models = ["blend"] },
                    { name = "knn", models = ["item-knn"] }]
        diversity = { per_category = 4 }
        fallback = "trending"

        [surface.trending]
        title = "Trending now"
        source = "trending"
    "#;

    #[test]
    fn a_readable_strategy_parses_with_defaults() {
        let strategy = Strategy::parse(GOOD, MODELS).unwrap();
        let for_you = &strategy.surface["for_you"];
        assert_eq!(for_you.k, 12);
        assert_eq!(for_you.assignment, Assignment::Bandit);
        assert_eq!(for_you.diversity.per_category, Some(4));
        assert_eq!(strategy.rules, Rules::default());
        assert_eq!(strategy.models(), vec!["blend", "item-knn"]);
    }

    #[test]
    fn mistakes_name_their_field() {
        let cases = [
            (
                GOOD.replace("\"item-knn\"", "\"item-kn\""),
                "surface.for_you.variants[1].models: unknown model \"item-kn\"",
            ),
            (
                GOOD.replace("fallback = \"trending\"", "fallback = \"nope\""),
                "surface.for_you.fallback: no surface named \"nope\"",
            ),
            (
                GOOD.replace(
                    "source = \"trending\"",
                    "source = \"trending\"\nfallback = \"for_you\"",
                ),
                "loop",
            ),
            (
                GOOD.replace("per_category = 4", "per_category = 0"),
                "surface.for_you.diversity.per_category",
            ),
            (
                GOOD.replace("source = \"personal\"", "source = \"personal\"\nk = 0"),
                "surface.for_you.k",
            ),
            (
                GOOD.replace("source = \"personal\"", "source = \"personl\""),
                "personl",
            ),
            (
                GOOD.replace(
                    "title = \"Trending now\"",
                    "title = \"Trending now\"\ncolour = 1",
                ),
                "colour",
            ),
            (
                GOOD.replace("name = \"knn\"", "name = \"blend\""),
                "variants[1].name",
            ),
        ];
        for (text, expected) in cases {
            let err = Strategy::parse(&text, MODELS).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
        let no_variants = r#"
            [surface.similar]
            title = "Similar"
            source = "similar"
        "#;
        let err = Strategy::parse(no_variants, MODELS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("surface.similar.variants"), "{err}");
    }
}
