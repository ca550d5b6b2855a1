//! Product pictures for the demo shop: a small deterministic abstract SVG per product,
//! coloured from a hash of the SKU, with a glyph that hints at the category.

use std::fmt::Write;

/// Category glyphs drawn in a 100 x 100 box, chosen by the first keyword the slug
/// contains (order matters: `camera-bags` is a bag, `headphones` are not a phone).
const GLYPHS: &[(&str, &str)] = &[
    (
        "bag",
        r#"<rect x="14" y="34" width="72" height="54" rx="8"/><path d="M34 34V24a16 16 0 0 1 32 0v10"/>"#,
    ),
    (
        "camera",
        r#"<rect x="10" y="28" width="80" height="56" rx="10"/><circle cx="50" cy="56" r="17"/><path d="M34 28l6-12h20l6 12"/>"#,
    ),
    (
        "card",
        r#"<path d="M25 10h38l14 14v66H25z"/><path d="M38 22v14M50 22v14M62 22v14"/>"#,
    ),
    (
        "headphone",
        r#"<path d="M18 62V50a32 32 0 0 1 64 0v12"/><rect x="12" y="58" width="16" height="28" rx="6"/><rect x="72" y="58" width="16" height="28" rx="6"/>"#,
    ),
    (
        "phone",
        r#"<rect x="28" y="8" width="44" height="84" rx="9"/><path d="M44 80h12"/>"#,
    ),
    (
        "coffee",
        r#"<path d="M20 34h48v28a22 22 0 0 1-22 22h-4a22 22 0 0 1-22-22z"/><path d="M68 42h6a10 10 0 0 1 0 20h-6"/><path d="M34 14v10M48 10v14"/>"#,
    ),
    (
        "tea",
        r#"<path d="M20 34h48v28a22 22 0 0 1-22 22h-4a22 22 0 0 1-22-22z"/><path d="M68 42h6a10 10 0 0 1 0 20h-6"/><path d="M34 14v10M48 10v14"/>"#,
    ),
    (
        "bedding",
        r#"<path d="M64 14a34 34 0 1 0 22 52a28 28 0 0 1-22-52z"/>"#,
    ),
    (
        "printer",
        r#"<rect x="14" y="36" width="72" height="34" rx="6"/><path d="M28 36V12h44v24M28 60h44v28H28z"/>"#,
    ),
    (
        "ink",
        r#"<path d="M50 10C36 34 26 48 26 62a24 24 0 0 0 48 0c0-14-10-28-24-52z"/>"#,
    ),
    (
        "tent",
        r#"<path d="M8 86L50 14l42 72z"/><path d="M38 86l12-24 12 24"/>"#,
    ),
    (
        "shoe",
        r#"<path d="M10 78V36h22c4 10 16 16 30 18l22 6a8 8 0 0 1 6 8v10z"/>"#,
    ),
    (
        "fitness",
        r#"<path d="M28 50h44"/><rect x="10" y="32" width="18" height="36" rx="4"/><rect x="72" y="32" width="18" height="36" rx="4"/>"#,
    ),
    (
        "book",
        r#"<path d="M50 24c-10-8-24-10-38-8v62c14-2 28 0 38 8c10-8 24-10 38-8V16c-14-2-28 0-38 8zM50 24v62"/>"#,
    ),
    (
        "skin",
        r#"<path d="M20 80C20 40 44 18 84 16c0 40-22 64-62 64z"/><path d="M20 80L60 40"/>"#,
    ),
    (
        "pet",
        r#"<circle cx="50" cy="64" r="18"/><circle cx="24" cy="40" r="8"/><circle cx="40" cy="22" r="8"/><circle cx="60" cy="22" r="8"/><circle cx="76" cy="40" r="8"/>"#,
    ),
    (
        "toy",
        r#"<rect x="14" y="50" width="36" height="36" rx="3"/><rect x="50" y="50" width="36" height="36" rx="3"/><rect x="32" y="14" width="36" height="36" rx="3"/>"#,
    ),
];

/// The glyph for categories no keyword matches: a parcel.
const GENERIC_GLYPH: &str =
    r#"<path d="M14 32L50 14l36 18v40L50 90 14 72z"/><path d="M14 32l36 18 36-18M50 50v40"/>"#;

/// A deterministic 400 x 300 SVG picture for product `sku` in category `category_slug`:
/// a two-colour gradient and soft shapes from a hash of the SKU, and a white glyph for
/// the category. It embeds no text, is under 3 KB and is valid standalone XML.
pub fn art_svg(sku: &str, category_slug: &str) -> String {
    let mut bits = HashBits(fnv1a(sku.as_bytes()));
    let hue = bits.take(360) as f32;
    let second_hue = (hue + 40.0 + bits.take(140) as f32) % 360.0;
    let from = hsl_hex(hue, 0.55 + bits.take(20) as f32 / 100.0, 0.62);
    let to = hsl_hex(second_hue, 0.6, 0.42 + bits.take(12) as f32 / 100.0);
    let gradient_id = format!("g{:x}", bits.take(1 << 24));
    let glyph = GLYPHS
        .iter()
        .find(|(keyword, _)| category_slug.contains(keyword))
        .map_or(GENERIC_GLYPH, |&(_, glyph)| glyph);

    let mut svg = String::with_capacity(1600);
    // Writing to a String cannot fail, so the fmt::Result of each write! is ignored.
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300"><defs><linearGradient id="{gradient_id}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{from}"/><stop offset="1" stop-color="{to}"/></linearGradient></defs><rect width="400" height="300" fill="url(#{gradient_id})"/>"#
    );
    for _ in 0..3 {
        let _ = write!(
            svg,
            r##"<circle cx="{}" cy="{}" r="{}" fill="#fff" fill-opacity="0.{}"/>"##,
            bits.take(400),
            bits.take(300),
            30 + bits.take(90),
            10 + bits.take(15)
        );
    }
    let _ = write!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="12" fill="{to}" fill-opacity="0.35" transform="rotate({} 200 150)"/>"##,
        bits.take(300),
        bits.take(220),
        60 + bits.take(80),
        40 + bits.take(60),
        bits.take(90)
    );
    let _ = write!(
        svg,
        r##"<g transform="translate(140 90) scale(1.2)" fill="none" stroke="#fff" stroke-width="6" stroke-linecap="round" stroke-linejoin="round" opacity="0.92">{glyph}</g></svg>"##
    );
    svg
}

/// FNV-1a, 64 bits: a stable hash (std's hasher is seeded per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Small numbers drawn one after another from a hash (re-mixed with SplitMix64 steps).
struct HashBits(u64);

impl HashBits {
    /// A number in `0..bound`.
    fn take(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound
    }
}

/// `#rrggbb` for a hue in degrees and saturation and lightness in 0..=1.
fn hsl_hex(hue: f32, saturation: f32, lightness: f32) -> String {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue / 60.0;
    let x = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    let channel = |c: f32| ((c + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", channel(r), channel(g), channel(b))
}
