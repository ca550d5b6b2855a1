//! The pipeline on a hand-made shop of eight products: each source, the rules and the
//! reasons, end to end through [`rank`].

use super::*;
use crate::data::{Dataset, Event, IdMap, ItemFeatures};
use crate::models::{CoPurchaseConfig, Content, ContentConfig, ItemKnn, ItemKnnConfig};
use crate::models::{Popularity, Trending, TrendingConfig};
use crate::strategy::{Diversity, Strategy};
use crate::Recommender;

/// (product id, title, path, price) of the eight products, in item order.
const PRODUCTS: [(i64, &str, &str, i64); 8] = [
    (100, "Espresso grinder burr", "Home > Kitchen", 9_000),
    (
        101,
        "Leather hiking boot waterproof",
        "Sports > Shoes",
        12_000,
    ),
    (102, "Ceramic tea kettle", "Home > Kitchen", 3_000),
    (103, "Camera memory card", "Electronics > Cameras", 2_000),
    (
        104,
        "Mirrorless camera body",
        "Electronics > Cameras",
        90_000,
    ),
    (
        105,
        "Leather hiking boot waterproof classic",
        "Sports > Shoes",
        11_000,
    ),
    (106, "Camera lens fifty", "Electronics > Cameras", 30_000),
    (107, "Coffee beans dark roast", "Home > Kitchen", 1_500),
];

/// The disliked product of the demotion tests, and the item index of its twin.
pub(crate) const DISLIKED_TWIN: (i64, u32) = (105, 1);

/// Unix milliseconds of the shop's "now".
pub(crate) const NOW: i64 = 1_790_000_000_000;

/// The shop's past shoppers: (shopper, item, kind), one second apart.
fn past_events() -> Vec<(u32, u32, InteractionKind)> {
    use InteractionKind::*;
    vec![
        (0, 4, Purchase),
        (0, 3, Purchase),
        (0, 6, View),
        (1, 4, Purchase),
        (1, 3, Purchase),
        (2, 4, View),
        (2, 6, Click),
        (2, 3, Purchase),
        (3, 0, Purchase),
        (3, 7, Purchase),
        (3, 2, View),
        (4, 0, Purchase),
        (4, 7, Purchase),
        (5, 1, View),
        (5, 5, View),
        (6, 2, Click),
        (6, 0, Click),
        (6, 7, Purchase),
    ]
}

/// The eight products with content, item-kNN, popularity and trending fitted on the
/// past shoppers, and co-purchases from their purchases (one basket per shopper).
pub(crate) fn shop() -> ModelSet {
    let mut categories: Vec<&str> = Vec::new();
    let catalog = Catalog::new(PRODUCTS.iter().map(|&(id, title, path, price)| {
        if !categories.contains(&path) {
            categories.push(path);
        }
        CatalogEntry {
            product_id: id,
            title: title.to_string(),
            category_id: categories.iter().position(|c| *c == path).map(|i| i as i64),
            path: Some(path.to_string()),
            price_minor: Some(price),
            in_stock: true,
            consumable: id == 107,
        }
    }));
    let mut items = IdMap::new();
    for (id, ..) in PRODUCTS {
        items.get_or_insert(&id.to_string());
    }
    let events: Vec<Event> = past_events()
        .into_iter()
        .enumerate()
        .map(|(t, (user, item, kind))| Event {
            user: user.to_string(),
            item: PRODUCTS[item as usize].0.to_string(),
            kind,
            value: None,
            time: NOW / 1000 - 3_600 + t as i64,
        })
        .collect();
    let mut data = Dataset::from_events_with(IdMap::new(), items, &events);
    data.features = PRODUCTS
        .iter()
        .map(|&(_, title, path, price)| ItemFeatures {
            title: title.to_string(),
            description: String::new(),
            categories: path.split(" > ").map(str::to_string).collect(),
            brand: None,
            price_minor: Some(price),
            tags: Vec::new(),
        })
        .collect();
    let mut models: BTreeMap<String, Box<dyn Recommender>> = BTreeMap::new();
    let fitted: Vec<Box<dyn Recommender>> = vec![
        Box::new(Popularity::new()),
        Box::new(Trending::new(TrendingConfig::default())),
        Box::new(ItemKnn::new(ItemKnnConfig::default())),
        Box::new(Content::new(ContentConfig::default())),
    ];
    for mut model in fitted {
        model.fit(&data).unwrap();
        models.insert(model.name().to_string(), model);
    }
    let mut baskets: Vec<Vec<u32>> = vec![Vec::new(); 7];
    for (user, item, kind) in past_events() {
        if kind == InteractionKind::Purchase {
            baskets[user as usize].push(item);
        }
    }
    let copurchase = CoPurchase::fit(8, &baskets, CoPurchaseConfig::default()).unwrap();
    ModelSet {
        catalog,
        models,
        copurchase,
    }
}

/// A history of (product, kind) events, one second apart, ending a minute before now.
fn history(events: &[(i64, InteractionKind)]) -> History {
    History::new(
        events
            .iter()
            .enumerate()
            .map(|(t, &(product_id, kind))| ShopperEvent {
                product_id,
                kind,
                value: None,
                at_ms: NOW - 60_000 + t as i64 * 1_000,
            }),
        Vec::new(),
    )
}

/// The built-in strategy's surface `name`.
fn surface(name: &str) -> Surface {
    Strategy::builtin().surface[name].clone()
}

fn models(names: &[&str]) -> Vec<String> {
    names.iter().map(|m| m.to_string()).collect()
}

fn products(ranked: &Ranked) -> Vec<i64> {
    ranked.items.iter().map(|i| i.product_id).collect()
}

fn ranked(
    set: &ModelSet,
    surface: &Surface,
    models: &[String],
    history: &History,
    request: &SurfaceRequest,
) -> Ranked {
    let shopper = Shopper {
        history,
        interests: &[],
        now_ms: NOW,
    };
    rank(set, &Rules::default(), surface, models, &shopper, request)
}

#[test]
fn for_you_scores_the_history_and_leaves_out_what_was_seen() {
    let set = shop();
    let mine = history(&[(104, InteractionKind::Purchase)]);
    let list = ranked(
        &set,
        &surface("for_you"),
        &models(&["item-knn"]),
        &mine,
        &SurfaceRequest::default(),
    );
    let got = products(&list);
    assert_eq!(list.title, "Recommended for you");
    assert!(
        !got.contains(&104),
        "a bought product is not shown back: {got:?}"
    );
    assert_eq!(got.first(), Some(&103), "{list:?}");
    assert!(got.contains(&106), "{got:?}");
    assert_eq!(
        list.items[0].reason,
        "Because you bought Mirrorless camera body"
    );
    // A price filter holds for every item; no history, no list.
    let cheap = SurfaceRequest {
        price_max: Some(5_000),
        ..SurfaceRequest::default()
    };
    let list = ranked(
        &set,
        &surface("for_you"),
        &models(&["item-knn"]),
        &mine,
        &cheap,
    );
    assert!(!list.items.is_empty());
    assert!(list
        .items
        .iter()
        .all(|i| PRODUCTS.iter().any(|p| p.0 == i.product_id && p.3 <= 5_000)));
    let empty = ranked(
        &set,
        &surface("for_you"),
        &models(&["item-knn"]),
        &History::default(),
        &SurfaceRequest::default(),
    );
    assert!(empty.items.is_empty());
}

#[test]
fn a_model_source_without_models_gives_nothing() {
    let set = shop();
    let mine = history(&[(104, InteractionKind::Purchase)]);
    let list = ranked(
        &set,
        &surface("for_you"),
        &[],
        &mine,
        &SurfaceRequest::default(),
    );
    assert!(list.items.is_empty());
}

#[test]
fn onboarding_interests_stand_in_for_a_history() {
    let set = shop();
    let interests = ["Electronics > Cameras".to_string()];
    let shopper = Shopper {
        history: &History::default(),
        interests: &interests,
        now_ms: NOW,
    };
    let list = rank(
        &set,
        &Rules::default(),
        &surface("for_you"),
        &models(&["item-knn"]),
        &shopper,
        &SurfaceRequest::default(),
    );
    assert!(!list.items.is_empty());
    assert!(
        list.items
            .iter()
            .any(|i| i.reason == "Picked for your interest in Cameras"),
        "{list:?}"
    );
}

#[test]
fn because_you_liked_follows_the_latest_liked_product() {
    let set = shop();
    let mine = history(&[
        (100, InteractionKind::Like),
        (104, InteractionKind::Like),
        (106, InteractionKind::View),
    ]);
    let list = ranked(
        &set,
        &surface("because_you_liked"),
        &models(&["item-knn", "content"]),
        &mine,
        &SurfaceRequest::default(),
    );
    assert_eq!(list.title, "Because you liked Mirrorless camera body");
    let got = products(&list);
    assert_eq!(got.first(), Some(&103), "{list:?}");
    assert!(!got.contains(&106) && !got.contains(&104), "seen: {got:?}");
    assert!(list
        .items
        .iter()
        .all(|i| i.reason == "Because you liked Mirrorless camera body"));
    // A dislike of the anchor takes it away: the like before it anchors now.
    let mut changed = mine.clone();
    changed.push(ShopperEvent {
        product_id: 104,
        kind: InteractionKind::Dislike,
        value: None,
        at_ms: NOW,
    });
    let list = ranked(
        &set,
        &surface("because_you_liked"),
        &models(&["item-knn", "content"]),
        &changed,
        &SurfaceRequest::default(),
    );
    assert_eq!(list.title, "Because you liked Espresso grinder burr");
}

#[test]
fn similar_items_leave_out_the_product_on_screen_but_not_what_was_seen() {
    let set = shop();
    let mine = history(&[(103, InteractionKind::View)]);
    let on_screen = SurfaceRequest {
        product: Some(104),
        ..SurfaceRequest::default()
    };
    let list = ranked(
        &set,
        &surface("similar"),
        &models(&["content", "item-knn"]),
        &mine,
        &on_screen,
    );
    assert_eq!(list.title, "Similar items");
    let got = products(&list);
    assert!(!got.contains(&104), "{got:?}");
    assert!(got.contains(&103), "seen products are fine here: {got:?}");
    assert!(list
        .items
        .iter()
        .all(|i| i.reason == "Similar to Mirrorless camera body"));
}

#[test]
fn near_duplicates_of_a_disliked_product_fall_on_similar_items() {
    let set = shop();
    // On the grinder's page, the boots are far down anyway; on a boot's page, the twin
    // of a disliked boot comes after the other items it would have led.
    let on_screen = SurfaceRequest {
        product: Some(106),
        ..SurfaceRequest::default()
    };
    let similar = surface("similar");
    let before = ranked(
        &set,
        &similar,
        &models(&["content"]),
        &History::default(),
        &on_screen,
    );
    let disliked = history(&[(DISLIKED_TWIN.0, InteractionKind::Dislike)]);
    let after = ranked(&set, &similar, &models(&["content"]), &disliked, &on_screen);
    let twin = set.catalog.product(DISLIKED_TWIN.1);
    let place = |list: &Ranked| list.items.iter().position(|i| i.product_id == twin);
    assert!(
        !products(&after).contains(&DISLIKED_TWIN.0),
        "disliked: excluded"
    );
    match (place(&before), place(&after)) {
        (Some(b), Some(a)) => assert!(a >= b, "{before:?} -> {after:?}"),
        (Some(_), None) | (None, None) => {}
        (None, Some(_)) => panic!("the twin rose: {after:?}"),
    }
}

#[test]
fn bought_together_and_complete_your_order_come_from_baskets() {
    let set = shop();
    let none = History::default();
    let on_screen = SurfaceRequest {
        product: Some(104),
        ..SurfaceRequest::default()
    };
    let list = ranked(&set, &surface("bought_together"), &[], &none, &on_screen);
    assert_eq!(list.title, "Frequently bought together");
    assert_eq!(products(&list), [103]);
    assert_eq!(
        list.items[0].reason,
        "Often bought with Mirrorless camera body"
    );
    let cart = SurfaceRequest {
        cart: vec![100],
        ..SurfaceRequest::default()
    };
    let list = ranked(&set, &surface("complete_order"), &[], &none, &cart);
    assert_eq!(products(&list), [107]);
    assert_eq!(
        list.items[0].reason,
        "Often bought with Espresso grinder burr"
    );
    // A product without partners: nothing (the strategy falls back).
    let lonely = SurfaceRequest {
        product: Some(101),
        ..SurfaceRequest::default()
    };
    assert!(
        ranked(&set, &surface("bought_together"), &[], &none, &lonely)
            .items
            .is_empty()
    );
}

#[test]
fn trending_obeys_the_rules_and_onboarding_spreads_over_departments() {
    let set = shop();
    let mine = history(&[(103, InteractionKind::Purchase)]);
    let mut trending = surface("trending");
    trending.diversity = Diversity::default();
    let list = ranked(&set, &trending, &[], &mine, &SurfaceRequest::default());
    let got = products(&list);
    assert!(!got.is_empty());
    assert!(!got.contains(&103), "bought: excluded everywhere");
    assert!(list.items.windows(2).all(|w| w[0].score >= w[1].score));
    let mut onboarding = surface("onboarding_picks");
    onboarding.k = 3;
    let list = ranked(
        &set,
        &onboarding,
        &[],
        &History::default(),
        &SurfaceRequest::default(),
    );
    let departments: Vec<&str> = list
        .items
        .iter()
        .map(|i| {
            let item = set.catalog.item(i.product_id).unwrap();
            set.catalog.department(item).unwrap()
        })
        .collect();
    assert_eq!(departments.len(), 3);
    assert!(
        departments[0] != departments[1]
            && departments[1] != departments[2]
            && departments[0] != departments[2],
        "{departments:?}"
    );
}

#[test]
fn recently_viewed_and_buy_again_read_the_shoppers_own_past() {
    let set = shop();
    let mine = history(&[
        (100, InteractionKind::View),
        (102, InteractionKind::View),
        (107, InteractionKind::Purchase),
        (104, InteractionKind::Purchase),
        (100, InteractionKind::View),
    ]);
    let on_screen = SurfaceRequest {
        product: Some(102),
        ..SurfaceRequest::default()
    };
    let list = ranked(&set, &surface("recently_viewed"), &[], &mine, &on_screen);
    assert_eq!(
        products(&list),
        [100],
        "newest first, each once, not the one on screen"
    );
    assert_eq!(list.items[0].reason, "You viewed this today");
    let list = ranked(
        &set,
        &surface("buy_again"),
        &[],
        &mine,
        &SurfaceRequest::default(),
    );
    assert_eq!(products(&list), [107], "only consumables");
    assert_eq!(list.items[0].reason, "You bought this today");
}

#[test]
fn the_why_page_shows_every_model_and_the_taste() {
    let set = shop();
    let mine = history(&[
        (104, InteractionKind::Purchase),
        (106, InteractionKind::View),
    ]);
    let shopper = Shopper {
        history: &mine,
        interests: &[],
        now_ms: NOW,
    };
    let (picks, taste) = why::model_picks(&set, &Rules::default(), &shopper, 3);
    assert_eq!(
        picks.iter().map(|p| p.model.as_str()).collect::<Vec<_>>(),
        ["content", "item-knn", "popularity", "trending"]
    );
    for p in &picks {
        assert!(
            p.items.iter().all(|(id, _, _)| *id != 104 && *id != 106),
            "{p:?}"
        );
    }
    assert_eq!(taste.categories, vec![("Cameras".to_string(), 1.0)]);
    assert_eq!(taste.products[0].0, 104);
    assert_eq!(taste.products[0].2, Some(InteractionKind::Purchase));
    assert!(taste.price_band.is_some());
}
