use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::components::{RoleList, StatusBadge, Timestamp};
use leptos::prelude::*;
use leptos_router::components::A;
use vitesse_domain::wire::IdentityClientList;

#[component]
pub fn ClientsList() -> impl IntoView {
    let state = use_session();
    let clients = LocalResource::new(|| api::get::<IdentityClientList>("/api/v1/identity-clients"));
    view! {
        <div class="toolbar">
            <h1>"Identity Clients"</h1>
            <A href="/administration/identity-clients/new" attr:class="button primary">"New Client"</A>
        </div>
        <div class="card">
            {move || match clients.get() {
                None => view! { <p class="loading">"Loading identity clients…"</p> }.into_any(),
                Some(Err(ApiFailure::SignedOut)) => {
                    state.session.set(None);
                    view! { <p class="loading">"Your session has ended."</p> }.into_any()
                }
                Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! {
                    <div class="empty">
                        <p>"No identity clients yet."</p>
                        <p>"Select New Client to create the first one."</p>
                    </div>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="clients">
                        <thead>
                            <tr>
                                <th scope="col">"Client ID"</th>
                                <th scope="col">"Client name"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Roles"</th>
                                <th scope="col">"Token duration"</th>
                                <th scope="col">"Updated"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.items.into_iter().map(|c| view! {
                                <tr>
                                    <td data-label="Client ID">
                                        <A href=format!("/administration/identity-clients/{}", c.id)>{c.client_id.clone()}</A>
                                    </td>
                                    <td data-label="Client name">{c.name.clone().unwrap_or_default()}</td>
                                    <td data-label="Status"><StatusBadge enabled=c.enabled/></td>
                                    <td data-label="Roles"><RoleList roles=c.roles.clone()/></td>
                                    <td data-label="Token duration">{format!("{} minutes", c.token_duration_minutes)}</td>
                                    <td data-label="Updated"><Timestamp at=c.updated_at/></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </div>
    }
}
