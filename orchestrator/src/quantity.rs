//! Numbers with units as scenarios and flags write them: `20ms`, `1.5s`, `50MB`, `99%`.

use std::time::Duration;

/// What a quantity measures, from its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Seconds,
    Bytes,
    Plain,
}

impl Dimension {
    pub fn unit(self) -> &'static str {
        match self {
            Self::Seconds => "s",
            Self::Bytes => "B",
            Self::Plain => "",
        }
    }
}

/// Parses `text` into a value in base units (seconds, bytes, or a plain number; `%` is a
/// fraction).
pub fn parse(text: &str) -> Result<(f64, Dimension), String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a number with an optional unit, got {text:?}"))?;
    let (scale, dimension) = match unit.trim() {
        "" => (1.0, Dimension::Plain),
        "%" => (0.01, Dimension::Plain),
        "ns" => (1e-9, Dimension::Seconds),
        "us" | "µs" => (1e-6, Dimension::Seconds),
        "ms" => (1e-3, Dimension::Seconds),
        "s" => (1.0, Dimension::Seconds),
        "min" => (60.0, Dimension::Seconds),
        "B" => (1.0, Dimension::Bytes),
        "KB" | "kB" => (1e3, Dimension::Bytes),
        "MB" => (1e6, Dimension::Bytes),
        "GB" => (1e9, Dimension::Bytes),
        "KiB" => (1024.0, Dimension::Bytes),
        "MiB" => (1024.0 * 1024.0, Dimension::Bytes),
        "GiB" => (1024.0 * 1024.0 * 1024.0, Dimension::Bytes),
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: expected ns, us, ms, s, min, B, KB, MB, GB, KiB, MiB, GiB or %"
            ))
        }
    };
    if !value.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    Ok((value * scale, dimension))
}

/// Parses a non-negative duration such as `20ms` or `1.5s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        (v, Dimension::Seconds) if v >= 0.0 => Duration::try_from_secs_f64(v)
            .map_err(|_| format!("{text:?} is longer than any duration this can hold")),
        (0.0, Dimension::Plain) => Ok(Duration::ZERO),
        (_, Dimension::Seconds) => Err(format!("{text:?} is negative")),
        _ => Err(format!(
            "expected a duration such as 20ms or 1.5s, got {text:?}"
        )),
    }
}

/// Parses a size such as `256MiB`.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    match parse(text)? {
        (v, Dimension::Bytes) if v >= 0.0 => Ok(v as u64),
        _ => Err(format!("expected a size such as 256MiB, got {text:?}")),
    }
}

/// Parses a fraction written as `1%` or `0.01`.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    match parse(text)? {
        (v, Dimension::Plain) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a fraction such as 1% or 0.01, got {text:?}"
        )),
    }
}

/// Parses a bandwidth such as `10mbit`, `1gbit` or `500kbit` into bits per second.
pub fn parse_bandwidth(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim().trim_end_matches("/s").trim_end_matches("ps") {
        "bit" | "b" | "" => 1.0,
        "kbit" | "kb" | "k" => 1e3,
        "mbit" | "mb" | "m" => 1e6,
        "gbit" | "gb" | "g" => 1e9,
        _ => {
            return Err(format!(
                "expected a bandwidth such as 10mbit or 1gbit, got {text:?}"
            ))
        }
    };
    match number.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok((v * scale) as u64),
        _ => Err(format!(
            "expected a positive bandwidth such as 10mbit, got {text:?}"
        )),
    }
}

/// Human form of a value in base units.
pub fn format(value: f64, unit: &str) -> String {
    match unit {
        "s" if value.abs() < 1e-3 => format!("{:.1} µs", value * 1e6),
        "s" if value.abs() < 1.0 => format!("{:.2} ms", value * 1e3),
        "s" => format!("{value:.3} s"),
        "B" => format!("{:.1} MiB", value / (1024.0 * 1024.0)),
        "" if value.abs() < 1.0 => format!("{value:.3}"),
        "" => format!("{value:.1}"),
        other => format!("{value} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale_to_base_units() {
        assert_eq!(parse("20ms").unwrap(), (0.02, Dimension::Seconds));
        assert_eq!(parse("1.5s").unwrap(), (1.5, Dimension::Seconds));
        assert_eq!(parse("250us").unwrap().0, 0.000_25);
        assert_eq!(parse("50MB").unwrap(), (50e6, Dimension::Bytes));
        assert_eq!(parse("2MiB").unwrap().0, 2.0 * 1024.0 * 1024.0);
        assert_eq!(parse("99%").unwrap(), (0.99, Dimension::Plain));
        assert_eq!(parse("7").unwrap(), (7.0, Dimension::Plain));
    }

    #[test]
    fn bad_quantities_say_what_was_expected() {
        assert!(parse("fast").unwrap_err().contains("expected a number"));
        assert!(parse("20 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("5MB")
            .unwrap_err()
            .contains("expected a duration"));
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("1e300s")
            .unwrap_err()
            .contains("longer than"));
        assert_eq!(parse_bandwidth("10mbit").unwrap(), 10_000_000);
        assert_eq!(parse_bandwidth("1.5Gbit").unwrap(), 1_500_000_000);
        assert!(parse_bandwidth("0mbit").is_err() && parse_bandwidth("fast").is_err());
        assert_eq!(parse_fraction("1%").unwrap(), 0.01);
        assert!(parse_fraction("150%").is_err());
        assert_eq!(parse_bytes("1KiB").unwrap(), 1024);
    }

    #[test]
    fn formatting_picks_a_readable_unit() {
        assert_eq!(format(0.000_07, "s"), "70.0 µs");
        assert_eq!(format(0.25, "s"), "250.00 ms");
        assert_eq!(format(3.0, "s"), "3.000 s");
        assert_eq!(format(10.0 * 1024.0 * 1024.0, "B"), "10.0 MiB");
    }
}
