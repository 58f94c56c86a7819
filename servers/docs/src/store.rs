//! The `documents` table, through the runtime's store (one pool, one set of
//! migrations for documents, policies and audit alike).

use secure_tool::store::{Backend, Migration, Store};
use secure_tool::{Grant, Reject};
use sqlx::Row as _;

/// doc-server's own migrations, run together with the runtime's.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 100,
    description: "documents",
    sqlite: include_str!("../migrations/0100_documents.sqlite.sql"),
    postgres: include_str!("../migrations/0100_documents.postgres.sql"),
}];

/// One stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its id, from 1.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its body.
    pub content: String,
    /// The subject that created it.
    pub created_by: String,
}

/// The documents of a store.
#[derive(Debug, Clone)]
pub struct Documents {
    store: Store,
}

/// A database failure, as a rejection whose message carries no credential.
fn failed(e: sqlx::Error) -> Reject {
    let message = secure_tool::guards::secrets::redact(&format!("database error: {e}")).text;
    Reject::new(message)
}

fn missing(id: i64) -> Reject {
    Reject::field("id", format!("document {id} does not exist"))
}

/// The rows a statement on `id` touched; none means `id` does not exist.
fn affected(id: i64, rows: u64) -> Result<u64, Reject> {
    match rows {
        0 => Err(missing(id)),
        n => Ok(n),
    }
}

impl Documents {
    /// The documents of `store`, which must be migrated with [`MIGRATIONS`].
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stores a new document and returns its id.
    pub async fn create(
        &self,
        title: &str,
        content: &str,
        created_by: &str,
    ) -> Result<i64, Reject> {
        let row = sqlx::query(
            "INSERT INTO documents (title, content, created_by, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(title)
        .bind(content)
        .bind(created_by)
        .bind(secure_tool::audit::now_ms())
        .fetch_one(self.store.pool())
        .await
        .map_err(failed)?;
        row.try_get::<i64, _>(0).map_err(failed)
    }

    /// The document `id`.
    pub async fn read(&self, id: i64) -> Result<Document, Reject> {
        let row = sqlx::query("SELECT id, title, content, created_by FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(failed)?
            .ok_or_else(|| missing(id))?;
        Ok(Document {
            id: row.try_get(0).map_err(failed)?,
            title: row.try_get(1).map_err(failed)?,
            content: row.try_get(2).map_err(failed)?,
            created_by: row.try_get(3).map_err(failed)?,
        })
    }

    /// Replaces the content of `id`, if `grant` reaches it; refuses an id
    /// that does not exist or another owner's document for a grant that
    /// reaches only the caller's own.
    pub async fn update(&self, id: i64, content: &str, grant: &Grant) -> Result<u64, Reject> {
        // The owner is checked by the statement that writes: no window
        // between a check and the change.
        let statement = match grant.owner() {
            None => "UPDATE documents SET content = $1 WHERE id = $2",
            Some(_) => "UPDATE documents SET content = $1 WHERE id = $2 AND created_by = $3",
        };
        let mut query = sqlx::query(statement).bind(content).bind(id);
        if let Some(owner) = grant.owner() {
            query = query.bind(owner);
        }
        let done = query.execute(self.store.pool()).await.map_err(failed)?;
        self.touched(id, done.rows_affected(), grant).await
    }

    /// Deletes `id`, if `grant` reaches it; refuses as [`Documents::update`] does.
    pub async fn delete(&self, id: i64, grant: &Grant) -> Result<u64, Reject> {
        let statement = match grant.owner() {
            None => "DELETE FROM documents WHERE id = $1",
            Some(_) => "DELETE FROM documents WHERE id = $1 AND created_by = $2",
        };
        let mut query = sqlx::query(statement).bind(id);
        if let Some(owner) = grant.owner() {
            query = query.bind(owner);
        }
        let done = query.execute(self.store.pool()).await.map_err(failed)?;
        self.touched(id, done.rows_affected(), grant).await
    }

    /// The rows a statement limited to `grant` touched; none means `id` does
    /// not exist, or belongs to someone the grant does not reach.
    async fn touched(&self, id: i64, rows: u64, grant: &Grant) -> Result<u64, Reject> {
        if rows > 0 || grant.owner().is_none() {
            return affected(id, rows);
        }
        let exists = sqlx::query("SELECT 1 FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(failed)?
            .is_some();
        if exists {
            Err(grant.refusal())
        } else {
            Err(missing(id))
        }
    }

    /// How many documents there are.
    pub async fn count(&self) -> Result<i64, Reject> {
        let row = sqlx::query("SELECT COUNT(*) FROM documents")
            .fetch_one(self.store.pool())
            .await
            .map_err(failed)?;
        row.try_get::<i64, _>(0).map_err(failed)
    }

    /// Empties the table and restarts ids at 1. Only `--demo` does this.
    pub async fn reset(&self) -> Result<(), Reject> {
        let statements: &[&'static str] = match self.store.backend() {
            Backend::Sqlite => &[
                "DELETE FROM documents",
                "DELETE FROM sqlite_sequence WHERE name = 'documents'",
            ],
            Backend::Postgres => &["TRUNCATE documents RESTART IDENTITY"],
        };
        for statement in statements {
            sqlx::query(*statement)
                .execute(self.store.pool())
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}
