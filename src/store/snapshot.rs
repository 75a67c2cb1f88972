//! A checkpoint of the folded model, so a large store opens by reading only the events after it.
//!
//! The snapshot is a cache, never evidence: it names the event it covers (sequence number, hash,
//! and where that line sits in the log), and it is used only while that line is still in the log
//! with that hash. A store opened from it is `Unchecked` until the whole log has been verified and
//! folded again (in the background in the cockpit, or before any write), and that fold replaces
//! the snapshot's state; a snapshot that does not match is reported and rewritten.

use crate::state::Model;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Binary (postcard), not JSON: it is read before the cockpit's first frame, and a JSON model of
/// 10,000 incidents took 150 ms to parse against about a third of that in postcard.
pub const SNAPSHOT_FILE: &str = "snapshot.bin";
/// Bumped whenever the model's shape changes; the hotfix version is checked as well.
const SNAPSHOT_FORMAT: u32 = 4;
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

/// The snapshot's leading fields: enough to tell which event it covers without reading it all.
/// The model's own bytes follow it, and `digest` is their SHA-256, so a damaged or casually
/// edited snapshot is never used (a deliberate forgery is caught by the fold comparison).
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    hotfix: String,
    mark: Mark,
    digest: [u8; 32],
}

/// Bytes that always hold the header.
pub const HEADER_MAX: u64 = 512;

fn header(prefix: &[u8]) -> Option<(Header, &[u8])> {
    let (h, rest) = postcard::take_from_bytes::<Header>(prefix).ok()?;
    (h.format == SNAPSHOT_FORMAT && h.hotfix == env!("CARGO_PKG_VERSION")).then_some((h, rest))
}

/// The event a snapshot covers, from its first [`HEADER_MAX`] bytes.
pub fn covers(prefix: &[u8]) -> Option<u64> {
    header(prefix).map(|(h, _)| h.mark.lines)
}

/// The SHA-256 of a snapshot's contents, as its header gives it (hex), from its first
/// [`HEADER_MAX`] bytes.
pub fn digest(prefix: &[u8]) -> Option<String> {
    header(prefix).map(|(h, _)| h.digest.iter().map(|b| format!("{b:02x}")).collect())
}

pub struct Snapshot {
    pub mark: Mark,
    pub model: Model,
}

/// Writes the snapshot of `model` at `mark`.
pub fn write(out: &mut dyn std::io::Write, mark: &Mark, model: &Model) -> std::io::Result<()> {
    let body = postcard::to_stdvec(model).map_err(std::io::Error::other)?;
    let head = Header {
        format: SNAPSHOT_FORMAT,
        hotfix: env!("CARGO_PKG_VERSION").to_string(),
        mark: mark.clone(),
        digest: Sha256::digest(&body).into(),
    };
    postcard::to_io(&head, &mut *out).map_err(std::io::Error::other)?;
    out.write_all(&body)
}

/// Reads a snapshot this hotfix wrote; `None` for anything else (another version, damage).
pub fn read(bytes: &[u8]) -> Option<Snapshot> {
    let (head, body) = header(bytes)?;
    if <[u8; 32]>::from(Sha256::digest(body)) != head.digest {
        return None;
    }
    let model: Model = postcard::from_bytes(body).ok()?;
    (model.seq == head.mark.lines && head.mark.last_line < head.mark.cursor).then_some(Snapshot {
        mark: head.mark,
        model,
    })
}
