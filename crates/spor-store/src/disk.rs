//! The seam between the store and the disk's durability calls, so tests can
//! inject the failures a real disk produces (EIO, ENOSPC) at the exact step.

use std::fs::File;
use std::io;

/// The two calls that make an append durable: the records are written into
/// the log file at the end, then the file's data reaches stable storage.
pub trait Disk: Send + Sync {
    /// Writes `buf` at `offset` of the log file (`pwrite`).
    fn write_at(&self, file: &File, buf: &[u8], offset: u64) -> io::Result<()>;

    /// `fdatasync` on the log file.
    fn sync_data(&self, file: &File) -> io::Result<()>;
}

/// The real disk.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealDisk;

impl Disk for RealDisk {
    fn write_at(&self, file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }

    fn sync_data(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }
}
