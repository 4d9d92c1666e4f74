use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::components::{ActionMenu, Flash, RoleList, StatusBadge, Timestamp};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use vitesse_domain::wire::{IdentityClient, IdentityClientList};

const PAGE_SIZE: usize = 25;

#[component]
pub fn ClientsList() -> impl IntoView {
    let state = use_session();
    let search = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    // Cursors of the pages before this one; the last is this page's.
    let cursors = RwSignal::new(Vec::<String>::new());
    let reload = RwSignal::new(0u32);
    let data = RwSignal::new(None::<Result<IdentityClientList, ApiFailure>>);
    let loading = RwSignal::new(true);
    let flash = RwSignal::new(None::<(bool, String)>);
    let seq = StoredValue::new(0u32);

    Effect::new(move |_| {
        reload.track();
        let mut url = format!("/api/v1/identity-clients?limit={PAGE_SIZE}");
        let q = search.get();
        if !q.trim().is_empty() {
            url.push_str(&format!("&search={}", api::encode(q.trim())));
        }
        let s = status.get();
        if !s.is_empty() {
            url.push_str(&format!("&status={s}"));
        }
        if let Some(c) = cursors.with(|c| c.last().cloned()) {
            url.push_str(&format!("&cursor={}", api::encode(&c)));
        }
        seq.update_value(|n| *n += 1);
        let mine = seq.get_value();
        loading.set(true);
        spawn_local(async move {
            let result = api::get::<IdentityClientList>(&url).await;
            if seq.get_value() != mine {
                return; // a newer request has been made
            }
            if matches!(result, Err(ApiFailure::SignedOut)) {
                state.session.set(None);
            }
            data.set(Some(result));
            loading.set(false);
        });
    });

    let on_toggle = move |c: IdentityClient| {
        let enable = !c.enabled;
        spawn_local(async move {
            let path = format!("/api/v1/identity-clients/{}", c.id);
            match api::patch::<_, IdentityClient>(
                &path,
                &serde_json::json!({ "enabled": enable }),
                None,
            )
            .await
            {
                Ok(_) => {
                    let verb = if enable { "enabled" } else { "disabled" };
                    flash.set(Some((true, format!("{} is {verb}.", c.client_id))));
                    reload.update(|n| *n += 1);
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
        });
    };

    view! {
        <div class="toolbar">
            <h1>"Identity Clients"</h1>
            <A href="/administration/identity-clients/new" attr:class="button primary">"New Client"</A>
        </div>
        <Flash message=flash/>
        <div class="filters">
            <div class="field inline">
                <label for="search">"Search"</label>
                <input id="search" type="search" placeholder="Client ID or name"
                    prop:value=move || search.get()
                    on:input=move |ev| { search.set(event_target_value(&ev)); cursors.set(vec![]); }/>
            </div>
            <div class="field inline">
                <label for="status-filter">"Status"</label>
                <select id="status-filter" on:change=move |ev| { status.set(event_target_value(&ev)); cursors.set(vec![]); }>
                    <option value="" selected=move || status.get().is_empty()>"All"</option>
                    <option value="enabled" selected=move || status.get() == "enabled">"Enabled"</option>
                    <option value="disabled" selected=move || status.get() == "disabled">"Disabled"</option>
                </select>
            </div>
        </div>
        <div class="card list-card" aria-busy=move || loading.get().to_string()>
            {move || match data.get() {
                None => view! { <p class="loading">"Loading identity clients…"</p> }.into_any(),
                Some(Err(ApiFailure::SignedOut)) => view! { <p class="loading">"Your session has ended."</p> }.into_any(),
                Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => {
                    let filtered = !search.get_untracked().trim().is_empty() || !status.get_untracked().is_empty();
                    view! {
                        <div class="empty">
                            {if filtered {
                                view! { <p>"No identity clients match your search."</p> }.into_any()
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
                                    <th scope="col">"Updated"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.items.into_iter().map(|c| {
                                    let href = format!("/administration/identity-clients/{}", c.id);
                                    let (cid, name, roles) = (c.client_id.clone(), c.name.clone().unwrap_or_default(), c.roles.clone());
                                    let (enabled, minutes, updated) = (c.enabled, c.token_duration_minutes, c.updated_at);
                                    view! {
                                    <tr>
                                        <td data-label="Client ID"><A href=href>{cid}</A></td>
                                        <td data-label="Client name">{name}</td>
                                        <td data-label="Status"><StatusBadge enabled=enabled/></td>
                                        <td data-label="Roles"><RoleList roles=roles/></td>
                                        <td data-label="Token duration">{format!("{minutes} minutes")}</td>
                                        <td data-label="Updated"><Timestamp at=updated/></td>
                                        <td class="actions"><ActionMenu client=c on_toggle=on_toggle/></td>
                                    </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <nav class="pager" aria-label="Pages">
                            <button type="button" disabled=move || cursors.with(Vec::is_empty)
                                on:click=move |_| cursors.update(|c| { c.pop(); })>"Previous page"</button>
                            <button type="button" disabled=next.is_none()
                                on:click=move |_| if let Some(n) = next.clone() { cursors.update(|c| c.push(n)) }>"Next page"</button>
                        </nav>
                    }.into_any()
                }
            }}
        </div>
    }
}
