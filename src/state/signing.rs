//! Signed decisions: each user's SSH public keys, and the SSHSIG signature (namespace
//! `hotfix`) an approval or rejection carries, over bytes that name the store, the release,
//! the scope revision and fingerprint (with the code and artifact), the role, the decision,
//! the actor and the time. Verifying is pure computation, so the fold checks every signed
//! line: one that does not verify is refused like any line the rules refuse.

use super::approval::Vote;
use super::text;
use super::{Ctx, Event, Model, Recorded, Rejection, Release, reject};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use ssh_key::{HashAlg, PublicKey, SshSig};

/// The SSHSIG namespace of every hotfix signature (`ssh-keygen -Y verify -n hotfix`).
pub const NAMESPACE: &str = "hotfix";

/// How far a signature's own time may be from the line's: the time a person takes between
/// signing and the append (an agent asking to touch a security key).
const SKEW_MINUTES: i64 = 10;

/// When the policy wants decisions signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signatures {
    #[default]
    Off,
    Optional,
    Required,
}

/// A decision's signature: the armored SSHSIG and the time it signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    pub sig: String,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

/// The exact bytes an approval or rejection signs: canonical JSON (keys sorted, no spaces).
pub fn signed_bytes(
    model: &Model,
    release: &Release,
    role: &str,
    vote: Vote,
    actor: &str,
    at: DateTime<Utc>,
) -> Vec<u8> {
    let code = release.scope.code.as_ref();
    let value = serde_json::json!({
        "hotfix": "decision/1",
        "store": model.origin.clone().unwrap_or_default(),
        "release": release.id,
        "revision": release.revision,
        "fingerprint": release.scope.fingerprint(),
        "commit": code.map(|c| c.commit.clone()),
        "artifact": release.scope.artifact.clone(),
        "role": role,
        "decision": match vote { Vote::Approve => "approve", Vote::Reject => "reject" },
        "actor": actor,
        "at": canonical_time(at),
    });
    // serde_json's maps are ordered by key: the same bytes for the same decision, always.
    serde_json::to_vec(&value).unwrap_or_default()
}

/// An OpenSSH public key line, checked: ed25519, ECDSA, RSA, or a FIDO (`sk-`) kind.
pub fn parse_key(line: &str) -> Result<PublicKey, Rejection> {
    let key = PublicKey::from_openssh(line.trim()).map_err(|e| {
        Rejection::new(format!(
            "not an OpenSSH public key ({e}): give the one-line .pub file, such as ~/.ssh/id_ed25519.pub"
        ))
    })?;
    Ok(key)
}

/// The key's SHA-256 fingerprint, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Whether `signed` is `actor`'s signature of `bytes` by one of their recorded keys, made near
/// `at`; if not, why.
pub fn check(
    model: &Model,
    actor: &str,
    bytes: &[u8],
    signed: &Signed,
    at: DateTime<Utc>,
) -> Result<(), Rejection> {
    if (signed.at - at).abs() > Duration::minutes(SKEW_MINUTES) {
        reject!(
            "the signature was made at {}, not near {}: sign the decision as you record it",
            crate::present::stamp(signed.at),
            crate::present::stamp(at)
        );
    }
    let sig = SshSig::from_pem(signed.sig.as_bytes())
        .map_err(|e| Rejection::new(format!("the signature is not an SSH signature ({e})")))?;
    let keys = model.keys.get(actor).map(Vec::as_slice).unwrap_or_default();
    if keys.is_empty() {
        reject!(
            "{actor} has no SSH key on record to check the signature against: an admin adds it with `hotfix user key add {actor} FILE.pub`"
        );
    }
    let verified = keys.iter().any(|line| {
        PublicKey::from_openssh(line).is_ok_and(|k| {
            k.key_data() == sig.public_key() && k.verify(NAMESPACE, bytes, &sig).is_ok()
        })
    });
    if !verified {
        reject!("the signature does not verify against {actor}'s recorded keys for this decision");
    }
    Ok(())
}

/// A decision's signature, as the policy wants it: checked when present, refused when missing
/// and required.
pub(crate) fn check_decision(
    ctx: &Ctx,
    release: &Release,
    role: &str,
    vote: Vote,
    signed: Option<&Signed>,
) -> Result<(), Rejection> {
    match (signed, ctx.model.policy.signatures) {
        (None, Signatures::Required) if ctx.sign_later => Ok(()),
        (None, Signatures::Required) => reject!(
            "the policy requires signed decisions: sign with your SSH key ($HOTFIX_SIGNING_KEY, \"signing_key\" in config.json, or the ssh-agent), and have an admin record its public key with `hotfix user key add {} FILE.pub`",
            ctx.actor
        ),
        (None, Signatures::Off | Signatures::Optional) => Ok(()),
        (Some(s), _) => {
            let bytes = signed_bytes(ctx.model, release, role, vote, ctx.actor, s.at);
            check(ctx.model, ctx.actor, &bytes, s, ctx.now)
        }
    }
}

pub(crate) fn decide_add_key(ctx: &Ctx, user: &str, key: &str) -> Result<Vec<Event>, Rejection> {
    ctx.model.require_admin(ctx.actor, "record users' keys")?;
    let user = text::check_name("user", user)?;
    let parsed = parse_key(key)?;
    let line = parsed
        .to_openssh()
        .map_err(|e| Rejection::new(format!("the key cannot be written back ({e})")))?;
    let fp = fingerprint(&parsed);
    if ctx.model.keys.get(&user).is_some_and(|ks| {
        ks.iter()
            .any(|k| k.split(' ').take(2).eq(line.split(' ').take(2)))
    }) {
        reject!("{user} already has the key {fp}");
    }
    Ok(vec![Event::KeyAdded { user, key: line }])
}

pub(crate) fn decide_remove_key(
    ctx: &Ctx,
    user: &str,
    fingerprint: &str,
) -> Result<Vec<Event>, Rejection> {
    ctx.model.require_admin(ctx.actor, "remove users' keys")?;
    let known = ctx.model.keys.get(user).is_some_and(|ks| {
        ks.iter()
            .any(|k| key_fingerprint(k).as_deref() == Some(fingerprint))
    });
    if !known {
        reject!(
            "{} has no key {}: see `hotfix user list`",
            crate::sanitize::line(user),
            crate::sanitize::line(fingerprint)
        );
    }
    Ok(vec![Event::KeyRemoved {
        user: user.to_string(),
        fingerprint: fingerprint.to_string(),
    }])
}

/// A recorded key line's fingerprint.
pub fn key_fingerprint(line: &str) -> Option<String> {
    PublicKey::from_openssh(line).ok().map(|k| fingerprint(&k))
}

pub(crate) fn fold_added(model: &mut Model, user: &str, key: &str) {
    model
        .keys
        .entry(user.to_string())
        .or_default()
        .push(key.to_string());
}

pub(crate) fn fold_removed(model: &mut Model, user: &str, fingerprint: &str) {
    if let Some(keys) = model.keys.get_mut(user) {
        keys.retain(|k| key_fingerprint(k).as_deref() != Some(fingerprint));
    }
}

/// The store's name for signatures: when and by whom it was initialised.
pub(crate) fn origin(r: &Recorded) -> String {
    format!("{}/{}", canonical_time(r.at), r.actor)
}

/// A time as the signed bytes hold it: RFC 3339 in UTC to the millisecond, as the log writes it.
fn canonical_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
