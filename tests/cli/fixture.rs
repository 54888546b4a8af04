//! Builds interchange lines for tests: valid timelines and deliberate mistakes.

use chrono::{NaiveDate, TimeZone, Utc};
use spor_domain::event::*;
use spor_domain::person::{PersonNumber, make_fodselsnummer};
use spor_domain::wire::to_line;
use spor_domain::{Event, EventBody, EventId, ParticipantId, UnitCode};
use uuid::Uuid;

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A synthetic fødselsnummer (month + 80) for a birth date.
pub fn synthetic_person(birth: NaiveDate) -> String {
    (0..1000)
        .find_map(|i| make_fodselsnummer(birth, i, 80))
        .unwrap()
}

/// Makes events for one participant with ids from a counter.
pub struct Stream {
    pub participant: ParticipantId,
    pub unit: UnitCode,
    next: u128,
    pub events: Vec<Event>,
}

impl Stream {
    pub fn new(n: u128, unit: &str) -> Self {
        Self {
            participant: ParticipantId(Uuid::from_u128(
                0xA000_0000_0000_0000_0000_0000_0000_0000 + n,
            )),
            unit: UnitCode::parse(unit).unwrap(),
            next: n * 1000,
            events: Vec::new(),
        }
    }

    pub fn push(&mut self, date: &str, body: EventBody) -> EventId {
        self.next += 1;
        let id = EventId(Uuid::from_u128(
            0xE000_0000_0000_0000_0000_0000_0000_0000 + self.next,
        ));
        let date = d(date);
        let recorded = date.and_hms_opt(9, 0, 0).unwrap() + chrono::Duration::days(1);
        self.events.push(Event {
            id,
            participant: self.participant,
            unit: self.unit,
            date,
            recorded_at: Utc.from_utc_datetime(&recorded),
            by: Some("adviser-1".into()),
            body,
        });
        id
    }

    /// Registered, claimed, granted 24 months, started.
    pub fn started(n: u128, unit: &str, start: &str) -> Self {
        let mut s = Self::new(n, unit);
        let person = PersonNumber::parse(&synthetic_person(d("1980-04-02"))).unwrap();
        s.push(
            "2005-01-03",
            EventBody::Registered(Registered {
                person,
                birth_date: None,
                basis: Basis::Resettlement,
            }),
        );
        s.push("2005-01-04", EventBody::Claimed);
        s.push("2005-01-10", EventBody::Granted(Granted { months: 24 }));
        s.push(start, EventBody::Started);
        s
    }

    pub fn lines(&self) -> String {
        self.events.iter().map(|e| to_line(e) + "\n").collect()
    }
}

/// A log of `n` participants with exits and leaves, as JSON Lines.
pub fn log(n: u128) -> String {
    let mut out = String::new();
    for i in 0..n {
        let unit = ["0301", "030105", "1201", "1601"][usize::try_from(i % 4).unwrap()];
        let mut s = Stream::started(i, unit, "2005-02-01");
        s.push(
            "2005-06-01",
            EventBody::LeaveGranted(LeaveGranted {
                from: d("2005-06-01"),
                to: d("2005-07-31"),
                reason: LeaveReason::Parental,
            }),
        );
        if i % 3 == 0 {
            s.push(
                "2006-11-30",
                EventBody::Completed(Completed {
                    reason: CompletedReason::WorkFullTime,
                    main_activity: None,
                    support: vec![Support::SocialAssistance],
                }),
            );
        }
        out.push_str(&s.lines());
    }
    out
}
