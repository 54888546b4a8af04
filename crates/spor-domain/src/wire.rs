//! The interchange format (contract §1): one JSON object per line.
//!
//! Reading checks the shape of every field (unknown fields are an error, codes
//! must be in their lists); whether the event may follow the participant's
//! timeline is decided in [`crate::timeline`]. Writing produces one canonical
//! line per event: the same event always gives the same bytes, which is what
//! the store keeps and what `spor export` prints.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::codes::UnitCode;
use crate::event::{Event, EventBody, EventId, EventKind, ParticipantId};

/// The longest line accepted, in bytes. The longest real event (a refusal or
/// a follow-up note at their length limits) is well under this.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// Why a line is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("line is {0} bytes; the limit is {MAX_LINE_BYTES}")]
    TooLong(usize),
    #[error("not a valid event: {0}")]
    Shape(String),
    #[error("`data` of `{kind}`: {message}")]
    Data { kind: EventKind, message: String },
    /// A field of the right JSON type whose value is not one the format
    /// allows: a code not in its list, a unit or identity number of the
    /// wrong form, a number out of range. `field` is its path
    /// (`unit`, `type`, `data.reason`).
    #[error("`{field}`: {message}")]
    Value { field: String, message: String },
}

/// Fields whose values are checked against a list or a form, where a refused
/// value is the value's fault, not the line's shape: the unit, the event
/// type, and everything in `data`. A malformed id or date is a shape error.
fn value_checked(field: &str) -> bool {
    field == "unit" || field == "type" || field.starts_with("data.")
}

/// Splits a serde error at `field` into a shape problem (wrong JSON type, a
/// field missing or unknown, broken syntax) and a value problem (the JSON
/// type is right, the value is not allowed). serde words the first kind
/// with fixed prefixes.
fn classify(field: String, e: &serde_json::Error) -> Result<String, WireError> {
    let message = without_position(e);
    let shape = !e.is_data()
        || [
            "invalid type",
            "missing field",
            "unknown field",
            "invalid length",
            "duplicate field",
        ]
        .iter()
        .any(|p| message.starts_with(p));
    if shape || !value_checked(&field) {
        Ok(message)
    } else {
        Err(WireError::Value { field, message })
    }
}

/// An event as read from a line, before the store stamps it: `recorded_at`
/// may be missing, and then the store's clock supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: EventId,
    pub participant: ParticipantId,
    pub unit: UnitCode,
    pub date: NaiveDate,
    pub recorded_at: Option<DateTime<Utc>>,
    pub by: Option<String>,
    pub body: EventBody,
}

impl Draft {
    /// The event as it will be stored, with `now` where no time was given.
    pub fn stamp(self, now: DateTime<Utc>) -> Event {
        Event {
            id: self.id,
            participant: self.participant,
            unit: self.unit,
            date: self.date,
            recorded_at: self.recorded_at.unwrap_or(now),
            by: self.by,
            body: self.body,
        }
    }

    /// Whether this draft says the same as an event already stored under its
    /// id. A draft without `recorded_at` matches any recording time, and one
    /// without `by` any recorder: a re-import of a file without them is the
    /// same import, whoever stamped them the first time.
    pub fn same_as(&self, stored: &Event) -> bool {
        self.id == stored.id
            && self.participant == stored.participant
            && self.unit == stored.unit
            && self.date == stored.date
            && self.recorded_at.is_none_or(|t| t == stored.recorded_at)
            && (self.by.is_none() || self.by == stored.by)
            && self.body == stored.body
    }
}

impl From<Event> for Draft {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            participant: e.participant,
            unit: e.unit,
            date: e.date,
            recorded_at: Some(e.recorded_at),
            by: e.by,
            body: e.body,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    id: Uuid,
    participant: Uuid,
    unit: UnitCode,
    #[serde(rename = "type")]
    kind: EventKind,
    date: NaiveDate,
    #[serde(default)]
    recorded_at: Option<DateTime<Utc>>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
}

/// Reads one line of the interchange format.
pub fn parse_line(line: &str) -> Result<Draft, WireError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(WireError::TooLong(line.len()));
    }
    let raw: Line<'_> = match serde_json::from_str(line) {
        Ok(raw) => raw,
        Err(e) => {
            if e.is_syntax() || e.is_eof() {
                return Err(WireError::Shape(format!(
                    "the line is not JSON ({})",
                    without_position(&e)
                )));
            }
            // Once more, to learn which field it was.
            let field = path_of::<Line<'_>>(line).unwrap_or_default();
            return Err(classify(field.clone(), &e).map_or_else(
                |value| value,
                |message| {
                    // serde names the field itself when it is missing,
                    // unknown or repeated.
                    let named = ["unknown field", "missing field", "duplicate field"]
                        .iter()
                        .any(|p| message.starts_with(p));
                    WireError::Shape(if field.is_empty() || named {
                        message
                    } else {
                        format!("`{field}`: {}", plainly(&field, line, message))
                    })
                },
            ));
        }
    };
    let data = raw.data.map_or("{}", RawValue::get);
    let body = parse_body(raw.kind, data)?;
    Ok(Draft {
        id: EventId(raw.id),
        participant: ParticipantId(raw.participant),
        unit: raw.unit,
        date: raw.date,
        recorded_at: raw.recorded_at,
        by: raw.by,
        body,
    })
}

/// Reads a line that was written by [`to_line`], as the store does. Such a
/// line always carries `recorded_at`.
pub fn parse_stored(line: &str) -> Result<Event, WireError> {
    let draft = parse_line(line)?;
    let Some(recorded_at) = draft.recorded_at else {
        return Err(WireError::Shape("stored event without recorded_at".into()));
    };
    Ok(draft.stamp(recorded_at))
}

fn parse_body(kind: EventKind, data: &str) -> Result<EventBody, WireError> {
    fn typed<T: DeserializeOwned>(kind: EventKind, data: &str) -> Result<T, WireError> {
        serde_json::from_str(data).map_err(|e| {
            let path = path_of::<T>(data);
            let field = path
                .as_deref()
                .map_or_else(|| "data".to_owned(), |p| format!("data.{p}"));
            match classify(field, &e) {
                Err(WireError::Value { field, message }) => {
                    let within = path.unwrap_or_default();
                    let message = plainly(&within, data, message);
                    WireError::Value { field, message }
                }
                Err(other) => other,
                Ok(message) => WireError::Data { kind, message },
            }
        })
    }
    fn empty(kind: EventKind, data: &str) -> Result<(), WireError> {
        typed::<Empty>(kind, data).map(|_| ())
    }
    Ok(match kind {
        EventKind::Registered => EventBody::Registered(typed(kind, data)?),
        EventKind::Claimed => empty(kind, data).map(|()| EventBody::Claimed)?,
        EventKind::Offered => empty(kind, data).map(|()| EventBody::Offered)?,
        EventKind::Granted => EventBody::Granted(typed(kind, data)?),
        EventKind::Refused => EventBody::Refused(typed(kind, data)?),
        EventKind::Started => empty(kind, data).map(|()| EventBody::Started)?,
        EventKind::LeaveGranted => EventBody::LeaveGranted(typed(kind, data)?),
        EventKind::LeaveEnded => empty(kind, data).map(|()| EventBody::LeaveEnded)?,
        EventKind::Extended => EventBody::Extended(typed(kind, data)?),
        EventKind::MeasureStarted => EventBody::MeasureStarted(typed(kind, data)?),
        EventKind::MeasureEnded => EventBody::MeasureEnded(typed(kind, data)?),
        EventKind::Absence => EventBody::Absence(typed(kind, data)?),
        EventKind::Handover => EventBody::Handover(typed(kind, data)?),
        EventKind::Completed => EventBody::Completed(typed(kind, data)?),
        EventKind::Stopped => EventBody::Stopped(typed(kind, data)?),
        EventKind::Interrupted => EventBody::Interrupted(typed(kind, data)?),
        EventKind::FollowUp => EventBody::FollowUp(typed(kind, data)?),
        EventKind::Retracted => EventBody::Retracted(typed(kind, data)?),
    })
}

/// The `data` of a type without fields: `{}`, nothing else.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// The path of the field where reading `text` as a `T` fails, if it fails
/// inside a field.
fn path_of<'de, T: Deserialize<'de>>(text: &'de str) -> Option<String> {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => None,
        Err(e) => Some(e.path().to_string()).filter(|p| p != "."),
    }
}

/// Says what is wrong with a date, time or id in words a person can act
/// on, with the value as written (`text` is the JSON the `field` path is
/// in); other messages are kept as serde words them.
fn plainly(field: &str, text: &str, message: String) -> String {
    let name = field.rsplit('.').next().unwrap_or(field);
    let value = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| field.split('.').try_fold(v, |v, key| v.get(key).cloned()))
        .and_then(|v| v.as_str().map(|s| format!("`{s}`")));
    let Some(value) = value else {
        return message;
    };
    match name {
        "date" | "from" | "to" | "birth_date" => {
            if message.contains("out of range") {
                format!("{value} is not a day in the calendar (check the day and the month)")
            } else {
                format!("{value} is not a date of the form YYYY-MM-DD")
            }
        }
        "recorded_at" => {
            format!("{value} is not a time of the form 2008-02-15T12:00:00Z (RFC 3339)")
        }
        "id" | "participant" | "event" if message.starts_with("UUID") => {
            format!("{value} is not a UUID (32 hexadecimal digits as 8-4-4-4-12)")
        }
        _ => message,
    }
}

/// serde_json ends its messages with "at line 1 column N"; inside `data` that
/// position is relative to the fragment and would mislead.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[derive(Serialize)]
struct OutLine<'a> {
    id: Uuid,
    participant: Uuid,
    unit: &'a UnitCode,
    #[serde(rename = "type")]
    kind: EventKind,
    date: NaiveDate,
    recorded_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a str>,
    data: OutData<'a>,
}

struct OutData<'a>(&'a EventBody);

impl Serialize for OutData<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            EventBody::Registered(x) => x.serialize(s),
            EventBody::Granted(x) => x.serialize(s),
            EventBody::Refused(x) => x.serialize(s),
            EventBody::LeaveGranted(x) => x.serialize(s),
            EventBody::Extended(x) => x.serialize(s),
            EventBody::MeasureStarted(x) => x.serialize(s),
            EventBody::MeasureEnded(x) => x.serialize(s),
            EventBody::Absence(x) => x.serialize(s),
            EventBody::Handover(x) => x.serialize(s),
            EventBody::Completed(x) => x.serialize(s),
            EventBody::Stopped(x) => x.serialize(s),
            EventBody::Interrupted(x) => x.serialize(s),
            EventBody::FollowUp(x) => x.serialize(s),
            EventBody::Retracted(x) => x.serialize(s),
            EventBody::Claimed
            | EventBody::Offered
            | EventBody::Started
            | EventBody::LeaveEnded => Empty {}.serialize(s),
        }
    }
}

/// The canonical line for an event, without the newline.
pub fn to_line(event: &Event) -> String {
    let out = OutLine {
        id: event.id.0,
        participant: event.participant.0,
        unit: &event.unit,
        kind: event.body.kind(),
        date: event.date,
        recorded_at: format_time(event.recorded_at),
        by: event.by.as_deref(),
        data: OutData(&event.body),
    };
    serde_json::to_string(&out).expect("an event always serialises: no maps with non-string keys")
}

/// RFC 3339 in UTC with `Z`, with as many fraction digits as the time has.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARTED: &str = r#"{"id":"6f1c6a3e-8d5b-4b7e-9a55-0c6f2e1a9b01","participant":"a3e0c2d1-1111-4b7e-9a55-0c6f2e1a9b02","unit":"0301","type":"started","date":"2006-03-01","recorded_at":"2006-03-02T08:15:00Z","by":"adviser-17","data":{}}"#;

    #[test]
    fn a_canonical_line_round_trips_byte_for_byte() {
        let e = parse_stored(STARTED).unwrap();
        assert_eq!(to_line(&e), STARTED);
    }

    #[test]
    fn offsets_are_read_and_written_in_utc() {
        let line = STARTED.replace("2006-03-02T08:15:00Z", "2006-03-02T09:15:00+01:00");
        let e = parse_stored(&line).unwrap();
        assert_eq!(format_time(e.recorded_at), "2006-03-02T08:15:00Z");
    }

    #[test]
    fn data_may_be_left_out_for_types_without_fields() {
        let line = STARTED.replace(r#","data":{}"#, "");
        assert_eq!(parse_line(&line).unwrap().body, EventBody::Started);
    }

    #[test]
    fn a_bad_date_time_or_id_is_named_with_its_field_and_value() {
        let err = |from: &str, to: &str| {
            parse_line(&STARTED.replace(from, to))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("2006-03-01", "2005-13-01"),
            "not a valid event: `date`: `2005-13-01` is not a day in the calendar (check the day and the month)"
        );
        assert_eq!(
            err("2006-03-01", "2008-02-30"),
            "not a valid event: `date`: `2008-02-30` is not a day in the calendar (check the day and the month)"
        );
        assert_eq!(
            err("2006-03-01", "1.3.2006"),
            "not a valid event: `date`: `1.3.2006` is not a date of the form YYYY-MM-DD"
        );
        assert_eq!(
            err("a3e0c2d1-1111-4b7e-9a55-0c6f2e1a9b02", "a3e0c2d1"),
            "not a valid event: `participant`: `a3e0c2d1` is not a UUID (32 hexadecimal digits as 8-4-4-4-12)"
        );
        assert_eq!(
            err("2006-03-02T08:15:00Z", "yesterday"),
            "not a valid event: `recorded_at`: `yesterday` is not a time of the form 2008-02-15T12:00:00Z (RFC 3339)"
        );
        assert!(err(STARTED, "hello").starts_with("not a valid event: the line is not JSON"));
        let leave = STARTED
            .replace(r#""type":"started""#, r#""type":"leave_granted""#)
            .replace(
                r#""data":{}"#,
                r#""data":{"from":"2006-13-01","to":"2006-04-01","reason":"illness"}"#,
            );
        assert_eq!(
            parse_line(&leave).unwrap_err().to_string(),
            "`data.from`: `2006-13-01` is not a day in the calendar (check the day and the month)"
        );
    }

    #[test]
    fn unknown_fields_are_an_error_at_both_levels() {
        let outer = STARTED.replace(r#""by""#, r#""who""#);
        let err = parse_line(&outer).unwrap_err().to_string();
        assert!(
            err.starts_with("not a valid event: unknown field `who`"),
            "{err}"
        );
        let inner = STARTED.replace(r#""data":{}"#, r#""data":{"x":1}"#);
        assert_eq!(
            parse_line(&inner).unwrap_err().to_string(),
            "`data` of `started`: unknown field `x`, there are no fields"
        );
    }

    #[test]
    fn a_reason_of_another_exit_kind_names_the_valid_ones() {
        let line = STARTED
            .replace(r#""type":"started""#, r#""type":"interrupted""#)
            .replace(r#""data":{}"#, r#""data":{"reason":"health"}"#);
        assert_eq!(
            parse_line(&line).unwrap_err(),
            WireError::Value {
                field: "data.reason".into(),
                message: "unknown variant `health`, expected one of `death`, `moved`, `unknown`"
                    .into()
            }
        );
    }

    #[test]
    fn a_value_outside_its_list_or_form_is_told_from_a_broken_shape() {
        let value = |from: &str, to: &str| match parse_line(&STARTED.replace(from, to)).unwrap_err()
        {
            WireError::Value { field, .. } => Some(field),
            _ => None,
        };
        // Values of the right JSON type that the format does not allow.
        assert_eq!(
            value(r#""unit":"0301""#, r#""unit":"12345""#),
            Some("unit".to_owned())
        );
        assert_eq!(
            value(r#""type":"started""#, r#""type":"begun""#),
            Some("type".to_owned())
        );
        // Shapes: a wrong JSON type, a field unknown, a malformed id or date.
        assert_eq!(value(r#""unit":"0301""#, r#""unit":301"#), None);
        assert_eq!(value(r#""data":{}"#, r#""data":{},"extra":1"#), None);
        assert_eq!(value(r#""date":"#, r#""date":"2006-02-30","x":"#), None);
        assert_eq!(value(r#""id":""#, r#""id":"not-a-uuid","y":""#), None);
    }

    #[test]
    fn hours_keep_one_decimal() {
        let line = STARTED
            .replace(r#""type":"started""#, r#""type":"measure_started""#)
            .replace(
                r#""data":{}"#,
                r#""data":{"measure":"NORSK","hours_per_week":7.5}"#,
            );
        let e = parse_stored(&line).unwrap();
        assert_eq!(to_line(&e), line);
        let bad = line.replace("7.5", "7.25");
        assert!(
            parse_line(&bad)
                .unwrap_err()
                .to_string()
                .contains("at most one decimal")
        );
    }

    #[test]
    fn overlong_lines_are_refused_before_parsing() {
        let long = format!("{}{}", STARTED, " ".repeat(MAX_LINE_BYTES));
        assert_eq!(parse_line(&long), Err(WireError::TooLong(long.len())));
    }
}
