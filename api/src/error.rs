//! The body of every error answer.

use serde::{Deserialize, Serialize};

/// `{"error": "..."}`: what was wrong, naming the field or value at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
