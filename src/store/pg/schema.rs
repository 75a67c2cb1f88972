//! The database's schema: one SQL file per version (`assets/sql/schema_N.sql`), applied in
//! order by `hotfix store migrate` and by `init`.

use super::{LOCK_KEY, SCHEMA_VERSION, StoreError, connect, db_error, redacted};
use postgres::Client;

/// The schema, as the steps that build it, in order: `init` applies them all, and `hotfix store
/// migrate` applies those a store made by an older hotfix lacks. A step is never edited once
/// released (stores in the field were built by it); a change is a new step.
pub(super) const MIGRATIONS: &[(i32, &str)] = &[
    (1, SCHEMA_1),
    (2, SCHEMA_2),
    (3, SCHEMA_3),
    (4, SCHEMA_4),
    (5, SCHEMA_5),
    (6, SCHEMA_6),
];

/// The log, its two roles, the append-only triggers and the append function.
pub(super) const SCHEMA_1: &str = include_str!("../../../assets/sql/schema_1.sql");

/// Each event's line as `jsonb`, beside the line (never instead of it: its text never equals
/// the line), so a DBA or a report can query the log in SQL (`body->>'type'`). Computed by the
/// server from the line itself, so it cannot disagree with the evidence.
pub(super) const SCHEMA_2: &str = include_str!("../../../assets/sql/schema_2.sql");

/// An index on `ends_at`, the byte count a file of the same lines would have, which reads once
/// went by. Reads now go by sequence number (the primary key: see `PgLog::read_after`); the
/// column is still filled by the append function of these schemas, and read by nothing.
pub(super) const SCHEMA_3: &str = include_str!("../../../assets/sql/schema_3.sql");

/// The server refuses a malformed line, and the store's lock is a row only hotfix's functions
/// can lock (see `assets/sql/schema_4.sql`).
pub(super) const SCHEMA_4: &str = include_str!("../../../assets/sql/schema_4.sql");

/// The event types the server accepts are rows of `hotfix.event_kinds` (a new type is an
/// `INSERT` in a new step), with those of incident edits and post-incident reviews.
pub(super) const SCHEMA_5: &str = include_str!("../../../assets/sql/schema_5.sql");

/// The event types of delegation and approval escalation.
pub(super) const SCHEMA_6: &str = include_str!("../../../assets/sql/schema_6.sql");

/// The first step whose event types are rows of `hotfix.event_kinds`.
#[cfg(test)]
pub(super) const KINDS_TABLE_FROM: i32 = 5;

/// Applies the steps of [`MIGRATIONS`] after `from` in one transaction, recording each, as the
/// owner role the login takes for the time it builds.
pub(super) fn migrate_in(
    tx: &mut postgres::Transaction<'_>,
    from: i32,
    ctx: &str,
) -> Result<i32, StoreError> {
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
pub(super) fn quoted(login: &str) -> String {
    format!("\"{}\"", login.replace('"', "\"\""))
}

/// The store's schema version (0 for none recorded).
pub(super) fn schema_version(
    client: &mut impl postgres::GenericClient,
    ctx: &str,
) -> Result<i32, StoreError> {
    Ok(client
        .query_opt("SELECT max(version) FROM hotfix.schema_version", &[])
        .map_err(|e| db_error(ctx, &e))?
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0))
}

/// Whether the database holds a hotfix store (its events table).
pub(super) fn has_store(client: &mut Client, ctx: &str) -> Result<bool, StoreError> {
    Ok(client
        .query_one("SELECT to_regclass('hotfix.events') IS NOT NULL", &[])
        .map_err(|e| db_error(ctx, &e))?
        .get(0))
}

/// Brings the database store `spec` to this hotfix's schema version, run by a login that may
/// take the owner role (the one that ran `init`, or any that may create roles). Returns the
/// versions before and after; nothing is done to a store already at this version.
pub fn migrate(spec: &str) -> Result<(i32, i32), StoreError> {
    let mut client = connect(spec)?;
    let ctx = format!("cannot migrate the database store {}", redacted(spec));
    if !has_store(&mut client, &ctx)? {
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

pub(super) fn newer(version: i32) -> StoreError {
    StoreError::Setting(format!(
        "the database store has schema version {version}, newer than this hotfix reads ({SCHEMA_VERSION}): upgrade hotfix"
    ))
}
