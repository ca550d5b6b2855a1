//! Reasons: one line per recommended item saying why it is there ("Because you liked X",
//! "Often bought with Y", "You viewed this yesterday").

use crate::recommender::Explanation;
use crate::InteractionKind;

use super::{Catalog, History};

/// The reason a history item gives for an explained item ("Because you liked X"): the
/// explanation's strongest history item, named by the shopper's strongest event with it.
pub fn because_of(
    catalog: &Catalog,
    history: &History,
    explanation: &Explanation,
) -> Option<String> {
    let &(because, _) = explanation.because_of.first()?;
    let product = *catalog.product_ids.get(because as usize)?;
    let title = &catalog.titles[because as usize];
    // The product of the shopper's latest event: what sequence models read first.
    let latest = history.events().next_back().map(|e| e.product_id) == Some(product);
    Some(match history.strongest(product) {
        Some(InteractionKind::Purchase) => format!("Because you bought {title}"),
        Some(InteractionKind::AddToCart) => format!("Goes with {title} in your cart"),
        Some(InteractionKind::Like) => format!("Because you liked {title}"),
        Some(InteractionKind::Rating) => format!("Because you rated {title}"),
        Some(_) if latest => format!("Because you just viewed {title}"),
        Some(_) => format!("Because you viewed {title}"),
        // A pseudo-history item from onboarding.
        None => match &catalog.category_names[because as usize] {
            Some(category) => format!("Picked for your interest in {category}"),
            None => format!("Similar to {title}"),
        },
    })
}

/// The fallback reason: the item's category.
pub fn popular_in(catalog: &Catalog, item: u32) -> String {
    match &catalog.category_names[item as usize] {
        Some(category) => format!("Popular in {category}"),
        None => "Picked for you".to_string(),
    }
}

/// The reason of a list about one product (`title`): "Similar to X" on its own page,
/// else after the shopper's event `kind` with it.
pub fn anchored(title: &str, on_screen: bool, kind: InteractionKind) -> String {
    match (on_screen, kind) {
        (true, _) => format!("Similar to {title}"),
        (_, InteractionKind::Purchase) => format!("Because you bought {title}"),
        (_, InteractionKind::AddToCart) => format!("Goes with {title} in your cart"),
        (_, InteractionKind::Rating) => format!("Because you rated {title} highly"),
        _ => format!("Because you liked {title}"),
    }
}

/// When, relative to `now_ms`: "today", "yesterday", "3 days ago", "on 2026-10-02".
pub fn ago(at_ms: i64, now_ms: i64) -> String {
    let days = (now_ms - at_ms).max(0) / 86_400_000;
    match days {
        0 => "today".into(),
        1 => "yesterday".into(),
        2..=30 => format!("{days} days ago"),
        _ => match time::OffsetDateTime::from_unix_timestamp(at_ms.div_euclid(1000)) {
            Ok(t) => format!(
                "on {:04}-{:02}-{:02}",
                t.year(),
                u8::from(t.month()),
                t.day()
            ),
            Err(_) => "a while ago".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::tests::catalog;
    use super::super::ShopperEvent;
    use super::*;

    #[test]
    fn ago_counts_days_then_gives_the_date() {
        let day = 86_400_000;
        let now = 1_790_000_000_000; // 2026-09-21
        assert_eq!(ago(now - 1000, now), "today");
        assert_eq!(ago(now - day - 1, now), "yesterday");
        assert_eq!(ago(now - 3 * day, now), "3 days ago");
        assert_eq!(ago(now - 40 * day, now), "on 2026-08-12");
        assert_eq!(ago(now + day, now), "today", "a clock running ahead");
    }

    #[test]
    fn a_reason_names_the_shoppers_strongest_event() {
        let catalog = catalog(&[(1, "Home > Kitchen", 1), (2, "Toys", 1)]);
        let mut history = History::default();
        for kind in [InteractionKind::View, InteractionKind::Purchase] {
            history.push(ShopperEvent {
                product_id: 1,
                kind,
                value: None,
                at_ms: 5,
            });
        }
        let explained = |item: u32| Explanation {
            because_of: vec![(item, 1.0)],
            note: None,
        };
        assert_eq!(
            because_of(&catalog, &history, &explained(0)).as_deref(),
            Some("Because you bought P1")
        );
        // An item the shopper never touched came from their onboarding interests.
        assert_eq!(
            because_of(&catalog, &history, &explained(1)).as_deref(),
            Some("Picked for your interest in Toys")
        );
        assert_eq!(
            because_of(&catalog, &history, &Explanation::default()),
            None
        );
        assert_eq!(popular_in(&catalog, 0), "Popular in Kitchen");
        assert_eq!(
            anchored("P1", false, InteractionKind::AddToCart),
            "Goes with P1 in your cart"
        );
        assert_eq!(anchored("P1", true, InteractionKind::Like), "Similar to P1");
    }

    #[test]
    fn the_latest_view_is_just_viewed() {
        let catalog = catalog(&[(1, "Toys", 1), (2, "Toys", 1)]);
        let mut history = History::default();
        for (product_id, at_ms) in [(1, 5), (2, 6)] {
            history.push(ShopperEvent {
                product_id,
                kind: InteractionKind::View,
                value: None,
                at_ms,
            });
        }
        let explained = |item: u32| Explanation {
            because_of: vec![(item, 1.0)],
            note: None,
        };
        assert_eq!(
            because_of(&catalog, &history, &explained(1)).as_deref(),
            Some("Because you just viewed P2")
        );
        assert_eq!(
            because_of(&catalog, &history, &explained(0)).as_deref(),
            Some("Because you viewed P1")
        );
    }
}
