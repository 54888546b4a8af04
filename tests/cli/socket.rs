//! Commands on a data directory while `spor serve` holds it (contract §4):
//! they run inside the server, sent over the socket in DIR, and print and
//! exit as the same command does on a copy of DIR with no server; what they
//! write the server sees at once; a socket a killed server left is ignored.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::fixture::{self, Stream};
use crate::serve::{client, serve, wait_ready};
use crate::spor;

fn participant(n: u128) -> String {
    Stream::new(n, "0301").participant.to_string()
}

/// A data directory holding `n` participants, in a temporary directory.
fn with_log(n: u128) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("served");
    spor(&data)
        .args(["import", "-"])
        .write_stdin(fixture::log(n))
        .assert()
        .success();
    (tmp, data)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `spor --data DATA ARGS` run in `cwd`, with `stdin`.
fn run(data: &Path, cwd: &Path, args: &[&str], stdin: &str) -> Output {
    spor(data)
        .current_dir(cwd)
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The audit entries a `spor audit --format json` printed, without what
/// differs from run to run (the entry's id and time).
fn entries_without_id_and_time(stdout: &[u8]) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(stdout).unwrap();
    let mut entries = doc["entries"].as_array().unwrap().clone();
    for e in &mut entries {
        let e = e.as_object_mut().unwrap();
        e.remove("id").unwrap();
        e.remove("at").unwrap();
    }
    entries
}

#[test]
fn commands_through_a_running_server_print_and_exit_as_they_do_without_one() {
    let (tmp, served) = with_log(12);
    let copy = tmp.path().join("copy");
    copy_dir(&served, &copy);
    // A file named relative to the command's own directory: the server opens
    // it from there, not from its own.
    let mut no_grant = Stream::started(90, "0301", "2005-02-01");
    no_grant.events.remove(2);
    std::fs::write(tmp.path().join("refused.jsonl"), no_grant.lines()).unwrap();
    let _server = serve(&served, &[], 0);
    assert!(
        served.join("run/spor.sock").exists(),
        "the server listens on its socket"
    );

    let p = participant(3);
    let commands: Vec<Vec<&str>> = vec![
        vec!["status", "--format", "json", "--on", "2006-01-01"],
        vec!["status", "--unit", "0301", "--on", "2007-06-30"],
        vec!["show", &p, "--on", "2006-06-01"],
        vec!["show", &p, "--format", "json", "--on", "2006-06-01"],
        vec![
            "survey",
            "--year",
            "2006",
            "--by",
            "county",
            "--format",
            "json",
            "--known-at",
            "2007-06-30",
        ],
        vec!["survey", "--year", "2006", "--publish", "--format", "csv"],
        vec!["followups", "--on", "2006-11-20", "--format", "json"],
        vec!["lint", "--on", "2007-01-01", "--format", "csv"],
        vec!["export"],
        vec!["export", "--unit", "1201"],
        vec!["import", "refused.jsonl"],
        vec!["status", "--no-such-flag"],
        vec!["user", "list", "--format", "json"],
        vec!["token", "revoke", "0123456789ab"],
        // Last: the audit trail and the log as every command above left them.
        vec!["verify"],
    ];
    for args in &commands {
        let through = run(&served, tmp.path(), args, "");
        let alone = run(&copy, tmp.path(), args, "");
        assert_eq!(
            through.status.code(),
            alone.status.code(),
            "spor {args:?}: {}",
            text(&through.stderr)
        );
        assert_eq!(text(&through.stdout), text(&alone.stdout), "spor {args:?}");
        assert_eq!(
            text(&through.stderr).replace(&*served.to_string_lossy(), "DIR"),
            text(&alone.stderr).replace(&*copy.to_string_lossy(), "DIR"),
            "spor {args:?}"
        );
    }
    let import = run(&served, tmp.path(), &["import", "refused.jsonl"], "");
    assert_eq!(import.status.code(), Some(3));
    assert!(
        text(&import.stderr).contains("refused.jsonl: line 3:"),
        "{}",
        text(&import.stderr)
    );
    assert_eq!(
        run(&served, tmp.path(), &["status", "--no-such-flag"], "")
            .status
            .code(),
        Some(2)
    );

    // Who has seen P: the same entries, made as the same operating-system user.
    let args = ["audit", "--participant", &p, "--format", "json"];
    let (through, alone) = (
        run(&served, tmp.path(), &args, ""),
        run(&copy, tmp.path(), &args, ""),
    );
    assert!(through.status.success() && alone.status.success());
    let entries = entries_without_id_and_time(&through.stdout);
    assert_eq!(entries, entries_without_id_and_time(&alone.stdout));
    let shows = entries
        .iter()
        .filter(|e| e["action"] == "spor show" && e["role"] == "operator")
        .count();
    assert_eq!(shows, 2, "{entries:?}");
}

#[test]
fn what_a_command_writes_through_the_server_the_api_serves_at_once() {
    let (tmp, data) = with_log(4);
    let s = serve(&data, &[], 0);
    wait_ready(&s.base);
    // An account and a token made through the server work at once.
    let added = run(
        &data,
        tmp.path(),
        &["user", "add", "vei", "--role", "adviser", "--unit", "0301"],
        "",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert_eq!(
        text(&added.stdout).trim().len(),
        20,
        "only the one-time password: {}",
        text(&added.stdout)
    );
    let made = run(&data, tmp.path(), &["token", "create", "vei"], "");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let token = text(&made.stdout).trim().to_owned();
    assert!(token.starts_with("spor_"), "{token}");

    let p = participant(0);
    let c = client();
    let version = || {
        let r = c
            .get(format!("{}/api/v1/participants/{p}", s.base))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["version"].as_u64().unwrap()
    };
    let before = version();
    let id = uuid::Uuid::from_u128(0xF00);
    let line = format!(
        r#"{{"id":"{id}","participant":"{p}","unit":"0301","type":"follow_up","date":"2007-02-01","data":{{"outcome":"work","channel":"phone"}}}}"#
    );
    let logged = run(&data, tmp.path(), &["log", "--json", "-"], &line);
    assert!(logged.status.success(), "{}", text(&logged.stderr));
    assert!(
        text(&logged.stdout).contains(r#""type":"follow_up""#),
        "{}",
        text(&logged.stdout)
    );
    assert_eq!(
        version(),
        before + 1,
        "the logged event is in the timeline the API serves"
    );
    // A second exit is refused by the rules there as here: exit 3, nothing written.
    let refused = run(
        &data,
        tmp.path(),
        &[
            "log",
            "--type",
            "claimed",
            "--participant",
            &p,
            "--unit",
            "0301",
            "--date",
            "2007-03-01",
        ],
        "",
    );
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert_eq!(version(), before + 1);
    // Serving DIR twice is refused as a directory in use.
    let twice = run(&data, tmp.path(), &["serve", "--listen", "127.0.0.1:0"], "");
    assert_eq!(twice.status.code(), Some(4));
    assert!(
        text(&twice.stderr).contains("`spor serve` already runs on"),
        "{}",
        text(&twice.stderr)
    );
}

#[test]
fn a_socket_left_by_a_killed_server_is_ignored_even_where_dirs_path_is_too_long_for_one() {
    let tmp = tempfile::tempdir().unwrap();
    // Longer than a socket address holds (108 bytes): reached through /proc/self/fd.
    let data = tmp.path().join("d".repeat(110));
    spor(&data)
        .args(["import", "-"])
        .write_stdin(fixture::log(3))
        .assert()
        .success();
    let mut s = serve(&data, &[], 0);
    let status = |data: &Path| {
        spor(data)
            .args(["status", "--format", "json", "--on", "2006-01-01"])
            .output()
            .unwrap()
    };
    let through = status(&data);
    assert!(through.status.success(), "{}", text(&through.stderr));
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    assert!(
        data.join("run/spor.sock").exists(),
        "kill -9 leaves the socket behind"
    );
    let alone = status(&data);
    assert!(alone.status.success(), "{}", text(&alone.stderr));
    assert_eq!(alone.stdout, through.stdout);
    // The next server clears it and listens again; a clean stop removes it.
    let _again = serve(&data, &[], 0);
    assert!(status(&data).status.success());
}

#[test]
fn the_socket_is_owner_only_and_refuses_another_user() {
    let (tmp, data) = with_log(2);
    let _s = serve(&data, &[], 0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("run")), 0o700);
    assert_eq!(mode(&data.join("run/spor.sock")), 0o600);
    if std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0 {
        // As root the test can be another user: one who can reach the
        // socket (its modes opened up here) is still refused by the server.
        for p in [
            tmp.path(),
            &data,
            &data.join("run"),
            &data.join("run/spor.sock"),
        ] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let other = std::process::Command::new(assert_cmd::cargo::cargo_bin!("spor"))
            .env_clear()
            .arg("--data")
            .arg(&data)
            .arg("status")
            .uid(65534)
            .gid(65534)
            .output();
        match other {
            Ok(out) => {
                assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
                assert!(
                    text(&out.stderr).contains("the server holding"),
                    "{}",
                    text(&out.stderr)
                );
            }
            // The test binary's directory is not open to that user: nothing to test there.
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}"),
        }
    }
}
