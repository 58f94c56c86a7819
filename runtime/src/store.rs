//! The SQL store: one pool and one set of migrations for policies, audit and the
//! application's own tables. SQLite by default, PostgreSQL when the URL says so,
//! chosen at run time from the URL, in one binary. Queries are built at run
//! time, so building never needs a database.

use std::fmt;

#[cfg(feature = "sql")]
pub use sql::Store;

/// The database behind a `Store` (feature `sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (or `sqlite::memory:`).
    Sqlite,
    /// A PostgreSQL server, shared by replicas.
    Postgres,
}

/// One schema change, written once per dialect.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version. The runtime uses 1–99; applications use 100 and above.
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// The SQLite text.
    pub sqlite: &'static str,
    /// The PostgreSQL text.
    pub postgres: &'static str,
}

/// The runtime's own tables: `casbin_rule`, the append-only `audit_log` and
/// `audit_attempt`, the `policy_version` counter replicas poll, the
/// `consent_spent` states that make a consent usable once, and the
/// `rate_quota` buckets replicas share.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "policies and audit",
        sqlite: include_str!("../migrations/0001_policies_and_audit.sqlite.sql"),
        postgres: include_str!("../migrations/0001_policies_and_audit.postgres.sql"),
    },
    Migration {
        version: 2,
        description: "policy version",
        sqlite: include_str!("../migrations/0002_policy_version.sqlite.sql"),
        postgres: include_str!("../migrations/0002_policy_version.postgres.sql"),
    },
    Migration {
        version: 3,
        description: "subject and role namespaces",
        sqlite: include_str!("../migrations/0003_namespaces.sqlite.sql"),
        postgres: include_str!("../migrations/0003_namespaces.postgres.sql"),
    },
    Migration {
        version: 4,
        description: "audit count",
        sqlite: include_str!("../migrations/0004_audit_count.sqlite.sql"),
        postgres: include_str!("../migrations/0004_audit_count.postgres.sql"),
    },
    Migration {
        version: 5,
        description: "write-ahead audit",
        sqlite: include_str!("../migrations/0005_audit_attempt.sqlite.sql"),
        postgres: include_str!("../migrations/0005_audit_attempt.postgres.sql"),
    },
    Migration {
        version: 6,
        description: "object-level reach",
        sqlite: include_str!("../migrations/0006_object_reach.sqlite.sql"),
        postgres: include_str!("../migrations/0006_object_reach.postgres.sql"),
    },
    Migration {
        version: 7,
        description: "consent states and approvals",
        sqlite: include_str!("../migrations/0007_consent.sql"),
        postgres: include_str!("../migrations/0007_consent.sql"),
    },
    Migration {
        version: 8,
        description: "audit hash chain",
        sqlite: include_str!("../migrations/0008_audit_chain.sql"),
        postgres: include_str!("../migrations/0008_audit_chain.sql"),
    },
    Migration {
        version: 9,
        description: "shared rate quotas",
        sqlite: include_str!("../migrations/0009_rate_quota.sqlite.sql"),
        postgres: include_str!("../migrations/0009_rate_quota.postgres.sql"),
    },
];

/// A store operation failed. The message never carries credentials.
#[derive(Debug)]
pub struct StoreError(String);

impl StoreError {
    #[cfg(any(feature = "sql", feature = "rbac"))]
    pub(crate) fn new(context: &str, error: impl fmt::Display) -> Self {
        Self(crate::guards::secrets::redact(&format!("{context}: {error}")).text)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

#[cfg(feature = "sql")]
mod sql {
    use std::borrow::Cow;
    use std::time::Duration;

    use sqlx::AnyPool;
    use sqlx::any::AnyPoolOptions;
    use sqlx::migrate::{MigrationType, Migrator};

    use super::{Backend, MIGRATIONS, Migration, StoreError};

    /// A pool over SQLite or PostgreSQL.
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    #[derive(Debug, Clone)]
    pub struct Store {
        pool: AnyPool,
        backend: Backend,
    }

    impl Store {
        /// Connects to `url`: `sqlite://path` (created if missing), `sqlite::memory:`,
        /// or `postgres://…`.
        pub async fn connect(url: &str) -> Result<Self, StoreError> {
            sqlx::any::install_default_drivers();
            let (backend, url, max) = if url.starts_with("sqlite:") {
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let url = if memory || url.contains("mode=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                // Each connection to `:memory:` would be a database of its own.
                (Backend::Sqlite, url, if memory { 1 } else { 4 })
            } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                (Backend::Postgres, url.to_owned(), 8)
            } else {
                return Err(StoreError::new(
                    "unsupported database URL",
                    "expected sqlite:// or postgres://",
                ));
            };
            let mut options = AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(5))
                // A connection to a file cannot drop like one over a network:
                // no ping before each use (a round trip to its thread).
                .test_before_acquire(backend == Backend::Postgres);
            if max == 1 {
                // `:memory:`: the database lives exactly as long as its one
                // connection, which is therefore never retired.
                options = options
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            if backend == Backend::Sqlite && max > 1 {
                // A file shared by several connections: write-ahead logging lets
                // readers proceed beside the one writer. `synchronous = FULL`
                // syncs the log at every commit, so what committed survives a
                // power loss as well as a crash (SQLite's default, stated here
                // so that it cannot change underneath).
                options = options.after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(
                            &mut *conn,
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL",
                        )
                        .await
                        .map(drop)
                    })
                });
            }
            let pool = options
                .connect(&url)
                .await
                .map_err(|e| StoreError::new("cannot connect to the database", e))?;
            Ok(Self { pool, backend })
        }

        /// Applies the runtime's migrations and the application's, as one set.
        pub async fn migrate(&self, application: &[Migration]) -> Result<(), StoreError> {
            self.migrate_to(i64::MAX, application).await
        }

        /// Applies the migrations up to and including `version`, as a database
        /// an older release left would have them: for staged upgrades and for
        /// tests of what a migration does to existing rows.
        pub async fn migrate_to(
            &self,
            version: i64,
            application: &[Migration],
        ) -> Result<(), StoreError> {
            let migrations = MIGRATIONS
                .iter()
                .chain(application)
                .filter(|m| m.version <= version)
                .map(|m| {
                    let sql = match self.backend {
                        Backend::Sqlite => m.sqlite,
                        Backend::Postgres => m.postgres,
                    };
                    sqlx::migrate::Migration::new(
                        m.version,
                        Cow::Borrowed(m.description),
                        MigrationType::Simple,
                        sqlx::SqlStr::from_static(sql),
                        false,
                    )
                })
                .collect();
            let mut migrator = Migrator::with_migrations(migrations);
            migrator.set_ignore_missing(true);
            migrator
                .run(&self.pool)
                .await
                .map_err(|e| StoreError::new("migration failed", e))
        }

        /// The pool, for the application's own queries.
        pub fn pool(&self) -> &AnyPool {
            &self.pool
        }

        /// Which database this is.
        pub fn backend(&self) -> Backend {
            self.backend
        }
    }
}
