//! The account pages: register, log in, account.

use leptos::prelude::*;
use leptos::reactive::signal::MappedSignal;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::{LogIn, Register};
use crate::error::AppError;
use crate::AuthContext;

/// The message under a form when its action failed.
#[component]
fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <p class="form-error" role="alert" data-testid="form-error">{e.to_string()}</p> }
        })
    }
}

/// After a successful account action, go where `?next=` says (a path on this site), else
/// to the account page.
fn go_to_account_on_success<T: Clone + Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, AppError>>>,
) {
    let navigate = use_navigate();
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(Ok(_)) = value.get() {
            // Clear it, so coming back to this page later does not redirect again.
            value.set(None);
            let next = query
                .get_untracked()
                .get("next")
                .filter(|n| is_local_path(n))
                .unwrap_or_else(|| "/account".to_string());
            navigate(&next, Default::default());
        }
    });
}

/// Whether `path` stays on this site (no scheme, no `//host`): an open-redirect guard.
fn is_local_path(path: &str) -> bool {
    // Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"): refuse
    // any control character or space, then any scheme or network-path form.
    path.starts_with('/')
        && !path.starts_with("//")
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && !path.contains("://")
}

fn error_of<T: Clone + Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, AppError>>>,
) -> Signal<Option<AppError>> {
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// The log-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action: ServerAction<LogIn> = expect_context::<AuthContext>().log_in;
    go_to_account_on_success(action.value());
    view! {
        <Title text="Log in — Curio"/>
        <section class="card auth-card">
            <h1>"Log in"</h1>
            <ActionForm action=action>
                <label>"Email"
                    <input type="email" name="email" autocomplete="username" required/>
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <FormError error=error_of(action.value())/>
                <button type="submit" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <p class="muted">"New here? " <a href="/register">"Create an account"</a></p>
        </section>
    }
}

/// The registration form.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action: ServerAction<Register> = expect_context::<AuthContext>().register;
    go_to_account_on_success(action.value());
    view! {
        <Title text="Create an account — Curio"/>
        <section class="card auth-card">
            <h1>"Create an account"</h1>
            <ActionForm action=action>
                <label>"Email"
                    <input type="email" name="email" autocomplete="email" required/>
                </label>
                <label>"Display name"
                    <input type="text" name="display_name" autocomplete="nickname" required maxlength="64"/>
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="new-password"
                        required minlength="8" maxlength="128"/>
                    <small class="muted">"8 to 128 characters. A passphrase of a few words works well."</small>
                </label>
                <FormError error=error_of(action.value())/>
                <button type="submit" disabled=move || action.pending().get()>"Create account"</button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a href="/login">"Log in"</a></p>
        </section>
    }
}

/// The shopper's account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Title text="Your account — Curio"/>
        <section class="card">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match auth.user.await {
                        Ok(Some(user)) => view! {
                            <h1>"Your account"</h1>
                            <dl class="facts">
                                <dt>"Name"</dt><dd data-testid="account-name">{user.display_name}</dd>
                                <dt>"Email"</dt><dd data-testid="account-email">{user.email}</dd>
                                <dt>"Member since"</dt><dd>{user.member_since}</dd>
                            </dl>
                        }.into_any(),
                        Ok(None) => view! {
                            <h1>"Your account"</h1>
                            <p>"You are not logged in. " <a href="/login">"Log in"</a></p>
                        }.into_any(),
                        Err(e) => view! {
                            <p class="form-error" role="alert">{e.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_followed_after_log_in() {
        assert!(is_local_path("/cart"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("cart"));
        assert!(!is_local_path("/\t/evil.example"));
        assert!(!is_local_path("/\n/evil.example"));
    }
}
