//! Team mode against a real PostgreSQL server: `HOTFIX_TEST_PG` names one as a URL for a login
//! that may create databases and roles (`.ci/run` starts a throwaway cluster and sets it). The
//! tests that need it are ignored by a plain `cargo test` (reported as ignored, never as
//! passed); `cargo test -- --include-ignored` runs them, and fails without a server.
//!
//! Each test gets a database of its own and logins named after it; `CREATE ROLE` is cluster-wide,
//! so the stores' shared roles are created one test at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::pg::{INIT, hotfix, ok, server, team};
use hotfix::store::Store;
use postgres::{Client, NoTls};
use std::path::Path;
use std::time::Duration;

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn events_are_recorded_as_the_database_login_and_the_chain_verifies() {
    let s = server();
    let (db, admin_url, alice, bob) = team(&s, "login");
    let bob_url = s.url(&db, &bob);
    ok(
        &bob_url,
        &["incident", "new", "--title", "DB down", "--severity", "P1"],
    );
    let log = ok(&admin_url, &["log", "--json"]);
    let events: serde_json::Value = serde_json::from_str(&log).unwrap();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], bob.as_str(), "{last}");
    // HOTFIX_USER cannot choose who you are.
    let out = hotfix(&bob_url)
        .env("HOTFIX_USER", &alice)
        .args(["incident", "list"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("team mode"));
    ok(&admin_url, &["verify"]);
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn two_logins_approve_the_same_hotfix_each_as_themselves() {
    let s = server();
    let (db, admin_url, alice, bob) = team(&s, "approve");
    let (alice_url, bob_url) = (s.url(&db, &alice), s.url(&db, &bob));
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "Checkout 500s",
            "--severity",
            "P2",
        ],
    );
    let qualify = "incident qualify INC-1 --decision hotfix --risk low --impact all --rationale r";
    ok(&bob_url, &qualify.split(' ').collect::<Vec<_>>());

    ok(
        &admin_url,
        &[
            "release",
            "new",
            "--incident",
            "INC-1",
            "--version",
            "1.0.1",
            "--summary",
            "fix",
            "--changes",
            "c",
            "--risks",
            "r",
            "--rollback",
            "b",
        ],
    );
    // What waits on each is their login's, whatever the OS user is called.
    let waiting = ok(&bob_url, &["waiting", "--json"]);
    let waiting: serde_json::Value = serde_json::from_str(&waiting).unwrap();
    assert_eq!(waiting["user"], bob.as_str(), "{waiting}");
    assert_eq!(waiting["approvals"][0]["role"], "sre-avp", "{waiting}");
    ok(&alice_url, &["approve", "HF-1", "--revision", "1"]);
    ok(&bob_url, &["approve", "HF-1", "--revision", "1"]);
    let store = common::open(Path::new(&alice_url)).unwrap();
    let approvals = &store
        .model
        .release("HF-1".parse().unwrap())
        .unwrap()
        .approvals;
    let who: Vec<(&str, &str)> = approvals
        .iter()
        .map(|a| (a.role.as_str(), a.approver.as_str()))
        .collect();
    assert_eq!(
        who,
        [("dev-lead", alice.as_str()), ("sre-avp", bob.as_str())]
    );
    // A correction is an event type the server's list (schema 4) takes, as bob's own.
    ok(
        &bob_url,
        &["withdraw", "HF-1", "--reason", "approved too early"],
    );
    let store = common::open(Path::new(&alice_url)).unwrap();
    let hf1 = store.model.release("HF-1".parse().unwrap()).unwrap();
    assert_eq!(hf1.approvals.len(), 1);
    assert_eq!(hf1.corrections[0].by.as_str(), bob.as_str());
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn no_sql_a_member_may_run_can_forge_backdate_or_rewrite_the_log() {
    let s = server();
    let (db, _admin_url, alice, bob) = team(&s, "forge");
    ok(
        &s.url(&db, &alice),
        &["incident", "new", "--title", "real", "--severity", "P3"],
    );
    let mut c = Client::connect(&s.url(&db, &alice), NoTls).unwrap();
    let last: (i64, String) = c
        .query_one(
            "SELECT seq, hash FROM hotfix.events ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    let refused = |c: &mut Client, sql: &str| {
        let e = c.batch_execute(sql).expect_err(sql);
        e.as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default()
    };
    assert!(
        refused(
            &mut c,
            "INSERT INTO hotfix.events VALUES (99, 'x', 'h', 'a', now(), 1)"
        )
        .contains("permission denied")
    );
    assert!(refused(&mut c, "UPDATE hotfix.events SET line = 'x'").contains("permission denied"));
    assert!(refused(&mut c, "DELETE FROM hotfix.events").contains("permission denied"));
    assert!(refused(&mut c, "TRUNCATE hotfix.events").contains("permission denied"));
    // A line claiming bob, or another time, is refused by the append function itself.
    let line = |actor: &str, at: &str| {
        format!(
            "{{\"v\":1,\"seq\":{},\"at\":\"{at}\",\"actor\":\"{actor}\",\"type\":\"incident_noted\",\"id\":\"INC-1\",\"note\":\"x\",\"prev\":\"{}\",\"hash\":\"{}\"}}",
            last.0 + 1,
            last.1,
            "0".repeat(64)
        )
    };
    for (actor, at, expect) in [
        (
            bob.as_str(),
            "2026-11-30T00:00:00Z",
            "cannot record an event as",
        ),
        (alice.as_str(), "2020-01-01T00:00:00Z", "server's clock"),
    ] {
        let sql = format!(
            "SELECT hotfix.append(ARRAY['{}'])",
            line(actor, at).replace('\'', "''")
        );
        let said = refused(&mut c, &sql);
        assert!(said.contains(expect), "{said}");
    }
    // Even the owner cannot change a recorded event: the triggers refuse.
    let mut admin = Client::connect(&s.url(&db, &s.admin_login()), NoTls).unwrap();
    let said = refused(
        &mut admin,
        "SET ROLE hotfix_owner; UPDATE hotfix.events SET line = line",
    );
    assert!(said.contains("append-only"), "{said}");
    let _ = admin.batch_execute("RESET ROLE");
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn a_login_outside_the_store_can_neither_read_nor_write_it() {
    let s = server();
    let (db, ..) = team(&s, "outside");
    let carol = s.outsider("carol");
    let url = s.url(&db, &carol);
    let out = hotfix(&url).args(["incident", "list"]).assert().failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("permission denied"), "{stderr}");
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn store_copy_moves_a_directory_store_line_for_line_and_both_verify() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    common::demo_store(dir.path());
    let db = s.database("copy");
    let url = s.url(&db, &s.admin_login());
    let from = dir.path().to_str().unwrap();
    let out = {
        let _one = INIT.lock().unwrap_or_else(|e| e.into_inner());
        ok(&url, &["store", "copy", "--from", from, "--to", &url])
    };
    assert!(out.contains("both verify"), "{out}");
    let file = common::open(dir.path()).unwrap();
    let copied = common::open(Path::new(&url)).unwrap();
    assert_eq!(copied.model, file.model);
    assert_eq!(copied.head_hash(), file.head_hash());
    // Only into a database without a store.
    hotfix(&url)
        .args(["store", "copy", "--from", from, "--to", &url])
        .assert()
        .code(3);
}

#[test]
fn a_server_that_accepts_and_never_answers_fails_within_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(2).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
        drop(conns);
    });
    let url = format!("postgresql://nobody@127.0.0.1:{port}/db");
    let out = hotfix(&url)
        .env("PGCONNECT_TIMEOUT", "1")
        .args(["incident", "list"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("no answer within 1 s"), "{stderr}");
}

/// The cockpit as the login in `url`, in a private tmux.
fn cockpit(name: &str, url: &str) -> common::tmux::Tmux {
    let command = format!(
        "env -u HOTFIX_USER XDG_STATE_HOME={} NO_COLOR=1 TERM=xterm-256color {} --store {url}; sleep 60",
        common::state_home().display(),
        env!("CARGO_BIN_EXE_hotfix"),
    );
    common::tmux::Tmux::start(name, &command)
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn a_cockpit_shows_another_logins_commit_at_once_and_survives_a_lost_connection() {
    let s = server();
    let (db, _admin_url, alice, bob) = team(&s, "live");
    let (alice_url, bob_url) = (s.url(&db, &alice), s.url(&db, &bob));
    let tmux = cockpit("live", &alice_url);
    tmux.wait_for(&format!("hotfix · {alice}"), 10);
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "Seen live",
            "--severity",
            "P3",
        ],
    );
    // The commit wakes the cockpit (LISTEN/NOTIFY); the timer alone would take 0.5 s.
    tmux.wait_for("Seen live", 3);
    // The server ends every session of the cockpit's login, as a restart would.
    let mut admin = s.admin();
    admin
        .execute(
            // Only this test's database: the login is shared by the tests running beside it.
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = $2",
            &[&alice, &db],
        )
        .unwrap();
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "After the cut",
            "--severity",
            "P3",
        ],
    );
    tmux.wait_for("After the cut", 10);
    tmux.keys(&["q"]);
}

/// A CA, and a server certificate for `localhost` signed by it: (ca.pem, server.crt, server.key).
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "hotfix test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    (ca_cert.pem(), server.pem(), key.serialize_pem())
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn tls_modes_verify_what_they_promise_and_require_never_falls_back() {
    let s = server();
    let (db, ..) = team(&s, "tls");
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates();
    let (other_ca, ..) = certificates();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    for (name, text) in [
        ("ca.pem", &ca),
        ("other.pem", &other_ca),
        ("server.crt", &cert),
        ("server.key", &key),
    ] {
        std::fs::write(path(name), text).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(path("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let owned = std::process::Command::new("chown")
        .args(["postgres", &path("server.crt"), &path("server.key")])
        .status()
        .is_ok_and(|st| st.success());
    assert!(
        owned,
        "the server's key must belong to its user: this test needs root and a postgres user"
    );
    let mut admin = s.admin();
    // (ALTER SYSTEM runs one statement at a time, outside any transaction.)
    let reload = |admin: &mut Client, sql: &str| {
        for statement in sql.split("; ") {
            admin.batch_execute(statement).unwrap();
        }
        admin.batch_execute("SELECT pg_reload_conf()").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
    };
    reload(
        &mut admin,
        &format!(
            "ALTER SYSTEM SET ssl_cert_file = '{}'; ALTER SYSTEM SET ssl_key_file = '{}'; ALTER SYSTEM SET ssl = on",
            path("server.crt"),
            path("server.key")
        ),
    );
    let port = s
        .url(&db, "x")
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let login = s.admin_login();
    let store = |host: &str, mode: &str, root: &str| {
        format!(
            "postgresql://{login}@{host}:{port}/{db}?sslmode={mode}&sslrootcert={}",
            path(root)
        )
    };
    let works = |url: &str| hotfix(url).args(["incident", "list"]).output().unwrap();
    let cases = [
        (store("localhost", "verify-full", "ca.pem"), true),
        (store("127.0.0.1", "verify-full", "ca.pem"), false), // not the certificate's name
        (store("127.0.0.1", "verify-ca", "ca.pem"), true),
        (store("localhost", "verify-ca", "other.pem"), false), // an unknown CA
        (store("localhost", "verify-full", "other.pem"), false),
        (store("127.0.0.1", "require", "ca.pem"), true),
    ];
    let mut failures = Vec::new();
    for (url, expect) in &cases {
        let out = works(url);
        if out.status.success() != *expect {
            failures.push(format!("{url}: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    // Without TLS on the server, require refuses rather than talk in plain text.
    reload(&mut admin, "ALTER SYSTEM RESET ssl");
    let plain = works(&store("127.0.0.1", "require", "ca.pem"));
    reload(
        &mut admin,
        "ALTER SYSTEM RESET ssl_cert_file; ALTER SYSTEM RESET ssl_key_file",
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("TLS"));
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn four_writer_processes_keep_a_gapless_chain() {
    let s = server();
    let (db, admin_url, alice, bob) = team(&s, "writers");
    let dave = s.member("dave");
    let urls = [
        admin_url.clone(),
        s.url(&db, &alice),
        s.url(&db, &bob),
        s.url(&db, &dave),
    ];
    let writers: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(w, url)| {
            let url = url.clone();
            std::thread::spawn(move || {
                for i in 0..15 {
                    ok(
                        &url,
                        &[
                            "incident",
                            "new",
                            "--title",
                            &format!("w{w} #{i}"),
                            "--severity",
                            "P4",
                        ],
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    ok(&admin_url, &["verify"]);
    let mut db_client = Client::connect(&s.url(&db, &s.admin_login()), NoTls).unwrap();
    let (count, max): (i64, i64) = db_client
        .query_one("SELECT count(*), max(seq) FROM hotfix.events", &[])
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(count, max, "no gap in the sequence");
    let store = common::open(Path::new(&admin_url)).unwrap();
    assert_eq!(store.model.incidents.len(), 60);
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn history_rewritten_by_a_superuser_is_named_by_a_client_that_saw_it() {
    let s = server();
    let (db, admin_url, alice, _bob) = team(&s, "rewrite");
    let alice_url = s.url(&db, &alice);
    ok(
        &alice_url,
        &["incident", "new", "--title", "first", "--severity", "P3"],
    );
    ok(
        &alice_url,
        &["incident", "new", "--title", "second", "--severity", "P3"],
    );
    // A superuser switches the triggers off and deletes the newest event.
    let mut su = Client::connect(&s.url(&db, &s.admin_login()), NoTls).unwrap();
    su.batch_execute(
        "ALTER TABLE hotfix.events DISABLE TRIGGER events_append_only; \
         DELETE FROM hotfix.events WHERE seq = (SELECT max(seq) FROM hotfix.events); \
         ALTER TABLE hotfix.events ENABLE TRIGGER events_append_only",
    )
    .unwrap();
    // alice saw it: her witness names the rollback, and her writes are refused.
    let out = hotfix(&alice_url)
        .args(["incident", "new", "--title", "third", "--severity", "P3"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("were removed"), "{stderr}");
    // The admin never saw the deleted event: nothing tells them (the README says so).
    ok(&admin_url, &["incident", "list"]);
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn a_running_store_names_a_tail_deleted_under_it_at_its_next_read() {
    let s = server();
    let (db, _admin_url, alice, _bob) = team(&s, "tail");
    let alice_url = s.url(&db, &alice);
    for title in ["first", "second"] {
        ok(
            &alice_url,
            &["incident", "new", "--title", title, "--severity", "P3"],
        );
    }
    // What a running cockpit holds: a store it keeps re-reading.
    let mut watching = common::open(Path::new(&alice_url)).unwrap();
    assert_eq!(watching.model.incidents.len(), 2);
    let mut su = Client::connect(&s.url(&db, &s.admin_login()), NoTls).unwrap();
    su.batch_execute(
        "ALTER TABLE hotfix.events DISABLE TRIGGER events_append_only; \
         DELETE FROM hotfix.events WHERE seq = (SELECT max(seq) FROM hotfix.events); \
         ALTER TABLE hotfix.events ENABLE TRIGGER events_append_only",
    )
    .unwrap();
    // The next re-read (what a notification or the half-second poll runs) names it, and the
    // store stays read-only.
    watching.refresh().unwrap();
    let hotfix::store::Integrity::Broken { reason, .. } = &watching.integrity else {
        panic!("not named: {:?}", watching.integrity);
    };
    assert!(reason.contains("events were deleted"), "{reason}");
    let _ = watching.refresh();
    assert!(matches!(
        watching.integrity,
        hotfix::store::Integrity::Broken { .. }
    ));
    let refused = watching.execute(
        &alice,
        chrono::Utc::now(),
        hotfix::state::Command::ResolveIncident {
            id: hotfix::state::IncidentId(1),
            note: String::new(),
        },
    );
    assert!(refused.is_err());
}

/// `ok` for a command line written as one string (no argument holds a space).
fn run(url: &str, line: &str) -> String {
    ok(url, &line.split(' ').collect::<Vec<_>>())
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn the_whole_process_runs_on_a_database_store_each_step_by_its_own_login() {
    let s = server();
    let (db, admin_url, alice, bob) = team(&s, "flow");
    let priya = s.member("priya");
    let quinn = s.member("quinn");
    run(&admin_url, &format!("user grant {priya} prod-owner"));
    run(&admin_url, &format!("user grant {quinn} qa"));
    let quinn_login = quinn.clone();
    let [alice, bob, priya, quinn] = [&alice, &bob, &priya, &quinn].map(|l| s.url(&db, l));
    run(
        &quinn,
        "incident new --title Checkout-500s --severity P1 --service checkout",
    );
    run(
        &bob,
        "incident qualify INC-1 --decision hotfix --risk low --impact all --rationale urgent",
    );
    run(
        &admin_url,
        "release new --incident INC-1 --version 4.12.1 --summary fix --changes c --risks r --rollback b",
    );
    run(&alice, "approve HF-1 --revision 1 --comment ok");
    run(&bob, "approve HF-1 --revision 1");
    run(&priya, "approve HF-1 --revision 1");
    run(
        &quinn,
        "test add HF-1 --name smoke --priority critical --automated",
    );
    hotfix(&admin_url)
        .args(["release", "gate", "HF-1"])
        .assert()
        .code(3);
    run(&quinn, "test set HF-1 smoke --status passed --note ci-812");
    run(&admin_url, "release gate HF-1");
    run(&admin_url, "release deploy HF-1");
    run(&admin_url, "release deployed HF-1");
    run(&admin_url, "release verify HF-1 --note dashboards");
    // The new event types of schema 5 go through the server's checks too.
    run(
        &quinn,
        "incident edit INC-1 --public Checkout-fails --impact-since 2026-01-01T00:00:00Z",
    );
    run(
        &quinn,
        &format!(
            "review INC-1 --summary s --root-cause r --action contract-test|{quinn_login}|2026-12-20"
        ),
    );
    run(&quinn, "review INC-1 --done 1");
    run(&admin_url, "release close HF-1");
    let report = run(&admin_url, "report HF-1 --format json");
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["release"]["status"], "closed");
    let approvers: Vec<&str> = v["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["approver"].as_str())
        .collect();
    assert_eq!(approvers.len(), 3, "{approvers:?}");
    assert!(
        approvers.iter().all(|a| !a.contains("postgres")),
        "{approvers:?}"
    );
    run(&admin_url, "verify");
    // The insights of a database store: the approvals came from three logins.
    let stats = ok(&admin_url, &["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["hotfixes"].as_array().unwrap().len(), 1, "{stats}");
    assert_eq!(
        stats["wait_by_approver"].as_array().unwrap().len(),
        3,
        "{stats}"
    );
    // Refusals read the same as with a directory store, and record nothing.
    let out = hotfix(&alice)
        .args(["user", "grant", "someone", "qa"])
        .assert()
        .code(3);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("only an admin"));
}

// ---- the store's own behaviour, on the database backend ----

fn report_as(store: &mut Store, title: &str) {
    let c = hotfix::state::Command::ReportIncident {
        title: title.into(),
        severity: hotfix::state::Severity::P2,
        services: vec![],
        impact: String::new(),
        public: String::new(),
        impact_since: None,
    };
    // (The actor given is ignored: the database login acts.)
    store.execute("ignored", chrono::Utc::now(), c).unwrap();
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn store_the_local_cache_serves_reads_and_a_write_still_checks_the_whole_log() {
    let s = server();
    let (_db, admin_url, ..) = team(&s, "cache");
    let path = Path::new(&admin_url);
    let mut w = common::open(path).unwrap();
    for i in 0..1_100 {
        report_as(&mut w, &format!("incident {i}"));
    }
    // A full read writes the cache once it lags by 1,000 events.
    let mut full = common::open(path).unwrap();
    full.snapshot_if_due().unwrap();
    let mut fast = common::open_for_cockpit(path).unwrap();
    assert!(
        fast.snapshot_covers().is_some(),
        "opened from the local cache"
    );
    assert_eq!(fast.model, full.model);
    report_as(&mut fast, "after the cache");
    assert_eq!(
        fast.integrity,
        hotfix::store::Integrity::Verified,
        "the write checked it all"
    );
    let one_shot = common::open_to_verify_again(path).unwrap();
    assert_eq!(one_shot.model, fast.model);
}

/// Appends a line whose event is `fields` (JSON members after the envelope) through the
/// append function, as `c`'s login, with the frame, chain, name and time all right: what a
/// member with psql can do in one SQL call.
fn append_by_hand(c: &mut Client, fields: &str) {
    c.batch_execute(&format!(
        r#"SELECT hotfix.append(ARRAY[body || ',"hash":"' || encode(sha256(convert_to(body, 'UTF8')), 'hex') || '"}}'])
           FROM (SELECT '{{"v":1,"seq":' || (SELECT max(seq) + 1 FROM hotfix.events)
                  || ',"at":"' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                  || '","actor":"' || session_user || '",{}'
                  || ',"prev":"' || (SELECT hash FROM hotfix.events ORDER BY seq DESC LIMIT 1)
                  || '"' AS body) AS forged"#,
        fields.replace('\'', "''").replace("{session_user}", "' || session_user || '")
    ))
    .unwrap();
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn an_event_appended_around_the_rules_is_inert_and_stops_no_one() {
    let s = server();
    let (db, _admin_url, alice, _bob) = team(&s, "around");
    let alice_url = s.url(&db, &alice);
    // alice (dev-lead, not admin) builds a valid line granting herself admin, in SQL, and
    // appends it through the function: the chain, her name and the time all check out.
    let mut c = Client::connect(&alice_url, NoTls).unwrap();
    append_by_hand(
        &mut c,
        r#""type":"role_granted","user":"{session_user}","role":"admin""#,
    );
    // Every client folds the log through the rules: the line changes nothing, and nobody is
    // stopped by it.
    let out = hotfix(&alice_url)
        .args(["user", "list", "--json"])
        .assert()
        .success();
    let users = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(!stderr.contains("read-only"), "{stderr}");
    let users: serde_json::Value = serde_json::from_str(&users).unwrap();
    let hers = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == alice.as_str())
        .unwrap();
    assert_eq!(hers["roles"], serde_json::json!(["dev-lead"]), "{users}");
    // Her next grant is refused by the rules (she is no admin), not by damage.
    hotfix(&alice_url)
        .args(["user", "grant", &alice, "prod-owner"])
        .assert()
        .code(3);
    ok(
        &alice_url,
        &[
            "incident",
            "new",
            "--title",
            "Still working",
            "--severity",
            "P3",
        ],
    );
    let out = hotfix(&alice_url).arg("verify").assert().code(1);
    let why = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        why.contains(&format!("(role_granted by {alice})")) && why.contains("only an admin"),
        "{why}"
    );
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn a_deploy_or_a_second_role_appended_around_the_rules_opens_nothing() {
    let s = server();
    let (db, admin_url, alice, bob) = team(&s, "gate");
    let alice_url = s.url(&db, &alice);
    let bob_url = s.url(&db, &bob);
    // bob reports and qualifies; alice writes HF-1; the gate is shut.
    ok(&admin_url, &["user", "grant", &bob, "prod-owner"]);
    ok(
        &bob_url,
        &["incident", "new", "--title", "Down", "--severity", "P1"],
    );
    ok(
        &bob_url,
        &[
            "incident",
            "qualify",
            "INC-1",
            "--decision",
            "hotfix",
            "--risk",
            "low",
            "--impact",
            "all",
            "--rationale",
            "down",
        ],
    );
    ok(
        &alice_url,
        &[
            "release",
            "new",
            "--incident",
            "INC-1",
            "--version",
            "1.0.1",
            "--summary",
            "fix",
            "--changes",
            "c",
            "--risks",
            "r",
            "--rollback",
            "b",
        ],
    );
    ok(&bob_url, &["approve", "HF-1", "--role", "sre-avp"]);
    // bob holds prod-owner too, but one person fills one role: the CLI refuses, and the same
    // line by hand is inert.
    hotfix(&bob_url)
        .args(["approve", "HF-1", "--role", "prod-owner"])
        .assert()
        .code(3);
    let shown = ok(&bob_url, &["release", "show", "HF-1", "--json"]);
    let fields: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let fingerprint = fields["fingerprint"].as_str().unwrap().to_string();
    let mut c = Client::connect(&bob_url, NoTls).unwrap();
    append_by_hand(
        &mut c,
        &format!(
            r#""type":"approval_given","id":"HF-1","role":"prod-owner","comment":"","revision":1,"fingerprint":"{fingerprint}""#
        ),
    );
    // And "deployed" on the shut gate.
    append_by_hand(&mut c, r#""type":"release_deployed","id":"HF-1""#);
    let shown = ok(&alice_url, &["release", "show", "HF-1", "--json"]);
    let fields: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(fields["status"], "awaiting-approval", "{fields}");
    assert_eq!(
        fields["approvals"].as_array().map(Vec::len),
        Some(1),
        "{fields}"
    );
    hotfix(&alice_url)
        .args(["release", "gate", "HF-1"])
        .assert()
        .code(3);
    hotfix(&alice_url)
        .args(["release", "deploy", "HF-1"])
        .assert()
        .code(3);
    // No changelog entry for what never deployed.
    hotfix(&alice_url)
        .args(["changelog", "HF-1"])
        .assert()
        .failure();
    let out = hotfix(&alice_url).arg("verify").assert().code(1);
    let why = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        why.contains("approval_given by") && why.contains("release_deployed by"),
        "{why}"
    );
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn store_migrate_brings_an_older_schema_up_and_clients_refuse_a_mismatched_one() {
    let s = server();
    let (db, admin_url, alice, _bob) = team(&s, "migrate");
    let alice_url = s.url(&db, &alice);
    ok(
        &alice_url,
        &[
            "incident",
            "new",
            "--title",
            "Checkout down",
            "--severity",
            "P2",
        ],
    );
    let before = ok(&admin_url, &["verify", "--json"]);
    let mut c = Client::connect(&admin_url, NoTls).unwrap();
    // What a store made by the first schema looks like: no jsonb column, version 1.
    c.batch_execute(
        "DROP INDEX hotfix.events_ends_at; ALTER TABLE hotfix.events DROP COLUMN body; \
         DELETE FROM hotfix.schema_version WHERE version > 1",
    )
    .unwrap();
    let out = hotfix(&alice_url)
        .args(["incident", "list"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("schema version 1, older") && stderr.contains("hotfix store migrate"),
        "{stderr}"
    );
    // A member cannot migrate: the schema belongs to the owner role.
    let out = hotfix(&alice_url)
        .args(["store", "migrate"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("\"hotfix_owner\""), "{stderr}");
    let out = {
        let _one = INIT.lock().unwrap_or_else(|e| e.into_inner());
        ok(&admin_url, &["store", "migrate"])
    };
    assert!(out.contains("from schema version 1 to 6"), "{out}");
    assert!(ok(&admin_url, &["store", "migrate"]).contains("nothing to do"));
    // The events are the same lines; the new column reads them.
    assert_eq!(ok(&admin_url, &["verify", "--json"]), before);
    let kind: String = c
        .query_one("SELECT body->>'type' FROM hotfix.events WHERE seq = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(kind, "store_initialized");
    // The migrating login gave the owner role back.
    let owner: bool = c
        .query_one(
            "SELECT pg_has_role(session_user, 'hotfix_owner', 'MEMBER')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!owner || is_superuser(&mut c));
    ok(
        &alice_url,
        &[
            "incident",
            "new",
            "--title",
            "Search slow",
            "--severity",
            "P3",
        ],
    );
    // A schema from a newer hotfix is refused, by clients and by migrate alike.
    c.batch_execute("INSERT INTO hotfix.schema_version VALUES (99)")
        .unwrap();
    for args in [&["incident", "list"][..], &["store", "migrate"]] {
        let out = hotfix(&admin_url).args(args).assert().failure();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains("newer than this hotfix"), "{stderr}");
    }
    // And a directory store has nothing to migrate.
    let dir = tempfile::tempdir().unwrap();
    hotfix(dir.path().to_str().unwrap())
        .args(["store", "migrate"])
        .assert()
        .code(2);
}

fn is_superuser(c: &mut Client) -> bool {
    c.query_one(
        "SELECT rolsuper FROM pg_roles WHERE rolname = session_user",
        &[],
    )
    .unwrap()
    .get(0)
}

/// Appends `line` as is (its hash recomputed, so only the envelope is wrong), returning the
/// server's refusal.
fn append_raw(c: &mut Client, body_sql: &str) -> String {
    let sql = format!(
        r#"SELECT hotfix.append(ARRAY[body || ',"hash":"' || encode(sha256(convert_to(body, 'UTF8')), 'hex') || '"}}'])
           FROM (SELECT {body_sql} AS body) AS forged"#
    );
    c.batch_execute(&sql).err().map(said).unwrap_or_default()
}

/// The server's own words for an error.
fn said(e: postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string())
}

/// The SQL for a line's body with each envelope field given as SQL text.
fn body(v: &str, seq: &str, at: &str, kind: &str, rest: &str) -> String {
    format!(
        r#"'{{"v":' || {v} || ',"seq":' || {seq} || ',"at":' || {at} || ',"actor":"' || session_user || '","type":' || {kind} || {rest} || ',"prev":"' || (SELECT hash FROM hotfix.events ORDER BY seq DESC LIMIT 1) || '"'"#
    )
}

const NEXT: &str = "(SELECT max(seq) + 1 FROM hotfix.events)::text";
const CLOCK: &str = r#"'"' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"#;

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn the_server_refuses_malformed_backdated_and_oversized_lines() {
    let s = server();
    let (db, _admin_url, alice, bob) = team(&s, "malformed");
    let alice_url = s.url(&db, &alice);
    let bob_url = s.url(&db, &bob);
    ok(
        &alice_url,
        &["incident", "new", "--title", "Down", "--severity", "P3"],
    );
    let mut c = Client::connect(&alice_url, NoTls).unwrap();
    let incident = r#"',"id":"INC-9","title":"x","severity":"P3","services":[],"impact":""'"#;
    let kind = r#"'"incident_reported"'"#;
    // Each of these PostgreSQL would cast into something: each is refused by its type.
    let cases = [
        (body("1", NEXT, r#"'"now"'"#, kind, incident), "RFC 3339"),
        (
            body(
                "1",
                &format!("'\"' || {NEXT} || '\"'"),
                CLOCK,
                kind,
                incident,
            ),
            "does not follow",
        ),
        (body("'\"1\"'", NEXT, CLOCK, kind, incident), "format"),
        (
            body("1", NEXT, CLOCK, r#"'"incident_exploded"'"#, incident),
            "no known event type",
        ),
        (
            body(
                "1",
                NEXT,
                r#"'"' || to_char((clock_timestamp() - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"#,
                kind,
                incident,
            ),
            "not the server's clock",
        ),
        (
            body(
                "1",
                NEXT,
                CLOCK,
                kind,
                r#"',"id":"INC-9","title":"' || repeat('x', 2000000) || '","severity":"P3","services":[],"impact":""'"#,
            ),
            "over the limit",
        ),
        (
            body(
                "1",
                NEXT,
                CLOCK,
                kind,
                r#"',"id":"INC-9","at":"now","title":"x","severity":"P3","services":[],"impact":""'"#,
            ),
            "names a key twice",
        ),
    ];
    for (sql, expected) in &cases {
        let refusal = append_raw(&mut c, sql);
        assert!(refusal.contains(expected), "{expected}: {refusal}");
    }
    // Backdating by holding a transaction open while another login writes: the line's time
    // would be earlier than the newest event's.
    c.batch_execute("BEGIN").unwrap();
    let held: chrono::DateTime<chrono::Utc> = c.query_one("SELECT now()", &[]).unwrap().get(0);
    std::thread::sleep(Duration::from_millis(200));
    ok(
        &bob_url,
        &["incident", "new", "--title", "Later", "--severity", "P3"],
    );
    let at = format!("'\"{}\"'", held.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
    let refusal = append_raw(&mut c, &body("1", NEXT, &at, kind, incident));
    assert!(refusal.contains("earlier than the previous"), "{refusal}");
    c.batch_execute("ROLLBACK").unwrap();
    // Nothing got in, and everyone goes on: every command reads and verifies.
    let listed = ok(&alice_url, &["incident", "list", "--json"]);
    assert_eq!(listed.matches("\"id\"").count(), 2, "{listed}");
    ok(&alice_url, &["verify"]);
    // A known type with a payload no reader can take (the server checks the envelope only)
    // is inert and named: it stops no one either.
    let refusal = append_raw(
        &mut c,
        &body("1", NEXT, CLOCK, r#"'"release_deployed"'"#, r#"',"id":42'"#),
    );
    assert_eq!(refusal, "");
    let listed = ok(&bob_url, &["incident", "list", "--json"]);
    assert_eq!(listed.matches("\"id\"").count(), 2, "{listed}");
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "Still going",
            "--severity",
            "P3",
        ],
    );
    let out = hotfix(&bob_url).arg("verify").assert().code(1);
    let why = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        why.contains("(unreadable by") && why.contains("release_deployed"),
        "{why}"
    );
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn only_hotfix_takes_the_stores_lock_and_a_zero_wait_does_not_wait() {
    let s = server();
    let (db, _admin_url, alice, bob) = team(&s, "lock");
    let alice_url = s.url(&db, &alice);
    let bob_url = s.url(&db, &bob);
    // An outsider (and a member) can take any advisory lock, including the old one: writers
    // no longer care. Neither can lock the store's row from outside.
    let outsider = s.outsider("mallory");
    let mut m = Client::connect(&s.url(&db, &outsider), NoTls).unwrap();
    m.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(1752134758)")
        .unwrap();
    let mut a = Client::connect(&alice_url, NoTls).unwrap();
    let refused = said(
        a.batch_execute("BEGIN; SELECT 1 FROM hotfix.writer FOR UPDATE")
            .unwrap_err(),
    );
    assert!(refused.contains("permission denied"), "{refused}");
    a.batch_execute("ROLLBACK").unwrap();
    assert!(
        m.batch_execute("SELECT * FROM hotfix.begin_write(0)")
            .is_err()
    );
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "Writes go on",
            "--severity",
            "P3",
        ],
    );
    // A member holding the lock (a writer mid-command): HOTFIX_LOCK_WAIT=0 fails at once.
    a.batch_execute("BEGIN; SELECT * FROM hotfix.begin_write(1000)")
        .unwrap();
    let out = hotfix(&bob_url)
        .env("HOTFIX_LOCK_WAIT", "0")
        .args(["incident", "new", "--title", "Busy", "--severity", "P3"])
        .timeout(Duration::from_secs(10))
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("held the store lock") && stderr.contains("for 0.0 s"),
        "{stderr}"
    );
    a.batch_execute("ROLLBACK").unwrap();
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "Free again",
            "--severity",
            "P3",
        ],
    );
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn a_password_in_the_url_is_never_shown() {
    let s = server();
    let db = s.database("password");
    let url = format!(
        "{}?sslmode=disable&password=SECRET",
        s.url(&db, &s.admin_login())
    );
    let mut seen = String::new();
    for args in [
        vec!["incident", "list"],
        vec!["--json", "incident", "list"],
        vec!["init"],
        vec!["store", "migrate"],
        vec!["release", "show", "HF-9"],
        vec!["--json", "release", "show", "HF-9"],
        vec!["verify"],
    ] {
        let _one = INIT.lock().unwrap_or_else(|e| e.into_inner());
        let out = hotfix(&url).args(&args).output().unwrap();
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let missing = format!("{}?password=SECRET", s.url("no_such_db", "nobody"));
    for json in [false, true] {
        let mut cmd = hotfix(&missing);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.args(["incident", "list"]).output().unwrap();
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(seen.contains("password=***"), "{seen}");
    assert!(!seen.contains("SECRET"), "{seen}");
}

#[test]
#[ignore = "needs a PostgreSQL server: HOTFIX_TEST_PG (`.ci/run` starts one)"]
fn a_deputy_login_approves_for_the_holder_and_remind_claims_as_its_login() {
    let s = server();
    let (db, admin_url, alice, bob) = team(&s, "deputy");
    let carol = s.member("dora");
    ok(&admin_url, &["user", "grant", &carol, "qa"]);
    let (bob_url, carol_url) = (s.url(&db, &bob), s.url(&db, &carol));
    // P2 approvals are due within a second here.
    let policy = ok(&admin_url, &["policy", "show", "--json"]);
    let mut policy: serde_json::Value = serde_json::from_str(&policy).unwrap();
    policy["approval_deadline"] = serde_json::json!({"P2": "1s"});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    ok(&admin_url, &["policy", "set", file.to_str().unwrap()]);
    ok(
        &bob_url,
        &[
            "incident",
            "new",
            "--title",
            "Cart empty",
            "--severity",
            "P2",
        ],
    );
    let qualify = "incident qualify INC-1 --decision hotfix --risk low --impact all --rationale r";
    ok(&bob_url, &qualify.split(' ').collect::<Vec<_>>());
    let new = "release new --incident INC-1 --version 1.0.1 --summary fix --changes c --risks r --rollback b";
    ok(&admin_url, &new.split(' ').collect::<Vec<_>>());
    ok(&bob_url, &["approve", "HF-1"]);
    std::thread::sleep(Duration::from_millis(1100));
    // The reminder goes to alice, claimed as bob's login, once.
    let hooks = common::hooks::Server::start(200, 202);
    for _ in 0..2 {
        let mut remind = hotfix(&bob_url);
        hooks.point(&mut remind);
        remind.arg("remind").assert().success();
    }
    let taken = hooks.taken();
    assert_eq!(taken.len(), 1, "{taken:?}");
    let text = taken[0].1["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Who can give it: {alice}.")),
        "{text}"
    );
    // alice lends dev-lead to carol; carol's approval is recorded as carol's, for alice.
    let until = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let alice_url = s.url(&db, &alice);
    ok(
        &alice_url,
        &[
            "user", "delegate", &alice, "--to", &carol, "--role", "dev-lead", "--until", &until,
        ],
    );
    let said = ok(&carol_url, &["approve", "HF-1"]);
    assert!(
        said.contains(&format!("approved by {carol} for {alice} as dev-lead")),
        "{said}"
    );
    let log = ok(&admin_url, &["log", "--json"]);
    let events: serde_json::Value = serde_json::from_str(&log).unwrap();
    let events = events.as_array().unwrap();
    let escalated = events
        .iter()
        .find(|e| e["type"] == "approval_escalated")
        .unwrap();
    assert_eq!(escalated["actor"], bob.as_str());
    let approved = events.last().unwrap();
    assert_eq!(approved["actor"], carol.as_str());
    assert_eq!(approved["on_behalf"], alice.as_str());
    ok(&admin_url, &["verify"]);
}
