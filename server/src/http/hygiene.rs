//! Request hygiene: refuse cross-site state-changing requests (Leptos server functions
//! have no CSRF check of their own) and add protective response headers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::account::ssr::ClientIp;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether a request with this method may change state.
fn is_state_changing(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Where state-changing requests may come from.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// The exact origin browsers use (`https://shop.example`); `None`: the request's `Host`.
    pub public_origin: Option<String>,
}

/// Why a request was judged cross-site, or `None` when it is not.
///
/// Browsers send `Sec-Fetch-Site` on every request and `Origin` on every POST; a request
/// with neither comes from a non-browser client, which cannot carry a victim's cookies
/// by accident and is allowed.
pub fn cross_site_reason(
    policy: &OriginPolicy,
    method: &Method,
    headers: &HeaderMap,
) -> Option<&'static str> {
    if !is_state_changing(method) {
        return None;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        // `same-origin` is our own page, `none` a user-typed navigation.
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return Some("Sec-Fetch-Site is not same-origin");
        }
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("null");
    if let Some(expected) = &policy.public_origin {
        return (!origin.eq_ignore_ascii_case(expected))
            .then_some("Origin is not the public origin");
    }
    // No public origin configured: the browser's origin must name the host it talks to.
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Some("Origin given without Host");
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    (origin_host != Some(host)).then_some("Origin does not match Host")
}

/// Middleware: answers 403 to a cross-site state-changing request.
pub async fn reject_cross_site(
    State(policy): State<Arc<OriginPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(reason) = cross_site_reason(&policy, request.method(), request.headers()) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), reason, "refused cross-site request");
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

/// Middleware: works out the client's address (the TCP peer, or with `trust_forwarded_for`
/// the last `X-Forwarded-For` entry, which the proxy in front appended) and hands it on as
/// the [`ClientIp`] request extension.
pub async fn client_ip(
    State(trust_forwarded_for): State<bool>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded = trust_forwarded_for
        .then(|| {
            request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|last| last.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    request
        .extensions_mut()
        .insert(ClientIp(forwarded.or(peer)));
    next.run(request).await
}

/// Largest accepted request body, as router state for [`limit_body`].
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Middleware: answers 413 to a body over the limit, whether it declares its length or
/// streams in chunks. Bodies are small here (forms, server-function arguments), so the
/// accepted ones are read into memory before the handler sees them.
pub async fn limit_body(
    State(BodyLimit(limit)): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    let too_large = || (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large.").into_response();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => too_large(),
    }
}

/// Middleware: protective headers on every response (kept if a handler set its own).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ];
    for (name, value) in defaults {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn by_host() -> OriginPolicy {
        OriginPolicy::default()
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        let post = Method::POST;
        assert_eq!(cross_site_reason(&by_host(), &post, &headers(&[])), None);
        let ours = headers(&[
            ("host", "shop.example"),
            ("origin", "https://shop.example"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(cross_site_reason(&by_host(), &post, &ours), None);
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let post = Method::POST;
        let evil_origin = headers(&[("host", "shop.example"), ("origin", "https://evil.example")]);
        assert!(cross_site_reason(&by_host(), &post, &evil_origin).is_some());
        let fetch_cross = headers(&[("host", "shop.example"), ("sec-fetch-site", "cross-site")]);
        assert!(cross_site_reason(&by_host(), &post, &fetch_cross).is_some());
        let fetch_sibling = headers(&[("host", "shop.example"), ("sec-fetch-site", "same-site")]);
        assert!(cross_site_reason(&by_host(), &post, &fetch_sibling).is_some());
        let null_origin = headers(&[("host", "shop.example"), ("origin", "null")]);
        assert!(cross_site_reason(&by_host(), &post, &null_origin).is_some());
    }

    #[test]
    fn behind_a_proxy_the_public_origin_decides() {
        let policy = OriginPolicy {
            public_origin: Some("https://shop.example".into()),
        };
        // The proxy rewrote Host to the upstream address; the browser's Origin is public.
        let through_proxy = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://shop.example"),
        ]);
        assert_eq!(
            cross_site_reason(&policy, &Method::POST, &through_proxy),
            None
        );
        assert!(cross_site_reason(&by_host(), &Method::POST, &through_proxy).is_some());
        let plain_http = headers(&[("host", "shop.example"), ("origin", "http://shop.example")]);
        assert!(
            cross_site_reason(&policy, &Method::POST, &plain_http).is_some(),
            "scheme counts"
        );
    }

    #[test]
    fn reads_are_not_checked() {
        let cross = headers(&[("host", "shop.example"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(cross_site_reason(&by_host(), &Method::GET, &cross), None);
    }
}
