//! Calendar renderings of world time, for the few places upstream writes a
//! date into data a plugin sees: file store paths (`data/20240102/…`) and a
//! custom status's `expires_at`.

/// `(year, month, day, hour, minute, second)` in UTC for milliseconds since
/// the epoch (days-to-civil conversion over the proleptic Gregorian calendar).
fn civil(millis: i64) -> (i64, u32, u32, u32, u32, u32) {
    let seconds = millis.div_euclid(1000);
    let (days, in_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);
    (year, month, day, hour as u32, minute as u32, second as u32)
}

/// `YYYYMMDD`, as in the file store's `data/<date>/…` folders.
pub fn date_stamp(millis: i64) -> String {
    let (year, month, day, ..) = civil(millis);
    format!("{year:04}{month:02}{day:02}")
}

/// RFC 3339 in UTC with whole seconds, as Go marshals a `time.Time`.
pub fn rfc3339(millis: i64) -> String {
    let (year, month, day, hour, minute, second) = civil(millis);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_render_as_calendar_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(date_stamp(1_704_067_200_000), "20240101");
        assert_eq!(rfc3339(1_709_210_096_000), "2024-02-29T12:34:56Z");
        assert_eq!(rfc3339(-1000), "1969-12-31T23:59:59Z");
    }
}
