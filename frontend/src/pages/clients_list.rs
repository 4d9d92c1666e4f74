use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::charts::{ActivityMeter, BusiestClients};
use crate::components::{ActionMenu, Flash, RoleList, StatusBadge, Timestamp};
use crate::paths::{self, ListView};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use vitesse_domain::listing::{ClientListQuery, UsageFilter};
use vitesse_domain::wire::{IdentityClient, UpdateClientRequest};

/// Clients per page unless the address asks for another `limit`.
const PAGE_SIZE: i64 = 25;

/// The list's search, status filter, order and page live in the address (see [`ListView`]):
/// typing replaces the current history entry, choosing a status or a page adds one, so Back,
/// Forward and reload show what the person saw.
#[component]
pub fn ClientsList() -> impl IntoView {
    let state = use_session();
    let location = use_location();
    let navigate = use_navigate();
    // Only this page's own address counts: leaving it must not reload the list.
    let view_state = Memo::new(move |previous: Option<&ListView>| {
        if location.pathname.get() == paths::CLIENTS {
            ListView::from_search(&location.search.get())
        } else {
            previous.cloned().unwrap_or_default()
        }
    });
    // Typing replaces the history entry; a status or a page adds one.
    let go = Callback::new(move |(to, replace): (ListView, bool)| {
        navigate(
            &to.href(),
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        );
    });
    let flash = RwSignal::new(None::<(bool, String)>);
    let loading = RwSignal::new(true);

    let toggle = Action::new_local(move |c: &IdentityClient| {
        let (id, client_id, enable) = (c.id.clone(), c.client_id.clone(), !c.enabled);
        let patch = UpdateClientRequest {
            enabled: Some(enable),
            ..Default::default()
        };
        async move {
            match api::update_client(&id, &patch, None).await {
                Ok(_) => {
                    let verb = if enable { "enabled" } else { "disabled" };
                    flash.set(Some((true, format!("{client_id} is {verb}."))));
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
        }
    });

    // Reloads when the address's query changes and after each enable or disable.
    let list = LocalResource::new(move || {
        let query = view_state.with(|v| ClientListQuery {
            limit: v.query.limit.or(Some(PAGE_SIZE)),
            ..v.query.clone()
        });
        toggle.version().track();
        loading.set(true);
        async move {
            let result = api::list_clients(&query).await;
            if matches!(result, Err(ApiFailure::SignedOut)) {
                state.session.set(None);
            }
            loading.set(false);
            result
        }
    });
    let on_toggle = move |c: IdentityClient| {
        toggle.dispatch_local(c);
    };

    let status = move || view_state.with(|v| v.query.status.clone().unwrap_or_default());
    let usage = move || view_state.with(|v| v.query.filter.clone().unwrap_or_default());

    view! {
        <div class="toolbar">
            <h1>"Identity Clients"</h1>
            <A href=paths::NEW_CLIENT attr:class="button primary">"New Client"</A>
        </div>
        <Flash message=flash/>
        <BusiestClients/>
        <div class="filters">
            <div class="field inline">
                <label for="search">"Search"</label>
                <input id="search" type="search" placeholder="Client ID or name"
                    prop:value=move || view_state.with(|v| v.query.search.clone().unwrap_or_default())
                    on:input=move |ev| go.run((view_state.get_untracked().with_search(event_target_value(&ev)), true))/>
            </div>
            <div class="field inline">
                <label for="status-filter">"Status"</label>
                <select id="status-filter" on:change=move |ev| go.run((view_state.get_untracked().with_status(event_target_value(&ev)), false))>
                    <option value="" prop:selected=move || status().is_empty()>"All"</option>
                    <option value="enabled" prop:selected=move || status() == "enabled">"Enabled"</option>
                    <option value="disabled" prop:selected=move || status() == "disabled">"Disabled"</option>
                </select>
            </div>
            <div class="field inline">
                <label for="usage-filter">"Show"</label>
                <select id="usage-filter" on:change=move |ev| go.run((view_state.get_untracked().with_filter(event_target_value(&ev)), false))>
                    <option value="" prop:selected=move || usage().is_empty()>"All clients"</option>
                    {UsageFilter::ALL.into_iter().map(|f| view! {
                        <option value=f.wire_name() prop:selected=move || usage() == f.wire_name()>{f.label()}</option>
                    }).collect_view()}
                </select>
            </div>
        </div>
        <div class="card list-card" aria-busy=move || loading.get().to_string()>
            {move || match list.get() {
                None => view! { <p class="loading">"Loading identity clients…"</p> }.into_any(),
                Some(Err(ApiFailure::SignedOut)) => view! { <p class="loading">"Your session has ended."</p> }.into_any(),
                Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => {
                    let filtered = view_state.with_untracked(ListView::is_filtered);
                    view! {
                        <div class="empty">
                            {if filtered {
                                view! { <p>"No identity clients match your search or filters."</p> }.into_any()
                            } else {
                                view! {
                                    <p>"No identity clients yet."</p>
                                    <p>"Select New Client to create the first one."</p>
                                }.into_any()
                            }}
                        </div>
                    }.into_any()
                }
                Some(Ok(list)) => {
                    let next = list.next_cursor.clone();
                    let activity = |id: &str| list.activity.iter().find(|a| a.id == id).map_or((0, 0), |a| (a.issued, a.refused));
                    let busiest = list.activity.iter().map(|a| a.issued + a.refused).max().unwrap_or(0);
                    let rows: Vec<_> = list.items.iter().map(|c| (c.clone(), activity(&c.id))).collect();
                    view! {
                        <table class="clients">
                            <caption class="visually-hidden">"Identity clients"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Client ID"</th>
                                    <th scope="col">"Client name"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Roles"</th>
                                    <th scope="col">"Token duration"</th>
                                    <th scope="col">"Last 24 hours"</th>
                                    <th scope="col">"Updated"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|(c, (issued, refused))| {
                                    let href = paths::client(&c.id);
                                    let (cid, name, roles) = (c.client_id.clone(), c.name.clone().unwrap_or_default(), c.roles.clone());
                                    let (enabled, minutes, updated) = (c.enabled, c.token_duration_minutes, c.updated_at);
                                    view! {
                                    <tr>
                                        <td data-label="Client ID"><A href=href>{cid}</A></td>
                                        <td data-label="Client name">{name}</td>
                                        <td data-label="Status"><StatusBadge enabled=enabled/></td>
                                        <td data-label="Roles"><RoleList roles=roles/></td>
                                        <td data-label="Token duration">{format!("{minutes} minutes")}</td>
                                        <td data-label="Last 24 hours"><ActivityMeter issued=issued refused=refused busiest=busiest/></td>
                                        <td data-label="Updated"><Timestamp at=updated/></td>
                                        <td class="actions"><ActionMenu client=c on_toggle=on_toggle/></td>
                                    </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <nav class="pager" aria-label="Pages">
                            <button type="button" disabled=move || view_state.with(|v| v.query.cursor.is_none())
                                on:click=move |_| if let Some(p) = view_state.get_untracked().previous_page() { go.run((p, false)) }>"Previous page"</button>
                            <button type="button" disabled=next.is_none()
                                on:click=move |_| if let Some(n) = next.clone() { go.run((view_state.get_untracked().next_page(n), false)) }>"Next page"</button>
                        </nav>
                    }.into_any()
                }
            }}
        </div>
    }
}
