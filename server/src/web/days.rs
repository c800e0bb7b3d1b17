//! Days as archivists and administrators type them (`YYYY-MM-DD`) are Finland's days
//! (Europe/Helsinki, summer time included), like every time the pages show: "from 1.12." takes
//! in a document written at 00.30 on 1 December in Helsinki, which is still 30 November in UTC.
//! A day becomes a half-open range of instants, from its first moment to the next day's.

use app::{local_time::ZONE, ssr::ServiceError};
use jiff::{civil::Date, tz::TimeZone};
use time::OffsetDateTime;

/// From the first day's start to the start of the day after the last (so the last day is
/// included whole); either end may be open.
pub type DayRange = (Option<OffsetDateTime>, Option<OffsetDateTime>);

/// The moment the typed day starts in Finland; empty is `None`, anything else that is not a
/// `YYYY-MM-DD` date is [`ServiceError::Invalid`] naming `field`.
pub fn day_start(field: &'static str, value: &str) -> Result<Option<OffsetDateTime>, ServiceError> {
    day(field, value, 0)
}

/// The moment after the typed day ends in Finland: the start of the next day.
pub fn day_end(field: &'static str, value: &str) -> Result<Option<OffsetDateTime>, ServiceError> {
    day(field, value, 1)
}

/// Two typed days as one range; a last day before the first is `Invalid(until_field)`.
pub fn day_range(
    (from_field, from): (&'static str, &str),
    (until_field, until): (&'static str, &str),
) -> Result<DayRange, ServiceError> {
    let start = day_start(from_field, from)?;
    let end = day_end(until_field, until)?;
    if let (Some(start), Some(end)) = (start, end)
        && start >= end
    {
        return Err(ServiceError::invalid(until_field));
    }
    Ok((start, end))
}

/// The start of the day `days_after` the typed one, in Finland's time.
fn day(
    field: &'static str,
    value: &str,
    days_after: i64,
) -> Result<Option<OffsetDateTime>, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid = || ServiceError::invalid(field);
    // jiff reads `YYYY-MM-DD` only (a typed `1.12.2026` is refused, not guessed at).
    if value.len() != 10 {
        return Err(invalid());
    }
    let date: Date = value.parse().map_err(|_| invalid())?;
    let zone = TimeZone::get(ZONE).map_err(|_| invalid())?;
    let start = date
        .checked_add(jiff::Span::new().days(days_after))
        .and_then(|day| day.to_zoned(zone))
        .map_err(|_| invalid())?;
    OffsetDateTime::from_unix_timestamp_nanos(start.timestamp().as_nanosecond())
        .map(Some)
        .map_err(|_| invalid())
}

/// A time of day as a `datetime-local` field sends it (`2026-12-05T08:00`, seconds optional),
/// in Finland's time; empty is `None`, anything else [`ServiceError::Invalid`] naming `field`.
pub fn local_time(
    field: &'static str,
    value: &str,
) -> Result<Option<OffsetDateTime>, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid = || ServiceError::invalid(field);
    // A civil time only: a zone or an offset typed in is refused, not guessed at.
    let civil: jiff::civil::DateTime = value.parse().map_err(|_| invalid())?;
    if !(16..=19).contains(&value.len()) {
        return Err(invalid());
    }
    let zone = TimeZone::get(ZONE).map_err(|_| invalid())?;
    let zoned = civil.to_zoned(zone).map_err(|_| invalid())?;
    OffsetDateTime::from_unix_timestamp_nanos(zoned.timestamp().as_nanosecond())
        .map(Some)
        .map_err(|_| invalid())
}

/// `time` as a `datetime-local` field shows it: Finland's time, to the minute.
pub fn local_time_field(time: OffsetDateTime) -> String {
    let (Ok(instant), Ok(zone)) = (
        jiff::Timestamp::from_second(time.unix_timestamp()),
        TimeZone::get(ZONE),
    ) else {
        return String::new();
    };
    instant
        .to_zoned(zone)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use time::{format_description::well_known::Rfc3339, macros::datetime};

    use super::*;

    fn utc(time: Option<OffsetDateTime>) -> String {
        time.expect("a day").format(&Rfc3339).expect("formats")
    }

    #[test]
    fn a_day_starts_at_finnish_midnight_in_winter_and_in_summer() {
        // UTC+2 in winter, UTC+3 in summer.
        assert_eq!(
            utc(day_start("from", "2026-12-01").expect("valid")),
            "2026-11-30T22:00:00Z"
        );
        assert_eq!(
            utc(day_start("from", "2026-07-01").expect("valid")),
            "2026-06-30T21:00:00Z"
        );
    }

    #[test]
    fn the_last_day_is_included_whole_also_across_the_summer_time_change() {
        assert_eq!(
            utc(day_end("until", "2026-12-31").expect("valid")),
            "2026-12-31T22:00:00Z"
        );
        // 29 March 2026 has 23 hours in Finland: it ends at 21.00 UTC.
        assert_eq!(
            utc(day_end("until", "2026-03-29").expect("valid")),
            "2026-03-29T21:00:00Z"
        );
    }

    #[test]
    fn a_document_written_just_after_finnish_midnight_is_in_that_day() {
        let written = datetime!(2026-11-30 22:30 UTC); // 1.12.2026 klo 0.30 in Helsinki
        let (from, until) =
            day_range(("from", "2026-12-01"), ("until", "2026-12-01")).expect("valid");
        assert!(from.expect("from") <= written && written < until.expect("until"));
    }

    #[test]
    fn empty_is_open_and_anything_else_is_refused_naming_the_field() {
        assert_eq!(day_start("since", "  "), Ok(None));
        for bad in [
            "1.12.2026",
            "2026-13-01",
            "2026-02-30",
            "20261201",
            "2026-12-1",
        ] {
            assert_eq!(
                day_start("since", bad),
                Err(ServiceError::invalid("since")),
                "{bad}"
            );
        }
        assert_eq!(
            day_range(("from", "2026-12-31"), ("until", "2026-12-01")),
            Err(ServiceError::invalid("until"))
        );
        assert!(day_range(("from", "2026-12-01"), ("until", "2026-12-01")).is_ok());
    }

    #[test]
    fn a_typed_time_is_finlands_and_reads_back_the_same() {
        let winter = local_time("starts_at", "2026-12-05T08:00").expect("valid");
        assert_eq!(utc(winter), "2026-12-05T06:00:00Z");
        let summer = local_time("starts_at", "2026-07-01T08:00:30").expect("valid");
        assert_eq!(utc(summer), "2026-07-01T05:00:30Z");
        assert_eq!(
            local_time_field(winter.expect("a time")),
            "2026-12-05T08:00"
        );
        assert_eq!(local_time("starts_at", " ").expect("empty"), None);
        for bad in [
            "5.12.2026 8.00",
            "2026-12-05",
            "2026-12-05T08:00Z",
            "2026-13-05T08:00",
        ] {
            assert_eq!(
                local_time("ends_at", bad),
                Err(ServiceError::invalid("ends_at")),
                "{bad}"
            );
        }
    }
}
