use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::components::{RoleList, StatusBadge, Timestamp};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use vitesse_domain::wire::IdentityClient;

#[component]
pub fn ClientDetails() -> impl IntoView {
    let state = use_session();
    let params = use_params_map();
    let client = LocalResource::new(move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        async move { api::get::<IdentityClient>(&format!("/api/v1/identity-clients/{id}")).await }
    });
    view! {
        <p><A href="/administration/identity-clients">"← Identity Clients"</A></p>
        {move || match client.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(ApiFailure::SignedOut)) => {
                state.session.set(None);
                view! { <p class="loading">"Your session has ended."</p> }.into_any()
            }
            Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
            Some(Ok(c)) => view! {
                <h1>{c.client_id.clone()}</h1>
                <section class="card" aria-labelledby="config-heading">
                    <h2 id="config-heading">"Client configuration"</h2>
                    <dl class="details">
                        <dt>"Client ID"</dt><dd>{c.client_id.clone()}</dd>
                        <dt>"Client name"</dt><dd>{c.name.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Description"</dt><dd>{c.description.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Token duration"</dt><dd>{format!("{} minutes", c.token_duration_minutes)}</dd>
                        <dt>"Roles"</dt><dd><RoleList roles=c.roles.clone()/></dd>
                        <dt>"Status"</dt><dd><StatusBadge enabled=c.enabled/></dd>
                        <dt>"Created"</dt><dd><Timestamp at=c.created_at/></dd>
                        <dt>"Updated"</dt><dd><Timestamp at=c.updated_at/></dd>
                    </dl>
                </section>
            }.into_any(),
        }}
    }
}
