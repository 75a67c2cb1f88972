//! Signing a decision with the user's SSH key, found as git finds one: a private key file
//! (`$HOTFIX_SIGNING_KEY`, else `"signing_key"` in config.json), else the ssh-agent
//! (`$SSH_AUTH_SOCK`), whose key must be one recorded for the user. The signature is SSHSIG
//! (namespace `hotfix`), the format `ssh-keygen -Y sign` writes.

use crate::state::signing::{NAMESPACE, Signed};
use crate::state::{Model, Release, Vote};
use chrono::{DateTime, Utc};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::path::PathBuf;

/// A key ready to sign.
pub enum Signer {
    File(Box<PrivateKey>),
    Agent {
        client: Box<ssh_agent_client_rs::Client>,
        key: Box<PublicKey>,
    },
}

/// The most a private key file may hold.
const KEY_LIMIT: u64 = 64 << 10;

fn configured_key_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOTFIX_SIGNING_KEY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = crate::settings::config_dir()?.join("config.json");
    let bytes = crate::fsio::read_regular(&path, KEY_LIMIT).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("signing_key")?.as_str().map(PathBuf::from)
}

/// The user's signing key, or why there is none usable (`Ok(None)`: nothing is configured).
pub fn signer(model: &Model, actor: &str) -> Result<Option<Signer>, String> {
    let recorded: Vec<PublicKey> = model
        .keys
        .get(actor)
        .into_iter()
        .flatten()
        .filter_map(|k| PublicKey::from_openssh(k).ok())
        .collect();
    if let Some(path) = configured_key_file() {
        let shown = crate::sanitize::line(&path.display().to_string()).into_owned();
        let bytes = crate::fsio::read_regular(&path, KEY_LIMIT)
            .map_err(|e| format!("cannot read the signing key {shown}: {e}"))?;
        // ssh-key 0.6 cannot read some ECDSA key files (a scalar of an unusual length): the
        // agent reads them all.
        let key = PrivateKey::from_openssh(&bytes).map_err(|e| {
            format!(
                "{shown} cannot be read as an OpenSSH private key ({e}): if it is one (an ECDSA key, say), add it to the ssh-agent (`ssh-add {shown}`) and unset HOTFIX_SIGNING_KEY, so the agent signs"
            )
        })?;
        // ssh-key 0.6 cannot sign with an RSA key read from a file (it rebuilds the key
        // with the wrong prime); an agent signs RSA keys itself.
        if matches!(key.algorithm(), ssh_key::Algorithm::Rsa { .. }) {
            return Err(format!(
                "{shown} is an RSA key, which hotfix cannot sign with from a file: add it to the ssh-agent (`ssh-add {shown}`) and unset HOTFIX_SIGNING_KEY, or use an ed25519 key"
            ));
        }
        if key.is_encrypted() {
            return Err(format!(
                "{shown} is protected by a passphrase: add it to the ssh-agent (`ssh-add {shown}`) and unset HOTFIX_SIGNING_KEY, so the agent signs"
            ));
        }
        return Ok(Some(Signer::File(Box::new(key))));
    }
    let Some(sock) = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut client = ssh_agent_client_rs::Client::connect(std::path::Path::new(&sock))
        .map_err(|e| format!("the ssh-agent at $SSH_AUTH_SOCK did not answer ({e})"))?;
    let offered = client
        .list_all_identities()
        .map_err(|e| format!("the ssh-agent did not list its keys ({e})"))?;
    let key = offered
        .into_iter()
        .filter_map(|i| match i {
            ssh_agent_client_rs::Identity::PublicKey(k) => Some(k.into_owned()),
            ssh_agent_client_rs::Identity::Certificate(_) => None,
        })
        .find(|k| recorded.iter().any(|r| r.key_data() == k.key_data()));
    match key {
        Some(key) => Ok(Some(Signer::Agent {
            client: Box::new(client),
            key: Box::new(key),
        })),
        None => Err(format!(
            "the ssh-agent holds none of {actor}'s recorded keys: `ssh-add` the key whose .pub an admin recorded (`hotfix user list` shows its fingerprint)"
        )),
    }
}

impl Signer {
    /// The armored SSHSIG of `msg`.
    pub fn sign(&mut self, msg: &[u8]) -> Result<String, String> {
        let sig = match self {
            Signer::File(key) => key
                .sign(NAMESPACE, HashAlg::Sha512, msg)
                .map_err(|e| format!("signing failed ({e})"))?,
            Signer::Agent { client, key } => {
                let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, msg)
                    .map_err(|e| format!("signing failed ({e})"))?;
                let raw = client
                    .sign(key.as_ref().clone(), &data)
                    .map_err(|e| format!("the ssh-agent refused to sign ({e})"))?;
                SshSig::new(key.key_data().clone(), NAMESPACE, HashAlg::Sha512, raw)
                    .map_err(|e| format!("signing failed ({e})"))?
            }
        };
        sig.to_pem(LineEnding::LF)
            .map_err(|e| format!("the signature cannot be written ({e})"))
    }

    /// The raw signature of `msg` (not SSHSIG): what a DSSE envelope carries.
    pub fn sign_raw(&mut self, msg: &[u8]) -> Result<ssh_key::Signature, String> {
        match self {
            Signer::File(key) => signature::Signer::try_sign(key.key_data(), msg)
                .map_err(|e| format!("signing failed ({e})")),
            Signer::Agent { client, key } => client
                .sign(key.as_ref().clone(), msg)
                .map_err(|e| format!("the ssh-agent refused to sign ({e})")),
        }
    }

    /// The public half, as the agent or the file holds it.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Signer::File(key) => key.public_key().clone(),
            Signer::Agent { key, .. } => key.as_ref().clone(),
        }
    }
}

/// The signature a decision by `actor` on `release` as `role` needs, made now, when the policy
/// wants signatures and a key is at hand. Without one: nothing when signatures are optional,
/// and what to do when they are required.
pub fn decision(
    model: &Model,
    release: &Release,
    role: &str,
    vote: Vote,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Signed>, String> {
    use crate::state::signing::Signatures;
    if model.policy.signatures == Signatures::Off {
        return Ok(None);
    }
    let required = model.policy.signatures == Signatures::Required;
    let mut signer = match signer(model, actor) {
        Ok(Some(s)) => s,
        Ok(None) if !required => return Ok(None),
        Ok(None) => {
            return Err(format!(
                "the policy requires signed decisions and no key is at hand: set HOTFIX_SIGNING_KEY to your private key file, put \"signing_key\" in config.json, or load the key into the ssh-agent; an admin records its public half with `hotfix user key add {actor} FILE.pub`"
            ));
        }
        Err(why) if !required => {
            tracing::info!("signing skipped: {why}");
            return Ok(None);
        }
        Err(why) => return Err(why),
    };
    let bytes = crate::state::signing::signed_bytes(model, release, role, vote, actor, now);
    Ok(Some(Signed {
        sig: signer.sign(&bytes)?,
        at: now,
    }))
}

/// Signs a decision in place when the policy wants signatures: its role is resolved first
/// (the signature names it), then the signature attached. Any other command, and a decision
/// already signed, is left as it is. One step for the CLI and the cockpit alike.
pub fn sign_command(
    model: &Model,
    actor: &str,
    now: DateTime<Utc>,
    command: &mut crate::state::Command,
) -> Result<(), String> {
    let crate::state::Command::Decide {
        id,
        vote,
        role,
        signature,
        ..
    } = command
    else {
        return Ok(());
    };
    if signature.is_some() || model.policy.signatures == crate::state::signing::Signatures::Off {
        return Ok(());
    }
    let release = model.release(*id).map_err(|r| r.message)?;
    let chosen = model
        .choose_role(release, actor, role.clone(), *vote, now)
        .map_err(|r| r.message)?;
    if let Some(s) = decision(model, release, &chosen, *vote, actor, now)? {
        *role = Some(chosen);
        *signature = Some(Box::new(s));
    }
    Ok(())
}

/// An `allowed_signers` file as `ssh-keygen -Y verify` and git read it: each line names
/// principals (comma-separated; `*` matches any), optional options, then a public key.
pub struct AllowedSigners {
    entries: Vec<(Vec<String>, PublicKey)>,
}

impl AllowedSigners {
    pub fn parse(text: &str) -> Result<AllowedSigners, String> {
        let mut entries = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let mut parts = l.splitn(2, char::is_whitespace);
            let principals: Vec<String> = parts
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|p| p.trim_matches('"').to_string())
                .collect();
            let rest = parts.next().unwrap_or_default().trim();
            // Options (`namespaces="hotfix"`, `valid-after=...`) come before the key type.
            let key_at = rest
                .find("ssh-")
                .or_else(|| rest.find("ecdsa-"))
                .or_else(|| rest.find("sk-"))
                .ok_or_else(|| {
                    format!("line {} of the allowed signers names no public key", n + 1)
                })?;
            let key = PublicKey::from_openssh(&rest[key_at..]).map_err(|e| {
                format!(
                    "line {} of the allowed signers is not a public key ({e})",
                    n + 1
                )
            })?;
            entries.push((principals, key));
        }
        Ok(AllowedSigners { entries })
    }

    pub fn read(path: &std::path::Path) -> Result<AllowedSigners, String> {
        let shown = crate::sanitize::line(&path.display().to_string()).into_owned();
        let bytes = crate::fsio::read_regular(path, 4 << 20)
            .map_err(|e| format!("cannot read the allowed signers {shown}: {e}"))?;
        AllowedSigners::parse(&String::from_utf8_lossy(&bytes))
    }

    /// Whether `armored` is a signature of `msg` by a key this file allows for `principal`.
    pub fn verifies(&self, principal: &str, msg: &[u8], armored: &str) -> bool {
        let Ok(sig) = SshSig::from_pem(armored.as_bytes()) else {
            return false;
        };
        self.entries.iter().any(|(principals, key)| {
            principals.iter().any(|p| p == principal || p == "*")
                && key.key_data() == sig.public_key()
                && key.verify(NAMESPACE, msg, &sig).is_ok()
        })
    }

    /// The key this file has with `fingerprint` (`SHA256:...`), and its principals.
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<&(Vec<String>, PublicKey)> {
        self.entries
            .iter()
            .find(|(_, k)| crate::state::signing::fingerprint(k) == fingerprint)
    }
}

/// Every signed decision in `model` that `allowed` does not vouch for: "HF-1 approval by dana
/// as dev-lead" and why.
pub fn unvouched(model: &Model, allowed: &AllowedSigners) -> Vec<String> {
    use base64::Engine as _;
    let mut bad = Vec::new();
    for r in model.releases.values() {
        let approvals = r
            .approvals
            .iter()
            .map(|a| ("approval", &a.approver, &a.role, &a.signature));
        let rejections = r
            .rejections
            .iter()
            .map(|x| ("rejection", &x.by, &x.role, &x.signature));
        for (what, by, role, signed) in approvals.chain(rejections) {
            let Some(s) = signed else {
                continue;
            };
            let msg = base64::engine::general_purpose::STANDARD
                .decode(&s.signed)
                .unwrap_or_default();
            if !allowed.verifies(by, &msg, &s.signature) {
                bad.push(format!(
                    "{} {what} by {by} as {role}: its signature is not by a key the allowed signers list for {by}",
                    r.id
                ));
            }
        }
    }
    bad
}
