//! HL7 v3 `TS` timestamps (`YYYYMMDDHHMMSS.ffff+ZZZZ`, any precision from the year down).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Reads an HL7 TS. Missing parts default to their lowest value and a missing zone to UTC
/// (the archive keeps the value as sent next to it, so nothing is lost).
pub fn parse_hl7_time(value: &str) -> Result<OffsetDateTime, String> {
    let problem = || format!("{value:?} is not an HL7 timestamp (YYYYMMDDHHMMSS±ZZZZ)");
    let (local, zone) = match value.find(['+', '-']) {
        Some(at) => (&value[..at], Some(&value[at..])),
        None => (value, None),
    };
    let (digits, fraction) = match local.split_once('.') {
        Some((digits, fraction)) => (digits, Some(fraction)),
        None => (local, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || !matches!(digits.len(), 4 | 6 | 8 | 10 | 12 | 14)
        || (fraction.is_some() && digits.len() != 14)
    {
        return Err(problem());
    }
    let number = |range: std::ops::Range<usize>, default: u32| -> Result<u32, String> {
        digits
            .get(range)
            .map_or(Ok(default), |d| d.parse().map_err(|_| problem()))
    };
    let month = Month::try_from(u8::try_from(number(4..6, 1)?).map_err(|_| problem())?)
        .map_err(|_| problem())?;
    let date = Date::from_calendar_date(
        i32::try_from(number(0..4, 0)?).map_err(|_| problem())?,
        month,
        u8::try_from(number(6..8, 1)?).map_err(|_| problem())?,
    )
    .map_err(|_| problem())?;
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<9}");
            padded.parse::<u32>().map_err(|_| problem())?
        }
        Some(_) => return Err(problem()),
    };
    let time = Time::from_hms_nano(
        u8::try_from(number(8..10, 0)?).map_err(|_| problem())?,
        u8::try_from(number(10..12, 0)?).map_err(|_| problem())?,
        u8::try_from(number(12..14, 0)?).map_err(|_| problem())?,
        nanos,
    )
    .map_err(|_| problem())?;
    let offset = match zone {
        None => UtcOffset::UTC,
        Some(zone) => {
            let sign: i8 = if zone.starts_with('-') { -1 } else { 1 };
            let hhmm = &zone[1..];
            if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
                return Err(problem());
            }
            let hours: i8 = hhmm[..2].parse().map_err(|_| problem())?;
            let minutes: i8 = hhmm[2..].parse().map_err(|_| problem())?;
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| problem())?
        }
    };
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn reads_every_precision_and_zone() {
        assert_eq!(
            parse_hl7_time("20260323105424+0200"),
            Ok(datetime!(2026-03-23 10:54:24 +2))
        );
        assert_eq!(
            parse_hl7_time("20260323"),
            Ok(datetime!(2026-03-23 0:00 UTC))
        );
        assert_eq!(
            parse_hl7_time("20260323105424.25-0330"),
            Ok(datetime!(2026-03-23 10:54:24.25 -3:30))
        );
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "2026-03-23",
            "20261323",
            "20260230",
            "2026032310542",
            "20260323+02",
            "20260323105424.x",
        ] {
            assert!(parse_hl7_time(bad).is_err(), "{bad}");
        }
    }
}
