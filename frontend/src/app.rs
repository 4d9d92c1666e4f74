//! The router, the page frame and who is signed in.

use crate::api;
use crate::pages::client_details::ClientDetails;
use crate::pages::client_form::{EditClient, NewClient};
use crate::pages::clients_list::ClientsList;
use crate::pages::sign_in::SignIn;
use crate::paths;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use vitesse_domain::wire::Session;

/// Who is signed in; `None` until the first check has answered.
#[derive(Clone, Copy)]
pub struct SessionState {
    pub session: RwSignal<Option<Session>>,
    pub checked: RwSignal<bool>,
}

pub fn use_session() -> SessionState {
    expect_context::<SessionState>()
}

#[component]
pub fn App() -> impl IntoView {
    let state = SessionState {
        session: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    provide_context(state);
    // A secret the server just generated, held in memory only, until the person has stored it.
    provide_context(crate::pages::client_form::OneTimeSecret(RwSignal::new(
        None,
    )));
    spawn_local(async move {
        state.session.set(api::session().await.ok());
        state.checked.set(true);
    });
    view! {
        <Router>
            <TopBar/>
            <main id="main">
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=path!("/") view=|| view! { <Redirect path=paths::CLIENTS/> }/>
                    <Route path=path!("/sign-in") view=SignIn/>
                    <Route path=path!("/administration/identity-clients") view=|| view! { <Protected><ClientsList/></Protected> }/>
                    <Route path=path!("/administration/identity-clients/new") view=|| view! { <Protected><NewClient/></Protected> }/>
                    <Route path=path!("/administration/identity-clients/:id") view=|| view! { <Protected><ClientDetails/></Protected> }/>
                    <Route path=path!("/administration/identity-clients/:id/edit") view=|| view! { <Protected><EditClient/></Protected> }/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let state = use_session();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            let _ = api::sign_out().await;
            state.session.set(None);
            navigate(paths::SIGN_IN, Default::default());
        });
    };
    view! {
        <header class="top">
            <span class="brand">"Vitesse"</span>
            <Show when=move || state.session.with(Option::is_some)>
                <nav aria-label="Main">
                    <span class="crumb">"Administration"</span>
                    <span class="crumb" aria-hidden="true">"›"</span>
                    <A href=paths::CLIENTS>"Identity Clients"</A>
                </nav>
                <div class="who">
                    <span>{move || state.session.with(|s| s.as_ref().map(|s| s.email.clone()))}</span>
                    <button type="button" on:click=sign_out.clone()>"Sign out"</button>
                </div>
            </Show>
        </header>
    }
}

/// Shows its children to a signed-in user who may manage identity clients; otherwise sends
/// the person to sign in (and back here afterwards) or explains what is missing.
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let state = use_session();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if state.checked.get() && state.session.with(Option::is_none) {
            // Back to this very view afterwards, filters and page included.
            let mut here = location.pathname.get_untracked();
            let search = location.search.get_untracked();
            if !search.is_empty() {
                here = format!("{here}?{search}");
            }
            navigate(&paths::sign_in_then(&here), Default::default());
        }
    });
    move || {
        let Some(s) = state.session.get() else {
            return view! { <p class="loading">"Loading…"</p> }.into_any();
        };
        if !s.identity_clients_enabled {
            return view! {
                <h1>"Identity Clients"</h1>
                <div class="banner info" role="status">
                    <strong>"Identity client management is not enabled for your account."</strong>
                    " If you cannot access this feature, contact your Vitesse relationship manager."
                </div>
            }
            .into_any();
        }
        if !s.can_manage_identity_clients {
            return view! {
                <h1>"Identity Clients"</h1>
                <div class="banner info" role="status">
                    <strong>"You do not have permission to manage identity clients."</strong>
                    " You must have the Merchant Admin role or Manage Identity Clients role."
                </div>
            }
            .into_any();
        }
        children().into_any()
    }
}
