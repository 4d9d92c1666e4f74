//! Token quotas across instances: each instance takes blocks ("leases") of a client's window
//! from a shared total in the database with one conditional update, and spends them from
//! memory. The total granted never passes the limit, whatever the number of instances; a block
//! is 1 % of the limit, so what instances hold unspent at a window's end (given back when one
//! stops) leaves the tokens issued within a few percent below the limit. A client without a
//! quota never reaches the database here.

use super::now;
use crate::state::AppState;
use crate::store::{StoreError, usage as usage_store};
use vitesse_domain::{IdentityClient, QuotaMode, QuotaWindow};

/// What a token request comes to against the client's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaOutcome {
    Within,
    /// Past a limit in report-only mode: issued, counted as over quota.
    OverReported,
    /// Past a limit: refused until the window ends, in this many seconds.
    Refused {
        retry_after: u64,
    },
}

/// How long a window found used up is taken as such before the database is asked again.
const USED_UP_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// The block an instance takes at a time: 1 % of the limit, at least one token.
fn lease_size(limit: u32) -> u32 {
    (limit / 100).max(1)
}

/// Spends one token of each of the client's windows.
pub async fn spend(state: &AppState, client: &IdentityClient) -> Result<QuotaOutcome, StoreError> {
    if !client.quota.is_set() {
        return Ok(QuotaOutcome::Within);
    }
    let at = now();
    let mut spent: Vec<(QuotaWindow, i64)> = vec![];
    let mut retry_after = None;
    for (window, limit) in client.quota.limits() {
        let start = window.start(at);
        let key = start.timestamp();
        if state.quotas.spend(&client.id, window, key, limit) {
            spent.push((window, key));
            continue;
        }
        let used_up = |retry_after: &mut Option<u64>| {
            let left = window.seconds_left(at);
            *retry_after = Some(retry_after.map_or(left, |r: u64| r.max(left)));
        };
        // A window found used up is not asked about on every request: past a limit a request
        // costs no database work (other instances' returned blocks show within seconds).
        if state.quotas.known_used_up(&client.id, window, key, limit) {
            used_up(&mut retry_after);
            continue;
        }
        // One take at a time for this client and window; whoever waited looks again first.
        let gate = state.quotas.gate(&client.id, window);
        let _turn = gate.lock().await;
        if state.quotas.spend(&client.id, window, key, limit) {
            spent.push((window, key));
            continue;
        }
        // Every token issued here is either still in memory or written: none is on its way.
        let _writing = state.usage.writing.lock().await;
        let unwritten = state.usage.issued_since(&client.id, start);
        let (pk, span) = (
            client.id.clone(),
            (start.naive_utc(), (start + window.length()).naive_utc()),
        );
        let granted = state
            .db(move |c| {
                usage_store::take_lease(c, &pk, window, span, lease_size(limit), limit, unwritten)
            })
            .await?;
        if granted == 0 {
            state
                .quotas
                .note_used_up(&client.id, window, key, limit, USED_UP_RECHECK);
            used_up(&mut retry_after);
            continue;
        }
        state
            .quotas
            .add(&client.id, window, key, limit, granted, true);
        spent.push((window, key));
    }
    Ok(match (retry_after, client.quota.mode) {
        (None, _) => QuotaOutcome::Within,
        (Some(_), QuotaMode::Report) => QuotaOutcome::OverReported,
        (Some(retry_after), QuotaMode::Enforce) => {
            // Refused: the other windows get their token back.
            for (window, key) in spent {
                state.quotas.refund(&client.id, window, key);
            }
            QuotaOutcome::Refused { retry_after }
        }
    })
}

/// Gives back every unspent block (when the server stops), so other instances can use them.
pub async fn release(state: &AppState) -> Result<(), StoreError> {
    let unspent = state.quotas.drain();
    if unspent.is_empty() {
        return Ok(());
    }
    state
        .db(move |c| {
            for (pk, window, start, left) in &unspent {
                usage_store::return_lease(c, pk, *window, *start, *left)?;
            }
            Ok(())
        })
        .await
}
