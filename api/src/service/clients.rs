//! Identity clients: every use case the API offers, with its access rules, the grant check,
//! hashing and the audit trail, each write in one transaction.

use super::now;
use super::principal::Principal;
use crate::error::ApiError;
use crate::oauth::secrets;
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::clients as client_store;
use crate::store::{StoreError, write_tx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use vitesse_domain::wire::{AuditEvent, JwksFetch, KeyInfo};
use vitesse_domain::{
    AuthMethod, ClientChanges, ClientKeys, ClientListQuery, ClientPatch, EventListQuery, Field,
    FieldError, FieldErrors, IdentityClient, JwkSet, NewClient, NewSecret, SECRET_EXPIRES_FIELD,
    SecretHash, SecretRotation, StoredSecret, generated_secret,
};

/// The stored "secret" of a keyless client: not a verifier of any scheme.
const KEYLESS: &str = "keyless";

/// One page of a list, and where the next one starts.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Cursors are opaque to callers: base64url of `[sort value, id]`.
fn encode_cursor(value: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(json!([value, id]).to_string())
}

fn decode_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    let bad = || {
        ApiError::field(
            "cursor",
            "The cursor is not valid; start again from the first page",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    serde_json::from_slice::<(String, String)>(&bytes).map_err(|_| bad())
}

/// Keeps `limit` of `rows` (one more was read to learn whether a next page exists).
fn paginate<T>(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(cursor_of)
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

/// A page of the caller's clients.
pub async fn list(
    state: &AppState,
    p: &Principal,
    query: &ClientListQuery,
) -> Result<Page<IdentityClient>, ApiError> {
    p.require_identity_client_manager()?;
    let listing = query.validate().map_err(ApiError::Validation)?;
    let after = listing.cursor.as_deref().map(decode_cursor).transpose()?;
    let (account, limit, sort) = (p.account_id.clone(), listing.limit, listing.sort);
    let rows = state
        .db(move |c| client_store::list(c, &account, &listing, after, limit + 1, now().naive_utc()))
        .await?;
    Ok(paginate(rows, limit, |c| {
        encode_cursor(&client_store::sort_value(c, sort), &c.id)
    }))
}

/// One client of the caller's account; another account's is "not found", never "forbidden".
pub async fn get(state: &AppState, p: &Principal, id: String) -> Result<IdentityClient, ApiError> {
    p.require_identity_client_manager()?;
    let account = p.account_id.clone();
    Ok(state
        .db(move |c| client_store::get(c, &account, &id))
        .await?)
}

/// For a client whose keys are at a URL: the keys last fetched from it, and how that went.
pub async fn published_keys(
    state: &AppState,
    client: &IdentityClient,
) -> Result<Option<(Vec<KeyInfo>, JwksFetch)>, ApiError> {
    let Some(ClientKeys::Url(url)) = &client.keys else {
        return Ok(None);
    };
    let (pk, url) = (client.id.clone(), url.as_str().to_owned());
    let Some((_, jwks, fetched_at, error, error_at)) = state
        .db(move |c| crate::store::assertions::last_fetch(c, &pk))
        .await?
        .filter(|f| f.0 == url)
    else {
        return Ok(Some((
            vec![],
            JwksFetch {
                fetched_at: None,
                error: None,
                error_at: None,
            },
        )));
    };
    let keys = jwks
        .and_then(|j| serde_json::from_str::<Value>(&j).ok())
        .and_then(|v| JwkSet::parse_for(Field::JwksUri, &v).ok())
        .map(|set| set.keys.iter().map(KeyInfo::of).collect())
        .unwrap_or_default();
    let utc = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.and_utc());
    Ok(Some((
        keys,
        JwksFetch {
            fetched_at: utc(fetched_at),
            error,
            error_at: utc(error_at),
        },
    )))
}

/// A client, and the secret the server generated for it in this request (if it did): the only
/// time that secret exists outside the caller's hands.
pub struct WithSecret {
    pub client: IdentityClient,
    pub generated: Option<SecretString>,
}

/// Creates a client, enabled at once. A typed secret is hashed here (bcrypt); a generated one
/// is made here and kept only as its digest. Neither is kept otherwise.
pub async fn create(
    state: &AppState,
    p: &Principal,
    new: NewClient,
) -> Result<WithSecret, ApiError> {
    p.require_identity_client_manager()?;
    p.require_may_grant(&new.roles)?;
    let (hash, generated) = make_secret(state, &new.client_secret).await?;
    let (actor, account) = (p.actor(), p.account_id.clone());
    Ok(state
        .db(move |c| {
            write_tx(c, |c| {
                client_store::check_roles(c, new.roles.names())?;
                let at = now();
                let client =
                    IdentityClient::create(crate::store::new_id(), account.clone(), &new, hash, at);
                client_store::insert(c, &client)?;
                let mut changes: Map<String, Value> = client
                    .audited_fields()
                    .into_iter()
                    .map(|(k, v)| (k, json!({ "from": null, "to": v })))
                    .collect();
                changes.insert("enabled".into(), json!({ "from": null, "to": true }));
                if client.auth_method == AuthMethod::ClientSecret {
                    changes.insert("client_secret".into(), json!("set"));
                }
                if let Some(expires) = client.secret.current.expires_at {
                    changes.insert(
                        SECRET_EXPIRES_FIELD.into(),
                        json!({ "from": null, "to": expires }),
                    );
                }
                audit::record(
                    c,
                    &actor,
                    &account,
                    &client.id,
                    "created",
                    Value::Object(changes),
                    at.naive_utc(),
                )?;
                Ok(client)
            })
        })
        .await
        .map(|client| WithSecret { client, generated })?)
}

/// An edit (merge patch). A secret replaced by an edit stops working at once; see
/// [`rotate_secret`] for an overlap. `expected_version` (If-Match) must still be current.
pub async fn update(
    state: &AppState,
    p: &Principal,
    id: String,
    patch: ClientPatch,
    expected_version: Option<i32>,
) -> Result<IdentityClient, ApiError> {
    p.require_identity_client_manager()?;
    if let Some(roles) = &patch.roles {
        p.require_may_grant(roles)?;
    }
    let hash = match &patch.client_secret {
        Some(s) => Some(hash_secret(state, s.expose()).await?),
        None => None,
    };
    // Who holds the secret or keys, the client ID, the switch, the roles, the allow-list, the
    // quota or the token lifetime holds the client: automation may touch them only for clients within
    // its own roles (cutting a client's roles down to its own first would otherwise open the
    // rest; an allow-list or a quota can lock a client out, or lift what holds it in; a longer
    // lifetime lengthens a leak).
    let guarded = patch.client_secret.is_some()
        || patch.client_id.is_some()
        || patch.enabled.is_some()
        || patch.roles.is_some()
        || patch.allowed_addresses.is_some()
        || patch.token_quota_per_hour.is_some()
        || patch.token_quota_per_day.is_some()
        || patch.token_quota_mode.is_some()
        || patch.auth_method.is_some()
        || patch.keys.is_some()
        || patch.token_duration.is_some();
    edit(
        state,
        p,
        id,
        expected_version,
        guarded,
        move |client, at| {
            let was = client.auth_method;
            client.apply(&patch);
            client
                .check_credentials(was, &patch)
                .map_err(StoreError::Invalid)?;
            if let Some(hash) = hash {
                let secret = StoredSecret::new(hash, patch.secret_expires_at, at);
                client.secret.replace(secret, None, at);
            }
            Ok(())
        },
    )
    .await
}

/// A new secret, the one it replaces working on for the grace period (at most 7 days; at
/// most one previous secret).
pub async fn rotate_secret(
    state: &AppState,
    p: &Principal,
    id: String,
    rotation: SecretRotation,
    expected_version: Option<i32>,
) -> Result<WithSecret, ApiError> {
    p.require_identity_client_manager()?;
    let (hash, generated) = make_secret(state, &rotation.client_secret).await?;
    let grace = chrono::Duration::minutes(rotation.previous_secret_grace_minutes);
    let expires = rotation.secret_expires_at;
    let client = edit(state, p, id, expected_version, true, move |client, at| {
        refuse_keyless(client)?;
        let secret = StoredSecret::new(hash, expires, at);
        client.secret.replace(secret, Some(grace), at);
        Ok(())
    })
    .await?;
    Ok(WithSecret { client, generated })
}

/// Ends the previous secret now, before its grace period runs out (once nothing uses it:
/// its last use is on the client). Nothing to end changes nothing.
pub async fn end_previous_secret(
    state: &AppState,
    p: &Principal,
    id: String,
    expected_version: Option<i32>,
) -> Result<IdentityClient, ApiError> {
    p.require_identity_client_manager()?;
    edit(state, p, id, expected_version, true, |client, at| {
        refuse_keyless(client)?;
        client.secret.end_previous(at);
        Ok(())
    })
    .await
}

/// A keyless (`private_key_jwt`) client has no secret to change or end.
fn refuse_keyless(client: &IdentityClient) -> Result<(), StoreError> {
    if client.auth_method == AuthMethod::PrivateKeyJwt {
        return Err(StoreError::Invalid(FieldErrors(vec![FieldError::new(
            Field::ClientSecret,
            "This client authenticates with private_key_jwt and has no secret; change its keys instead",
        )])));
    }
    Ok(())
}

/// The stored verifier of a new secret, and the secret itself when the server generated it
/// (256 bits from the OS's CSPRNG, in the form secret scanners recognise).
async fn make_secret(
    state: &AppState,
    secret: &NewSecret,
) -> Result<(SecretHash, Option<SecretString>), ApiError> {
    match secret {
        NewSecret::Typed(typed) => Ok((hash_secret(state, typed.expose()).await?, None)),
        NewSecret::Generate => {
            let mut random = [0u8; generated_secret::RANDOM_BYTES];
            openssl::rand::rand_bytes(&mut random).map_err(ApiError::internal)?;
            let secret = generated_secret::from_random(&random);
            let verifier = SecretHash::new(secrets::generated_verifier(&secret));
            Ok((verifier, Some(SecretString::from(secret))))
        }
        // Nothing verifies against this: no secret has this form (see `tokens::authenticate`,
        // which does not even try for a keyless client).
        NewSecret::Keyless => Ok((SecretHash::new(KEYLESS.into()), None)),
    }
}

/// Ends every token the client holds, at once and for good (on every instance: introspection
/// and bearer use read the client's token generation).
pub async fn revoke_tokens(
    state: &AppState,
    p: &Principal,
    id: String,
    expected_version: Option<i32>,
) -> Result<IdentityClient, ApiError> {
    p.require_identity_client_manager()?;
    edit(state, p, id, expected_version, true, |client, _| {
        client.revoke_tokens();
        Ok(())
    })
    .await
}

/// Deletes a client: no new tokens, and its tokens are inactive at introspection at once.
pub async fn delete(
    state: &AppState,
    p: &Principal,
    id: String,
    expected_version: Option<i32>,
) -> Result<(), ApiError> {
    p.require_identity_client_manager()?;
    let (actor, account) = (p.actor(), p.account_id.clone());
    let held = p.automation_roles().map(<[String]>::to_vec);
    Ok(state
        .db(move |c| {
            write_tx(c, |c| {
                let old = writable(c, &account, &id, expected_version, held.as_deref())?;
                client_store::remove(c, &old.id)?;
                let changes: Map<String, Value> = old
                    .audited_fields()
                    .into_iter()
                    .map(|(k, v)| (k, json!({ "from": v, "to": null })))
                    .collect();
                audit::record(
                    c,
                    &actor,
                    &account,
                    &old.id,
                    "deleted",
                    Value::Object(changes),
                    now().naive_utc(),
                )
            })
        })
        .await?)
}

/// The client's audit trail, newest first. Read through its client: another account's, or a
/// deleted one, is "not found".
pub async fn events(
    state: &AppState,
    p: &Principal,
    id: String,
    query: &EventListQuery,
) -> Result<Page<AuditEvent>, ApiError> {
    p.require_identity_client_manager()?;
    let limit = vitesse_domain::listing::page_limit(query.limit)
        .map_err(|e| ApiError::Validation(FieldErrors(vec![e])))?;
    let before = match query.cursor.as_deref().map(decode_cursor).transpose()? {
        Some((at, id)) => Some((crate::store::parse_cursor_time(&at)?, id)),
        None => None,
    };
    let account = p.account_id.clone();
    let rows = state
        .db(move |c| {
            client_store::get(c, &account, &id)?;
            audit::list(c, &account, &id, before, limit + 1)
        })
        .await?;
    let page = paginate(rows, limit, |r| {
        encode_cursor(&crate::store::cursor_time(r.occurred_at), &r.id)
    });
    Ok(Page {
        items: page.items.iter().map(audit::EventRow::to_wire).collect(),
        next_cursor: page.next_cursor,
    })
}

/// The client a write starts from, read inside its transaction: still the version the caller
/// read (If-Match), and within an automation caller's roles (`held`) where that matters.
fn writable(
    c: &mut crate::store::AnyConnection,
    account: &str,
    id: &str,
    expected_version: Option<i32>,
    held: Option<&[String]>,
) -> Result<IdentityClient, StoreError> {
    let current = client_store::get(c, account, id)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(StoreError::Stale);
    }
    check_within_roles(&current, held)?;
    Ok(current)
}

/// Automation (`held` is its roles) may take over or switch off only clients within its roles.
fn check_within_roles(client: &IdentityClient, held: Option<&[String]>) -> Result<(), StoreError> {
    match held {
        Some(held) if !client.within_roles(held) => Err(StoreError::Refused(
            "A client may change the secret, client ID, roles, status or tokens of — or delete — only clients whose every role it holds itself.",
        )),
        _ => Ok(()),
    }
}

async fn hash_secret(state: &AppState, secret: &str) -> Result<SecretHash, ApiError> {
    state
        .hasher
        .hash(secret)
        .await
        .map(SecretHash::new)
        .map_err(ApiError::internal)
}

/// Reads the client, applies `change`, and when anything changed stores the next version with
/// its audit events, all in one transaction.
/// `guarded`: the change touches what holds the client (its secret, client ID, roles, status or
/// tokens), which automation may change only within its own roles — checked against the row
/// read inside the transaction, so a concurrent role change cannot slip past it.
async fn edit(
    state: &AppState,
    p: &Principal,
    id: String,
    expected_version: Option<i32>,
    guarded: bool,
    change: impl FnOnce(&mut IdentityClient, chrono::DateTime<chrono::Utc>) -> Result<(), StoreError>
    + Send
    + 'static,
) -> Result<IdentityClient, ApiError> {
    let (actor, account) = (p.actor(), p.account_id.clone());
    let held = p
        .automation_roles()
        .filter(|_| guarded)
        .map(<[String]>::to_vec);
    Ok(state
        .db(move |c| {
            write_tx(c, |c| {
                let old = writable(c, &account, &id, expected_version, held.as_deref())?;
                let at = now();
                let mut new = old.clone();
                change(&mut new, at)?;
                // Roles the client already holds may stay even if since retired.
                let added: Vec<String> = new
                    .roles
                    .names()
                    .into_iter()
                    .filter(|r| !old.roles.contains(r))
                    .collect();
                client_store::check_roles(c, added)?;
                let changes = new.changes_since(&old);
                if changes.is_empty() {
                    return Ok(old);
                }
                new.version = old.version + 1;
                new.updated_at = at;
                let touched = client_store::Touched {
                    roles: new.roles != old.roles,
                    secrets: changes.secret_changed || changes.previous_secret_ended,
                };
                client_store::save(c, &new, old.version, touched)?;
                record_changes(c, &actor, &new, &changes, at)?;
                Ok(new)
            })
        })
        .await?)
}

/// One audit event per kind of change: field edits, enable/disable, the secret.
fn record_changes(
    c: &mut crate::store::AnyConnection,
    actor: &Actor,
    client: &IdentityClient,
    changes: &ClientChanges,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let (account, pk, when) = (&client.account_id, &client.id, at.naive_utc());
    if !changes.edited.is_empty() {
        let edited = Value::Object(changes.edited.clone());
        audit::record(c, actor, account, pk, "updated", edited, when)?;
    }
    if let Some(enabled) = changes.enabled {
        let action = if enabled { "enabled" } else { "disabled" };
        let change = json!({ "enabled": { "from": !enabled, "to": enabled } });
        audit::record(c, actor, account, pk, action, change, when)?;
    }
    if changes.tokens_revoked {
        let change = json!({ "tokens": "revoked" });
        audit::record(c, actor, account, pk, "tokens_revoked", change, when)?;
    }
    if changes.secret_changed {
        let mut change = json!({ "client_secret": "changed" });
        if let Some(expires) = client.secret.current.expires_at {
            change[SECRET_EXPIRES_FIELD] = json!(expires);
        }
        if let Some(until) = client.secret.previous_valid_until(at) {
            change["previous_secret_valid_until"] = json!(until);
        }
        audit::record(c, actor, account, pk, "secret_changed", change, when)?;
    }
    if changes.previous_secret_ended {
        let change = json!({ "previous_secret": "ended" });
        audit::record(c, actor, account, pk, "previous_secret_ended", change, when)?;
    }
    Ok(())
}
