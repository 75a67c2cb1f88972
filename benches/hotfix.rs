//! Benchmarks on a generated store of 10,000 incidents (about 100,000 events):
//! `cargo bench --bench hotfix`. Numbers go in the README's Performance section.

use chrono::{DateTime, Utc};
use hotfix::state::{Command, Severity};
use hotfix::store::{For, Location, Store};
use hotfix::tui::app::App;
use hotfix::tui::keymap::Keymap;
use hotfix::tui::theme::Theme;
use hotfix::tui::view::{self, Ctx};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;

fn main() {
    divan::main();
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
        .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc))
}

/// The big store, generated once per run (through the real state module).
static BIG: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store");
    hotfix::demo::generate(&path, "you", now(), 10_000).expect("generate");
    (dir, path)
});

fn big() -> &'static PathBuf {
    &BIG.1
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn load_and_fold_100k_events() -> Store {
    Store::open(&Location::parse(big()), For::Whole).expect("open")
}

/// What the cockpit does before its first frame: the snapshot, then only the events after it.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn open_from_snapshot_100k_events() -> Store {
    let store = Store::open(
        &Location::parse(big()),
        For::Cockpit {
            checkpoints: None,
            now: Utc::now(),
        },
    )
    .expect("open");
    assert!(store.snapshot_covers().is_some(), "the snapshot was used");
    store
}

/// What `hotfix verify` does for a user who audited the snapshot before: the snapshot, once
/// the whole chain up to it has been checked at hashing speed.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn verify_again_100k_events() -> Store {
    static REMEMBERED: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = For::Verify {
            remembered: Some(dir.path()),
        };
        Store::open(&Location::parse(big()), first).expect("the first verify");
        dir
    });
    let verify = For::Verify {
        remembered: Some(REMEMBERED.path()),
    };
    let store = Store::open(&Location::parse(big()), verify).expect("open");
    assert!(store.chain_only(), "the snapshot was used");
    store
}

#[divan::bench(sample_count = 200)]
fn decide_and_append_one_command_with_fsync(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::create(dir.path()).expect("create");
    store.execute("admin", now(), Command::Init).expect("init");
    bencher.bench_local(|| {
        let c = Command::ReportIncident {
            title: "bench".into(),
            severity: Severity::P3,
            services: vec![],
            impact: String::new(),
            public: String::new(),
            impact_since: None,
        };
        store.execute("quinn", now(), c).expect("append")
    });
}

/// The floor for an acknowledged append: lock, write one line of the same size, fdatasync.
#[divan::bench(sample_count = 200)]
fn bare_lock_write_fdatasync(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lock = std::fs::File::create(dir.path().join("lock")).expect("lock file");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("log"))
        .expect("log");
    let line = format!("{}\n", "x".repeat(330));
    bencher.bench_local(|| {
        lock.lock().expect("lock");
        log.write_all(line.as_bytes()).expect("write");
        log.sync_data().expect("sync");
        lock.unlock().expect("unlock");
    });
}

static MODEL: LazyLock<hotfix::state::Model> = LazyLock::new(|| {
    Store::open(&Location::parse(big()), For::Whole)
        .expect("open")
        .model
});

fn frame(app: &App, width: u16, height: u16) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|f| {
            view::render(
                f,
                app,
                &Ctx {
                    model: &MODEL,
                    now: now(),
                    theme: Theme::new(true),
                },
            )
        })
        .expect("draw");
}

const SIZES: &[(u16, u16)] = &[(80, 24), (200, 50)];
const PANES: &[char] = &['1', '2', '3', '4'];

#[divan::bench(args = SIZES, consts = [0, 1, 2, 3])]
fn render_frame_focused_on_pane<const P: usize>(bencher: divan::Bencher, size: (u16, u16)) {
    let mut app = App::new("you", "/bench", Keymap::default_map());
    app.on_key(KeyEvent::from(KeyCode::Char(PANES[P])), &MODEL, now());
    app.sync(&MODEL);
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("terminal");
    bencher.bench_local(|| {
        terminal
            .draw(|f| {
                view::render(
                    f,
                    &app,
                    &Ctx {
                        model: &MODEL,
                        now: now(),
                        theme: Theme::new(true),
                    },
                )
            })
            .expect("draw");
    });
}

/// A key press and the frame after it, as the event loop does them.
fn key_then_frame(app: &mut App, key: KeyEvent) {
    app.on_key(key, &MODEL, now());
    app.sync(&MODEL);
    frame(app, 200, 50);
}

#[divan::bench]
fn key_to_frame_move_selection(bencher: divan::Bencher) {
    let mut app = App::new("you", "/bench", Keymap::default_map());
    app.sync(&MODEL);
    bencher.bench_local(|| key_then_frame(&mut app, KeyEvent::from(KeyCode::Char('j'))));
}

#[divan::bench]
fn key_to_frame_switch_pane(bencher: divan::Bencher) {
    let mut app = App::new("you", "/bench", Keymap::default_map());
    app.sync(&MODEL);
    bencher.bench_local(|| key_then_frame(&mut app, KeyEvent::from(KeyCode::Tab)));
}

#[divan::bench]
fn key_to_frame_filter_keystroke(bencher: divan::Bencher) {
    let mut app = App::new("you", "/bench", Keymap::default_map());
    app.sync(&MODEL);
    app.on_key(KeyEvent::from(KeyCode::Char('/')), &MODEL, now());
    let mut i = 0usize;
    bencher.bench_local(|| {
        // Type and erase, so the filter keeps changing: "p", "pa", "p", "pa", ...
        let key = if i.is_multiple_of(2) {
            KeyEvent::from(KeyCode::Char('a'))
        } else {
            KeyEvent::from(KeyCode::Backspace)
        };
        i += 1;
        key_then_frame(&mut app, key);
    });
}

/// A JUnit report of `n` test cases, as a large suite writes it.
fn junit(n: usize) -> String {
    let mut xml =
        format!("<?xml version=\"1.0\"?><testsuites><testsuite name=\"s\" tests=\"{n}\">\n");
    for i in 0..n {
        xml.push_str(&format!(
            "<testcase classname=\"mod{}\" name=\"test_{i}\" time=\"0.01\"/>\n",
            i % 100
        ));
    }
    xml.push_str("</testsuite></testsuites>\n");
    xml
}

/// Importing 100,000 test cases into a release: parse the XML, decide, and fold the events,
/// all in memory (the append is one write; see `decide_and_append_one_command_with_fsync`).
/// The budget is under a second; it was quadratic (80,000 cases took 35 s).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn import_100k_junit_cases(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    hotfix::demo::write(dir.path(), "you", now()).expect("demo");
    let model = Store::open(&Location::parse(dir.path()), For::Whole)
        .expect("open")
        .model;
    let xml = junit(100_000);
    let id = hotfix::state::ReleaseId::Hotfix(3);
    bencher.bench_local(|| {
        let parsed = hotfix::import::junit::parse(&xml, "bench.xml").expect("parse");
        let results = hotfix::import::junit::merge(vec![parsed]).results;
        let events = hotfix::state::decide(
            &model,
            "quinn",
            now(),
            Command::ImportTestResults { id, results },
        )
        .expect("decide");
        let mut m = model.clone();
        for (i, event) in events.into_iter().enumerate() {
            let r = hotfix::state::Recorded {
                seq: m.seq + 1 + i as u64,
                at: now(),
                actor: "quinn".into(),
                event,
            };
            hotfix::state::apply(&mut m, &r);
        }
        m
    });
}
