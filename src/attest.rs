//! A portable attestation of a release's decision: an in-toto Statement v1 (subjects: the
//! artifact digest and the git commit; a predicate of hotfix's own with the incidents, the
//! qualification, the signed approvals, the tests by tier, the gate, the deploy and the log's
//! head) in a DSSE envelope signed by the exporting user's SSH key, as cosign, Kyverno and
//! in-toto's tooling consume. `verify` checks the envelope, every approval signature inside it
//! and the subject, against an allowed_signers file the verifier holds.

use crate::sign::{AllowedSigners, Signer};
use crate::state::{Model, Phase, Rejection, ReleaseId, RoleCheck};
use base64::Engine as _;
use serde_json::{Value, json};

/// The predicate's type: what hotfix's own predicate is (described in the README).
pub const PREDICATE_TYPE: &str = "https://hotfix.invalid/attestation/decision/v1";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// DSSE's pre-authentication encoding: what the envelope's signatures sign.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The in-toto Statement for release `id`: refused when it names neither a commit nor an
/// artifact (a statement is about something).
pub fn statement(model: &Model, id: ReleaseId, log: &str) -> Result<Value, Rejection> {
    let r = model.release(id)?;
    let mut subjects = Vec::new();
    if let Some(a) = &r.scope.artifact {
        let hex = a.strip_prefix("sha256:").unwrap_or(a);
        subjects.push(json!({"name": "artifact", "digest": {"sha256": hex}}));
    }
    if let Some(c) = &r.scope.code {
        subjects.push(json!({"name": "git", "digest": {"gitCommit": c.commit}}));
    }
    if subjects.is_empty() {
        return Err(Rejection::new(format!(
            "{id} names no commit and no artifact, so an attestation would be about nothing: bind them with `hotfix release edit {id} --commit REV --artifact sha256:...`"
        )));
    }
    let incidents: Vec<Value> = model
        .incidents_of(r)
        .map(|i| {
            json!({
                "id": i.id,
                "severity": i.severity,
                "title": i.title,
                "qualification": i.qualification.as_ref().map(|q| json!({
                    "decision": q.decision, "risk": q.risk, "by": q.by, "at": q.at,
                    "impact": q.impact, "rationale": q.rationale,
                })),
            })
        })
        .collect();
    let approvals: Vec<Value> = model
        .checklist(r)
        .iter()
        .filter_map(|c| match c {
            RoleCheck::Approved { approval, .. } => Some(approval),
            _ => None,
        })
        .map(|a| {
            let mut approval = json!({
                "role": a.role,
                "actor": a.approver,
                "revision": a.revision,
                "fingerprint": a.fingerprint,
                "at": a.at,
                "signature": a.signature.as_ref().map(|s| &s.signature),
                "signed": a.signature.as_ref().map(|s| &s.signed),
            });
            // A deputy's approval names the holder it was given for (see `state::delegation`).
            if let Some(holder) = &a.on_behalf {
                approval["on_behalf"] = json!(holder);
            }
            approval
        })
        .collect();
    let tests: Vec<Value> = crate::state::Priority::ALL
        .iter()
        .map(|p| {
            let list: Vec<Value> = r
                .tests
                .iter()
                .filter(|t| t.priority == *p)
                .map(|t| {
                    json!({
                        "name": t.name,
                        "status": t.status,
                        "waiver": t.waiver.as_ref().map(|w| json!({"by": w.by, "reason": w.reason, "at": w.at})),
                    })
                })
                .collect();
            json!({"tier": p, "tests": list})
        })
        .collect();
    let gate = model.gate(id)?;
    let deployed = r.milestone(Phase::Deployed);
    Ok(json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "release": {
                "id": id,
                "version": r.scope.version,
                "status": model.release_status(r),
                "revision": r.revision,
                "fingerprint": r.scope.fingerprint(),
            },
            "incidents": incidents,
            "approvals": approvals,
            "tests": tests,
            "gate": {"ready": gate.ready, "blockers": gate.blockers},
            "deploy": {
                "deployed_at": deployed.map(|m| m.at),
                "by": deployed.map(|m| m.by.clone()),
                "commit": r.shipped.0,
                "artifact": r.shipped.1,
            },
            "log": log,
        },
    }))
}

/// The DSSE envelope holding `statement`, signed by `signer`.
pub fn envelope(statement: &Value, signer: &mut Signer) -> Result<Value, String> {
    let body = serde_json::to_vec(statement).map_err(|e| e.to_string())?;
    let sig = signer.sign_raw(&pae(PAYLOAD_TYPE, &body))?;
    let keyid = crate::state::signing::fingerprint(&signer.public_key());
    Ok(json!({
        "payloadType": PAYLOAD_TYPE,
        "payload": b64().encode(&body),
        "signatures": [{"keyid": keyid, "sig": b64().encode(sig.as_bytes())}],
    }))
}

/// Checks an envelope: a signature by a key the allowed signers list, the Statement's types,
/// every approval signature inside by its actor's allowed key, and (when given) that the
/// artifact is a subject. Returns what was checked, in words, or every reason it fails.
pub fn verify(
    envelope: &Value,
    allowed: &AllowedSigners,
    artifact: Option<&str>,
) -> Result<Vec<String>, Vec<String>> {
    let mut bad = Vec::new();
    let mut good = Vec::new();
    if envelope["payloadType"] != PAYLOAD_TYPE {
        bad.push(format!("the payloadType is not {PAYLOAD_TYPE}"));
    }
    let body = envelope["payload"]
        .as_str()
        .and_then(|p| b64().decode(p).ok())
        .unwrap_or_default();
    let message = pae(PAYLOAD_TYPE, &body);
    let mut signed_by = None;
    for s in envelope["signatures"].as_array().into_iter().flatten() {
        let keyid = s["keyid"].as_str().unwrap_or_default();
        let raw = s["sig"]
            .as_str()
            .and_then(|x| b64().decode(x).ok())
            .unwrap_or_default();
        if let Some((principals, key)) = allowed.by_fingerprint(keyid) {
            let algorithm = match key.algorithm() {
                ssh_key::Algorithm::Rsa { .. } => ssh_key::Algorithm::Rsa {
                    hash: Some(ssh_key::HashAlg::Sha512),
                },
                other => other,
            };
            let ok = ssh_key::Signature::new(algorithm, raw).is_ok_and(|sig| {
                signature::Verifier::verify(key.key_data(), &message, &sig).is_ok()
            });
            if ok {
                signed_by = Some(principals.join(","));
            }
        }
    }
    match &signed_by {
        Some(who) => good.push(format!("the envelope is signed by {who}")),
        None => bad.push(
            "no signature of the envelope verifies with a key the allowed signers list".into(),
        ),
    }
    let statement: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if statement["_type"] != STATEMENT_TYPE || statement["predicateType"] != PREDICATE_TYPE {
        bad.push("the payload is not a hotfix decision Statement".into());
    }
    for a in statement["predicate"]["approvals"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let actor = a["actor"].as_str().unwrap_or_default();
        let role = a["role"].as_str().unwrap_or_default();
        let signed = a["signed"].as_str().and_then(|s| b64().decode(s).ok());
        match (a["signature"].as_str(), signed) {
            (Some(sig), Some(msg)) if allowed.verifies(actor, &msg, sig) => {
                // The signed bytes must be about this release, role and actor.
                let bytes: Value = serde_json::from_slice(&msg).unwrap_or(Value::Null);
                let matches = bytes["actor"] == actor
                    && bytes["role"] == role
                    && bytes["release"] == statement["predicate"]["release"]["id"]
                    && bytes["decision"] == "approve";
                if matches {
                    good.push(format!("{role} approved by {actor}, signed"));
                } else {
                    bad.push(format!("the {role} approval's signed bytes are about another decision"));
                }
            }
            (Some(_), Some(_)) => bad.push(format!(
                "the {role} approval by {actor} is not signed by a key the allowed signers list for {actor}"
            )),
            _ => bad.push(format!("the {role} approval by {actor} is not signed")),
        }
    }
    if let Some(want) = artifact {
        let hex = want.strip_prefix("sha256:").unwrap_or(want);
        let found = statement["subject"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["digest"]["sha256"] == hex);
        if found {
            good.push(format!("the subject is {want}"));
        } else {
            bad.push(format!("{want} is not a subject of this attestation"));
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}
