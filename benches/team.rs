//! Team mode over loopback: `HOTFIX_TEST_PG=postgresql://postgres@127.0.0.1:PORT/postgres
//! cargo bench --bench team`. Prints the percentiles the README's Team mode section quotes:
//! - an acknowledged command (lock, catch up, decide, append through `hotfix.append`, commit);
//! - another client's commit seen by a watching store (LISTEN/NOTIFY, then the re-read);
//! - a one-shot CLI read (`incident list --json`, the whole process) on a 10,000-incident store
//!   moved in with `store copy`, from this user's checkpoint, against its budget of 30 ms.

use hotfix::state::{Command, Severity};
use hotfix::store::{For, Location, Store};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let at = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[at.min(samples.len() - 1)]
}

fn report(title: &str) -> Command {
    Command::ReportIncident {
        title: title.into(),
        severity: Severity::P4,
        services: vec![],
        impact: String::new(),
        public: String::new(),
        impact_since: None,
    }
}

fn main() {
    let Ok(admin) = std::env::var("HOTFIX_TEST_PG") else {
        eprintln!(
            "set HOTFIX_TEST_PG to a PostgreSQL URL that may create databases (see the README)"
        );
        return;
    };
    let db = format!("hf_bench_{}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .expect("drop");
    c.batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create");
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
    let url = format!("{base}/{db}");
    let log = hotfix::store::pg::PgLog::create(&url).expect("init");
    let mut store = Store::with_backend(hotfix::store::AnyLog::Database(log)).expect("open");
    store
        .execute("x", chrono::Utc::now(), Command::Init)
        .expect("init event");

    let mut acked = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        store
            .execute("x", chrono::Utc::now(), report(&format!("bench {i}")))
            .expect("execute");
        acked.push(t.elapsed());
    }
    println!(
        "acknowledged command: p50 {:.2} ms, p99 {:.2} ms ({} samples)",
        percentile(&mut acked, 0.5).as_secs_f64() * 1e3,
        percentile(&mut acked, 0.99).as_secs_f64() * 1e3,
        acked.len()
    );

    let mut watcher =
        Store::open(&Location::parse(Path::new(&url)), For::Whole).expect("open the watcher");
    let mut watch = watcher.watch().expect("a database store can be watched");
    let mut first = [0u8; 1];
    watch.read_exact(&mut first).expect("the listener connects");
    let mut seen = Vec::new();
    for i in 0..100 {
        let t = Instant::now();
        store
            .execute("x", chrono::Utc::now(), report(&format!("seen {i}")))
            .expect("execute");
        let mut byte = [0u8; 1];
        watch.read_exact(&mut byte).expect("notified");
        watcher.refresh().expect("re-read");
        seen.push(t.elapsed());
    }
    println!(
        "another client's commit seen (commit, NOTIFY, re-read): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&mut seen, 0.5).as_secs_f64() * 1e3,
        percentile(&mut seen, 0.99).as_secs_f64() * 1e3
    );
    drop((store, watcher));
    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    one_shot(&mut c, base);
}

/// `incident list --json` as a whole process on a 10,000-incident database store.
fn one_shot(c: &mut postgres::Client, base: &str) {
    let db = format!("hf_bench_big_{}", std::process::id());
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .expect("drop");
    c.batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create");
    let url = format!("{base}/{db}");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let home = dir.path().join("home");
    hotfix::demo::generate(&store, "you", chrono::Utc::now(), 10_000).expect("generate");
    let hotfix = |args: &[&str]| {
        let t = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotfix"))
            .env("XDG_CACHE_HOME", &home)
            .env("XDG_STATE_HOME", &home)
            .env_remove("HOTFIX_USER")
            .args(["--store", &url])
            .args(args)
            .output()
            .expect("run hotfix");
        assert!(out.status.success(), "{args:?}: {out:?}");
        t.elapsed()
    };
    let from = store.to_str().expect("a UTF-8 path");
    let copied = hotfix(&["store", "copy", "--from", from, "--to", &url]);
    let first = hotfix(&["incident", "list", "--json"]);
    let mut runs: Vec<Duration> = (0..20)
        .map(|_| hotfix(&["incident", "list", "--json"]))
        .collect();
    let p50 = percentile(&mut runs, 0.5);
    println!(
        "10,000 incidents: store copy {:.1} s; incident list --json, first run {:.0} ms, then p50 {:.1} ms (budget 30 ms: {})",
        copied.as_secs_f64(),
        first.as_secs_f64() * 1e3,
        p50.as_secs_f64() * 1e3,
        if p50 <= Duration::from_millis(30) {
            "met"
        } else {
            "NOT MET"
        }
    );
    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}
