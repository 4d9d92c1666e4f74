use crate::api::{self, ApiFailure};
use crate::app::use_session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use vitesse_domain::wire::{Session, SignInRequest};

#[component]
pub fn SignIn() -> impl IntoView {
    let state = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let next = query
            .with_untracked(|q| q.get("next"))
            .filter(|n| n.starts_with('/') && !n.starts_with("//"))
            .unwrap_or_else(|| "/administration/identity-clients".into());
        let body = SignInRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::post::<_, Session>("/api/v1/session", &body).await {
                Ok(s) => {
                    state.session.set(Some(s));
                    state.checked.set(true);
                    navigate(&next, Default::default());
                }
                Err(ApiFailure::SignedOut) => {
                    error.set(Some("The email or password is not correct.".into()))
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };

    view! {
        <div class="signin card">
            <h1>"Sign in"</h1>
            <form class="stack" on:submit=on_submit>
                <Show when=move || error.with(Option::is_some)>
                    <div class="banner error" role="alert">{move || error.get()}</div>
                </Show>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" type="email" autocomplete="username" required
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </div>
                <button class="primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </div>
    }
}
