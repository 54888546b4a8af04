//! Integrity (reliability I3): a record rewritten with a valid checksum, or
//! records taken away, are found by `verify` through the hash chain and the
//! head file, with their position.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use common::{event, participant};
use spor_store::record;
use spor_store::{EventStore, OpenOptions, SledStore, StreamAppend};

fn filled(dir: &std::path::Path, n: u32) {
    let store = SledStore::open(
        dir,
        OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    for i in 0..n {
        let p = participant(u128::from(i % 5));
        let version = i / 5;
        store
            .append(&[StreamAppend {
                participant: p,
                expected_version: version,
                events: vec![event(p, u128::from(i))],
            }])
            .unwrap();
    }
}

/// The log file's records, as (offset, bytes), read as anyone with access
/// to the files could.
fn records(dir: &std::path::Path) -> Vec<(usize, Vec<u8>)> {
    let bytes = std::fs::read(dir.join("spor.log")).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let header: &[u8; record::HEADER] = bytes[at..at + record::HEADER].try_into().unwrap();
        let len = record::HEADER + record::payload_len(header).unwrap() + record::TRAILER;
        out.push((at, bytes[at..at + len].to_vec()));
        at += len;
    }
    out
}

fn write_records(dir: &std::path::Path, records: &[(usize, Vec<u8>)]) {
    let bytes: Vec<u8> = records.iter().flat_map(|(_, r)| r.clone()).collect();
    std::fs::write(dir.join("spor.log"), bytes).unwrap();
}

/// Rewrites the payload of record `seq`, keeping its sequence number and
/// previous hash and computing a fresh, valid CRC.
fn rewrite(dir: &std::path::Path, seq: u64, from: &str, to: &str) {
    let mut all = records(dir);
    let i = usize::try_from(seq - 1).unwrap();
    let rec = record::decode(&all[i].1).unwrap();
    assert!(rec.payload.contains(from));
    let forged = record::encode(rec.seq, &rec.prev_hash, &rec.payload.replace(from, to));
    assert!(
        record::decode(&forged).is_ok(),
        "the forged record has a valid checksum"
    );
    all[i].1 = forged;
    write_records(dir, &all);
}

/// Opens sled directly and applies `f` to the index tree.
fn tamper_index(dir: &std::path::Path, f: impl FnOnce(&sled::Db)) {
    let db = sled::Config::new().path(dir.join("sled")).open().unwrap();
    f(&db);
    db.flush().unwrap();
}

fn report(dir: &std::path::Path) -> Vec<(String, String)> {
    let store = SledStore::open(dir, OpenOptions::default()).unwrap();
    store
        .verify()
        .findings
        .into_iter()
        .map(|f| (f.position, f.problem))
        .collect()
}

#[test]
fn a_rewritten_record_with_a_valid_checksum_breaks_the_chain_at_its_successor() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 40);
    assert!(report(tmp.path()).is_empty());
    rewrite(tmp.path(), 17, "adviser-", "Adviser-");
    let findings = report(tmp.path());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, "seq 18");
    assert!(findings[0].1.contains("hash chain broken"), "{findings:?}");
}

#[test]
fn a_rewritten_last_record_is_found_against_the_head_file() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 10);
    rewrite(tmp.path(), 10, "adviser-", "Adviser-");
    let findings = report(tmp.path());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, "seq 10");
    assert!(findings[0].1.contains("history rewritten"), "{findings:?}");
}

#[test]
fn removed_or_swapped_records_are_refused_at_open_with_their_position() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 30);
    let all = records(tmp.path());
    write_records(tmp.path(), &all[..27]);
    let err = SledStore::open(tmp.path(), OpenOptions::default())
        .err()
        .expect("open must refuse");
    assert!(
        err.to_string()
            .contains("the log ends at seq 27, but spor.head says seq 30 was made durable"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 30);
    let mut all = records(tmp.path());
    all.swap(4, 5);
    write_records(tmp.path(), &all);
    let err = SledStore::open(tmp.path(), OpenOptions::default())
        .err()
        .expect("open must refuse");
    assert!(err.to_string().contains("says seq 6, expected 5"), "{err}");
}

#[test]
fn a_damaged_index_entry_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    filled(tmp.path(), 12);
    let victim = event(participant(3), 3).id;
    tamper_index(tmp.path(), |db| {
        let mut k = vec![b'I'];
        k.extend_from_slice(victim.0.as_bytes());
        db.insert(k, &9u64.to_be_bytes()[..]).unwrap();
    });
    let findings = report(tmp.path());
    assert!(
        findings.iter().any(|(pos, p)| pos.starts_with("id index")
            && p.contains("points at seq 9, the event is at seq 4")),
        "{findings:?}"
    );
}

/// The id index is derived from the log: when sled's own files are damaged
/// (a kill at the wrong moment can leave them so), opening moves them aside
/// and rebuilds the index from the log, and the accounts' database, kept
/// apart, is untouched.
#[test]
fn a_damaged_index_is_rebuilt_from_the_log_and_the_accounts_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let p = common::participant(1);
    {
        let store = SledStore::open(
            &dir,
            OpenOptions {
                create: true,
                ..OpenOptions::default()
            },
        )
        .unwrap();
        let events: Vec<_> = (1..=20).map(|n| common::event(p, n)).collect();
        store
            .append(&[StreamAppend {
                participant: p,
                expected_version: 0,
                events,
            }])
            .unwrap();
        store
            .sled()
            .open_tree("accounts")
            .unwrap()
            .insert(b"someone", b"kept")
            .unwrap();
        store.sled().flush().unwrap();
    }
    // Every file of the index overwritten with garbage.
    for entry in walk(&dir.join("sled")) {
        let len = std::fs::metadata(&entry).unwrap().len();
        std::fs::write(&entry, vec![0xA5u8; usize::try_from(len.max(64)).unwrap()]).unwrap();
    }
    let store = SledStore::open(&dir, OpenOptions::default()).unwrap();
    assert_eq!(
        store
            .lookup(common::event(p, 7).id)
            .unwrap()
            .map(|(seq, _)| seq),
        Some(7),
        "the index was rebuilt"
    );
    assert!(store.verify().is_clean(), "{:?}", store.verify().findings);
    assert_eq!(
        store
            .sled()
            .open_tree("accounts")
            .unwrap()
            .get(b"someone")
            .unwrap()
            .as_deref(),
        Some(&b"kept"[..])
    );
    assert!(
        std::fs::read_dir(&dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("sled.damaged-")),
        "the damaged files are kept aside"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}
