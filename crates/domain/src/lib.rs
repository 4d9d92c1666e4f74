//! The identity-client domain: value types that can only be built valid, and the wire types
//! that the API and the SPA exchange. No I/O; compiles for wasm32.

mod address_list;
mod client;
mod client_id;
mod client_keys;
mod client_name;
mod client_secret;
mod description;
mod error;
pub mod generated_secret;
mod identity_client;
pub mod listing;
mod quota;
pub mod return_path;
mod roles;
#[cfg(feature = "openapi")]
pub mod schema;
mod secret_state;
mod text;
mod token_duration;
pub mod usage;
pub mod wire;

pub use address_list::{AddressList, AddressRange};
pub use client::{
    ClientPatch, GENERATE_SECRET, NewClient, NewSecret, SecretRotation, refuse_unknown_members,
};
pub use client_id::ClientId;
pub use client_keys::{AssertionAlg, AuthMethod, ClientKeys, JwkSet, JwksUrl, KeyType, PublicJwk};
pub use client_name::ClientName;
pub use client_secret::ClientSecret;
pub use description::Description;
pub use error::{Field, FieldError, FieldErrors};
pub use identity_client::{ClientChanges, IdentityClient, RoleNotHeld, Scope};
pub use listing::{ClientListQuery, ClientListing, EventListQuery, SortKey, UsageFilter};
pub use quota::{QuotaMode, QuotaWindow, TokenQuota};
pub use roles::{RoleName, RoleSet};
pub use secret_state::{
    MAX_SECRET_LIFETIME_MONTHS, PreviousSecret, SECRET_EXPIRES_FIELD, SECRET_EXPIRY_RULE,
    SecretHash, SecretInfo, SecretOrigin, SecretSlot, SecretState, StoredSecret,
    latest_secret_expiry, parse_secret_expiry,
};
pub use token_duration::TokenDuration;

/// The longest grace period of a rotated-out secret: 7 days.
pub const MAX_SECRET_GRACE_MINUTES: i64 = 7 * 24 * 60;

/// The API role that lets a client's bearer token manage identity clients.
pub const MANAGE_IDENTITY_CLIENTS_ROLE: &str = "identity-clients:manage";

/// Admin-user roles.
pub mod user_role {
    pub const MERCHANT_ADMIN: &str = "merchant-admin";
    pub const MANAGE_IDENTITY_CLIENTS: &str = "manage-identity-clients";
    pub const VIEWER: &str = "viewer";
    pub const ALL: [&str; 3] = [MERCHANT_ADMIN, MANAGE_IDENTITY_CLIENTS, VIEWER];

    pub fn may_manage_identity_clients(role: &str) -> bool {
        role == MERCHANT_ADMIN || role == MANAGE_IDENTITY_CLIENTS
    }
}
