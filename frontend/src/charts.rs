//! Usage pictures, drawn here as SVG (no charting library, nothing from a CDN, the CSP stays
//! strict): a client's tokens issued and refused per hour or day with the same numbers as a
//! table, a small per-client activity meter for the list, and the account's busiest clients.

use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::pages::client_form::js_now;
use crate::paths;
use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use vitesse_domain::usage::{RefusalReason, UsageBucket, UsageReport};

/// The spans the chart offers: label, granularity, length.
const SPANS: [(&str, &str, i64); 3] = [
    ("24 hours", "hour", 24),
    ("7 days", "day", 7 * 24),
    ("30 days", "day", 30 * 24),
];

// The drawing's own units; the SVG scales to its box (360 px wide screens included).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// A bucket's start as its axis and table label: the hour for hourly buckets, the date else.
fn bucket_label(at: DateTime<Utc>, hourly: bool) -> String {
    if hourly {
        at.format("%b %-d, %H:%M").to_string()
    } else {
        at.format("%b %-d").to_string()
    }
}

/// "2 wrong secret, 1 over quota"; "—" for none.
fn reasons(b: &UsageBucket) -> String {
    let parts: Vec<String> = RefusalReason::ALL
        .iter()
        .filter_map(|r| {
            let n = b.totals.refused.get(*r);
            (n > 0).then(|| format!("{n} {}", r.label().to_lowercase()))
        })
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(", ")
    }
}

/// Stacked bars: issued below, refused above; the tallest bar sets the scale.
#[component]
fn Bars(report: UsageReport) -> impl IntoView {
    let hourly = report.granularity == "hour";
    let n = report.buckets.len().max(1) as f64;
    let peak = report
        .buckets
        .iter()
        .map(|b| b.totals.issued + b.totals.refused.total())
        .max()
        .unwrap_or(0);
    // The scale: an empty period still draws (flat), and says 0, not 1.
    let most = peak.max(1) as f64;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / n;
    let bar = (slot * 0.75).max(1.0);
    let y = |v: f64| TOP + plot_h - v / most * plot_h;
    let totals = report.totals;
    let title = format!(
        "Tokens issued and requests refused, {} to {} (UTC)",
        report.from.format("%Y-%m-%d %H:%M"),
        report.to.format("%Y-%m-%d %H:%M")
    );
    let desc = format!(
        "{} tokens issued and {} requests refused in all; the busiest {} had {}.",
        totals.issued,
        totals.refused.total(),
        if hourly { "hour" } else { "day" },
        peak
    );
    let first = report
        .buckets
        .first()
        .map(|b| bucket_label(b.start, hourly));
    let last = report.buckets.last().map(|b| bucket_label(b.start, hourly));
    view! {
        <svg class="usage-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
            aria-labelledby="usage-chart-title usage-chart-desc">
            <title id="usage-chart-title">{title}</title>
            <desc id="usage-chart-desc">{desc}</desc>
            <line class="axis" x1=LEFT y1=y(0.0) x2=WIDTH y2=y(0.0)/>
            <line class="grid" x1=LEFT y1=y(most) x2=WIDTH y2=y(most)/>
            <text class="tick" x=LEFT - 6.0 y=y(most) + 4.0 text-anchor="end">{(peak > 0).then_some(peak)}</text>
            <text class="tick" x=LEFT - 6.0 y=y(0.0) + 4.0 text-anchor="end">"0"</text>
            {report.buckets.iter().enumerate().map(|(i, b)| {
                let (issued, refused) = (b.totals.issued as f64, b.totals.refused.total() as f64);
                let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
                let tip = format!("{}: {} issued, {} refused", bucket_label(b.start, hourly), b.totals.issued, b.totals.refused.total());
                view! {
                    <g class="bucket" data-start=b.start.to_rfc3339() data-issued=b.totals.issued data-refused=b.totals.refused.total()>
                        <title>{tip}</title>
                        <rect class="issued" x=x y=y(issued) width=bar height=y(0.0) - y(issued)/>
                        <rect class="refused" x=x y=y(issued + refused) width=bar height=y(issued) - y(issued + refused)/>
                    </g>
                }
            }).collect_view()}
            <text class="tick" x=LEFT y=HEIGHT - 8.0>{first}</text>
            <text class="tick" x=WIDTH y=HEIGHT - 8.0 text-anchor="end">{last}</text>
        </svg>
    }
}

/// The chart's numbers as a table, for screen readers and anyone who wants them exact.
#[component]
fn BucketTable(report: UsageReport) -> impl IntoView {
    let hourly = report.granularity == "hour";
    view! {
        <details class="usage-table">
            <summary>"Show the numbers as a table"</summary>
            <div class="table-scroll" tabindex="0">
                <table>
                    <caption class="visually-hidden">"Tokens issued and requests refused per "{if hourly { "hour" } else { "day" }}" (UTC)"</caption>
                    <thead><tr>
                        <th scope="col">{if hourly { "Hour (UTC)" } else { "Day (UTC)" }}</th>
                        <th scope="col">"Issued"</th><th scope="col">"Refused"</th><th scope="col">"Why refused"</th>
                    </tr></thead>
                    <tbody>
                        {report.buckets.iter().map(|b| view! {
                            <tr data-start=b.start.to_rfc3339()>
                                <th scope="row">{if hourly { b.start.format("%Y-%m-%d %H:%M").to_string() } else { b.start.format("%Y-%m-%d").to_string() }}</th>
                                <td class="issued">{b.totals.issued}</td>
                                <td class="refused">{b.totals.refused.total()}</td>
                                <td>{reasons(b)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
}

/// A client's usage over the last 24 hours, 7 days or 30 days.
#[component]
pub fn UsageChart(#[prop(into)] id: Signal<String>) -> impl IntoView {
    let state = use_session();
    let span = RwSignal::new(0usize);
    let report = LocalResource::new(move || {
        let (id, (_, granularity, hours)) = (id.get(), SPANS[span.get()]);
        let from =
            (js_now() - Duration::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        async move {
            let r = api::client_usage(&id, granularity, &from).await;
            if matches!(r, Err(ApiFailure::SignedOut)) {
                state.session.set(None);
            }
            r
        }
    });
    view! {
        <section class="card" aria-labelledby="usage-heading">
            <div class="toolbar">
                <h2 id="usage-heading">"Usage"</h2>
                <div class="segmented" role="group" aria-label="Period">
                    {SPANS.iter().enumerate().map(|(i, (label, _, _))| view! {
                        <button type="button" aria-pressed=move || (span.get() == i).to_string()
                            on:click=move |_| span.set(i)>{*label}</button>
                    }).collect_view()}
                </div>
            </div>
            <p class="legend"><span class="key issued"></span>"Tokens issued "<span class="key refused"></span>"Requests refused"</p>
            {move || match report.get() {
                None => view! { <p class="loading">"Loading usage…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="banner error" role="alert">{e.message()}</div> }.into_any(),
                Some(Ok(r)) => {
                    let over = r.totals.over_quota;
                    view! {
                        <p class="usage-totals">{format!("{} issued, {} refused", r.totals.issued, r.totals.refused.total())}
                            {(over > 0).then(|| format!(" — {over} over the quota (report only)"))}</p>
                        <Bars report=r.clone()/>
                        <BucketTable report=r/>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// The list's indicator: the last 24 hours' tokens beside a bar scaled to the page's busiest.
#[component]
pub fn ActivityMeter(issued: u64, refused: u64, busiest: u64) -> impl IntoView {
    let share = |n: u64| n as f64 / busiest.max(1) as f64 * 100.0;
    let label = format!("Last 24 hours: {issued} tokens issued, {refused} requests refused");
    let title = label.clone();
    view! {
        <span class="activity" title=title>
            <svg class="meter" viewBox="0 0 100 8" aria-hidden="true" preserveAspectRatio="none">
                <rect class="track" x="0" y="0" width="100" height="8"/>
                <rect class="issued" x="0" y="0" width=share(issued) height="8"/>
                <rect class="refused" x=share(issued) y="0" width=share(refused) height="8"/>
            </svg>
            <span class="visually-hidden">{label}</span>
            <span aria-hidden="true">{issued}{(refused > 0).then(|| format!(" · {refused} refused"))}</span>
        </span>
    }
}

/// The account's busiest clients over the last 24 hours.
#[component]
pub fn BusiestClients() -> impl IntoView {
    let overview = LocalResource::new(|| api::account_usage(5));
    view! {
        {move || match overview.get() {
            Some(Ok(o)) if !o.clients.is_empty() => view! {
                <section class="card busiest" aria-labelledby="busiest-heading">
                    <h2 id="busiest-heading">"Busiest in the last 24 hours"</h2>
                    <ol>
                        {o.clients.into_iter().map(|c| view! {
                            <li>
                                <A href=paths::client(&c.id)>{c.client_id}</A>
                                {format!(": {} issued, {} refused", c.totals.issued, c.totals.refused.total())}
                            </li>
                        }).collect_view()}
                    </ol>
                    <p class="hint">{format!("Account: {} tokens issued, {} requests refused.", o.totals.issued, o.totals.refused.total())}</p>
                </section>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}
