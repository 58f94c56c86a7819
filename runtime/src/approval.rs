//! Approval by a person outside the MCP client (`confirm = "human"`).
//!
//! A call of such a tool opens a pending approval and names the server's own
//! approval page in a URL-mode question. The person signs in there as the
//! subject that made the call, sees the exact action, and approves or denies
//! it. The client's retry runs the call only once the approval is there, and
//! spends it: an approval is used once, expires, and its decision is audited
//! with who made it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::future::BoxFuture;
use crate::store::StoreError;

/// How long a person has, by default, to open the page and decide.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(600);

/// An approval asked for, not yet decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Unpredictable, 128 bits: the page's address names it.
    pub id: String,
    /// Who made the call, and alone may decide.
    pub subject: String,
    /// The tool called.
    pub tool: String,
    /// What the person is shown: the tool and its arguments, redacted.
    pub action: String,
    /// Unix time in milliseconds past which it is void.
    pub expires_ms: u64,
}

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not yet decided.
    Pending,
    /// Approved, not yet used.
    Approved,
    /// Denied.
    Denied,
    /// Approved, and its call has run.
    Used,
}

impl Status {
    /// Its name: in the store, and on the page.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Used => "used",
        }
    }

    #[cfg(feature = "sql")]
    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied, Self::Used]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The approvals asked for. Replicas share one: the page a person opens and
/// the retry of the call may each reach any of them.
pub trait Approvals: Send + Sync + 'static {
    /// Records `pending`, unless its subject has `cap` approvals waiting
    /// already: `Ok(false)` then.
    fn open<'a>(
        &'a self,
        pending: &'a Pending,
        cap: usize,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// The approval `id` and where it stands; `None` if unknown or expired.
    fn get<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(Pending, Status)>, StoreError>>;
    /// Decides the pending, unexpired approval `id` of `subject`: `Ok(false)`
    /// if there is none (decided already, expired, unknown, or another's).
    fn decide<'a>(
        &'a self,
        id: &'a str,
        subject: &'a str,
        approve: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Spends the approval `id` if it is approved and unexpired, and says
    /// where it stood: `Approved` only for the one call that spent it.
    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Status>, StoreError>>;
}

/// Approvals in this process's memory: enough for one replica.
#[derive(Debug, Default)]
pub struct ApprovalsInMemory(Mutex<HashMap<String, (Pending, Status)>>);

impl ApprovalsInMemory {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, (Pending, Status)>) -> R) -> R {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let now = now_ms();
        map.retain(|_, (pending, _)| pending.expires_ms >= now);
        f(&mut map)
    }
}

impl Approvals for ApprovalsInMemory {
    fn open<'a>(
        &'a self,
        pending: &'a Pending,
        cap: usize,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let opened = self.with(|map| {
            let waiting = map
                .values()
                .filter(|(p, status)| *status == Status::Pending && p.subject == pending.subject)
                .count();
            if waiting >= cap {
                return false;
            }
            map.insert(pending.id.clone(), (pending.clone(), Status::Pending));
            true
        });
        Box::pin(std::future::ready(Ok(opened)))
    }

    fn get<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(Pending, Status)>, StoreError>> {
        let found = self.with(|map| map.get(id).cloned());
        Box::pin(std::future::ready(Ok(found)))
    }

    fn decide<'a>(
        &'a self,
        id: &'a str,
        subject: &'a str,
        approve: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let decided = self.with(|map| match map.get_mut(id) {
            Some((pending, status)) if *status == Status::Pending && pending.subject == subject => {
                *status = if approve {
                    Status::Approved
                } else {
                    Status::Denied
                };
                true
            }
            _ => false,
        });
        Box::pin(std::future::ready(Ok(decided)))
    }

    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Status>, StoreError>> {
        let stood = self.with(|map| {
            map.get_mut(id).map(|(_, status)| {
                let was = *status;
                if was == Status::Approved {
                    *status = Status::Used;
                }
                was
            })
        });
        Box::pin(std::future::ready(Ok(stood)))
    }
}

#[cfg(feature = "sql")]
impl Approvals for crate::store::Store {
    fn open<'a>(
        &'a self,
        pending: &'a Pending,
        cap: usize,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            use sqlx::Row as _;
            let fail = |e| StoreError::new("cannot record an approval", e);
            let now = ms(now_ms());
            sqlx::query("DELETE FROM consent_approval WHERE expires_ms < $1")
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(fail)?;
            // A bound, not a lock: replicas racing may pass it by a few.
            let waiting: i64 = sqlx::query(
                "SELECT COUNT(*) FROM consent_approval \
                 WHERE subject = $1 AND status = 'pending' AND expires_ms >= $2",
            )
            .bind(&pending.subject)
            .bind(now)
            .fetch_one(self.pool())
            .await
            .map_err(fail)?
            .try_get(0)
            .map_err(fail)?;
            if usize::try_from(waiting).unwrap_or(usize::MAX) >= cap {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO consent_approval (id, subject, tool, action, expires_ms, status) \
                 VALUES ($1, $2, $3, $4, $5, 'pending')",
            )
            .bind(&pending.id)
            .bind(&pending.subject)
            .bind(&pending.tool)
            .bind(&pending.action)
            .bind(ms(pending.expires_ms))
            .execute(self.pool())
            .await
            .map_err(fail)?;
            Ok(true)
        })
    }

    fn get<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(Pending, Status)>, StoreError>> {
        Box::pin(async move {
            use sqlx::Row as _;
            let row = sqlx::query(
                "SELECT subject, tool, action, expires_ms, status FROM consent_approval \
                 WHERE id = $1 AND expires_ms >= $2",
            )
            .bind(id)
            .bind(ms(now_ms()))
            .fetch_optional(self.pool())
            .await
            .map_err(|e| StoreError::new("cannot read an approval", e))?;
            let Some(row) = row else {
                return Ok(None);
            };
            let read = |e| StoreError::new("cannot read an approval", e);
            let status: String = row.try_get(4).map_err(read)?;
            let Some(status) = Status::parse(&status) else {
                return Ok(None);
            };
            let expires: i64 = row.try_get(3).map_err(read)?;
            let pending = Pending {
                id: id.to_owned(),
                subject: row.try_get(0).map_err(read)?,
                tool: row.try_get(1).map_err(read)?,
                action: row.try_get(2).map_err(read)?,
                expires_ms: u64::try_from(expires).unwrap_or(0),
            };
            Ok(Some((pending, status)))
        })
    }

    fn decide<'a>(
        &'a self,
        id: &'a str,
        subject: &'a str,
        approve: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let status = if approve {
                Status::Approved
            } else {
                Status::Denied
            };
            let done = sqlx::query(
                "UPDATE consent_approval SET status = $1, decided_ms = $2 \
                 WHERE id = $3 AND subject = $4 AND status = 'pending' AND expires_ms >= $2",
            )
            .bind(status.as_str())
            .bind(ms(now_ms()))
            .bind(id)
            .bind(subject)
            .execute(self.pool())
            .await
            .map_err(|e| StoreError::new("cannot record a decision", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn take<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Status>, StoreError>> {
        Box::pin(async move {
            let spent = sqlx::query(
                "UPDATE consent_approval SET status = 'used' \
                 WHERE id = $1 AND status = 'approved' AND expires_ms >= $2",
            )
            .bind(id)
            .bind(ms(now_ms()))
            .execute(self.pool())
            .await
            .map_err(|e| StoreError::new("cannot spend an approval", e))?;
            if spent.rows_affected() == 1 {
                return Ok(Some(Status::Approved));
            }
            Ok(self.get(id).await?.map(|(_, status)| status))
        })
    }
}

#[cfg(feature = "sql")]
fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str, expires_ms: u64) -> Pending {
        Pending {
            id: id.into(),
            subject: "alice".into(),
            tool: "wipe".into(),
            action: "wipe 3".into(),
            expires_ms,
        }
    }

    async fn lifecycle(approvals: &dyn Approvals) {
        let later = now_ms() + 60_000;
        assert!(approvals.open(&pending("a", later), 2).await.unwrap());
        assert_eq!(approvals.take("a").await.unwrap(), Some(Status::Pending));
        assert!(
            !approvals.decide("a", "bob", true).await.unwrap(),
            "not bob's"
        );
        assert!(approvals.decide("a", "alice", true).await.unwrap());
        assert!(
            !approvals.decide("a", "alice", false).await.unwrap(),
            "decided once"
        );
        assert_eq!(approvals.take("a").await.unwrap(), Some(Status::Approved));
        assert_eq!(approvals.take("a").await.unwrap(), Some(Status::Used));
        assert!(approvals.open(&pending("d", later), 2).await.unwrap());
        assert!(approvals.open(&pending("e", later), 2).await.unwrap());
        assert!(
            !approvals.open(&pending("f", later), 2).await.unwrap(),
            "two waiting already"
        );
        assert!(approvals.decide("d", "alice", false).await.unwrap());
        assert_eq!(approvals.take("d").await.unwrap(), Some(Status::Denied));
        assert!(approvals.decide("e", "alice", false).await.unwrap());
        assert!(approvals.open(&pending("old", 1), 2).await.unwrap());
        assert_eq!(approvals.get("old").await.unwrap(), None);
        assert!(!approvals.decide("old", "alice", true).await.unwrap());
        assert_eq!(approvals.take("old").await.unwrap(), None);
        assert_eq!(approvals.take("unknown").await.unwrap(), None);
        let (shown, status) = approvals.get("a").await.unwrap().unwrap();
        assert_eq!((shown.action.as_str(), status), ("wipe 3", Status::Used));
    }

    #[tokio::test]
    async fn an_approval_is_decided_once_by_its_subject_and_spent_once() {
        lifecycle(&ApprovalsInMemory::default()).await;
    }

    #[cfg(feature = "sql")]
    #[tokio::test]
    async fn the_store_keeps_the_same_rules() {
        let store = crate::store::Store::connect("sqlite::memory:")
            .await
            .unwrap();
        store.migrate(&[]).await.unwrap();
        lifecycle(&store).await;
    }
}
