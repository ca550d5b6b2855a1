//! The catalogue on a real database: the generated demo shop, every importer through the
//! store (round trip, idempotent re-import, a bad row leaves nothing behind), export, and
//! the real MovieLens-100k read from ../shared/datasets.

mod common;

use std::path::{Path, PathBuf};

use curio::import::{self, Format};
use indicatif::ProgressBar;
use server::cli::import::{export, import, ImportArgs};
use server::services::search::{Filters, Sort};
use server::store::Store;

async fn store_of(db: &common::TestDb) -> Store {
    let database = server::store::db::Database::connect(
        db.config.database_url.as_deref(),
        &db.config.data_dir,
    )
    .await
    .expect("database");
    Store::new(database)
}

fn fixture_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("curio_fixture_{test}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("fixture dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

async fn import_files(
    store: &Store,
    format: &str,
    paths: Vec<PathBuf>,
) -> Result<server::cli::import::ImportReport, String> {
    let args = ImportArgs {
        format: format.to_string(),
        map: Vec::new(),
        paths,
    };
    server::cli::import::run_import(store, &args)
        .await
        .map_err(|e| e.to_string())
}

async fn export_lines(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    export(store, &mut out).await.expect("export");
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

const PRODUCTS_CSV: &str =
    "sku,title,description,category,brand,price,rating,rating_count,colour\n\
P-1,Trail Tent 2,A light &amp; roomy <b>tent</b>.,Outdoors > Tents,Peakline,129.99,4.5,12,green\n\
P-2,Down Sleeping Bag,,Outdoors > Sleeping Bags,Peakline,89.00,,,\n\
P-3,Camp Stove,  Boils   fast. ,Outdoors > Cooking,,\"1,049.50\",3,2,steel\n";

const EVENTS_CSV: &str = "user,sku,kind,value,at\n\
u1,P-1,view,,1700000000\n\
u1,P-1,purchase,1,1700000100\n\
u1,P-1,rating,5,1700000200\n\
u2,P-2,like,,1700000300\n\
u2,P-3,rating,2,1700000400\n\
u3,P-404,view,,1700000500\n";

const WALMART_TSV: &str = "Uniq Id\tProduct Id\tProduct Rating\tProduct Reviews Count\tProduct Category\tProduct Brand\tProduct Name\tProduct Image Url\tProduct Description\tProduct Tags\n\
u-1\tW100\t4.2\t10\tBeauty > Nail > Polish\tGlossa\tGlossa Red Nail Polish\thttps://img.example/a.jpg|https://img.example/b.jpg\tA bright red.\tnail, red\n\
u-2\tW101\t\t\tBeauty > Nail > Polish\tGlossa\tGlossa Clear Top Coat\t\t\tnail\n";

const AMAZON_META: &str = r#"{"asin": "B01", "title": "Pour-Over Kettle", "brand": "by\n    Brewco", "category": ["Home", "Kitchen"], "price": "$34.99", "description": ["Gooseneck &amp; thermometer."], "imageURL": ["https://img.example/k.jpg"]}
{"asin": "B02", "title": "", "category": ["Home"]}
{"asin": "B03", "title": "Coffee Grinder", "category": ["Home", "Kitchen"], "price": "n/a"}
"#;

const AMAZON_REVIEWS: &str = r#"{"reviewerID": "R1", "asin": "B01", "overall": 5.0, "unixReviewTime": 1600000000}
{"reviewerID": "R2", "asin": "B03", "overall": 3.0, "unixReviewTime": 1600000100}
{"reviewerID": "R3", "asin": "B02", "overall": 4.0, "unixReviewTime": 1600000200}
"#;

#[tokio::test]
async fn csv_import_cleans_counts_and_reimports_to_no_change() {
    for db in common::databases("csv_import").await {
        let store = store_of(&db).await;
        let dir = fixture_dir(&format!("csv_{}", db.kind));
        let products = write(&dir, "products.csv", PRODUCTS_CSV);
        let events = write(&dir, "events.csv", EVENTS_CSV);

        // Interaction file first on the command line: products still go in first.
        let report = import_files(&store, "csv", vec![events.clone(), products.clone()])
            .await
            .expect("import");
        assert_eq!(report.counts.products_created, 3, "{}", db.kind);
        assert_eq!(report.counts.interactions, 5);
        assert_eq!(
            report.counts.unknown_product, 1,
            "P-404 is not in the catalogue"
        );
        assert_eq!(report.summary.missing.get("description"), Some(&1));
        assert_eq!(report.summary.missing.get("price"), None);
        let (products_n, shoppers_n, events_n) = counts(&store).await;
        assert_eq!((products_n, shoppers_n, events_n), (3, 2, 5));

        let exported = export_lines(&store).await;
        assert_eq!(exported.len(), 8);
        let tent = &exported[0];
        assert!(
            tent.contains("\"A light & roomy tent .\"")
                || tent.contains("\"A light & roomy tent.\""),
            "{tent}"
        );
        assert!(tent.contains("\"price_minor\":12999"), "{tent}");
        let bag = &exported[1];
        assert!(
            bag.contains("\"description\":null"),
            "absent, never empty: {bag}"
        );
        assert!(bag.contains("\"price_minor\":8900"));
        assert!(
            bag.contains("\"source_rating\":null"),
            "absent rating, not zero: {bag}"
        );
        assert!(exported[2].contains("\"price_minor\":104950"));
        assert!(exported[2].contains("\"brand\":null"));

        // Ratings feed the histogram; the search index sees them.
        let search = server::services::search::SearchIndex::new().unwrap();
        search
            .rebuild(
                store.categories().await.unwrap(),
                store.indexed_products(None).await.unwrap(),
            )
            .unwrap();
        let found = search
            .search("tnet", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(found.total, 1, "typo finds the tent");
        let outdoors = search.category_by_slug("outdoors").expect("category tree");
        let in_outdoors = search
            .search(
                "",
                &Filters {
                    category_id: Some(outdoors.category_id),
                    ..Filters::default()
                },
                Sort::Rating,
                0,
                10,
            )
            .unwrap();
        assert_eq!(in_outdoors.total, 3);
        assert_eq!(
            in_outdoors.categories.len(),
            3,
            "Tents, Sleeping Bags, Cooking"
        );

        // The same files again: nothing changes.
        let again = import_files(&store, "csv", vec![products, events])
            .await
            .expect("re-import");
        assert_eq!(again.counts.products_created, 0);
        assert_eq!(again.counts.products_updated, 0);
        assert_eq!(again.counts.products_unchanged, 3);
        assert_eq!(counts(&store).await, (3, 2, 5));
        assert_eq!(export_lines(&store).await, exported);

        let _ = std::fs::remove_dir_all(&dir);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_bad_row_names_its_line_and_leaves_nothing() {
    for db in common::databases("bad_row").await {
        let store = store_of(&db).await;
        let dir = fixture_dir(&format!("bad_{}", db.kind));
        let good = write(&dir, "products.csv", PRODUCTS_CSV);
        import_files(&store, "csv", vec![good])
            .await
            .expect("good import");
        let before = export_lines(&store).await;

        let bad = write(
            &dir,
            "more.csv",
            "sku,title,price\nQ-1,Lantern,19.99\nQ-2,Camp Chair,twelve\nQ-3,Mug,5\n",
        );
        let error = import_files(&store, "csv", vec![bad])
            .await
            .expect_err("bad price");
        assert!(error.contains("more.csv"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("price"), "{error}");
        assert!(error.contains("nothing was imported"), "{error}");
        assert_eq!(export_lines(&store).await, before, "Q-1 was rolled back");

        let _ = std::fs::remove_dir_all(&dir);
        db.finish().await;
    }
}

#[tokio::test]
async fn walmart_and_amazon_imports_keep_gaps_absent() {
    for db in common::databases("walmart_amazon").await {
        let store = store_of(&db).await;
        let dir = fixture_dir(&format!("wa_{}", db.kind));
        let walmart = write(&dir, "walmart.tsv", WALMART_TSV);
        let report = import_files(&store, "walmart", vec![walmart.clone()])
            .await
            .expect("walmart");
        assert_eq!(report.counts.products_created, 2);
        assert!(report.summary.missing.get("rating").copied().unwrap_or(0) >= 1);
        let meta = write(&dir, "meta_Home.json", AMAZON_META);
        let reviews = write(&dir, "Home.json", AMAZON_REVIEWS);
        let report = import_files(&store, "amazon", vec![reviews, meta])
            .await
            .expect("amazon");
        assert_eq!(report.counts.products_created, 2, "B02 has no title");
        assert_eq!(
            report.summary.skipped.get("metadata without title"),
            Some(&1)
        );
        assert_eq!(report.counts.unknown_product, 1, "the review of B02");
        assert_eq!(report.counts.interactions, 2);

        let lines = export_lines(&store).await;
        let w101 = lines.iter().find(|l| l.contains("\"W101\"")).expect("W101");
        assert!(w101.contains("\"source_rating\":null"), "{w101}");
        assert!(w101.contains("\"description\":null"), "{w101}");
        let w100 = lines.iter().find(|l| l.contains("\"W100\"")).expect("W100");
        assert!(
            w100.contains("\"image_url\":\"https://img.example/a.jpg\""),
            "{w100}"
        );
        let kettle = lines
            .iter()
            .find(|l| l.contains("\"B01\"") && l.contains("product"))
            .expect("B01");
        assert!(kettle.contains("\"brand\":\"Brewco\""), "{kettle}");
        assert!(kettle.contains("\"price_minor\":3499"), "{kettle}");
        let grinder = lines
            .iter()
            .find(|l| l.contains("\"B03\"") && l.contains("product"))
            .expect("B03");
        assert!(grinder.contains("\"price_minor\":null"), "{grinder}");

        // Re-import of both: no change.
        let again = import_files(&store, "walmart", vec![walmart])
            .await
            .expect("again");
        assert_eq!(again.counts.products_unchanged, 2);
        assert_eq!(export_lines(&store).await, lines);

        let _ = std::fs::remove_dir_all(&dir);
        db.finish().await;
    }
}

#[tokio::test]
async fn export_then_import_reproduces_the_catalogue() {
    for db in common::databases("round_trip").await {
        let store = store_of(&db).await;
        let dir = fixture_dir(&format!("rt_{}", db.kind));
        let products = write(&dir, "products.csv", PRODUCTS_CSV);
        let events = write(&dir, "events.csv", EVENTS_CSV);
        import_files(&store, "csv", vec![products, events])
            .await
            .expect("import");
        let first = export_lines(&store).await;
        let dump = write(&dir, "dump.jsonl", &(first.join("\n") + "\n"));

        // Into a second, empty database of the same kind.
        let other_dir = fixture_dir(&format!("rt2_{}", db.kind));
        let other = Store::new(
            server::store::db::Database::connect(
                Some(&format!("sqlite://{}/copy.db", other_dir.display())),
                &other_dir,
            )
            .await
            .expect("second database"),
        );
        let format: Format = "jsonl".parse().unwrap();
        let mut stream = import::open(&format, &[dump]).expect("open dump");
        import(&other, &mut stream, "jsonl", &ProgressBar::hidden())
            .await
            .expect("re-import");
        assert_eq!(export_lines(&other).await, first);

        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&other_dir);
        db.finish().await;
    }
}

#[tokio::test]
async fn demo_shop_seeds_once_and_is_searchable() {
    for db in common::databases("demo_seed").await {
        let store = store_of(&db).await;
        let config = curio::demo::DemoConfig::default();
        let report = server::services::seed::seed_if_empty(&store, &config)
            .await
            .expect("seed")
            .expect("empty catalogue gets seeded");
        eprintln!(
            "{}: generated in {:.2} s, written in {:.2} s",
            db.kind, report.generate_secs, report.write_secs
        );
        let (products, shoppers, events) = counts(&store).await;
        assert!(products >= 5_000, "{products}");
        assert!(shoppers >= 2_000, "{shoppers}");
        assert!(events >= 100_000, "{events}");
        assert_eq!(
            events as u64, report.counts.interactions,
            "no event lost or merged"
        );
        assert!(store
            .meta(server::services::seed::DEMO_META_KEY)
            .await
            .unwrap()
            .unwrap()
            .starts_with("generated demo data"));
        assert!(server::services::seed::seed_if_empty(&store, &config)
            .await
            .unwrap()
            .is_none());

        let categories = store.categories().await.unwrap();
        let leaves = categories
            .iter()
            .filter(|c| {
                !categories
                    .iter()
                    .any(|d| d.parent_id == Some(c.category_id))
            })
            .count();
        assert!(leaves >= 12, "{leaves} leaf categories");
        let search = server::services::search::SearchIndex::new().unwrap();
        search
            .rebuild(categories, store.indexed_products(None).await.unwrap())
            .unwrap();
        let cameras = search
            .search("camra", &Filters::default(), Sort::Relevance, 0, 20)
            .unwrap();
        assert!(
            cameras.total >= 20,
            "typo search finds cameras: {}",
            cameras.total
        );
        let rated = search
            .search(
                "",
                &Filters {
                    min_rating: Some(4.0),
                    ..Filters::default()
                },
                Sort::Rating,
                0,
                5,
            )
            .unwrap();
        assert!(rated.total > 0, "the simulated ratings reach the products");
        db.finish().await;
    }
}

#[tokio::test]
async fn movielens_100k_imports_with_the_right_counts() {
    let dir = std::env::var_os("CURIO_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"))
        .join("ml-100k");
    assert!(
        dir.join("u.data").exists(),
        "{} is needed by this test (set CURIO_DATASETS)",
        dir.display()
    );
    for db in common::databases("movielens_import").await {
        let store = store_of(&db).await;
        let report = import_files(&store, "movielens", vec![dir.clone()])
            .await
            .expect("import");
        assert_eq!(report.counts.products_created, 1_682);
        assert_eq!(report.counts.interactions, 100_000);
        assert_eq!(counts(&store).await, (1_682, 943, 100_000), "{}", db.kind);
        // Genres became categories under "Movies".
        let categories = store.categories().await.unwrap();
        assert!(categories.iter().any(|c| c.path == "Movies > Comedy"));
        let again = import_files(&store, "movielens", vec![dir.clone()])
            .await
            .expect("again");
        assert_eq!(again.counts.products_unchanged, 1_682);
        assert_eq!(counts(&store).await, (1_682, 943, 100_000));
        db.finish().await;
    }
}

#[tokio::test]
async fn unknown_format_and_missing_file_are_clear_errors() {
    let mut dbs = common::databases("import_errors").await;
    let db = dbs.remove(0);
    let store = store_of(&db).await;
    let error = import_files(&store, "xml", vec![PathBuf::from("x.xml")])
        .await
        .unwrap_err();
    assert!(error.contains("unknown import format \"xml\""), "{error}");
    let error = import_files(
        &store,
        "csv",
        vec![PathBuf::from("/nonexistent/products.csv")],
    )
    .await
    .unwrap_err();
    assert!(error.contains("products.csv"), "{error}");
    db.finish().await;
    for other in dbs {
        other.finish().await;
    }
}

/// Products, shoppers and interactions in the store.
async fn counts(store: &server::store::Store) -> (i64, i64, i64) {
    let c = store.catalog_counts().await.unwrap();
    (c.products, c.shoppers, c.interactions)
}
