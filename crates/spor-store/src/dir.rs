//! The data directory's own files, beside sled's: the format version, the
//! process lock, and the last durable head.
//!
//! ```text
//! DIR/spor.format   "spor store format N"; checked before sled is opened
//! DIR/spor.lock     held with an exclusive lock while a spor has DIR open
//! DIR/spor.head     last durable (seq, hash) + CRC; lets open and verify
//!                   tell a torn end of the log from lost records
//! DIR/spor.log      the event log itself (records, append-only, fsync'd)
//! DIR/spor.import   present only while an import is being written: where
//!                   it began, so that an import a crash cut short is
//!                   rolled back when the store is next opened
//! DIR/sled/         sled's files: the id and stream indexes
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::record::Hash;
use crate::{Head, StoreError};

/// The format this build writes and reads. Format 2 is format 1 that may
/// hold `spor.import`, the marker of an import in progress: a spor that
/// reads only format 1 would not roll such an import back, and would append
/// after it, so a format-1 directory is moved to 2 when this build opens it.
pub const FORMAT_VERSION: u32 = 2;
const FORMAT_FILE: &str = "spor.format";
const LOCK_FILE: &str = "spor.lock";
const HEAD_FILE: &str = "spor.head";
/// The audit trail's head file: the same format, for `audit.log`.
pub(crate) const AUDIT_HEAD_FILE: &str = "audit.head";
pub(crate) const SLED_DIR: &str = "sled";

pub(crate) fn sled_dir(dir: &Path) -> PathBuf {
    dir.join(SLED_DIR)
}

/// Takes the directory's lock, or says who holds it.
pub(crate) fn lock(dir: &Path) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::InUse(dir.to_owned())),
        Err(fs::TryLockError::Error(e)) => Err(StoreError::Io(e)),
    }
}

/// Whether `dir` holds a store (its format file, log or index), as opposed
/// to being missing, empty, or someone else's directory.
pub fn holds_store(dir: &Path) -> bool {
    [FORMAT_FILE, crate::sled_store::LOG_FILE, SLED_DIR]
        .iter()
        .any(|f| dir.join(f).exists())
}

/// Whether `dir` is missing or holds nothing but a lock file a failed
/// start left behind: where a store may be begun.
pub(crate) fn is_empty(dir: &Path) -> io::Result<bool> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                if e?.file_name() != LOCK_FILE {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// Reads the format version, or writes it into a new directory.
pub(crate) fn check_format(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(FORMAT_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let found = text
                .trim()
                .strip_prefix("spor store format ")
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| StoreError::Corrupt {
                    dir: dir.to_owned(),
                    what: format!("{} is unreadable", path.display()),
                })?;
            if found > FORMAT_VERSION {
                return Err(StoreError::NewerFormat {
                    dir: dir.to_owned(),
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            // Format 1 to 2: nothing changes but what the directory may hold
            // (see FORMAT_VERSION); older builds then refuse it.
            if found < FORMAT_VERSION {
                write_atomically(
                    &path,
                    format!("spor store format {FORMAT_VERSION}\n").as_bytes(),
                )?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if sled_dir(dir).exists() {
                return Err(StoreError::Corrupt {
                    dir: dir.to_owned(),
                    what: format!("{} is missing", path.display()),
                });
            }
            write_atomically(
                &path,
                format!("spor store format {FORMAT_VERSION}\n").as_bytes(),
            )?;
            Ok(())
        }
        Err(e) => Err(StoreError::Io(e)),
    }
}

/// Writes a file through a temporary name, fsyncs it, renames it into place
/// and fsyncs the directory: a crash leaves the old file or the new, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// The head file: written after each durable commit, without an fsync of its
/// own. It can lag the log after a power cut, never lead it, because it is
/// written only after the log's fsync returned.
pub(crate) struct HeadFile {
    file: File,
}

const HEAD_LEN: usize = 8 + 32 + 4;

/// What the head file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadFileState {
    Absent,
    Damaged,
    At(Head),
}

impl HeadFile {
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        Self::open_named(dir, HEAD_FILE)
    }

    pub(crate) fn open_named(dir: &Path, name: &str) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(name))?;
        Ok(Self { file })
    }

    pub(crate) fn write(&self, head: Head) -> io::Result<()> {
        let mut buf = Vec::with_capacity(HEAD_LEN);
        buf.extend_from_slice(&head.seq.to_be_bytes());
        buf.extend_from_slice(&head.hash);
        buf.extend_from_slice(&crc32fast::hash(&buf).to_be_bytes());
        self.file.write_all_at(&buf, 0)
    }

    /// Makes the last write durable (a rollback needs the head file back
    /// before it cuts the log).
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Reads the head file of a directory.
pub fn read_head_file(dir: &Path) -> HeadFileState {
    read_named_head_file(dir, HEAD_FILE)
}

/// Reads a head file of the given name.
pub(crate) fn read_named_head_file(dir: &Path, name: &str) -> HeadFileState {
    let Ok(bytes) = fs::read(dir.join(name)) else {
        return HeadFileState::Absent;
    };
    if bytes.is_empty() {
        return HeadFileState::Absent;
    }
    if bytes.len() != HEAD_LEN {
        return HeadFileState::Damaged;
    }
    let (body, crc) = bytes.split_at(HEAD_LEN - 4);
    if crc32fast::hash(body).to_be_bytes() != crc {
        return HeadFileState::Damaged;
    }
    let seq = u64::from_be_bytes(body[..8].try_into().expect("8 bytes"));
    let hash: Hash = body[8..40].try_into().expect("32 bytes");
    HeadFileState::At(Head { seq, hash })
}
