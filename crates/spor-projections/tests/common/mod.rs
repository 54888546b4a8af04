//! A participant built event by event, shared by the projection tests.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use spor_domain::event::*;
use spor_domain::person::{PersonNumber, make_fodselsnummer};
use spor_domain::{Event, EventBody, EventId, ParticipantId, UnitCode};
use spor_projections::Projections;
use spor_projections::survey::{Answers, Grouping, SurveyRequest, survey};
use uuid::Uuid;

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A participant built event by event: unit 0301, recorded the day after.
pub struct Person {
    pub id: ParticipantId,
    pub unit: UnitCode,
    next: u128,
    pub events: Vec<Event>,
}

impl Person {
    pub fn new(n: u128) -> Self {
        Self::in_unit(n, "0301")
    }

    /// A participant of `unit`: registered, claimed and granted 24 months in January 2005.
    pub fn in_unit(n: u128, unit: &str) -> Self {
        let mut p = Self::claimed_in(n, unit);
        p.at("2005-01-05", EventBody::Granted(Granted { months: 24 }));
        p
    }

    /// A participant of `unit`, registered and claimed in January 2005, not yet decided on.
    pub fn claimed_in(n: u128, unit: &str) -> Self {
        let mut p = Self {
            id: ParticipantId(Uuid::from_u128(0xA0 << 120 | n)),
            unit: UnitCode::parse(unit).unwrap(),
            next: n << 16,
            events: Vec::new(),
        };
        let birth = d("1980-05-05");
        let person = PersonNumber::parse(
            &(0..1000)
                .find_map(|i| make_fodselsnummer(birth, i, 0))
                .unwrap(),
        )
        .unwrap();
        p.at(
            "2005-01-03",
            EventBody::Registered(Registered {
                person,
                birth_date: None,
                basis: Basis::Asylum,
            }),
        );
        p.at("2005-01-04", EventBody::Claimed);
        p
    }

    pub fn at(&mut self, date: &str, body: EventBody) -> EventId {
        self.recorded(date, &format!("{date}T12:00:00Z"), body)
    }

    pub fn recorded(&mut self, date: &str, recorded: &str, body: EventBody) -> EventId {
        self.next += 1;
        let id = EventId(Uuid::from_u128(0xE0 << 120 | self.next));
        self.events.push(Event {
            id,
            participant: self.id,
            unit: self.unit,
            date: d(date),
            recorded_at: DateTime::parse_from_rfc3339(recorded)
                .unwrap()
                .with_timezone(&Utc),
            by: Some("adviser-1".into()),
            body,
        });
        id
    }

    pub fn completed(&mut self, date: &str, reason: CompletedReason) -> EventId {
        self.at(
            date,
            EventBody::Completed(Completed {
                reason,
                main_activity: None,
                support: vec![],
            }),
        )
    }

    /// The survey of `year` for this one participant, checked against the
    /// rules first so that every case is a valid timeline.
    pub fn survey(&self, year: i32, known_at: Option<&str>) -> Answers {
        let mut p = self.projections();
        let known_at =
            known_at.map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc));
        let request = SurveyRequest {
            year,
            by: Grouping::National,
            known_at,
            as_of: d("2030-01-01"),
        };
        let walked = survey(&p, &request);
        // Settled, the survey is read from the kept sums: the same answers.
        p.settle(1);
        assert_eq!(
            walked,
            survey(&p, &request),
            "the survey of {year}, walked and settled"
        );
        walked.total.answers
    }

    /// The events, each checked by the rules first, in recording order.
    pub fn projections_events(&self) -> Vec<Event> {
        let mut timeline = spor_domain::Timeline::new();
        for (i, e) in self.events.iter().enumerate() {
            timeline
                .admit(e, &spor_domain::Policy::default())
                .unwrap_or_else(|r| panic!("case is not a valid timeline: {r}"));
            timeline.push(u64::try_from(i).unwrap() + 1, e.clone());
        }
        self.events.clone()
    }

    /// The events folded into projections, each checked by the rules first.
    pub fn projections(&self) -> Projections {
        fold(&self.projections_events())
    }
}

/// Events folded into projections in order, sequence numbers from 1.
pub fn fold(events: &[Event]) -> Projections {
    let mut p = Projections::new();
    for (i, e) in events.iter().enumerate() {
        p.apply(u64::try_from(i).unwrap() + 1, e.clone());
    }
    p
}

/// The demo log of `people` participants from `seed`, folded.
pub fn demo(people: usize, seed: u64) -> Projections {
    fold(&spor_demo::generate(&spor_demo::DemoSpec {
        participants: people,
        seed,
    }))
}

pub fn leave(from: &str, to: &str) -> EventBody {
    EventBody::LeaveGranted(LeaveGranted {
        from: d(from),
        to: d(to),
        reason: LeaveReason::Parental,
    })
}
