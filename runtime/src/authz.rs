//! Authorization: may this identity do this? Two halves, both required.
//!
//! First the token must carry the tool's scope (`documents:read`) or its
//! resource's wildcard (`documents:*`): a down-scoped token limits what a
//! leaked credential can do. Then casbin must allow `(subject, resource,
//! action)` under the RBAC model shipped with the runtime. Any error from casbin
//! or the store denies.
//!
//! Subjects and roles live in separate namespaces: casbin sees a subject as
//! `user:NAME` and a role as `role:NAME`, so a token whose subject is named
//! like a role (`sub: "admin"`) is a user called admin, with no grant.
//!
//! A grant reaches every object of its resource ([`Reach::Any`]) or only the
//! objects the caller owns ([`Reach::Own`]): the owner is an attribute of the
//! request. A call whose role reaches only owned objects is admitted only by a
//! tool that takes a [`Grant`](crate::state::Grant) and checks the owner of what it touches; every
//! other tool refuses it at the role gate.
//!
//! Policies persist in the `casbin_rule` table through `SqlAdapter` (with `sql`), written
//! here over sqlx with run-time queries for both SQLite and PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use casbin::{Adapter, CoreApi, DefaultModel, MemoryAdapter, MgmtApi};
use tokio::sync::RwLock;

use crate::auth::Principal;
#[cfg(feature = "sql")]
pub use crate::authz::sql::SqlAdapter;
use crate::reject::{Gate, Reject};
use crate::state::Reach;
#[cfg(feature = "sql")]
use crate::store::Store;
use crate::store::StoreError;

/// The RBAC model: a subject inherits its roles' permissions on `(resource, action)`.
pub const RBAC_MODEL: &str = include_str!("rbac_model.conf");

/// How often `Authorizer::follow` (with `sql`) checks the shared store for policy changes
/// by default: a change made through one replica holds on every other within
/// this interval plus one reload.
pub const POLICY_POLL: Duration = Duration::from_secs(1);

/// Decides whether a principal may perform a scoped action.
#[derive(Clone)]
pub struct Authorizer {
    enforcer: Arc<RwLock<casbin::Enforcer>>,
    /// False while the policies in memory cannot be trusted (a reload or a
    /// version check failed): every decision is then a denial.
    current: Arc<AtomicBool>,
    /// Decisions already made under the policies in force, emptied whenever
    /// they change (under the enforcer's write lock, so no stale entry lands).
    decisions: Arc<std::sync::RwLock<Decisions>>,
}

/// Decisions by `(subject, resource, action)`: how far the subject's roles reach.
type Decisions = HashMap<(String, String, String), Option<Reach>>;

/// The most decisions remembered; past it the cache starts over.
const DECISIONS: usize = 10_000;

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

/// A subject as casbin sees it.
fn user(subject: &str) -> String {
    format!("user:{subject}")
}

/// A role as casbin sees it.
fn role(name: &str) -> String {
    format!("role:{name}")
}

/// A permission as casbin stores it.
fn rule(name: &str, resource: &str, action: &str, reach: Reach) -> Vec<String> {
    vec![
        role(name),
        resource.to_owned(),
        action.to_owned(),
        reach.as_str().to_owned(),
    ]
}

/// The owner of a request that names no object: it matches no `own` grant,
/// because a casbin subject always carries its `user:` prefix.
const NO_OWNER: &str = "";

fn casbin_error(context: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(context, e)
}

impl Authorizer {
    /// An authorizer over any casbin adapter, with the shipped RBAC model.
    pub async fn with_adapter(adapter: impl Adapter + 'static) -> Result<Self, StoreError> {
        let model = DefaultModel::from_str(RBAC_MODEL)
            .await
            .map_err(|e| casbin_error("invalid RBAC model", e))?;
        let enforcer = casbin::Enforcer::new(model, adapter)
            .await
            .map_err(|e| casbin_error("cannot load policies", e))?;
        Ok(Self {
            enforcer: Arc::new(RwLock::new(enforcer)),
            current: Arc::new(AtomicBool::new(true)),
            decisions: Arc::default(),
        })
    }

    /// Policies held in memory only, for unit tests.
    pub async fn in_memory() -> Self {
        Self::with_adapter(MemoryAdapter::default())
            .await
            .expect("the shipped model parses and memory cannot fail")
    }

    /// Policies persisted in the store's `casbin_rule` table.
    #[cfg(feature = "sql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub async fn persistent(store: &Store) -> Result<Self, StoreError> {
        Self::with_adapter(SqlAdapter::new(store.clone())).await
    }

    /// Lets `role` call every scoped tool of `tools` (each scope
    /// `resource:action` granted on every object): the bootstrap of a role
    /// that may use a whole server, such as `<MyServer as Tools>::TOOLS`.
    pub async fn grant_tools(
        &self,
        role: &str,
        tools: &[&crate::spec::ToolSpec],
    ) -> Result<(), StoreError> {
        for spec in tools {
            if let crate::spec::Access::Scope(scope) = spec.access
                && let Some((resource, action)) = scope.split_once(':')
            {
                self.grant(role, resource, action).await?;
            }
        }
        Ok(())
    }

    /// Lets `role` perform `action` on every object of `resource`.
    pub async fn grant(&self, name: &str, resource: &str, action: &str) -> Result<(), StoreError> {
        self.grant_on(name, resource, action, Reach::Any).await
    }

    /// Lets `role` perform `action` on the objects of `resource` that `reach`
    /// covers (nothing changes if it may already).
    pub async fn grant_on(
        &self,
        name: &str,
        resource: &str,
        action: &str,
        reach: Reach,
    ) -> Result<(), StoreError> {
        let rule = rule(name, resource, action, reach);
        let mut enforcer = self.enforcer.write().await;
        // Granting what is granted already changes nothing.
        if enforcer.has_policy(rule.clone()) {
            return Ok(());
        }
        self.forget();
        enforcer
            .add_policy(rule)
            .await
            .map(drop)
            .map_err(|e| casbin_error("cannot add policy", e))
    }

    /// Withdraws a permission from `role`, whatever its reach: neither any
    /// object nor its own remain.
    pub async fn revoke(&self, name: &str, resource: &str, action: &str) -> Result<(), StoreError> {
        self.revoke_on(name, resource, action, Reach::Any).await?;
        self.revoke_on(name, resource, action, Reach::Own).await
    }

    /// Withdraws a permission of the given reach from `role`.
    pub async fn revoke_on(
        &self,
        name: &str,
        resource: &str,
        action: &str,
        reach: Reach,
    ) -> Result<(), StoreError> {
        let rule = rule(name, resource, action, reach);
        let mut enforcer = self.enforcer.write().await;
        self.forget();
        enforcer
            .remove_policy(rule)
            .await
            .map(drop)
            .map_err(|e| casbin_error("cannot remove policy", e))
    }

    /// Gives `subject` the role `name` (nothing changes if it has it).
    pub async fn assign(&self, subject: &str, name: &str) -> Result<(), StoreError> {
        let mut enforcer = self.enforcer.write().await;
        let link = vec![user(subject), role(name)];
        if enforcer.has_grouping_policy(link.clone()) {
            return Ok(());
        }
        self.forget();
        enforcer
            .add_grouping_policy(link)
            .await
            .map(drop)
            .map_err(|e| casbin_error("cannot assign role", e))
    }

    /// Removes every policy and role assignment, from memory and from the store.
    pub async fn clear(&self) -> Result<(), StoreError> {
        let mut enforcer = self.enforcer.write().await;
        self.forget();
        enforcer
            .clear_policy()
            .await
            .map_err(|e| casbin_error("cannot clear policies", e))
    }

    /// Reloads every policy from the adapter (picks up changes made elsewhere).
    /// A failed reload leaves no policy in force: everything is denied until a
    /// reload succeeds, rather than deciding on grants that may be stale.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let mut enforcer = self.enforcer.write().await;
        self.forget();
        match enforcer.load_policy().await {
            Ok(()) => {
                self.current.store(true, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                self.current.store(false, Ordering::SeqCst);
                enforcer.get_mut_model().clear_policy();
                Err(casbin_error("cannot reload policies", e))
            }
        }
    }

    /// Keeps this authorizer in step with changes other replicas make to the
    /// policies in `store`: every `every` (see [`POLICY_POLL`]) it reads the
    /// one-row `policy_version` counter, which triggers on `casbin_rule`
    /// advance, and reloads when it moved. While the store cannot be read,
    /// every decision is a denial; when it can again, policies are reloaded
    /// and service resumes. The task runs until aborted.
    #[cfg(feature = "sql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub fn follow(&self, store: &Store, every: Duration) -> tokio::task::JoinHandle<()> {
        let authz = self.clone();
        let store = store.clone();
        tokio::spawn(async move {
            let mut seen = None;
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let failure = match sql::policy_version(&store).await {
                    Ok(version) if Some(version) == seen => continue,
                    Ok(version) => match authz.reload().await {
                        Ok(()) => {
                            seen = Some(version);
                            None
                        }
                        Err(e) => Some(e),
                    },
                    Err(e) => Some(e),
                };
                if let Some(e) = failure {
                    seen = None;
                    // Log the transition, not every failed poll.
                    if authz.current.swap(false, Ordering::SeqCst) {
                        tracing::error!(target: crate::log::TARGET,
                            "policy store unreadable; every scoped call is denied until it returns: {e}");
                    }
                }
            }
        })
    }

    /// Whether the policies in memory are current (the last reload or version
    /// check succeeded).
    pub fn is_current(&self) -> bool {
        self.current.load(Ordering::SeqCst)
    }

    /// Whether casbin allows `(subject, resource, action)` on every object of
    /// the resource; errors deny.
    pub async fn allows(
        &self,
        subject: &str,
        resource: &str,
        action: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.reach(subject, resource, action).await? == Some(Reach::Any))
    }

    /// How far `subject`'s roles reach for `action` on `resource`: every
    /// object, only its own, or none (`None`). A decision already made under
    /// the same policies is answered from memory; any policy change or reload
    /// forgets them all.
    pub async fn reach(
        &self,
        subject: &str,
        resource: &str,
        action: &str,
    ) -> Result<Option<Reach>, StoreError> {
        self.reach_of(user(subject), resource, action).await
    }

    /// How far `principal` reaches: through the roles assigned to its
    /// subject here, or through the roles its token claims (managed in the
    /// identity provider), whichever reaches further.
    pub async fn reach_of_principal(
        &self,
        principal: &Principal,
        resource: &str,
        action: &str,
    ) -> Result<Option<Reach>, StoreError> {
        let mut best = self.reach(principal.subject(), resource, action).await?;
        for name in principal.roles() {
            if best == Some(Reach::Any) {
                break;
            }
            match self.reach_of(role(name), resource, action).await? {
                Some(Reach::Any) => best = Some(Reach::Any),
                Some(Reach::Own) => best = Some(Reach::Own),
                None => {}
            }
        }
        Ok(best)
    }

    /// How far the casbin subject `term` (a user or a role) reaches, the
    /// decision remembered under the term itself (users and roles are
    /// spelled apart, so neither can stand for the other).
    async fn reach_of(
        &self,
        term: String,
        resource: &str,
        action: &str,
    ) -> Result<Option<Reach>, StoreError> {
        let key = (term, resource.to_owned(), action.to_owned());
        if let Some(&reach) = self.remembered().get(&key) {
            return Ok(reach);
        }
        let term = &key.0;
        // Held across the decision and its caching, so a change cannot slip between.
        let enforcer = self.enforcer.read().await;
        let decide = |owner: &str| {
            enforcer
                .enforce((term.as_str(), resource, action, owner))
                .map_err(|e| casbin_error("policy decision failed", e))
        };
        // The owner gate compares an object's owner with the caller; here an
        // owner equal to the term asks whether `own` grants reach it.
        let reach = if decide(NO_OWNER)? {
            Some(Reach::Any)
        } else if decide(term)? {
            Some(Reach::Own)
        } else {
            None
        };
        let mut decisions = self
            .decisions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if decisions.len() >= DECISIONS {
            decisions.clear();
        }
        decisions.insert(key, reach);
        Ok(reach)
    }

    /// Whether casbin allows `(subject, resource, action)` on an object owned
    /// by `owner`, evaluating the model every time; errors deny.
    pub async fn allows_on(
        &self,
        subject: &str,
        resource: &str,
        action: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        self.enforcer
            .read()
            .await
            .enforce((user(subject), resource, action, user(owner)))
            .map_err(|e| casbin_error("policy decision failed", e))
    }

    /// [`Authorizer::allows`] without the decision cache: casbin evaluates the
    /// model every time. The baseline the cache is measured against.
    pub async fn allows_uncached(
        &self,
        subject: &str,
        resource: &str,
        action: &str,
    ) -> Result<bool, StoreError> {
        self.enforcer
            .read()
            .await
            .enforce((user(subject), resource, action, NO_OWNER))
            .map_err(|e| casbin_error("policy decision failed", e))
    }

    fn remembered(&self) -> std::sync::RwLockReadGuard<'_, Decisions> {
        self.decisions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets every cached decision. Called with the enforcer's write lock held.
    fn forget(&self) {
        self.decisions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Both halves: the token's scope, then the subject's role. Answers how
    /// far the role reaches; the pipeline admits [`Reach::Own`] only for a
    /// tool that checks owners.
    pub async fn authorize(&self, principal: &Principal, scope: &str) -> Result<Reach, Reject> {
        if !principal.has_scope(scope) {
            return Err(Reject::missing_scope(scope));
        }
        let Some((resource, action)) = scope.split_once(':') else {
            return Err(Reject::at(Gate::Role, None, "malformed scope"));
        };
        if !self.is_current() {
            return Err(Reject::at(
                Gate::Role,
                None,
                "policy decision unavailable: the policy store cannot be read",
            ));
        }
        match self.reach_of_principal(principal, resource, action).await {
            Ok(Some(reach)) => Ok(reach),
            Ok(None) => Err(Reject::at(
                Gate::Role,
                None,
                format!("role does not permit {action} on {resource}"),
            )),
            Err(e) => {
                tracing::error!(target: crate::log::TARGET, "authorization failed closed: {e}");
                Err(Reject::at(Gate::Role, None, "policy decision unavailable"))
            }
        }
    }
}

/// The shared policy version, advanced by every change to `casbin_rule`.
#[cfg(feature = "sql")]
mod sql {
    use casbin::{Adapter, Filter, Model};
    use sqlx::Row;

    use crate::store::{Store, StoreError};

    pub(super) async fn policy_version(store: &Store) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT version FROM policy_version WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .map_err(|e| StoreError::new("cannot read the policy version", e))
    }

    /// A casbin adapter over the `casbin_rule` table, for SQLite and PostgreSQL alike.
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    #[derive(Debug, Clone)]
    pub struct SqlAdapter {
        store: Store,
        filtered: bool,
    }

    impl SqlAdapter {
        /// An adapter over the store's `casbin_rule` table (see [`crate::store::MIGRATIONS`]).
        pub fn new(store: Store) -> Self {
            Self {
                store,
                filtered: false,
            }
        }

        async fn rows(&self) -> casbin::Result<Vec<Vec<String>>> {
            let rows =
                sqlx::query("SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule ORDER BY id")
                    .fetch_all(self.store.pool())
                    .await
                    .map_err(adapter_error)?;
            rows.iter()
                .map(|row| {
                    (0..7)
                        .map(|i| row.try_get::<String, _>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<_, _>>()
                .map_err(adapter_error)
        }

        async fn insert(&self, ptype: &str, rules: &[Vec<String>]) -> casbin::Result<bool> {
            let mut tx = self.store.pool().begin().await.map_err(adapter_error)?;
            for rule in rules {
                rule_query(INSERT_RULE, ptype, rule)
                    .execute(&mut *tx)
                    .await
                    .map_err(adapter_error)?;
            }
            tx.commit().await.map_err(adapter_error)?;
            Ok(true)
        }

        async fn delete(&self, ptype: &str, rules: &[Vec<String>]) -> casbin::Result<bool> {
            let mut tx = self.store.pool().begin().await.map_err(adapter_error)?;
            let mut all = true;
            for rule in rules {
                let done = rule_query(DELETE_RULE, ptype, rule)
                    .execute(&mut *tx)
                    .await
                    .map_err(adapter_error)?;
                all &= done.rows_affected() > 0;
            }
            tx.commit().await.map_err(adapter_error)?;
            Ok(all)
        }
    }

    const INSERT_RULE: &str = "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    const DELETE_RULE: &str = "DELETE FROM casbin_rule \
         WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 AND v3 = $5 AND v4 = $6 AND v5 = $7";

    /// `statement` (one of the constants above) with a rule's type and six values bound.
    fn rule_query(
        statement: &'static str,
        ptype: &str,
        rule: &[String],
    ) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(statement).bind(ptype.to_owned());
        for value in padded(rule) {
            query = query.bind(value);
        }
        query
    }

    fn padded(rule: &[String]) -> [String; 6] {
        std::array::from_fn(|i| rule.get(i).cloned().unwrap_or_default())
    }

    fn adapter_error(e: impl std::fmt::Display) -> casbin::Error {
        let message = crate::guards::secrets::redact(&e.to_string()).text;
        casbin::Error::AdapterError(casbin::error::AdapterError(Box::new(
            std::io::Error::other(message),
        )))
    }

    /// A stored row as the model wants it: section, type and the non-empty
    /// trailing values. A grant without its reach (written by hand, or by a
    /// release older than object-level rules) is skipped and logged: it
    /// grants nothing, and leaves every other decision as it was.
    fn load_row(model: &mut dyn Model, row: &[String]) {
        let ptype = &row[0];
        let Some(sec) = ptype.get(..1) else { return };
        let mut rule: Vec<String> = row[1..].to_vec();
        while rule.last().is_some_and(String::is_empty) {
            rule.pop();
        }
        if sec == "p" && !matches!(rule.get(3).map(String::as_str), Some("any" | "own")) {
            tracing::error!(target: crate::log::TARGET,
                "policy row skipped: a grant needs a reach of `any` or `own` as its fourth value ({})",
                crate::log::escape_within(&rule.join(", "), 256));
            return;
        }
        model.add_policy(sec, ptype, rule);
    }

    #[async_trait::async_trait]
    impl Adapter for SqlAdapter {
        async fn load_policy(&mut self, model: &mut dyn Model) -> casbin::Result<()> {
            self.filtered = false;
            for row in self.rows().await? {
                load_row(model, &row);
            }
            Ok(())
        }

        async fn load_filtered_policy<'a>(
            &mut self,
            model: &mut dyn Model,
            f: Filter<'a>,
        ) -> casbin::Result<()> {
            for row in self.rows().await? {
                let wanted = match row[0].get(..1) {
                    Some("p") => &f.p,
                    Some("g") => &f.g,
                    _ => continue,
                };
                let keep = wanted
                    .iter()
                    .enumerate()
                    .all(|(i, w)| w.is_empty() || row.get(i + 1).is_some_and(|v| v == w));
                if keep {
                    load_row(model, &row);
                } else {
                    self.filtered = true;
                }
            }
            Ok(())
        }

        async fn save_policy(&mut self, model: &mut dyn Model) -> casbin::Result<()> {
            let mut tx = self.store.pool().begin().await.map_err(adapter_error)?;
            sqlx::query("DELETE FROM casbin_rule")
                .execute(&mut *tx)
                .await
                .map_err(adapter_error)?;
            for sec in ["p", "g"] {
                let Some(map) = model.get_model().get(sec) else {
                    continue;
                };
                for (ptype, assertion) in map {
                    for rule in assertion.get_policy() {
                        rule_query(INSERT_RULE, ptype, rule)
                            .execute(&mut *tx)
                            .await
                            .map_err(adapter_error)?;
                    }
                }
            }
            tx.commit().await.map_err(adapter_error)
        }

        async fn clear_policy(&mut self) -> casbin::Result<()> {
            sqlx::query("DELETE FROM casbin_rule")
                .execute(self.store.pool())
                .await
                .map_err(adapter_error)?;
            Ok(())
        }

        fn is_filtered(&self) -> bool {
            self.filtered
        }

        async fn add_policy(
            &mut self,
            _sec: &str,
            ptype: &str,
            rule: Vec<String>,
        ) -> casbin::Result<bool> {
            self.insert(ptype, &[rule]).await
        }

        async fn add_policies(
            &mut self,
            _sec: &str,
            ptype: &str,
            rules: Vec<Vec<String>>,
        ) -> casbin::Result<bool> {
            self.insert(ptype, &rules).await
        }

        async fn remove_policy(
            &mut self,
            _sec: &str,
            ptype: &str,
            rule: Vec<String>,
        ) -> casbin::Result<bool> {
            self.delete(ptype, &[rule]).await
        }

        async fn remove_policies(
            &mut self,
            _sec: &str,
            ptype: &str,
            rules: Vec<Vec<String>>,
        ) -> casbin::Result<bool> {
            self.delete(ptype, &rules).await
        }

        async fn remove_filtered_policy(
            &mut self,
            _sec: &str,
            ptype: &str,
            field_index: usize,
            field_values: Vec<String>,
        ) -> casbin::Result<bool> {
            // Select matching rows, then delete them by id: the query text stays
            // static, and only values are bound.
            let rows = sqlx::query(
                "SELECT id, ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule WHERE ptype = $1",
            )
            .bind(ptype)
            .fetch_all(self.store.pool())
            .await
            .map_err(adapter_error)?;
            let mut removed = false;
            for row in rows {
                let id: i64 = row
                    .try_get::<i64, _>(0)
                    .or_else(|_| row.try_get::<i32, _>(0).map(i64::from))
                    .map_err(adapter_error)?;
                let values: Vec<String> = (2..8)
                    .map(|i| row.try_get::<String, _>(i))
                    .collect::<Result<_, _>>()
                    .map_err(adapter_error)?;
                let matches = field_values
                    .iter()
                    .enumerate()
                    .all(|(i, want)| want.is_empty() || values.get(field_index + i) == Some(want));
                if matches {
                    sqlx::query("DELETE FROM casbin_rule WHERE id = $1")
                        .bind(id)
                        .execute(self.store.pool())
                        .await
                        .map_err(adapter_error)?;
                    removed = true;
                }
            }
            Ok(removed)
        }
    }
}
