//! Small pieces the pages share.

use leptos::prelude::*;

/// A UTC timestamp shown in the person's local time, with UTC on hover.
#[component]
pub fn Timestamp(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let utc = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    let local: String = date
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into();
    view! { <time datetime=utc.clone() title=format!("{utc} (UTC)")>{local}</time> }
}

#[component]
pub fn StatusBadge(enabled: bool) -> impl IntoView {
    if enabled {
        view! { <span class="status enabled">"Enabled"</span> }
    } else {
        view! { <span class="status disabled">"Disabled"</span> }
    }
}

#[component]
pub fn RoleList(roles: Vec<String>) -> impl IntoView {
    view! {
        <span class="roles">
            {roles.into_iter().map(|r| view! { <span class="role">{r}</span> }).collect_view()}
        </span>
    }
}
