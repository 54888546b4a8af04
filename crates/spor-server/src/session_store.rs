//! Where browser sessions are kept: [`SledSessions`], a tree in the accounts
//! database inside the data directory, so that a copy of the stopped
//! directory is a whole backup and a restart keeps everyone signed in.
//!
//! A session holds only who is signed in (the account's name and a digest
//! that changes with its password and second factor), or how far a login has
//! come; never a password, a code or a participant's data. An expired session
//! is never handed out, even before the cleanup task has removed it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Browser sessions behind the `tower_sessions` trait, so that a PostgreSQL
/// backend can stand in for sled. Cheap to clone.
#[derive(Clone)]
pub struct Sessions(Arc<dyn SessionStore>);

impl Sessions {
    pub fn new(store: impl SessionStore) -> Self {
        Self(Arc::new(store))
    }
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sessions")
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// Sessions in a sled tree: the key is the session id, the value the record
/// as JSON (its data is JSON values already).
#[derive(Clone)]
pub struct SledSessions {
    tree: sled::Tree,
}

impl fmt::Debug for SledSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SledSessions")
    }
}

/// The tree's name in the accounts database.
const TREE: &str = "sessions";

impl SledSessions {
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(Self {
            tree: db.open_tree(TREE)?,
        })
    }

    /// Removes every session that has expired; returns how many. The server
    /// runs it now and then; [`load`](SessionStore::load) never returns an
    /// expired one meanwhile.
    pub fn remove_expired(&self, now: OffsetDateTime) -> Result<usize, sled::Error> {
        let mut removed = 0;
        for entry in &self.tree {
            let (key, value) = entry?;
            // A record that cannot be read is of no use to anybody either.
            let expired = decode(&value).is_none_or(|r| r.expiry_date <= now);
            if expired
                && self
                    .tree
                    .compare_and_swap(&key, Some(value), None::<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Every ten minutes until `shutdown`, removes the sessions that have
/// expired (an expired session is never loaded meanwhile).
pub async fn remove_expired_sessions(
    sessions: SledSessions,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let sessions = sessions.clone();
        let now = OffsetDateTime::now_utc();
        match tokio::task::spawn_blocking(move || sessions.remove_expired(now)).await {
            Ok(Ok(removed)) => tracing::debug!(removed, "expired sessions removed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "expired sessions could not be removed"),
            Err(_) => tracing::warn!("the task removing expired sessions failed"),
        }
    }
}

fn key(id: &Id) -> [u8; 16] {
    id.0.to_be_bytes()
}

fn decode(bytes: &[u8]) -> Option<Record> {
    serde_json::from_slice(bytes).ok()
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn backend(e: &sled::Error) -> session_store::Error {
    session_store::Error::Backend(format!("the session store failed: {e}"))
}

#[async_trait]
impl SessionStore for SledSessions {
    /// Stores a new session under a fresh id: an id already taken is drawn
    /// again, never overwritten.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let value = encode(record)?;
            match self
                .tree
                .compare_and_swap(key(&record.id), None::<&[u8]>, Some(value))
                .map_err(|e| backend(&e))?
            {
                Ok(()) => return Ok(()),
                Err(_) => record.id = Id::default(),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.tree
            .insert(key(&record.id), encode(record)?)
            .map_err(|e| backend(&e))?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(bytes) = self.tree.get(key(id)).map_err(|e| backend(&e))? else {
            return Ok(None);
        };
        let record = decode(&bytes).ok_or_else(|| {
            session_store::Error::Decode("a stored session could not be read".to_owned())
        })?;
        Ok((record.expiry_date > OffsetDateTime::now_utc()).then_some(record))
    }

    /// Removes the session and waits until the removal is on disk: a crash
    /// right after a logout must not bring the session back.
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.tree.remove(key(id)).map_err(|e| backend(&e))?;
        self.tree.flush_async().await.map_err(|e| backend(&e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tower_sessions::cookie::time::Duration;

    use super::*;

    fn store() -> SledSessions {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .expect("a temporary sled");
        SledSessions::open(&db).expect("the tree")
    }

    fn record(expires_in: Duration) -> Record {
        let mut data = HashMap::new();
        data.insert("who".to_owned(), serde_json::json!("veileder"));
        Record {
            id: Id::default(),
            data,
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn a_session_is_loaded_until_it_expires_and_never_after() {
        let store = store();
        let mut live = record(Duration::minutes(30));
        store.create(&mut live).await.expect("created");
        assert_eq!(
            store.load(&live.id).await.expect("loaded"),
            Some(live.clone())
        );

        let mut stale = record(Duration::seconds(-1));
        store.create(&mut stale).await.expect("created");
        assert_eq!(
            store.load(&stale.id).await.expect("loaded"),
            None,
            "an expired session is not handed out"
        );

        assert_eq!(
            store
                .remove_expired(OffsetDateTime::now_utc())
                .expect("cleaned"),
            1
        );
        assert_eq!(store.tree.len(), 1, "the live one stays");
        store.delete(&live.id).await.expect("deleted");
        assert_eq!(store.load(&live.id).await.expect("loaded"), None);
    }

    #[tokio::test]
    async fn create_never_overwrites_a_session_with_the_same_id() {
        let store = store();
        let mut first = record(Duration::minutes(30));
        store.create(&mut first).await.expect("created");
        let mut second = record(Duration::minutes(30));
        second.id = first.id;
        store.create(&mut second).await.expect("created");
        assert_ne!(second.id, first.id, "a taken id is drawn again");
        assert_eq!(store.load(&first.id).await.expect("loaded"), Some(first));
    }
}
