//! Rate-limit buckets in the SQL store, shared by the replicas that use it:
//! one row per subject, and one per subject and tool with a rate, each
//! updated in one atomic statement.
//!
//! A row holds the instant its bucket is full again (GCRA), in microseconds
//! of the database's clock, so replicas whose clocks differ still agree. A
//! lease takes as many tokens as were asked and fit, or none, and says how
//! long until one fits; [`crate::limit::Limiter::shared`] spends them.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::Row;

use crate::future::BoxFuture;
use crate::limit::{Leased, QuotaError, Quotas, Rate};
use crate::store::{Backend, Store};

/// How often a replica deletes the rows of its server whose buckets are
/// full again: such a row is the same as no row.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Buckets in `rate_quota`, keyed by server, subject and tool.
#[derive(Debug)]
pub struct SqlQuotas {
    store: Store,
    server: String,
    lease: String,
    empty: String,
    swept: Mutex<Instant>,
}

impl SqlQuotas {
    /// The buckets of `server` (the quotas of one server's replicas) in
    /// `store`, which must be migrated.
    pub fn new(store: Store, server: &str) -> Self {
        Self {
            lease: lease_sql(store.backend()),
            empty: format!(
                "SELECT full_us, {} AS at_us FROM rate_quota \
                 WHERE server = $1 AND subject = $2 AND tool = $3",
                now_us(store.backend())
            ),
            store,
            server: server.to_owned(),
            swept: Mutex::new(Instant::now()),
        }
    }

    /// Deletes this server's rows whose buckets are full again, at most once
    /// per [`SWEEP_EVERY`], beside the calls.
    fn sweep(&self) {
        {
            let mut swept = self
                .swept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if swept.elapsed() < SWEEP_EVERY {
                return;
            }
            *swept = Instant::now();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let sql = format!(
            "DELETE FROM rate_quota WHERE server = $1 AND full_us < {}",
            now_us(self.store.backend())
        );
        let pool = self.store.pool().clone();
        let server = self.server.clone();
        runtime.spawn(async move {
            let deleted = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(server)
                .execute(&pool)
                .await;
            if let Err(error) = deleted {
                tracing::warn!(%error, "cannot delete full rate-limit buckets");
            }
        });
    }
}

/// The database's clock in microseconds since the epoch, the same for the
/// whole statement.
fn now_us(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000 AS BIGINT)",
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    }
}

/// The key of a bucket: `''` for the subject's own, `tool:` and the name for
/// a tool's, so that no tool name can stand for the subject's own.
fn tool_key(tool: Option<&str>) -> std::borrow::Cow<'static, str> {
    match tool {
        None => "".into(),
        Some(name) => format!("tool:{name}").into(),
    }
}

/// The microseconds per token of `rate`, at least one.
fn token_us(rate: Rate) -> i64 {
    i64::try_from(rate.per.as_micros() / u128::from(rate.calls.max(1)))
        .unwrap_or(i64::MAX)
        .max(1)
}

/// One lease as one statement: `$4` is the microseconds per token, `$5` the
/// burst in tokens, `$6` the tokens asked. The row's old values are read
/// under its lock, so concurrent leases of replicas serialise on it. A lease
/// that fits no token writes nothing and returns no row.
fn lease_sql(backend: Backend) -> String {
    let (max, min) = match backend {
        Backend::Postgres => ("GREATEST", "LEAST"),
        Backend::Sqlite => ("max", "min"),
    };
    let now = now_us(backend);
    // The tokens that fit: up to `now + burst` from where the bucket is.
    let fit = format!(
        "{min}($6, {max}(0, (EXCLUDED.at_us + $4 * $5 - {max}(q.full_us, EXCLUDED.at_us)) / $4))"
    );
    format!(
        "INSERT INTO rate_quota AS q (server, subject, tool, full_us, at_us, granted) \
         VALUES ($1, $2, $3, {now} + {min}($6, $5) * $4, {now}, {min}($6, $5)) \
         ON CONFLICT (server, subject, tool) DO UPDATE SET \
         granted = {fit}, \
         full_us = {max}(q.full_us, EXCLUDED.at_us) + {fit} * $4, \
         at_us = EXCLUDED.at_us \
         WHERE {fit} > 0 \
         RETURNING granted, full_us, at_us"
    )
}

fn failed(error: impl std::fmt::Display) -> QuotaError {
    QuotaError(crate::store::StoreError::new("rate quota", error).to_string())
}

impl Quotas for SqlQuotas {
    fn lease<'a>(
        &'a self,
        subject: &'a str,
        tool: Option<&'a str>,
        rate: Rate,
        want: u32,
    ) -> BoxFuture<'a, Result<Leased, QuotaError>> {
        Box::pin(async move {
            self.sweep();
            let token = token_us(rate);
            let tool = tool_key(tool);
            let row = sqlx::query(sqlx::AssertSqlSafe(self.lease.as_str()))
                .bind(self.server.as_str())
                .bind(subject)
                .bind(tool.as_ref())
                .bind(token)
                .bind(i64::from(rate.calls.max(1)))
                .bind(i64::from(want.max(1)))
                .fetch_optional(self.store.pool())
                .await
                .map_err(failed)?;
            if let Some(row) = row {
                let granted: i64 = row.try_get("granted").map_err(failed)?;
                return Ok(Leased {
                    tokens: u32::try_from(granted.clamp(1, i64::from(want.max(1)))).unwrap_or(1),
                    wait: Duration::ZERO,
                });
            }
            // Nothing fit: until one more token fits within the burst. A row
            // deleted meanwhile was full, and is asked again a token later.
            let row = sqlx::query(sqlx::AssertSqlSafe(self.empty.as_str()))
                .bind(self.server.as_str())
                .bind(subject)
                .bind(tool.as_ref())
                .fetch_optional(self.store.pool())
                .await
                .map_err(failed)?;
            let burst = token.saturating_mul(i64::from(rate.calls.max(1)));
            let wait = match row {
                Some(row) => {
                    let full: i64 = row.try_get("full_us").map_err(failed)?;
                    let at: i64 = row.try_get("at_us").map_err(failed)?;
                    full.max(at).saturating_add(token) - at.saturating_add(burst)
                }
                None => token,
            };
            Ok(Leased {
                tokens: 0,
                wait: Duration::from_micros(u64::try_from(wait).unwrap_or(0).max(1)),
            })
        })
    }

    fn refund<'a>(
        &'a self,
        subject: &'a str,
        tool: Option<&'a str>,
        rate: Rate,
        tokens: u32,
    ) -> BoxFuture<'a, Result<(), QuotaError>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE rate_quota SET full_us = full_us - $4 * $5 \
                 WHERE server = $1 AND subject = $2 AND tool = $3",
            )
            .bind(self.server.as_str())
            .bind(subject)
            .bind(tool_key(tool).as_ref())
            .bind(token_us(rate))
            .bind(i64::from(tokens))
            .execute(self.store.pool())
            .await
            .map(drop)
            .map_err(failed)
        })
    }
}
