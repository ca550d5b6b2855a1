//! The generated demo shop: with an empty catalogue, `curio` fills the database with the
//! seeded catalogue and simulated shoppers of [`curio::demo`], so a fresh machine has a
//! shop that is alive without any download. Labelled as generated data in the UI.

use std::time::Instant;

use curio::demo::{self, DemoConfig};

use crate::error::Error;
use crate::store::products::WriteCounts;
use crate::store::Store;

/// The `shop_meta` key that records which demo data was loaded.
pub const DEMO_META_KEY: &str = "demo_seed";

/// What seeding did.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Rows written.
    pub counts: WriteCounts,
    /// Seconds spent generating.
    pub generate_secs: f64,
    /// Seconds spent writing.
    pub write_secs: f64,
}

/// Loads the demo shop when the catalogue is empty; `None` when there was a catalogue.
pub async fn seed_if_empty(
    store: &Store,
    config: &DemoConfig,
) -> Result<Option<SeedReport>, Error> {
    if !store.catalog_is_empty().await? {
        return Ok(None);
    }
    seed(store, config).await.map(Some)
}

/// Generates the demo shop and writes it in one transaction.
pub async fn seed(store: &Store, config: &DemoConfig) -> Result<SeedReport, Error> {
    let started = Instant::now();
    let generator = config.clone();
    let shop = tokio::task::spawn_blocking(move || demo::generate(&generator))
        .await
        .map_err(|e| Error::Startup(format!("demo generator failed: {e}")))?;
    let generate_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut writer = store.catalog_writer("demo").await?;
    for product in &shop.products {
        writer.product(product).await?;
    }
    for event in &shop.events {
        writer.interaction(event).await?;
    }
    let label = format!(
        "generated demo data: seed {}, {} products, {} shoppers",
        config.seed,
        shop.products.len(),
        shop.shoppers.len()
    );
    writer.set_meta(DEMO_META_KEY, &label).await?;
    let counts = writer.commit().await?;
    let report = SeedReport {
        counts,
        generate_secs,
        write_secs: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        products = report.counts.products_created,
        interactions = report.counts.interactions,
        generate_secs = report.generate_secs,
        write_secs = report.write_secs,
        "loaded the generated demo shop"
    );
    Ok(report)
}
