//! The id index in sled: event id to sequence number, with a watermark of
//! how far it covers the log, caught up from the log when the store opens.

use spor_domain::EventId;

use super::{ID, META_APPLIED, SledStore, Writer, lock};
use crate::{EventStore, StoreError};
impl SledStore {
    /// The last sequence number the indexes cover.
    pub(super) fn applied(&self) -> Result<u64, StoreError> {
        match self.tree.get(META_APPLIED).map_err(|e| self.sled_err(e))? {
            None => Ok(0),
            Some(v) => seq_value(&v).ok_or_else(|| self.corrupt("malformed index watermark")),
        }
    }

    /// Replays records the indexes do not cover yet (sled flushes in the
    /// background, so a crash can leave them behind the log).
    pub(super) fn catch_up_indexes(&self) -> Result<(), StoreError> {
        let applied = self.applied()?;
        let head = lock(&self.writer).head.seq;
        if applied > head {
            return Err(self.corrupt(format!(
                "the indexes cover seq {applied}, but the log ends at seq {head}: records are missing from the log"
            )));
        }
        if applied == head {
            return Ok(());
        }
        tracing::info!(
            from = applied + 1,
            to = head,
            "bringing the id index up to the log"
        );
        let mut batch = sled::Batch::default();
        let mut in_batch = 0usize;
        let mut last = applied;
        self.scan(applied + 1, &mut |seq, event| {
            batch.insert(&id_key(event.id)[..], &seq.to_be_bytes()[..]);
            in_batch += 1;
            last = seq;
            if in_batch >= 50_000 {
                batch.insert(META_APPLIED, &last.to_be_bytes()[..]);
                self.tree
                    .apply_batch(std::mem::take(&mut batch))
                    .map_err(|e| self.sled_err(e))?;
                in_batch = 0;
            }
            Ok(())
        })?;
        batch.insert(META_APPLIED, &last.to_be_bytes()[..]);
        self.tree.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        self.tree.flush().map_err(|e| self.sled_err(e))?;
        Ok(())
    }

    /// The sequence number of an id: pending first, then the index.
    pub(super) fn seq_of(&self, w: &Writer, id: EventId) -> Result<Option<u64>, StoreError> {
        if let Some(seq) = w.pending_ids.get(&id) {
            return Ok(Some(*seq));
        }
        match self.tree.get(id_key(id)).map_err(|e| self.sled_err(e))? {
            None => Ok(None),
            Some(v) => Ok(Some(
                seq_value(&v).ok_or_else(|| self.corrupt("malformed id index value"))?,
            )),
        }
    }

    /// sled's errors: its own I/O failures are disk failures; everything
    /// else (a checksum that failed on a page, a bug report) means its files
    /// cannot be trusted. The index is derived from the log, so the remedy
    /// named in docs/store.md is to move `sled/` aside and reopen.
    pub(super) fn sled_err(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) => StoreError::Io(io),
            other => self.corrupt(format!("the id index (sled): {other}")),
        }
    }
}

pub(crate) fn id_key(id: EventId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = ID;
    k[1..].copy_from_slice(id.0.as_bytes());
    k
}

pub(crate) fn seq_value(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}
