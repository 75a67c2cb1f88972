//! The hash chain: walking the log line by line, framing a command's events onto it, and
//! checking that a snapshot's or checkpoint's mark still holds in it.

use super::{Backend, GENESIS, Head, HeadFile, Position, StoreError, line, snapshot};
use crate::state::{self, Recorded};
use chrono::{DateTime, Utc};

/// The chain's verdict on the log read so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    Verified,
    /// Opened from a snapshot: the events after it are verified, the log before it not yet.
    Unchecked,
    /// The first line that breaks the chain, and how.
    Broken {
        line: u64,
        reason: String,
    },
}

/// Walks the log line by line, checking each against the one before and against the head.
#[derive(Clone, Debug)]
pub(super) struct Chain {
    pub(super) lines: u64,
    pub(super) last_hash: String,
    pub(super) integrity: Integrity,
}

impl Chain {
    pub(super) fn new() -> Chain {
        Chain {
            lines: 0,
            last_hash: GENESIS.to_string(),
            integrity: Integrity::Verified,
        }
    }

    pub(super) fn broken(&mut self, line: u64, reason: String) {
        if self.integrity == Integrity::Verified {
            self.integrity = Integrity::Broken { line, reason };
        }
    }

    /// Checks the next line; the first failure is kept.
    pub(super) fn check(&mut self, parsed: &line::Parsed, raw: &[u8], head: Option<&Head>) {
        let number = self.lines + 1;
        if let Err(reason) = line::check_chain(parsed, raw, number, &self.last_hash) {
            self.broken(number, reason);
        }
        if let Some(h) = head
            && h.seq == parsed.recorded.seq
            && h.hash != parsed.hash
        {
            self.broken(
                number,
                format!(
                    "the head file records another hash for event {}: the log was rewritten",
                    h.seq
                ),
            );
        }
        self.last_hash.clone_from(&parsed.hash);
        self.lines = number;
    }

    /// Against an exact head (a database's newest row): the log must still hold what was read.
    pub(super) fn still_holds(&mut self, head: &HeadFile) {
        let read = self.lines;
        match head {
            HeadFile::Valid(h) if h.seq < read => self.broken(
                h.seq + 1,
                format!(
                    "the store now ends at event {}, but this process read up to event {read}: events were deleted",
                    h.seq
                ),
            ),
            HeadFile::Valid(h) if h.seq == read && h.hash != self.last_hash => self.broken(
                read,
                format!("event {read} now has another hash: the log was rewritten"),
            ),
            HeadFile::Missing if read > 0 => self.broken(
                1,
                format!("the store holds no events now, but this process read {read}: events were deleted"),
            ),
            _ => {}
        }
    }

    /// After the last line: the log must reach the head. A missing head is accepted only while
    /// the log holds no more than its first command (a crash before the first head was written).
    pub(super) fn finish(&mut self, head: &HeadFile, first_batch: u64) {
        match head {
            HeadFile::Valid(h) if h.seq > self.lines => self.broken(
                self.lines + 1,
                format!(
                    "the log ends at event {} but the head file records event {}: events were deleted from the end",
                    self.lines, h.seq
                ),
            ),
            HeadFile::Missing if self.lines > first_batch => {
                self.broken(self.lines, "the head file is missing: it may have been removed to hide deleted events".into());
            }
            HeadFile::Unreadable(why) => self.broken(self.lines, format!("the head file cannot be read ({why})")),
            _ => {}
        }
    }
}

/// Encodes one command's events as lines after event `seq` chained from `prev`, appending them
/// to `out`; all but the last are marked `more`. Returns the events, the last line's hash, and
/// where in `out` the last line starts.
pub(super) fn encode_batch(
    events: Vec<state::Event>,
    seq: u64,
    actor: &str,
    now: DateTime<Utc>,
    prev: &str,
    out: &mut Vec<u8>,
) -> (Vec<Recorded>, String, usize) {
    let count = events.len();
    let mut prev = prev.to_string();
    let mut recorded = Vec::with_capacity(count);
    let mut last_line = out.len();
    for (i, event) in events.into_iter().enumerate() {
        let r = Recorded {
            seq: seq + 1 + i as u64,
            at: now,
            actor: actor.to_string(),
            event,
        };
        let (text, hash) = line::encode(&r, &prev, i + 1 < count);
        last_line = out.len();
        out.extend_from_slice(text.as_bytes());
        prev = hash;
        recorded.push(r);
    }
    (recorded, prev, last_line)
}

/// One finished command as read: its lines parsed, with each line's range in `raw`.
pub(super) struct Batch<'a> {
    pub(super) lines: &'a [(line::Parsed, std::ops::Range<usize>)],
    pub(super) raw: &'a [u8],
}

impl Batch<'_> {
    pub(super) fn len(&self) -> usize {
        self.raw.len()
    }

    pub(super) fn lines(&self) -> impl Iterator<Item = (&line::Parsed, &[u8])> {
        self.lines.iter().map(|(p, r)| (p, &self.raw[r.clone()]))
    }
}

/// Streams the log from `reader` (line `first_line` on) and hands each finished command to
/// `on_command`, so the whole log is never held in memory at once. Returns the bytes after the
/// last finished command: an unfinished command and any incomplete last line, which were never
/// acknowledged. A line that cannot be read at all stops the scan; the commands before it have
/// been handed over already.
pub(super) fn scan<R: std::io::Read>(
    reader: R,
    first_line: u64,
    mut on_command: impl FnMut(Batch<'_>) -> Result<(), StoreError>,
) -> Result<Vec<u8>, StoreError> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, reader);
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    let mut number = first_line;
    loop {
        let start = raw.len();
        let read = reader
            .read_until(b'\n', &mut raw)
            .map_err(StoreError::io("cannot read the event log"))?;
        if read == 0 || raw.last() != Some(&b'\n') {
            return Ok(raw); // the end: what is left was never acknowledged
        }
        let parsed = line::parse(&raw[start..], number)?;
        number += 1;
        let more = parsed.more;
        lines.push((parsed, start..raw.len()));
        if !more {
            on_command(Batch {
                lines: &lines,
                raw: &raw,
            })?;
            lines.clear();
            raw.clear();
        }
    }
}

/// The snapshot's active part (see [`snapshot::read_active`]), if it is one this hotfix wrote
/// and its last event is still in the log where it says, with the hash it says.
pub(super) fn usable_snapshot<B: Backend>(backend: &B, lock: &B::Lock) -> Option<snapshot::Active> {
    let snap = snapshot::read_active(|max| backend.read_snapshot(max))?;
    mark_holds(backend, lock, &snap.mark).then_some(snap)
}

/// Whether the event `mark` names is still in the log at its place, whole, with its hash: one
/// line read, whatever the log's size.
pub(super) fn mark_holds<B: Backend>(backend: &B, lock: &B::Lock, mark: &snapshot::Mark) -> bool {
    let len = mark.cursor.saturating_sub(mark.last_line);
    let within = Position {
        lines: mark.lines,
        bytes: mark.cursor,
    };
    line_numbered(backend, lock, mark.lines, Some(mark.last_line), within).is_ok_and(|held| {
        held.is_some_and(|(p, raw)| raw.len() as u64 == len && !p.more && p.hash == mark.last_hash)
    })
}

/// The line numbered `seq` (see [`Backend::read_line`]), if it is a whole line that parses,
/// says it is that one and hashes to its own hash; `None` for anything else.
pub(super) fn line_numbered<B: Backend>(
    backend: &B,
    lock: &B::Lock,
    seq: u64,
    start: Option<u64>,
    within: Position,
) -> Result<Option<(line::Parsed, Vec<u8>)>, StoreError> {
    let Some(raw) = backend.read_line(lock, seq, start, within)? else {
        return Ok(None);
    };
    let Ok(parsed) = line::parse(&raw, 0) else {
        return Ok(None);
    };
    let whole = line::check_chain(&parsed, &raw, seq, &parsed.prev).is_ok();
    Ok(whole.then_some((parsed, raw)))
}

/// Whether the log's lines up to the snapshot's mark chain from the first, each hashing to its
/// own hash, ending at the mark's hash, and agreeing with the head where it names one of them.
pub(super) fn chain_holds<B: Backend>(
    backend: &B,
    lock: &B::Lock,
    mark: &snapshot::Mark,
    head: Option<&Head>,
) -> Result<bool, StoreError> {
    use std::io::Read;
    const CHUNK: usize = 8 << 20;
    let mut reader = backend.read_after(lock, Position::START)?.take(mark.cursor);
    let mut prev = [0u8; 64];
    prev.copy_from_slice(GENESIS.as_bytes());
    let mut seq = 0;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + (1 << 16));
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(StoreError::io("cannot read the event log"))?;
        buf.extend_from_slice(&chunk[..n]);
        // The complete lines read so far (all of them at the end).
        let upto = if n == 0 {
            buf.len()
        } else {
            buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
        };
        let lines: Vec<&[u8]> = buf[..upto].split_inclusive(|b| *b == b'\n').collect();
        let Some(frames) = lines
            .iter()
            .map(|l| line::frame(l))
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(false);
        };
        // Each line's own hash on every core, then the links in order.
        let halves = frames.split_at(frames.len() / 2);
        let own = std::thread::scope(|s| {
            let first = s.spawn(|| halves.0.iter().all(line::Frame::hashes_to_itself));
            let second = halves.1.iter().all(line::Frame::hashes_to_itself);
            first.join().unwrap_or(false) && second
        });
        if !own {
            return Ok(false);
        }
        for f in &frames {
            seq += 1;
            if f.seq != seq || f.prev != prev {
                return Ok(false);
            }
            if head.is_some_and(|h| h.seq == seq && h.hash.as_bytes() != f.hash) {
                return Ok(false);
            }
            prev.copy_from_slice(f.hash);
        }
        buf.drain(..upto);
        if n == 0 {
            break;
        }
    }
    Ok(seq == mark.lines && prev == mark.last_hash.as_bytes())
}

/// The most read to find one line: the longest a log may hold, and its newline.
pub(super) const LINE_READ_MAX: u64 = line::MAX_BYTES as u64 + 1;
