//! The seam between the store and the disk's durability calls, so tests can
//! inject the failures a real disk produces (EIO, ENOSPC) at the exact step.

use std::fs::File;
use std::io;

/// The two steps that make an append durable: sled writes its buffers to the
/// log file, then the file's data reaches stable storage.
pub trait Disk: Send + Sync {
    /// Writes sled's dirty buffers to its log file. On Linux sled ends this in
    /// `sync_file_range`, which does not flush the disk's write cache; that is
    /// why [`Disk::sync_data`] follows.
    fn flush_log(&self, db: &sled::Db) -> io::Result<()>;

    /// `fdatasync` on the log file.
    fn sync_data(&self, file: &File) -> io::Result<()>;
}

/// The real disk.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealDisk;

impl Disk for RealDisk {
    fn flush_log(&self, db: &sled::Db) -> io::Result<()> {
        db.flush().map(|_| ()).map_err(|e| match e {
            sled::Error::Io(io) => io,
            other => io::Error::other(other.to_string()),
        })
    }

    fn sync_data(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }
}
