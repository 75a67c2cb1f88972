//! The folded model written down, so a large store opens by reading only the events after it:
//! the shared snapshot beside the log, and (in the same format) each user's checkpoint.
//!
//! The snapshot is a cache, never evidence: it names the event it covers (sequence number, hash,
//! and where that line sits in the log), and it is used only while that line is still in the log
//! with that hash. A store opened from it is `Unchecked` until the whole log has been verified and
//! folded again (in the background in the cockpit, or before any write), and that fold replaces
//! the snapshot's state; a snapshot that does not match is reported and rewritten.
//!
//! It has three sections after its header, each with its own digest: the active part of the
//! model (see [`crate::state::archive`]), which is all that start-up reads; the insight facts of
//! the archived releases (see [`crate::state::insights`]), which statistics read; and the
//! archive, read only when something needs a closed record. A snapshot written from a model that was itself
//! opened without its archive carries the archive it was opened with over, byte for byte.

use crate::state::Model;
use crate::state::archive::Archived;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Binary (postcard), not JSON: it is read before the cockpit's first frame, and a JSON model of
/// 10,000 incidents took 150 ms to parse against about a third of that in postcard.
pub const SNAPSHOT_FILE: &str = "snapshot.bin";
/// Bumped whenever the model's shape changes; the hotfix version is checked as well.
const SNAPSHOT_FORMAT: u32 = 17;
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

/// The snapshot's leading fields: enough to tell which event it covers, and where its two
/// sections are, without reading it all. Each section's SHA-256 is here, so a damaged or
/// casually edited snapshot is never used (a deliberate forgery is caught by the fold
/// comparison).
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    hotfix: String,
    mark: Mark,
    /// The active part's length; the archived facts follow it, then the archive to the end.
    active_len: u64,
    facts_len: u64,
    digest: [u8; 32],
    facts_digest: [u8; 32],
    /// The archive's index's digest: the index holds every chunk's (see [`Index`]).
    archive_digest: [u8; 32],
}

/// Bytes that always hold the header.
pub const HEADER_MAX: u64 = 512;

fn header(prefix: &[u8]) -> Option<(Header, &[u8])> {
    let (h, rest) = postcard::take_from_bytes::<Header>(prefix).ok()?;
    (h.format == SNAPSHOT_FORMAT && h.hotfix == env!("CARGO_PKG_VERSION")).then_some((h, rest))
}

/// How long a snapshot's header is, from its first [`HEADER_MAX`] bytes: the bytes that name
/// what it covers and every section's digest, so whatever vouches for them vouches for all.
pub fn header_len(prefix: &[u8]) -> Option<usize> {
    header(prefix).map(|(_, rest)| prefix.len() - rest.len())
}

/// The event a snapshot covers, from its first [`HEADER_MAX`] bytes.
pub fn covers(prefix: &[u8]) -> Option<u64> {
    header(prefix).map(|(h, _)| h.mark.lines)
}

/// The SHA-256 that stands for a snapshot's contents (hex: of its two sections' digests), from
/// its first [`HEADER_MAX`] bytes.
pub fn digest(prefix: &[u8]) -> Option<String> {
    header(prefix).map(|(h, _)| {
        let mut both = Sha256::new();
        both.update(h.digest);
        both.update(h.facts_digest);
        both.update(h.archive_digest);
        both.finalize().iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// A whole snapshot: the model complete (its archive merged back in).
pub struct Snapshot {
    pub mark: Mark,
    pub model: Model,
}

/// Where a snapshot's facts and archive sections are, and what they must hash to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Where the archived releases' facts start, and how long they are.
    pub facts: u64,
    pub facts_len: u64,
    pub facts_digest: [u8; 32],
    /// Where the archive starts (it runs to the end).
    pub offset: u64,
    pub digest: [u8; 32],
}

/// The start-up read: the active part of the model, and where its archive is.
pub struct Active {
    pub mark: Mark,
    pub model: Model,
    pub archive: Section,
}

/// A map's entries for the keys picked, serialized as a map without copying the values.
struct Picked<'a, K, V> {
    map: &'a BTreeMap<K, V>,
    keys: &'a BTreeSet<K>,
}

impl<K: Ord + Serialize, V: Serialize> Serialize for Picked<'_, K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries: Vec<(&K, &V)> = self
            .keys
            .iter()
            .filter_map(|k| self.map.get_key_value(k))
            .collect();
        let mut m = s.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// [`Archived`]'s shape, borrowed from a complete model.
#[derive(Serialize)]
struct ArchivedRef<'a> {
    incidents: Picked<'a, crate::state::IncidentId, crate::state::Incident>,
    releases: Picked<'a, crate::state::ReleaseId, crate::state::Release>,
    hotfixes_by_incident: Picked<'a, crate::state::IncidentId, Vec<crate::state::ReleaseId>>,
}

/// The facts and archive sections of a snapshot, as bytes.
pub struct Kept<'a> {
    pub facts: &'a [u8],
    pub archive: &'a [u8],
}

/// Writes the snapshot of `model` at `mark`. A complete model is split (see
/// [`Model::archivable`]); a model opened without its archive needs that snapshot's facts and
/// archive, `kept`, which are carried over as they are.
pub fn write(
    out: &mut dyn std::io::Write,
    mark: &Mark,
    model: &Model,
    kept: Option<Kept<'_>>,
) -> std::io::Result<()> {
    let (active, facts, archive) = if model.is_complete() {
        let (incidents, releases) = model.archivable();
        let archive = archive_section(model, &incidents, &releases)?;
        // The active part is the open work: small, so it is copied.
        let mut active = Model {
            incidents: BTreeMap::new(),
            releases: BTreeMap::new(),
            hotfixes_by_incident: BTreeMap::new(),
            policy: model.policy.clone(),
            users: model.users.clone(),
            archive: model.archive.clone(),
            illegal: model.illegal.clone(),
            keys: model.keys.clone(),
            origin: model.origin.clone(),
            delegations: model.delegations.clone(),
            ..*model
        };
        for (id, i) in model
            .incidents
            .iter()
            .filter(|(id, _)| !incidents.contains(id))
        {
            active.incidents.insert(*id, i.clone());
            if let Some(l) = model.hotfixes_by_incident.get(id) {
                active.hotfixes_by_incident.insert(*id, l.clone());
            }
        }
        for (id, r) in model
            .releases
            .iter()
            .filter(|(id, _)| !releases.contains(id))
        {
            active.releases.insert(*id, r.clone());
        }
        active.archive.count(&incidents, &releases);
        // Newest first, in chunks that each carry their digest: statistics of a period read
        // and check only the chunks back to its start, whatever the history's length.
        let mut facts: Vec<_> = releases
            .iter()
            .filter_map(|id| model.releases.get(id))
            .map(|r| crate::state::insights::Facts::of(model, r))
            .collect();
        facts.sort_by_key(|f| std::cmp::Reverse((f.created, f.id)));
        let mut bytes = Vec::new();
        for chunk in facts.chunks(FACTS_CHUNK) {
            let body = postcard::to_stdvec(chunk).map_err(std::io::Error::other)?;
            bytes.extend(postcard::to_stdvec(&(body.len() as u64)).map_err(std::io::Error::other)?);
            bytes.extend(Sha256::digest(&body));
            bytes.extend(body);
        }
        (
            postcard::to_stdvec(&active).map_err(std::io::Error::other)?,
            bytes,
            archive,
        )
    } else {
        let kept = kept.ok_or_else(|| {
            std::io::Error::other("the model's archive is not loaded and none was given")
        })?;
        (
            postcard::to_stdvec(model).map_err(std::io::Error::other)?,
            kept.facts.to_vec(),
            kept.archive.to_vec(),
        )
    };
    let head = Header {
        format: SNAPSHOT_FORMAT,
        hotfix: env!("CARGO_PKG_VERSION").to_string(),
        mark: mark.clone(),
        active_len: active.len() as u64,
        facts_len: facts.len() as u64,
        digest: Sha256::digest(&active).into(),
        facts_digest: Sha256::digest(&facts).into(),
        archive_digest: index_of(&archive)
            .map(|(index, _)| Sha256::digest(index).into())
            .ok_or_else(|| std::io::Error::other("the archive section has no index"))?,
    };
    postcard::to_io(&head, &mut *out).map_err(std::io::Error::other)?;
    out.write_all(&active)?;
    out.write_all(&facts)?;
    out.write_all(&archive)
}

/// Reads the active part through `prefix`, which returns a snapshot's first bytes (at most the
/// number asked for): the header, then as much as the active part needs. `None` for anything
/// this hotfix did not write whole (another version, damage).
pub fn read_active(prefix: impl Fn(u64) -> Option<Vec<u8>>) -> Option<Active> {
    let first = prefix(HEADER_MAX)?;
    let (head, rest) = header(&first)?;
    let header_len = (first.len() - rest.len()) as u64;
    let end = header_len.checked_add(head.active_len)?;
    let bytes = prefix(end)?;
    let active = bytes.get(usize::try_from(header_len).ok()?..usize::try_from(end).ok()?)?;
    if <[u8; 32]>::from(Sha256::digest(active)) != head.digest {
        return None;
    }
    let model: Model = postcard::from_bytes(active).ok()?;
    let fits = model.seq == head.mark.lines && head.mark.last_line < head.mark.cursor;
    fits.then_some(Active {
        mark: head.mark,
        model,
        archive: Section {
            facts: end,
            facts_len: head.facts_len,
            facts_digest: head.facts_digest,
            offset: end.saturating_add(head.facts_len),
            digest: head.archive_digest,
        },
    })
}

/// Records per chunk of the archive section, about (a chunk holds whole link components).
const ARCHIVE_CHUNK: usize = 64;

/// The archive section opens with this (length-prefixed), then its chunks follow in order: which
/// chunk holds each archived record, and each chunk's length and digest. The header carries the
/// index's digest, so one record is read and checked with the index and its chunk alone.
#[derive(Default, Serialize, Deserialize)]
struct Index {
    /// Sorted by id.
    incidents: Vec<(crate::state::IncidentId, u32)>,
    releases: Vec<(crate::state::ReleaseId, u32)>,
    chunks: Vec<(u64, [u8; 32])>,
}

/// The archive section of a complete `model` that archives `incidents` and `releases`.
fn archive_section(
    model: &Model,
    incidents: &BTreeSet<crate::state::IncidentId>,
    releases: &BTreeSet<crate::state::ReleaseId>,
) -> std::io::Result<Vec<u8>> {
    let mut index = Index::default();
    let mut body = Vec::new();
    for (n, group) in model
        .archive_groups(incidents, releases, ARCHIVE_CHUNK)
        .iter()
        .enumerate()
    {
        let n = u32::try_from(n).map_err(std::io::Error::other)?;
        let chunk = postcard::to_stdvec(&ArchivedRef {
            incidents: Picked {
                map: &model.incidents,
                keys: &group.incidents,
            },
            releases: Picked {
                map: &model.releases,
                keys: &group.releases,
            },
            hotfixes_by_incident: Picked {
                map: &model.hotfixes_by_incident,
                keys: &group.incidents,
            },
        })
        .map_err(std::io::Error::other)?;
        index
            .incidents
            .extend(group.incidents.iter().map(|i| (*i, n)));
        index
            .releases
            .extend(group.releases.iter().map(|r| (*r, n)));
        index
            .chunks
            .push((chunk.len() as u64, Sha256::digest(&chunk).into()));
        body.extend(chunk);
    }
    index.incidents.sort_unstable();
    index.releases.sort_unstable();
    let index = postcard::to_stdvec(&index).map_err(std::io::Error::other)?;
    let mut section = postcard::to_stdvec(&(index.len() as u64)).map_err(std::io::Error::other)?;
    section.extend(index);
    section.extend(body);
    Ok(section)
}

/// The index's bytes at the start of `section` (an archive section), and the chunks after it.
fn index_of(section: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = postcard::take_from_bytes::<u64>(section).ok()?;
    let len = usize::try_from(len).ok()?;
    Some((rest.get(..len)?, rest.get(len..)?))
}

/// The chunks of `section` (a whole archive section), in order, if it ends with the last of
/// them; with `digest`, only if its index is the one `digest` names and every chunk the one the
/// index names.
fn chunks_of<'a>(section: &'a [u8], digest: Option<&[u8; 32]>) -> Option<Vec<&'a [u8]>> {
    let (index, mut rest) = index_of(section)?;
    if digest.is_some_and(|d| <[u8; 32]>::from(Sha256::digest(index)) != *d) {
        return None;
    }
    let index: Index = postcard::from_bytes(index).ok()?;
    let mut chunks = Vec::with_capacity(index.chunks.len());
    for (len, chunk_digest) in &index.chunks {
        let (chunk, after) = rest.split_at_checked(usize::try_from(*len).ok()?)?;
        if digest.is_some() && <[u8; 32]>::from(Sha256::digest(chunk)) != *chunk_digest {
            return None;
        }
        chunks.push(chunk);
        rest = after;
    }
    rest.is_empty().then_some(chunks)
}

/// The records of `chunks` (see [`chunks_of`]), together.
fn archive_of(chunks: &[&[u8]]) -> Option<Archived> {
    let mut all = Archived::default();
    for chunk in chunks {
        let part: Archived = postcard::from_bytes(chunk).ok()?;
        all.incidents.extend(part.incidents);
        all.releases.extend(part.releases);
        all.hotfixes_by_incident.extend(part.hotfixes_by_incident);
    }
    Some(all)
}

/// The archive section of `whole` (a snapshot's bytes) if it is the one `section` names.
pub fn read_archive(whole: &[u8], section: &Section) -> Option<Archived> {
    let bytes = whole.get(usize::try_from(section.offset).ok()?..)?;
    archive_of(&chunks_of(bytes, Some(&section.digest))?)
}

/// The archive's index, read through `at` and checked against the digest `section` names,
/// and where its first chunk starts.
fn read_index(
    at: &impl Fn(u64, u64) -> Option<Vec<u8>>,
    section: &Section,
) -> Option<(Index, u64)> {
    let head = at(section.offset, 10)?;
    let (len, rest) = postcard::take_from_bytes::<u64>(&head).ok()?;
    let start = section
        .offset
        .checked_add((head.len() - rest.len()) as u64)?;
    let bytes = at(start, len)?;
    if bytes.len() as u64 != len || <[u8; 32]>::from(Sha256::digest(&bytes)) != section.digest {
        return None;
    }
    Some((postcard::from_bytes(&bytes).ok()?, start.checked_add(len)?))
}

/// The chunk at `offset`, `len` bytes long, read through `at`, if it hashes to `digest`.
fn read_chunk(
    at: &impl Fn(u64, u64) -> Option<Vec<u8>>,
    offset: u64,
    (len, digest): &(u64, [u8; 32]),
) -> Option<Archived> {
    let chunk = at(offset, *len)?;
    if chunk.len() as u64 != *len || <[u8; 32]>::from(Sha256::digest(&chunk)) != *digest {
        return None;
    }
    postcard::from_bytes(&chunk).ok()
}

/// The archived records linked with `record` (its chunk: see [`Index`]), read through `at`
/// (at most so many bytes of the snapshot from an offset on) from the archive `section`
/// names: the index and one chunk, whatever the history's size. `None` if they do not hold,
/// or the record is not there.
pub fn read_record(
    at: impl Fn(u64, u64) -> Option<Vec<u8>>,
    section: &Section,
    record: crate::state::archive::Record,
) -> Option<Archived> {
    use crate::state::archive::Record;
    let (index, body) = read_index(&at, section)?;
    let n = match record {
        Record::Incident(id) => index
            .incidents
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|k| index.incidents[k].1),
        Record::Release(id) => index
            .releases
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|k| index.releases[k].1),
    }?;
    let n = usize::try_from(n).ok()?;
    let before: u64 = index.chunks.get(..n)?.iter().map(|c| c.0).sum();
    read_chunk(&at, body.checked_add(before)?, index.chunks.get(n)?)
}

/// Every chunk of the archive `section` names, one at a time, read through `at` (as
/// [`read_record`]) and given to `each`: a list of everything holds one chunk's records at a
/// time, never the whole archive. `None` (after some chunks, perhaps) if any does not hold.
pub fn for_each_chunk(
    at: impl Fn(u64, u64) -> Option<Vec<u8>>,
    section: &Section,
    mut each: impl FnMut(Archived),
) -> Option<()> {
    let (index, mut offset) = read_index(&at, section)?;
    for chunk in &index.chunks {
        each(read_chunk(&at, offset, chunk)?);
        offset = offset.checked_add(chunk.0)?;
    }
    Some(())
}

/// Facts per chunk of the facts section.
const FACTS_CHUNK: usize = 256;

/// The insight facts of the archived releases created at or after `since`, from the facts
/// section `section` names, through `prefix` (a snapshot's first bytes, at most the number
/// asked for). The section holds them newest first in chunks, each with its own digest, so
/// only the chunks back to `since` are read and checked. `None` if any of them does not hold.
pub fn read_facts(
    prefix: impl Fn(u64) -> Option<Vec<u8>>,
    section: &Section,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<BTreeMap<crate::state::ReleaseId, crate::state::insights::Facts>> {
    let start = section.facts;
    let end = start.checked_add(section.facts_len)?;
    let mut want = start.saturating_add(1 << 16).min(end);
    let mut bytes = prefix(want)?;
    let mut at = start;
    let mut facts = BTreeMap::new();
    while at < end {
        // A chunk's length, its digest, then its facts; read further when it is not all here.
        let chunk = loop {
            let rest = bytes.get(usize::try_from(at).ok()?..)?;
            let parsed = postcard::take_from_bytes::<u64>(rest)
                .ok()
                .and_then(|(len, more)| {
                    let head = rest.len() - more.len();
                    let total = head
                        .checked_add(32)?
                        .checked_add(usize::try_from(len).ok()?)?;
                    Some((head, total))
                });
            match parsed {
                Some((head, total)) if total <= rest.len() => break (head, total),
                _ if want >= end => return None,
                Some((_, total)) => {
                    want = want
                        .saturating_mul(2)
                        .max(at.saturating_add(total as u64))
                        .min(end);
                }
                None => want = want.saturating_mul(2).min(end),
            }
            bytes = prefix(want)?;
        };
        let rest = bytes.get(usize::try_from(at).ok()?..)?;
        let (head, total) = chunk;
        let digest = rest.get(head..head + 32)?;
        let body = rest.get(head + 32..total)?;
        if Sha256::digest(body).as_slice() != digest {
            return None;
        }
        let list: Vec<crate::state::insights::Facts> = postcard::from_bytes(body).ok()?;
        let older = list.iter().any(|f| since.is_some_and(|s| f.created < s));
        for f in list {
            if since.is_none_or(|s| f.created >= s) {
                facts.insert(f.id, f);
            }
        }
        if older {
            break;
        }
        at = at.checked_add(total as u64)?;
    }
    Some(facts)
}

/// A snapshot file's bytes whose facts and archive sections were checked, once, against the
/// digests `section` names: what a model opened without its archive carries over, or loads.
pub struct KeptFile {
    bytes: Vec<u8>,
    facts: std::ops::Range<usize>,
    archive: usize,
}

impl KeptFile {
    pub fn check(bytes: Vec<u8>, section: &Section) -> Option<KeptFile> {
        let start = usize::try_from(section.facts).ok()?;
        let facts = start..start.checked_add(usize::try_from(section.facts_len).ok()?)?;
        let digest: [u8; 32] = Sha256::digest(bytes.get(facts.clone())?).into();
        if digest != section.facts_digest {
            return None;
        }
        let archive = usize::try_from(section.offset).ok()?;
        chunks_of(bytes.get(archive..)?, Some(&section.digest))?;
        Some(KeptFile {
            bytes,
            facts,
            archive,
        })
    }

    pub fn kept(&self) -> Kept<'_> {
        Kept {
            facts: &self.bytes[self.facts.clone()],
            archive: &self.bytes[self.archive..],
        }
    }

    /// The archived records.
    pub fn archived(&self) -> Option<Archived> {
        archive_of(&chunks_of(&self.bytes[self.archive..], None)?)
    }
}

/// Reads a whole snapshot this hotfix wrote, its archive merged back; `None` for anything else.
pub fn read(bytes: &[u8]) -> Option<Snapshot> {
    let active = read_active(|max| {
        Some(bytes[..usize::try_from(max).unwrap_or(usize::MAX).min(bytes.len())].to_vec())
    })?;
    let mut model = active.model;
    model.merge(read_archive(bytes, &active.archive)?);
    Some(Snapshot {
        mark: active.mark,
        model,
    })
}
