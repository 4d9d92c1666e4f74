//! Identity clients: one row each, their roles both normalised (for integrity) and inline (so a
//! token request reads one row).

use super::accounts::Account;
use super::schema::{accounts, api_roles, identity_client_roles, identity_clients};
use super::stamp::{OptStamp, Stamp};
use super::{AnyConnection, StoreError, is_unique_violation};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use vitesse_domain::{
    AddressList, AuthMethod, ClientId, ClientKeys, ClientListing, ClientName, Description, Field,
    FieldError, FieldErrors, IdentityClient, JwkSet, JwksUrl, PreviousSecret, QuotaMode, RoleSet,
    SecretHash, SecretState, SortKey, StoredSecret, TokenDuration, TokenQuota, UsageFilter,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = identity_clients)]
pub struct ClientRow {
    pub id: String,
    pub account_id: String,
    pub client_id: String,
    pub client_id_key: String,
    pub secret_hash: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub token_duration_minutes: i32,
    pub enabled: bool,
    pub roles: String,
    pub version: i32,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    pub name_key: Option<String>,
    #[diesel(deserialize_as = OptStamp)]
    pub last_used_at: Option<NaiveDateTime>,
    pub previous_secret_hash: Option<String>,
    #[diesel(deserialize_as = OptStamp)]
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub token_generation: i32,
    /// The account's identity-client switch, kept in step by `accounts::set_identity_clients_enabled`.
    pub account_enabled: bool,
    /// `None` only on rows from before secrets had dates: read as the client's last change.
    #[diesel(deserialize_as = OptStamp)]
    pub secret_created_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = OptStamp)]
    pub secret_expires_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = OptStamp)]
    pub secret_last_used_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = OptStamp)]
    pub previous_secret_created_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = OptStamp)]
    pub previous_secret_last_used_at: Option<NaiveDateTime>,
    /// CIDR ranges separated by spaces; `None`: any address.
    pub allowed_addresses: Option<String>,
    pub token_quota_per_hour: Option<i32>,
    pub token_quota_per_day: Option<i32>,
    /// `enforce` or `report`.
    pub token_quota_mode: String,
    /// `client_secret` or `private_key_jwt`.
    pub auth_method: String,
    /// `{"jwks": …}` or `{"jwks_uri": …}`; `None` for a secret client.
    pub client_keys: Option<String>,
}

impl ClientRow {
    /// The row as the domain's entity: every field passes its rule again, so nothing the store
    /// hands out is half-valid.
    pub fn into_client(self) -> Result<IdentityClient, StoreError> {
        let bad = |e: FieldError| {
            StoreError::Other(format!("stored client {} is not valid: {e}", self.id))
        };
        let roles: Vec<&str> = self.roles.split(' ').filter(|r| !r.is_empty()).collect();
        let utc = |t: Option<NaiveDateTime>| t.map(|t| t.and_utc());
        let previous = match (&self.previous_secret_hash, self.previous_secret_expires_at) {
            (Some(hash), Some(until)) => Some(PreviousSecret {
                secret: StoredSecret {
                    hash: SecretHash::new(hash.clone()),
                    created_at: self
                        .previous_secret_created_at
                        .unwrap_or(self.created_at)
                        .and_utc(),
                    expires_at: Some(until.and_utc()),
                    last_used_at: utc(self.previous_secret_last_used_at),
                },
                valid_until: until.and_utc(),
            }),
            _ => None,
        };
        let current = StoredSecret {
            hash: SecretHash::new(self.secret_hash),
            created_at: self.secret_created_at.unwrap_or(self.updated_at).and_utc(),
            expires_at: utc(self.secret_expires_at),
            last_used_at: utc(self.secret_last_used_at),
        };
        Ok(IdentityClient {
            client_id: ClientId::parse(&self.client_id).map_err(bad)?,
            name: ClientName::parse_optional(self.name.as_deref()).map_err(bad)?,
            description: Description::parse_optional(self.description.as_deref()).map_err(bad)?,
            token_duration: TokenDuration::parse(i64::from(self.token_duration_minutes))
                .map_err(bad)?,
            roles: RoleSet::parse(&roles).map_err(bad)?,
            enabled: self.enabled,
            allowed_addresses: match &self.allowed_addresses {
                Some(text) => {
                    AddressList::parse(&text.split(' ').collect::<Vec<_>>()).map_err(bad)?
                }
                None => None,
            },
            quota: {
                let limit = |f: Field, v: Option<i32>| {
                    TokenQuota::limit_from_json(f, v.map(serde_json::Value::from).as_ref())
                };
                TokenQuota {
                    per_hour: limit(Field::TokenQuotaPerHour, self.token_quota_per_hour)
                        .map_err(bad)?,
                    per_day: limit(Field::TokenQuotaPerDay, self.token_quota_per_day)
                        .map_err(bad)?,
                    mode: QuotaMode::parse(&self.token_quota_mode).map_err(bad)?,
                }
            },
            auth_method: AuthMethod::parse(&self.auth_method).map_err(bad)?,
            keys: match &self.client_keys {
                None => None,
                Some(text) => {
                    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                        StoreError::Other(format!("stored keys of {}: {e}", self.id))
                    })?;
                    Some(
                        match (v.get("jwks"), v.get("jwks_uri").and_then(|u| u.as_str())) {
                            (Some(set), _) => ClientKeys::Inline(
                                JwkSet::parse_for(Field::Jwks, set).map_err(bad)?,
                            ),
                            (None, Some(url)) => ClientKeys::Url(JwksUrl::parse(url).map_err(bad)?),
                            _ => {
                                return Err(StoreError::Other(format!(
                                    "stored keys of {} are neither jwks nor jwks_uri",
                                    self.id
                                )));
                            }
                        },
                    )
                }
            },
            secret: SecretState { current, previous },
            version: self.version,
            token_generation: self.token_generation,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            last_used_at: self.last_used_at.map(|t| t.and_utc()),
            id: self.id,
            account_id: self.account_id,
        })
    }

    /// The row that stores `c`.
    fn of(c: &IdentityClient) -> Self {
        let (current, previous) = (&c.secret.current, c.secret.previous.as_ref());
        let naive = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.naive_utc());
        ClientRow {
            id: c.id.clone(),
            account_id: c.account_id.clone(),
            client_id: c.client_id.as_str().to_owned(),
            client_id_key: c.client_id.uniqueness_key(),
            secret_hash: current.hash.as_str().to_owned(),
            name: c.name.as_ref().map(|n| n.as_str().to_owned()),
            description: c.description.as_ref().map(|d| d.as_str().to_owned()),
            token_duration_minutes: c.token_duration.minutes() as i32,
            enabled: c.enabled,
            roles: c.roles.names().join(" "),
            version: c.version,
            created_at: c.created_at.naive_utc(),
            updated_at: c.updated_at.naive_utc(),
            name_key: c.name.as_ref().map(|n| n.as_str().to_lowercase()),
            last_used_at: c.last_used_at.map(|t| t.naive_utc()),
            previous_secret_hash: previous.map(|p| p.secret.hash.as_str().to_owned()),
            previous_secret_expires_at: previous.map(|p| p.valid_until.naive_utc()),
            token_generation: c.token_generation,
            // Clients are made only while their account's switch is on; `save` never writes it.
            account_enabled: true,
            secret_created_at: Some(current.created_at.naive_utc()),
            secret_expires_at: naive(current.expires_at),
            secret_last_used_at: naive(current.last_used_at),
            previous_secret_created_at: previous.map(|p| p.secret.created_at.naive_utc()),
            previous_secret_last_used_at: previous.and_then(|p| naive(p.secret.last_used_at)),
            allowed_addresses: c
                .allowed_addresses
                .as_ref()
                .map(|l| l.to_strings().join(" ")),
            token_quota_per_hour: c.quota.per_hour.map(|n| n as i32),
            token_quota_per_day: c.quota.per_day.map(|n| n as i32),
            token_quota_mode: c.quota.mode.as_str().to_owned(),
            auth_method: c.auth_method.as_str().to_owned(),
            client_keys: c.keys.as_ref().map(|k| {
                match k {
                    ClientKeys::Inline(set) => serde_json::json!({ "jwks": set.to_json() }),
                    ClientKeys::Url(u) => serde_json::json!({ "jwks_uri": u.as_str() }),
                }
                .to_string()
            }),
        }
    }
}

fn rows_into_clients(rows: Vec<ClientRow>) -> Result<Vec<IdentityClient>, StoreError> {
    rows.into_iter().map(ClientRow::into_client).collect()
}

fn client_id_taken() -> StoreError {
    // Says nothing about whose client holds it: IDs are unique across all accounts.
    StoreError::Conflict(FieldError::new(
        Field::ClientId,
        "Client ID is already in use; choose another",
    ))
}

/// Every role to be newly assigned must be in the catalogue and not retired.
pub fn check_roles(conn: &mut AnyConnection, names: Vec<String>) -> Result<(), StoreError> {
    if names.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = api_roles::table
        .filter(api_roles::name.eq_any(&names))
        .filter(api_roles::retired.eq(false))
        .select(api_roles::name)
        .load(conn)?;
    let unknown: Vec<String> = names.into_iter().filter(|n| !known.contains(n)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(StoreError::Invalid(FieldErrors(vec![FieldError::new(
        Field::Roles,
        format!(
            "Roles must come from the API-role catalogue; unknown: {}",
            unknown.join(", ")
        ),
    )])))
}

fn write_role_links(
    conn: &mut AnyConnection,
    client_pk: &str,
    roles: &RoleSet,
) -> Result<(), StoreError> {
    diesel::delete(
        identity_client_roles::table.filter(identity_client_roles::client_pk.eq(client_pk)),
    )
    .execute(conn)?;
    for role in roles.iter() {
        diesel::insert_into(identity_client_roles::table)
            .values((
                identity_client_roles::client_pk.eq(client_pk),
                identity_client_roles::role_name.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Stores a new client and its role links. A client ID already taken (in any case, in any
/// account) is a conflict that names the field and nothing else.
pub fn insert(conn: &mut AnyConnection, client: &IdentityClient) -> Result<(), StoreError> {
    diesel::insert_into(identity_clients::table)
        .values(&ClientRow::of(client))
        .execute(conn)
        .map_err(unique_client_id)?;
    write_role_links(conn, &client.id, &client.roles)
}

fn unique_client_id(e: diesel::result::Error) -> StoreError {
    if is_unique_violation(&e) {
        client_id_taken()
    } else {
        e.into()
    }
}

/// `%text%` for LIKE, with LIKE's own characters escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The value a client sorts by, as carried in a cursor.
pub fn sort_value(client: &IdentityClient, key: SortKey) -> String {
    match key {
        SortKey::ClientId => client.client_id.uniqueness_key(),
        SortKey::CreatedAt => super::cursor_time(client.created_at.naive_utc()),
        SortKey::UpdatedAt => super::cursor_time(client.updated_at.naive_utc()),
    }
}

/// At most this many expiring secrets are listed by id (see `list`).
const RARE_EXPIRING: i64 = 1000;

/// On PostgreSQL, a search first reads at most this many rows of the list's order (about 2 ms);
/// a page not filled by then is made from the trigram index's matches instead (see `list`).
const SEARCH_WALK: i64 = 5000;

/// The list's query while it is being built.
type Rows<'a> = identity_clients::BoxedQuery<'a, super::MultiBackend>;

/// One page of `listing` as of `now`: at most `limit` clients after `after` (`(sort value, id)`
/// of the last client of the previous page).
pub fn list<'a>(
    conn: &mut AnyConnection,
    account_id: &'a str,
    listing: &'a ClientListing,
    after: Option<(String, String)>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<IdentityClient>, StoreError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
    use identity_clients::dsl as c;
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    let search = listing.search.as_deref().filter(|t| !t.is_empty());
    // A rare text: SQLite finds its few rows through the trigram table, instead of reading
    // the account to the end. A common one fills a page within the first rows of the order.
    // The LIKE decides either way.
    let rare_rows = match search {
        Some(text) => super::search::sqlite_rare_text_rows(conn, account_id, text)?,
        None => None,
    };
    let window = chrono::Duration::days(vitesse_domain::listing::USAGE_WINDOW_DAYS);
    // Secrets with an expiry are few: on SQLite read them through their own index first and
    // order those (else, with other filters beside it, its planner walks the order's index
    // through the whole account looking for a page of them). Their rowids come from that index
    // alone, and SQLite drives a query by a rowid list (a list of ids it weighed against the
    // order's indexes, and with a cursor chose the client-ID index: 18 ms). PostgreSQL's planner
    // finds its way by itself, and a long list only slows it.
    let expiring = match listing.usage {
        Some(UsageFilter::SecretExpiresSoon) if !postgres => {
            let expiring: Vec<i64> = identity_clients::table
                .filter(c::account_id.eq(account_id))
                .filter(c::secret_expires_at.le(now + window))
                .select(sql::<BigInt>("identity_clients.rowid"))
                .limit(RARE_EXPIRING + 1)
                .load(conn)?;
            (expiring.len() as i64 <= RARE_EXPIRING).then_some(expiring)
        }
        _ => None,
    };
    // Rows named by their SQLite rowids (found through another index).
    let rowid_in = |rows: &[i64]| {
        let rows: Vec<String> = rows.iter().map(i64::to_string).collect();
        sql::<Bool>(&format!(
            "identity_clients.rowid IN ({})",
            if rows.is_empty() {
                "NULL".into()
            } else {
                rows.join(",")
            }
        ))
    };
    // The account's rows that pass the listing's filters, in no order yet (boxed queries
    // cannot be cloned, and a search on PostgreSQL may ask twice).
    let filtered = || {
        let mut query = identity_clients::table
            .filter(c::account_id.eq(account_id))
            .into_boxed();
        if let Some(enabled) = listing.enabled {
            query = query.filter(c::enabled.eq(enabled));
        }
        if let Some(text) = search {
            if let Some(rows) = &rare_rows {
                query = query.filter(rowid_in(rows));
            }
            let pattern = contains_pattern(text);
            query = query.filter(
                c::client_id_key
                    .like(pattern.clone())
                    .escape('\\')
                    .or(c::name_key.like(pattern).escape('\\').assume_not_null()),
            );
        }
        match listing.usage {
            None => {}
            Some(UsageFilter::NeverUsed) => query = query.filter(c::last_used_at.is_null()),
            Some(UsageFilter::NotUsedRecently) => {
                let cutoff = now - window;
                query = query.filter(
                    c::last_used_at
                        .lt(cutoff)
                        .or(c::last_used_at.is_null().and(c::created_at.lt(cutoff)))
                        .assume_not_null(),
                );
            }
            Some(UsageFilter::SecretExpiresSoon) => {
                if let Some(expiring) = &expiring {
                    query = query.filter(rowid_in(expiring));
                }
                query = query.filter(c::secret_expires_at.le(now + window));
            }
        }
        // PostgreSQL plans a statement it has prepared five times once for all values: for
        // the list, whose filters' selectivity swings from none to all rows, that generic plan
        // walked the whole account (45 ms where a plan for the values takes 5). A literal makes
        // diesel send the statement unnamed, which PostgreSQL plans for the values given each
        // time.
        if postgres {
            query = query.filter(sql::<Bool>("TRUE"));
        }
        query
    };
    // PostgreSQL's planner assumes a search's matches are spread evenly through the order, so
    // it always walks the order's index until a page is full. Where the matches sit together
    // deep in the order (a client-ID prefix, sorted by client ID), that walk reads tens of
    // thousands of rows. So the walk stops after `SEARCH_WALK` rows, and the rest of the page
    // comes from the trigram index's matches beyond that point, sorted (an order by an
    // expression no index has, so no index walk is possible). Texts under 3 characters have no
    // trigram, and walk as before.
    let bounded_walk = postgres && search.is_some_and(|t| t.chars().count() >= 3);
    let descending = listing.descending;
    // Keyset pagination: stable under inserts, with the id as tie-breaker. In each pair of
    // conditions the first alone bounds the index range; the second settles ties.
    macro_rules! page {
        ($col:expr, $value:ty, $unindexed:expr, $after:expr) => {{
            let beyond = |query: Rows<'a>, (v, id): ($value, String)| {
                if descending {
                    query
                        .filter($col.le(v.clone()))
                        .filter($col.lt(v).or(c::id.lt(id)))
                } else {
                    query
                        .filter($col.ge(v.clone()))
                        .filter($col.gt(v).or(c::id.gt(id)))
                }
            };
            let up_to = |query: Rows<'a>, (v, id): ($value, String)| {
                if descending {
                    query
                        .filter($col.ge(v.clone()))
                        .filter($col.gt(v).or(c::id.ge(id)))
                } else {
                    query
                        .filter($col.le(v.clone()))
                        .filter($col.lt(v).or(c::id.le(id)))
                }
            };
            let after: Option<($value, String)> = $after;
            let start = |query| match after.clone() {
                Some(a) => beyond(query, a),
                None => query,
            };
            let ordered = |query: Rows<'a>| {
                if descending {
                    query.order(($col.desc(), c::id.desc()))
                } else {
                    query.order(($col.asc(), c::id.asc()))
                }
            };
            // The row `SEARCH_WALK` rows along the order from where the page starts.
            let walk_end = if bounded_walk {
                let base = identity_clients::table
                    .filter(c::account_id.eq(account_id))
                    .into_boxed();
                ordered(start(base))
                    .select(($col, c::id))
                    .offset(SEARCH_WALK - 1)
                    .limit(1)
                    .load::<($value, String)>(conn)?
                    .pop()
            } else {
                None
            };
            match walk_end {
                None => ordered(start(filtered()))
                    .limit(limit)
                    .select(c::id)
                    .load::<String>(conn)?,
                Some(end) => {
                    let mut ids: Vec<String> = ordered(up_to(start(filtered()), end.clone()))
                        .limit(limit)
                        .select(c::id)
                        .load(conn)?;
                    if (ids.len() as i64) < limit {
                        let rest = beyond(start(filtered()), end);
                        let rest = if descending {
                            rest.order(($unindexed.desc(), c::id.desc()))
                        } else {
                            rest.order(($unindexed.asc(), c::id.asc()))
                        };
                        ids.extend(
                            rest.limit(limit - ids.len() as i64)
                                .select(c::id)
                                .load::<String>(conn)?,
                        );
                    }
                    ids
                }
            }
        }};
    }
    let ids: Vec<String> = match listing.sort {
        SortKey::ClientId => page!(
            c::client_id_key,
            String,
            sql::<Text>("(identity_clients.client_id_key || '')"),
            after.clone()
        ),
        SortKey::CreatedAt => page!(
            c::created_at,
            NaiveDateTime,
            sql::<Timestamp>("(identity_clients.created_at + interval '0 seconds')"),
            after
                .as_ref()
                .map(|a| super::parse_cursor_time(&a.0).map(|t| (t, a.1.clone())))
                .transpose()?
        ),
        SortKey::UpdatedAt => page!(
            c::updated_at,
            NaiveDateTime,
            sql::<Timestamp>("(identity_clients.updated_at + interval '0 seconds')"),
            after
                .as_ref()
                .map(|a| super::parse_cursor_time(&a.0).map(|t| (t, a.1.clone())))
                .transpose()?
        ),
    };
    // Then the page's rows, by the ids (found from the order's index alone where it covers
    // the search).
    let mut rows: Vec<ClientRow> = identity_clients::table
        .filter(c::id.eq_any(&ids))
        .select(ClientRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    rows_into_clients(rows)
}

/// A client of this account; another account's client is "not found", never "forbidden".
pub fn get(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
) -> Result<IdentityClient, StoreError> {
    identity_clients::table
        .filter(identity_clients::id.eq(id))
        .filter(identity_clients::account_id.eq(account_id))
        .select(ClientRow::as_select())
        .load(conn)?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?
        .into_client()
}

/// The token path's one read: the client's current row by its exact client ID, and whether its
/// account has identity clients switched on (copied onto the row, so this stays one table). Runs on the backend's own connection type, whose
/// statement cache is keyed by the query's type (through `AnyConnection` diesel rebuilds the
/// SQL text on every call just to look the statement up).
pub fn find_by_client_id(
    conn: &mut AnyConnection,
    client_id: &str,
) -> Result<Option<(IdentityClient, bool)>, StoreError> {
    macro_rules! query {
        () => {
            identity_clients::table
                .filter(identity_clients::client_id.eq(client_id))
                .select(ClientRow::as_select())
        };
    }
    let rows: Vec<ClientRow> = match conn {
        AnyConnection::Sqlite(c) => query!().load(c)?,
        AnyConnection::Postgresql(c) => query!().load(c)?,
    };
    rows.into_iter()
        .next()
        .map(|row| {
            let feature_on = row.account_enabled;
            Ok((row.into_client()?, feature_on))
        })
        .transpose()
}

/// A row of [`find_by_client_ids`]: the client and its account's switch, or why the stored
/// row is not a valid client.
pub type Decoded = Result<(IdentityClient, bool), StoreError>;

/// [`find_by_client_id`] for several client IDs in one query (PostgreSQL's `= ANY($1)` keeps it
/// one prepared statement whatever their number): each row found by its client ID, decoded on
/// its own.
pub fn find_by_client_ids(
    conn: &mut AnyConnection,
    client_ids: &[String],
) -> Result<Vec<(String, Decoded)>, StoreError> {
    macro_rules! query {
        () => {
            identity_clients::table
                .filter(identity_clients::client_id.eq_any(client_ids))
                .select(ClientRow::as_select())
        };
    }
    let rows: Vec<ClientRow> = match conn {
        AnyConnection::Sqlite(c) => query!().load(c)?,
        AnyConnection::Postgresql(c) => query!().load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let feature_on = row.account_enabled;
            (
                row.client_id.clone(),
                row.into_client().map(|client| (client, feature_on)),
            )
        })
        .collect())
}

/// A token's client by its internal id, with its account.
pub fn find_with_account(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(IdentityClient, Account)>, StoreError> {
    let rows: Vec<(ClientRow, Account)> = identity_clients::table
        .inner_join(accounts::table)
        .filter(identity_clients::id.eq(id))
        .select((ClientRow::as_select(), Account::as_select()))
        .load(conn)?;
    rows.into_iter()
        .next()
        .map(|(row, account)| Ok((row.into_client()?, account)))
        .transpose()
}

/// What an edit changed beyond the row's ordinary columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct Touched {
    /// The role links are rewritten.
    pub roles: bool,
    /// The secrets were replaced or ended: their last-use times are written too (otherwise
    /// they are left to `touch_last_used`, so an edit never undoes a use recorded meanwhile).
    pub secrets: bool,
}

/// Writes `client` over the stored row of version `old_version`. Someone else's write in
/// between makes it `Stale`, and nothing changes.
pub fn save(
    conn: &mut AnyConnection,
    client: &IdentityClient,
    old_version: i32,
    touched: Touched,
) -> Result<(), StoreError> {
    let row = ClientRow::of(client);
    let n = diesel::update(
        identity_clients::table
            .filter(identity_clients::id.eq(&row.id))
            .filter(identity_clients::version.eq(old_version)),
    )
    .set((
        identity_clients::client_id.eq(&row.client_id),
        identity_clients::client_id_key.eq(&row.client_id_key),
        identity_clients::secret_hash.eq(&row.secret_hash),
        identity_clients::previous_secret_hash.eq(&row.previous_secret_hash),
        identity_clients::previous_secret_expires_at.eq(row.previous_secret_expires_at),
        identity_clients::secret_created_at.eq(row.secret_created_at),
        identity_clients::secret_expires_at.eq(row.secret_expires_at),
        identity_clients::previous_secret_created_at.eq(row.previous_secret_created_at),
        identity_clients::name.eq(&row.name),
        identity_clients::name_key.eq(&row.name_key),
        identity_clients::description.eq(&row.description),
        identity_clients::token_duration_minutes.eq(row.token_duration_minutes),
        identity_clients::enabled.eq(row.enabled),
        identity_clients::roles.eq(&row.roles),
        identity_clients::allowed_addresses.eq(&row.allowed_addresses),
        identity_clients::token_quota_per_hour.eq(row.token_quota_per_hour),
        identity_clients::token_quota_per_day.eq(row.token_quota_per_day),
        identity_clients::token_quota_mode.eq(&row.token_quota_mode),
        identity_clients::auth_method.eq(&row.auth_method),
        identity_clients::client_keys.eq(&row.client_keys),
        identity_clients::version.eq(row.version),
        identity_clients::token_generation.eq(row.token_generation),
        identity_clients::updated_at.eq(row.updated_at),
    ))
    .execute(conn)
    .map_err(unique_client_id)?;
    if n == 0 {
        return Err(StoreError::Stale);
    }
    if touched.secrets {
        diesel::update(identity_clients::table.filter(identity_clients::id.eq(&row.id)))
            .set((
                identity_clients::secret_last_used_at.eq(row.secret_last_used_at),
                identity_clients::previous_secret_last_used_at.eq(row.previous_secret_last_used_at),
            ))
            .execute(conn)?;
    }
    if touched.roles {
        write_role_links(conn, &client.id, &client.roles)?;
    }
    Ok(())
}

/// Deletes a client; its role links go with it (the audit trail keeps the record).
pub fn remove(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(identity_clients::table.filter(identity_clients::id.eq(id))).execute(conn)?;
    Ok(())
}

/// Records a token issued with the secret stored as `hash`: the client's and that secret's last
/// use, at most once a minute per secret (the client's own last use is never older than its
/// secrets'). The secret is found by its hash wherever it is now — a use noted just before the
/// secret was changed is written after, to the previous secret — and never lands on a secret
/// that replaced it; the time condition makes racing instances harmless.
pub fn touch_last_used(
    conn: &mut AnyConnection,
    id: &str,
    hash: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    use identity_clients::dsl as c;
    let a_minute_ago = at - chrono::Duration::minutes(1);
    let this_client = identity_clients::table.filter(c::id.eq(id));
    diesel::update(
        this_client.filter(c::secret_hash.eq(hash)).filter(
            c::secret_last_used_at
                .is_null()
                .or(c::secret_last_used_at.lt(a_minute_ago)),
        ),
    )
    .set(c::secret_last_used_at.eq(at))
    .execute(conn)?;
    diesel::update(
        this_client.filter(c::previous_secret_hash.eq(hash)).filter(
            c::previous_secret_last_used_at
                .is_null()
                .or(c::previous_secret_last_used_at.lt(a_minute_ago))
                // Its first use since it was replaced (see `SecretState::use_is_stale`).
                .or(c::previous_secret_last_used_at
                    .lt(c::secret_created_at)
                    .assume_not_null()),
        ),
    )
    .set(c::previous_secret_last_used_at.eq(at))
    .execute(conn)?;
    // The client's own, even when the secret is gone by now (ended within the second).
    diesel::update(
        this_client.filter(
            c::last_used_at
                .is_null()
                .or(c::last_used_at.lt(at))
                .assume_not_null(),
        ),
    )
    .set(c::last_used_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// The client ID and name of each of `ids` that is a client of `account_id`.
pub fn names(
    conn: &mut AnyConnection,
    account_id: &str,
    ids: &[String],
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    use identity_clients::dsl as c;
    let mut found = vec![];
    // Bounded batches keep the statement within every backend's parameter limit.
    for batch in ids.chunks(500) {
        found.extend(
            identity_clients::table
                .filter(c::account_id.eq(account_id))
                .filter(c::id.eq_any(batch))
                .select((c::id, c::client_id, c::name))
                .load::<(String, String, Option<String>)>(conn)?,
        );
    }
    Ok(found)
}
