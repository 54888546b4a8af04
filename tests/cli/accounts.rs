//! Accounts, tokens and the audit trail at the command line (contract §4;
//! reliability AU1-AU4): what `user` and `token` print and refuse, that every
//! command printing a participant's data leaves exactly one audit entry
//! before it prints, and that `verify` finds an edited audit record.

use std::path::Path;

use predicates::prelude::*;
use predicates::str::contains;
use rand::SeedableRng;
use serde_json::Value;
use spor_store::record;

use crate::fixture;
use crate::spor;

/// A data directory holding `fixture::log(n)`.
fn with_log(n: u128) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .arg("import")
        .arg("-")
        .write_stdin(fixture::log(n))
        .assert()
        .success();
    (tmp, data)
}

/// The fixture's participant number `n` (its unit is 0301 when n % 4 == 0).
fn participant(n: u128) -> String {
    fixture::Stream::new(n, "0301").participant.0.to_string()
}

fn stdout_of(data: &Path, args: &[&str]) -> String {
    let out = spor(data).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "spor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(data: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&stdout_of(data, args)).unwrap()
}

/// The one line a secret-printing command writes, checked to be alone.
fn only_line(stdout: &str) -> &str {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected exactly one line, got {stdout:?}");
    assert!(stdout.ends_with('\n'));
    lines[0]
}

fn one_time_password(stdout: &str) -> &str {
    let password = only_line(stdout);
    assert_eq!(password.chars().count(), 20, "{password:?}");
    assert!(
        password
            .bytes()
            .all(|b| spor_accounts::ONE_TIME_PASSWORD_ALPHABET.contains(&b)),
        "{password:?}"
    );
    password
}

fn account<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn user_add_prints_only_a_one_time_password_and_list_never_a_hash() {
    let (_tmp, data) = with_log(1);
    let first = stdout_of(
        &data,
        &[
            "user", "add", "kari", "--role", "adviser", "--unit", "0301", "--unit", "030105",
        ],
    );
    let first = one_time_password(&first).to_owned();
    let admin = stdout_of(&data, &["user", "add", "ola", "--role", "admin"]);
    one_time_password(&admin);

    let list = json_of(&data, &["user", "list", "--format", "json"]);
    let kari = account(&list, "kari");
    assert_eq!(kari["role"], "adviser");
    assert_eq!(kari["units"], serde_json::json!(["0301", "030105"]));
    assert_eq!(kari["disabled"], false);
    assert_eq!(kari["second_factor"], "none");
    assert_eq!(kari["must_change_password"], true);
    assert_eq!(account(&list, "ola")["units"], serde_json::json!([]));
    let table = stdout_of(&data, &["user", "list"]);
    assert!(
        table.contains("kari") && table.contains("0301 030105") && table.contains("2 account(s)"),
        "{table}"
    );
    for shown in [list.to_string(), table] {
        assert!(
            !shown.contains("argon2") && !shown.contains('$'),
            "a hash is shown: {shown}"
        );
        assert!(!shown.contains(&first), "the password is shown: {shown}");
    }

    // The name is taken: refused input, and the password is not changed.
    spor(&data)
        .args(["user", "add", "kari", "--role", "leader", "--unit", "0301"])
        .assert()
        .code(3)
        .stdout("")
        .stderr(contains("already exists"));
    // A new one-time password replaces the old one and must be changed.
    let second = stdout_of(&data, &["user", "set-password", "kari"]);
    assert_ne!(one_time_password(&second), first);
    assert_eq!(
        account(
            &json_of(&data, &["user", "list", "--format", "json"]),
            "kari"
        )["must_change_password"],
        true
    );
    spor(&data)
        .args(["user", "set-password", "nobody"])
        .assert()
        .code(8)
        .stdout("")
        .stderr(contains("no account named `nobody`"));
}

#[test]
fn the_unit_rule_is_enforced_with_exit_2_and_leaves_no_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .args(["user", "add", "kari", "--role", "adviser"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("role adviser needs at least one unit").and(contains("--unit")));
    spor(&data)
        .args(["user", "add", "per", "--role", "leader"])
        .assert()
        .code(2)
        .stderr(contains("role leader needs at least one unit"));
    spor(&data)
        .args(["user", "add", "anna", "--role", "analyst", "--unit", "0301"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains(
            "role analyst has no units; only adviser and leader accounts have units",
        ));
    spor(&data)
        .args(["user", "add", "ola", "--role", "admin", "--unit", "0301"])
        .assert()
        .code(2)
        .stderr(contains("role admin has no units"));
    spor(&data)
        .args(["user", "add", "Kari", "--role", "admin"])
        .assert()
        .code(2)
        .stderr(contains("a-z, 0-9"));
    spor(&data)
        .args(["user", "add", "kari", "--role", "boss"])
        .assert()
        .code(2)
        .stderr(contains("adviser, leader, analyst and admin"));
    assert!(!data.exists(), "a refused account made the data directory");
}

#[test]
fn disable_and_reset_mfa_show_in_the_list() {
    let (_tmp, data) = with_log(1);
    stdout_of(
        &data,
        &["user", "add", "kari", "--role", "leader", "--unit", "0301"],
    );
    stdout_of(&data, &["user", "add", "per", "--role", "analyst"]);
    // A second factor half set up, as the first browser login leaves it.
    {
        let store = spor_store::SledStore::open(&data, spor_store::OpenOptions::default()).unwrap();
        let accounts = spor_accounts::SledAccounts::open(store.sled()).unwrap();
        let name = spor_accounts::AccountName::parse("kari").unwrap();
        use spor_accounts::AccountStore;
        accounts
            .update(&name, &mut |a| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
                a.begin_enrolment(spor_accounts::ISSUER, &mut rng)
                    .map(|_| ())
            })
            .unwrap();
    }
    assert_eq!(
        account(
            &json_of(&data, &["user", "list", "--format", "json"]),
            "kari"
        )["second_factor"],
        "pending"
    );

    spor(&data)
        .args(["user", "reset-mfa", "kari"])
        .assert()
        .success()
        .stdout("");
    spor(&data)
        .args(["user", "disable", "per"])
        .assert()
        .success()
        .stdout("");
    let list = json_of(&data, &["user", "list", "--format", "json"]);
    assert_eq!(account(&list, "kari")["second_factor"], "none");
    assert_eq!(account(&list, "kari")["disabled"], false);
    assert_eq!(account(&list, "per")["disabled"], true);
    spor(&data)
        .args(["user", "disable", "nobody"])
        .assert()
        .code(8);
    spor(&data)
        .args(["user", "reset-mfa", "nobody"])
        .assert()
        .code(8);
    // A disabled account gets no new token.
    spor(&data)
        .args(["token", "create", "per"])
        .assert()
        .code(3)
        .stdout("")
        .stderr(contains("disabled"));
}

#[test]
fn tokens_are_printed_once_listed_by_id_and_revoked_by_id_or_whole() {
    let (_tmp, data) = with_log(1);
    stdout_of(
        &data,
        &[
            "user", "add", "script", "--role", "leader", "--unit", "0301",
        ],
    );
    let token_shape = predicates::str::is_match(r"^spor_[0-9a-f]{12}_[0-9a-f]+\n$").unwrap();

    let first = stdout_of(
        &data,
        &["token", "create", "script", "--label", "nightly export"],
    );
    assert!(token_shape.eval(&first), "{first:?}");
    let first = only_line(&first).to_owned();
    let second = stdout_of(&data, &["token", "create", "script", "--expires", "7"]);
    assert!(token_shape.eval(&second), "{second:?}");
    let second = only_line(&second).to_owned();
    let id = |token: &str| token[5..17].to_owned();
    let (first_id, second_id) = (id(&first), id(&second));

    let list = json_of(&data, &["token", "list", "script", "--format", "json"]);
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    let listed = |id: &str| {
        tokens
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {list}"))
            .clone()
    };
    assert_eq!(listed(&first_id)["label"], "nightly export");
    assert_eq!(listed(&first_id)["account"], "script");
    assert!(listed(&first_id)["revoked_at"].is_null());
    let (created, expires) = (
        listed(&second_id)["created_at"].clone(),
        listed(&second_id)["expires_at"].clone(),
    );
    let days = chrono::DateTime::parse_from_rfc3339(expires.as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(created.as_str().unwrap()).unwrap();
    assert_eq!(days.num_days(), 7);
    let table = stdout_of(&data, &["token", "list"]);
    assert!(
        table.contains(&first_id) && table.contains("nightly export"),
        "{table}"
    );
    for shown in [list.to_string(), table] {
        for token in [&first, &second] {
            assert!(!shown.contains(&token[18..]), "a secret is listed: {shown}");
        }
        assert!(!shown.contains("sha256"), "{shown}");
    }

    spor(&data)
        .args(["token", "revoke", &first_id])
        .assert()
        .success()
        .stdout("");
    spor(&data)
        .args(["token", "revoke", &second])
        .assert()
        .success()
        .stdout("");
    spor(&data)
        .args(["token", "revoke", &first])
        .assert()
        .success()
        .stderr(contains("already revoked"));
    let list = json_of(&data, &["token", "list", "--format", "json"]);
    assert!(
        list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked_at"].is_string()),
        "{list}"
    );

    spor(&data)
        .args(["token", "revoke", "0123456789ab"])
        .assert()
        .code(8)
        .stderr(contains("no token with id 0123456789ab"));
    spor(&data)
        .args(["token", "revoke", "spor_nonsense"])
        .assert()
        .code(2)
        .stderr(contains("spor_ID_SECRET"));
    spor(&data)
        .args(["token", "create", "nobody"])
        .assert()
        .code(8)
        .stdout("");
    spor(&data)
        .args(["token", "list", "nobody"])
        .assert()
        .code(8);
    spor(&data)
        .args(["token", "create", "script", "--expires", "400"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("1 to 366 days"));
}

/// The actions of the entries `spor audit --participant p` lists, oldest first.
fn audited_actions(data: &Path, p: &str) -> Vec<String> {
    let v = json_of(data, &["audit", "--participant", p, "--format", "json"]);
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn who_has_seen_a_participant_lists_every_read_and_the_audit_reads_too() {
    let (_tmp, data) = with_log(12);
    let p = participant(0);
    spor(&data).args(["show", &p]).assert().success();
    spor(&data)
        .args(["status", "--unit", "0301", "--on", "2007-06-30"])
        .assert()
        .success();
    // Another unit's status does not name p.
    spor(&data)
        .args(["status", "--unit", "1201", "--on", "2007-06-30"])
        .assert()
        .success();

    let v = json_of(&data, &["audit", "--participant", &p, "--format", "json"]);
    let entries = v["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["spor import", "spor show", "spor status"]);
    let show = &entries[1];
    assert_eq!(show["participants"], serde_json::json!([p]));
    assert_eq!(show["role"], "operator");
    assert_eq!(show["from"], "local");
    assert_eq!(show["units"], serde_json::json!([]));
    assert!(uuid::Uuid::parse_str(show["id"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(show["at"].as_str().unwrap()).is_ok());
    let who = show["who"].as_str().unwrap().to_owned();
    assert!(!who.is_empty());
    let status = &entries[2];
    let mut in_0301: Vec<String> = [0, 4, 8].map(participant).to_vec();
    in_0301.sort();
    assert_eq!(status["participants"], serde_json::json!(in_0301));

    // The read above was itself recorded, naming p.
    assert_eq!(
        audited_actions(&data, &p),
        ["spor import", "spor show", "spor status", "spor audit"]
    );
    let csv = stdout_of(&data, &["audit", "--participant", &p, "--format", "csv"]);
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");
    assert!(csv.starts_with("id,at,who,role,units,action,from,participants\n"));
    let table = stdout_of(&data, &["audit", "--participant", &p]);
    assert!(
        table.contains("spor show") && table.contains("6 entries"),
        "{table}"
    );

    // By the user: every entry of this run was made by the one operator.
    let by_user = json_of(&data, &["audit", "--user", &who, "--format", "json"]);
    let mine = by_user["entries"].as_array().unwrap();
    assert_eq!(
        mine.len(),
        1 + 3 + 4,
        "import, show, two statuses, four audit reads: {by_user}"
    );
    assert!(mine.iter().all(|e| e["who"] == who.as_str()));
    let nobody = json_of(
        &data,
        &["audit", "--user", "nobody-at-all", "--format", "json"],
    );
    assert_eq!(nobody["entries"], serde_json::json!([]));

    spor(&data).args(["audit"]).assert().code(2);
    spor(&data)
        .args(["audit", "--participant", &p, "--user", &who])
        .assert()
        .code(2);
}

/// The audit trail as stored, read in-process (so reading it adds nothing).
/// Only the trail's own file is opened, not the store: sled lets go of the
/// directory's lock a moment after it is dropped, and the next `spor` of
/// the test would find the directory in use.
fn audit_entries(data: &Path) -> Vec<spor_store::AuditEntry> {
    use spor_store::AuditTrail;
    let log = spor_store::AuditLog::open(data, Box::new(spor_store::RealDisk)).unwrap();
    let mut all = Vec::new();
    log.entries(&mut |e| all.push(e)).unwrap();
    all
}

#[test]
fn every_command_that_prints_participants_records_exactly_one_entry_naming_them() {
    let (_tmp, data) = with_log(8);
    let everyone: Vec<String> = (0..8).map(participant).collect();
    let p = participant(0);
    let runs: &[(&str, &[&str])] = &[
        ("spor show", &["show", &p, "--format", "json"]),
        ("spor show", &["show", &p, "--on", "2005-06-15"]),
        ("spor status", &["status", "--format", "csv"]),
        (
            "spor status",
            &["status", "--unit", "030105", "--format", "json"],
        ),
        (
            "spor followups",
            &["followups", "--on", "2005-07-25", "--format", "json"],
        ),
        (
            "spor followups",
            &[
                "followups",
                "--on",
                "2005-07-25",
                "--unit",
                "0301",
                "--format",
                "ics",
            ],
        ),
        (
            "spor followups",
            &["followups", "--on", "2005-07-25", "--unit", "1201"],
        ),
        ("spor export", &["export"]),
        ("spor export", &["export", "--unit", "1601"]),
        (
            "spor lint",
            &["lint", "--on", "2005-09-01", "--format", "csv"],
        ),
        (
            "spor survey explain",
            &[
                "survey", "explain", "--year", "2006", "--unit", "0301", "--key", "q4", "--format",
                "json",
            ],
        ),
    ];
    for (action, args) in runs {
        let before = audit_entries(&data).len();
        let printed = stdout_of(&data, args);
        let entries = audit_entries(&data);
        assert_eq!(
            entries.len(),
            before + 1,
            "spor {args:?} recorded {} entries",
            entries.len() - before
        );
        let entry = entries.last().unwrap();
        assert_eq!(entry.action, *action);
        let named: Vec<String> = entry.participants.iter().map(|p| p.0.to_string()).collect();
        let mut shown: Vec<String> = everyone
            .iter()
            .filter(|p| printed.contains(p.as_str()))
            .cloned()
            .collect();
        shown.sort();
        assert!(
            !shown.is_empty(),
            "spor {args:?} printed no participant: the case proves nothing"
        );
        assert_eq!(
            named, shown,
            "spor {args:?}: the entry must name exactly the participants printed"
        );
    }
    // Aggregates name nobody and are not recorded.
    let before = audit_entries(&data).len();
    stdout_of(&data, &["survey", "--year", "2006", "--format", "json"]);
    stdout_of(&data, &["verify"]);
    assert_eq!(audit_entries(&data).len(), before);

    // Writes are recorded too, naming the participant written.
    let line = fixture::Stream::started(40, "0301", "2005-02-01").lines();
    spor(&data)
        .args(["log", "--json", line.lines().next().unwrap()])
        .assert()
        .success();
    let written = fixture::Stream::new(40, "0301").participant.0.to_string();
    assert_eq!(audited_actions(&data, &written), ["spor log"]);
    let import = &audit_entries(&data)[0];
    assert_eq!(import.action, "spor import");
    assert_eq!(import.participants.len(), 8);
}

#[test]
fn a_read_whose_audit_entry_cannot_be_written_prints_nothing_and_exits_6() {
    let (_tmp, data) = with_log(4);
    let p = participant(0);
    // An audit trail that cannot be opened for writing.
    std::fs::remove_file(data.join("audit.log")).unwrap();
    std::fs::create_dir(data.join("audit.log")).unwrap();
    for args in [
        vec!["show", p.as_str()],
        vec!["status"],
        vec!["export"],
        vec!["followups", "--on", "2005-04-05"],
    ] {
        spor(&data)
            .args(&args)
            .assert()
            .code(6)
            .stdout("")
            .stderr(contains("audit"));
    }
}

/// Every record of a record file: its offset and bytes.
fn records(bytes: &[u8]) -> Vec<(usize, Vec<u8>)> {
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

/// A store with three audit records: import, show, status.
fn with_three_audit_records() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, data) = with_log(4);
    spor(&data)
        .args(["show", &participant(0)])
        .assert()
        .success();
    spor(&data).args(["status"]).assert().success();
    spor(&data)
        .arg("verify")
        .assert()
        .success()
        .stdout(contains("audit records 3").and(contains("ok: no problems found")));
    (tmp, data)
}

#[test]
fn a_flipped_byte_in_the_audit_trail_is_found_by_verify() {
    let (_tmp, data) = with_three_audit_records();
    let path = data.join("audit.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let (at, second) = records(&bytes)[1].clone();
    let text = String::from_utf8_lossy(&second).into_owned();
    let inside = at + text.find("spor show").unwrap();
    bytes[inside] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    spor(&data)
        .arg("verify")
        .assert()
        .code(5)
        .stdout(contains(format!(
            "audit.log record 2 (offset {at}): record checksum mismatch"
        )))
        .stderr(contains("1 problem(s) found"));
}

#[test]
fn an_audit_record_rewritten_with_a_valid_checksum_is_found_by_the_hash_chain() {
    let (_tmp, data) = with_three_audit_records();
    let path = data.join("audit.log");
    let all = records(&std::fs::read(&path).unwrap());
    // Hide the `spor show` read: same sequence number and chain link, a
    // fresh and valid checksum.
    let rec = record::decode(&all[1].1).unwrap();
    let forged = record::encode(
        rec.seq,
        &rec.prev_hash,
        &rec.payload.replace("spor show", "spor export"),
    );
    assert!(
        record::decode(&forged).is_ok(),
        "the forged record has a valid checksum"
    );
    let third_at = all[0].1.len() + forged.len();
    let mut bytes = all[0].1.clone();
    bytes.extend_from_slice(&forged);
    bytes.extend_from_slice(&all[2].1);
    std::fs::write(&path, bytes).unwrap();
    spor(&data)
        .arg("verify")
        .assert()
        .code(5)
        .stdout(contains(format!(
            "audit.log record 3 (offset {third_at}): does not carry the hash of record 2"
        )));
}

#[test]
fn a_torn_audit_record_at_the_end_is_noted_not_a_finding_and_cut_off_by_the_next_write() {
    let (_tmp, data) = with_three_audit_records();
    let path = data.join("audit.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let first = records(&bytes)[0].1.clone();
    bytes.extend_from_slice(&first[..first.len() / 2]);
    std::fs::write(&path, bytes).unwrap();
    spor(&data)
        .arg("verify")
        .assert()
        .success()
        .stdout(contains("audit records 3").and(contains("incomplete record")));
    spor(&data)
        .args(["show", &participant(0)])
        .assert()
        .success();
    spor(&data)
        .arg("verify")
        .assert()
        .success()
        .stdout(contains("audit records 4").and(contains("incomplete").not()));
}

#[test]
fn a_damaged_last_record_that_was_acknowledged_is_never_cut_off() {
    let (_tmp, data) = with_three_audit_records();
    let path = data.join("audit.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let (at, last) = records(&bytes)[2].clone();
    let inside = at + String::from_utf8_lossy(&last).find("spor status").unwrap();
    bytes[inside] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    // The head file says record 3 was made durable: damage, not a torn write.
    spor(&data)
        .arg("verify")
        .assert()
        .code(5)
        .stdout(contains("audit.log record 3"));
    spor(&data)
        .args(["show", &participant(0)])
        .assert()
        .code(5)
        .stderr(contains("audit.log"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the evidence is left as it is"
    );
}
