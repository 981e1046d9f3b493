//! `Edm.DateTimeOffset` as Graph uses it: 100-nanosecond precision, always UTC on the way out.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use std::fmt;

/// A UTC instant with 100 ns ("tick") precision, the precision Graph stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GraphDateTime(DateTime<Utc>);

/// Fractional digits Graph keeps.
const KEPT_DIGITS: usize = 7;
/// Fractional digits accepted on input (the rest beyond [`KEPT_DIGITS`] are truncated).
const MAX_INPUT_DIGITS: usize = 12;

impl GraphDateTime {
    /// `0001-01-01T00:00:00Z`, Graph's value for a non-nullable date-time never set.
    pub fn min() -> Self {
        // 0001-01-01 is always a valid date; the fallback is unreachable.
        let first_day = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
        GraphDateTime(Utc.from_utc_datetime(&NaiveDateTime::new(first_day, NaiveTime::MIN)))
    }

    /// The current instant, truncated to ticks.
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    fn from_utc(instant: DateTime<Utc>) -> Self {
        let nanos = instant.nanosecond() % 1_000_000_000;
        let truncated = instant
            .with_nanosecond(nanos - nanos % 100)
            .unwrap_or(instant);
        GraphDateTime(truncated)
    }

    /// Parses an RFC 3339 / ISO 8601 date-time with `Z` or `±hh:mm` and 0 to 12 fractional
    /// digits (the 8th and later are dropped). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't') {
            return None;
        }
        let date = parse_date(&text[..10])?;
        let (hour, minute, second) = parse_hms(&text[11..19])?;
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(after_dot) = rest.strip_prefix('.') {
            let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > MAX_INPUT_DIGITS {
                return None;
            }
            for (position, digit) in after_dot[..digits.min(KEPT_DIGITS)].bytes().enumerate() {
                nanos += u32::from(digit - b'0') * 10u32.pow(8 - position as u32);
            }
            rest = &after_dot[digits..];
        }
        let offset = parse_offset(rest)?;
        let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
        let local = NaiveDateTime::new(date, time);
        // Stored values, which list pages read several of per token, are UTC: nothing to shift.
        let utc = if offset.local_minus_utc() == 0 {
            Utc.from_utc_datetime(&local)
        } else {
            offset
                .from_local_datetime(&local)
                .single()?
                .with_timezone(&Utc)
        };
        // An offset can carry 9999-12-31 or 0001-01-01 out of the four-digit years Graph has.
        (1..=9999)
            .contains(&utc.year())
            .then_some(GraphDateTime(utc))
    }

    /// Fixed-width storage form: `YYYY-MM-DDTHH:MM:SS.fffffffZ`, so that text order is time order.
    pub fn to_storage(&self) -> String {
        self.storage_form().as_str().to_owned()
    }

    /// Reads the storage form back.
    pub fn from_storage(text: &str) -> Option<Self> {
        Self::parse(text)
    }

    /// The storage form, written digit by digit into a fixed buffer: the general formatting
    /// machinery (chrono's `format`, `write!`) showed in profiles of list pages, which write
    /// four or more date-times per token.
    fn storage_bytes(&self) -> [u8; STORAGE_LEN] {
        let t = &self.0;
        let mut out = *b"0000-00-00T00:00:00.0000000Z";
        // `parse` keeps years within 1..=9999, so four digits always suffice.
        put_digits(&mut out[0..4], t.year().unsigned_abs());
        put_digits(&mut out[5..7], t.month());
        put_digits(&mut out[8..10], t.day());
        put_digits(&mut out[11..13], t.hour());
        put_digits(&mut out[14..16], t.minute());
        put_digits(&mut out[17..19], t.second());
        put_digits(&mut out[20..27], self.ticks());
        out
    }

    fn storage_form(&self) -> DateText {
        DateText {
            bytes: self.storage_bytes(),
            len: STORAGE_LEN,
        }
    }

    /// Graph's output form: UTC with `Z`, fraction trimmed of trailing zeros, none when zero.
    fn output_form(&self) -> DateText {
        let mut bytes = self.storage_bytes();
        let fraction = &bytes[20..27];
        let end = match fraction.iter().rposition(|digit| *digit != b'0') {
            Some(last) => 20 + last + 1,
            None => 19,
        };
        bytes[end] = b'Z';
        DateText {
            bytes,
            len: end + 1,
        }
    }

    fn ticks(&self) -> u32 {
        (self.0.nanosecond() % 1_000_000_000) / 100
    }
}

const STORAGE_LEN: usize = 28;

/// A date-time as text, in storage or output form: ASCII by construction, on the stack.
struct DateText {
    bytes: [u8; STORAGE_LEN],
    len: usize,
}

impl DateText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// Writes `value`'s last `slot.len()` decimal digits into `slot`, zero-padded.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for byte in slot.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&text[0..4])?;
    NaiveDate::from_ymd_opt(year as i32, digits(&text[5..7])?, digits(&text[8..10])?)
        .filter(|_| year >= 1)
}

fn parse_hms(text: &str) -> Option<(u32, u32, u32)> {
    let b = text.as_bytes();
    if b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((
        digits(&text[0..2])?,
        digits(&text[3..5])?,
        digits(&text[6..8])?,
    ))
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    match text {
        "Z" | "z" => FixedOffset::east_opt(0),
        _ if text.len() == 6 && text.as_bytes()[3] == b':' => {
            let sign = match text.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hours, minutes) = (digits(&text[1..3])?, digits(&text[4..6])?);
            if hours > 14 || minutes > 59 {
                return None;
            }
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32)
        }
        _ => None,
    }
}

/// Graph's output form (see `output_form`).
impl fmt::Display for GraphDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.output_form().as_str())
    }
}

impl serde::Serialize for GraphDateTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.output_form().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str) -> String {
        GraphDateTime::parse(text)
            .map(|d| d.to_string())
            .unwrap_or_else(|| "invalid".into())
    }

    #[test]
    fn formats_as_graph_does() {
        assert_eq!(out("2026-09-25T17:09:22Z"), "2026-09-25T17:09:22Z");
        assert_eq!(
            out("2026-07-17T14:50:53.5002993Z"),
            "2026-07-17T14:50:53.5002993Z"
        );
        assert_eq!(out("2026-07-17T14:50:53.500Z"), "2026-07-17T14:50:53.5Z");
        assert_eq!(out("2026-07-17T14:50:53.0000000Z"), "2026-07-17T14:50:53Z");
    }

    #[test]
    fn normalises_offsets_and_truncates_beyond_seven_digits() {
        assert_eq!(
            out("2027-01-02T03:04:05.123456+00:00"),
            "2027-01-02T03:04:05.123456Z"
        );
        assert_eq!(out("2027-01-02T03:04:05+02:00"), "2027-01-02T01:04:05Z");
        assert_eq!(
            out("2027-01-02T03:04:05.123456789012-01:30"),
            "2027-01-02T04:34:05.1234567Z"
        );
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890123Z",
            "2026-01-01T00:00:00+0100",
            "0000-01-01T00:00:00Z",
            "2026-01-01T00:00:00Zjunk",
            "+2026-01-01T00:00:00Z",
            // Valid text whose UTC instant leaves the four-digit years.
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:30:00+01:00",
        ] {
            assert_eq!(GraphDateTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn storage_form_is_fixed_width_and_round_trips() {
        let min = GraphDateTime::min();
        assert_eq!(min.to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(min.to_storage(), "0001-01-01T00:00:00.0000000Z");
        let value = GraphDateTime::parse("2026-07-17T14:50:53.5002993Z");
        let stored = value.map(|v| v.to_storage());
        assert_eq!(stored.as_deref(), Some("2026-07-17T14:50:53.5002993Z"));
        assert_eq!(
            stored.as_deref().and_then(GraphDateTime::from_storage),
            value
        );
        assert_eq!(GraphDateTime::now().to_storage().len(), 28);
    }
}
