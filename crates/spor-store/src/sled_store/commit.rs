//! Writing: records appended to the log under the writer lock, and a
//! leader-based group commit that makes them durable with one fdatasync for
//! everyone waiting, then moves them into the indexes.

use std::collections::HashMap;

use spor_domain::{EventId, ParticipantId, wire};

use super::{META_APPLIED, Pending, SledStore, Writer, id_key, lock};
use crate::record;
use crate::{Appended, Head, StoreError, StreamAppend};
impl SledStore {
    pub(super) fn stop(&self, w: &mut Writer, why: String) {
        tracing::error!(error = %why, "writing the log failed; refusing all further writes");
        w.stopped = Some(why.clone());
        let mut c = lock(&self.commit);
        c.failed.get_or_insert(why);
        self.synced.notify_all();
    }

    /// Waits until an fsync covers append `generation`, leading one if none runs.
    pub(super) fn wait_durable(&self, generation: u64) -> Result<(), StoreError> {
        let mut c = lock(&self.commit);
        loop {
            if c.durable >= generation {
                return Ok(());
            }
            if let Some(why) = &c.failed {
                return Err(StoreError::Stopped(why.clone()));
            }
            if c.syncing {
                c = self
                    .synced
                    .wait(c)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            c.syncing = true;
            drop(c);
            let (target, head) = {
                let w = lock(&self.writer);
                (w.written, w.head)
            };
            let result = self.disk.sync_data(&self.log);
            if result.is_ok() {
                // A hint for verify and recovery; the log is already durable,
                // so a failure here loses nothing.
                if let Err(e) = self.head_file.write(head) {
                    tracing::warn!(error = %e, "could not update spor.head");
                }
            }
            c = lock(&self.commit);
            c.syncing = false;
            let synced = match result {
                Ok(()) => {
                    c.durable = c.durable.max(target);
                    true
                }
                Err(e) => {
                    let why = e.to_string();
                    tracing::error!(error = %why, "sync of the log failed; refusing all further writes");
                    c.failed = Some(why.clone());
                    drop(c);
                    lock(&self.writer).stopped = Some(why);
                    c = lock(&self.commit);
                    false
                }
            };
            self.synced.notify_all();
            if synced {
                // Index what this sync made durable, off the commit path: the
                // next sync may already be running. One indexer at a time.
                drop(c);
                let indexed = {
                    let _one = lock(&self.indexing);
                    self.apply_indexes(head.seq)
                };
                if let Err(e) = indexed {
                    let why = e.to_string();
                    tracing::error!(error = %why, "updating the id index failed; refusing all further writes");
                    lock(&self.writer).stopped = Some(why.clone());
                    let mut failed = lock(&self.commit);
                    failed.failed.get_or_insert(why);
                    self.synced.notify_all();
                }
                c = lock(&self.commit);
            }
        }
    }

    /// Moves durable records up to `upto` from pending into the sled index.
    /// Writers keep appending meanwhile: the records stay visible as pending
    /// until sled has them, and one indexer at a time drains.
    pub(super) fn apply_indexes(&self, upto: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let (n, last) = {
            let w = lock(&self.writer);
            let n = w.pending.partition_point(|p| p.seq <= upto);
            if n == 0 {
                return Ok(());
            }
            for p in &w.pending[..n] {
                batch.insert(&id_key(p.id)[..], &p.seq.to_be_bytes()[..]);
            }
            (n, w.pending[n - 1].seq)
        };
        batch.insert(META_APPLIED, &last.to_be_bytes()[..]);
        self.tree.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        let mut w = lock(&self.writer);
        let done: Vec<Pending> = w.pending.drain(..n).collect();
        for p in done {
            w.pending_ids.remove(&p.id);
        }
        Ok(())
    }

    pub(super) fn stream_version(w: &Writer, p: ParticipantId) -> u32 {
        w.streams
            .get(&p)
            .map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX))
    }

    pub(super) fn commit(&self, appends: &[StreamAppend]) -> Result<Appended, StoreError> {
        let mut outcome = Appended::default();
        // An id found among records written but not yet synced is "already
        // stored" only once that sync is done: a retry must not be told so
        // before the first write is durable.
        let mut found_pending = false;
        let generation = {
            let mut w = lock(&self.writer);
            if let Some(why) = &w.stopped {
                return Err(StoreError::Stopped(why.clone()));
            }
            if self
                .unfinished_import
                .load(std::sync::atomic::Ordering::SeqCst)
            {
                return Err(StoreError::Stopped(
                    "an import did not end and is taken back when the store is next opened; nothing more is written until then".into(),
                ));
            }
            let mut buffer: Vec<u8> = Vec::new();
            let mut head = w.head;
            let mut offsets: Vec<u64> = Vec::new();
            let mut new_pending: Vec<Pending> = Vec::new();
            let mut new_streams: Vec<(ParticipantId, u64)> = Vec::new();
            let mut versions: HashMap<ParticipantId, u32> = HashMap::new();
            let mut ids_in_batch: HashMap<EventId, ()> = HashMap::new();
            for a in appends {
                let mut fresh = Vec::with_capacity(a.events.len());
                for e in &a.events {
                    if e.participant != a.participant {
                        return Err(StoreError::WrongStream {
                            id: e.id,
                            participant: a.participant,
                            stream: e.participant,
                        });
                    }
                    if let Some(seq) = self.seq_of(&w, e.id)? {
                        if self.read_event_locked(&w, seq)? == *e {
                            found_pending |= w.pending_ids.contains_key(&e.id);
                            outcome.already.push((seq, e.id));
                            continue;
                        }
                        return Err(StoreError::IdConflict { id: e.id });
                    }
                    if ids_in_batch.insert(e.id, ()).is_some() {
                        return Err(StoreError::IdConflict { id: e.id });
                    }
                    fresh.push(e);
                }
                if fresh.is_empty() {
                    continue;
                }
                let actual = match versions.get(&a.participant) {
                    Some(v) => *v,
                    None => Self::stream_version(&w, a.participant),
                };
                if actual != a.expected_version {
                    return Err(StoreError::Conflict {
                        participant: a.participant,
                        expected: a.expected_version,
                        actual,
                    });
                }
                let mut version = actual;
                for e in fresh {
                    let seq = head.seq + 1;
                    version += 1;
                    let bytes = record::encode(seq, &head.hash, &wire::to_line(e));
                    head = Head {
                        seq,
                        hash: record::hash(&bytes),
                    };
                    offsets.push(w.end + u64::try_from(buffer.len()).unwrap_or(u64::MAX));
                    buffer.extend_from_slice(&bytes);
                    new_pending.push(Pending { seq, id: e.id });
                    new_streams.push((a.participant, seq));
                    outcome.stored.push((seq, e.id));
                }
                versions.insert(a.participant, version);
            }
            if outcome.stored.is_empty() {
                let covering = found_pending.then_some(w.written);
                drop(w);
                if let Some(generation) = covering {
                    self.wait_durable(generation)?;
                }
                return Ok(outcome);
            }
            if let Err(e) = self.disk.write_at(&self.log, &buffer, w.end) {
                // Part of the buffer may be in the file: nothing after it may
                // be written, and the next open cuts the torn tail off.
                self.stop(&mut w, e.to_string());
                return Err(StoreError::Stopped(e.to_string()));
            }
            w.end += u64::try_from(buffer.len()).unwrap_or(u64::MAX);
            w.head = head;
            w.offsets.extend(offsets);
            for (p, seq) in new_streams {
                w.streams.entry(p).or_default().push(seq);
            }
            for p in &new_pending {
                w.pending_ids.insert(p.id, p.seq);
            }
            w.pending.extend(new_pending);
            w.written += 1;
            w.written
        };
        self.wait_durable(generation)?;
        Ok(outcome)
    }
}
