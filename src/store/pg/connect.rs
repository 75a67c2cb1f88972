//! How to reach the database: connection specs (URL or key=value), TLS, the password file,
//! and a spec as it may be shown (never its password).

use super::{Client, Config, Duration, NoTls, StoreError};

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
pub(super) fn config(spec: &str) -> Result<(Config, Duration, Tls), StoreError> {
    let bad =
        |why: String| StoreError::Setting(format!("the database store {}: {why}", redacted(spec)));
    let (rest, mode, root) = super::super::pg_tls::split_spec(spec);
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
    let mode = super::super::pg_tls::Mode::parse(&word).ok_or_else(|| {
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
    let wait = super::super::lock_wait()?.as_millis();
    c.options(&format!(
        "-c lock_timeout={wait} -c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"
    ));
    c.application_name("hotfix");
    c.keepalives_idle(Duration::from_secs(30));
    Ok((c, timeout, Tls { mode, root }))
}

/// TLS as libpq's `sslmode` and `sslrootcert` ask (see [`super::pg_tls`]).
#[derive(Clone, Debug)]
pub(super) struct Tls {
    mode: super::super::pg_tls::Mode,
    root: Option<std::path::PathBuf>,
}

/// The password for `c` from the pgpass file (`hostname:port:database:username:password`, `*`
/// matches anything, `\` escapes), as libpq reads it. Ignored unless it is owner-only.
pub(super) fn pgpass(c: &Config) -> Option<String> {
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

pub(super) fn split_pgpass(line: &str) -> Vec<String> {
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
pub(super) fn is_password_key(key: &str) -> bool {
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
pub(super) fn connect(spec: &str) -> Result<Client, StoreError> {
    let (config, timeout, tls) = config(spec)?;
    let rustls = match tls.mode {
        super::super::pg_tls::Mode::Disable => None,
        mode => Some(super::super::pg_tls::client_config(
            mode,
            tls.root.as_ref(),
        )?),
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
