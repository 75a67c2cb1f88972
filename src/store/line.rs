//! Encoding and checking one line of the log.

use super::StoreError;
use crate::state::{Event, Recorded};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format version written in every line's `v`.
pub const FORMAT_VERSION: u32 = 1;
/// The longest line a log may hold, newline excluded: far above any event the rules let
/// through (three 20,000-character documents, each character escaped), and what the database's
/// append function enforces too, so one line can never cost a reader more than this.
pub const MAX_BYTES: usize = 1 << 20;
/// The `prev` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const HASH_KEY: &str = ",\"hash\":\"";
/// `,"hash":"` + 64 hex digits + `"}`.
const SUFFIX_LEN: usize = HASH_KEY.len() + 64 + 2;

#[derive(Serialize)]
struct Body<'a> {
    v: u32,
    seq: u64,
    at: &'a DateTime<Utc>,
    actor: &'a str,
    /// Set on every event of a command's batch but its last, so a batch cut short by a crash is
    /// recognised as one unacknowledged command and kept out of the state as a whole.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    more: bool,
    #[serde(flatten)]
    event: &'a Event,
    prev: &'a str,
}

/// A line as read. Deserialised by hand rather than with `#[serde(flatten)]`, which buffers the
/// whole line twice and made loading several times slower: the envelope fields are read typed,
/// and only the event's own fields are gathered for the `type`-tagged event.
struct Stored {
    v: u32,
    seq: u64,
    at: DateTime<Utc>,
    actor: String,
    more: bool,
    event: Event,
    prev: String,
    hash: String,
}

impl<'de> Deserialize<'de> for Stored {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StoredVisitor)
    }
}

struct StoredVisitor;

impl<'de> serde::de::Visitor<'de> for StoredVisitor {
    type Value = Stored;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Stored, A::Error> {
        use serde::de::Error;
        let (mut v, mut seq, mut at, mut actor, mut prev, mut hash) =
            (None, None, None, None, None, None);
        let mut more = false;
        let mut payload = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "v" => v = Some(map.next_value()?),
                "seq" => seq = Some(map.next_value()?),
                "at" => at = Some(map.next_value()?),
                "actor" => actor = Some(map.next_value()?),
                "more" => more = map.next_value()?,
                "prev" => prev = Some(map.next_value()?),
                "hash" => hash = Some(map.next_value()?),
                other => {
                    let value: serde_json::Value = map.next_value()?;
                    payload.insert(other.to_string(), value);
                }
            }
        }
        // A frame that holds but an event that cannot be read is the fold's to judge (inert and
        // named, see state::legality), not damage that stops every reader.
        let claimed = payload
            .get("type")
            .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_string))
            .unwrap_or_default();
        let event =
            serde_json::from_value(serde_json::Value::Object(payload)).unwrap_or_else(|e| {
                Event::Unreadable {
                    claimed,
                    reason: e.to_string(),
                }
            });
        Ok(Stored {
            v: v.ok_or_else(|| A::Error::missing_field("v"))?,
            seq: seq.ok_or_else(|| A::Error::missing_field("seq"))?,
            at: at.ok_or_else(|| A::Error::missing_field("at"))?,
            actor: actor.ok_or_else(|| A::Error::missing_field("actor"))?,
            more,
            event,
            prev: prev.ok_or_else(|| A::Error::missing_field("prev"))?,
            hash: hash.ok_or_else(|| A::Error::missing_field("hash"))?,
        })
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    v: u32,
}

/// A parsed line and the chain fields that come with it.
#[derive(Debug)]
pub struct Parsed {
    pub recorded: Recorded,
    /// More events of the same command follow.
    pub more: bool,
    pub prev: String,
    pub hash: String,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// Whether `text` is the lower-case hex of `bytes` (compared without building the string:
/// the loader checks every line's hash).
fn is_hex_of(text: &[u8], bytes: &[u8]) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    text.len() == bytes.len() * 2
        && bytes.iter().zip(text.chunks_exact(2)).all(|(b, pair)| {
            pair[0] == DIGITS[usize::from(b >> 4)] && pair[1] == DIGITS[usize::from(b & 0xf)]
        })
}

/// The line for `r` chained after `prev`, newline included, and its hash. `more` marks every
/// event of a command's batch but the last.
pub fn encode(r: &Recorded, prev: &str, more: bool) -> (String, String) {
    let body = Body {
        v: FORMAT_VERSION,
        seq: r.seq,
        at: &r.at,
        actor: &r.actor,
        more,
        event: &r.event,
        prev,
    };
    // Serialising plain data to a string cannot fail.
    let mut text = serde_json::to_string(&body).unwrap_or_default();
    text.pop(); // the closing brace: the hash covers everything before `,"hash":`
    let hash = hex(&Sha256::digest(text.as_bytes()));
    text.push_str(HASH_KEY);
    text.push_str(&hash);
    text.push_str("\"}\n");
    (text, hash)
}

/// Parses line `number` (with its newline). Fails only when the line cannot be read at all.
pub fn parse(raw: &[u8], number: u64) -> Result<Parsed, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        line: number,
        reason,
    };
    let text =
        std::str::from_utf8(raw).map_err(|e| corrupt(format!("it is not valid UTF-8 ({e})")))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.len() > MAX_BYTES {
        return Err(corrupt(format!(
            "the line is {} bytes, over the limit of {MAX_BYTES}",
            text.len()
        )));
    }
    if text.trim().is_empty() {
        return Err(corrupt("the line is empty".into()));
    }
    match serde_json::from_str::<Stored>(text) {
        Ok(s) if s.v == FORMAT_VERSION => Ok(Parsed {
            recorded: Recorded {
                seq: s.seq,
                at: s.at,
                actor: s.actor,
                event: s.event,
            },
            more: s.more,
            prev: s.prev,
            hash: s.hash,
        }),
        Ok(s) => Err(unknown_version(number, s.v)),
        Err(e) => match serde_json::from_str::<VersionOnly>(text) {
            Ok(v) if v.v != FORMAT_VERSION => Err(unknown_version(number, v.v)),
            _ => Err(corrupt(format!("it is not a valid event ({e})"))),
        },
    }
}

fn unknown_version(line: u64, v: u32) -> StoreError {
    StoreError::Corrupt {
        line,
        reason: format!(
            "it has format version {v}, and this hotfix reads version {FORMAT_VERSION}: use the hotfix release that wrote it"
        ),
    }
}

/// Checks a line as hotfix writes it without parsing its event: `{"v":1,"seq":N,` first and
/// `,"prev":"<hex>","hash":"<hex>"}` last, at their fixed places. The line must be event `seq`,
/// chain to `prev` and hash to its own hash, which is returned. `None` when anything differs:
/// the caller then reads the log the full way, which names the problem.
#[cfg(test)]
pub fn check_fast<'a>(raw: &'a [u8], seq: u64, prev: &[u8]) -> Option<&'a [u8]> {
    let f = frame(raw)?;
    (f.seq == seq && f.prev == prev && f.hashes_to_itself()).then_some(f.hash)
}

/// A line's chain fields, found at their fixed places without parsing the event.
pub struct Frame<'a> {
    pub seq: u64,
    pub prev: &'a [u8],
    pub hash: &'a [u8],
    body: &'a [u8],
}

impl Frame<'_> {
    /// Whether the line's bytes before `,"hash":` hash to its own hash: the costly part, which
    /// may run on any core.
    pub fn hashes_to_itself(&self) -> bool {
        is_hex_of(self.hash, &Sha256::digest(self.body))
    }
}

/// The frame of a line as hotfix writes it (`{"v":1,"seq":N,` first and
/// `,"prev":"<hex>","hash":"<hex>"}` last), or `None` for anything else.
pub fn frame(raw: &[u8]) -> Option<Frame<'_>> {
    const START: &[u8] = b"{\"v\":1,\"seq\":";
    const PREV_KEY: &[u8] = b",\"prev\":\"";
    let text = raw.strip_suffix(b"\n")?;
    if text.len() > MAX_BYTES {
        return None; // the full read names it
    }
    let rest = text.strip_prefix(START)?;
    let digits = rest.iter().position(|b| *b == b',')?;
    let seq: u64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let body_len = text.len().checked_sub(SUFFIX_LEN)?;
    let prev_at = body_len.checked_sub(65)?;
    let hash = text.get(body_len + HASH_KEY.len()..body_len + HASH_KEY.len() + 64)?;
    let framed = text[body_len..].starts_with(HASH_KEY.as_bytes())
        && text.ends_with(b"\"}")
        && text.get(prev_at.checked_sub(PREV_KEY.len())?..prev_at) == Some(PREV_KEY)
        && text[body_len - 1] == b'"';
    framed.then(|| Frame {
        seq,
        prev: &text[prev_at..prev_at + 64],
        hash,
        body: &text[..body_len],
    })
}

/// Checks that the line is the `seq`-th event, chains to `prev`, and hashes to its own `hash`.
pub fn check_chain(p: &Parsed, raw: &[u8], seq: u64, prev: &str) -> Result<(), String> {
    if p.recorded.seq != seq {
        return Err(format!(
            "its seq is {}, expected {seq} (an event was inserted, deleted or moved)",
            p.recorded.seq
        ));
    }
    if p.prev != prev {
        return Err("its prev does not match the hash of the line before (a line was changed, deleted or moved)".into());
    }
    let text = raw.strip_suffix(b"\n").unwrap_or(raw);
    let body_len = text
        .len()
        .checked_sub(SUFFIX_LEN)
        .ok_or("it is too short to carry a hash")?;
    if !text[body_len..].starts_with(HASH_KEY.as_bytes()) || !text.ends_with(b"\"}") {
        return Err(
            "its hash is not the last field, as hotfix writes it (the line was rewritten)".into(),
        );
    }
    let computed = Sha256::digest(&text[..body_len]);
    let written = &text[body_len + HASH_KEY.len()..body_len + HASH_KEY.len() + 64];
    if !is_hex_of(p.hash.as_bytes(), &computed) || !is_hex_of(written, &computed) {
        return Err("its content does not match its hash (the line was edited)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Severity;

    fn sample() -> Recorded {
        Recorded {
            seq: 1,
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            actor: "alice".into(),
            event: Event::IncidentReported {
                id: crate::state::IncidentId(1),
                title: "DB down".into(),
                severity: Severity::P1,
                services: vec!["db".into()],
                impact: String::new(),
                source: None,
                public: String::new(),
                impact_since: None,
            },
        }
    }

    #[test]
    fn a_line_round_trips_and_verifies() {
        let (text, hash) = encode(&sample(), GENESIS, false);
        assert!(text.starts_with("{\"v\":1,\"seq\":1,\"at\":\"2023-11-14T22:13:20Z\",\"actor\":\"alice\",\"type\":\"incident_reported\""));
        let p = parse(text.as_bytes(), 1).expect("parses");
        assert_eq!(p.recorded, sample());
        assert_eq!(p.hash, hash);
        assert_eq!(check_chain(&p, text.as_bytes(), 1, GENESIS), Ok(()));
    }

    #[test]
    fn the_fast_check_agrees_with_the_full_one() {
        let (text, hash) = encode(&sample(), GENESIS, false);
        let raw = text.as_bytes();
        assert_eq!(
            check_fast(raw, 1, GENESIS.as_bytes()),
            Some(hash.as_bytes())
        );
        assert_eq!(check_fast(raw, 2, GENESIS.as_bytes()), None, "wrong seq");
        assert_eq!(check_fast(raw, 1, hash.as_bytes()), None, "wrong prev");
        let edited = text.replace("DB down", "DB fine");
        assert_eq!(check_fast(edited.as_bytes(), 1, GENESIS.as_bytes()), None);
        let more = encode(&sample(), GENESIS, true).0;
        assert!(check_fast(more.as_bytes(), 1, GENESIS.as_bytes()).is_some());
        assert_eq!(check_fast(b"{}\n", 1, GENESIS.as_bytes()), None);
        assert_eq!(check_fast(b"", 1, GENESIS.as_bytes()), None);
    }

    #[test]
    fn an_edit_is_caught() {
        let (text, _) = encode(&sample(), GENESIS, false);
        let edited = text.replace("DB down", "DB fine");
        let p = parse(edited.as_bytes(), 1).expect("still parses");
        assert!(
            check_chain(&p, edited.as_bytes(), 1, GENESIS)
                .unwrap_err()
                .contains("edited")
        );
    }

    #[test]
    fn unknown_versions_and_garbage_are_named() {
        let (text, _) = encode(&sample(), GENESIS, false);
        let v9 = text.replace("{\"v\":1,", "{\"v\":9,");
        assert!(
            parse(v9.as_bytes(), 4)
                .unwrap_err()
                .to_string()
                .contains("line 4: it has format version 9")
        );
        assert!(
            parse(b"{not json\n", 2)
                .unwrap_err()
                .to_string()
                .contains("line 2")
        );
        assert!(
            parse(b"\xff\xfe\n", 3)
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
    }
}
