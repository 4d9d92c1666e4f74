//! Vitesse Identity server: REST API, OAuth 2.0 token service and the SPA's host.
//!
//! Layers, top to bottom (each imports only those below it): `cli` and `app` (assembly) →
//! `http` (handlers, the caller extractor, responses) → `service` (use cases and access rules)
//! → `oauth` (keys, tokens, secret hashing) and `store` (diesel) → `state`, `config`, `error`.

pub mod app;
pub mod cli;
pub mod client_rows;
pub mod config;
pub mod digest;
pub mod error;
pub mod http;
pub mod metering;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod row_reads;
pub mod service;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
