//! Listings: search results and category pages, with facets and paging; the URL is the query.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::params::ParamsMap;

use crate::shop::api::search;
use crate::shop::components::*;
use crate::shop::model::*;
use crate::shop::recs::RecommendationRow;

/// Reads a listing query from the URL (`category` from the path on category pages).
pub fn query_from_url(params: &ParamsMap, category: Option<String>) -> SearchQuery {
    let (price_min, price_max) = params
        .get("price")
        .and_then(|p| {
            let (low, high) = p.split_once('-')?;
            Some((low.parse().ok(), high.parse().ok()))
        })
        .unwrap_or((None, None));
    SearchQuery {
        q: params.get("q").unwrap_or_default(),
        category: category
            .or_else(|| params.get("category"))
            .filter(|c| !c.is_empty()),
        brands: params.get_all("brand").unwrap_or_default(),
        price_min,
        price_max,
        min_rating: params.get("rating").and_then(|r| r.parse().ok()),
        sort: SortOrder::parse(&params.get("sort").unwrap_or_default()),
        page: params.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
    }
}

/// The URL of a listing: `/c/<slug>?...` for a category without text, else `/search?...`.
pub fn listing_href(query: &SearchQuery) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !query.q.is_empty() {
        parts.push(format!("q={}", encode(&query.q)));
    }
    let base = match (&query.category, query.q.is_empty()) {
        (Some(slug), true) => format!("/c/{}", encode(slug)),
        (Some(slug), false) => {
            parts.push(format!("category={}", encode(slug)));
            "/search".to_string()
        }
        (None, _) => "/search".to_string(),
    };
    for brand in &query.brands {
        parts.push(format!("brand={}", encode(brand)));
    }
    if query.price_min.is_some() || query.price_max.is_some() {
        parts.push(format!(
            "price={}-{}",
            query.price_min.unwrap_or(0),
            query.price_max.map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    if let Some(stars) = query.min_rating {
        parts.push(format!("rating={stars}"));
    }
    if query.sort != SortOrder::Relevance {
        parts.push(format!("sort={}", query.sort.as_str()));
    }
    if query.page > 1 {
        parts.push(format!("page={}", query.page));
    }
    if parts.is_empty() {
        base
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// A listing whose query comes from the URL: the search page and category pages.
#[component]
pub fn ListingPage() -> impl IntoView {
    let params = use_params_map();
    let url_query = use_query_map();
    let query = Memo::new(move |_| query_from_url(&url_query.get(), params.get().get("slug")));
    let results = Resource::new(move || query.get(), search);
    view! {
        <Transition fallback=|| view! { <GridSkeleton count=12/> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(results) => view! { <Listing results/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One group of facet links.
#[component]
fn FacetGroup(
    title: &'static str,
    values: Vec<FacetValue>,
    href: impl Fn(&FacetValue) -> String + 'static,
    testid: &'static str,
) -> impl IntoView {
    (!values.is_empty()).then(|| {
        view! {
            <section class="facet" data-testid=testid>
                <h3>{title}</h3>
                <ul>
                    {values.iter().map(|v| {
                        let class = if v.selected { "facet-value selected" } else { "facet-value" };
                        view! {
                            <li>
                                <a href=href(v) class=class aria-current=v.selected.then_some("true")>
                                    <span>{v.label.clone()}</span>
                                    <span class="facet-count">{v.count}</span>
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

#[component]
fn Listing(results: SearchResults) -> impl IntoView {
    let query = results.query.clone();
    let with = move |change: &dyn Fn(&mut SearchQuery)| {
        let mut q = query.clone();
        q.page = 1;
        change(&mut q);
        listing_href(&q)
    };
    let category_href = {
        let with = with.clone();
        move |v: &FacetValue| with(&|q| q.category = Some(v.value.clone()))
    };
    let brand_href = {
        let with = with.clone();
        move |v: &FacetValue| {
            with(&|q| {
                if v.selected {
                    q.brands.retain(|b| !b.eq_ignore_ascii_case(&v.value));
                } else {
                    q.brands.push(v.value.clone());
                }
            })
        }
    };
    let price_href = {
        let with = with.clone();
        move |v: &FacetValue| {
            with(&|q| {
                if v.selected {
                    q.price_min = None;
                    q.price_max = None;
                } else {
                    let (low, high) = v.value.split_once('-').unwrap_or((&v.value, ""));
                    q.price_min = low.parse().ok();
                    q.price_max = high.parse().ok();
                }
            })
        }
    };
    let rating_href = {
        let with = with.clone();
        move |v: &FacetValue| {
            with(&|q| {
                q.min_rating = if v.selected {
                    None
                } else {
                    v.value.parse().ok()
                }
            })
        }
    };
    let sorts = SortOrder::ALL
        .into_iter()
        .map(|sort| {
            let href = with(&|q| q.sort = sort);
            let current = results.query.sort == sort;
            view! {
                <a href=href class=if current { "sort selected" } else { "sort" }
                    aria-current=current.then_some("true")>{sort.label()}</a>
            }
        })
        .collect_view();
    let page = results.query.page;
    let prev = (page > 1).then(|| {
        let mut q = results.query.clone();
        q.page = page - 1;
        listing_href(&q)
    });
    let next = (page < results.pages).then(|| {
        let mut q = results.query.clone();
        q.page = page + 1;
        listing_href(&q)
    });
    let surface = if results.query.q.is_empty() {
        "category"
    } else {
        "search"
    };
    let total = results.total;
    let clear = (results.query.category.is_some()
        || !results.query.brands.is_empty()
        || results.query.price_min.is_some()
        || results.query.price_max.is_some()
        || results.query.min_rating.is_some())
    .then(|| {
        let href = listing_href(&SearchQuery {
            q: results.query.q.clone(),
            ..SearchQuery::default()
        });
        view! { <a href=href class="clear-filters">"Clear filters"</a> }
    });
    view! {
        <Title text=format!("{} — Curio", results.heading)/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <a href="/">"Home"</a>
            {results.breadcrumbs.iter().map(|c| view! {
                <span aria-hidden="true">" › "</span>
                <a href=format!("/c/{}", encode(&c.slug))>{c.name.clone()}</a>
            }).collect_view()}
        </nav>
        <div class="listing">
            <aside class="facets" aria-label="Filters">
                {clear}
                <FacetGroup title="Category" values=results.categories.clone() href=category_href testid="facet-category"/>
                <FacetGroup title="Price" values=results.prices.clone() href=price_href testid="facet-price"/>
                <FacetGroup title="Rating" values=results.ratings.clone() href=rating_href testid="facet-rating"/>
                <FacetGroup title="Brand" values=results.brands.clone() href=brand_href testid="facet-brand"/>
            </aside>
            <section class="results" aria-live="polite">
                <header class="results-header">
                    <h1>{results.heading.clone()}</h1>
                    <p class="muted" data-testid="result-count">
                        {format!("{total} {}", if total == 1 { "product" } else { "products" })}
                    </p>
                    <nav class="sorts" aria-label="Sort by">{sorts}</nav>
                </header>
                {if results.products.is_empty() {
                    view! {
                        <div class="empty-state">
                            <p>"Nothing matches. Try fewer words or fewer filters."</p>
                        </div>
                        <RecommendationRow surface="for_you"/>
                    }.into_any()
                } else {
                    view! { <ProductGrid cards=results.products.clone() surface=surface.into()/> }.into_any()
                }}
                <nav class="pager" aria-label="Pages">
                    {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                    {(results.pages > 1).then(|| view! {
                        <span class="muted">{format!("Page {page} of {}", results.pages)}</span>
                    })}
                    {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
                </nav>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_urls_round_trip() {
        let query = SearchQuery {
            q: "red tent".into(),
            category: Some("outdoors-tents".into()),
            brands: vec!["Peak Line".into(), "Nord".into()],
            price_min: Some(2_500),
            price_max: None,
            min_rating: Some(4),
            sort: SortOrder::PriceLow,
            page: 2,
        };
        let href = listing_href(&query);
        assert!(
            href.starts_with("/search?q=red%20tent&category=outdoors-tents"),
            "{href}"
        );
        let (_, params) = href.split_once('?').unwrap();
        let mut map = ParamsMap::new();
        for pair in params.split('&') {
            let (k, v) = pair.split_once('=').unwrap();
            let v = v.replace("%20", " ");
            map.insert(k.to_string(), v);
        }
        assert_eq!(query_from_url(&map, None), query);
        let category_only = SearchQuery {
            category: Some("books".into()),
            page: 1,
            ..SearchQuery::default()
        };
        assert_eq!(listing_href(&category_only), "/c/books");
    }
}
