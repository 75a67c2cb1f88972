//! Where a test's store lives, so one test body runs on both backends: a fresh directory, or
//! a fresh database on the test server (see [`super::pg`]). People are names in a directory
//! store and database logins in a database store, where the login is who acts.

use super::pg::{self, Server};
use hotfix::store::Store;
use std::path::{Path, PathBuf};

pub enum Place {
    Dir(tempfile::TempDir),
    Database { server: Server, db: String },
}

/// A person and how they reach the store.
pub struct User {
    /// The name events are recorded under.
    pub name: String,
    /// `--store` for them: the directory, or the database URL with their login.
    pub store: PathBuf,
    /// Set in a directory store only (a database store refuses it).
    hotfix_user: Option<String>,
}

impl Place {
    pub fn dir() -> Place {
        Place::Dir(tempfile::tempdir().unwrap())
    }

    /// A fresh database store's place on the test server (see [`pg::server`]).
    pub fn database(test: &str) -> Place {
        let server = pg::server();
        let db = server.database(test);
        Place::Database { server, db }
    }

    /// Initialises the store and returns its first admin.
    pub fn init(&self) -> User {
        let admin = match self {
            Place::Dir(d) => User {
                name: "admin".into(),
                store: d.path().to_path_buf(),
                hotfix_user: Some("admin".into()),
            },
            Place::Database { server, db } => {
                let login = server.admin_login();
                User {
                    store: server.url(db, &login).into(),
                    name: login,
                    hotfix_user: None,
                }
            }
        };
        let _one = pg::INIT.lock().unwrap_or_else(|e| e.into_inner());
        admin.cli().arg("init").assert().success();
        admin
    }

    /// `name` as a member of the store (a database login in the store's role, named after
    /// `name`), with no process role yet.
    pub fn user(&self, name: &str) -> User {
        match self {
            Place::Dir(d) => User {
                name: name.into(),
                store: d.path().to_path_buf(),
                hotfix_user: Some(name.into()),
            },
            Place::Database { server, db } => {
                let login = server.member(name);
                User {
                    store: server.url(db, &login).into(),
                    name: login,
                    hotfix_user: None,
                }
            }
        }
    }

    /// Edits recorded text in place, as someone with the files (or the database's superuser,
    /// who can switch the triggers off) could, without recomputing any hash.
    pub fn edit_log(&self, from: &str, to: &str) {
        match self {
            Place::Dir(d) => {
                let log = super::log_of(d.path());
                let text = std::fs::read_to_string(&log).unwrap();
                let edited = text.replacen(from, to, 1);
                assert_ne!(text, edited, "{from} is in the log");
                std::fs::write(&log, edited).unwrap();
            }
            Place::Database { server, db } => {
                let mut c = postgres::Client::connect(
                    &server.url(db, &server.admin_login()),
                    postgres::NoTls,
                )
                .unwrap();
                let changed = c
                    .execute(
                        "ALTER TABLE hotfix.events DISABLE TRIGGER events_append_only",
                        &[],
                    )
                    .and_then(|_| {
                        c.execute(
                            "UPDATE hotfix.events SET line = replace(line, $1, $2) \
                             WHERE seq = (SELECT min(seq) FROM hotfix.events WHERE strpos(line, $1) > 0)",
                            &[&from, &to],
                        )
                    })
                    .unwrap();
                assert_eq!(changed, 1, "{from} is in the log");
                c.execute(
                    "ALTER TABLE hotfix.events ENABLE TRIGGER events_append_only",
                    &[],
                )
                .unwrap();
            }
        }
    }
}

impl User {
    pub fn open(&self) -> Store {
        super::open(&self.store).unwrap()
    }

    /// Appends `event` as this user the way a member with write access could, around hotfix:
    /// the frame, the chain, the name and the time right, the rules ignored (to the log file,
    /// or through the database's append function as this login). Returns its sequence number.
    pub fn append_by_hand(&self, event: hotfix::state::Event) -> u64 {
        use std::io::Write;
        let line = |seq: u64, at, prev: &str| {
            let r = hotfix::state::Recorded {
                seq,
                at,
                actor: self.name.clone(),
                event,
            };
            hotfix::store::line::encode(&r, prev, false).0
        };
        match &self.hotfix_user {
            Some(_) => {
                let log = super::log_of(&self.store);
                let text = std::fs::read_to_string(&log).unwrap();
                let last: serde_json::Value =
                    serde_json::from_str(text.lines().last().unwrap()).unwrap();
                let seq = last["seq"].as_u64().unwrap() + 1;
                let text = line(seq, chrono::Utc::now(), last["hash"].as_str().unwrap());
                let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
                file.write_all(text.as_bytes()).unwrap();
                seq
            }
            None => {
                let url = self.store.to_str().unwrap();
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let mut tx = c.transaction().unwrap();
                let row = tx
                    .query_one("SELECT at, seq, hash FROM hotfix.begin_write(10000)", &[])
                    .unwrap();
                let (at, seq, prev): (chrono::DateTime<chrono::Utc>, i64, String) =
                    (row.get(0), row.get(1), row.get(2));
                let seq = u64::try_from(seq).unwrap() + 1;
                let text = line(seq, at, &prev);
                tx.execute(
                    "SELECT hotfix.append(ARRAY[$1])",
                    &[&text.trim_end().to_string()],
                )
                .unwrap();
                tx.commit().unwrap();
                seq
            }
        }
    }

    /// `hotfix --store ...` as this user.
    pub fn cli(&self) -> assert_cmd::Command {
        let mut cmd = super::hotfix(&self.store, "");
        match &self.hotfix_user {
            Some(u) => cmd.env("HOTFIX_USER", u),
            None => cmd.env_remove("HOTFIX_USER"),
        };
        cmd
    }

    pub fn location(&self) -> &Path {
        &self.store
    }
}

/// Runs each listed test, a function taking a [`Place`], once on a directory store and once
/// on a database store (ignored by a plain `cargo test`: it needs a server).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod directory {
            $(#[test] fn $name() { super::$name($crate::common::place::Place::dir()) })*
        }
        mod database {
            $(#[test]
            #[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
            fn $name() {
                super::$name($crate::common::place::Place::database(stringify!($name)))
            })*
        }
    };
}
