//! Small pieces the pages share.

use crate::paths;
use leptos::prelude::*;
use leptos_router::components::A;
use vitesse_domain::wire::IdentityClient;
use wasm_bindgen::JsCast;

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

fn menu_items(menu: &web_sys::HtmlElement) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = menu.query_selector_all("[role=menuitem]") else {
        return vec![];
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// The per-row action menu: View, Edit, Enable/Disable. Opens on click, Enter or Space;
/// arrow keys move between items; Escape closes it and returns focus to its button; leaving
/// it with Tab closes it.
#[component]
pub fn ActionMenu(
    client: IdentityClient,
    #[prop(into)] on_toggle: Callback<IdentityClient>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    let menu = NodeRef::<leptos::html::Div>::new();
    let wrap = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if open.get()
            && let Some(first) = menu.get().and_then(|m| menu_items(&m).into_iter().next())
        {
            let _ = first.focus();
        }
    });
    let close_and_refocus = move || {
        open.set(false);
        if let Some(b) = button.get() {
            let _ = b.focus();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(m) = menu.get() else { return };
        let items = menu_items(&m);
        let current = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|a| {
                items
                    .iter()
                    .position(|i| *i == *a.unchecked_ref::<web_sys::HtmlElement>())
            });
        let go = |idx: usize| {
            if let Some(i) = items.get(idx) {
                let _ = i.focus();
            }
        };
        match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                close_and_refocus();
            }
            "ArrowDown" => {
                ev.prevent_default();
                go(current.map_or(0, |c| (c + 1) % items.len()));
            }
            "ArrowUp" => {
                ev.prevent_default();
                go(current.map_or(items.len().saturating_sub(1), |c| {
                    (c + items.len() - 1) % items.len()
                }));
            }
            "Home" => go(0),
            "End" => go(items.len().saturating_sub(1)),
            _ => {}
        }
    };
    let on_focusout = move |ev: leptos::ev::FocusEvent| {
        let inside = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
            .zip(wrap.get())
            .is_some_and(|(t, w)| w.contains(Some(&t)));
        if !inside {
            open.set(false);
        }
    };
    let view_href = paths::client(&client.id);
    let edit_href = paths::edit_client(&client.id);
    let label = format!("Actions for {}", client.client_id);
    let toggle_label = if client.enabled { "Disable" } else { "Enable" };
    let menu_id = format!("menu-{}", client.id);
    view! {
        <div class="menu-wrap" node_ref=wrap on:keydown=on_keydown on:focusout=on_focusout>
            <button type="button" class="menu-button" node_ref=button aria-label=label aria-haspopup="menu"
                aria-controls=menu_id.clone()
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "Actions ▾"
            </button>
            <Show when=move || open.get()>
                <div class="menu" role="menu" id=menu_id.clone() node_ref=menu>
                    <A href=view_href.clone() attr:role="menuitem" attr:tabindex="-1">"View"</A>
                    <A href=edit_href.clone() attr:role="menuitem" attr:tabindex="-1">"Edit"</A>
                    <button type="button" role="menuitem" tabindex="-1" on:click={
                        let client = client.clone();
                        move |_| { close_and_refocus(); on_toggle.run(client.clone()); }
                    }>{toggle_label}</button>
                </div>
            </Show>
        </div>
    }
}

/// A polite live region for success and error messages a person should notice.
#[component]
pub fn Flash(message: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    view! {
        <div aria-live="polite">
            {move || message.get().map(|(ok, text)| {
                let class = if ok { "banner success" } else { "banner error" };
                view! { <div class=class role=if ok { "status" } else { "alert" }>{text}</div> }
            })}
        </div>
    }
}
