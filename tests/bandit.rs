//! The bandit on the generated shop: two strategies of known different quality serve
//! lists of 10 to the generated shoppers, who click by their hidden tastes; Thompson
//! sampling must send at least 80% of the traffic to the better strategy after 1,000
//! impressions.

use curio::bandit::Bandit;
use curio::demo::{generate, DemoConfig};
use curio::models::{Content, ContentConfig, Popularity};
use curio::{recommend, Recommender};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The chance a shopper clicks a product shown to them: high for products of a category
/// they like, rising with their utility for it (the generator's own measure).
fn click_chance(shop: &curio::demo::DemoShop, shopper: usize, product: usize) -> f64 {
    let category = shop.product_category[product];
    let liking: f32 = shop.shoppers[shopper]
        .taste
        .categories
        .iter()
        .filter(|c| c.0 == category)
        .map(|c| c.1)
        .sum();
    let u = shop.utility(shopper, product);
    f64::from(liking.min(1.0) * 0.5 / (1.0 + (-u).exp()))
}

/// Lists served in all.
const IMPRESSIONS: usize = 2_000;

#[test]
fn thompson_sampling_moves_traffic_to_the_better_strategy() {
    let shop = generate(&DemoConfig::default());
    let data = shop.dataset();
    let mut content = Content::new(ContentConfig::default());
    content.fit(&data).unwrap();
    let mut popularity = Popularity::new();
    popularity.fit(&data).unwrap();
    // Two strategies of known different quality: "diluted" puts the 3 best sellers the
    // shopper has not seen in place of content's last 3; "content" is content's top 10.
    let serve = |arm: usize, user: u32| -> Vec<u32> {
        let personal = recommend(&content, &data, user, 10, Default::default());
        let mut list: Vec<u32> = personal.iter().map(|r| r.0).collect();
        if arm == 0 {
            list.truncate(7);
            for (item, _) in recommend(&popularity, &data, user, 20, Default::default()) {
                if list.len() < 10 && !list.contains(&item) {
                    list.push(item);
                }
            }
        }
        list
    };
    // Shoppers are users of the dataset in the generator's order.
    let index_of = |key: &str| data.users.get(key).expect("every shopper is a user");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut bandit = Bandit::new(&["diluted", "content"], 0.1);
    // What each strategy is worth, measured apart from the bandit: mean clicks per list.
    let mut quality = [0.0f64; 2];
    let mut served = [0usize; 2];
    let (impressions, late) = (IMPRESSIONS, IMPRESSIONS / 2);
    let mut late_served = [0usize; 2];
    for t in 0..impressions {
        let shopper = rng.gen_range(0..shop.shoppers.len());
        let user = index_of(&shop.shoppers[shopper].key);
        let arm = bandit.choose(&mut rng);
        bandit.record_impression(arm);
        served[arm] += 1;
        if t >= impressions - late {
            late_served[arm] += 1;
        }
        let list = serve(arm, user);
        // The reward: the share of the list clicked.
        let mut clicks = 0usize;
        for &item in &list {
            let p = click_chance(&shop, shopper, item as usize);
            quality[arm] += p;
            clicks += usize::from(rng.gen::<f64>() < p);
        }
        bandit.record_reward(arm, clicks as f64 / list.len().max(1) as f64);
    }
    let expected = [
        quality[0] / served[0].max(1) as f64,
        quality[1] / served[1].max(1) as f64,
    ];
    println!(
        "expected clicks per list: diluted {:.3}, content {:.3}",
        expected[0], expected[1]
    );
    println!("bandit: {:?}", bandit.arms);
    println!("last {late} impressions: {late_served:?}");
    assert!(
        expected[1] > 1.2 * expected[0],
        "content is the better strategy, by a fifth at least: {expected:?}"
    );
    // After the first half, the better strategy gets at least 80% of the second.
    assert!(
        late_served[1] as f64 >= 0.8 * late as f64,
        "{late_served:?}"
    );
}
