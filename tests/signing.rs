//! Signed decisions with keys made by `ssh-keygen`: signing from a key file and through a real
//! `ssh-agent`, `ssh-keygen -Y verify` accepting what hotfix exports, forged approvals inert
//! and named, `verify --allowed-signers`, and the DSSE attestation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{change_policy, hotfix, hotfix_new, init_with, log_of, ok, qualified_incident};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    /// Key pairs for avery (ed25519), dana (ECDSA), rita (RSA) and mallory (ed25519).
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        for (name, kind) in [
            ("avery", "ed25519"),
            ("dana", "ecdsa"),
            ("rita", "rsa"),
            ("mallory", "ed25519"),
        ] {
            // The signing library cannot read every ECDSA key file ssh-keygen writes (hotfix
            // then says to use the agent): a key it reads is kept, so every run is the same.
            for _ in 0..20 {
                let path = dir.path().join(name);
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(dir.path().join(format!("{name}.pub")));
                let ok = Command::new("ssh-keygen")
                    .args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
                    .arg(&path)
                    .status()
                    .expect("ssh-keygen runs (openssh-client)")
                    .success();
                assert!(ok);
                let text = std::fs::read_to_string(&path).unwrap();
                if kind != "ecdsa" || ssh_key::PrivateKey::from_openssh(&text).is_ok() {
                    break;
                }
            }
        }
        Keys { dir }
    }

    fn private(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn public(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.pub"))).unwrap()
    }

    /// An allowed_signers file: each name with its own key, or with `keys` as given.
    fn allowed(&self, entries: &[(&str, &str)]) -> PathBuf {
        let path = self.dir.path().join(format!("allowed-{}", entries.len()));
        let text: String = entries
            .iter()
            .map(|(who, key)| format!("{who} {}", self.public(key)))
            .collect();
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn refused(store: &Path, user: &str, key: Option<&Path>, args: &[&str], expect: &str) {
    let before = std::fs::read(log_of(store)).unwrap();
    let mut cmd = hotfix(store, user);
    if let Some(k) = key {
        cmd.env("HOTFIX_SIGNING_KEY", k);
    }
    let out = cmd.args(args).assert().code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains(expect), "{args:?}: {expect:?} in {stderr}");
    assert_eq!(
        std::fs::read(log_of(store)).unwrap(),
        before,
        "nothing recorded"
    );
}

fn signed(store: &Path, user: &str, key: &Path, args: &[&str]) -> String {
    let out = hotfix(store, user)
        .env("HOTFIX_SIGNING_KEY", key)
        .args(args)
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// A store requiring signatures, with avery's and dana's keys recorded, and HF-1 (a P2 with an
/// artifact) waiting for sre-avp and dev-lead.
fn store(keys: &Keys) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    init_with(
        s,
        &[
            ("avery", "sre-avp"),
            ("dana", "dev-lead"),
            ("rita", "dev-lead"),
            ("sam", "dev-lead"),
            ("quinn", "qa"),
        ],
    );
    change_policy(s, |policy| policy["signatures"] = "required".into());
    for who in ["avery", "dana", "rita"] {
        let pubfile = keys.dir.path().join(format!("{who}.pub"));
        ok(
            s,
            "admin",
            &["user", "key", "add", who, pubfile.to_str().unwrap()],
        );
    }
    qualified_incident(s, "quinn", "P2", &[]);
    let digest = format!("sha256:{}", "ab".repeat(32));
    ok(s, "sam", &hotfix_new(&["--artifact", &digest]));
    dir
}

#[test]
fn keys_are_recorded_by_an_admin_and_shown_by_fingerprint() {
    let keys = Keys::new();
    let dir = store(&keys);
    let s = dir.path();
    let users: Value = serde_json::from_str(&ok(s, "admin", &["user", "list", "--json"])).unwrap();
    let avery = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == "avery")
        .unwrap();
    assert!(
        avery["keys"][0].as_str().unwrap().starts_with("SHA256:"),
        "{avery}"
    );
    let pubfile = keys.dir.path().join("mallory.pub");
    refused(
        s,
        "dana",
        None,
        &["user", "key", "add", "dana", pubfile.to_str().unwrap()],
        "only an admin",
    );
    let junk = keys.dir.path().join("junk.pub");
    std::fs::write(&junk, "not a key\n").unwrap();
    refused(
        s,
        "admin",
        None,
        &["user", "key", "add", "dana", junk.to_str().unwrap()],
        "not an OpenSSH public key",
    );
    let fp = avery["keys"][0].as_str().unwrap().to_string();
    ok(s, "admin", &["user", "key", "remove", "avery", &fp]);
    refused(
        s,
        "admin",
        None,
        &["user", "key", "remove", "avery", &fp],
        "has no key",
    );
}

#[test]
fn decisions_are_signed_from_a_key_file_or_the_agent_and_ssh_keygen_verifies_them() {
    let keys = Keys::new();
    let dir = store(&keys);
    let s = dir.path();
    // Unsigned, and signed by a key not recorded for the actor: refused, nothing recorded.
    refused(
        s,
        "avery",
        None,
        &["approve", "HF-1"],
        "the policy requires signed decisions",
    );
    refused(
        s,
        "avery",
        Some(&keys.private("mallory")),
        &["approve", "HF-1"],
        "does not verify against avery's recorded keys",
    );
    // RSA from a file cannot sign (the library's RSA signer); the message says what to do.
    refused(
        s,
        "rita",
        Some(&keys.private("rita")),
        &["approve", "HF-1"],
        "add it to the ssh-agent",
    );
    signed(
        s,
        "avery",
        &keys.private("avery"),
        &["approve", "HF-1", "--comment", "ok"],
    );
    // Through a real ssh-agent, with the RSA key the file could not sign with.
    let sock = keys.dir.path().join("agent.sock");
    let agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent runs");
    let mut agent = scopeguard(agent);
    for _ in 0..50 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let added = Command::new("ssh-add")
        .arg(keys.private("rita"))
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    hotfix(s, "rita")
        .env("SSH_AUTH_SOCK", &sock)
        .args(["approve", "HF-1"])
        .assert()
        .success();
    let _ = agent.0.kill();
    // What hotfix exports, ssh-keygen verifies on its own.
    let shown: Value =
        serde_json::from_str(&ok(s, "admin", &["release", "show", "HF-1", "--json"])).unwrap();
    let allowed = keys.allowed(&[("avery", "avery"), ("rita", "rita")]);
    for a in shown["approvals"].as_array().unwrap() {
        let who = a["approver"].as_str().unwrap();
        let sig = keys.dir.path().join(format!("{who}.sig"));
        std::fs::write(&sig, a["signature"].as_str().unwrap()).unwrap();
        use base64::Engine as _;
        let msg = base64::engine::general_purpose::STANDARD
            .decode(a["signed"].as_str().unwrap())
            .unwrap();
        let mut child = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", "hotfix", "-I", who, "-f"])
            .arg(&allowed)
            .arg("-s")
            .arg(&sig)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&msg).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "ssh-keygen refused {who}'s signature");
    }
    // verify --allowed-signers vouches for both, and names a key the trust root does not list.
    ok(
        s,
        "admin",
        &["verify", "--allowed-signers", allowed.to_str().unwrap()],
    );
    let wrong = keys.allowed(&[("avery", "mallory"), ("rita", "rita"), ("x", "dana")]);
    let out = hotfix(s, "admin")
        .args(["verify", "--allowed-signers", wrong.to_str().unwrap()])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("HF-1 approval by avery as sre-avp"), "{err}");
}

/// Kills the agent when the test ends, however it ends.
struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn scopeguard(child: std::process::Child) -> Guard {
    Guard(child)
}

#[test]
fn a_forged_approval_is_inert_and_named_without_any_witness() {
    let keys = Keys::new();
    let dir = store(&keys);
    let s = dir.path();
    signed(s, "avery", &keys.private("avery"), &["approve", "HF-1"]);
    let log = std::fs::read_to_string(log_of(s)).unwrap();
    let real: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let sig: hotfix::state::signing::Signed =
        serde_json::from_value(real["signature"].clone()).unwrap();
    let approval = |role: &str, signature: Option<hotfix::state::signing::Signed>| {
        hotfix::state::Event::ApprovalGiven {
            id: hotfix::state::ReleaseId::Hotfix(1),
            role: role.into(),
            comment: String::new(),
            revision: 1,
            fingerprint: real["fingerprint"].as_str().unwrap().into(),
            signature,
            on_behalf: None,
        }
    };
    // dana's approval, unsigned; then with avery's signature copied onto it.
    let seq1 = append_by_hand(s, "dana", approval("dev-lead", None));
    let seq2 = append_by_hand(s, "dana", approval("dev-lead", Some(sig.clone())));
    let out = hotfix(s, "admin").arg("verify").assert().code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains(&format!(
            "line {seq1} (approval_given by dana): the policy requires signed decisions"
        )) && err.contains(&format!(
            "line {seq2} (approval_given by dana): the signature does not verify"
        )),
        "{err}"
    );
    let gate = ok(s, "admin", &["release", "show", "HF-1"]);
    assert!(
        gate.contains("waiting for approval from dev-lead"),
        "{gate}"
    );
}

fn append_by_hand(store: &Path, actor: &str, event: hotfix::state::Event) -> u64 {
    use std::io::Write;
    let text = std::fs::read_to_string(log_of(store)).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let r = hotfix::state::Recorded {
        seq: last["seq"].as_u64().unwrap() + 1,
        at: chrono::Utc::now(),
        actor: actor.into(),
        event,
    };
    let (line, _) = hotfix::store::line::encode(&r, last["hash"].as_str().unwrap(), false);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(log_of(store))
        .unwrap();
    log.write_all(line.as_bytes()).unwrap();
    r.seq
}

/// HF-1 approved and signed by avery and dana, attested by avery.
fn attested(keys: &Keys) -> (tempfile::TempDir, PathBuf) {
    let dir = store(keys);
    let s = dir.path();
    signed(s, "avery", &keys.private("avery"), &["approve", "HF-1"]);
    signed(s, "dana", &keys.private("dana"), &["approve", "HF-1"]);
    let file = keys.dir.path().join("HF-1.intoto.json");
    signed(
        s,
        "avery",
        &keys.private("avery"),
        &["attest", "HF-1", "--output", file.to_str().unwrap()],
    );
    (dir, file)
}

#[test]
fn the_attestation_verifies_and_a_one_byte_change_is_refused() {
    let keys = Keys::new();
    let (dir, file) = attested(&keys);
    let allowed = keys.allowed(&[("avery", "avery"), ("dana", "dana")]);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let check = |f: &Path, artifact: &str| {
        hotfix(dir.path(), "auditor")
            .args([
                "attest",
                "verify",
                f.to_str().unwrap(),
                "--allowed-signers",
                allowed.to_str().unwrap(),
                "--artifact",
                artifact,
            ])
            .assert()
    };
    let out = check(&file, &digest).success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("sre-avp approved by avery, signed")
            && text.contains("dev-lead approved by dana, signed"),
        "{text}"
    );
    check(&file, &format!("sha256:{}", "cd".repeat(32))).code(3);
    // One byte of the payload changed: the envelope no longer verifies.
    let mut envelope: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut payload = b64.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let at = payload.iter().position(|b| *b == b'1').unwrap();
    payload[at] = b'2';
    envelope["payload"] = b64.encode(&payload).into();
    let changed = keys.dir.path().join("changed.json");
    std::fs::write(&changed, envelope.to_string()).unwrap();
    let out = check(&changed, &digest).code(3);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .contains("no signature of the envelope verifies")
    );
}

#[test]
#[ignore = "needs python3 with cryptography (`pip install cryptography`; `.ci/run` installs it)"]
fn pythons_cryptography_checks_the_envelope_on_its_own() {
    let keys = Keys::new();
    let (_dir, file) = attested(&keys);
    let script = r#"
import base64, json, sys
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
env = json.load(open(sys.argv[1]))
body = base64.b64decode(env["payload"])
t = env["payloadType"]
pae = b"DSSEv1 %d %s %d %s" % (len(t), t.encode(), len(body), body)
key = load_ssh_public_key(open(sys.argv[2], "rb").read())
key.verify(base64.b64decode(env["signatures"][0]["sig"]), pae)
st = json.loads(body)
assert st["_type"] == "https://in-toto.io/Statement/v1", st["_type"]
assert st["subject"][0]["digest"]["sha256"] == "ab" * 32
assert [a["role"] for a in st["predicate"]["approvals"]] == ["sre-avp", "dev-lead"]
print("ok")
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .arg(keys.dir.path().join("avery.pub"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ok"),
        "cryptography could not check it (is it installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
