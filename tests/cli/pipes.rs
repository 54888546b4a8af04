//! A closed pipe is the reader's choice (`spor status --format json | head
//! -1`): every command that writes to standard output ends with exit 0 and
//! says nothing when its reader has gone, in every format.

use std::process::Stdio;

use crate::spor;

#[test]
fn every_command_takes_a_closed_pipe_as_success() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data)
        .args(["demo", "--participants", "200", "--seed", "3"])
        .assert()
        .success();
    let status = spor(&data)
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let participants = v
        .as_array()
        .or_else(|| v["participants"].as_array())
        .unwrap();
    let id = participants[0]["participant"].as_str().unwrap().to_owned();
    let unit = participants[0]["unit"].as_str().unwrap().to_owned();
    let mut commands: Vec<Vec<String>> = Vec::new();
    for format in ["table", "json", "csv"] {
        for args in [
            vec!["status"],
            vec!["show", &id],
            vec!["survey", "--year", "2007"],
            vec!["survey", "--year", "2007", "--publish"],
            vec![
                "survey", "explain", "--year", "2007", "--unit", "1103", "--key", "q1",
            ],
            vec!["survey", "submissions", "--year", "2007"],
            vec!["followups", "--on", "2007-06-01"],
            vec!["lint"],
            vec!["audit", "--participant", &id],
        ] {
            let mut a: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
            a.extend(["--format".to_owned(), format.to_owned()]);
            commands.push(a);
        }
    }
    for args in [
        vec!["export", "-"],
        vec!["verify"],
        vec![
            "followups",
            "--on",
            "2007-06-01",
            "--unit",
            &unit,
            "--format",
            "ics",
        ],
        vec!["user", "list"],
        vec!["token", "list"],
    ] {
        commands.push(args.iter().map(|s| (*s).to_owned()).collect());
    }
    for args in commands {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("spor"))
            .env_clear()
            .env("SPOR_ALLOW_SYNTHETIC_IDS", "1")
            .arg("--data")
            .arg(&data)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before spor has written anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "spor {}: {err}", args.join(" "));
        assert!(!err.contains("panicked"), "spor {}: {err}", args.join(" "));
    }
}
