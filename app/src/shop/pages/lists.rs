//! The shopper's own lists: liked products and recently viewed.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::shop::api::{liked, recently_viewed};
use crate::shop::components::*;

/// Products the shopper likes.
#[component]
pub fn LikedPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| liked());
    view! {
        <Title text="Liked — Curio"/>
        <h1>"Things you like"</h1>
        <Suspense fallback=|| view! { <GridSkeleton count=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(cards) if cards.is_empty() => view! {
                        <p class="empty-state">"Nothing yet. Press “Like” on a product you like."</p>
                    }.into_any(),
                    Ok(cards) => view! { <ProductGrid cards surface="liked".into()/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Products the shopper viewed.
#[component]
pub fn RecentPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| recently_viewed());
    view! {
        <Title text="Recently viewed — Curio"/>
        <h1>"Recently viewed"</h1>
        <Suspense fallback=|| view! { <GridSkeleton count=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(cards) if cards.is_empty() => view! { <p class="empty-state">"You have not viewed any product yet."</p> }.into_any(),
                    Ok(cards) => view! { <ProductGrid cards surface="recent".into()/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
