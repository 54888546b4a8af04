//! Imports that land whole (reliability D2): a marker file names where an
//! import began; one that never ended is rolled back when the store opens,
//! and one refused part-way is rolled back at once.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::{META_APPLIED, SledStore, id_key, lock};
use crate::dir;
use crate::record::{self, Hash};
use crate::{Appended, EventStore, Head, StoreError, StreamAppend};

/// The marker file of an import in progress (see [`SledStore::begin_import`]).
pub(super) const IMPORT_FILE: &str = "spor.import";

/// What the marker says: the first sequence number of the import, the log's
/// length and the head's hash before it.
pub(super) struct ImportMark {
    start: u64,
    offset: u64,
    hash: Hash,
}

impl ImportMark {
    fn text(&self) -> String {
        format!(
            "spor import in progress\n{} {} {}\n",
            self.start,
            self.offset,
            hex::encode(self.hash)
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        (lines.next()? == "spor import in progress").then_some(())?;
        let mut fields = lines.next()?.split(' ');
        let start = fields.next()?.parse().ok().filter(|s| *s >= 1)?;
        let offset = fields.next()?.parse().ok()?;
        let hash = hex::decode(fields.next()?).ok()?.try_into().ok()?;
        Some(Self {
            start,
            offset,
            hash,
        })
    }
}

impl SledStore {
    /// An import that began but never ended (a crash, a kill) is rolled
    /// back: its ids leave the index, the head file goes back to the head
    /// before it, the log is cut where it began, and only then is the marker
    /// removed. Each step is durable before the next, and each is harmless
    /// to repeat, so a crash during the rollback is rolled back again.
    pub(super) fn roll_back_unfinished_import(&self) -> Result<(), StoreError> {
        let path = self.dir.join(IMPORT_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Io(e)),
        };
        let mark = ImportMark::parse(&text).ok_or_else(|| {
            self.corrupt(format!(
                "{} is unreadable; it marks an import that did not end",
                path.display()
            ))
        })?;
        let (head, first_offset) = {
            let w = lock(&self.writer);
            (
                w.head,
                w.offsets
                    .get(usize::try_from(mark.start - 1).unwrap_or(usize::MAX))
                    .copied(),
            )
        };
        // The marker must describe this log: the import's first record where
        // it says, chained to the head it says (or, if nothing of the import
        // was written, the log ending where it began).
        let matches = match first_offset {
            Some(offset) => {
                let mut header = [0u8; record::HEADER];
                self.log.read_exact_at(&mut header, offset)?;
                offset == mark.offset && header[10..42] == mark.hash
            }
            None => {
                mark.start == head.seq + 1
                    && mark.offset == lock(&self.writer).end
                    && mark.hash == head.hash
            }
        };
        if !matches {
            return Err(self.corrupt(format!(
                "{} marks an import from seq {} at offset {}, which does not match the log",
                path.display(),
                mark.start,
                mark.offset
            )));
        }
        if mark.start <= head.seq {
            tracing::warn!(
                from = mark.start,
                to = head.seq,
                "rolling back an import that did not end"
            );
            let mut batch = sled::Batch::default();
            self.scan(mark.start, &mut |_, event| {
                batch.remove(&id_key(event.id)[..]);
                Ok(())
            })?;
            batch.insert(META_APPLIED, &(mark.start - 1).to_be_bytes()[..]);
            self.tree.apply_batch(batch).map_err(|e| self.sled_err(e))?;
            self.tree.flush().map_err(|e| self.sled_err(e))?;
            let before = Head {
                seq: mark.start - 1,
                hash: mark.hash,
            };
            self.head_file.write(before)?;
            self.head_file.sync()?;
            self.log.set_len(mark.offset)?;
            self.log.sync_all()?;
            let mut w = lock(&self.writer);
            w.head = before;
            w.end = mark.offset;
            w.offsets
                .truncate(usize::try_from(mark.start - 1).unwrap_or(usize::MAX));
            w.streams.retain(|_, seqs| {
                seqs.retain(|s| *s < mark.start);
                !seqs.is_empty()
            });
        }
        std::fs::remove_file(&path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    /// Marks the start of an import that must land whole: until
    /// [`SledStore::end_import`], a crash rolls back everything appended
    /// since, when the store is next opened. [`EventStore::append_all`] is
    /// built on this pair; tests call it directly to leave an import unended.
    pub fn begin_import(&self) -> Result<(), StoreError> {
        let path = self.dir.join(IMPORT_FILE);
        if path.exists() {
            // Another import of this process failed part-way; it is rolled
            // back when the store is next opened, and must stay so.
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} marks an import that did not end; reopen the data directory to roll it back",
                    path.display()
                ),
            )));
        }
        let mark = {
            let w = lock(&self.writer);
            ImportMark {
                start: w.head.seq + 1,
                offset: w.end,
                hash: w.head.hash,
            }
        };
        dir::write_atomically(&path, mark.text().as_bytes())?;
        Ok(())
    }

    /// The import begun has landed whole; nothing will be rolled back.
    pub fn end_import(&self) -> Result<(), StoreError> {
        std::fs::remove_file(self.dir.join(IMPORT_FILE))?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    pub(super) fn append_whole(
        &self,
        batches: &mut dyn Iterator<Item = Vec<StreamAppend>>,
        durable: &mut dyn FnMut(usize),
    ) -> Result<Appended, StoreError> {
        let mut batches = batches.peekable();
        let mut done = Appended::default();
        let Some(first) = batches.next() else {
            return Ok(done);
        };
        // One event needs no marker: one append is whole by itself.
        let single =
            batches.peek().is_none() && first.iter().map(|a| a.events.len()).sum::<usize>() <= 1;
        if !single {
            self.begin_import()?;
        }
        let result = self.append_batches(
            std::iter::once(first).chain(batches),
            single,
            durable,
            &mut done,
        );
        if result.is_err() && !single && self.dir.join(IMPORT_FILE).exists() {
            // The marker stayed (a failed write, sync or rollback): anything
            // written now would be taken back with the import at the next open.
            self.unfinished_import
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        result.map(|()| done)
    }

    fn append_batches(
        &self,
        batches: impl Iterator<Item = Vec<StreamAppend>>,
        single: bool,
        durable: &mut dyn FnMut(usize),
        done: &mut Appended,
    ) -> Result<(), StoreError> {
        for batch in batches {
            let n = batch.iter().map(|a| a.events.len()).sum();
            let out = match self.append(&batch) {
                Ok(out) => out,
                // A refused batch (a conflict, an id) is rolled back at once,
                // so the store is whole again and the next import may begin.
                // After a failed write or sync nothing may touch the log: the
                // marker stays, and the next open rolls it back.
                Err(e) if single => return Err(e),
                Err(e @ (StoreError::Stopped(_) | StoreError::Io(_))) => return Err(e),
                Err(e) => {
                    self.roll_back_unfinished_import()?;
                    return Err(e);
                }
            };
            done.stored.extend(out.stored);
            done.already.extend(out.already);
            durable(n);
        }
        if !single {
            self.end_import()?;
        }
        Ok(())
    }
}
