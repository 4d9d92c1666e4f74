//! Usage: counting a token request (memory only), writing what was counted (every few seconds
//! and when the server stops), and reading it back as a client's buckets, the account's busiest
//! clients, or a list page's last 24 hours. Reads add what this instance has not written yet.

use super::now;
use super::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::clients as client_store;
use crate::store::{StoreError, usage as usage_store, write_tx};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use std::collections::HashMap;
use vitesse_domain::usage::{
    AccountUsage, ClientUsage, RefusalReason, USAGE_RETENTION_DAYS, UsageBucket, UsageCounts,
    UsageKind, UsageQuery, UsageReport,
};
use vitesse_domain::wire::ClientActivity;

/// Counts one request of a known client. No I/O: the token path stays write-free.
pub fn count(state: &AppState, client_pk: &str, kind: UsageKind) {
    state.usage.count(client_pk, kind, now());
}

/// Counts a refusal of a known client.
pub fn refused(state: &AppState, client_pk: &str, reason: RefusalReason) {
    count(state, client_pk, UsageKind::Refused(reason));
}

/// Adds what this instance has counted to the database, in one transaction. On failure the
/// counts go back into memory for the next try: nothing counted is lost while the server runs.
pub async fn flush(state: &AppState) -> Result<(), StoreError> {
    let _writing = state.usage.writing.lock().await;
    let rows = state.usage.take();
    if rows.is_empty() {
        return Ok(());
    }
    let kept = rows.clone();
    let written = state
        .db(move |c| write_tx(c, |c| usage_store::add(c, &rows)))
        .await;
    if written.is_err() {
        state.usage.put_back(kept);
    }
    written
}

/// Forgets usage older than the 90 days it is kept.
pub async fn prune(state: &AppState) -> Result<(), StoreError> {
    let before = (now() - Duration::days(USAGE_RETENTION_DAYS)).naive_utc();
    state.db(move |c| usage_store::prune(c, before)).await
}

/// Hourly counts, written and pending, summed into the query's buckets.
fn into_buckets(
    q: &UsageQuery,
    hours: impl IntoIterator<Item = (NaiveDateTime, UsageCounts)>,
) -> (Vec<UsageBucket>, UsageCounts) {
    let starts = q.bucket_starts();
    let mut sums = vec![UsageCounts::default(); starts.len()];
    let mut total = UsageCounts::default();
    let (first, end) = (q.first_hour(), q.to);
    for (hour, counts) in hours {
        let hour = hour.and_utc();
        if hour < first || hour > end {
            continue;
        }
        let bucket = q.granularity.floor(hour);
        if let Ok(i) = starts.binary_search(&bucket) {
            sums[i].merge(&counts);
            total.merge(&counts);
        }
    }
    let buckets = starts
        .into_iter()
        .zip(sums)
        .map(|(start, c)| UsageBucket {
            start,
            totals: c.to_wire(),
        })
        .collect();
    (buckets, total)
}

/// One client's usage, bucket by bucket.
pub async fn client_report(
    state: &AppState,
    p: &Principal,
    id: String,
    q: UsageQuery,
) -> Result<UsageReport, ApiError> {
    p.require_identity_client_manager()?;
    let account = p.account_id.clone();
    let (from, to) = span(&q);
    let pk = id.clone();
    let stored = state
        .db(move |c| {
            // Another account's client is "not found", as everywhere.
            client_store::get(c, &account, &pk)?;
            usage_store::hours(c, &pk, from, to)
        })
        .await?;
    let pending = state.usage.pending(&id);
    let (buckets, total) = into_buckets(&q, stored.into_iter().chain(pending));
    Ok(UsageReport {
        granularity: q.granularity.as_str().into(),
        from: q.from,
        to: q.to,
        buckets,
        totals: total.to_wire(),
    })
}

/// The stored hours a query reads: from the hour holding `from` up to the one holding `to`.
fn span(q: &UsageQuery) -> (NaiveDateTime, NaiveDateTime) {
    (
        q.first_hour().naive_utc(),
        (q.to + Duration::hours(1)).naive_utc(),
    )
}

/// The account's busiest clients over the query's span: most requests (issued and refused)
/// first, at most `limit`.
pub async fn account_overview(
    state: &AppState,
    p: &Principal,
    q: UsageQuery,
    limit: usize,
) -> Result<AccountUsage, ApiError> {
    p.require_identity_client_manager()?;
    let account = p.account_id.clone();
    let (from, to) = span(&q);
    let mut per_client: HashMap<String, UsageCounts> = state
        .db(move |c| usage_store::by_client(c, &account, from, to))
        .await?
        .into_iter()
        .collect();
    for (pk, hour, counts) in state.usage.pending_all() {
        if hour >= from && hour < to {
            per_client.entry(pk).or_default().merge(&counts);
        }
    }
    let account = p.account_id.clone();
    let ids: Vec<String> = per_client.keys().cloned().collect();
    // Only the account's own clients count (pending counts are any account's).
    let named: HashMap<String, (String, Option<String>)> = state
        .db(move |c| client_store::names(c, &account, &ids))
        .await?
        .into_iter()
        .map(|(id, client_id, name)| (id, (client_id, name)))
        .collect();
    let mut total = UsageCounts::default();
    let mut clients: Vec<(u64, ClientUsage)> = per_client
        .into_iter()
        .filter_map(|(id, counts)| {
            let (client_id, name) = named.get(&id)?.clone();
            total.merge(&counts);
            let busy = counts.get(UsageKind::Issued) + counts.refused_total();
            Some((
                busy,
                ClientUsage {
                    id,
                    client_id,
                    name,
                    totals: counts.to_wire(),
                },
            ))
        })
        .collect();
    clients.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.client_id.cmp(&y.client_id)));
    Ok(AccountUsage {
        from: q.from,
        to: q.to,
        clients: clients.into_iter().take(limit).map(|(_, c)| c).collect(),
        totals: total.to_wire(),
    })
}

/// The last 24 hours of each client of a list page, in its order.
pub async fn activity(
    state: &AppState,
    ids: Vec<String>,
) -> Result<Vec<ClientActivity>, StoreError> {
    let since: DateTime<Utc> = now() - Duration::hours(24);
    let from = since.naive_utc();
    let asked = ids.clone();
    let mut per_client: HashMap<String, UsageCounts> = state
        .db(move |c| usage_store::for_clients(c, &asked, from))
        .await?
        .into_iter()
        .collect();
    for id in &ids {
        for (hour, counts) in state.usage.pending(id) {
            if hour >= from {
                per_client.entry(id.clone()).or_default().merge(&counts);
            }
        }
    }
    Ok(ids
        .into_iter()
        .map(|id| {
            let c = per_client.get(&id).copied().unwrap_or_default();
            ClientActivity {
                issued: c.get(UsageKind::Issued),
                refused: c.refused_total(),
                id,
            }
        })
        .collect())
}
