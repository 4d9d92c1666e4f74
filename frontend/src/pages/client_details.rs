//! A client's details: configuration, status, timestamps, last use, the audit trail; enable or
//! disable it, and rotate its secret.

use super::client_form::{FormField, SecretInput};
use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::components::{Flash, RoleList, StatusBadge, Timestamp};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use vitesse_domain::ClientSecret;
use vitesse_domain::wire::{AuditEvent, AuditEventList, IdentityClient, RotateSecretRequest};

fn describe(e: &AuditEvent) -> String {
    let what = match e.action.as_str() {
        "created" => "Created",
        "updated" => "Edited",
        "enabled" => "Enabled",
        "disabled" => "Disabled",
        "secret_changed" => "Secret changed",
        "deleted" => "Deleted",
        other => other,
    };
    let fields: Vec<String> = e
        .changes
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| e.action == "updated" || *k == "client_secret")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if e.action == "updated" && !fields.is_empty() {
        format!("{what}: {}", fields.join(", "))
    } else {
        what.into()
    }
}

#[component]
pub fn ClientDetails() -> impl IntoView {
    let state = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let client = RwSignal::new(None::<Result<IdentityClient, ApiFailure>>);
    let events = RwSignal::new(Vec::<AuditEvent>::new());
    let events_cursor = RwSignal::new(None::<String>);
    let flash = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    if query.with_untracked(|q| q.get("created").is_some()) {
        flash.set(Some((
            true,
            "Client created. It is enabled and can request tokens now.".into(),
        )));
    } else if query.with_untracked(|q| q.get("saved").is_some()) {
        flash.set(Some((
            true,
            "Changes saved. They apply the next time a token is requested.".into(),
        )));
    }

    let load_events = move |cursor: Option<String>| {
        let mut path = format!("/api/v1/identity-clients/{}/events?limit=20", id());
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", api::encode(c)));
        }
        spawn_local(async move {
            if let Ok(page) = api::get::<AuditEventList>(&path).await {
                if cursor.is_some() {
                    events.update(|e| e.extend(page.items));
                } else {
                    events.set(page.items);
                }
                events_cursor.set(page.next_cursor);
            }
        });
    };
    let load = move || {
        let path = format!("/api/v1/identity-clients/{}", id());
        spawn_local(async move {
            let r = api::get::<IdentityClient>(&path).await;
            if matches!(r, Err(ApiFailure::SignedOut)) {
                state.session.set(None);
            }
            client.set(Some(r));
        });
        load_events(None);
    };
    Effect::new(move |_| {
        id();
        load();
    });

    let toggle = move |enable: bool| {
        let path = format!("/api/v1/identity-clients/{}", id());
        busy.set(true);
        spawn_local(async move {
            match api::patch::<_, IdentityClient>(
                &path,
                &serde_json::json!({ "enabled": enable }),
                None,
            )
            .await
            {
                Ok((c, _)) => {
                    let verb = if enable { "enabled" } else { "disabled" };
                    flash.set(Some((true, format!("{} is {verb}.", c.client_id))));
                    client.set(Some(Ok(c)));
                    load_events(None);
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
            busy.set(false);
        });
    };

    // Secret rotation.
    let new_secret = FormField::new("");
    let grace = RwSignal::new("0".to_string());
    let rotate_error = Signal::derive(move || {
        let s = new_secret.value.get();
        (new_secret.touched.get())
            .then(|| ClientSecret::parse(&s).err().map(|e| e.message))
            .flatten()
    });
    let rotate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        new_secret.touched.set(true);
        if rotate_error.get_untracked().is_some() {
            return;
        }
        let body = RotateSecretRequest {
            client_secret: new_secret.value.get_untracked(),
            previous_secret_grace_minutes: grace.get_untracked().parse().unwrap_or(0),
        };
        let path = format!("/api/v1/identity-clients/{}/secret", id());
        busy.set(true);
        spawn_local(async move {
            match api::post::<_, IdentityClient>(&path, &body).await {
                Ok(c) => {
                    let msg = match c.previous_secret_expires_at {
                        Some(_) => {
                            "Secret changed. The previous secret keeps working until the time shown below."
                        }
                        None => "Secret changed. The previous secret no longer works.",
                    };
                    flash.set(Some((true, msg.into())));
                    new_secret.value.set(String::new());
                    new_secret.touched.set(false);
                    client.set(Some(Ok(c)));
                    load_events(None);
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
            busy.set(false);
        });
    };

    view! {
        <p><A href="/administration/identity-clients">"← Identity Clients"</A></p>
        <Flash message=flash/>
        {move || match client.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
            Some(Ok(c)) => {
                let enabled = c.enabled;
                view! {
                    <div class="toolbar">
                        <h1>{c.client_id.clone()}</h1>
                        <div class="form-actions">
                            <A href=format!("/administration/identity-clients/{}/edit", c.id) attr:class="button">"Edit"</A>
                            <button type="button" disabled=move || busy.get() on:click=move |_| toggle(!enabled)>
                                {if enabled { "Disable" } else { "Enable" }}
                            </button>
                        </div>
                    </div>
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
                            <dt>"Last used"</dt><dd>{match c.last_used_at {
                                Some(t) => view! { <Timestamp at=t/> }.into_any(),
                                None => view! { <span>"Never"</span> }.into_any(),
                            }}</dd>
                            {c.previous_secret_expires_at.map(|t| view! {
                                <dt>"Previous secret works until"</dt><dd><Timestamp at=t/></dd>
                            })}
                        </dl>
                    </section>
                }.into_any()
            }
        }}
        <section class="card" aria-labelledby="rotate-heading">
            <h2 id="rotate-heading">"Change secret"</h2>
            <form class="stack" on:submit=rotate novalidate>
                <SecretInput field=new_secret label="New client secret" hint="6–100 characters." error=rotate_error/>
                <div class="field">
                    <label for="grace">"Previous secret keeps working for"</label>
                    <select id="grace" on:change=move |ev| grace.set(event_target_value(&ev))>
                        <option value="0">"No time: stop it now"</option>
                        <option value="60">"1 hour"</option>
                        <option value="1440">"1 day"</option>
                        <option value="10080">"7 days"</option>
                    </select>
                </div>
                <div><button type="submit" class="primary" disabled=move || busy.get()>"Change secret"</button></div>
            </form>
        </section>
        <section class="card" aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Audit trail"</h2>
            {move || if events.with(Vec::is_empty) {
                view! { <p class="loading">"No events yet."</p> }.into_any()
            } else {
                view! {
                    <table class="audit">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th></tr></thead>
                        <tbody>
                            {events.get().into_iter().map(|e| view! {
                                <tr>
                                    <td><Timestamp at=e.occurred_at/></td>
                                    <td>{describe(&e)}</td>
                                    <td>{e.actor.label.clone()}{e.source_ip.clone().map(|ip| format!(" ({ip})"))}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <Show when=move || events_cursor.with(Option::is_some)>
                <button type="button" on:click=move |_| load_events(events_cursor.get_untracked())>"Show older events"</button>
            </Show>
        </section>
    }
}
