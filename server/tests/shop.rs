//! The shop through its HTTP API on a real database: search with typos and facets, a
//! product visit, feedback, the cart of an anonymous visitor adopted at registration,
//! checkout and order history, and the event log that records each step.

mod common;

use axum::http::StatusCode;
use serde_json::{json, Value};
use server::store::Store;

const PRODUCTS_CSV: &str = "sku,title,description,category,brand,price,rating,rating_count\n\
P-1,Trail Tent 2,A light and roomy tent for two.,Outdoors > Tents,Peakline,129.99,,\n\
P-2,Down Sleeping Bag,Warm to minus five.,Outdoors > Sleeping Bags,Peakline,89.00,,\n\
P-3,Camp Stove,Boils fast.,Outdoors > Cooking,Flamr,45.50,,\n\
P-4,Family Tent 6,Room for six.,Outdoors > Tents,Nordby,349.00,,\n\
P-5,Pour-Over Kettle,Gooseneck.,Home > Kitchen,Brewco,34.99,,\n";

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn skus(results: &Value) -> Vec<String> {
    results["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_string())
        .collect()
}

fn query(q: &str) -> Value {
    json!({"query": {"q": q, "category": null, "brands": [], "price_min": null,
        "price_max": null, "min_rating": null, "sort": "Relevance", "page": 1}})
}

#[tokio::test]
async fn a_visitor_searches_rates_likes_buys_and_every_step_is_recorded() {
    for db in common::databases("shop_journey").await {
        // The catalogue goes in before the server builds its search index.
        let database = server::store::db::Database::connect(
            db.config.database_url.as_deref(),
            &db.config.data_dir,
        )
        .await
        .expect("database");
        let store = Store::new(database);
        let dir =
            std::env::temp_dir().join(format!("curio_shop_{}_{}", db.kind, std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("products.csv");
        std::fs::write(&file, PRODUCTS_CSV).unwrap();
        let args = server::cli::import::ImportArgs {
            format: "csv".into(),
            map: vec![],
            paths: vec![file],
        };
        server::cli::import::run_import(&store, &args)
            .await
            .expect("import");

        let services = db.services().await;
        let mut client = common::Client::new(&services);

        // A typo still finds the tents; every word must match.
        let reply = client.call_json("shop/search", query("tnet")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let results = json_of(&reply.body);
        let mut found = skus(&results);
        found.sort();
        assert_eq!(found, vec!["P-1", "P-4"], "{}", db.kind);
        // Facets: category children under Outdoors > ..., brands, price bands.
        assert!(results["brands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["value"] == "Nordby"));

        // Category and price filter.
        let mut filtered = query("tent");
        filtered["query"]["category"] = json!("outdoors-tents");
        filtered["query"]["price_max"] = json!(25_000);
        let results = json_of(&client.call_json("shop/search", filtered).await.body);
        assert_eq!(skus(&results), vec!["P-1"]);
        assert_eq!(results["heading"], "“tent” in Tents");
        let mut bad_category = query("");
        bad_category["query"]["category"] = json!("no-such-thing");
        assert_eq!(
            client.call_json("shop/search", bad_category).await.status,
            StatusCode::NOT_FOUND
        );

        // The product page, opened from the results.
        let reply = client
            .call_json(
                "shop/product",
                json!({"sku": "P-1", "from": "search", "model": null, "request": null}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let detail = json_of(&reply.body);
        let product_id = detail["card"]["id"].as_i64().unwrap();
        assert_eq!(detail["card"]["price"]["minor"], 12_999);
        assert_eq!(detail["breadcrumbs"][1]["name"], "Tents");
        let missing = client
            .call_json(
                "shop/product",
                json!({"sku": "NOPE", "from": null, "model": null, "request": null}),
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        // Feedback: rate 4, then 5 (the histogram moves, not grows), like.
        let rate = |stars: u8| json!({"product_id": product_id, "feedback": {"Rate": stars}, "surface": "product"});
        let state = json_of(&client.call_json("shop/feedback", rate(4)).await.body);
        assert_eq!(state["histogram"], json!([0, 0, 0, 1, 0]));
        let state = json_of(&client.call_json("shop/feedback", rate(5)).await.body);
        assert_eq!(state["histogram"], json!([0, 0, 0, 0, 1]));
        assert_eq!(state["stars"], 5);
        let bad = client.call_json("shop/feedback", rate(6)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let like = json!({"product_id": product_id, "feedback": "Like", "surface": "product"});
        let state = json_of(&client.call_json("shop/feedback", like).await.body);
        assert_eq!(state["opinion"], true);

        // Cart as a visitor; checkout wants an account.
        let cart = json_of(
            &client
                .call_json(
                    "shop/cart/set",
                    json!({"product_id": product_id, "quantity": 2, "surface": "product"}),
                )
                .await
                .body,
        );
        assert_eq!(cart["items"], 2);
        assert_eq!(cart["total"]["minor"], 25_998);
        let refused = client.call_json("shop/checkout", json!({})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);

        // Registering adopts the visitor's events, opinions and cart.
        let reply = client
            .register("ada@example.com", "Ada", "correct horse battery")
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let cart = json_of(&client.call_json("shop/cart", json!({})).await.body);
        assert_eq!(cart["items"], 2, "the cart came along");
        let detail = json_of(
            &client
                .call_json(
                    "shop/product",
                    json!({"sku": "P-1", "from": null, "model": null, "request": null}),
                )
                .await
                .body,
        );
        assert_eq!(detail["my_stars"], 5);
        assert_eq!(detail["my_opinion"], true);
        assert_eq!(detail["in_cart"], 2);

        let order = client.call_json("shop/checkout", json!({})).await;
        assert_eq!(order.status, StatusCode::OK, "{}", order.body);
        let order = json_of(&order.body);
        assert_eq!(order["total"]["minor"], 25_998);
        let history = json_of(&client.call_json("shop/orders", json!({})).await.body);
        assert_eq!(history.as_array().unwrap().len(), 1);
        assert_eq!(history[0]["lines"][0]["quantity"], 2);
        let cart = json_of(&client.call_json("shop/cart", json!({})).await.body);
        assert_eq!(cart["items"], 0);
        let empty = client.call_json("shop/checkout", json!({})).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("Your cart is empty."), "{}", empty.body);

        let liked = json_of(&client.call_json("shop/liked", json!({})).await.body);
        assert_eq!(liked[0]["sku"], "P-1");
        let recent = json_of(&client.call_json("shop/recent", json!({})).await.body);
        assert_eq!(recent[0]["sku"], "P-1");

        // The log, in order, all on the account's shopper.
        let me = json_of(&client.me().await.body);
        let account_id = me["id"].as_i64().expect("account id");
        let shopper = store.account_shopper(account_id).await.unwrap();
        let kinds: Vec<String> = store
            .shopper_events(shopper)
            .await
            .unwrap()
            .into_iter()
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                "search",
                "search",
                "click",
                "view",
                "rating",
                "rating",
                "like",
                "add_to_cart",
                "view",
                "purchase"
            ],
            "{}",
            db.kind
        );
        // The anonymous shopper is gone; the demo flag is off for an imported catalogue.
        let shoppers = store.catalog_counts().await.unwrap().shoppers;
        assert_eq!(shoppers, 1);
        let _ = std::fs::remove_dir_all(&dir);
        db.finish().await;
    }
}

#[tokio::test]
async fn orders_belong_to_their_shopper_only() {
    for db in common::databases("shop_orders_scoped").await {
        let services = db.services().await;
        let mut stranger = common::Client::new(&services);
        let reply = stranger.call_json("shop/orders", json!({})).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let reply = stranger
            .register("eve@example.com", "Eve", "correct horse battery")
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let orders = json_of(&stranger.call_json("shop/orders", json!({})).await.body);
        assert_eq!(orders, json!([]));
        db.finish().await;
    }
}

#[tokio::test]
async fn an_import_by_another_process_reaches_the_running_search() {
    for db in common::databases("shop_index_refresh").await {
        let services = db.services().await;
        let store = services.store.clone();
        let mut version = store.catalog_version().await.unwrap();
        assert!(
            !server::refresh_index(&store, &services.search, &mut version)
                .await
                .unwrap()
        );

        // As `curio import` in another process would: straight into the database.
        let mut writer = store.catalog_writer("csv").await.unwrap();
        let mut lantern = curio::ProductRecord::new("L-1", "Storm Lantern");
        lantern.category = vec!["Outdoors".into(), "Lighting".into()];
        writer.product(&lantern).await.unwrap();
        writer.commit().await.unwrap();

        let mut client = common::Client::new(&services);
        let before = json_of(&client.call_json("shop/search", query("lantern")).await.body);
        assert_eq!(before["total"], 0, "not indexed yet");
        assert!(
            server::refresh_index(&store, &services.search, &mut version)
                .await
                .unwrap()
        );
        let after = json_of(&client.call_json("shop/search", query("lantern")).await.body);
        assert_eq!(skus(&after), vec!["L-1"], "{}", db.kind);
        db.finish().await;
    }
}

#[tokio::test]
async fn add_to_cart_adds_once_per_press_on_top_of_the_server_cart() {
    for db in common::databases("shop_add_once").await {
        let mut writer = {
            let database = server::store::db::Database::connect(
                db.config.database_url.as_deref(),
                &db.config.data_dir,
            )
            .await
            .expect("database");
            Store::new(database).catalog_writer("csv").await.unwrap()
        };
        let mut mug = curio::ProductRecord::new("M-1", "Enamel Mug");
        mug.price_minor = Some(1_200);
        let product_id = writer.product(&mug).await.unwrap();
        writer.commit().await.unwrap();

        let services = db.services().await;
        let mut client = common::Client::new(&services);
        let add = |quantity: i32, click: &str| {
            json!({"product_id": product_id, "quantity": quantity, "surface": "product",
                   "click": click})
        };
        let cart = json_of(&client.call_json("shop/cart/add", add(2, "c1")).await.body);
        assert_eq!(cart["items"], 2, "{}", db.kind);
        // The same press again (a retry whose first answer was lost): no change.
        let cart = json_of(&client.call_json("shop/cart/add", add(2, "c1")).await.body);
        assert_eq!(cart["items"], 2);
        // Another tab set the line to 5 meanwhile; a new press adds on top of that.
        client
            .call_json(
                "shop/cart/set",
                json!({"product_id": product_id, "quantity": 5, "surface": "cart"}),
            )
            .await;
        let cart = json_of(&client.call_json("shop/cart/add", add(1, "c2")).await.body);
        assert_eq!(cart["items"], 6);
        let cart = json_of(&client.call_json("shop/cart/add", add(99, "c3")).await.body);
        assert_eq!(cart["items"], 99, "capped");
        let refused = client.call_json("shop/cart/add", add(0, "c4")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let refused = client.call_json("shop/cart/add", add(1, "<script>")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        db.finish().await;
    }
}
