//! Where a value of a scenario came from: a place in a scenario file, or a command-line flag.
//! Every error names it, so the user knows what to change.

use std::fmt;
use std::sync::Arc;

use serde_saphyr::{Location, Spanned};

/// The source of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A place in a scenario file (line and column 0: the file as a whole).
    File {
        file: Arc<str>,
        line: u64,
        column: u64,
    },
    /// A command-line flag, e.g. `--latency`.
    Flag(&'static str),
}

impl Origin {
    pub(super) fn file(file: &Arc<str>, at: Location) -> Self {
        Self::File {
            file: Arc::clone(file),
            line: at.line(),
            column: at.column(),
        }
    }

    pub(super) fn whole_file(file: &Arc<str>) -> Self {
        Self::File {
            file: Arc::clone(file),
            line: 0,
            column: 0,
        }
    }
}

/// A wrong value in a scenario or its flags: where it came from and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { file, line, column } => {
                write!(f, "{file}:{line}:{column}: {}", self.message)
            }
            // The message names the flag itself.
            Origin::Flag(_) => f.write_str(&self.message),
        }
    }
}

/// A value with its origin and its name there: the YAML key (`link.latency`) or the flag
/// (`--latency`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
    key: &'static str,
}

impl<T> Sourced<T> {
    /// A value read from the file at `key`.
    pub(super) fn from_yaml(file: &Arc<str>, key: &'static str, spanned: Spanned<T>) -> Self {
        Self {
            value: spanned.value,
            origin: Origin::file(file, spanned.referenced),
            key,
        }
    }

    /// A value given by `flag`.
    pub(super) fn from_flag(flag: &'static str, value: T) -> Self {
        Self {
            value,
            origin: Origin::Flag(flag),
            key: flag,
        }
    }

    /// How the user wrote its name: the flag, or the YAML key.
    pub fn name(&self) -> &'static str {
        self.key
    }

    /// An error about this value.
    pub fn error(&self, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            origin: self.origin.clone(),
            message: message.into(),
        }
    }

    /// Parses the value with `parse`; a failure is an error naming the value.
    pub fn parse<U>(
        &self,
        parse: impl FnOnce(&T) -> Result<U, String>,
    ) -> Result<U, ScenarioError> {
        parse(&self.value).map_err(|e| self.error(format!("{}: {e}", self.name())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_carry_the_place_and_flag_errors_the_flag() {
        let file: Arc<str> = Arc::from("s.yaml");
        let at = Origin::File {
            file,
            line: 3,
            column: 7,
        };
        let e = ScenarioError {
            origin: at,
            message: "peers must be at least 2".into(),
        };
        assert_eq!(e.to_string(), "s.yaml:3:7: peers must be at least 2");
        let flag = Sourced::from_flag("--latency", "soon".to_owned());
        let e = flag.parse(|_| Err::<(), _>("expected a duration".to_owned()));
        assert_eq!(e.unwrap_err().to_string(), "--latency: expected a duration");
    }
}
