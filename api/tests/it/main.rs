//! One integration-test crate: the real server on a random port, on a fresh SQLite file and on
//! a fresh PostgreSQL database per test.

mod helpers;

mod clients;
mod contract;
mod docs;
mod lifecycle;
mod manage;
mod openapi;
mod operations;
mod outage;
mod security;
mod session;
mod token;
