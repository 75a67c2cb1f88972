//! The record and whether it holds: `hotfix log` (a release's or an incident's audit trail, refused
//! lines marked) and `hotfix verify` (the whole chain, the snapshot, a witness from a report).

use super::Out;
use super::write::{Entry, open};
use crate::error::Error;
use crate::present::{self, stamp};
use crate::state::archive::Record;
use crate::state::{IncidentId, ReleaseId};
use crate::store::{For, Integrity, Location, Store};
use serde_json::json;

pub fn log(
    out: &Out,
    at: &Location,
    release: Option<ReleaseId>,
    incident: Option<IncidentId>,
) -> Result<(), Error> {
    let mut store = open(at)?;
    // A closed record's trail reads its part of the archive and its own lines, not the log.
    let record = release
        .map(Record::Release)
        .or(incident.map(Record::Incident));
    let part = match record {
        Some(record) => store.model_for(record)?,
        None => None,
    };
    let model = part.as_ref().unwrap_or(&store.model);
    let selected = store.trail(model, release, incident)?;
    // A record that does not exist has no trail: say so, as `show` does, not an empty list.
    // (A refused line naming it is still listed: it is part of the record.)
    if selected.is_empty() {
        if let Some(id) = release {
            model.release(id)?;
        }
        if let Some(id) = incident {
            model.incident(id)?;
        }
    }
    if out.json {
        let entries = selected.iter().map(|r| Entry {
            illegal: model.illegal_at(r.seq).map(|i| i.reason.as_str()),
            ..Entry::from(r)
        });
        return out.json(&entries.collect::<Vec<_>>());
    }
    for r in &selected {
        let (mark, why) = match model.illegal_at(r.seq) {
            Some(i) => (
                out.bad("INERT "),
                format!(
                    "\n       (refused by the rules, so it changes nothing: {})",
                    crate::sanitize::line(&i.reason)
                ),
            ),
            None => (String::new(), String::new()),
        };
        out.line(&format!(
            "{:>5}  {}  {:<10} {mark}{}{why}",
            r.seq,
            out.dim(&stamp(r.at)),
            r.actor,
            present::describe(r)
        ));
    }
    Ok(())
}

/// `--witness SEQ:HASH`: whether this log still holds that event with that hash.
fn check_witness(store: &Store, witness: &str) -> Result<String, Error> {
    let (seq, hash) = witness
        .split_once(':')
        .and_then(|(s, h)| Some((s.trim().parse::<u64>().ok()?, h.trim())))
        .filter(|(_, h)| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            Error::Usage(format!(
                "--witness {} is not SEQ:HASH (an event number, a colon and a 64-digit SHA-256), as reports and notices print it",
                crate::sanitize::line(witness)
            ))
        })?;
    match store.hash_at(seq)? {
        Some(found) if found.eq_ignore_ascii_case(hash) => Ok(format!(
            "witness: event {seq} is in this log with the hash the witness names: the history up to it was not rewritten"
        )),
        Some(found) => Err(Error::Failed(format!(
            "the history was rewritten: event {seq} has hash {found} in this log, but the witness names {hash}"
        ))),
        None => Err(Error::Failed(format!(
            "the log has fewer than {seq} events, but the witness saw event {seq}: events were removed"
        ))),
    }
}

pub fn verify(
    out: &Out,
    at: &Location,
    witness: Option<&str>,
    allowed_signers: Option<&std::path::Path>,
) -> Result<(), Error> {
    let checkpoints = crate::settings::checkpoint_dir();
    let mut store = Store::open(
        at,
        For::Verify {
            remembered: checkpoints.as_deref(),
        },
    )?;
    let snapshot_was_forged = store.snapshot_disagreed();
    let snapshot = store.snapshot_header();
    crate::witness::Witness::load().check(&mut store);
    for notice in store.notices.drain(..) {
        eprintln!("hotfix: warning: {}", crate::sanitize::line(&notice));
    }
    let v = store.verification()?;
    if matches!(v.integrity, Integrity::Broken { .. })
        && let Some(checkpoints) = &checkpoints
    {
        store.forget_checkpoint(checkpoints);
    }
    let head = match &v.head {
        crate::store::HeadFile::Valid(h) => json!({"seq": h.seq, "hash": h.hash}),
        crate::store::HeadFile::Missing => json!(null),
        crate::store::HeadFile::Unreadable(why) => json!({"unreadable": why}),
    };
    match v.integrity {
        // (`verify` reads the whole log, so it is never unchecked.)
        Integrity::Verified | Integrity::Unchecked => {
            // The snapshot is a cache, but one that disagrees with the log is named.
            if snapshot_was_forged {
                return Err(Error::Failed(format!(
                    "the log's hash chain is intact ({} events), but the snapshot ({}) did not match the log folded from its first line: it was edited or damaged, and has been rewritten from the log",
                    v.events,
                    crate::store::SNAPSHOT_FILE
                )));
            }
            let snapshot = snapshot.map(|(covers, _)| (covers, true));
            let witnessed = witness.map(|w| check_witness(&store, w)).transpose()?;
            // Lines the rules refuse are inert (everyone goes on working), but never silent.
            let illegal = &store.model.illegal;
            if !illegal.is_empty() {
                if out.json {
                    out.json(&json!({"ok": false, "events": v.events, "last_hash": v.last_hash, "head": head, "illegal": illegal}))?;
                }
                let named: Vec<String> = illegal
                    .iter()
                    .map(|i| {
                        format!(
                            "line {} ({} by {}): {}",
                            i.seq,
                            i.kind,
                            i.actor,
                            crate::sanitize::line(&i.reason)
                        )
                    })
                    .collect();
                return Err(Error::Failed(format!(
                    "the hash chain is intact ({} events), but {} line(s) record what the rules refuse, written around hotfix; they are inert (no view, gate, report or notice counts them):\n  {}",
                    v.events,
                    illegal.len(),
                    named.join("\n  ")
                )));
            }
            // Signed decisions against a trust root the verifier holds: a key record and a
            // signature rewritten together are caught here.
            let signers = allowed_signers
                .map(std::path::Path::to_path_buf)
                .or_else(allowed_signers_setting);
            let mut signed = None;
            if let Some(path) = signers {
                let allowed = crate::sign::AllowedSigners::read(&path).map_err(Error::Usage)?;
                let bad = store.fold_parts(Vec::new, |acc, part| {
                    acc.extend(crate::sign::unvouched(part, &allowed));
                })?;
                if !bad.is_empty() {
                    if out.json {
                        out.json(&json!({"ok": false, "events": v.events, "last_hash": v.last_hash, "unvouched": bad}))?;
                    }
                    return Err(Error::Failed(format!(
                        "the hash chain is intact ({} events), but {} signed decision(s) are not vouched for by the allowed signers:\n  {}",
                        v.events,
                        bad.len(),
                        bad.join("\n  ")
                    )));
                }
                signed = Some(true);
            }
            if out.json {
                let snapshot =
                    snapshot.map(|(covers, matches)| json!({"covers": covers, "matches": matches}));
                return out.json(&json!({"ok": true, "events": v.events, "last_hash": v.last_hash, "head": head, "snapshot": snapshot, "witness": witnessed.is_some().then_some(true), "signatures_vouched": signed}));
            }
            out.line(&format!(
                "{}: {} events, hash chain intact, last hash {}",
                out.good("verified"),
                v.events,
                v.last_hash
            ));
            if let crate::store::HeadFile::Valid(h) = &v.head {
                let lag = if h.seq < v.events {
                    " (behind the log by an interrupted append: accepted)"
                } else {
                    ""
                };
                out.line(&format!("head file: event {} {}{lag}", h.seq, h.hash));
            }
            if let Some((covers, true)) = snapshot {
                out.line(&format!(
                    "snapshot: event {covers}, {}",
                    if store.chain_only() {
                        "the same contents this user audited against the whole log before"
                    } else {
                        "matches the log folded from its first line"
                    }
                ));
            }
            if let Some(w) = witnessed {
                out.line(&w);
            }
            if signed.is_some() {
                out.line("signatures: every signed decision verifies against the allowed signers");
            }
            Ok(())
        }
        Integrity::Broken { line: n, reason } => {
            if out.json {
                out.json(&json!({"ok": false, "events": v.events, "line": n, "reason": reason, "head": head}))?;
            }
            let intact = if n > 1 {
                format!("; lines 1-{} are intact", n - 1)
            } else {
                String::new()
            };
            Err(Error::Failed(format!(
                "verification failed at line {n} of {}: {reason}{intact}",
                match at.directory() {
                    Some(dir) => dir.join(crate::store::LOG_FILE).display().to_string(),
                    None => at.to_string(),
                }
            )))
        }
    }
}

/// `"allowed_signers"` in config.json: the trust root `verify` checks signed decisions against.
fn allowed_signers_setting() -> Option<std::path::PathBuf> {
    let path = crate::settings::config_dir()?.join("config.json");
    let bytes = crate::fsio::read_regular(&path, 256 << 10).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value
        .get("allowed_signers")?
        .as_str()
        .map(std::path::PathBuf::from)
}
