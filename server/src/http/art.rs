//! Product pictures of the generated demo catalogue: SVG art drawn from the SKU and the
//! category, so the shop needs no image download. Deterministic, so browsers cache it.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /art/{category}/{sku}.svg`.
pub async fn product_art(Path((category, file)): Path<(String, String)>) -> Response {
    let Some(sku) = file.strip_suffix(".svg") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let plausible = |s: &str| {
        !s.is_empty()
            && s.len() <= 80
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !plausible(sku) || !plausible(&category) {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=604800, immutable"),
        ],
        curio::demo::art_svg(sku, &category),
    )
        .into_response()
}
