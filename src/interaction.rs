//! The kinds of shopper feedback the engine learns from, and their default weights.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One kind of shopper feedback on a product.
///
/// The order of the implicit kinds follows how much intent they show:
/// view < click < like < add to cart < purchase. A dislike is negative evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    /// The product was shown on its own page.
    View,
    /// The shopper clicked a product card.
    Click,
    /// The shopper pressed "like".
    Like,
    /// The shopper pressed "dislike": never recommend it back.
    Dislike,
    /// The shopper hid the product from their recommendations ("not interested"): it is
    /// never shown back, but, unlike a dislike, says little about similar products.
    NotInterested,
    /// An explicit star rating; the stars travel as the event's value.
    Rating,
    /// The product went into the cart.
    AddToCart,
    /// The product was taken out of the cart.
    RemoveFromCart,
    /// The product was bought.
    Purchase,
    /// A search; the product is the one the shopper opened from the results.
    Search,
}

impl InteractionKind {
    /// Every kind, in a stable order (the order used in storage and reports).
    pub const ALL: [InteractionKind; 10] = [
        Self::View,
        Self::Click,
        Self::Like,
        Self::Dislike,
        Self::NotInterested,
        Self::Rating,
        Self::AddToCart,
        Self::RemoveFromCart,
        Self::Purchase,
        Self::Search,
    ];

    /// The stable name used in storage, in URLs and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Click => "click",
            Self::Like => "like",
            Self::Dislike => "dislike",
            Self::NotInterested => "not_interested",
            Self::Rating => "rating",
            Self::AddToCart => "add_to_cart",
            Self::RemoveFromCart => "remove_from_cart",
            Self::Purchase => "purchase",
            Self::Search => "search",
        }
    }

    /// The default implicit-feedback weight of one event of this kind.
    ///
    /// `stars` is read only for [`InteractionKind::Rating`] (1..=5): 4 and 5 stars count
    /// as strong positives, 3 as weak, 1 and 2 as negative evidence.
    pub fn default_weight(self, stars: Option<f32>) -> f32 {
        match self {
            Self::View => 0.5,
            Self::Click => 1.0,
            Self::Search => 1.0,
            Self::Like => 2.0,
            Self::AddToCart => 3.0,
            Self::Purchase => 5.0,
            Self::RemoveFromCart => -1.0,
            Self::Dislike => -4.0,
            Self::NotInterested => -1.0,
            Self::Rating => match stars {
                Some(s) if s >= 4.5 => 4.0,
                Some(s) if s >= 3.5 => 3.0,
                Some(s) if s >= 2.5 => 1.0,
                Some(_) => -2.0,
                None => 0.0,
            },
        }
    }
}

impl fmt::Display for InteractionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`InteractionKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown interaction kind {0:?}: expected one of view, click, like, dislike, not_interested, rating, add_to_cart, remove_from_cart, purchase, search")]
pub struct UnknownInteractionKind(pub String);

impl FromStr for InteractionKind {
    type Err = UnknownInteractionKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownInteractionKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in InteractionKind::ALL {
            assert_eq!(kind.as_str().parse::<InteractionKind>(), Ok(kind));
        }
        let err = "buy".parse::<InteractionKind>().unwrap_err();
        assert!(err.to_string().contains("\"buy\""), "{err}");
    }

    #[test]
    fn implicit_weights_follow_intent() {
        use InteractionKind::*;
        let w = |k: InteractionKind| k.default_weight(None);
        assert!(w(View) < w(Click));
        assert!(w(Click) < w(Like));
        assert!(w(Like) < w(AddToCart));
        assert!(w(AddToCart) < w(Purchase));
        assert!(
            w(Dislike) < w(NotInterested),
            "a dislike says more than a hide"
        );
        assert!(w(NotInterested) < 0.0);
        assert!(Rating.default_weight(Some(5.0)) > Rating.default_weight(Some(3.0)));
        assert!(Rating.default_weight(Some(1.0)) < 0.0);
    }
}
