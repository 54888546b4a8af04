//! `spor serve` terminating TLS itself, given a certificate chain and a key
//! in `[server]`: an independent client (curl) trusts it through the test's
//! own certificate authority, plain HTTP on the TLS port gets no answer,
//! and every bad configuration exits 2 before the data directory is made.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::predicate;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::fixture::Stream;
use crate::spor;

/// PEM files made for one test: a certificate authority, a server
/// certificate for 127.0.0.1 and localhost that it signed, and keys.
struct Pki {
    /// The authority's certificate, the only thing the client trusts.
    ca: PathBuf,
    /// The server's certificate, then the authority's (a chain, as a real
    /// deployment's fullchain.pem).
    chain: PathBuf,
    /// The server certificate's private key (PKCS#8).
    key: PathBuf,
    /// A key of its own, not the certificate's.
    other_key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "spor test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let certificate = params.signed_by(&key, &*ca).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        chain: write("chain.pem", format!("{}{}", certificate.pem(), ca.pem())),
        key: write("key.pem", key.serialize_pem()),
        other_key: write(
            "other-key.pem",
            KeyPair::generate().unwrap().serialize_pem(),
        ),
    }
}

/// A running `spor serve` with TLS; killed if a test fails.
struct Serving {
    child: Child,
    base: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_tls(data: &Path, pki: &Pki) -> Serving {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("spor"))
        .env_clear()
        .env("SPOR_SERVER__TLS_CERTIFICATE", &pki.chain)
        .env("SPOR_SERVER__TLS_KEY", &pki.key)
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    assert!(
        base.starts_with("https://127.0.0.1:") && !base.ends_with(":0"),
        "with TLS the first line says https: {base}"
    );
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Serving { child, base }
}

/// curl, trusting only the test's authority: the body, then the status.
fn curl(ca: &Path, extra: &[&str], url: &str) -> std::process::Output {
    Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--write-out",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(ca)
        .args(extra)
        .arg(url)
        .output()
        .unwrap()
}

#[test]
fn serve_with_a_certificate_answers_https_to_an_independent_client_and_nothing_to_plain_http() {
    if Command::new("curl")
        .arg("--version")
        .output()
        .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    {
        eprintln!(
            "SKIPPED: curl is not installed (.ci/run installs it); no client checked the TLS server"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let data = tmp.path().join("data");
    let stream = Stream::started(1, "0301", "2005-02-01");
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(stream.lines())
        .assert()
        .success();
    spor(&data)
        .args([
            "user", "add", "reader", "--role", "adviser", "--unit", "0301",
        ])
        .assert()
        .success();
    let token = String::from_utf8(
        spor(&data)
            .args(["token", "create", "reader"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let mut s = serve_tls(&data, &pki);
    // A client that connects and says nothing holds up no one else's handshake.
    let _silent = TcpStream::connect(s.base.trim_start_matches("https://")).unwrap();

    let healthz = format!("{}/healthz", s.base);
    for extra in [&[][..], &["--tls-max", "1.2"][..]] {
        let out = curl(&pki.ca, extra, &healthz);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "curl {extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text, "{\"status\":\"alive\"}\n200", "curl {extra:?}");
    }

    // A caller's read over TLS: the audit record names the peer's address,
    // so the connection's address reaches the routes as over plain HTTP.
    let participant = format!("{}/api/v1/participants/{}", s.base, stream.participant.0);
    let out = curl(
        &pki.ca,
        &["--header", &format!("Authorization: Bearer {token}")],
        &participant,
    );
    assert!(
        String::from_utf8(out.stdout).unwrap().ends_with("\n200"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Plain HTTP to the TLS port: the handshake fails and the connection
    // closes, with no HTTP answer and none of the body.
    let mut plain = TcpStream::connect(s.base.trim_start_matches("https://")).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let started = Instant::now();
    match plain.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server neither answered nor closed the plain-HTTP connection: {e}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        !answer.contains("HTTP/") && !answer.contains("alive"),
        "plain HTTP got an answer: {answer:?}"
    );
    // curl over http:// fails as well, and the server still serves https.
    let out = curl(&pki.ca, &[], &healthz.replace("https://", "http://"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("alive"));
    assert!(
        curl(&pki.ca, &[], &healthz).status.success(),
        "a failed handshake leaves the server serving"
    );

    // SIGTERM ends it cleanly, as without TLS.
    assert!(
        Command::new("kill")
            .args(["-TERM", &s.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "spor serve did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let out = spor(&data)
        .args(["audit", "--user", "reader", "--format", "json"])
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["from"], "127.0.0.1");
}

#[test]
fn bad_tls_configuration_exits_2_naming_what_is_wrong_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let missing = tmp.path().join("missing.pem");
    let not_pem = tmp.path().join("not.pem");
    std::fs::write(&not_pem, "just text\n").unwrap();
    let encrypted = tmp.path().join("encrypted.pem");
    std::fs::write(
        &encrypted,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let none = PathBuf::new();
    let cases: [(&Path, &Path, &[&str]); 7] = [
        (
            &pki.chain,
            &none,
            &["server.tls_key", "SPOR_SERVER__TLS_KEY"],
        ),
        (&none, &pki.key, &["server.tls_certificate"]),
        (
            &pki.chain,
            &pki.other_key,
            &[
                "does not belong to the certificate",
                "other-key.pem",
                "chain.pem",
            ],
        ),
        (
            &missing,
            &pki.key,
            &["cannot read the TLS certificate file", "missing.pem"],
        ),
        (
            &not_pem,
            &pki.key,
            &["not.pem", "holds no certificate", "BEGIN CERTIFICATE"],
        ),
        (
            &pki.chain,
            &pki.chain,
            &[
                "holds no private key",
                "are the two files swapped",
                "PKCS#8",
            ],
        ),
        (&pki.chain, &encrypted, &["encrypted.pem", "encrypted key"]),
    ];
    for (certificate, key, expected) in cases {
        let data = tmp.path().join("data");
        let mut cmd = spor(&data);
        for (var, path) in [
            ("SPOR_SERVER__TLS_CERTIFICATE", certificate),
            ("SPOR_SERVER__TLS_KEY", key),
        ] {
            if !path.as_os_str().is_empty() {
                cmd.env(var, path);
            }
        }
        let mut assert = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2);
        for part in expected {
            assert = assert.stderr(predicate::str::contains(*part));
        }
        assert!(
            !data.exists(),
            "nothing written for {certificate:?} {key:?}"
        );
    }
}
