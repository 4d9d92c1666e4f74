//! Usage per client per hour, and the quota leases the instances take between them. Both are
//! additive upserts, so instances on one database add up without reading first. The SQL is
//! written once with `$n` parameters (PostgreSQL's), which SQLite reads as `?n`.

use super::{AnyConnection, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use vitesse_domain::usage::{RefusalReason, UsageCounts, UsageKind};
use vitesse_domain::{QuotaWindow, usage::UsageKind::Refused};

/// The kinds in the order of the table's count columns.
const KINDS: [UsageKind; UsageKind::COUNT] = [
    UsageKind::Issued,
    UsageKind::OverQuota,
    Refused(RefusalReason::WrongSecret),
    Refused(RefusalReason::Disabled),
    Refused(RefusalReason::Scope),
    Refused(RefusalReason::Quota),
    Refused(RefusalReason::Address),
];
const COLUMNS: [&str; UsageKind::COUNT] = [
    "issued",
    "over_quota",
    "refused_wrong_secret",
    "refused_disabled",
    "refused_scope",
    "refused_quota",
    "refused_address",
];

/// Runs `$sql` (with `$n` parameters) as a `diesel::sql_query` on either backend; `$q` names
/// the query inside `$run`, which binds and executes it.
macro_rules! on_backend {
    ($conn:expr, $sql:expr, |$q:ident| $run:expr) => {
        match $conn {
            AnyConnection::Sqlite(c) => {
                let $q = diesel::sql_query($sql.replace('$', "?"));
                $run(c)
            }
            AnyConnection::Postgresql(c) => {
                let $q = diesel::sql_query($sql);
                $run(c)
            }
        }
    };
}

/// Adds counts to each `(client, hour)`: one upsert per row, all in the caller's transaction.
/// A client deleted meanwhile takes its counts with it (the insert selects its row).
pub fn add(
    conn: &mut AnyConnection,
    rows: &[(String, NaiveDateTime, UsageCounts)],
) -> Result<(), StoreError> {
    let cols = COLUMNS.join(", ");
    let values: Vec<String> = (0..COLUMNS.len()).map(|i| format!("${}", i + 3)).collect();
    let sums: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("{c} = client_usage.{c} + excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO client_usage (client_pk, account_id, hour_start, {cols}) \
         SELECT id, account_id, $2, {} FROM identity_clients WHERE id = $1 \
         ON CONFLICT (client_pk, hour_start) DO UPDATE SET {}",
        values.join(", "),
        sums.join(", ")
    );
    for (client_pk, hour, counts) in rows {
        let n = |k: UsageKind| counts.get(k) as i64;
        on_backend!(conn, sql.as_str(), |q| |c| q
            .bind::<Text, _>(client_pk)
            .bind::<Timestamp, _>(hour)
            .bind::<BigInt, _>(n(KINDS[0]))
            .bind::<BigInt, _>(n(KINDS[1]))
            .bind::<BigInt, _>(n(KINDS[2]))
            .bind::<BigInt, _>(n(KINDS[3]))
            .bind::<BigInt, _>(n(KINDS[4]))
            .bind::<BigInt, _>(n(KINDS[5]))
            .bind::<BigInt, _>(n(KINDS[6]))
            .execute(c))?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct HourRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    hour_start: Option<NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    issued: i64,
    #[diesel(sql_type = BigInt)]
    over_quota: i64,
    #[diesel(sql_type = BigInt)]
    refused_wrong_secret: i64,
    #[diesel(sql_type = BigInt)]
    refused_disabled: i64,
    #[diesel(sql_type = BigInt)]
    refused_scope: i64,
    #[diesel(sql_type = BigInt)]
    refused_quota: i64,
    #[diesel(sql_type = BigInt)]
    refused_address: i64,
}

impl HourRow {
    fn counts(&self) -> UsageCounts {
        let values = [
            self.issued,
            self.over_quota,
            self.refused_wrong_secret,
            self.refused_disabled,
            self.refused_scope,
            self.refused_quota,
            self.refused_address,
        ];
        let mut c = UsageCounts::default();
        for (k, v) in KINDS.iter().zip(values) {
            c.add(*k, v.max(0) as u64);
        }
        c
    }
}

/// Each summed column, named as [`HourRow`] reads it.
fn summed() -> String {
    COLUMNS
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The client's hours in `[from, to)` that have any counts, oldest first.
pub fn hours(
    conn: &mut AnyConnection,
    client_pk: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, UsageCounts)>, StoreError> {
    let sql = format!(
        "SELECT client_pk AS key, hour_start, {} FROM client_usage \
         WHERE client_pk = $1 AND hour_start >= $2 AND hour_start < $3 ORDER BY hour_start",
        COLUMNS.join(", ")
    );
    let rows: Vec<HourRow> = on_backend!(conn, sql, |q| |c| q
        .bind::<Text, _>(client_pk)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(to)
        .load(c))?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.hour_start?, r.counts())))
        .collect())
}

/// Each of the account's clients with any counts in `[from, to)`, with its totals.
pub fn by_client(
    conn: &mut AnyConnection,
    account_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, UsageCounts)>, StoreError> {
    let sql = format!(
        "SELECT client_pk AS key, NULL AS hour_start, {} FROM client_usage \
         WHERE account_id = $1 AND hour_start >= $2 AND hour_start < $3 GROUP BY client_pk",
        summed()
    );
    let rows: Vec<HourRow> = on_backend!(conn, sql, |q| |c| q
        .bind::<Text, _>(account_id)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(to)
        .load(c))?;
    Ok(rows.iter().map(|r| (r.key.clone(), r.counts())).collect())
}

/// The totals since `from` of each of `client_pks` that has any (a list page's clients).
pub fn for_clients(
    conn: &mut AnyConnection,
    client_pks: &[String],
    from: NaiveDateTime,
) -> Result<Vec<(String, UsageCounts)>, StoreError> {
    if client_pks.is_empty() {
        return Ok(vec![]);
    }
    // The ids are the server's own UUIDs, checked to be so before they are written in.
    if client_pks
        .iter()
        .any(|id| !id.chars().all(|ch| ch.is_ascii_hexdigit() || ch == '-'))
    {
        return Err(StoreError::Other("not a client id".into()));
    }
    let ids: Vec<String> = client_pks.iter().map(|id| format!("'{id}'")).collect();
    let sql = format!(
        "SELECT client_pk AS key, NULL AS hour_start, {} FROM client_usage \
         WHERE client_pk IN ({}) AND hour_start >= $1 GROUP BY client_pk",
        summed(),
        ids.join(", ")
    );
    let rows: Vec<HourRow> = on_backend!(conn, sql, |q| |c| q.bind::<Timestamp, _>(from).load(c))?;
    Ok(rows.iter().map(|r| (r.key.clone(), r.counts())).collect())
}

/// Forgets usage from before `before`, and leases of windows that ended long ago.
pub fn prune(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<(), StoreError> {
    use super::schema::{client_usage, quota_leases};
    diesel::delete(client_usage::table.filter(client_usage::hour_start.lt(before)))
        .execute(conn)?;
    let two_days = before.max(super::now() - chrono::Duration::days(2));
    diesel::delete(quota_leases::table.filter(quota_leases::window_start.lt(two_days)))
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Grant {
    #[diesel(sql_type = BigInt)]
    last_grant: i64,
}

/// Takes up to `want` tokens of the client's `window` from `start` to `end` whose limit is
/// `limit`, as the instances' running total allows: all of them, the rest below the limit, or
/// none. One conditional update, so concurrent takers never pass the limit between them.
pub fn take_lease(
    conn: &mut AnyConnection,
    client_pk: &str,
    window: QuotaWindow,
    (start, end): (NaiveDateTime, NaiveDateTime),
    want: u32,
    limit: u32,
    unwritten: u64,
) -> Result<u32, StoreError> {
    // A window's count never falls below the tokens already issued in it (a limit set midway,
    // or lifted and set again, counts them): those written, and those the caller has counted
    // and not yet written.
    let insert = "INSERT INTO quota_leases (client_pk, window_kind, window_start, granted, last_grant) \
                  SELECT $1, $2, $3, COALESCE(CAST(SUM(issued) AS BIGINT), 0) + $5, 0 \
                  FROM client_usage WHERE client_pk = $1 AND hour_start >= $3 AND hour_start < $4 \
                  ON CONFLICT (client_pk, window_kind, window_start) DO UPDATE SET granted = \
                  CASE WHEN excluded.granted > quota_leases.granted THEN excluded.granted \
                  ELSE quota_leases.granted END";
    // SET expressions read the row as it was before the update, on both backends.
    let update = "UPDATE quota_leases SET \
          granted = CASE WHEN granted + $4 <= $5 THEN granted + $4 \
                         WHEN granted < $5 THEN $5 ELSE granted END, \
          last_grant = CASE WHEN granted + $4 <= $5 THEN $4 \
                            WHEN granted < $5 THEN $5 - granted ELSE 0 END \
          WHERE client_pk = $1 AND window_kind = $2 AND window_start = $3 \
          RETURNING last_grant";
    let kind = window.as_str();
    on_backend!(conn, insert, |q| |c| q
        .bind::<Text, _>(client_pk)
        .bind::<Text, _>(kind)
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .bind::<BigInt, _>(unwritten as i64)
        .execute(c))?;
    let grants: Vec<Grant> = on_backend!(conn, update, |q| |c| q
        .bind::<Text, _>(client_pk)
        .bind::<Text, _>(kind)
        .bind::<Timestamp, _>(start)
        .bind::<BigInt, _>(i64::from(want))
        .bind::<BigInt, _>(i64::from(limit))
        .load(c))?;
    Ok(grants.first().map_or(0, |g| g.last_grant.max(0) as u32))
}

/// Gives back what an instance took and did not use (when it stops), so other instances can.
pub fn return_lease(
    conn: &mut AnyConnection,
    client_pk: &str,
    window: QuotaWindow,
    start: NaiveDateTime,
    unused: u32,
) -> Result<(), StoreError> {
    let sql = "UPDATE quota_leases SET granted = granted - $4 \
               WHERE client_pk = $1 AND window_kind = $2 AND window_start = $3 AND granted >= $4";
    on_backend!(conn, sql, |q| |c| q
        .bind::<Text, _>(client_pk)
        .bind::<Text, _>(window.as_str())
        .bind::<Timestamp, _>(start)
        .bind::<BigInt, _>(i64::from(unused))
        .execute(c))?;
    Ok(())
}
