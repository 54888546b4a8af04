//! Reading records back: one by one at known offsets (checked on every
//! read), or the whole log in order with the parsing a chunk ahead.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;

use spor_domain::{Event, ParticipantId, wire};

use super::{LOG_FILE, SledStore, Writer, lock};
use crate::StoreError;
use crate::record;
impl SledStore {
    /// A copy of the in-memory stream index, for verify.
    pub(crate) fn stream_index(&self) -> HashMap<ParticipantId, Vec<u64>> {
        lock(&self.writer).streams.clone()
    }

    /// The encoded record `seq` (checked).
    pub(super) fn read_record(&self, seq: u64) -> Result<Vec<u8>, StoreError> {
        let w = lock(&self.writer);
        let offset = self.offset_of(&w, seq)?;
        drop(w);
        self.read_at(seq, offset)
    }

    /// Where record `seq` starts in the log file.
    pub(super) fn offset_of(&self, w: &Writer, seq: u64) -> Result<u64, StoreError> {
        let i = usize::try_from(
            seq.checked_sub(1)
                .ok_or_else(|| self.corrupt("seq 0 asked for"))?,
        )
        .unwrap_or(usize::MAX);
        w.offsets
            .get(i)
            .copied()
            .ok_or_else(|| self.corrupt(format!("index points at seq {seq}, past the log's end")))
    }

    /// The encoded record `seq` at `offset`: its header says how long it is.
    pub(super) fn read_at(&self, seq: u64, offset: u64) -> Result<Vec<u8>, StoreError> {
        let mut header = [0u8; record::HEADER];
        self.log.read_exact_at(&mut header, offset)?;
        let len =
            record::payload_len(&header).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
        let mut bytes = vec![0u8; record::HEADER + len + record::TRAILER];
        self.log.read_exact_at(&mut bytes, offset)?;
        Ok(bytes)
    }

    pub(super) fn read_event(&self, seq: u64) -> Result<Event, StoreError> {
        let bytes = self.read_record(seq)?;
        self.decode_event(seq, &bytes)
    }

    pub(super) fn decode_event(&self, seq: u64, bytes: &[u8]) -> Result<Event, StoreError> {
        let rec = record::decode(bytes).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
        if rec.seq != seq {
            return Err(self.corrupt(format!("record at seq {seq} says seq {}", rec.seq)));
        }
        wire::parse_stored(rec.payload).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))
    }

    /// Reads an event while the writer lock is held (offsets from `w`).
    pub(super) fn read_event_locked(&self, w: &Writer, seq: u64) -> Result<Event, StoreError> {
        let bytes = self.read_at(seq, self.offset_of(w, seq)?)?;
        self.decode_event(seq, &bytes)
    }

    /// Reads records from `from` on, in order, with a buffered sequential read.
    pub(super) fn scan_records(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, &str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (start, head) = {
            let w = lock(&self.writer);
            let i = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
            match w.offsets.get(i) {
                Some(o) => (*o, w.head.seq),
                None => return Ok(()),
            }
        };
        // A handle of its own, so concurrent scans do not share a file cursor.
        let file = File::open(self.dir.join(LOG_FILE))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        let mut seq = from.max(1);
        while seq <= head {
            let mut header = [0u8; record::HEADER];
            reader.read_exact(&mut header)?;
            let len = record::payload_len(&header)
                .map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
            buf.clear();
            buf.extend_from_slice(&header);
            buf.resize(record::HEADER + len + record::TRAILER, 0);
            reader.read_exact(&mut buf[record::HEADER..])?;
            let rec = record::decode(&buf).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
            if rec.seq != seq {
                return Err(self.corrupt(format!("record at seq {seq} says seq {}", rec.seq)));
            }
            f(seq, rec.payload)?;
            seq += 1;
        }
        Ok(())
    }

    pub(super) fn scan_events(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, Event) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Reading, checking and parsing run in a thread of their own, a chunk
        // ahead of `f`, so a rebuild uses both cores. The channel is bounded:
        // at most a few chunks are in memory at once.
        const CHUNK: usize = 2048;
        std::thread::scope(|scope| {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<Result<Vec<(u64, Event)>, StoreError>>(4);
            let reader = scope.spawn(move || {
                let mut chunk = Vec::with_capacity(CHUNK);
                let read = self.scan_records(from, &mut |seq, payload| {
                    let event = wire::parse_stored(payload)
                        .map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
                    chunk.push((seq, event));
                    if chunk.len() == CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        // The receiver stopped (its `f` failed): stop reading.
                        tx.send(Ok(full))
                            .map_err(|_| StoreError::Io(std::io::Error::other("scan stopped")))?;
                    }
                    Ok(())
                });
                let last = read.map(|()| chunk);
                let _ = tx.send(last);
            });
            let mut result = Ok(());
            for message in rx {
                match message {
                    Ok(events) => {
                        for (seq, event) in events {
                            if let Err(e) = f(seq, event) {
                                result = Err(e);
                                break;
                            }
                        }
                        if result.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let _ = reader.join();
            result
        })
    }
}
