//! Vitesse Identity server: REST API, OAuth 2.0 token service and the SPA's host.

pub mod api_roles;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clients;
pub mod config;
pub mod digest;
pub mod error;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod state;
pub mod store;
pub mod throttle;
