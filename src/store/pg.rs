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

use super::{Backend, Head, HeadFile, StoreError};
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
const SCHEMA_VERSION: i32 = 4;

/// Whether `spec` names a database rather than a directory: a `postgresql://` or `postgres://`
/// URL, or libpq's `key=value` form (`host=db dbname=hotfix`).
pub fn is_database(spec: &str) -> bool {
    const KEYS: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "connect_timeout",
        "application_name",
        "options",
        "sslrootcert",
    ];
    spec.starts_with("postgresql://")
        || spec.starts_with("postgres://")
        || (!spec.starts_with('/')
            && !spec.starts_with('.')
            && spec.split_whitespace().all(|kv| {
                kv.split_once('=')
                    .is_some_and(|(k, _)| KEYS.contains(&k.trim()))
            }))
}

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

/// PostgreSQL's own words: message, detail and hint, never a bare "db error".
pub fn db_error(context: &str, e: &postgres::Error) -> StoreError {
    let said = match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" (detail: {d})"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!(" (hint: {h})"));
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                s.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            s
        }
    };
    StoreError::Io {
        context: context.to_string(),
        source: std::io::Error::other(said),
    }
}

/// The connection settings: `spec`, then what it leaves out from the variables libpq users set
/// (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGCONNECT_TIMEOUT`, `PGSSLMODE`,
/// `PGSSLROOTCERT`) and the password from `~/.pgpass` (or `PGPASSFILE`): the `postgres` crate
/// reads none of them. Returns the TLS settings beside, which the crate cannot express.
fn config(spec: &str) -> Result<(Config, Duration, Tls), StoreError> {
    let bad =
        |why: String| StoreError::Setting(format!("the database store {}: {why}", redacted(spec)));
    let (rest, mode, root) = super::pg_tls::split_spec(spec);
    let mut c: Config = rest
        .parse()
        .map_err(|e: postgres::Error| bad(e.to_string()))?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if c.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(h) => {
                c.host(&h);
            }
            None => {
                c.host("/var/run/postgresql");
            }
        }
    }
    if c.get_ports().is_empty()
        && let Some(p) = env("PGPORT")
    {
        c.port(
            p.parse()
                .map_err(|_| bad(format!("PGPORT={p} is not a port number")))?,
        );
    }
    if c.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| whoami::username().ok())
            .unwrap_or_default();
        c.user(&user);
    }
    if c.get_dbname().is_none() {
        let db = env("PGDATABASE")
            .or_else(|| c.get_user().map(str::to_string))
            .unwrap_or_default();
        c.dbname(&db);
    }
    let timeout = match c.get_connect_timeout() {
        Some(t) => *t,
        None => {
            crate::settings::env_seconds("PGCONNECT_TIMEOUT", Duration::from_secs(10), 1.0, 600.0)
                .map_err(StoreError::Setting)?
        }
    };
    c.connect_timeout(timeout);
    let word = mode
        .or_else(|| env("PGSSLMODE"))
        .unwrap_or_else(|| "prefer".into());
    let mode = super::pg_tls::Mode::parse(&word).ok_or_else(|| {
        bad(format!(
            "sslmode {word} is not one of disable, allow, prefer, require, verify-ca, verify-full"
        ))
    })?;
    c.ssl_mode(mode.crate_mode());
    let root = root
        .or_else(|| env("PGSSLROOTCERT"))
        .map(std::path::PathBuf::from)
        .or_else(|| {
            directories::BaseDirs::new()
                .map(|d| d.home_dir().join(".postgresql/root.crt"))
                .filter(|p| p.is_file())
        });
    if c.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            c.password(&p);
        } else if let Some(p) = pgpass(&c) {
            c.password(&p);
        }
    }
    // A stalled client must not hold the lock; a statement must not wait for ever.
    let wait = super::lock_wait()?.as_millis();
    c.options(&format!(
        "-c lock_timeout={wait} -c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"
    ));
    c.application_name("hotfix");
    c.keepalives_idle(Duration::from_secs(30));
    Ok((c, timeout, Tls { mode, root }))
}

/// TLS as libpq's `sslmode` and `sslrootcert` ask (see [`super::pg_tls`]).
#[derive(Clone, Debug)]
struct Tls {
    mode: super::pg_tls::Mode,
    root: Option<std::path::PathBuf>,
}

/// The password for `c` from the pgpass file (`hostname:port:database:username:password`, `*`
/// matches anything, `\` escapes), as libpq reads it. Ignored unless it is owner-only.
fn pgpass(c: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".pgpass")))?;
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 || meta.len() > 1 << 20 {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432).to_string();
    let want = [
        host.as_str(),
        port.as_str(),
        c.get_dbname().unwrap_or(""),
        c.get_user().unwrap_or(""),
    ];
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields = split_pgpass(line);
        if fields.len() == 5
            && fields[..4]
                .iter()
                .zip(want)
                .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' => fields.push(String::new()),
            other => {
                if let Some(f) = fields.last_mut() {
                    f.push(other);
                }
            }
        }
    }
    fields
}

/// `spec` with any password removed, for messages.
pub fn redacted(spec: &str) -> String {
    if let Some(scheme) = spec.find("://") {
        let (head, rest) = spec.split_at(scheme + 3);
        // The query, where libpq also takes `password=`.
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        // The userinfo ends at the authority's last `@` (a password may hold one).
        let authority_end = main.find('/').unwrap_or(main.len());
        let main = match main[..authority_end].rfind('@') {
            Some(at) => match main[..at].split_once(':') {
                Some((user, _)) => format!("{user}:***{}", &main[at..]),
                None => main.to_string(),
            },
            None => main.to_string(),
        };
        let query = query.map(|q| {
            let pairs: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if is_password_key(k) => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("?{}", pairs.join("&"))
        });
        return format!("{head}{main}{}", query.unwrap_or_default());
    }
    // The key=value form (`host=... password=...`).
    spec.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if is_password_key(k) => "password=***".to_string(),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `password`, however it is cased or percent-encoded (libpq decodes query keys).
fn is_password_key(key: &str) -> bool {
    let bytes = key.trim().as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                decoded.push(b);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    decoded.eq_ignore_ascii_case(b"password")
}

/// Connects within the timeout, even to a server that accepts and never answers (the crate's
/// own `connect_timeout` does not cover that): the attempt runs on a thread that is left behind.
fn connect(spec: &str) -> Result<Client, StoreError> {
    let (config, timeout, tls) = config(spec)?;
    let rustls = match tls.mode {
        super::pg_tls::Mode::Disable => None,
        mode => Some(super::pg_tls::client_config(mode, tls.root.as_ref())?),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(match rustls {
            Some(c) => config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(c)),
            None => config.connect(NoTls),
        });
    });
    let shown = redacted(spec);
    match rx.recv_timeout(timeout) {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(db_error(
            &format!("cannot connect to the database store {shown}"),
            &e,
        )),
        Err(_) => Err(StoreError::Io {
            context: format!("cannot connect to the database store {shown}"),
            source: std::io::Error::other(format!(
                "no answer within {} s (PGCONNECT_TIMEOUT)",
                timeout.as_secs_f64()
            )),
        }),
    }
}

/// The schema, as the steps that build it, in order: `init` applies them all, and `hotfix store
/// migrate` applies those a store made by an older hotfix lacks. A step is never edited once
/// released (stores in the field were built by it); a change is a new step.
const MIGRATIONS: &[(i32, &str)] = &[(1, SCHEMA_1), (2, SCHEMA_2), (3, SCHEMA_3), (4, SCHEMA_4)];

/// The log, its two roles, the append-only triggers and the append function.
const SCHEMA_1: &str = include_str!("../../assets/sql/schema_1.sql");

/// Each event's line as `jsonb`, beside the line (never instead of it: its text never equals
/// the line), so a DBA or a report can query the log in SQL (`body->>'type'`). Computed by the
/// server from the line itself, so it cannot disagree with the evidence.
const SCHEMA_2: &str = include_str!("../../assets/sql/schema_2.sql");

/// Reads from a place in the log (`ends_at >`, what every catch-up and the one-line checks of a
/// checkpoint and the witness ask) by index, not by scanning the table: a one-shot command on a
/// 10,000-incident store went from 100 ms to a few.
const SCHEMA_3: &str = include_str!("../../assets/sql/schema_3.sql");

/// The server refuses a malformed line, and the store's lock is a row only hotfix's functions
/// can lock (see `assets/sql/schema_4.sql`).
const SCHEMA_4: &str = include_str!("../../assets/sql/schema_4.sql");

/// Applies the steps of [`MIGRATIONS`] after `from` in one transaction, recording each, as the
/// owner role the login takes for the time it builds.
fn migrate_in(tx: &mut postgres::Transaction<'_>, from: i32, ctx: &str) -> Result<i32, StoreError> {
    let mut at = from;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > from) {
        tx.batch_execute(sql).map_err(|e| db_error(ctx, &e))?;
        tx.execute("INSERT INTO hotfix.schema_version VALUES ($1)", &[version])
            .map_err(|e| db_error(ctx, &e))?;
        at = *version;
    }
    Ok(at)
}

/// The login as an SQL identifier.
fn quoted(login: &str) -> String {
    format!("\"{}\"", login.replace('"', "\"\""))
}

/// The store's schema version (0 for none recorded).
fn schema_version(client: &mut impl postgres::GenericClient, ctx: &str) -> Result<i32, StoreError> {
    Ok(client
        .query_opt("SELECT max(version) FROM hotfix.schema_version", &[])
        .map_err(|e| db_error(ctx, &e))?
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0))
}

/// Brings the database store `spec` to this hotfix's schema version, run by a login that may
/// take the owner role (the one that ran `init`, or any that may create roles). Returns the
/// versions before and after; nothing is done to a store already at this version.
pub fn migrate(spec: &str) -> Result<(i32, i32), StoreError> {
    let mut client = connect(spec)?;
    let ctx = format!("cannot migrate the database store {}", redacted(spec));
    let exists: bool = client
        .query_one("SELECT to_regclass('hotfix.events') IS NOT NULL", &[])
        .map_err(|e| db_error(&ctx, &e))?
        .get(0);
    if !exists {
        return Err(StoreError::Missing(redacted(spec).into()));
    }
    let login: String = client
        .query_one("SELECT session_user::text", &[])
        .map_err(|e| db_error(&ctx, &e))?
        .get(0);
    let mut tx = client.transaction().map_err(|e| db_error(&ctx, &e))?;
    // The store's own lock: no append runs under a half-built schema, and two migrations
    // never race.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .map_err(|e| db_error(&ctx, &e))?;
    let from = schema_version(&mut tx, &ctx)?;
    if from > SCHEMA_VERSION {
        return Err(newer(from));
    }
    if from == SCHEMA_VERSION {
        return Ok((from, from));
    }
    let q = quoted(&login);
    tx.batch_execute(&format!(
        "GRANT hotfix_owner TO {q}; SET LOCAL ROLE hotfix_owner;"
    ))
    .map_err(|e| db_error(&ctx, &e))?;
    // Schema 4's writers hold a row lock instead, which only the owner role can take.
    let has_writer: bool = tx
        .query_one("SELECT to_regclass('hotfix.writer') IS NOT NULL", &[])
        .map_err(|e| db_error(&ctx, &e))?
        .get(0);
    if has_writer {
        tx.batch_execute("SELECT 1 FROM hotfix.writer FOR UPDATE")
            .map_err(|e| db_error(&ctx, &e))?;
    }
    let to = migrate_in(&mut tx, from, &ctx)?;
    tx.batch_execute(&format!("RESET ROLE; REVOKE hotfix_owner FROM {q};"))
        .map_err(|e| db_error(&ctx, &e))?;
    tx.commit().map_err(|e| db_error(&ctx, &e))?;
    Ok((from, to))
}

fn newer(version: i32) -> StoreError {
    StoreError::Setting(format!(
        "the database store has schema version {version}, newer than this hotfix reads ({SCHEMA_VERSION}): upgrade hotfix"
    ))
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
        let exists: bool = client
            .query_one("SELECT to_regclass('hotfix.events') IS NOT NULL", &[])
            .map_err(|e| db_error(&ctx, &e))?
            .get(0);
        if exists {
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

    fn read_since(&self, lock: &PgLock, cursor: u64) -> Result<Cursor<Vec<u8>>, StoreError> {
        let mut c = self.client()?;
        let after = i64::try_from(cursor).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT line FROM hotfix.events WHERE ends_at > $1 ORDER BY seq",
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

    /// By number: one query, whatever the log's size.
    fn read_lines(
        &self,
        lock: &PgLock,
        seqs: &[u64],
        _end: u64,
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

    fn append(&self, lock: &PgLock, _cursor: u64, bytes: &[u8]) -> Result<(), StoreError> {
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

    fn set_aside(&self, _lock: &PgLock, _cursor: u64, _tail: &[u8]) -> Result<String, StoreError> {
        // Transactions never leave half a line behind.
        Ok(String::new())
    }

    fn read_head(&self, lock: &PgLock) -> Result<HeadFile, StoreError> {
        Ok(lock.head.clone())
    }

    fn write_head(&self, _lock: &PgLock, _head: &Head) -> Result<(), StoreError> {
        Ok(()) // the table is its own head: rows cannot be deleted
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
        let (_, sql) = MIGRATIONS.last().copied().unwrap_or((0, ""));
        for kind in kinds {
            assert!(
                sql.contains(&format!("'{kind}'")),
                "{kind} is not in the last schema step"
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
