//! The sandbox's identifiers and timestamps, shaped like Calendly's.

/// A v4-shaped UUID from 128 bits.
pub fn uuid_from(bits: u128) -> String {
    let b = (bits & !(0xF << 76) | (0x4 << 76)) & !(0b11 << 62) | (0b10 << 62);
    let h = format!("{b:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// ISO-8601 UTC with microseconds, as Calendly writes timestamps.
pub fn fmt_micros(micros: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

pub fn now_micros() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_v4_and_timestamps_have_microseconds() {
        let u = uuid_from(u128::MAX);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_eq!(fmt_micros(1_764_324_000_000_001), "2025-11-28T10:00:00.000001Z");
    }
}
