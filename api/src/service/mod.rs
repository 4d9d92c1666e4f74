//! The use cases. Handlers and the CLI parse their input, call one function here and map its
//! result; the rules (who may do what, the grant check, hashing, the audit trail) live here and
//! in the domain crate, so the CLI cannot do what the API refuses. Nothing here knows HTTP.

pub mod clients;
pub mod operator;
pub mod principal;
pub mod quotas;
pub mod roles;
pub mod sessions;
pub mod tokens;
pub mod usage;

/// Runs `work` to its end even if the request awaiting it is dropped (its caller hung up):
/// for bcrypt work, whose throttle counts and slot places must be settled whatever the caller
/// does. `work` is told through [`Caller`] whether anyone still waits, so it can skip work not
/// yet begun. `None` only if the task could not finish (the server is stopping).
pub async fn to_completion<T: 'static, F: Future<Output = T> + 'static>(
    work: impl FnOnce(Caller) -> F,
) -> Option<T> {
    let (present, watched) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::task::spawn_local(work(Caller(present)));
    let _waiting = watched;
    task.await.ok()
}

/// Whether the request that started a [`to_completion`] task still waits for its answer.
pub struct Caller(tokio::sync::oneshot::Sender<()>);

impl Caller {
    pub fn is_gone(&self) -> bool {
        self.0.is_closed()
    }
}

/// Now, truncated to microseconds so both backends store exactly the same instant.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    crate::store::now().and_utc()
}
