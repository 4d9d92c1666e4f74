//! A client's details: configuration, status, timestamps, last use, the audit trail; enable or
//! disable it, and rotate its secret.

use super::client_form::{
    ExpiryInput, FormField, SecretInput, SecretReveal, js_now, secret_expiry, use_one_time_secret,
};
use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::charts::UsageChart;
use crate::components::{Flash, RoleList, StatusBadge, Timestamp};
use crate::paths;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use vitesse_domain::listing::EventListQuery;
use vitesse_domain::wire::{AuditEvent, IdentityClient, RotateSecretRequest, UpdateClientRequest};
use vitesse_domain::{ClientSecret, SecretInfo, SecretOrigin, SecretSlot};

/// Audit events per page.
const EVENTS_PAGE: i64 = 20;

fn describe(e: &AuditEvent) -> String {
    let what = match e.action.as_str() {
        "created" => "Created",
        "updated" => "Edited",
        "enabled" => "Enabled",
        "disabled" => "Disabled",
        "secret_changed" => "Secret changed",
        "tokens_revoked" => "All tokens revoked",
        "previous_secret_ended" => "Previous secret ended",
        "deleted" => "Deleted",
        other => other,
    };
    let fields: Vec<String> = e
        .changes
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| e.action == "updated" || *k == "client_secret")
                .map(|k| {
                    e.labels
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| vitesse_domain::Field::label_of(k).to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    if e.action == "updated" && !fields.is_empty() {
        format!("{what}: {}", fields.join(", "))
    } else {
        what.into()
    }
}

/// "1,000 per hour, 20,000 per day; refused past a limit", or "No limit".
fn quota_text(c: &IdentityClient) -> String {
    let limits: Vec<String> = [
        c.token_quota_per_hour.map(|n| format!("{n} per hour")),
        c.token_quota_per_day.map(|n| format!("{n} per day")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if limits.is_empty() {
        return "No limit".into();
    }
    let mode = if c.token_quota_mode == "report" {
        "only reported when passed"
    } else {
        "refused past a limit"
    };
    format!("{}; {mode}", limits.join(", "))
}

/// "in 12 days", "in less than a day", "expired".
fn from_now(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let days = (at - now).num_days();
    match days {
        _ if at <= now => "expired".into(),
        0 => "in less than a day".into(),
        1 => "in 1 day".into(),
        n => format!("in {n} days"),
    }
}

/// The client's secrets: how each was made, its dates, its last use.
#[component]
fn SecretTable(secrets: Vec<SecretInfo>) -> impl IntoView {
    let now = js_now();
    view! {
        <table class="secrets" tabindex="0" aria-label="Secrets">
            <thead><tr>
                <th scope="col">"Secret"</th><th scope="col">"Made"</th><th scope="col">"Created"</th>
                <th scope="col">"Expires"</th><th scope="col">"Last used"</th>
            </tr></thead>
            <tbody>
                {secrets.into_iter().map(|s| view! {
                    <tr>
                        <th scope="row">{match s.slot { SecretSlot::Current => "Current", SecretSlot::Previous => "Previous" }}</th>
                        <td>{match s.origin { SecretOrigin::Generated => "Generated", SecretOrigin::Typed => "Typed" }}</td>
                        <td><Timestamp at=s.created_at/></td>
                        <td>{match s.expires_at {
                            Some(t) => view! { <Timestamp at=t/>" ("{from_now(t, now)}")" }.into_any(),
                            None => view! { <span>"Never"</span> }.into_any(),
                        }}</td>
                        <td>{match s.last_used_at {
                            Some(t) => view! { <Timestamp at=t/> }.into_any(),
                            None => view! { <span>"Never"</span> }.into_any(),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn ClientDetails() -> impl IntoView {
    let state = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let flash = RwSignal::new(None::<(bool, String)>);

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

    // Enable or disable: a merge patch of `enabled` alone.
    let toggle = Action::new_local(move |enable: &bool| {
        let enable = *enable;
        let patch = UpdateClientRequest {
            enabled: Some(enable),
            ..Default::default()
        };
        let id = id.get_untracked();
        async move {
            match api::update_client(&id, &patch, None).await {
                Ok((c, _)) => {
                    let verb = if enable { "enabled" } else { "disabled" };
                    flash.set(Some((true, format!("{} is {verb}.", c.client_id))));
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
        }
    });

    // End every token the client holds, for good.
    let revoke = Action::new_local(move |_: &()| {
        let id = id.get_untracked();
        async move {
            match api::revoke_tokens(&id).await {
                Ok((c, _)) => flash.set(Some((
                    true,
                    format!(
                        "Every token issued to {} so far no longer works. New tokens work as usual.",
                        c.client_id
                    ),
                ))),
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
        }
    });

    // End the previous secret before its grace period runs out.
    let end_previous = Action::new_local(move |_: &()| {
        let id = id.get_untracked();
        async move {
            match api::end_previous_secret(&id).await {
                Ok(_) => flash.set(Some((
                    true,
                    "The previous secret no longer works. Only the current secret does.".into(),
                ))),
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
        }
    });

    // Secret rotation: typed, or generated by the server, with an optional expiry.
    let new_secret = FormField::new("");
    let new_expiry = FormField::new("");
    let expiry_error = Signal::derive(move || {
        (new_expiry.touched.get())
            .then(|| secret_expiry(&new_expiry.value.get()).err())
            .flatten()
    });
    let generate = RwSignal::new(false);
    let grace = RwSignal::new("0".to_string());
    let rotate_error = Signal::derive(move || {
        let s = new_secret.value.get();
        (new_secret.touched.get() && !generate.get())
            .then(|| ClientSecret::parse_typed(&s).err().map(|e| e.message))
            .flatten()
    });
    let one_time = use_one_time_secret();
    let rotate = Action::new_local(move |req: &RotateSecretRequest| {
        let req = req.clone();
        let id = id.get_untracked();
        async move {
            match api::rotate_secret(&id, &req, None).await {
                Ok((made, _)) => {
                    let msg = match made.client.previous_secret_expires_at {
                        Some(_) => {
                            "Secret changed. The previous secret keeps working until the time shown below."
                        }
                        None => "Secret changed. The previous secret no longer works.",
                    };
                    flash.set(Some((true, msg.into())));
                    one_time
                        .0
                        .set(made.client_secret.map(|s| (made.client.id.clone(), s)));
                    new_secret.value.set(String::new());
                    new_secret.touched.set(false);
                    new_expiry.value.set(String::new());
                    new_expiry.touched.set(false);
                    generate.set(false);
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => flash.set(Some((false, e.message()))),
            }
        }
    });
    let busy = Signal::derive(move || {
        toggle.pending().get()
            || rotate.pending().get()
            || revoke.pending().get()
            || end_previous.pending().get()
    });
    let on_rotate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        new_secret.touched.set(true);
        new_expiry.touched.set(true);
        if rotate_error.get_untracked().is_some() || expiry_error.get_untracked().is_some() {
            return;
        }
        let generated = generate.get_untracked();
        rotate.dispatch_local(RotateSecretRequest {
            client_secret: (!generated).then(|| new_secret.value.get_untracked()),
            generate_secret: generated.then_some(true),
            secret_expires_at: secret_expiry(&new_expiry.value.get_untracked())
                .ok()
                .flatten(),
            previous_secret_grace_minutes: grace.get_untracked().parse().unwrap_or(0),
        });
    };

    // The client and the newest events, read again after each change made here.
    let client = LocalResource::new(move || {
        let id = id.get();
        toggle.version().track();
        rotate.version().track();
        revoke.version().track();
        end_previous.version().track();
        async move {
            let r = api::client(&id).await.map(|(c, _)| c);
            if matches!(r, Err(ApiFailure::SignedOut)) {
                state.session.set(None);
            }
            r
        }
    });
    let newest_events = LocalResource::new(move || {
        let id = id.get();
        toggle.version().track();
        rotate.version().track();
        revoke.version().track();
        end_previous.version().track();
        let query = EventListQuery {
            limit: Some(EVENTS_PAGE),
            cursor: None,
        };
        async move { api::client_events(&id, &query).await }
    });
    // Older pages the person asked for: their events and the cursor after them; forgotten
    // when the newest page is read again.
    let older = RwSignal::new(None::<(Vec<AuditEvent>, Option<String>)>);
    Effect::new(move |_| {
        newest_events.track();
        older.set(None);
    });
    let show_older = Action::new_local(move |cursor: &String| {
        let id = id.get_untracked();
        let query = EventListQuery {
            limit: Some(EVENTS_PAGE),
            cursor: Some(cursor.clone()),
        };
        async move {
            if let Ok(page) = api::client_events(&id, &query).await {
                older.update(|o| {
                    let mut items = o.take().map(|(items, _)| items).unwrap_or_default();
                    items.extend(page.items);
                    *o = Some((items, page.next_cursor));
                });
            }
        }
    });
    let events = move || {
        let mut all = newest_events
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default();
        older.with(|o| all.extend(o.iter().flat_map(|(items, _)| items.iter().cloned())));
        all
    };
    let older_cursor = move || match older.get() {
        Some((_, next)) => next,
        None => newest_events
            .get()
            .and_then(Result::ok)
            .and_then(|p| p.next_cursor),
    };

    view! {
        <p><A href=paths::CLIENTS>"← Identity Clients"</A></p>
        <Flash message=flash/>
        <SecretReveal id=Signal::derive(move || id.get())/>
        {move || match client.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
            Some(Ok(c)) => {
                let enabled = c.enabled;
                view! {
                    <div class="toolbar">
                        <h1>{c.client_id.clone()}</h1>
                        <div class="form-actions">
                            <A href=paths::edit_client(&c.id) attr:class="button">"Edit"</A>
                            <button type="button" disabled=move || busy.get() on:click=move |_| { toggle.dispatch_local(!enabled); }>
                                {if enabled { "Disable" } else { "Enable" }}
                            </button>
                            <button type="button" disabled=move || busy.get()
                                title="Tokens already issued stop working at once; the client can request new ones"
                                on:click=move |_| { revoke.dispatch_local(()); }>
                                "Revoke all tokens"
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
                            <dt>"Allowed addresses"</dt><dd>{if c.allowed_addresses.is_empty() {
                                "Any address".to_string()
                            } else {
                                c.allowed_addresses.join(", ")
                            }}</dd>
                            <dt>"Token quota"</dt><dd>{quota_text(&c)}</dd>
                            <dt>"Authentication method"</dt><dd>{if c.token_endpoint_auth_method == "private_key_jwt" { "Private key (private_key_jwt)" } else { "Client secret" }}</dd>
                            <dt>"Status"</dt><dd><StatusBadge enabled=c.enabled/></dd>
                            <dt>"Created"</dt><dd><Timestamp at=c.created_at/></dd>
                            <dt>"Updated"</dt><dd><Timestamp at=c.updated_at/></dd>
                            <dt>"Last used"</dt><dd>{match c.last_used_at {
                                Some(t) => view! { <Timestamp at=t/> }.into_any(),
                                None => view! { <span>"Never"</span> }.into_any(),
                            }}</dd>
                        </dl>
                    </section>
                    {(c.token_endpoint_auth_method == "private_key_jwt").then(|| view! {
                        <section class="card" aria-labelledby="keys-heading">
                            <h2 id="keys-heading">"Public keys"</h2>
                            {c.jwks_uri.clone().map(|u| view! { <p>"Published at "<code>{u}</code></p> })}
                            {c.jwks_fetch.clone().map(|f| view! {
                                <p class="hint">{match f.fetched_at { Some(t) => view! { "Last fetched "<Timestamp at=t/>". " }.into_any(), None => view! { "Not fetched yet. " }.into_any() }}
                                    {f.error.map(|e| format!("Last error: {e}"))}</p>
                            })}
                            <table class="keys" tabindex="0" aria-label="Public keys">
                                <thead><tr><th scope="col">"Key ID"</th><th scope="col">"Type"</th><th scope="col">"Algorithm"</th></tr></thead>
                                <tbody>
                                    {c.keys.clone().into_iter().map(|k| view! {
                                        <tr><td>{k.kid.unwrap_or_else(|| "—".into())}</td><td>{k.kty}</td><td>{k.alg.unwrap_or_else(|| "any that fits".into())}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    })}
                    <section class="card" aria-labelledby="secrets-heading" class:hidden=c.token_endpoint_auth_method == "private_key_jwt">
                        <h2 id="secrets-heading">"Secrets"</h2>
                        <SecretTable secrets=c.secrets.clone()/>
                        {c.previous_secret_expires_at.map(|_| view! {
                            <p class="hint">"The previous secret works until its expiry above. Once its last use shows nothing presents it any more, end it now."</p>
                            <button type="button" disabled=move || busy.get()
                                on:click=move |_| { end_previous.dispatch_local(()); }>"End previous secret now"</button>
                        })}
                    </section>
                }.into_any()
            }
        }}
        <UsageChart id=Signal::derive(move || id.get())/>
        <section class="card" aria-labelledby="rotate-heading"
            class:hidden=move || client.get().and_then(Result::ok).is_some_and(|c| c.token_endpoint_auth_method == "private_key_jwt")>
            <h2 id="rotate-heading">"Change secret"</h2>
            <form class="stack" on:submit=on_rotate novalidate>
                <SecretInput field=new_secret label="New client secret" hint="6–100 characters." error=rotate_error generate=generate/>
                <ExpiryInput field=new_expiry error=expiry_error/>
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
            {move || {
                let events = events();
                if events.is_empty() {
                    view! { <p class="loading">"No events yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="audit" tabindex="0" aria-label="Audit trail">
                            <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th></tr></thead>
                            <tbody>
                                {events.into_iter().map(|e| view! {
                                    <tr>
                                        <td><Timestamp at=e.occurred_at/></td>
                                        <td>{describe(&e)}</td>
                                        <td>{e.actor.label.clone()}{e.source_ip.clone().map(|ip| format!(" ({ip})"))}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
            <Show when=move || older_cursor().is_some()>
                <button type="button" disabled=move || show_older.pending().get()
                    on:click=move |_| if let Some(c) = older_cursor() { show_older.dispatch_local(c); }>"Show older events"</button>
            </Show>
        </section>
    }
}
