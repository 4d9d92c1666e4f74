//! The HTTP layer: each handler parses its request, calls one service function and maps the
//! result. Who is calling is an extractor (`caller`); errors become responses here, and their
//! causes are logged once, inside the request's span.

pub mod api_roles;
pub mod assets;
pub mod caller;
pub mod clients;
pub mod metadata;
pub mod oauth;
pub mod ops;
pub mod respond;
pub mod responses;
pub mod session;
pub mod spa;
pub mod usage;
