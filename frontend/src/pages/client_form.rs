use crate::api::{self, ApiFailure};
use crate::app::use_session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use vitesse_domain::wire::{ApiRoleList, CreateClientRequest, IdentityClient};
use vitesse_domain::{
    ClientId, ClientName, ClientSecret, Description, Field, FieldError, RoleSet, TokenDuration,
};

/// A strong secret from the browser's CSPRNG: 32 URL-safe characters (192 bits).
fn generate_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut buf = [0u8; 32];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut buf);
    }
    buf.iter()
        .map(|b| ALPHABET[(*b & 63) as usize] as char)
        .collect()
}

/// The form's text, and whether the person has left each field yet.
#[derive(Clone, Copy)]
struct FormField {
    value: RwSignal<String>,
    touched: RwSignal<bool>,
}

impl FormField {
    fn new() -> Self {
        Self {
            value: RwSignal::new(String::new()),
            touched: RwSignal::new(false),
        }
    }
}

#[component]
pub fn NewClient() -> impl IntoView {
    let state = use_session();
    let navigate = use_navigate();
    let catalogue = LocalResource::new(|| api::get::<ApiRoleList>("/api/v1/api-roles"));

    let client_id = FormField::new();
    let secret = FormField::new();
    let name = FormField::new();
    let description = FormField::new();
    let duration = FormField::new();
    duration.value.set("60".into());
    let roles = RwSignal::new(Vec::<String>::new());
    let roles_touched = RwSignal::new(false);
    let show_secret = RwSignal::new(false);
    let submitted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let banner = RwSignal::new(None::<String>);

    // One rule, one place: the domain crate decides, the form only shows.
    let rule = move |f: Field| -> Option<String> {
        let err = match f {
            Field::ClientId => ClientId::parse(&client_id.value.get()).err(),
            Field::ClientSecret => ClientSecret::parse(&secret.value.get()).err(),
            Field::Name => ClientName::parse_optional(Some(&name.value.get())).err(),
            Field::Description => Description::parse_optional(Some(&description.value.get())).err(),
            Field::TokenDuration => TokenDuration::parse_text(&duration.value.get()).err(),
            Field::Roles => RoleSet::parse(&roles.get()).err(),
            Field::Enabled => None,
        };
        err.map(|e| e.message).or_else(|| {
            server_errors.with(|errs| {
                errs.iter()
                    .find(|e| e.field == f.wire_name())
                    .map(|e| e.message.clone())
            })
        })
    };
    let shown = move |f: Field, touched: RwSignal<bool>| {
        if touched.get() || submitted.get() {
            rule(f)
        } else {
            None
        }
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        server_errors.set(vec![]);
        banner.set(None);
        let fields = [
            Field::ClientId,
            Field::ClientSecret,
            Field::Name,
            Field::Description,
            Field::TokenDuration,
            Field::Roles,
        ];
        if fields.iter().any(|f| rule(*f).is_some()) {
            banner.set(Some("Correct the highlighted fields.".into()));
            return;
        }
        let minutes = TokenDuration::parse_text(&duration.value.get_untracked())
            .map(TokenDuration::minutes)
            .unwrap_or(0);
        let optional = |s: String| if s.trim().is_empty() { None } else { Some(s) };
        let body = CreateClientRequest {
            client_id: client_id.value.get_untracked(),
            client_secret: secret.value.get_untracked(),
            name: optional(name.value.get_untracked()),
            description: optional(description.value.get_untracked()),
            token_duration_minutes: minutes,
            roles: roles.get_untracked(),
        };
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            match api::post::<_, IdentityClient>("/api/v1/identity-clients", &body).await {
                Ok(c) => navigate(
                    &format!("/administration/identity-clients/{}?created=1", c.id),
                    Default::default(),
                ),
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(ApiFailure::Problem(p)) if !p.errors.is_empty() => {
                    banner.set(Some(p.detail.clone().unwrap_or(p.title.clone())));
                    server_errors.set(p.errors);
                }
                Err(e) => banner.set(Some(e.message())),
            }
            busy.set(false);
        });
    };

    let text_field = move |f: Field,
                           id: &'static str,
                           hint: &'static str,
                           ff: FormField,
                           kind: &'static str| {
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        view! {
            <div class="field" class:invalid=move || shown(f, ff.touched).is_some()>
                <label for=id>{f.label()}</label>
                <p class="hint" id=hint_id.clone()>{hint}</p>
                <input id=id type=kind
                    aria-describedby=format!("{hint_id} {err_id}")
                    aria-invalid=move || if shown(f, ff.touched).is_some() { "true" } else { "false" }
                    prop:value=move || ff.value.get()
                    on:input=move |ev| { ff.value.set(event_target_value(&ev)); server_errors.update(|e| e.retain(|x| x.field != f.wire_name())); }
                    on:blur=move |_| ff.touched.set(true)/>
                <div class="error" id=err_id aria-live="polite">{move || shown(f, ff.touched)}</div>
            </div>
        }
    };

    view! {
        <p><A href="/administration/identity-clients">"← Identity Clients"</A></p>
        <h1>"New Client"</h1>
        <div class="card">
            <form class="stack" on:submit=on_submit novalidate>
                <Show when=move || banner.with(Option::is_some)>
                    <div class="banner error" role="alert">{move || banner.get()}</div>
                </Show>
                {text_field(Field::ClientId, "client-id", "Unique identifier used to request tokens. 6–100 characters: letters, digits and - . _ ~; must be unique across the Vitesse platform.", client_id, "text")}
                <div class="field" class:invalid=move || shown(Field::ClientSecret, secret.touched).is_some()>
                    <label for="client-secret">"Client secret"</label>
                    <p class="hint" id="client-secret-hint">"Secret used with the client ID to authenticate. 6–100 characters."</p>
                    <div class="secret-row">
                        <input id="client-secret" type=move || if show_secret.get() { "text" } else { "password" }
                            autocomplete="new-password"
                            aria-describedby="client-secret-hint client-secret-note client-secret-error"
                            aria-invalid=move || if shown(Field::ClientSecret, secret.touched).is_some() { "true" } else { "false" }
                            prop:value=move || secret.value.get()
                            on:input=move |ev| secret.value.set(event_target_value(&ev))
                            on:blur=move |_| secret.touched.set(true)/>
                        <button type="button" on:click=move |_| { secret.value.set(generate_secret()); secret.touched.set(true); show_secret.set(true); }>"Generate"</button>
                        <button type="button" aria-pressed=move || show_secret.get().to_string()
                            on:click=move |_| show_secret.update(|s| *s = !*s)>
                            {move || if show_secret.get() { "Hide" } else { "Show" }}
                        </button>
                        <button type="button" on:click=move |_| {
                            if let Some(w) = web_sys::window() {
                                let _ = w.navigator().clipboard().write_text(&secret.value.get_untracked());
                            }
                        }>"Copy"</button>
                    </div>
                    <p class="note" id="client-secret-note">"The client secret is stored securely and cannot be viewed after creation."</p>
                    <div class="error" id="client-secret-error" aria-live="polite">{move || shown(Field::ClientSecret, secret.touched)}</div>
                </div>
                {text_field(Field::Name, "client-name", "Optional label for your reference. 3–100 characters.", name, "text")}
                <div class="field" class:invalid=move || shown(Field::Description, description.touched).is_some()>
                    <label for="description">"Description"</label>
                    <p class="hint" id="description-hint">"Optional description. Up to 1000 characters."</p>
                    <textarea id="description" aria-describedby="description-hint description-error"
                        prop:value=move || description.value.get()
                        on:input=move |ev| description.value.set(event_target_value(&ev))
                        on:blur=move |_| description.touched.set(true)></textarea>
                    <div class="error" id="description-error" aria-live="polite">{move || shown(Field::Description, description.touched)}</div>
                </div>
                {text_field(Field::TokenDuration, "token-duration", "Token lifetime in minutes: 10–60.", duration, "number")}
                <fieldset class="field" aria-describedby="roles-hint roles-error">
                    <legend>"Roles"</legend>
                    <p class="hint" id="roles-hint">"API roles assigned to the client. At least one role must be selected."</p>
                    {move || match catalogue.get() {
                        None => view! { <p class="loading">"Loading roles…"</p> }.into_any(),
                        Some(Err(e)) => view! { <div class="banner error">{e.message()}</div> }.into_any(),
                        Some(Ok(list)) => list.items.into_iter().map(|r| {
                            let name = r.name.clone();
                            let checked_name = r.name.clone();
                            let input_id = format!("role-{}", r.name.replace([':', '.'], "-"));
                            view! {
                                <div class="role-option">
                                    <input type="checkbox" id=input_id.clone()
                                        prop:checked=move || roles.with(|rs| rs.contains(&checked_name))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            roles.update(|rs| { rs.retain(|x| *x != name); if on { rs.push(name.clone()); } });
                                            roles_touched.set(true);
                                        }/>
                                    <label for=input_id>{r.name.clone()}<small>{r.description.clone()}</small></label>
                                </div>
                            }
                        }).collect_view().into_any(),
                    }}
                    <div class="error" id="roles-error" aria-live="polite">{move || shown(Field::Roles, roles_touched)}</div>
                </fieldset>
                <div>
                    <button class="primary" type="submit" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create" }}
                    </button>
                </div>
            </form>
        </div>
    }
}
