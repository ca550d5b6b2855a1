//! Tests of the importers through their public API, on small samples written here.

use std::collections::HashSet;
use std::io::{Cursor, Write};
use std::path::PathBuf;

use super::*;
use crate::interaction::InteractionKind;
use crate::records::{InteractionRecord, ProductRecord};

/// Everything a stream yields: the records until the first error, the error, the summary.
fn read(
    format: &Format,
    name: &str,
    text: impl Into<Vec<u8>>,
) -> (Vec<Located>, Option<ImportError>, ImportSummary) {
    let mut stream = from_reader(format, name, Cursor::new(text.into()));
    let mut records = Vec::new();
    let mut error = None;
    for item in stream.by_ref() {
        match item {
            Ok(located) => records.push(located),
            Err(e) => {
                assert!(error.is_none(), "the stream ends after an error");
                error = Some(e);
            }
        }
    }
    (records, error, stream.summary().clone())
}

fn product(located: &Located) -> &ProductRecord {
    match &located.record {
        Record::Product(p) => p,
        other => panic!("expected a product, got {other:?}"),
    }
}

fn interaction(located: &Located) -> &InteractionRecord {
    match &located.record {
        Record::Interaction(i) => i,
        other => panic!("expected an interaction, got {other:?}"),
    }
}

fn flags(set: &[usize]) -> String {
    (0..19)
        .map(|i| if set.contains(&i) { "1" } else { "0" })
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn movielens_items() {
    let mut text = Vec::new();
    text.extend_from_slice(b"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/x|");
    text.extend_from_slice(flags(&[3, 4, 5]).as_bytes());
    text.extend_from_slice(b"\n267|unknown||||");
    text.extend_from_slice(flags(&[0]).as_bytes());
    text.extend_from_slice(b"\n1633|\xc1 k\xf6ldum klaka &amp; co|08-Mar-1996||  |");
    text.extend_from_slice(flags(&[0, 8]).as_bytes());
    text.extend_from_slice(b"\n\n");
    let (records, error, summary) = read(&Format::MovieLens, "u.item", text);
    assert_eq!(error, None);
    assert_eq!(records.len(), 3);

    let toy = product(&records[0]);
    assert_eq!(toy.sku, "ml-1");
    assert_eq!(toy.title, "Toy Story (1995)");
    assert_eq!(toy.category, ["Movies", "Animation"]);
    assert_eq!(toy.attributes["genres"], "Animation,Children's,Comedy");
    assert_eq!(toy.attributes["year"], "1995");
    assert_eq!(toy.attributes["imdb_url"], "http://us.imdb.com/M/x");
    assert_eq!(toy.created_at, Some(788_918_400));
    assert_eq!(toy.price_minor, None);
    assert_eq!(toy.description, None);

    let unknown = product(&records[1]);
    assert_eq!(unknown.category, ["Movies"]);
    assert_eq!(unknown.created_at, None, "no release date: absent, not 0");
    assert!(!unknown.attributes.contains_key("genres"));
    assert!(!unknown.attributes.contains_key("year"));
    assert!(!unknown.attributes.contains_key("imdb_url"));

    let latin = product(&records[2]);
    assert_eq!(
        latin.title, "\u{c1} k\u{f6}ldum klaka & co",
        "Latin-1 and entities"
    );
    assert_eq!(
        latin.category,
        ["Movies", "Drama"],
        "unknown is not a genre"
    );
    assert_eq!((records[2].file.as_str(), records[2].line), ("u.item", 3));

    assert_eq!(summary.products, 3);
    assert_eq!(summary.rows_read, 3);
    assert_eq!(summary.missing["created_at"], 1);
    assert_eq!(summary.missing["imdb_url"], 2);

    let (_, error, _) = read(&Format::MovieLens, "u.item", "5|Short|x\n");
    assert_eq!(error.unwrap().line, Some(1));
    let bad_flag = format!("2|T|01-Jan-1995||u|{}", flags(&[]).replacen('0', "2", 1));
    let error = read(&Format::MovieLens, "u.item", bad_flag).1.unwrap();
    assert_eq!(error.field.as_deref(), Some("unknown"));
}

#[test]
fn movielens_ratings_and_a_bad_line() {
    let text =
        "196\t242\t3\t881250949\n186\t302\t5\t891717742\n22\t377\tx\t878887116\n1\t1\t1\t1\n";
    let (records, error, summary) = read(&Format::MovieLens, "u.data", text);
    assert_eq!(records.len(), 2, "the stream stops at the error");
    assert_eq!(
        *interaction(&records[0]),
        InteractionRecord {
            user: "ml-196".into(),
            sku: "ml-242".into(),
            kind: InteractionKind::Rating,
            value: Some(3.0),
            at_ms: 881_250_949_000,
        }
    );
    let error = error.unwrap();
    assert_eq!(error.file, "u.data");
    assert_eq!(error.line, Some(3));
    assert_eq!(error.field.as_deref(), Some("rating"));
    assert_eq!(
        error.to_string(),
        "u.data line 3, field \"rating\": \"x\" is not a number 1-5"
    );
    assert_eq!(summary.interactions, 2);

    let cases = [
        ("1\t2\t6\t0\n", Some("rating")),
        ("1\tb\t5\t0\n", Some("item")),
        ("a\t2\t5\t0\n", Some("user")),
        ("1\t2\t5\tnoon\n", Some("timestamp")),
        ("1\t2\t5\n", None),
        ("1\t2\t5\t0\t9\n", None),
    ];
    for (text, field) in cases {
        let error = read(&Format::MovieLens, "u.data", text).1.unwrap();
        assert_eq!(error.field.as_deref(), field, "{text:?}: {error}");
        assert_eq!(error.line, Some(1));
    }
}

#[test]
fn movielens_100k_when_present() {
    let dir = PathBuf::from("/work/shared/datasets/ml-100k");
    if !dir.join("u.data").is_file() {
        return;
    }
    let mut stream = open(&Format::MovieLens, &[dir]).unwrap();
    let (mut products, mut ratings) = (0, 0);
    let mut users = HashSet::new();
    for item in stream.by_ref() {
        let located = item.unwrap();
        match located.record {
            Record::Product(_) => {
                assert_eq!(ratings, 0, "products come first");
                products += 1;
            }
            Record::Interaction(i) => {
                ratings += 1;
                users.insert(i.user);
            }
        }
    }
    assert_eq!((products, ratings, users.len()), (1682, 100_000, 943));
    assert_eq!(stream.bytes_read(), stream.bytes_total());
    assert!(stream.summary().skipped.is_empty());
}

const AMAZON: &str = r#"{"asin": "B001", "title": "Steel &amp; <b>Pan</b>", "brand": "by\n    Foo Works", "category": ["Home &amp; Kitchen", " ", "Pans"], "price": "$1,299.99", "description": ["First <p>para</p>", "", "Second"], "imageURL": ["http://small"], "imageURLHighRes": ["http://big"], "rank": "1,234 in Home", "date": "October 3, 2017"}
{"asin": "B002", "title": "Lid", "price": ".a-box-inner{background-color:#fff}", "description": "Just a lid", "imageURL": ["http://lid"]}
{"asin": "B003", "title": "  ", "price": "$3"}

{"reviewerID": "U1", "asin": "B001", "overall": 5.0, "unixReviewTime": 1500000000, "reviewText": "great"}
{"reviewerID": "U2", "asin": "B002", "unixReviewTime": 1500000001}
{"reviewerID": "U3", "asin": "B002", "overall": 2.0, "unixReviewTime": 1500000002}
{"reviewerID": "U4", "asin": "B002", "overall": 4.0, "unixReviewTime": 1500000003
"#;

#[test]
fn amazon_metadata_and_reviews() {
    let (records, error, summary) = read(&Format::Amazon, "Home.json", AMAZON);
    assert_eq!(records.len(), 4);
    let pan = product(&records[0]);
    assert_eq!(pan.sku, "B001");
    assert_eq!(pan.title, "Steel & Pan");
    assert_eq!(pan.brand.as_deref(), Some("Foo Works"));
    assert_eq!(pan.category, ["Home & Kitchen", "Pans"]);
    assert_eq!(pan.price_minor, Some(129_999));
    assert_eq!(pan.description.as_deref(), Some("First para\n\nSecond"));
    assert_eq!(pan.image_url.as_deref(), Some("http://big"));
    assert_eq!(pan.attributes["rank"], "1,234 in Home");
    assert_eq!(pan.created_at, Some(1_506_988_800));

    let lid = product(&records[1]);
    assert_eq!(lid.price_minor, None, "garbage price: absent");
    assert_eq!(lid.brand, None);
    assert!(lid.category.is_empty());
    assert_eq!(lid.description.as_deref(), Some("Just a lid"));
    assert_eq!(lid.image_url.as_deref(), Some("http://lid"));

    let review = interaction(&records[2]);
    assert_eq!(
        *review,
        InteractionRecord {
            user: "U1".into(),
            sku: "B001".into(),
            kind: InteractionKind::Rating,
            value: Some(5.0),
            at_ms: 1_500_000_000_000,
        }
    );
    assert_eq!(records[2].line, 5, "physical lines, blank ones included");
    assert_eq!(interaction(&records[3]).user, "U3");

    let error = error.unwrap();
    assert_eq!((error.line, error.field.as_deref()), (Some(8), None));
    assert!(error.message.starts_with("invalid JSON"), "{error}");

    assert_eq!(summary.rows_read, 7);
    assert_eq!(summary.skipped["metadata without title"], 1);
    assert_eq!(summary.skipped["review without rating"], 1);
    assert_eq!(summary.missing["price"], 1);
    assert_eq!(summary.missing["brand"], 1);
    assert_eq!(summary.missing["category"], 1);
    assert!(!summary.missing.contains_key("description"));

    let error = read(
        &Format::Amazon,
        "r.json",
        r#"{"reviewerID": "U", "overall": 3}"#,
    )
    .1
    .unwrap();
    assert_eq!(error.field.as_deref(), Some("asin"));
    let error = read(
        &Format::Amazon,
        "r.json",
        r#"{"reviewerID": "U", "asin": "A", "overall": 9, "unixReviewTime": 1}"#,
    )
    .1
    .unwrap();
    assert_eq!(error.field.as_deref(), Some("overall"));
}

#[test]
fn amazon_gzip_through_from_reader() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(AMAZON.as_bytes()).unwrap();
    let gz = encoder.finish().unwrap();
    let (records, _, _) = read(&Format::Amazon, "Home.json.gz", gz);
    assert_eq!(records.len(), 4);
}

const WALMART_HEADER: &str = "Uniq Id\tProduct Id\tProduct Rating\tProduct Reviews Count\tProduct Category\tProduct Brand\tProduct Name\tProduct Image Url\tProduct Description\tProduct Tags\n";

#[test]
fn walmart_products() {
    let text = format!(
        "{WALMART_HEADER}\
u1\tP1\t4.5\t12\tBeauty > Makeup >  Lips\tAcme\tRed &amp; Bold Lipstick\thttp://a.jpg|http://b.jpg\t\"<p>Long\tlasting</p>\nall day\"\tlipstick, red\n\
u2\t\t\t\tBeauty\t\tPlain Soap\t\t\t\n\
u3\tP3\t0\t0\t\tX\t\t\t\t\n\
u4\tP4\tsix\t1\t\tX\tName\t\t\t\n"
    );
    let (records, error, summary) = read(&Format::Walmart, "walmart.tsv", text);
    assert_eq!(records.len(), 2);
    let lipstick = product(&records[0]);
    assert_eq!(lipstick.sku, "P1");
    assert_eq!(lipstick.title, "Red & Bold Lipstick");
    assert_eq!(lipstick.source_rating, Some(4.5));
    assert_eq!(lipstick.source_rating_count, Some(12));
    assert_eq!(lipstick.category, ["Beauty", "Makeup", "Lips"]);
    assert_eq!(lipstick.brand.as_deref(), Some("Acme"));
    assert_eq!(lipstick.image_url.as_deref(), Some("http://a.jpg"));
    assert_eq!(
        lipstick.description.as_deref(),
        Some("Long lasting all day")
    );
    assert_eq!(lipstick.attributes["tags"], "lipstick, red");
    assert_eq!(lipstick.price_minor, None);
    assert_eq!(records[0].line, 2);

    let soap = product(&records[1]);
    assert_eq!(soap.sku, "u2", "falls back to Uniq Id");
    assert_eq!(soap.source_rating, None);
    assert_eq!(soap.source_rating_count, None);
    assert_eq!(soap.brand, None);
    assert_eq!(soap.description, None);
    assert_eq!(soap.image_url, None);
    assert!(soap.attributes.is_empty());
    assert_eq!(records[1].line, 4, "the quoted newline made line 3");

    let error = error.unwrap();
    assert_eq!(error.line, Some(6));
    assert_eq!(error.field.as_deref(), Some("Product Rating"));

    assert_eq!(summary.skipped["product without name"], 1);
    assert_eq!(summary.missing["rating"], 1);
    assert_eq!(summary.missing["description"], 1);
    assert_eq!(summary.missing["rating_count"], 1);

    let no_name = WALMART_HEADER.replace("\tProduct Name", "");
    let error = read(&Format::Walmart, "w.tsv", no_name).1.unwrap();
    assert_eq!(error.field.as_deref(), Some("Product Name"));
    assert_eq!(error.line, Some(1));

    let short = format!("{WALMART_HEADER}a\tb\n");
    let error = read(&Format::Walmart, "w.tsv", short).1.unwrap();
    assert_eq!(error.line, Some(2));
}

fn mapping(pairs: &[&str]) -> Mapping {
    Mapping::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn generic_csv_products() {
    let format = Format::Csv(mapping(&["sku=SKU", "title=Name", "price=Sale Price"]));
    let text =
        "SKU,Name,Sale Price,category,in_stock,created_at,rating,rating_count,colour,brand\n\
A1,Kettle &amp; Co,\"$1,299.99\",Home > Kitchen,no,2024-03-01,4.5,\"1,200\",red,\n\
A2,Cup,12,,,1700000000,0,,,Acme\n\
A3,,1,,,,,,,\n";
    let (records, error, summary) = read(&format, "products.csv", text);
    assert_eq!(records.len(), 2);
    let kettle = product(&records[0]);
    assert_eq!(kettle.sku, "A1");
    assert_eq!(kettle.title, "Kettle & Co");
    assert_eq!(kettle.price_minor, Some(129_999));
    assert_eq!(kettle.category, ["Home", "Kitchen"]);
    assert!(!kettle.in_stock);
    assert_eq!(kettle.created_at, Some(1_709_251_200));
    assert_eq!(kettle.source_rating, Some(4.5));
    assert_eq!(kettle.source_rating_count, Some(1200));
    assert_eq!(kettle.attributes.len(), 1);
    assert_eq!(kettle.attributes["colour"], "red");
    assert_eq!(kettle.brand, None);
    let cup = product(&records[1]);
    assert_eq!(cup.price_minor, Some(1200));
    assert!(cup.in_stock, "empty in_stock: the default");
    assert_eq!(cup.source_rating, None, "0 means unrated");
    assert_eq!(cup.created_at, Some(1_700_000_000));
    assert_eq!(cup.brand.as_deref(), Some("Acme"));
    assert!(cup.category.is_empty());
    assert_eq!(cup.currency, "USD");

    assert_eq!(error, None);
    assert_eq!(summary.skipped["product without title"], 1);
    assert_eq!(summary.missing["brand"], 1);
    assert_eq!(summary.missing["rating"], 1);
    assert_eq!(summary.missing["category"], 1);
    assert!(
        !summary.missing.contains_key("description"),
        "no such column"
    );

    let bad_price = "SKU,Name,Sale Price\nA1,Cup,1\nA4,Plate,cheap\n";
    let error = read(&format, "p.csv", bad_price).1.unwrap();
    assert_eq!(
        (error.line, error.field.as_deref()),
        (Some(3), Some("Sale Price"))
    );
    assert!(error.message.contains("\"cheap\""), "{error}");
    let error = read(&format, "p.csv", "SKU,Title\nA,B\n").1.unwrap();
    assert_eq!(
        (error.line, error.field.as_deref()),
        (Some(1), Some("Name"))
    );
    let error = read(&format, "p.csv", "SKU,Name\nA,B\n").1.unwrap();
    assert_eq!(
        error.field.as_deref(),
        Some("Sale Price"),
        "mapped, so required"
    );
    let default = Format::Csv(Mapping::default());
    let error = read(&default, "p.csv", "sku,title,in_stock\nA,B,maybe\n")
        .1
        .unwrap();
    assert_eq!(
        (error.line, error.field.as_deref()),
        (Some(2), Some("in_stock"))
    );
    let error = read(&default, "p.csv", "sku,title\n,B\n").1.unwrap();
    assert_eq!(error.field.as_deref(), Some("sku"));
}

#[test]
fn generic_csv_interactions() {
    let format = Format::Csv(mapping(&["user=customer", "at=when"]));
    let text = "customer,sku,kind,value,when,extra\n\
c1,A1,purchase,2,2024-03-01T10:00:00Z,x\n\
c2,A1,rating,,1700000000,\n\
c3,A2,view,,1700000001,\n\
c4,A2,buy,,1700000002,\n";
    let (records, error, summary) = read(&format, "events.csv", text);
    assert_eq!(records.len(), 2);
    assert_eq!(
        *interaction(&records[0]),
        InteractionRecord {
            user: "c1".into(),
            sku: "A1".into(),
            kind: InteractionKind::Purchase,
            value: Some(2.0),
            at_ms: 1_709_287_200_000,
        }
    );
    assert_eq!(interaction(&records[1]).value, None);
    assert_eq!(records[1].line, 4);
    let error = error.unwrap();
    assert_eq!(
        (error.line, error.field.as_deref()),
        (Some(5), Some("kind"))
    );
    assert!(error.message.contains("\"buy\""), "{error}");
    assert_eq!(summary.skipped["rating without value"], 1);
}

#[test]
fn generic_jsonl() {
    let format = Format::Jsonl(mapping(&["title=name", "price=cost"]));
    let text = r#"{"sku": "J1", "name": "Mug <i>XL</i>", "cost": 12.99, "category": ["Home", "Mugs"], "in_stock": false, "description": null, "size": 3, "tags": ["a", "b"]}
{"user": "u1", "sku": "J1", "kind": "like", "at": "2024-03-01"}
{"sku": "J2", "name": "Bowl", "cost": "free"}
"#;
    let (records, error, summary) = read(&format, "mixed.jsonl", text);
    assert_eq!(records.len(), 2);
    let mug = product(&records[0]);
    assert_eq!(mug.title, "Mug XL");
    assert_eq!(mug.price_minor, Some(1299));
    assert_eq!(mug.category, ["Home", "Mugs"]);
    assert!(!mug.in_stock);
    assert_eq!(mug.description, None);
    assert_eq!(mug.attributes["size"], "3");
    assert_eq!(mug.attributes["tags"], "a, b");
    assert_eq!(mug.attributes.len(), 2);
    assert_eq!(summary.missing["description"], 1);
    let like = interaction(&records[1]);
    assert_eq!((like.kind, like.value), (InteractionKind::Like, None));
    assert_eq!(like.at_ms, 1_709_251_200_000);
    let error = error.unwrap();
    assert_eq!(
        (error.line, error.field.as_deref()),
        (Some(3), Some("cost"))
    );

    let error = read(&format, "x.jsonl", "[1, 2]\n").1.unwrap();
    assert_eq!(error.line, Some(1));
    let error = read(&format, "x.jsonl", "{\"type\": \"product\", \"sku\": 1}\n")
        .1
        .unwrap();
    assert!(error.message.starts_with("not a valid record"), "{error}");
}

#[test]
fn export_round_trips_through_jsonl() {
    let mut full = ProductRecord::new("P-1", "A \"quoted\" <title> & more");
    full.description = Some("Two\n\nparagraphs".into());
    full.category = vec!["Home".into(), "Kitchen".into()];
    full.brand = Some("Acme".into());
    full.price_minor = Some(129_999);
    full.currency = "EUR".into();
    full.image_url = Some("/img/p1.jpg".into());
    full.attributes.insert("colour".into(), "red".into());
    full.in_stock = false;
    full.created_at = Some(1_700_000_000);
    full.source_rating = Some(4.3);
    full.source_rating_count = Some(17);
    let records = vec![
        Record::Product(full),
        Record::Product(ProductRecord::new("P-2", "Bare")),
        Record::Interaction(InteractionRecord {
            user: "u1".into(),
            sku: "P-1".into(),
            kind: InteractionKind::Rating,
            value: Some(3.7),
            at_ms: 1_700_000_000_123,
        }),
        Record::Interaction(InteractionRecord {
            user: "u2".into(),
            sku: "P-2".into(),
            kind: InteractionKind::AddToCart,
            value: None,
            at_ms: -5,
        }),
    ];
    let mut out = Vec::new();
    for record in &records {
        write_jsonl(&mut out, record).unwrap();
    }
    assert_eq!(out.iter().filter(|b| **b == b'\n').count(), records.len());
    let (read_back, error, summary) = read(&Format::Jsonl(Mapping::default()), "export.jsonl", out);
    assert_eq!(error, None);
    let read_back: Vec<Record> = read_back.into_iter().map(|l| l.record).collect();
    assert_eq!(read_back, records);
    assert_eq!((summary.products, summary.interactions), (2, 2));
}

#[test]
fn mapping_and_format_parsing() {
    let m = mapping(&["price = Sale Price", "user=customer_id"]);
    assert_eq!(m.column("price"), "Sale Price");
    assert_eq!(m.column("title"), "title");
    let error = |pairs: &[&str]| {
        Mapping::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap_err()
    };
    let e = error(&["pricey=Cost"]);
    assert_eq!(e.field.as_deref(), Some("pricey"));
    assert!(e.message.starts_with("unknown field"), "{e}");
    assert_eq!(error(&["price"]).field, None);
    assert_eq!(error(&["price="]).field.as_deref(), Some("price"));
    let e = error(&["price=A", "price=B"]);
    assert!(e.message.contains("twice"), "{e}");

    assert_eq!("MovieLens".parse::<Format>(), Ok(Format::MovieLens));
    assert_eq!("amazon".parse::<Format>(), Ok(Format::Amazon));
    assert_eq!("walmart".parse::<Format>(), Ok(Format::Walmart));
    assert_eq!("csv".parse::<Format>(), Ok(Format::Csv(Mapping::default())));
    assert_eq!(
        "jsonl".parse::<Format>(),
        Ok(Format::Jsonl(Mapping::default()))
    );
    assert!("xml"
        .parse::<Format>()
        .unwrap_err()
        .to_string()
        .contains("\"xml\""));
}

#[test]
fn summary_display() {
    let (_, _, summary) = read(&Format::Amazon, "Home.json", AMAZON);
    let text = summary.to_string();
    assert!(
        text.starts_with("read 7 rows: 2 products, 2 interactions\n"),
        "{text}"
    );
    assert!(
        text.contains("skipped 2 rows: metadata without title 1, review without rating 1"),
        "{text}"
    );
    assert!(text.contains("absent values: "), "{text}");
    assert!(text.contains("price 1"), "{text}");
    assert_eq!(
        ImportSummary::default().to_string(),
        "read 0 rows: 0 products, 0 interactions\nskipped 0 rows: none\nabsent values: none"
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "curio-import-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kinds(stream: RecordStream) -> Vec<(String, &'static str)> {
    stream
        .map(|item| {
            let located = item.unwrap();
            let kind = match located.record {
                Record::Product(_) => "product",
                Record::Interaction(_) => "interaction",
            };
            (located.file, kind)
        })
        .collect()
}

#[test]
fn open_streams_products_before_interactions() {
    let dir = TempDir::new("order");
    // MovieLens: files given ratings first; a u.genre beside u.item names the genres.
    let data = dir.write("u.data", b"1\t7\t4\t100\n");
    let genres: String = (0..19).map(|i| format!("G{i}|{i}\n")).collect();
    dir.write("u.genre", genres.as_bytes());
    let item = dir.write(
        "u.item",
        format!("7|Seven|01-Jan-1995||u|{}\n", flags(&[2])).as_bytes(),
    );
    let mut stream = open(&Format::MovieLens, &[data.clone(), item.clone()]).unwrap();
    let first = stream.next().unwrap().unwrap();
    assert_eq!(product(&first).category, ["Movies", "G2"]);
    assert_eq!(stream.next().unwrap().unwrap().file, "u.data");
    assert!(stream.next().is_none());
    assert_eq!(
        stream.bytes_total(),
        10 + std::fs::metadata(&item).unwrap().len()
    );
    assert_eq!(stream.bytes_read(), stream.bytes_total());
    let whole = kinds(open(&Format::MovieLens, std::slice::from_ref(&dir.0)).unwrap());
    assert_eq!(whole.len(), 2);
    assert_eq!(whole[0], ("u.item".to_string(), "product"));

    // Amazon: judged by the first non-blank line, gzip or not.
    let reviews = dir.write(
        "a_reviews.json",
        b"\n{\"reviewerID\": \"U\", \"asin\": \"B\", \"overall\": 4, \"unixReviewTime\": 1}\n",
    );
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(b"{\"asin\": \"B\", \"title\": \"T\"}\n")
        .unwrap();
    let meta = dir.write("b_meta.json.gz", &encoder.finish().unwrap());
    let stream = open(&Format::Amazon, &[reviews, meta]).unwrap();
    assert_eq!(
        kinds(stream),
        [
            ("b_meta.json.gz".to_string(), "product"),
            ("a_reviews.json".to_string(), "interaction")
        ]
    );

    // Generic CSV: the user column makes an interactions file.
    let events = dir.write("1-events.csv", b"user,sku,kind,at\nu,S,view,5\n");
    let products = dir.write("2-products.csv", b"sku,title\nS,Thing\n");
    let csv = Format::Csv(Mapping::default());
    let stream = open(&csv, &[events, products]).unwrap();
    assert_eq!(
        kinds(stream),
        [
            ("2-products.csv".to_string(), "product"),
            ("1-events.csv".to_string(), "interaction")
        ]
    );

    let missing = open(&Format::MovieLens, &[dir.0.join("nope.data")]);
    let error = missing.err().unwrap();
    assert_eq!(error.file, "nope.data");
    assert!(error.message.starts_with("cannot read"), "{error}");
}

/// Prints the parse rate of ML-100k `u.data`, median of 3 runs. Run it in release:
/// `cargo test --release -p curio --lib parse_rate -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn movielens_u_data_parse_rate() {
    let path = PathBuf::from("/work/shared/datasets/ml-100k/u.data");
    if !path.is_file() {
        return;
    }
    let mut rates = Vec::new();
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let mut rows = 0u64;
        for item in open(&Format::MovieLens, std::slice::from_ref(&path)).unwrap() {
            let _record = item.unwrap();
            rows += 1;
        }
        rates.push(rows as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!("u.data: {:.0} rows/s (median of {rates:.0?})", rates[1]);
}
