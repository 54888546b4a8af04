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

/// The calendar feed parses with an independent parser (calcard, not the
/// crate that wrote it), has one event per open reminder with a stable UID,
/// and carries no identity number.
#[test]
fn the_calendar_feed_has_one_event_per_reminder_and_no_identity_number() {
    use calcard::icalendar::{ICalendar, ICalendarComponentType, ICalendarProperty};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    spor(&data).args(["demo", "--participants", "200", "--seed", "3"]).assert().success();
    let unit = "030101";
    let on = "2008-06-02";
    let json = spor(&data).args(["followups", "--on", on, "--unit", unit, "--within", "60", "--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let expected = v["items"].as_array().unwrap().len();
    assert!(expected > 0, "the demo has open reminders");
    let ics = spor(&data).args(["followups", "--on", on, "--unit", unit, "--within", "60", "--format", "ics"]).output().unwrap();
    assert!(ics.status.success());
    let text = String::from_utf8(ics.stdout).unwrap();
    let cal = ICalendar::parse(&text).unwrap_or_else(|e| panic!("not iCalendar: {e:?}"));
    let events: Vec<_> = cal.components.iter().filter(|c| c.component_type == ICalendarComponentType::VEvent).collect();
    assert_eq!(events.len(), expected);
    let mut uids: Vec<String> = events
        .iter()
        .map(|e| {
            let uid = e.entries.iter().find(|x| x.name == ICalendarProperty::Uid).expect("every event has a UID");
            format!("{:?}", uid.values)
        })
        .collect();
    assert!(events.iter().all(|e| e.entries.iter().any(|x| x.name == ICalendarProperty::Dtstart)));
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), expected, "UIDs are unique");
    // No identity number of any participant appears in the feed.
    let export = String::from_utf8(spor(&data).arg("export").output().unwrap().stdout).unwrap();
    let people: Vec<String> = export
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["data"]["person"].as_str().map(str::to_owned))
        .collect();
    assert!(people.len() > 100);
    assert!(people.iter().all(|p| !text.contains(p.as_str())), "an identity number is in the calendar feed");
    spor(&data).args(["followups", "--on", on, "--format", "ics"]).assert().code(2);
}
