use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::paths;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use vitesse_domain::wire::SignInRequest;

#[component]
pub fn SignIn() -> impl IntoView {
    let state = use_session();
    let navigate = use_navigate();
    let location = use_location();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    let sign_in = Action::new_local(move |req: &SignInRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        // Where the person was going: a path of this site only.
        let next = paths::query_param(&location.search.get_untracked(), "next")
            .filter(|n| vitesse_domain::return_path::safe_return_path(n).is_some())
            .unwrap_or_else(|| paths::CLIENTS.into());
        async move {
            match api::sign_in(&req).await {
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
        }
    });
    let busy = sign_in.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        sign_in.dispatch_local(SignInRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
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
