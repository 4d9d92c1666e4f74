//! The audit trail: written in the same transaction as the change it records.

use super::schema::audit_events;
use super::{AnyConnection, StoreError, new_id};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use vitesse_domain::wire::{AuditActor, AuditEvent};

/// Who acts, and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user` or `client`
    pub kind: &'static str,
    pub id: String,
    pub label: String,
    pub source_ip: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct EventRow {
    pub id: String,
    pub client_pk: String,
    pub account_id: String,
    pub action: String,
    pub actor_type: String,
    pub actor_id: String,
    pub actor_label: String,
    pub source_ip: Option<String>,
    pub changes: String,
    pub occurred_at: NaiveDateTime,
}

impl EventRow {
    pub fn to_wire(&self) -> AuditEvent {
        let mut event = AuditEvent {
            id: self.id.clone(),
            action: self.action.clone(),
            actor: AuditActor {
                type_: self.actor_type.clone(),
                id: self.actor_id.clone(),
                label: self.actor_label.clone(),
            },
            source_ip: self.source_ip.clone(),
            changes: serde_json::from_str(&self.changes).unwrap_or_default(),
            labels: Default::default(),
            occurred_at: self.occurred_at.and_utc(),
        };
        // The names the screens give the fields, so a reader of the API sees the same trail.
        event.labels = vitesse_domain::Field::labels_of(&event.changes);
        event
    }
}

pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    account_id: &str,
    client_pk: &str,
    action: &str,
    changes: serde_json::Value,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let row = EventRow {
        id: new_id(),
        client_pk: client_pk.to_owned(),
        account_id: account_id.to_owned(),
        action: action.to_owned(),
        actor_type: actor.kind.to_owned(),
        actor_id: actor.id.clone(),
        actor_label: actor.label.clone(),
        source_ip: actor.source_ip.clone(),
        changes: changes.to_string(),
        occurred_at: at,
    };
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// A client's events, newest first, after the `(occurred_at, id)` of the previous page.
pub fn list(
    conn: &mut AnyConnection,
    account_id: &str,
    client_pk: &str,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    use audit_events::dsl as e;
    let mut q = audit_events::table
        .filter(e::client_pk.eq(client_pk))
        .filter(e::account_id.eq(account_id))
        .into_boxed();
    if let Some((at, id)) = before {
        q = q.filter(
            e::occurred_at
                .lt(at)
                .or(e::occurred_at.eq(at).and(e::id.lt(id))),
        );
    }
    Ok(q.order((e::occurred_at.desc(), e::id.desc()))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}
