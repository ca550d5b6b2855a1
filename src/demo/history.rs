//! Simulates the demo shoppers: draws each one's hidden taste, then plays out their
//! sessions over the history (views, clicks, likes, carts, purchases, ratings,
//! complement visits and consumable re-buys) as interaction events.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::catalogue::{normal, Catalogue};
use super::vocabulary::{COMPLEMENTS, FIRST_NAMES, INITIALS, LEAVES};
use super::{utility, DemoConfig, DemoShopper, Taste, DAY_MS};
use crate::interaction::InteractionKind;
use crate::records::InteractionRecord;

const SECOND_MS: i64 = 1000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// Sessions never start later than this before the end, so they finish inside the history.
const SESSION_MARGIN_MS: i64 = 3 * HOUR_MS;

/// Share of ordinary sessions spent in a favourite category (the rest explore).
const TASTE_SESSION_SHARE: f64 = 0.85;

/// Products a session considers before choosing what to view.
const CANDIDATES_PER_SESSION: usize = 24;

/// How sharply views follow utility (weight `exp(VIEW_SHARPNESS * utility)`).
const VIEW_SHARPNESS: f32 = 2.0;

/// Chance that a purchase is rated later.
const RATING_SHARE: f64 = 0.35;

/// Chance that a consumable purchase is bought again.
const REBUY_SHARE: f64 = 0.8;

/// The random generator for one stream of `seed`: the catalogue uses stream 0, shopper
/// `i` stream `i + 1`, so adding shoppers does not change earlier ones.
pub(super) fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Visit {
    /// An ordinary visit: a category from the taste, or an exploration.
    Ordinary,
    /// A visit to a complement category after a purchase.
    Complement(usize),
    /// A return to buy a consumable again.
    Rebuy(usize),
}

/// The catalogue indexes the simulation needs.
struct ShopIndex<'a> {
    /// The catalogue itself.
    catalogue: &'a Catalogue,
    /// Product indices of each category.
    category_products: Vec<Vec<usize>>,
    /// Complement categories (and visit probability) of each category.
    complements: Vec<Vec<(usize, f64)>>,
}

/// Draws the shoppers and plays out their history; events are sorted by time.
pub(super) fn simulate(
    config: &DemoConfig,
    catalogue: &Catalogue,
) -> (Vec<DemoShopper>, Vec<InteractionRecord>) {
    let categories = catalogue.categories.len();
    let mut category_products = vec![Vec::new(); categories];
    for (product, &category) in catalogue.product_category.iter().enumerate() {
        category_products[category].push(product);
    }
    let leaf_index = LEAVES
        .iter()
        .enumerate()
        .map(|(index, leaf)| (leaf.leaf, index))
        .collect::<BTreeMap<_, _>>();
    let mut complements = vec![Vec::new(); categories];
    for &(source, target, probability) in COMPLEMENTS {
        if let (Some(&source), Some(&target)) = (leaf_index.get(source), leaf_index.get(target)) {
            complements[source].push((target, f64::from(probability)));
        }
    }
    let index = ShopIndex {
        catalogue,
        category_products,
        complements,
    };

    let mut shoppers = Vec::with_capacity(config.shoppers);
    let mut events = Vec::new();
    for number in 0..config.shoppers {
        let mut rng = stream_rng(config.seed, number as u64 + 1);
        let shopper = draw_shopper(&mut rng, number, &index);
        if index.catalogue.products.is_empty() {
            shoppers.push(shopper);
            continue;
        }
        let mut simulation = ShopperSimulation {
            rng,
            index: &index,
            config,
            taste: &shopper.taste,
            key: &shopper.key,
            events: &mut events,
            plans: BinaryHeap::new(),
            plan_sequence: 0,
        };
        simulation.run();
        shoppers.push(shopper);
    }
    events.sort_by_key(|event| event.at_ms);
    (shoppers, events)
}

/// Draws shopper `number`'s name and hidden taste.
fn draw_shopper(rng: &mut ChaCha8Rng, number: usize, index: &ShopIndex) -> DemoShopper {
    let categories = index.catalogue.categories.len();
    let favourites = match rng.gen::<f32>() {
        x if x < 0.35 => 1,
        x if x < 0.75 => 2,
        _ => 3,
    }
    .min(categories);
    // Dirichlet(1, ..., 1) weights: normalised exponential draws.
    let mut weighted = rand::seq::index::sample(rng, categories, favourites)
        .into_iter()
        .map(|category| (category, -(1.0 - rng.gen::<f32>()).ln() + 1e-3))
        .collect::<Vec<_>>();
    let total: f32 = weighted.iter().map(|&(_, weight)| weight).sum();
    for (_, weight) in &mut weighted {
        *weight /= total;
    }
    weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

    let mut brands: Vec<(String, f32)> = Vec::new();
    let wanted_brands = rng.gen_range(1..=3);
    for _ in 0..wanted_brands * 3 {
        if brands.len() == wanted_brands {
            break;
        }
        let category = pick_weighted(rng, &weighted);
        let leaf_brands = LEAVES[category].brands;
        let brand = leaf_brands[rng.gen_range(0..leaf_brands.len())];
        if brands.iter().all(|(name, _)| name != brand) {
            brands.push((brand.to_string(), 0.5 + 0.5 * rng.gen::<f32>()));
        }
    }
    brands.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let initial = char::from(INITIALS[rng.gen_range(0..INITIALS.len())]);
    DemoShopper {
        key: format!("demo-{:04}", number + 1),
        display_name: format!("{first} {initial}."),
        taste: Taste {
            categories: weighted,
            brands,
            price_level: rng.gen::<f32>(),
        },
    }
}

/// A category drawn by taste weight.
fn pick_weighted(rng: &mut ChaCha8Rng, weighted: &[(usize, f32)]) -> usize {
    let mut draw = rng.gen::<f32>();
    for &(category, weight) in weighted {
        if draw < weight {
            return category;
        }
        draw -= weight;
    }
    // Rounding left a sliver past the last weight: it belongs to the last category.
    weighted.last().map_or(0, |&(category, _)| category)
}

/// One shopper's history in the making.
struct ShopperSimulation<'a> {
    /// This shopper's own random stream.
    rng: ChaCha8Rng,
    /// The catalogue and its indexes.
    index: &'a ShopIndex<'a>,
    /// What is being generated.
    config: &'a DemoConfig,
    /// The shopper's hidden taste.
    taste: &'a Taste,
    /// The shopper's key, written into every event.
    key: &'a str,
    /// Where the events go (shared by all shoppers).
    events: &'a mut Vec<InteractionRecord>,
    /// Planned sessions, earliest first (time, tie-breaking sequence, purpose).
    plans: BinaryHeap<Reverse<(i64, u64, Visit)>>,
    /// Sessions planned so far, the tie-breaker that keeps the order stable.
    plan_sequence: u64,
}

impl ShopperSimulation<'_> {
    /// Plans the ordinary sessions, then plays every session in time order.
    fn run(&mut self) {
        let first_start = self.config.start_ms() + 1;
        let last_start = self.latest_session_start();
        if last_start < first_start {
            return;
        }
        // Heavy-tailed activity: a Pareto draw, most shoppers a few sessions, some many.
        let activity = 3.5 * (1.0 - self.rng.gen::<f64>()).powf(-1.0 / 1.25);
        let sessions = (activity as usize).clamp(1, 150);
        for _ in 0..sessions {
            let at = self.rng.gen_range(first_start..=last_start);
            self.plan(at, Visit::Ordinary);
        }
        while let Some(Reverse((at, _, visit))) = self.plans.pop() {
            match visit {
                Visit::Ordinary => {
                    let category = if self.rng.gen_bool(TASTE_SESSION_SHARE) {
                        pick_weighted(&mut self.rng, &self.taste.categories)
                    } else {
                        self.rng.gen_range(0..self.index.catalogue.categories.len())
                    };
                    let favourite = self.taste.categories.iter().any(|&(c, _)| c == category);
                    self.browse(at, category, if favourite { 0.45 } else { 0.12 });
                }
                Visit::Complement(category) => self.browse(at, category, 0.8),
                Visit::Rebuy(product) => self.rebuy(at, product),
            }
        }
    }

    /// The latest time a session may start and still end inside the history.
    fn latest_session_start(&self) -> i64 {
        self.config.end_ms - SESSION_MARGIN_MS
    }

    /// Plans a session at `at` unless it would start too late.
    fn plan(&mut self, at: i64, visit: Visit) {
        if at <= self.latest_session_start() {
            self.plan_sequence += 1;
            self.plans.push(Reverse((at, self.plan_sequence, visit)));
        }
    }

    /// Records one event of this shopper.
    fn emit(&mut self, product: usize, kind: InteractionKind, value: Option<f32>, at_ms: i64) {
        self.events.push(InteractionRecord {
            user: self.key.to_string(),
            sku: self.index.catalogue.products[product].sku.clone(),
            kind,
            value,
            at_ms,
        });
    }

    /// This shopper's utility for `product`.
    fn utility_of(&self, product: usize) -> f32 {
        let catalogue = self.index.catalogue;
        utility(
            self.taste,
            catalogue.products[product].brand.as_deref().unwrap_or(""),
            catalogue.product_price_position[product],
            catalogue.product_quality[product],
            catalogue.product_popularity[product],
        )
    }

    /// A browsing session in `category` starting at `at`; `intent` is the chance the
    /// shopper means to buy.
    fn browse(&mut self, at: i64, category: usize, intent: f64) {
        let index = self.index;
        let products = &index.category_products[category];
        if products.is_empty() {
            return;
        }
        // Candidates: products of the category that exist by now, drawn at random.
        let mut candidates: Vec<(usize, f32)> = Vec::with_capacity(CANDIDATES_PER_SESSION);
        for _ in 0..CANDIDATES_PER_SESSION * 2 {
            if candidates.len() == CANDIDATES_PER_SESSION {
                break;
            }
            let product = products[self.rng.gen_range(0..products.len())];
            if index.catalogue.product_created_ms[product] < at
                && candidates.iter().all(|&(p, _)| p != product)
            {
                candidates.push((product, self.utility_of(product)));
            }
        }
        if candidates.is_empty() {
            return;
        }

        let views =
            (1 + self.rng.gen_range(1..=7).min(self.rng.gen_range(1..=7))).min(candidates.len());
        let mut weights = candidates
            .iter()
            .map(|&(_, u)| (VIEW_SHARPNESS * u).exp())
            .collect::<Vec<_>>();
        let mut viewed: Vec<(usize, f32)> = Vec::with_capacity(views);
        let mut t = at;
        for _ in 0..views {
            let Some(choice) = self.draw_index(&weights) else {
                break;
            };
            weights[choice] = 0.0;
            let (product, u) = candidates[choice];
            t += self.rng.gen_range(5 * SECOND_MS..120 * SECOND_MS);
            if self.rng.gen_bool(0.55) {
                self.emit(product, InteractionKind::Click, None, t);
                t += self.rng.gen_range(SECOND_MS..4 * SECOND_MS);
            }
            self.emit(product, InteractionKind::View, None, t);
            if self.rng.gen::<f32>() < 0.04 + 0.35 * sigmoid(2.5 * (u - 1.8)) {
                t += self.rng.gen_range(3 * SECOND_MS..40 * SECOND_MS);
                self.emit(product, InteractionKind::Like, None, t);
            } else if self.rng.gen::<f32>() < 0.25 * sigmoid(3.0 * (-0.3 - u)) {
                t += self.rng.gen_range(3 * SECOND_MS..40 * SECOND_MS);
                self.emit(product, InteractionKind::Dislike, None, t);
            }
            viewed.push((product, u));
        }
        if viewed.is_empty() {
            return;
        }

        if self.rng.gen_bool(intent) {
            // The best viewed product, with a little noise, goes to the cart if good enough.
            let mut best = viewed[0];
            let mut best_score = f32::NEG_INFINITY;
            for &(product, u) in &viewed {
                let score = u + 0.4 * normal(&mut self.rng);
                if score > best_score {
                    best = (product, u);
                    best_score = score;
                }
            }
            let (product, u) = best;
            if self.rng.gen::<f32>() < sigmoid(2.0 * (u - 0.3)) {
                t += self.rng.gen_range(10 * SECOND_MS..3 * MINUTE_MS);
                self.emit(product, InteractionKind::AddToCart, None, t);
                t += self.rng.gen_range(30 * SECOND_MS..6 * MINUTE_MS);
                if self.rng.gen_bool(0.8) {
                    self.purchase(t, product, u);
                } else if self.rng.gen_bool(0.5) {
                    self.emit(product, InteractionKind::RemoveFromCart, None, t);
                }
            }
        } else if self.rng.gen_bool(0.06) {
            // Window shopping: into the cart and, usually, back out.
            let (product, _) = viewed[self.rng.gen_range(0..viewed.len())];
            t += self.rng.gen_range(10 * SECOND_MS..3 * MINUTE_MS);
            self.emit(product, InteractionKind::AddToCart, None, t);
            if self.rng.gen_bool(0.6) {
                t += self.rng.gen_range(30 * SECOND_MS..6 * MINUTE_MS);
                self.emit(product, InteractionKind::RemoveFromCart, None, t);
            }
        }
    }

    /// A return visit to buy consumable `product` again (or something near it).
    fn rebuy(&mut self, at: i64, product: usize) {
        let category = self.index.catalogue.product_category[product];
        if self.rng.gen_bool(0.25) {
            self.browse(at, category, 0.7);
            return;
        }
        let mut t = at;
        if self.rng.gen_bool(0.5) {
            self.emit(product, InteractionKind::View, None, t);
            t += self.rng.gen_range(10 * SECOND_MS..2 * MINUTE_MS);
        }
        self.emit(product, InteractionKind::AddToCart, None, t);
        t += self.rng.gen_range(30 * SECOND_MS..4 * MINUTE_MS);
        let u = self.utility_of(product);
        self.purchase(t, product, u);
    }

    /// A purchase at `at`, with what follows it: a rating, a complement visit, a re-buy.
    fn purchase(&mut self, at: i64, product: usize, u: f32) {
        let category = self.index.catalogue.product_category[product];
        let consumable = LEAVES[category].consumable;
        let quantity = if consumable {
            self.rng.gen_range(1..=3) as f32
        } else {
            1.0
        };
        self.emit(product, InteractionKind::Purchase, Some(quantity), at);

        if self.rng.gen_bool(RATING_SHARE) {
            let rated_at = at + self.rng.gen_range(2 * DAY_MS..12 * DAY_MS);
            if rated_at <= self.config.end_ms {
                let stars = (3.0 + 0.9 * (u - 1.0) + 0.7 * normal(&mut self.rng))
                    .round()
                    .clamp(1.0, 5.0);
                self.emit(product, InteractionKind::Rating, Some(stars), rated_at);
            }
        }
        for target in 0..self.index.complements[category].len() {
            let (target, probability) = self.index.complements[category][target];
            if self.rng.gen_bool(probability) {
                let visit_at = at + self.rng.gen_range(HOUR_MS..5 * DAY_MS);
                self.plan(visit_at, Visit::Complement(target));
            }
        }
        if consumable && self.rng.gen_bool(REBUY_SHARE) {
            let days = f64::from(LEAVES[category].rebuy_days) * self.rng.gen_range(0.75..1.3);
            self.plan(at + (days * DAY_MS as f64) as i64, Visit::Rebuy(product));
        }
    }

    /// An index drawn with probability proportional to `weights`; `None` if all are zero.
    fn draw_index(&mut self, weights: &[f32]) -> Option<usize> {
        let total: f32 = weights.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        let mut draw = self.rng.gen::<f32>() * total;
        let mut last_positive = None;
        for (index, &weight) in weights.iter().enumerate() {
            if weight > 0.0 {
                if draw < weight {
                    return Some(index);
                }
                draw -= weight;
                last_positive = Some(index);
            }
        }
        last_positive
    }
}

/// The logistic function, mapping any utility to a probability.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
