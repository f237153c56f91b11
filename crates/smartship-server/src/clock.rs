//! Time: milliseconds since the epoch in storage, formatted in the
//! platform's time zone on the wire.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike, Utc};

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn local(ms: i64, tz: FixedOffset) -> DateTime<FixedOffset> {
    tz.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(|| tz.timestamp_millis_opt(0).single().expect("epoch exists"))
}

/// `2018/09/04 17:13:59` with `sep` between the date's parts. Written out
/// field by field: every `package/get` formats a time per package, and
/// chrono's `format` parses its pattern again on every call.
fn date_time(ms: i64, tz: FixedOffset, sep: char) -> String {
    let t = local(ms, tz);
    format!(
        "{:04}{sep}{:02}{sep}{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `commit_time` format: `2018/09/04 17:13:59`.
pub fn commit_time(ms: i64, tz: FixedOffset) -> String {
    date_time(ms, tz, '/')
}

/// Event `eventTime` format: `2019-01-14 12:45:10`.
pub fn event_time(ms: i64, tz: FixedOffset) -> String {
    date_time(ms, tz, '-')
}

/// Start of the audit-quota week (Monday 00:00 in `tz`) containing `ms`.
pub fn week_start(ms: i64, tz: FixedOffset) -> i64 {
    let t = local(ms, tz);
    let monday = t.date_naive() - chrono::Days::new(u64::from(t.weekday().num_days_from_monday()));
    let midnight = monday.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight)
        .single()
        .expect("fixed offsets are unambiguous")
        .timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_zone() {
        let tz: FixedOffset = "+08:00".parse().unwrap();
        // 2018-09-04T09:13:59Z
        let ms = 1_536_052_439_000;
        assert_eq!(commit_time(ms, tz), "2018/09/04 17:13:59");
        assert_eq!(event_time(ms, tz), "2018-09-04 17:13:59");
        // Padding, and agreement with chrono's own formatting.
        let early = 1_000; // 1970-01-01 08:00:01 +08
        assert_eq!(commit_time(early, tz), "1970/01/01 08:00:01");
        for ms in [0, 1_536_052_439_000, 4_102_444_799_000, -86_400_000] {
            assert_eq!(
                event_time(ms, tz),
                local(ms, tz).format("%Y-%m-%d %H:%M:%S").to_string()
            );
        }
    }

    #[test]
    fn week_starts_monday_midnight_local() {
        let tz: FixedOffset = "+08:00".parse().unwrap();
        // Tue 2018-09-04 17:13:59 +08 → Mon 2018-09-03 00:00 +08 = 2018-09-02T16:00Z
        assert_eq!(week_start(1_536_052_439_000, tz), 1_535_904_000_000);
    }
}
