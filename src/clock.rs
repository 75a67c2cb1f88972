//! The one place the wall clock is read. The state module takes time as an argument; the shells
//! (CLI, cockpit, demo writer) ask here.

use chrono::{DateTime, Utc};

/// The time commands are recorded at: now, to the millisecond (the log's precision).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
