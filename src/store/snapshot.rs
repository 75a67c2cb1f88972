//! A checkpoint of the folded model, so a large store opens by reading only the events after it.
//!
//! The snapshot is a cache, never evidence: it names the event it covers (sequence number, hash,
//! and where that line sits in the log), and it is used only while that line is still in the log
//! with that hash. A store opened from it is `Unchecked` until the whole log has been verified and
//! folded again (in the background in the cockpit, or before any write), and that fold replaces
//! the snapshot's state; a snapshot that does not match is reported and rewritten.

use crate::state::Model;
use serde::{Deserialize, Serialize};

/// Binary (postcard), not JSON: it is read before the cockpit's first frame, and a JSON model of
/// 10,000 incidents took 150 ms to parse against about a third of that in postcard.
pub const SNAPSHOT_FILE: &str = "snapshot.bin";
/// Bumped whenever the model's shape changes; the hotfix version is checked as well.
const SNAPSHOT_FORMAT: u32 = 1;
/// The cockpit rewrites the snapshot once it lags the log by this many events.
pub const SNAPSHOT_EVERY: u64 = 1000;

/// Where a snapshot sits in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Lines (events) covered; the last one's sequence number.
    pub lines: u64,
    /// Bytes covered: where the first event after the snapshot starts.
    pub cursor: u64,
    /// Where the last covered line starts.
    pub last_line: u64,
    /// That line's hash.
    pub last_hash: String,
    /// How many lines the log's first command wrote.
    pub first_batch: u64,
}

#[derive(Serialize)]
struct Written<'a> {
    format: u32,
    hotfix: &'a str,
    mark: &'a Mark,
    model: &'a Model,
}

/// The snapshot's leading fields: enough to tell which event it covers without reading it all.
#[derive(Deserialize)]
struct Header {
    format: u32,
    hotfix: String,
    mark: Mark,
}

/// Bytes that always hold the header.
pub const HEADER_MAX: u64 = 512;

/// The event a snapshot covers, from its first [`HEADER_MAX`] bytes.
pub fn covers(prefix: &[u8]) -> Option<u64> {
    let (h, _) = postcard::take_from_bytes::<Header>(prefix).ok()?;
    (h.format == SNAPSHOT_FORMAT && h.hotfix == env!("CARGO_PKG_VERSION")).then_some(h.mark.lines)
}

#[derive(Deserialize)]
pub struct Snapshot {
    format: u32,
    hotfix: String,
    pub mark: Mark,
    pub model: Model,
}

/// Writes the snapshot of `model` at `mark`.
pub fn write(out: &mut dyn std::io::Write, mark: &Mark, model: &Model) -> std::io::Result<()> {
    let snapshot = Written {
        format: SNAPSHOT_FORMAT,
        hotfix: env!("CARGO_PKG_VERSION"),
        mark,
        model,
    };
    postcard::to_io(&snapshot, out)
        .map(|_| ())
        .map_err(std::io::Error::other)
}

/// Reads a snapshot this hotfix wrote; `None` for anything else (another version, damage).
pub fn read(bytes: &[u8]) -> Option<Snapshot> {
    let s: Snapshot = postcard::from_bytes(bytes).ok()?;
    (s.format == SNAPSHOT_FORMAT
        && s.hotfix == env!("CARGO_PKG_VERSION")
        && s.model.seq == s.mark.lines
        && s.mark.last_line < s.mark.cursor)
        .then_some(s)
}
