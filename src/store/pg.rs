//! Team mode: the log in PostgreSQL, where the database, not the client, says who acted.
//!
//! The table `hotfix.events` holds each event as the exact line `events.jsonl` would hold (the
//! same bytes, so the same hashes and the same `hotfix verify`). Members can only read it and
//! call `hotfix.append`, a `SECURITY DEFINER` function that takes the store's lock, checks each
//! line's place in the chain and its hash, and refuses any line whose actor is not the login
//! (`session_user`) or whose time is not the server's clock for the transaction. Triggers refuse
//! `UPDATE`, `DELETE` and `TRUNCATE`, even for the owner.
//!
//! A command runs in one transaction: take the lock, read what is new, decide (with the server's
//! time and the login as actor), append, commit. Nothing is acknowledged before the commit.

mod connect;
mod schema;

use connect::connect;
pub use connect::{db_error, is_database, redacted};
pub use schema::migrate;
use schema::{has_store, migrate_in, newer, quoted, schema_version};

use super::{Backend, Head, HeadFile, Position, StoreError};
use chrono::{DateTime, Utc};
use postgres::{Client, Config, NoTls};
use std::io::Cursor;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The advisory lock ("hotf" as a number) that schemas 1-3 wrote under; `migrate` still takes
/// it, so a writer of an older hotfix never runs under a half-built schema. Writers of schema 4
/// hold the `hotfix.writer` row instead, which no login can take from outside.
const LOCK_KEY: i64 = 0x686f_7466;
/// The schema version this hotfix reads and writes: the last of [`MIGRATIONS`].
const SCHEMA_VERSION: i32 = 6;

#[derive(Clone)]
pub struct PgLog {
    conn: Arc<Mutex<Client>>,
    /// The local snapshot cache for this store, if there is a cache directory.
    cache: Option<std::path::PathBuf>,
    /// How to connect again (for the listener, and after a lost connection). Never shown.
    spec: Arc<String>,
    /// When a lost connection may next be retried, and the wait after that (backoff).
    retry: Arc<Mutex<(std::time::Instant, Duration)>>,
    /// The spec without any password, as the store is shown.
    shown: std::path::PathBuf,
    /// Who the database says we are.
    login: String,
    /// Server, port, database and schema: the store's identity (for the witness), no secrets.
    identity: String,
}

/// The store's lock: an open transaction holding the advisory lock, committed when dropped.
pub struct PgLock {
    conn: Arc<Mutex<Client>>,
    /// The server's clock when the lock was taken, which every event of the command carries
    /// (the append function checks it against its own clock).
    now: DateTime<Utc>,
    /// Set when a statement failed: the transaction is rolled back instead.
    failed: std::cell::Cell<bool>,
    /// Set once an append committed the transaction: nothing is left to end.
    ended: std::cell::Cell<bool>,
    /// The newest event when the lock was taken (the table is its own head).
    head: HeadFile,
}

impl Drop for PgLock {
    fn drop(&mut self) {
        if self.ended.get() {
            return;
        }
        let sql = if self.failed.get() {
            "ROLLBACK"
        } else {
            "COMMIT"
        };
        if let Ok(mut c) = self.conn.lock() {
            let _ = c.batch_execute(sql);
        }
    }
}

impl PgLog {
    /// Opens the store the database `spec` names. Fails when there is none (run `hotfix init`).
    pub fn open(spec: &str) -> Result<PgLog, StoreError> {
        let mut client = connect(spec)?;
        let ctx = format!("cannot open the database store {}", redacted(spec));
        let row = client
            .query_opt(
                "SELECT session_user::text, current_database()::text, inet_server_port(), \
                 to_regclass('hotfix.events') IS NOT NULL, host(inet_server_addr())",
                &[],
            )
            .map_err(|e| db_error(&ctx, &e))?
            .ok_or_else(|| StoreError::Missing(redacted(spec).into()))?;
        let (login, db, port, exists): (String, String, Option<i32>, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        // The server as it says it is (no second reading of the settings; a local socket has
        // no address).
        let host: String = row
            .get::<_, Option<String>>(4)
            .unwrap_or_else(|| "local".into());
        if !exists {
            return Err(StoreError::Missing(redacted(spec).into()));
        }
        let version = schema_version(&mut client, &ctx)?;
        if version > SCHEMA_VERSION {
            return Err(newer(version));
        }
        if version < SCHEMA_VERSION {
            return Err(StoreError::Setting(format!(
                "the database store {} has schema version {version}, older than this hotfix uses ({SCHEMA_VERSION}): \
                 run `hotfix store migrate --store <the same URL>` as the login that ran `hotfix init` \
                 (or any login that may create roles); clients of the older hotfix must be upgraded too",
                redacted(spec)
            )));
        }
        let identity = format!("postgresql://{host}:{}/{db}#hotfix", port.unwrap_or(5432));
        let cache = directories::ProjectDirs::from("", "", "hotfix").map(|d| {
            let key = super::checkpoint::key_of(&identity);
            d.cache_dir().join("snapshots").join(format!("{key}.bin"))
        });
        Ok(PgLog {
            conn: Arc::new(Mutex::new(client)),
            cache,
            spec: Arc::new(spec.to_string()),
            retry: Arc::new(Mutex::new((
                std::time::Instant::now(),
                Duration::from_millis(250),
            ))),
            shown: redacted(spec).into(),
            login,
            identity,
        })
    }

    /// Creates the schema, its two roles and the append function (the login must be allowed
    /// to create roles and schemas), and makes the login a member. Refuses an existing store.
    pub fn create(spec: &str) -> Result<PgLog, StoreError> {
        PgLog::create_with_history(spec, &[])
    }

    /// As [`PgLog::create`], with `lines` (a verified `events.jsonl`, line for line) recorded in
    /// the same transaction, by the owner role the creating login holds only while it builds:
    /// the one moment events with other actors and times may enter the store.
    pub fn create_with_history(spec: &str, lines: &[&str]) -> Result<PgLog, StoreError> {
        let mut client = connect(spec)?;
        let ctx = format!("cannot create the database store {}", redacted(spec));
        if has_store(&mut client, &ctx)? {
            return Err(StoreError::Exists(redacted(spec).into()));
        }
        let login: String = client
            .query_one("SELECT session_user::text", &[])
            .map_err(|e| db_error(&ctx, &e))?
            .get(0);
        let quoted = quoted(&login);
        let mut tx = client.transaction().map_err(|e| db_error(&ctx, &e))?;
        // The login needs the owner role while it builds (to create objects owned by it), and
        // gives it up before committing: afterwards it can only read and append, like anyone.
        tx.batch_execute(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hotfix_owner') THEN CREATE ROLE hotfix_owner NOLOGIN; END IF; END $$; GRANT hotfix_owner TO {quoted};"
        ))
        .map_err(|e| db_error(&ctx, &e))?;
        migrate_in(&mut tx, 0, &ctx)?;
        // In chunks of whole arrays (one statement each), not a statement per line.
        let mut ends_at: i64 = 0;
        for (chunk_no, chunk) in lines.chunks(5_000).enumerate() {
            let mut cols = (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            );
            for (i, line) in chunk.iter().enumerate() {
                let number = (chunk_no * 5_000 + i) as u64 + 1;
                let parsed = super::line::parse(line.as_bytes(), number)?;
                ends_at += i64::try_from(line.len() + 1).unwrap_or(i64::MAX);
                cols.0
                    .push(i64::try_from(parsed.recorded.seq).unwrap_or(i64::MAX));
                cols.1.push(*line);
                cols.2.push(parsed.hash);
                cols.3.push(parsed.recorded.actor);
                cols.4.push(parsed.recorded.at);
                cols.5.push(ends_at);
            }
            tx.execute(
                "INSERT INTO hotfix.events (seq, line, hash, actor, at, ends_at) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[])",
                &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4, &cols.5],
            )
            .map_err(|e| db_error(&ctx, &e))?;
        }
        tx.batch_execute(&format!(
            "GRANT hotfix_member TO {quoted}; REVOKE hotfix_owner FROM {quoted};"
        ))
        .map_err(|e| db_error(&ctx, &e))?;
        tx.commit().map_err(|e| db_error(&ctx, &e))?;
        drop(client);
        PgLog::open(spec)
    }

    pub fn login(&self) -> &str {
        &self.login
    }

    pub fn shown(&self) -> &std::path::Path {
        &self.shown
    }

    /// The connection, made again if it was lost: at most once per backoff step (doubling up
    /// to 10 s), so a server that is down is not hammered. Until then, every command fails with
    /// the reason: nothing is queued, which could fork the chain.
    fn client(&self) -> Result<MutexGuard<'_, Client>, StoreError> {
        let mut client = self.conn.lock().map_err(|_| StoreError::Io {
            context: "the database connection".into(),
            source: std::io::Error::other("it was left unusable by an earlier failure"),
        })?;
        if !client.is_closed() {
            return Ok(client);
        }
        let lost = || StoreError::Io {
            context: "the connection to the database store was lost".into(),
            source: std::io::Error::other("reconnecting; the store is read-only until then"),
        };
        let mut retry = self.retry.lock().map_err(|_| lost())?;
        if std::time::Instant::now() < retry.0 {
            return Err(lost());
        }
        match connect(&self.spec) {
            Ok(fresh) => {
                *client = fresh;
                *retry = (std::time::Instant::now(), Duration::from_millis(250));
                Ok(client)
            }
            Err(e) => {
                let wait = retry.1;
                *retry = (
                    std::time::Instant::now() + wait,
                    (wait * 2).min(Duration::from_secs(10)),
                );
                Err(e)
            }
        }
    }

    /// Starts listening for other clients' commits on a connection of its own: each one
    /// writes a byte to the returned stream, which the cockpit polls beside the keyboard, so a
    /// commit anywhere appears at once. A lost listener reconnects with the same backoff.
    pub fn watch(&self) -> Option<std::os::unix::net::UnixStream> {
        use postgres::fallible_iterator::FallibleIterator;
        use std::io::Write;
        let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().ok()?;
        let spec = Arc::clone(&self.spec);
        std::thread::spawn(move || {
            let mut wait = Duration::from_millis(250);
            loop {
                if let Ok(mut c) = connect(&spec)
                    && c.batch_execute("LISTEN hotfix_events").is_ok()
                {
                    wait = Duration::from_millis(250);
                    // (Reconnected: whatever was missed is caught up by sequence number.)
                    if theirs.write_all(b"!").is_err() {
                        return;
                    }
                    let mut notes = c.notifications();
                    let mut it = notes.blocking_iter();
                    // Until the connection ends (an error): then reconnect below.
                    while let Ok(Some(_)) = it.next() {
                        if theirs.write_all(b".").is_err() {
                            return; // the cockpit is gone
                        }
                    }
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        });
        Some(ours)
    }
}

fn failed(lock: &PgLock, context: &str, e: &postgres::Error) -> StoreError {
    lock.failed.set(true);
    db_error(context, e)
}

impl Backend for PgLog {
    type Lock = PgLock;
    type Reader = Cursor<Vec<u8>>;

    fn lock(&self, wait: Duration) -> Result<PgLock, StoreError> {
        let mut c = self.client()?;
        let ctx = "cannot take the store's lock in the database";
        c.batch_execute("BEGIN").map_err(|e| db_error(ctx, &e))?;
        // One round trip: the lock (a row only hotfix's functions can lock, taken within
        // `wait`), the server's clock once it is held, and the newest event.
        let wait_ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        let taken = c
            .query_one("SELECT * FROM hotfix.begin_write($1)", &[&wait_ms])
            .map(|r| {
                let head = match (r.get::<_, Option<i64>>(1), r.get::<_, Option<String>>(2)) {
                    (Some(seq), Some(hash)) => HeadFile::Valid(Head {
                        seq: u64::try_from(seq).unwrap_or(0),
                        hash,
                    }),
                    _ => HeadFile::Missing,
                };
                (r.get::<_, DateTime<Utc>>(0), head)
            });
        match taken {
            Ok((now, head)) => Ok(PgLock {
                conn: Arc::clone(&self.conn),
                now,
                failed: std::cell::Cell::new(false),
                ended: std::cell::Cell::new(false),
                head,
            }),
            Err(e) => {
                let _ = c.batch_execute("ROLLBACK");
                // Held by another writer for the whole wait: said as the directory store says it.
                if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                    return Err(StoreError::Locked(self.shown.clone(), wait));
                }
                Err(db_error(ctx, &e))
            }
        }
    }

    /// By number: the lines after `at.lines`, in order.
    fn read_after(&self, lock: &PgLock, at: Position) -> Result<Cursor<Vec<u8>>, StoreError> {
        let mut c = self.client()?;
        let after = i64::try_from(at.lines).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT line FROM hotfix.events WHERE seq > $1 ORDER BY seq",
                &[&after],
            )
            .map_err(|e| failed(lock, "cannot read the event log from the database", &e))?;
        let mut bytes = Vec::new();
        for row in rows {
            bytes.extend_from_slice(row.get::<_, &str>(0).as_bytes());
            bytes.push(b'\n');
        }
        Ok(Cursor::new(bytes))
    }

    fn read_line(
        &self,
        lock: &PgLock,
        seq: u64,
        _start: Option<u64>,
        within: Position,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read_lines(lock, &[seq], within)?.pop())
    }

    /// By number: one query, whatever the log's size.
    fn read_lines(
        &self,
        lock: &PgLock,
        seqs: &[u64],
        _within: Position,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let wanted: Vec<i64> = seqs.iter().filter_map(|s| i64::try_from(*s).ok()).collect();
        let rows = self
            .client()?
            .query(
                "SELECT line FROM hotfix.events WHERE seq = ANY($1) ORDER BY seq",
                &[&wanted],
            )
            .map_err(|e| failed(lock, "cannot read the event log from the database", &e))?;
        Ok(rows
            .iter()
            .map(|row| {
                let mut line = row.get::<_, &str>(0).as_bytes().to_vec();
                line.push(b'\n');
                line
            })
            .collect())
    }

    fn append(&self, lock: &PgLock, _at: Position, bytes: &[u8]) -> Result<(), StoreError> {
        let text = std::str::from_utf8(bytes).map_err(|e| StoreError::Io {
            context: "cannot append to the database store".into(),
            source: std::io::Error::other(e),
        })?;
        let lines: Vec<&str> = text.lines().collect();
        let mut c = self.client()?;
        c.query_one("SELECT hotfix.append($1)", &[&lines])
            .map_err(|e| failed(lock, "the database refused the events", &e))?;
        // Durable only once committed: commit now, so the caller may acknowledge.
        c.batch_execute("COMMIT")
            .map_err(|e| failed(lock, "cannot commit the events", &e))?;
        lock.ended.set(true);
        Ok(())
    }

    fn read_head(&self, lock: &PgLock) -> Result<HeadFile, StoreError> {
        Ok(lock.head.clone())
    }

    fn actor(&self) -> Option<String> {
        Some(self.login.clone())
    }

    fn now(&self, lock: &PgLock) -> Option<DateTime<Utc>> {
        Some(lock.now)
    }

    fn identity(&self) -> String {
        self.identity.clone()
    }

    fn enforces_chain(&self) -> bool {
        true
    }

    /// The snapshot is a cache on this machine (the user's cache directory, one file per
    /// server, database and schema), checked against the database before it is used.
    fn read_snapshot_at(&self, from: u64, max: u64) -> Option<Vec<u8>> {
        super::checkpoint::read_regular_at(self.cache.as_ref()?, from, max)
    }

    fn write_snapshot(
        &self,
        _lock: &PgLock,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let Some(path) = &self.cache else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        let written = write(&mut bytes).map_err(|e| e.to_string());
        written
            .and_then(|()| crate::fsio::write_private(path, &bytes))
            .map_err(|e| StoreError::Io {
                context: format!("cannot write the local snapshot {}", path.display()),
                source: std::io::Error::other(e),
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::connect::split_pgpass;
    use super::schema::{self, MIGRATIONS};
    use super::*;

    #[test]
    fn a_database_is_told_from_a_directory() {
        for db in [
            "postgresql://h/db",
            "postgres://u@h:5433/db",
            "host=db dbname=hotfix",
            "dbname=hotfix",
        ] {
            assert!(is_database(db), "{db}");
        }
        for dir in ["/srv/hotfix", "./store", "store", "team=store", "my store"] {
            assert!(!is_database(dir), "{dir}");
        }
    }

    #[test]
    fn the_append_function_knows_every_event_type_the_log_can_hold() {
        // Every `type` word `Event::kind` names, read from its source: a new event type that
        // misses its schema step fails here, not in a team's first append.
        let source = include_str!("../state/event.rs");
        let start = source.find("pub fn kind(&self)");
        assert!(start.is_some(), "Event::kind moved: point this test at it");
        let start = start.unwrap_or(0);
        let end = source[start..]
            .find("\n    }\n")
            .map_or(source.len(), |e| start + e);
        let kinds: Vec<&str> = source[start..end]
            .split("=> \"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|k| *k != "unreadable")
            .collect();
        assert!(kinds.len() >= 27, "{kinds:?}");
        // From schema 5 the types are rows, inserted by the step that brings them.
        let sql: String = MIGRATIONS
            .iter()
            .filter(|(v, _)| *v >= schema::KINDS_TABLE_FROM)
            .map(|(_, sql)| *sql)
            .collect();
        for kind in kinds {
            assert!(
                sql.contains(&format!("('{kind}')")),
                "{kind} is not inserted into hotfix.event_kinds by a schema step"
            );
        }
        assert!(!sql.contains("'unreadable'"));
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redacted("postgresql://ann:s3cret@h/db"),
            "postgresql://ann:***@h/db"
        );
        assert_eq!(
            redacted("host=h password=s3cret dbname=d"),
            "host=h password=*** dbname=d"
        );
        // In the query, however the key is spelled; a password holding `@` or `:`.
        assert_eq!(
            redacted("postgresql://alice@host/db?password=SECRET"),
            "postgresql://alice@host/db?password=***"
        );
        assert_eq!(
            redacted("postgres://h/db?sslmode=require&PassWord=SECRET&x=1"),
            "postgres://h/db?sslmode=require&PassWord=***&x=1"
        );
        assert_eq!(
            redacted("postgresql://h/db?%70assword=SECRET"),
            "postgresql://h/db?%70assword=***"
        );
        assert_eq!(
            redacted("postgresql://ann:p@ss:w@h:5432/db?application_name=a@b"),
            "postgresql://ann:***@h:5432/db?application_name=a@b"
        );
        assert_eq!(
            redacted("postgresql://h:5432/db?user=a@b"),
            "postgresql://h:5432/db?user=a@b"
        );
        assert_eq!(
            split_pgpass(r"h:5432:d:u:pa\:ss"),
            ["h", "5432", "d", "u", "pa:ss"]
        );
    }
}
