//! New Client and Edit: the same fields, validated as the person types by the domain crate.

use crate::api::{self, ApiFailure, Versioned};
use crate::app::use_session;
use crate::paths;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use vitesse_domain::wire::{CreateClientRequest, IdentityClient, UpdateClientRequest};
use vitesse_domain::{
    AddressList, AuthMethod, ClientId, ClientName, ClientSecret, Description, Field, FieldError,
    JwkSet, JwksUrl, QuotaMode, RoleSet, SECRET_EXPIRES_FIELD, TokenDuration, TokenQuota,
    latest_secret_expiry, parse_secret_expiry,
};

/// The browser's clock.
pub fn js_now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// A secret's expiry as the date input holds it (`YYYY-MM-DD`, the start of that day in UTC),
/// checked by the domain's rule; empty means it does not expire.
pub fn secret_expiry(date: &str) -> Result<Option<DateTime<Utc>>, String> {
    if date.trim().is_empty() {
        return Ok(None);
    }
    let at = serde_json::Value::String(format!("{}T00:00:00Z", date.trim()));
    parse_secret_expiry(Some(&at), js_now()).map_err(|e| e.message)
}

/// "Secret expires": an optional date, from tomorrow to two years ahead.
#[component]
pub fn ExpiryInput(field: FormField, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let min = day(js_now() + chrono::Duration::days(1));
    let max = day(latest_secret_expiry(js_now()) - chrono::Duration::days(1));
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for="secret-expires">"Secret expires"</label>
            <p class="hint" id="secret-expires-hint">"Optional. After this date (00:00 UTC) the secret no longer works; at most two years ahead. Leave empty for no expiry."</p>
            <input id="secret-expires" type="date" min=min max=max
                aria-describedby="secret-expires-hint secret-expires-error"
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || field.value.get()
                on:input=move |ev| field.value.set(event_target_value(&ev))
                on:blur=move |_| field.touched.set(true)/>
            <div class="error" id="secret-expires-error" aria-live="polite">{move || error.get()}</div>
        </div>
    }
}

/// A secret the server has just made, kept only in memory until the person has stored it.
#[derive(Clone, Copy)]
pub struct OneTimeSecret(pub RwSignal<Option<(String, String)>>);

/// The new secret to show once for client `id`, if the server made one.
pub fn use_one_time_secret() -> OneTimeSecret {
    expect_context::<OneTimeSecret>()
}

/// The text of one field, and whether the person has left it yet.
#[derive(Clone, Copy)]
pub struct FormField {
    pub value: RwSignal<String>,
    pub touched: RwSignal<bool>,
}

impl FormField {
    pub fn new(initial: &str) -> Self {
        Self {
            value: RwSignal::new(initial.to_owned()),
            touched: RwSignal::new(false),
        }
    }
}

/// The form's fields: every field but the status, which has its own buttons.
fn form_fields() -> impl Iterator<Item = Field> {
    Field::ALL.into_iter().filter(|f| *f != Field::Enabled)
}

#[derive(Clone, Copy)]
struct ClientForm {
    client_id: FormField,
    secret: FormField,
    /// New Client: the secret's expiry date (empty: none).
    expiry: FormField,
    name: FormField,
    description: FormField,
    duration: FormField,
    /// One address or CIDR range per line.
    addresses: FormField,
    /// Token quotas: empty for no limit.
    quota_hour: FormField,
    quota_day: FormField,
    /// `enforce` or `report`.
    quota_mode: RwSignal<String>,
    /// `client_secret` or `private_key_jwt`.
    auth_method: RwSignal<String>,
    /// A keyless client's keys: a pasted JWK Set, or the URL of one.
    jwks: FormField,
    jwks_uri: FormField,
    roles: RwSignal<Vec<String>>,
    roles_touched: RwSignal<bool>,
    submitted: RwSignal<bool>,
    server_errors: RwSignal<Vec<FieldError>>,
    /// Editing: an empty secret keeps the current one.
    secret_optional: bool,
    /// New Client: the server generates the secret (nothing is typed).
    generate: RwSignal<bool>,
}

impl ClientForm {
    fn new(secret_optional: bool) -> Self {
        Self {
            client_id: FormField::new(""),
            secret: FormField::new(""),
            expiry: FormField::new(""),
            name: FormField::new(""),
            description: FormField::new(""),
            duration: FormField::new("60"),
            addresses: FormField::new(""),
            quota_hour: FormField::new(""),
            quota_day: FormField::new(""),
            quota_mode: RwSignal::new(QuotaMode::Enforce.as_str().into()),
            auth_method: RwSignal::new(AuthMethod::ClientSecret.as_str().into()),
            jwks: FormField::new(""),
            jwks_uri: FormField::new(""),
            roles: RwSignal::new(vec![]),
            roles_touched: RwSignal::new(false),
            submitted: RwSignal::new(false),
            server_errors: RwSignal::new(vec![]),
            secret_optional,
            generate: RwSignal::new(false),
        }
    }

    fn fill(&self, c: &IdentityClient) {
        self.client_id.value.set(c.client_id.clone());
        self.secret.value.set(String::new());
        self.name.value.set(c.name.clone().unwrap_or_default());
        self.description
            .value
            .set(c.description.clone().unwrap_or_default());
        self.duration
            .value
            .set(c.token_duration_minutes.to_string());
        self.roles.set(c.roles.clone());
        self.addresses.value.set(c.allowed_addresses.join("\n"));
        let limit = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        self.quota_hour.value.set(limit(c.token_quota_per_hour));
        self.quota_day.value.set(limit(c.token_quota_per_day));
        self.quota_mode.set(c.token_quota_mode.clone());
        self.auth_method.set(c.token_endpoint_auth_method.clone());
        self.jwks.value.set(
            c.jwks
                .as_ref()
                .and_then(|j| serde_json::to_string_pretty(j).ok())
                .unwrap_or_default(),
        );
        self.jwks_uri
            .value
            .set(c.jwks_uri.clone().unwrap_or_default());
        self.submitted.set(false);
        self.server_errors.set(vec![]);
    }

    /// One rule, one place: the domain crate decides, the form only shows.
    fn rule(&self, f: Field) -> Option<String> {
        let err = match f {
            Field::ClientId => ClientId::parse(&self.client_id.value.get()).err(),
            Field::ClientSecret => {
                let s = self.secret.value.get();
                if self.keyless() || self.generate.get() || (self.secret_optional && s.is_empty()) {
                    None
                } else {
                    ClientSecret::parse_typed(&s).err()
                }
            }
            Field::Name => ClientName::parse_optional(Some(&self.name.value.get())).err(),
            Field::Description => {
                Description::parse_optional(Some(&self.description.value.get())).err()
            }
            Field::TokenDuration => TokenDuration::parse_text(&self.duration.value.get()).err(),
            Field::Roles => RoleSet::parse(&self.roles.get()).err(),
            Field::AllowedAddresses => {
                AddressList::parse(&Self::lines(self.addresses.value.get())).err()
            }
            Field::TokenQuotaPerHour => {
                TokenQuota::limit_from_text(f, &self.quota_hour.value.get()).err()
            }
            Field::TokenQuotaPerDay => {
                TokenQuota::limit_from_text(f, &self.quota_day.value.get()).err()
            }
            Field::TokenQuotaMode => QuotaMode::parse(&self.quota_mode.get()).err(),
            Field::AuthMethod => AuthMethod::parse(&self.auth_method.get()).err(),
            Field::Jwks => self.keys_rule(),
            Field::JwksUri => {
                let url = self.jwks_uri.value.get();
                (self.keyless() && !url.trim().is_empty())
                    .then(|| JwksUrl::parse(&url).err())
                    .flatten()
            }
            Field::Enabled => None,
        };
        err.map(|e| e.message).or_else(|| {
            self.server_errors.with(|errs| {
                errs.iter()
                    .find(|e| e.field == f.wire_name())
                    .map(|e| e.message.clone())
            })
        })
    }

    fn keyless(&self) -> bool {
        self.auth_method.get() == AuthMethod::PrivateKeyJwt.as_str()
    }

    /// A keyless client's keys: a valid JWK Set pasted, or a URL (checked as a field itself).
    fn keys_rule(&self) -> Option<FieldError> {
        if !self.keyless() {
            return None;
        }
        let (set, url) = (self.jwks.value.get(), self.jwks_uri.value.get());
        match (set.trim().is_empty(), url.trim().is_empty()) {
            (true, true) => Some(FieldError::new(
                Field::Jwks,
                "Paste the client's public keys (a JWK Set) or give the URL they are published at",
            )),
            (false, false) => Some(FieldError::new(
                Field::Jwks,
                "Give the keys or their URL, not both",
            )),
            (true, false) => None,
            (false, true) => match serde_json::from_str::<serde_json::Value>(&set) {
                Ok(v) => JwkSet::parse_for(Field::Jwks, &v).err(),
                Err(_) => Some(FieldError::new(
                    Field::Jwks,
                    "Public keys must be a JWK Set in JSON: {\"keys\": [...]}",
                )),
            },
        }
    }

    /// A keyless client's key field as typed, when the form is keyless and it is filled in.
    fn key_text(&self, field: FormField) -> Option<String> {
        let text = field.value.get_untracked();
        let keyless = self.auth_method.get_untracked() == AuthMethod::PrivateKeyJwt.as_str();
        (keyless && !text.trim().is_empty()).then(|| text.trim().to_owned())
    }

    fn jwks_value(&self) -> Option<serde_json::Value> {
        self.key_text(self.jwks)
            .and_then(|set| serde_json::from_str(&set).ok())
    }

    fn jwks_uri_value(&self) -> Option<String> {
        self.key_text(self.jwks_uri)
    }

    fn touched(&self, f: Field) -> RwSignal<bool> {
        match f {
            Field::ClientId => self.client_id.touched,
            Field::ClientSecret => self.secret.touched,
            Field::Name => self.name.touched,
            Field::Description => self.description.touched,
            Field::TokenDuration => self.duration.touched,
            Field::AllowedAddresses => self.addresses.touched,
            Field::TokenQuotaPerHour => self.quota_hour.touched,
            Field::TokenQuotaPerDay => self.quota_day.touched,
            Field::Jwks => self.jwks.touched,
            Field::JwksUri => self.jwks_uri.touched,
            _ => self.roles_touched,
        }
    }

    fn shown(&self, f: Field) -> Option<String> {
        if self.touched(f).get() || self.submitted.get() {
            self.rule(f)
        } else {
            None
        }
    }

    fn has_errors(&self) -> bool {
        form_fields().any(|f| self.rule(f).is_some()) || self.expiry_rule().is_some()
    }

    /// The expiry's rule, or what the server said about it.
    fn expiry_rule(&self) -> Option<String> {
        secret_expiry(&self.expiry.value.get()).err().or_else(|| {
            self.server_errors.with(|errs| {
                errs.iter()
                    .find(|e| e.field == SECRET_EXPIRES_FIELD)
                    .map(|e| e.message.clone())
            })
        })
    }

    fn expiry_shown(&self) -> Option<String> {
        (self.expiry.touched.get() || self.submitted.get())
            .then(|| self.expiry_rule())
            .flatten()
    }

    fn minutes(&self) -> i64 {
        TokenDuration::parse_text(&self.duration.value.get_untracked())
            .map(TokenDuration::minutes)
            .unwrap_or(0)
    }

    /// The allow-list as typed: one entry per line, blank lines ignored.
    fn lines(text: String) -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A quota as typed (empty: no limit; an invalid one is never sent, see `has_errors`).
    fn limit(&self, f: Field) -> Option<u32> {
        let field = if f == Field::TokenQuotaPerHour {
            self.quota_hour
        } else {
            self.quota_day
        };
        TokenQuota::limit_from_text(f, &field.value.get_untracked())
            .ok()
            .flatten()
    }

    fn optional(field: FormField) -> Option<String> {
        let s = field.value.get_untracked();
        if s.trim().is_empty() { None } else { Some(s) }
    }

    /// What New Client sends: every field.
    fn create_request(&self) -> CreateClientRequest {
        let keyless = self.auth_method.get_untracked() == AuthMethod::PrivateKeyJwt.as_str();
        CreateClientRequest {
            client_id: self.client_id.value.get_untracked(),
            client_secret: (!self.generate.get_untracked() && !keyless)
                .then(|| self.secret.value.get_untracked()),
            generate_secret: (self.generate.get_untracked() && !keyless).then_some(true),
            token_endpoint_auth_method: keyless.then(|| AuthMethod::PrivateKeyJwt.as_str().into()),
            jwks: self.jwks_value(),
            jwks_uri: self.jwks_uri_value(),
            secret_expires_at: secret_expiry(&self.expiry.value.get_untracked())
                .ok()
                .flatten()
                .filter(|_| !keyless),
            name: Self::optional(self.name),
            description: Self::optional(self.description),
            token_duration_minutes: self.minutes(),
            roles: self.roles.get_untracked(),
            allowed_addresses: Some(Self::lines(self.addresses.value.get_untracked()))
                .filter(|l| !l.is_empty()),
            token_quota_per_hour: self.limit(Field::TokenQuotaPerHour),
            token_quota_per_day: self.limit(Field::TokenQuotaPerDay),
            token_quota_mode: Some(self.quota_mode.get_untracked()),
        }
    }

    /// What Edit sends: a merge patch of the fields that differ from `base`, the version the
    /// form was filled from. An emptied name or description is cleared (`null`); an empty
    /// secret keeps the current one; the status is not the form's to change.
    fn update_request(&self, base: &IdentityClient) -> UpdateClientRequest {
        fn changed<T: PartialEq>(new: T, old: &T) -> Option<T> {
            (new != *old).then_some(new)
        }
        fn sorted(roles: &[String]) -> Vec<&String> {
            let mut roles: Vec<&String> = roles.iter().collect();
            roles.sort();
            roles.dedup();
            roles
        }
        let roles = self.roles.get_untracked();
        UpdateClientRequest {
            client_id: changed(self.client_id.value.get_untracked(), &base.client_id),
            client_secret: Some(self.secret.value.get_untracked()).filter(|s| !s.is_empty()),
            secret_expires_at: None,
            name: changed(Self::optional(self.name), &base.name),
            description: changed(Self::optional(self.description), &base.description),
            token_duration_minutes: changed(self.minutes(), &base.token_duration_minutes),
            roles: (sorted(&roles) != sorted(&base.roles)).then_some(roles),
            enabled: None,
            allowed_addresses: {
                // Compared as the server writes them, so an unchanged list is not sent.
                let typed = Self::lines(self.addresses.value.get_untracked());
                let normal = AddressList::parse(&typed)
                    .ok()
                    .flatten()
                    .map(|l| l.to_strings())
                    .unwrap_or_default();
                (normal != base.allowed_addresses).then_some(Some(typed))
            },
            token_quota_per_hour: changed(
                self.limit(Field::TokenQuotaPerHour),
                &base.token_quota_per_hour,
            ),
            token_quota_per_day: changed(
                self.limit(Field::TokenQuotaPerDay),
                &base.token_quota_per_day,
            ),
            token_quota_mode: changed(self.quota_mode.get_untracked(), &base.token_quota_mode),
            token_endpoint_auth_method: changed(
                self.auth_method.get_untracked(),
                &base.token_endpoint_auth_method,
            ),
            jwks: self.jwks_value().filter(|v| Some(v) != base.jwks.as_ref()),
            jwks_uri: self
                .jwks_uri_value()
                .filter(|u| Some(u) != base.jwks_uri.as_ref()),
        }
    }

    /// Shows a refusal: the fields the server names, or the whole message in the banner.
    fn show_failure(&self, banner: RwSignal<Option<String>>, failure: ApiFailure) {
        match failure {
            ApiFailure::Problem(p) if !p.errors.is_empty() => {
                banner.set(Some(p.detail.clone().unwrap_or(p.title.clone())));
                self.server_errors.set(p.errors);
            }
            e => banner.set(Some(e.message())),
        }
    }

    /// Marks the form submitted; whether it may be sent (otherwise the banner says why).
    fn ready_to_send(&self, banner: RwSignal<Option<String>>) -> bool {
        self.submitted.set(true);
        self.server_errors.set(vec![]);
        banner.set(None);
        if self.has_errors() {
            banner.set(Some("Correct the highlighted fields.".into()));
            return false;
        }
        true
    }

    fn forget_server_error(&self, f: Field) {
        self.server_errors
            .update(|e| e.retain(|x| x.field != f.wire_name()));
    }
}

fn text_input(
    form: ClientForm,
    f: Field,
    id: &'static str,
    hint: &'static str,
    ff: FormField,
    kind: &'static str,
) -> impl IntoView {
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:invalid=move || form.shown(f).is_some()>
            <label for=id>{f.label()}</label>
            <p class="hint" id=hint_id.clone()>{hint}</p>
            <input id=id type=kind
                aria-describedby=format!("{hint_id} {err_id}")
                aria-invalid=move || form.shown(f).is_some().to_string()
                prop:value=move || ff.value.get()
                on:input=move |ev| { ff.value.set(event_target_value(&ev)); form.forget_server_error(f); }
                on:blur=move |_| ff.touched.set(true)/>
            <div class="error" id=err_id aria-live="polite">{move || form.shown(f)}</div>
        </div>
    }
}

/// A secret to type, with Show/Hide and Copy; where the server can make it (`generate`),
/// Generate hands the secret over to the server, and "Type a secret instead" takes it back.
#[component]
pub fn SecretInput(
    field: FormField,
    #[prop(into)] label: String,
    #[prop(into)] hint: String,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] generate: Option<RwSignal<bool>>,
) -> impl IntoView {
    let show = RwSignal::new(false);
    let copied = RwSignal::new(false);
    let generated = move || generate.is_some_and(|g| g.get());
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for="client-secret">{label}</label>
            <p class="hint" id="client-secret-hint">{hint}
                {generate.is_some().then_some(" Generated secrets are stronger, and are checked faster.")}</p>
            <Show when=generated fallback=move || view! {
                <div class="secret-row">
                    <input id="client-secret" type=move || if show.get() { "text" } else { "password" }
                        autocomplete="new-password" spellcheck="false"
                        aria-describedby="client-secret-hint client-secret-note client-secret-error"
                        aria-invalid=move || error.get().is_some().to_string()
                        prop:value=move || field.value.get()
                        on:input=move |ev| { field.value.set(event_target_value(&ev)); copied.set(false); }
                        on:blur=move |_| field.touched.set(true)/>
                    <div class="secret-buttons">
                        {generate.map(|g| view! {
                            <button type="button" on:click=move |_| {
                                g.set(true);
                                field.value.set(String::new());
                            }>"Generate"</button>
                        })}
                        <button type="button" aria-pressed=move || show.get().to_string() on:click=move |_| show.update(|s| *s = !*s)>
                            {move || if show.get() { "Hide" } else { "Show" }}
                        </button>
                        <button type="button" on:click=move |_| {
                            if let Some(w) = web_sys::window() {
                                let _ = w.navigator().clipboard().write_text(&field.value.get_untracked());
                                copied.set(true);
                            }
                        }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                    </div>
                </div>
            }>
                <div class="generated-secret" id="client-secret">
                    <p>"The server will generate the secret: 256 random bits, shown to you once, right after you save. Have somewhere safe ready to store it."</p>
                    <button type="button" on:click=move |_| {
                        if let Some(g) = generate {
                            g.set(false);
                        }
                    }>"Type a secret instead"</button>
                </div>
            </Show>
            <p class="note" id="client-secret-note">"The client secret is stored securely and cannot be viewed after creation."</p>
            <div class="error" id="client-secret-error" aria-live="polite">{move || error.get()}</div>
        </div>
    }
}

/// A secret the server just made, shown this once with Copy, until the person says it is stored.
#[component]
pub fn SecretReveal(id: Signal<String>) -> impl IntoView {
    let one_time = use_one_time_secret();
    let copied = RwSignal::new(false);
    let secret = Memo::new(move |_| {
        one_time.0.with(|s| {
            s.as_ref()
                .filter(|(for_id, _)| *for_id == id.get())
                .map(|(_, v)| v.clone())
        })
    });
    view! {
        <Show when=move || secret.with(Option::is_some)>
            <section class="card reveal" role="region" aria-labelledby="reveal-heading">
                <h2 id="reveal-heading">"Store the new client secret now"</h2>
                <p>"This is the only time it is shown. Copy it into your software's configuration or secret store; if it is lost, change the secret."</p>
                <label for="generated-secret-value">"Generated client secret"</label>
                <div class="secret-row">
                    <input id="generated-secret-value" type="text" readonly spellcheck="false"
                        prop:value=move || secret.get().unwrap_or_default()/>
                    <div class="secret-buttons">
                        <button type="button" on:click=move |_| {
                            if let Some(w) = web_sys::window() {
                                let _ = w.navigator().clipboard().write_text(&secret.get_untracked().unwrap_or_default());
                                copied.set(true);
                            }
                        }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                    </div>
                </div>
                <div><button type="button" class="primary" on:click=move |_| one_time.0.set(None)>"I have stored it"</button></div>
            </section>
        </Show>
    }
}

#[component]
fn ClientFields(form: ClientForm) -> impl IntoView {
    let catalogue = LocalResource::new(api::api_roles);
    let secret_hint = if form.secret_optional {
        "Secret used with the client ID to authenticate. 6–100 characters. Leave empty to keep the current secret."
    } else {
        "Secret used with the client ID to authenticate. 6–100 characters."
    };
    view! {
        {text_input(form, Field::ClientId, "client-id", "Unique identifier used to request tokens. 6–100 characters: letters, digits and - . _ ~; must be unique across the Vitesse platform.", form.client_id, "text")}
        <div class="field">
            <label for="auth-method">"Authentication method"</label>
            <p class="hint" id="auth-method-hint">"A client secret, or a private key the client keeps: it signs a short assertion with it (private_key_jwt), and you register only the public key."</p>
            <select id="auth-method" aria-describedby="auth-method-hint" on:change=move |ev| form.auth_method.set(event_target_value(&ev))>
                <option value="client_secret" prop:selected=move || !form.keyless()>"Client secret"</option>
                <option value="private_key_jwt" prop:selected=move || form.keyless()>"Private key (private_key_jwt)"</option>
            </select>
        </div>
        <Show when=move || form.keyless()>
            <div class="field" class:invalid=move || form.shown(Field::Jwks).is_some()>
                <label for="jwks">"Public keys"</label>
                <p class="hint" id="jwks-hint">"The client's public keys as a JWK Set, {\"keys\": [...]}: EC P-256, RSA or Ed25519, at most 10, never the private key. Or leave empty and give their URL below."</p>
                <textarea id="jwks" spellcheck="false" aria-describedby="jwks-hint jwks-error"
                    aria-invalid=move || form.shown(Field::Jwks).is_some().to_string()
                    prop:value=move || form.jwks.value.get()
                    on:input=move |ev| { form.jwks.value.set(event_target_value(&ev)); form.forget_server_error(Field::Jwks); }
                    on:blur=move |_| form.jwks.touched.set(true)></textarea>
                <div class="error" id="jwks-error" aria-live="polite">{move || form.shown(Field::Jwks)}</div>
            </div>
            {text_input(form, Field::JwksUri, "jwks-uri", "Or the https:// URL the client publishes its JWK Set at.", form.jwks_uri, "url")}
        </Show>
        {move || if form.keyless() {
            ().into_any()
        } else if form.secret_optional {
            view! { <SecretInput field=form.secret label="Client secret" hint=secret_hint error=Signal::derive(move || form.shown(Field::ClientSecret))/> }.into_any()
        } else {
            view! {
                <SecretInput field=form.secret label="Client secret" hint=secret_hint error=Signal::derive(move || form.shown(Field::ClientSecret)) generate=form.generate/>
                <ExpiryInput field=form.expiry error=Signal::derive(move || form.expiry_shown())/>
            }.into_any()
        }}
        {text_input(form, Field::Name, "client-name", "Optional label for your reference. 3–100 characters.", form.name, "text")}
        <div class="field" class:invalid=move || form.shown(Field::Description).is_some()>
            <label for="description">"Description"</label>
            <p class="hint" id="description-hint">"Optional description. Up to 1000 characters."</p>
            <textarea id="description" aria-describedby="description-hint description-error"
                aria-invalid=move || form.shown(Field::Description).is_some().to_string()
                prop:value=move || form.description.value.get()
                on:input=move |ev| form.description.value.set(event_target_value(&ev))
                on:blur=move |_| form.description.touched.set(true)></textarea>
            <div class="error" id="description-error" aria-live="polite">{move || form.shown(Field::Description)}</div>
        </div>
        <div class="field" class:invalid=move || form.shown(Field::AllowedAddresses).is_some()>
            <label for="allowed-addresses">"Allowed addresses"</label>
            <p class="hint" id="allowed-addresses-hint">"Optional. Tokens are issued only to requests from these IPv4 or IPv6 addresses or CIDR ranges, one per line (at most 50), such as 203.0.113.0/24. Leave empty to allow any address."</p>
            <textarea id="allowed-addresses" spellcheck="false" aria-describedby="allowed-addresses-hint allowed-addresses-error"
                aria-invalid=move || form.shown(Field::AllowedAddresses).is_some().to_string()
                prop:value=move || form.addresses.value.get()
                on:input=move |ev| { form.addresses.value.set(event_target_value(&ev)); form.forget_server_error(Field::AllowedAddresses); }
                on:blur=move |_| form.addresses.touched.set(true)></textarea>
            <div class="error" id="allowed-addresses-error" aria-live="polite">{move || form.shown(Field::AllowedAddresses)}</div>
        </div>
        {text_input(form, Field::TokenDuration, "token-duration", "Token lifetime in minutes: 10–60.", form.duration, "number")}
        <fieldset class="field quota">
            <legend>"Token quota"</legend>
            <p class="hint">"Optional. At most this many tokens per UTC hour and per UTC day; leave empty for no limit."</p>
            {text_input(form, Field::TokenQuotaPerHour, "quota-hour", "1–10,000,000, or empty.", form.quota_hour, "text")}
            {text_input(form, Field::TokenQuotaPerDay, "quota-day", "1–10,000,000, or empty.", form.quota_day, "text")}
            <div class="field">
                <label for="quota-mode">"When a limit is reached"</label>
                <select id="quota-mode" on:change=move |ev| form.quota_mode.set(event_target_value(&ev))>
                    <option value="enforce" prop:selected=move || form.quota_mode.get() == "enforce">"Refuse until the hour or day ends"</option>
                    <option value="report" prop:selected=move || form.quota_mode.get() == "report">"Only report: issue and count"</option>
                </select>
            </div>
        </fieldset>
        <fieldset class="field" class:invalid=move || form.shown(Field::Roles).is_some() aria-describedby="roles-hint roles-error">
            <legend>"Roles"</legend>
            <p class="hint" id="roles-hint">"API roles assigned to the client. At least one role must be selected."</p>
            <div class="role-options">
                {move || match catalogue.get() {
                    None => view! { <p class="loading">"Loading roles…"</p> }.into_any(),
                    Some(Err(e)) => view! { <div class="banner error">{e.message()}</div> }.into_any(),
                    Some(Ok(list)) => {
                        // A role the client holds that has since been retired still shows.
                        let mut items: Vec<(String, String)> = list.items.into_iter().map(|r| (r.name, r.description)).collect();
                        for held in form.roles.get_untracked() {
                            if !items.iter().any(|(n, _)| *n == held) {
                                items.push((held, "Retired: can be kept, not newly assigned".into()));
                            }
                        }
                        items.into_iter().map(|(name, description)| {
                            let (n1, n2) = (name.clone(), name.clone());
                            let input_id = format!("role-{}", name.replace([':', '.'], "-"));
                            view! {
                                <div class="role-option">
                                    <input type="checkbox" id=input_id.clone()
                                        prop:checked=move || form.roles.with(|rs| rs.contains(&n1))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            form.roles.update(|rs| { rs.retain(|x| *x != n2); if on { rs.push(n2.clone()); } });
                                            form.roles_touched.set(true);
                                            form.forget_server_error(Field::Roles);
                                        }/>
                                    <label for=input_id>{name.clone()}<small>{description}</small></label>
                                </div>
                            }
                        }).collect_view().into_any()
                    }
                }}
            </div>
            <div class="error" id="roles-error" aria-live="polite">{move || form.shown(Field::Roles)}</div>
        </fieldset>
    }
}

#[component]
pub fn NewClient() -> impl IntoView {
    let state = use_session();
    let navigate = use_navigate();
    let form = ClientForm::new(false);
    let banner = RwSignal::new(None::<String>);
    let one_time = use_one_time_secret();

    let create = Action::new_local(move |req: &CreateClientRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_client(&req).await {
                Ok(made) => {
                    let id = made.client.id.clone();
                    one_time.0.set(made.client_secret.map(|s| (id.clone(), s)));
                    navigate(&paths::client_created(&id), Default::default())
                }
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) => form.show_failure(banner, e),
            }
        }
    });
    let busy = create.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if form.ready_to_send(banner) {
            create.dispatch_local(form.create_request());
        }
    };

    view! {
        <p><A href=paths::CLIENTS>"← Identity Clients"</A></p>
        <h1>"New Client"</h1>
        <div class="card">
            <form class="stack" on:submit=on_submit novalidate>
                <Show when=move || banner.with(Option::is_some)>
                    <div class="banner error" role="alert">{move || banner.get()}</div>
                </Show>
                <ClientFields form=form/>
                <div class="form-actions">
                    <button class="primary" type="submit" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create" }}
                    </button>
                    <A href=paths::CLIENTS attr:class="button">"Cancel"</A>
                </div>
            </form>
        </div>
    }
}

#[component]
pub fn EditClient() -> impl IntoView {
    let state = use_session();
    let navigate = use_navigate();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let form = ClientForm::new(true);
    let banner = RwSignal::new(None::<String>);
    let conflict = RwSignal::new(false);

    let loaded = LocalResource::new(move || {
        let id = id.get();
        async move {
            let r = api::client(&id).await;
            if matches!(r, Err(ApiFailure::SignedOut)) {
                state.session.set(None);
            }
            r
        }
    });
    // The version being edited, as the form was filled from it, with its ETag.
    let base = RwSignal::new(None::<Versioned<IdentityClient>>);
    Effect::new(move |_| {
        if let Some(Ok(version)) = loaded.get() {
            form.fill(&version.0);
            base.set(Some(version));
            conflict.set(false);
            banner.set(None);
        }
    });

    let save = Action::new_local(move |(patch, tag): &(UpdateClientRequest, String)| {
        let (patch, tag) = (patch.clone(), tag.clone());
        let id = id.get_untracked();
        let navigate = navigate.clone();
        async move {
            match api::update_client(&id, &patch, Some(&tag)).await {
                Ok((c, _)) => navigate(&paths::client_saved(&c.id), Default::default()),
                Err(ApiFailure::SignedOut) => state.session.set(None),
                Err(e) if e.status() == Some(412) => conflict.set(true),
                Err(e) => form.show_failure(banner, e),
            }
        }
    });
    let busy = save.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !form.ready_to_send(banner) {
            return;
        }
        if let Some((c, tag)) = base.get_untracked() {
            save.dispatch_local((form.update_request(&c), tag));
        }
    };

    view! {
        <p><A href=move || paths::client(&id.get())>"← Back to the client"</A></p>
        <h1>"Edit client"</h1>
        {move || match loaded.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
            Some(Ok((c, _))) => view! {
                <div class="card">
                    <form class="stack" on:submit=on_submit novalidate aria-label=format!("Edit {}", c.client_id)>
                        <Show when=move || conflict.get()>
                            <div class="banner error" role="alert">
                                <p><strong>"This client was changed by someone else since you opened it."</strong>
                                    " Your changes were not saved. Reload to see the current version, then make your changes again."</p>
                                <button type="button" on:click=move |_| loaded.refetch()>"Reload"</button>
                            </div>
                        </Show>
                        <Show when=move || banner.with(Option::is_some)>
                            <div class="banner error" role="alert">{move || banner.get()}</div>
                        </Show>
                        <ClientFields form=form/>
                        <p class="hint">"Changes apply the next time a token is requested."</p>
                        <div class="form-actions">
                            <button class="primary" type="submit" disabled=move || busy.get()>
                                {move || if busy.get() { "Saving…" } else { "Save" }}
                            </button>
                            <A href=paths::client(&c.id) attr:class="button">"Cancel"</A>
                        </div>
                    </form>
                </div>
            }.into_any(),
        }}
    }
}
