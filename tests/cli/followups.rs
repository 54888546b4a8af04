//! `spor followups` as contract §3's command line.

use predicates::prelude::*;
use predicates::str::contains;

use crate::fixture::{Stream, d};
use crate::spor;

#[test]
fn followups_lists_open_reminders_in_the_contract_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Stream::started(1, "030105", "2005-02-01");
    s.push(
        "2005-02-20",
        spor_domain::EventBody::LeaveGranted(spor_domain::event::LeaveGranted {
            from: d("2005-03-01"),
            to: d("2005-03-31"),
            reason: spor_domain::event::LeaveReason::Illness,
        }),
    );
    spor(&data).arg("import").arg("-").write_stdin(s.lines()).assert().success();
    let out = spor(&data).args(["followups", "--on", "2005-04-05", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let p = s.participant.to_string();
    assert!(
        text.starts_with(&format!(
            r#"{{"on":"2005-04-05","items":[{{"participant":"{p}","unit":"030105","kind":"leave_ends","due":"2005-04-01","overdue":true}}"#
        )),
        "{text}"
    );
    spor(&data)
        .args(["followups", "--on", "2005-04-05", "--unit", "030105"])
        .assert()
        .success()
        .stdout(contains("Permisjon slutter").and(contains("01.04.2005")).and(contains("1 over frist")));
    spor(&data).args(["followups", "--on", "2005-04-05", "--unit", "030101", "--format", "csv"]).assert().success().stdout("participant,unit,kind,due,overdue\n");
}
