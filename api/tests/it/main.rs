//! One integration-test crate: the real server on a random port, on a fresh SQLite file and on
//! a fresh PostgreSQL database per test. One module per capability, over one helper module.

mod helpers;

mod addresses;
mod cli;
mod clients;
mod contract;
mod docs;
mod introspection;
mod keyless;
mod keys;
mod lifecycle;
mod listing;
mod openapi;
mod operations;
mod outage;
mod secrets;
mod security;
mod sessions;
mod throttling;
mod tokens;
mod usage;
