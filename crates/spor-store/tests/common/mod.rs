//! Event makers shared by the store's tests. The store does not judge
//! timelines, so simple `claimed` events serve.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use spor_domain::{Event, EventBody, EventId, ParticipantId, UnitCode};
use uuid::Uuid;

pub fn participant(n: u128) -> ParticipantId {
    ParticipantId(Uuid::from_u128(
        0xA000_0000_0000_0000_0000_0000_0000_0000 | n,
    ))
}

pub fn event(p: ParticipantId, n: u128) -> Event {
    Event {
        id: EventId(Uuid::from_u128(
            0xE000_0000_0000_0000_0000_0000_0000_0000 | n,
        )),
        participant: p,
        unit: UnitCode::parse("0301").expect("valid unit"),
        date: NaiveDate::from_ymd_opt(2006, 1, 1).expect("valid date"),
        recorded_at: Utc
            .with_ymd_and_hms(2006, 1, 2, 8, 0, 0)
            .single()
            .expect("valid time"),
        by: Some(format!("adviser-{}", n % 7)),
        body: EventBody::Claimed,
    }
}
