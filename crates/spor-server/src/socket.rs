//! The command socket (contract §4): while `spor serve` holds a data
//! directory, every other `spor` command on it runs inside the server, sent
//! over a Unix socket in the directory, because sled lets only one process
//! open it. This module holds where the socket is and who may reach it, the
//! listener and the framing both ends speak. What runs a command is the
//! binary's ([`Runner`]): this crate knows no command.
//!
//! **Where.** `DIR/run/spor.sock`, in a directory made owner-only (0700)
//! before the socket is bound, so the socket's own mode (which follows the
//! process-wide umask) never matters. Peers are let in only if the kernel
//! says they run as the server's own user (`SO_PEERCRED`). A path longer
//! than `sun_path` allows is reached through `/proc/self/fd/N/spor.sock`, N
//! being an open handle of `DIR/run`; both ends do that.
//!
//! **Protocol**, one HTTP/1.1 request per command, `POST /v1/run`:
//! - the request body is a length (4 bytes, big-endian), that many bytes of
//!   JSON [`Invocation`], then, if the invocation says so, the command's
//!   standard input to its end;
//! - the answer is `200` with frames: a kind byte (`o` standard output, `e`
//!   standard error, `x` the exit code), a length (4 bytes, big-endian) and
//!   that many bytes. The exit code's frame (one byte) comes last; an answer
//!   that ends without one was cut off.
//!
//! Never: a route of the HTTP API, a token or a session on this socket; the
//! only caller is the server's own operating-system user, who could open
//! the directory anyway.

use std::convert::Infallible;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, Permissions};
use std::io::{self, BufWriter, LineWriter, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use axum::routing::post;
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::io::{StreamReader, SyncIoBridge};
use tokio_util::sync::CancellationToken;

/// The directory inside DIR that holds the socket: owner-only.
pub const RUN_DIR: &str = "run";
/// The socket's name in [`RUN_DIR`].
pub const SOCKET_FILE: &str = "spor.sock";
/// The one route on the socket.
pub const ROUTE: &str = "/v1/run";
/// The spor both ends must be: a command is parsed and its settings read
/// again inside the server, by the server's own code.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The longest invocation (its arguments and settings) the server reads.
const MAX_INVOCATION_BYTES: u32 = 1 << 20;
/// The most bytes one output frame carries; longer writes are split.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Output frames a command may have in flight before it waits for the client.
const FRAMES_IN_FLIGHT: usize = 16;
/// Commands run at once; more wait their turn. Each rebuilds what it reads,
/// so a burst of them should not take every core and all memory together.
const COMMANDS_AT_ONCE: usize = 4;
/// `sun_path` of `struct sockaddr_un` on Linux, its closing NUL included.
const SUN_PATH_BYTES: usize = 108;

const STDOUT: u8 = b'o';
const STDERR: u8 = b'e';
const EXIT: u8 = b'x';

/// One command as the client sends it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// The client's [`VERSION`]; the server runs only its own version's commands.
    pub version: String,
    /// The command line as typed, the program's name first.
    pub args: Vec<OsString>,
    /// The data directory as the client named it (for messages).
    pub data: OsString,
    /// The client's working directory: relative paths of files the
    /// command reads or writes are taken from there.
    pub cwd: OsString,
    /// The client's settings, resolved from its configuration file and
    /// environment (the binary's own type, as JSON).
    pub settings: serde_json::Value,
    /// Whether standard input follows the invocation in the request body.
    pub stdin: bool,
}

impl Invocation {
    /// The start of the request body: the length, then the JSON.
    pub fn encode(&self) -> io::Result<Vec<u8>> {
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        let len = u32::try_from(json.len())
            .ok()
            .filter(|n| *n <= MAX_INVOCATION_BYTES)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the command line is too long to send to the server",
                )
            })?;
        let mut out = Vec::with_capacity(json.len() + 4);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&json);
        Ok(out)
    }

    fn decode(input: &mut impl Read) -> io::Result<Self> {
        let mut len = [0u8; 4];
        input.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len);
        if len > MAX_INVOCATION_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("an invocation of {len} bytes is too long"),
            ));
        }
        let mut json = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
        input.read_exact(&mut json)?;
        serde_json::from_slice(&json).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// What a command run inside the server reads and writes instead of the
/// process's own standard streams.
pub struct CommandIo {
    /// The client's standard input, taken in whole before the command
    /// starts (empty when the invocation carried none).
    pub stdin: Box<dyn Read + Send>,
    /// Buffered; flush or drop it before returning.
    pub stdout: Box<dyn Write + Send>,
    /// Line-buffered.
    pub stderr: Box<dyn Write + Send>,
}

/// Runs one command inside the server and returns its exit code. Blocking:
/// it is called on a thread of its own.
pub type Runner = Arc<dyn Fn(Invocation, CommandIo) -> u8 + Send + Sync>;

/// One frame of an answer, as the client reads it.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(u8),
}

/// Reads the next frame of an answer; `None` where the answer ends.
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut kind = [0u8; 1];
    if input.read(&mut kind)? == 0 {
        return Ok(None);
    }
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let len = usize::try_from(u32::from_be_bytes(len)).map_err(io::Error::other)?;
    if len > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes is longer than any the server sends"),
        ));
    }
    let mut payload = vec![0u8; len];
    input.read_exact(&mut payload)?;
    match (kind[0], payload.as_slice()) {
        (STDOUT, _) => Ok(Some(Frame::Stdout(payload))),
        (STDERR, _) => Ok(Some(Frame::Stderr(payload))),
        (EXIT, [code]) => Ok(Some(Frame::Exit(*code))),
        (k, _) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an unknown frame (kind {k}, {len} bytes)"),
        )),
    }
}

fn frame(kind: u8, payload: &[u8]) -> Bytes {
    let len = u32::try_from(payload.len()).expect("frames are split at MAX_FRAME_BYTES");
    let mut out = Vec::with_capacity(payload.len() + 5);
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Bytes::from(out)
}

/// The socket of a data directory, as a path the kernel takes: the
/// socket's own path where it fits into `sun_path`, else the same file
/// reached through an open handle of its directory.
pub struct Address {
    path: PathBuf,
    /// Open while `path` goes through it.
    _dir: Option<File>,
}

impl Address {
    /// The socket of `data`. Fails only for a long path whose `run`
    /// directory cannot be opened (then no server can be listening there).
    pub fn of(data: &Path) -> io::Result<Self> {
        let run = data.join(RUN_DIR);
        let path = run.join(SOCKET_FILE);
        if path.as_os_str().len() < SUN_PATH_BYTES {
            return Ok(Self { path, _dir: None });
        }
        let dir = File::open(&run)?;
        let path = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET_FILE}", dir.as_raw_fd()));
        Ok(Self {
            path,
            _dir: Some(dir),
        })
    }

    /// What to connect or bind to, while this lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Connects. `ConnectionRefused` means a socket file is there but
    /// nobody listens on it (its server was killed); `NotFound`, no socket.
    pub fn connect(&self) -> io::Result<StdUnixStream> {
        StdUnixStream::connect(&self.path)
    }
}

/// The socket of a data directory, bound and not yet served. Bind it while
/// holding DIR's store (its lock), so that a socket file already there can
/// only be one a killed server left behind.
pub struct CommandSocket {
    listener: StdUnixListener,
    /// The server's effective user: the only one let in.
    uid: u32,
    /// Where standard input is spooled (`DIR/run`: owner-only, and on the
    /// data's own disk).
    run: PathBuf,
    _remove: RemoveOnDrop,
}

/// Removes the socket file and its directory when the socket is done with;
/// a server killed outright leaves them, and the next one clears them.
struct RemoveOnDrop {
    socket: PathBuf,
    run: PathBuf,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.socket);
        let _ = fs::remove_dir(&self.run);
    }
}

impl CommandSocket {
    /// Makes `DIR/run` owner-only (creating it), clears a stale socket
    /// (one that refuses connections) and binds `DIR/run/spor.sock`.
    pub fn bind(data: &Path) -> io::Result<Self> {
        let uid = rustix::process::geteuid().as_raw();
        let run = data.join(RUN_DIR);
        match DirBuilder::new().mode(0o700).create(&run) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(with_path(e, &run)),
        }
        let meta = fs::symlink_metadata(&run).map_err(|e| with_path(e, &run))?;
        if !meta.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                run.display()
            )));
        }
        if meta.uid() != uid {
            return Err(io::Error::other(format!(
                "{} belongs to user {}, not to this server's user {uid}",
                run.display(),
                meta.uid()
            )));
        }
        // Owner-only before anything is bound in it, whatever the umask made.
        if meta.mode() & 0o777 != 0o700 {
            fs::set_permissions(&run, Permissions::from_mode(0o700))
                .map_err(|e| with_path(e, &run))?;
        }
        let socket = run.join(SOCKET_FILE);
        if let Ok(meta) = fs::symlink_metadata(&socket) {
            if !meta.file_type().is_socket() {
                return Err(io::Error::other(format!(
                    "{} is there and is not a socket; remove it",
                    socket.display()
                )));
            }
            match Address::of(data)?.connect() {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    tracing::info!("removing the command socket a stopped server left behind");
                    fs::remove_file(&socket).map_err(|e| with_path(e, &socket))?;
                }
                Ok(_) => {
                    return Err(io::Error::other(format!(
                        "another process answers on {}",
                        socket.display()
                    )));
                }
                Err(e) => return Err(with_path(e, &socket)),
            }
        }
        let address = Address::of(data)?;
        let listener = StdUnixListener::bind(address.path()).map_err(|e| with_path(e, &socket))?;
        let remove = RemoveOnDrop {
            socket: socket.clone(),
            run: run.clone(),
        };
        // The directory already keeps others out; this says so on the file too.
        fs::set_permissions(&socket, Permissions::from_mode(0o600))
            .map_err(|e| with_path(e, &socket))?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            uid,
            run,
            _remove: remove,
        })
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Lets in only connections from the server's own user.
struct OwnUserOnly {
    inner: UnixListener,
    uid: u32,
}

impl axum::serve::Listener for OwnUserOnly {
    type Io = UnixStream;
    type Addr = tokio::net::unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // axum's own accept logs and retries errors (too many open files, …).
            let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
            match stream.peer_cred() {
                Ok(peer) if peer.uid() == self.uid => return (stream, addr),
                Ok(peer) => tracing::warn!(
                    uid = peer.uid(),
                    "refused a connection to the command socket from another user"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "refused a connection to the command socket: its user is unknown")
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

struct Shared {
    runner: Runner,
    run: PathBuf,
    turns: Arc<Semaphore>,
}

/// Runs the commands sent to `socket` until `shutdown` is cancelled, then
/// lets those under way finish, and removes the socket.
pub async fn serve(
    socket: CommandSocket,
    runner: Runner,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let CommandSocket {
        listener,
        uid,
        run,
        _remove: remove,
    } = socket;
    let listener = OwnUserOnly {
        inner: UnixListener::from_std(listener)?,
        uid,
    };
    let shared = Arc::new(Shared {
        runner,
        run,
        turns: Arc::new(Semaphore::new(COMMANDS_AT_ONCE)),
    });
    let router = Router::new()
        .route(ROUTE, post(run_command))
        .with_state(shared);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
    drop(remove);
    served
}

async fn run_command(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    let (frames, answer) = mpsc::channel::<Bytes>(FRAMES_IN_FLIGHT);
    let input = StreamReader::new(body.into_data_stream().map_err(io::Error::other));
    let handle = tokio::runtime::Handle::current();
    tokio::spawn(async move {
        // A closed semaphore is never made here; no turn means no command.
        let Ok(_turn) = Arc::clone(&shared.turns).acquire_owned().await else {
            return;
        };
        let last = frames.clone();
        let command = tokio::task::spawn_blocking(move || {
            run_blocking(
                &shared,
                SyncIoBridge::new_with_handle(input, handle),
                &frames,
            )
        });
        if command.await.is_err() {
            tracing::error!("a command sent to the command socket panicked");
            let _ = last.send(frame(STDERR, b"spor: internal error: the command stopped inside the server (its log says more)\n")).await;
            let _ = last.send(frame(EXIT, &[1])).await;
        }
    });
    let body = Body::from_stream(ReceiverStream::new(answer).map(Ok::<_, Infallible>));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// Usage or configuration, as the binary numbers it.
const EXIT_USAGE: u8 = 2;

fn run_blocking(
    shared: &Shared,
    mut input: impl Read + Send + 'static,
    frames: &mpsc::Sender<Bytes>,
) {
    let refuse = |message: String| {
        let _ = frames.blocking_send(frame(STDERR, format!("spor: {message}\n").as_bytes()));
        let _ = frames.blocking_send(frame(EXIT, &[EXIT_USAGE]));
    };
    let invocation = match Invocation::decode(&mut input) {
        Ok(i) => i,
        Err(e) => {
            return refuse(format!(
                "the server could not read the command sent to it: {e}"
            ));
        }
    };
    if invocation.version != VERSION {
        return refuse(format!(
            "the server holding this data directory is spor {VERSION}, and this is spor {}: use the same spor, or stop the server",
            invocation.version
        ));
    }
    let stdin: Box<dyn Read + Send> = if invocation.stdin {
        // Taken in whole first, so that the command never waits for a slow
        // sender (it may hold the store's write gate while it reads).
        match spool(&mut input, &shared.run) {
            Ok(file) => Box::new(file),
            Err(e) => return refuse(format!("the server could not take in standard input: {e}")),
        }
    } else {
        Box::new(io::empty())
    };
    let io = CommandIo {
        stdin,
        stdout: Box::new(BufWriter::with_capacity(
            MAX_FRAME_BYTES,
            Frames {
                kind: STDOUT,
                to: frames.clone(),
            },
        )),
        stderr: Box::new(LineWriter::new(Frames {
            kind: STDERR,
            to: frames.clone(),
        })),
    };
    let code = (shared.runner)(invocation, io);
    let _ = frames.blocking_send(frame(EXIT, &[code]));
}

/// The rest of `input` in an unnamed file in `dir`, read from its start.
fn spool(input: &mut impl Read, dir: &Path) -> io::Result<File> {
    let mut file = tempfile::tempfile_in(dir)?;
    io::copy(input, &mut file)?;
    file.rewind()?;
    Ok(file)
}

/// Writes become frames of one kind. A client that has gone away makes
/// every write fail as a closed pipe does.
struct Frames {
    kind: u8,
    to: mpsc::Sender<Bytes>,
}

impl Write for Frames {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(MAX_FRAME_BYTES);
        self.to
            .blocking_send(frame(self.kind, &buf[..n]))
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the client of the command socket went away",
                )
            })?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn frames_read_back_as_written() {
        let mut bytes = Vec::new();
        for f in [
            frame(STDOUT, b"a line\n"),
            frame(STDERR, b""),
            frame(EXIT, &[3]),
        ] {
            bytes.extend_from_slice(&f);
        }
        let mut input = bytes.as_slice();
        assert_eq!(
            read_frame(&mut input).unwrap(),
            Some(Frame::Stdout(b"a line\n".to_vec()))
        );
        assert_eq!(
            read_frame(&mut input).unwrap(),
            Some(Frame::Stderr(Vec::new()))
        );
        assert_eq!(read_frame(&mut input).unwrap(), Some(Frame::Exit(3)));
        assert_eq!(read_frame(&mut input).unwrap(), None);
    }

    #[test]
    fn a_cut_frame_or_an_exit_without_its_code_is_an_error() {
        let whole = frame(STDOUT, b"abc");
        assert!(read_frame(&mut &whole[..whole.len() - 1]).is_err());
        assert!(read_frame(&mut &frame(EXIT, &[])[..]).is_err());
    }

    #[test]
    fn an_invocation_reads_back_and_leaves_standard_input_after_it() {
        let invocation = Invocation {
            version: VERSION.into(),
            args: vec!["spor".into(), "import".into(), "-".into()],
            data: "data".into(),
            cwd: "/tmp".into(),
            settings: serde_json::json!({"ids": {"allow_synthetic": true}}),
            stdin: true,
        };
        let mut body = invocation.encode().unwrap();
        body.extend_from_slice(b"{\"a\":1}\n");
        let mut input = body.as_slice();
        let back = Invocation::decode(&mut input).unwrap();
        assert_eq!(back.args, invocation.args);
        assert_eq!(back.settings, invocation.settings);
        assert_eq!(input, b"{\"a\":1}\n");
    }

    #[test]
    fn a_long_data_directory_is_reached_through_its_open_run_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("d".repeat(120));
        fs::create_dir_all(data.join(RUN_DIR)).unwrap();
        let address = Address::of(&data).unwrap();
        assert!(
            address.path().starts_with("/proc/self/fd/"),
            "{}",
            address.path().display()
        );
        let short = Address::of(tmp.path()).unwrap();
        assert_eq!(short.path(), tmp.path().join(RUN_DIR).join(SOCKET_FILE));
    }
}
