//! Checks of the numbers and sizes a request gives, against the limits of docs/API.md
//! (`p2p_api::limits`). Each refusal names the field; arithmetic on request values is checked.

use std::fmt::Display;

use super::error::ApiError;

/// `value` within `min..=max`.
pub(super) fn in_range<T: PartialOrd + Display>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ApiError> {
    if value < min || value > max {
        return Err(ApiError::bad_request(format!(
            "{field}: {value} is out of range {min}..={max}"
        )));
    }
    Ok(value)
}

/// A count of items at most `max`.
pub(super) fn at_most(field: &str, count: usize, max: usize) -> Result<usize, ApiError> {
    if count > max {
        return Err(ApiError::bad_request(format!(
            "{field}: {count} given, at most {max} are allowed"
        )));
    }
    Ok(count)
}

/// Text of at most `max` characters.
pub(super) fn chars_at_most(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    // Counting stops past the limit: a huge value costs no more than a short one.
    if text.chars().nth(max).is_some() {
        return Err(ApiError::bad_request(format!(
            "{field}: longer than {max} characters"
        )));
    }
    Ok(())
}

/// `a × b`, or a refusal naming `what` when it overflows or exceeds `max`.
pub(super) fn product_at_most(what: &str, a: u64, b: u64, max: u64) -> Result<u64, ApiError> {
    match a.checked_mul(b) {
        Some(p) if p <= max => Ok(p),
        _ => Err(ApiError::bad_request(format!(
            "{what}: {a} × {b} is over the limit of {max}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field_and_never_overflow() {
        assert!(in_range("count", 5, 1, 10).is_ok());
        let e = in_range("count", 0usize, 1, 10).unwrap_err();
        assert_eq!(e.message(), "count: 0 is out of range 1..=10");
        assert!(at_most("keys", 3, 3).is_ok());
        assert!(at_most("keys", 4, 3)
            .unwrap_err()
            .message()
            .starts_with("keys: 4"));
        assert!(chars_at_most("q", "ééé", 3).is_ok());
        assert!(chars_at_most("q", "éééé", 3).is_err());
        assert_eq!(product_at_most("handshakes", 32, 2, 100).unwrap(), 64);
        // 32 × 2^59 wraps to 0 in unchecked release arithmetic; here it is refused.
        assert!(product_at_most("handshakes", 32, 1 << 59, u64::MAX).is_err());
    }
}
