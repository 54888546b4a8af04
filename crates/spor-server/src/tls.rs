//! TLS for `spor serve` when the configuration names a certificate chain and
//! a private key: rustls with the ring provider, TLS 1.2 and 1.3, HTTP/1.1.
//!
//! [`TlsConfig::from_pem_files`] reads and checks both files once, at start,
//! before the server writes anything; a renewed certificate is read at the
//! next start. [`TlsListener`] hands axum only connections whose handshake
//! has finished. Each handshake runs in a task of its own, bounded in time
//! and in number, so a slow or silent client holds up no one else, and the
//! connections then go through the same `axum::serve` (graceful shutdown,
//! `ConnectInfo<SocketAddr>`) as plain HTTP does.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::ServerConfig;
use tokio_rustls::rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio_rustls::rustls::{self, InconsistentKeys};
use tokio_rustls::server::TlsStream;

/// The longest a client may take over its handshake before it is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes under way at once. Beyond this, new connections wait in the
/// kernel's backlog until one finishes.
const HANDSHAKES_AT_ONCE: usize = 256;
/// A certificate chain or a key is a few KiB; anything this large is not one.
const PEM_FILE_LIMIT_BYTES: u64 = 1024 * 1024;

/// What the server was told about a key it cannot use. Every message names
/// the file and says what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file {}: {source}", path.display())]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("the TLS {what} file {} is larger than 1 MiB; a PEM certificate chain or key is a few KiB", path.display())]
    TooLarge { what: &'static str, path: PathBuf },
    #[error(
        "the TLS certificate file {} holds no certificate ({detail}): give a PEM file with \
         `-----BEGIN CERTIFICATE-----` blocks, the server's own certificate first, then its intermediates",
        path.display()
    )]
    NoCertificate { path: PathBuf, detail: String },
    #[error(
        "the TLS certificate file {} holds a certificate that cannot be read ({detail}): give the server's \
         X.509 certificate in PEM, first in the file",
        path.display()
    )]
    BadCertificate { path: PathBuf, detail: String },
    #[error(
        "the TLS key file {} holds no private key ({detail}): give one unencrypted key in PEM, \
         `BEGIN PRIVATE KEY` (PKCS#8), `BEGIN RSA PRIVATE KEY` (PKCS#1) or `BEGIN EC PRIVATE KEY` (SEC1)",
        path.display()
    )]
    NoKey { path: PathBuf, detail: String },
    #[error(
        "the TLS key file {} holds an encrypted key; spor cannot ask for its passphrase: store it \
         unencrypted and readable only by spor's user (`openssl pkey -in KEY -out KEY.pem`)",
        path.display()
    )]
    EncryptedKey { path: PathBuf },
    #[error(
        "the TLS key in {} cannot be used ({detail}): give an RSA key of 2048 to 8192 bits, an ECDSA key \
         on P-256 or P-384, or an Ed25519 key",
        path.display()
    )]
    UnusableKey { path: PathBuf, detail: String },
    #[error(
        "the TLS key in {} does not belong to the certificate in {}: the key must be the private half \
         of the first certificate in the certificate file",
        key.display(),
        certificate.display()
    )]
    KeyMismatch { certificate: PathBuf, key: PathBuf },
    #[error("setting up TLS: {0}")]
    Setup(rustls::Error),
}

/// A checked certificate chain and key, ready to serve with.
#[derive(Debug, Clone)]
pub struct TlsConfig(Arc<ServerConfig>);

impl TlsConfig {
    /// Reads the certificate chain (the server's own first) and the private
    /// key from PEM files, and checks that the key is the certificate's.
    pub fn from_pem_files(certificate: &Path, key: &Path) -> Result<Self, TlsError> {
        let certificates = read_certificates(certificate)?;
        let private_key = read_key(key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let signing_key = provider
            .key_provider
            .load_private_key(private_key)
            .map_err(|e| TlsError::UnusableKey {
                path: key.to_owned(),
                detail: e.to_string(),
            })?;
        let certified = CertifiedKey::new(certificates, signing_key);
        match certified.keys_match() {
            // The ring provider knows the public half of every key it loads;
            // should one not, rustls would still refuse a wrong pair at the
            // first handshake.
            Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
                return Err(TlsError::KeyMismatch {
                    certificate: certificate.to_owned(),
                    key: key.to_owned(),
                });
            }
            Err(e) => {
                return Err(TlsError::BadCertificate {
                    path: certificate.to_owned(),
                    detail: e.to_string(),
                });
            }
        }
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Setup)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
        // axum is built for HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig(Arc::new(config)))
    }
}

fn read_limited(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let unreadable = |source| TlsError::Unreadable {
        what,
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(PEM_FILE_LIMIT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > PEM_FILE_LIMIT_BYTES) {
        return Err(TlsError::TooLarge {
            what,
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_limited("certificate", path)?;
    let no_certificate = |detail: String| TlsError::NoCertificate {
        path: path.to_owned(),
        detail,
    };
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| no_certificate(format!("not valid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(no_certificate("no CERTIFICATE block found".to_owned()));
    }
    Ok(certificates)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_limited("key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let text = String::from_utf8_lossy(&bytes);
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || text.contains("Proc-Type: 4,ENCRYPTED")
        {
            return TlsError::EncryptedKey {
                path: path.to_owned(),
            };
        }
        let detail = match e {
            rustls::pki_types::pem::Error::NoItemsFound
                if text.contains("-----BEGIN CERTIFICATE-----") =>
            {
                "it holds a certificate: are the two files swapped?".to_owned()
            }
            rustls::pki_types::pem::Error::NoItemsFound => "no private key block found".to_owned(),
            e => format!("not valid PEM: {e}"),
        };
        TlsError::NoKey {
            path: path.to_owned(),
            detail,
        }
    })
}

/// Where [`crate::serve`] takes its connections: plain HTTP on a bound TCP
/// listener, or TLS on one.
#[derive(Debug)]
pub enum Listen {
    Http(TcpListener),
    Https(TlsListener),
}

impl From<TcpListener> for Listen {
    fn from(listener: TcpListener) -> Self {
        Listen::Http(listener)
    }
}

impl From<TlsListener> for Listen {
    fn from(listener: TlsListener) -> Self {
        Listen::Https(listener)
    }
}

/// A TCP listener that yields connections once their TLS handshake is done.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    /// Handshakes under way (at most [`HANDSHAKES_AT_ONCE`]). Dropping the
    /// listener, as `axum::serve` does at shutdown, aborts them.
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, tls: TlsConfig) -> Self {
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(tls.0),
            handshakes: JoinSet::new(),
        }
    }
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .field("handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    /// Cancel-safe, as `axum::serve` needs: a connection taken from the TCP
    /// listener is kept in `handshakes` until its handshake ends.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                // A finished handshake is served before a new connection is taken.
                biased;
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
                (tcp, address) = axum::serve::Listener::accept(&mut self.tcp),
                    if self.handshakes.len() < HANDSHAKES_AT_ONCE =>
                {
                    self.handshakes.spawn(handshake(self.acceptor.clone(), tcp, address));
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// One client's handshake. A failure (a plain-HTTP request, a client that
/// does not trust the certificate, a scanner) is the client's business: it
/// is logged at debug level, without the address, and the connection closed.
async fn handshake(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    address: SocketAddr,
) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => Some((tls, address)),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}
