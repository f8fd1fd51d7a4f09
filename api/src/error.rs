//! The body of every error answer, and errors rendered as the messages that leave a process
//! (API answers, the CLI, reports): the error and every cause under it.

use std::error::Error;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

/// `{"error": "..."}`: what was wrong, naming the field or value at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `error: cause: cause of the cause`.
pub fn chain(error: &dyn Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn every_cause_is_named() {
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&e), "outer: inner");
    }
}
