//! The admin SPA: Administration > Identity Clients, in the seed's words.

mod api;
mod app;
mod charts;
mod components;
mod pages;
mod paths;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
