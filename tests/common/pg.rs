//! A PostgreSQL server for tests: `HOTFIX_TEST_PG` names one as a URL for a login that may
//! create databases and roles (`.ci/run` starts a throwaway cluster and sets it). Tests that
//! need it are `#[ignore]`d, and fail when run without it.
//!
//! Each test gets a database of its own; `CREATE ROLE` is cluster-wide, so the stores' shared
//! roles are created one `init` at a time.

use postgres::{Client, NoTls};
use std::sync::Mutex;

/// One `init` at a time: it creates the cluster-wide roles `hotfix_owner` and `hotfix_member`.
pub static INIT: Mutex<()> = Mutex::new(());

pub struct Server {
    pub admin: String,
}

/// The test server. A test that calls this is `#[ignore]`d (a plain `cargo test` reports it as
/// ignored); run with `--include-ignored`, it fails without a server rather than pass unrun.
pub fn server() -> Server {
    match std::env::var("HOTFIX_TEST_PG") {
        Ok(url) if !url.is_empty() => Server { admin: url },
        _ => panic!(
            "this test needs a PostgreSQL server: set HOTFIX_TEST_PG to a URL for a login that may create databases and roles (`.ci/run` starts a throwaway cluster and sets it)"
        ),
    }
}

impl Server {
    pub fn admin(&self) -> Client {
        Client::connect(&self.admin, NoTls).unwrap()
    }

    /// A fresh database named after `test`, and its URL for `login` (the server trusts local
    /// logins in the throwaway cluster; a real one would ask for a password).
    pub fn database(&self, test: &str) -> String {
        // Within PostgreSQL's 63 bytes, and unique per test name (FNV-1a of the whole name).
        let hash = test.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let short: String = test.chars().take(24).collect();
        let name = format!("hf_{short}_{:08x}_{}", hash as u32, std::process::id());
        let mut c = self.admin();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        name
    }

    pub fn url(&self, db: &str, login: &str) -> String {
        let base = self
            .admin
            .split('@')
            .nth(1)
            .unwrap_or("127.0.0.1:5432/postgres");
        let host = base.split('/').next().unwrap_or("127.0.0.1:5432");
        format!("postgresql://{login}@{host}/{db}")
    }

    /// A login that is a member of the store (what a DBA does to add a person).
    pub fn member(&self, name: &str) -> String {
        self.login(name, " IN ROLE hotfix_member")
    }

    /// A login outside the store.
    pub fn outsider(&self, name: &str) -> String {
        self.login(name, "")
    }

    pub fn login(&self, name: &str, membership: &str) -> String {
        let login = format!("{name}_{}", std::process::id());
        let mut c = self.admin();
        c.batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN CREATE ROLE {login} LOGIN{membership}; END IF; END $$;"
        ))
        .unwrap();
        login
    }
}

/// `hotfix` with the store at `url` and no HOTFIX_USER.
pub fn hotfix(url: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_hotfix"));
    cmd.env("XDG_STATE_HOME", super::state_home())
        .env("XDG_CACHE_HOME", super::state_home())
        .env_remove("HOTFIX_USER")
        .env_remove("HOTFIX_STORE")
        .env("NO_COLOR", "1")
        .args(["--store", url]);
    cmd
}

pub fn ok(url: &str, args: &[&str]) -> String {
    let out = hotfix(url).args(args).assert().success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// A store initialised by the admin login, with `alice` (dev-lead) and `bob` (sre-avp) as members.
pub fn team(s: &Server, test: &str) -> (String, String, String, String) {
    let db = s.database(test);
    let admin_url = s.url(&db, &s.admin_login());
    {
        let _one = INIT.lock().unwrap_or_else(|e| e.into_inner());
        ok(&admin_url, &["init"]);
    }
    let alice = s.member("alice");
    let bob = s.member("bob");
    ok(&admin_url, &["user", "grant", &alice, "dev-lead"]);
    ok(&admin_url, &["user", "grant", &bob, "sre-avp"]);
    (db, admin_url, alice, bob)
}

impl Server {
    pub fn admin_login(&self) -> String {
        let after = self.admin.split("://").nth(1).unwrap_or("postgres@");
        after
            .split('@')
            .next()
            .and_then(|u| u.split(':').next())
            .unwrap_or("postgres")
            .to_string()
    }
}
