//! The cockpit drawn into ratatui's TestBackend from a fixed model and clock: snapshots of each
//! pane, the help overlay and the main dialogs; the colours that carry meaning; and the app
//! driven by keys through the real store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use hotfix::state::{Model, ReleaseId};
use hotfix::store::Store;
use hotfix::tui::app::Effect;
use hotfix::tui::app::{App, Overlay};
use hotfix::tui::form::Shown;
use hotfix::tui::keymap::Keymap;
use hotfix::tui::theme::Theme;
use hotfix::tui::view::{self, Ctx};
use hotfix::tui::{Session, perform};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

use common::{demo, noon as now};

fn app_for(user: &str) -> App {
    App::new(user, "/srv/hotfix", Keymap::default_map())
}

fn draw(app: &App, model: &Model, width: u16, height: u16, color: bool) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            view::render(
                f,
                app,
                &Ctx {
                    model,
                    now: now(),
                    theme: Theme::new(color),
                },
            )
        })
        .unwrap();
    terminal
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// Presses keys like the event loop does: effects are carried out by the same `perform`.
fn press(app: &mut App, store: &mut Store, keys: &[KeyEvent]) {
    for k in keys {
        let effect = app.on_key(*k, &store.model, now());
        perform(effect, app, &mut Session::new(store));
    }
}

/// Types `text` as keys, one character at a time.
fn type_text(app: &mut App, store: &mut Store, text: &str) {
    for c in text.chars() {
        press(app, store, &[key(c)]);
    }
}

/// The demo cockpit at 80x24 as `user`, after `keys`.
fn after_keys(user: &str, keys: &[KeyEvent]) -> Terminal<TestBackend> {
    let (_d, mut store) = demo();
    let mut app = app_for(user);
    press(&mut app, &mut store, keys);
    draw(&app, &store.model, 80, 24, true)
}

/// The first cell at which `text` starts on screen.
fn find(buffer: &Buffer, text: &str) -> (u16, u16) {
    let area = buffer.area;
    for y in 0..area.height {
        let row: String = (0..area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        if let Some(byte) = row.find(text) {
            let x = row[..byte].chars().count() as u16;
            return (x, y);
        }
    }
    panic!("{text:?} is not on screen:\n{}", buffer_text(buffer));
}

fn buffer_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn main_screen_at_80x24() {
    let (_d, store) = demo();
    let t = draw(&app_for("you"), &store.model, 80, 24, true);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn main_screen_at_140x40() {
    let (_d, store) = demo();
    let t = draw(&app_for("you"), &store.model, 140, 40, true);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn release_focus_shows_the_regular_release_held_back() {
    let (_d, mut store) = demo();
    let mut app = app_for("you");
    press(&mut app, &mut store, &[key('4'), key('j'), key('j')]);
    let t = draw(&app, &store.model, 120, 30, true);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn help_overlay() {
    let (_d, store) = demo();
    let mut app = app_for("you");
    app.overlay = Overlay::Help { scroll: 0 };
    let t = draw(&app, &store.model, 120, 40, true);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn details_of_the_hotfix_awaiting_approval() {
    let (_d, mut store) = demo();
    let mut app = app_for("you");
    press(&mut app, &mut store, &[key('2'), code(KeyCode::Enter)]);
    let t = draw(&app, &store.model, 100, 50, true);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn approve_dialog_shows_what_will_be_recorded() {
    insta::assert_snapshot!(after_keys("priya", &[key('a')]).backend());
}

#[test]
fn qualify_form_validates_inline() {
    // INC-7 (the fresh SSO P1) is second in the queue.
    insta::assert_snapshot!(after_keys("you", &[key('j'), key('Q')]).backend());
}

#[test]
fn too_small_says_so_and_no_size_panics() {
    let (_d, store) = demo();
    let app = app_for("you");
    let t = draw(&app, &store.model, 40, 10, true);
    insta::assert_snapshot!(t.backend());
    for (w, h) in [
        (1, 1),
        (2, 1),
        (1, 0),
        (0, 0),
        (59, 16),
        (60, 15),
        (60, 16),
        (300, 100),
    ] {
        draw(&app, &store.model, w, h, true);
    }
    let mut with_overlays = app_for("you");
    for overlay in [
        Overlay::Help { scroll: 500 },
        Overlay::Form(Box::new(hotfix::tui::form::Form::new_incident())),
    ] {
        with_overlays.overlay = overlay;
        for (w, h) in [(60, 16), (61, 17), (200, 16)] {
            draw(&with_overlays, &store.model, w, h, true);
        }
    }
}

#[test]
fn colours_carry_severity_gate_and_breached_timers() {
    let (_d, store) = demo();
    let t = draw(&app_for("you"), &store.model, 140, 40, true);
    let b = t.backend().buffer();
    let (x, y) = find(b, "INC-6");
    let p1 = b[(x + 6, y)].clone();
    assert_eq!(p1.symbol(), "P");
    assert_eq!(p1.fg, Color::Red);
    let (x, y) = find(b, "-6h00m");
    assert_eq!(b[(x, y)].fg, Color::Red, "a breached timer is red");
    let (x, y) = find(b, "50m");
    assert_eq!(
        b[(x, y)].fg,
        hotfix::tui::theme::AMBER,
        "the last quarter of a target is amber"
    );
    let (x, y) = find(b, "BLOCKED");
    assert_eq!(b[(x, y)].fg, Color::Red);
    let (x, y) = find(b, "INC-2 P4");
    assert_eq!(b[(x + 6, y)].fg, Color::DarkGray, "P4 is dim");
}

#[test]
fn without_colour_the_selection_and_gate_stay_visible() {
    let (_d, store) = demo();
    let t = draw(&app_for("you"), &store.model, 140, 40, false);
    let b = t.backend().buffer();
    let (x, y) = find(b, "INC-6");
    assert!(
        b[(x, y)].modifier.contains(Modifier::REVERSED),
        "the selected row is reversed"
    );
    assert_eq!(b[(x + 7, y)].fg, Color::Reset, "no colour at all");
    let (x, y) = find(b, "BLOCKED");
    assert!(b[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn approving_through_keys_ticks_the_checklist_and_records_the_event() {
    let (_d, mut store) = demo();
    let mut app = app_for("priya");
    // The dialog opens in its comment; Enter moves on to the confirm step, and only the
    // Enter there records.
    press(&mut app, &mut store, &[key('a'), code(KeyCode::Enter)]);
    assert_eq!(
        store
            .model
            .release(ReleaseId::Hotfix(3))
            .unwrap()
            .approvals
            .len(),
        2
    );
    press(&mut app, &mut store, &[code(KeyCode::Enter)]);
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    let last = hf3.approvals.last().unwrap();
    assert_eq!(
        (last.role.as_str(), last.approver.as_str()),
        ("prod-owner", "priya")
    );
    assert!(matches!(app.overlay, Overlay::None));
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("HF-3 revision 2 approved by priya as prod-owner")
    );
    // The reopened store agrees: the event is on disk.
    let reopened = common::open(store.directory().unwrap()).unwrap();
    assert_eq!(reopened.model, store.model);
}

#[test]
fn an_action_the_user_cannot_take_says_why_instead_of_opening_a_form() {
    let (_d, mut store) = demo();
    let mut app = app_for("quinn"); // qa only: cannot qualify
    let before = store.model.seq;
    press(&mut app, &mut store, &[key('j'), key('Q')]);
    assert!(matches!(app.overlay, Overlay::None));
    let status = app.status.as_ref().unwrap();
    assert!(
        status.error && status.text.contains("only the sre-avp role"),
        "{status:?}"
    );
    // What is typed next was meant for the dialog that never opened: it reaches nothing (`n`
    // would open a new incident, `r` resolve one), and the refusal stays on screen.
    press(&mut app, &mut store, &[key('n'), key('r'), key('x')]);
    assert!(matches!(app.overlay, Overlay::None));
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("Esc or Enter to go on")
    );
    // Esc goes on; the next refusal says why too.
    press(&mut app, &mut store, &[code(KeyCode::Esc), key('U')]);
    assert!(matches!(app.overlay, Overlay::None));
    assert!(app.status.as_ref().unwrap().text.contains("only an admin"));
    press(&mut app, &mut store, &[code(KeyCode::Enter), key('n')]);
    assert!(
        matches!(app.overlay, Overlay::Form(_)),
        "keys work again after Enter"
    );
    assert_eq!(store.model.seq, before, "nothing recorded");
}

#[test]
fn a_refusal_keeps_the_form_and_what_was_typed() {
    let (_d, mut store) = demo();
    let mut app = app_for("you"); // the SRE AVP of the demo
    press(&mut app, &mut store, &[key('j'), key('Q')]);
    let before = store.model.seq;
    // To the impact field: letters typed there are text, even `y`, `n` and `e`.
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Tab), code(KeyCode::Tab)],
    );
    type_text(&mut app, &mut store, "yes, every SSO user");
    // On through the empty rationale and public text to the confirm step, and confirm: refused.
    press(
        &mut app,
        &mut store,
        &[
            code(KeyCode::Enter),
            code(KeyCode::Enter),
            code(KeyCode::Enter),
            code(KeyCode::Enter),
        ],
    );
    let Overlay::Form(form) = &app.overlay else {
        panic!("the form closed on a refusal")
    };
    assert!(
        form.preview.as_ref().unwrap_err().contains("rationale"),
        "{:?}",
        form.preview
    );
    let impact = form.fields()[2].shown();
    assert!(matches!(impact, Shown::Text(i) if i.text == "yes, every SSO user"));
    assert_eq!(store.model.seq, before, "nothing recorded");
    assert!(app.status.as_ref().unwrap().error);
    // The focus is back on the fields: an `n` typed now is text, not "cancel".
    assert!(!form.on_button());
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Tab), code(KeyCode::Tab), key('n')],
    );
    assert!(matches!(app.overlay, Overlay::Form(_)), "n did not cancel");
}

#[test]
fn keys_move_focus_filter_and_cycle_tests() {
    let (_d, mut store) = demo();
    let mut app = app_for("quinn");
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Tab), code(KeyCode::Tab)],
    );
    assert_eq!(app.focus, hotfix::tui::Pane::Tests);
    press(&mut app, &mut store, &[code(KeyCode::BackTab)]);
    assert_eq!(app.focus, hotfix::tui::Pane::Approvals);
    press(&mut app, &mut store, &[key('1'), key('/')]);
    type_text(&mut app, &mut store, "sso");
    press(&mut app, &mut store, &[code(KeyCode::Enter)]);
    assert_eq!(app.queue(&store.model).len(), 1);
    press(&mut app, &mut store, &[code(KeyCode::Esc)]);
    assert_eq!(app.queue(&store.model).len(), 6);
    // Space opens the status picker on the next status (running -> passed); nothing is
    // recorded until its confirm step.
    let before = store.model.seq;
    press(&mut app, &mut store, &[key('3'), key('g'), key(' ')]);
    assert!(matches!(app.overlay, Overlay::Form(_)));
    press(
        &mut app,
        &mut store,
        &[key(' '), key(' '), key(' '), key(' '), key(' ')],
    );
    assert_eq!(
        store.model.seq, before,
        "five presses of Space in the picker record nothing"
    );
    press(
        &mut app,
        &mut store,
        &[
            code(KeyCode::Enter),
            code(KeyCode::Enter),
            code(KeyCode::Enter),
        ],
    );
    let test = &store.model.release(ReleaseId::Hotfix(3)).unwrap().tests[1];
    assert_eq!(
        (test.name.as_str(), test.status.as_str()),
        ("payments::token_refresh_under_load", "passed")
    );
    press(&mut app, &mut store, &[key('G')]);
    assert_eq!(
        app.selected_test(&store.model).unwrap().name,
        "docs::status_page_copy"
    );
}

#[test]
fn stored_escape_sequences_are_drawn_escaped() {
    let (_d, mut store) = demo();
    let title = "evil \u{1b}]52;c;AAAA\u{7} title";
    store
        .execute(
            "you",
            now(),
            hotfix::state::Command::ReportIncident {
                title: title.into(),
                severity: hotfix::state::Severity::P1,
                services: vec![],
                impact: String::new(),
                public: String::new(),
                impact_since: None,
            },
        )
        .unwrap();
    let t = draw(&app_for("you"), &store.model, 200, 40, true);
    let text = buffer_text(t.backend().buffer());
    assert!(text.contains("evil \\x1b]52;c;AAAA\\x07 title"), "{text}");
}

#[test]
fn acting_as_another_user_works_only_in_demo_stores() {
    let (_d, mut store) = demo();
    let mut app = app_for("you");
    press(
        &mut app,
        &mut store,
        &[
            key('u'),
            key('d'),
            code(KeyCode::Enter),
            code(KeyCode::Enter),
        ],
    );
    assert_eq!(app.user, "dana");
    let dir = tempfile::tempdir().unwrap();
    let mut real = Store::create(dir.path()).unwrap();
    real.execute("ops", now(), hotfix::state::Command::Init)
        .unwrap();
    let mut app = app_for("ops");
    press(&mut app, &mut real, &[key('u')]);
    assert_eq!(app.user, "ops");
    assert!(matches!(app.overlay, Overlay::None));
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("only possible in a demo store")
    );
}

#[test]
fn the_report_preview_shows_the_record_and_w_asks_to_write_it() {
    let (_d, store) = demo();
    let mut app = app_for("you");
    assert_eq!(app.on_key(key('R'), &store.model, now()), Effect::None);
    let t = draw(&app, &store.model, 100, 40, true);
    insta::assert_snapshot!(t.backend());
    assert_eq!(
        app.on_key(key('w'), &store.model, now()),
        Effect::WriteReport {
            id: ReleaseId::Hotfix(3),
            path: "HF-3-report.md".into()
        }
    );
}

#[test]
fn the_notice_form_offers_the_next_stage_and_hands_the_send_to_the_shell() {
    let (_d, mut store) = demo();
    let mut app = app_for("dana");
    // HF-2 (deployed) is the hotfix of INC-5, third in the queue.
    press(&mut app, &mut store, &[key('j'), key('j'), key('j')]);
    assert_eq!(
        app.current_release(&store.model).unwrap().id,
        ReleaseId::Hotfix(2)
    );
    app.webhooks = hotfix::notify::Webhooks {
        ops: true,
        users: false,
    };
    app.on_key(key('N'), &store.model, now());
    let Overlay::Form(form) = &app.overlay else {
        panic!("no form")
    };
    assert!(matches!(form.fields()[0].shown(), Shown::Pick(s, _) if s == "deployed"));
    app.on_key(code(KeyCode::Enter), &store.model, now());
    app.on_key(code(KeyCode::Enter), &store.model, now());
    let effect = app.on_key(code(KeyCode::Enter), &store.model, now());
    assert_eq!(
        effect,
        Effect::Notify {
            id: ReleaseId::Hotfix(2).into(),
            stage: hotfix::state::Stage::Deployed,
            audience: hotfix::state::Audience::Ops
        }
    );
}

#[test]
fn long_ids_and_ages_of_a_large_old_store_are_shown_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    hotfix::demo::generate(&path, "you", now(), 2_500).unwrap();
    let mut store = common::open(&path).unwrap();
    // Incidents left open for months, with four-digit ids (the view is what is tested: the
    // model is changed in memory only).
    for n in 1000..1015 {
        if let Some(i) = store.model.incidents.get_mut(&hotfix::state::IncidentId(n)) {
            i.status = hotfix::state::IncidentStatus::Qualified;
        }
    }
    let mut app = app_for("you");
    app.sync(&store.model);
    let text = buffer_text(draw(&app, &store.model, 140, 40, false).backend().buffer());
    let shown: Vec<_> = app
        .queue_ids(&store.model)
        .iter()
        .take(15)
        .map(|id| &store.model.incidents[id])
        .collect();
    let ages: Vec<String> = shown
        .iter()
        .map(|i| hotfix::present::span(now() - i.reported_at))
        .collect();
    assert!(ages.iter().any(|a| a.len() > 6), "old incidents: {ages:?}");
    for (i, age) in shown.iter().zip(&ages) {
        assert!(
            text.contains(&format!("{} ", i.id)) && text.contains(&format!("{age} ")),
            "{} and its age {age} in full:\n{text}",
            i.id
        );
    }
    let newest = store.model.releases.keys().next_back().unwrap().to_string();
    assert!(
        text.contains(&format!("{newest} ")),
        "{newest} in full:\n{text}"
    );
}

#[test]
fn help_at_80x24_scrolls_and_lists_every_key_uncut() {
    let (_d, store) = demo();
    let mut app = app_for("you");
    app.overlay = Overlay::Help { scroll: 0 };
    let t = draw(&app, &store.model, 80, 24, true);
    insta::assert_snapshot!("help_80x24_top", t.backend());
    let first = buffer_text(t.backend().buffer());
    // Scroll to the end: the last line is there, and pressing on scrolls no further.
    let mut text = String::new();
    for _ in 0..3 {
        app.on_key(code(KeyCode::End), &store.model, now());
        let t = draw(&app, &store.model, 80, 24, true);
        text = buffer_text(t.backend().buffer());
    }
    let Overlay::Help { scroll } = app.overlay else {
        panic!("help closed")
    };
    assert_eq!(scroll, app.scroll_limit.get().max, "never past the end");
    assert!(text.contains("Ctrl-U clears"), "{text}");
    app.on_key(key('j'), &store.model, now());
    assert!(matches!(app.overlay, Overlay::Help { scroll: s } if s == scroll));
    // Every binding of every mode shows somewhere in the help, whole.
    let mut all = first.clone();
    for _ in 0..20 {
        app.on_key(code(KeyCode::PageUp), &store.model, now());
    }
    let mut last_seen = String::new();
    for _ in 0..20 {
        let t = draw(&app, &store.model, 80, 24, true);
        let page = buffer_text(t.backend().buffer());
        if page == last_seen {
            break;
        }
        all.push_str(&page);
        last_seen = page;
        app.on_key(code(KeyCode::PageDown), &store.model, now());
    }
    for label in [
        "down",
        "up",
        "first",
        "last",
        "quit",
        "help",
        "approve",
        "set status",
        "next field",
        "next / confirm",
        "write the report",
        "page down",
    ] {
        assert!(all.contains(label), "help lacks {label:?}");
    }
    for key in ["j/↓", "k/↑", "g/Home", "G/End", "Ctrl-C", "PgDn"] {
        assert!(all.contains(key), "help lacks the key {key:?}");
    }
}

#[test]
fn the_footer_at_80_columns_drops_hints_whole() {
    let (_d, mut store) = demo();
    let mut app = app_for("you");
    for pane in ['1', '2', '3', '4'] {
        press(&mut app, &mut store, &[key(pane)]);
        let hints = hotfix::tui::view::hints(&app, 80);
        let line: String = hints
            .iter()
            .map(|(k, l)| format!("{k} {l}"))
            .collect::<Vec<_>>()
            .join("  ");
        assert!(line.chars().count() <= 80, "{line}");
        assert!(
            hints.iter().any(|(_, l)| *l == "help"),
            "help stays: {line}"
        );
        let t = draw(&app, &store.model, 80, 24, true);
        let footer = buffer_text(t.backend().buffer())
            .lines()
            .nth(22)
            .unwrap()
            .to_string();
        for (k, l) in &hints {
            assert!(
                footer.contains(&format!("{k} {l}")),
                "{footer:?} cuts {l:?}"
            );
        }
    }
}

#[test]
fn text_typed_into_each_dialog_lands_in_its_field() {
    let (_d, mut store) = demo();
    let before = store.model.seq;
    // (user, keys to open the dialog, Tabs to the first text field)
    let dialogs: [(&str, &[KeyEvent], usize); 6] = [
        ("you", &[key('n')], 0),
        ("you", &[key('j'), key('Q')], 2),
        ("priya", &[key('a')], 0),
        ("priya", &[key('x')], 0),
        ("quinn", &[key('3'), key('t')], 0),
        ("quinn", &[key('3'), key(' ')], 1),
    ];
    for (user, open, tabs) in dialogs {
        let mut app = app_for(user);
        press(&mut app, &mut store, open);
        assert!(
            matches!(app.overlay, Overlay::Form(_)),
            "{open:?} opened no dialog"
        );
        for _ in 0..tabs {
            press(&mut app, &mut store, &[code(KeyCode::Tab)]);
        }
        let field = match &app.overlay {
            Overlay::Form(form) => form.focus,
            _ => unreachable!(),
        };
        type_text(&mut app, &mut store, "yes, edit now");
        let Overlay::Form(form) = &app.overlay else {
            panic!("typing closed the dialog opened by {open:?}")
        };
        let typed = form.fields()[field].shown();
        assert!(
            matches!(typed, Shown::Text(i) if i.text.ends_with("yes, edit now")),
            "{open:?}"
        );
        assert_eq!(store.model.seq, before, "typing recorded nothing");
    }
    let mut app = app_for("priya");
    press(&mut app, &mut store, &[key('a')]);
    type_text(&mut app, &mut store, "yne");
    let t = draw(&app, &store.model, 80, 24, true);
    insta::assert_snapshot!("approve_dialog_with_yne_typed", t.backend());
}

#[test]
fn space_on_a_test_opens_the_status_picker() {
    insta::assert_snapshot!(after_keys("quinn", &[key('3'), key(' ')]).backend());
}

#[test]
fn a_click_focuses_the_pane_and_selects_the_row_the_wheel_scrolls_under_the_pointer() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    use ratatui::layout::Rect;
    let (_d, store) = demo();
    let mut app = app_for("you");
    let area = Rect::new(0, 0, 120, 40);
    let releases = view::layout(area).releases;
    let mouse = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // The third row of the release queue (under its border and header).
    let click = mouse(
        MouseEventKind::Down(MouseButton::Left),
        releases.x + 3,
        releases.y + 4,
    );
    app.on_mouse(click, area, &store.model);
    assert_eq!(app.focus, hotfix::tui::Pane::Releases);
    let third = app.release_ids(&store.model)[2];
    assert_eq!(app.current_release(&store.model).unwrap().id, third);
    // The wheel over the queue moves its selection, leaving the focus where it was.
    let queue = view::layout(area).queue;
    let first = app.queue_ids(&store.model)[0];
    app.on_mouse(
        mouse(MouseEventKind::ScrollDown, queue.x + 2, queue.y + 3),
        area,
        &store.model,
    );
    assert_eq!(app.focus, hotfix::tui::Pane::Releases);
    assert_ne!(app.selected_incident, Some(first));
    assert_eq!(app.selected_incident, Some(app.queue_ids(&store.model)[1]));
}

#[test]
fn a_hotfix_closed_from_the_incident_queue_stays_selected() {
    let (_d, mut store) = demo();
    let mut app = app_for("dana");
    // HF-2 (deployed) is the hotfix of INC-5, third in the queue.
    press(&mut app, &mut store, &[key('j'), key('j'), key('j')]);
    assert_eq!(
        app.current_release(&store.model).unwrap().id,
        ReleaseId::Hotfix(2)
    );
    // Verify (note, then the confirm step), then close (a confirm step only).
    press(&mut app, &mut store, &[key('v')]);
    type_text(&mut app, &mut store, "p99 back under 300 ms");
    press(
        &mut app,
        &mut store,
        &[
            code(KeyCode::Enter),
            code(KeyCode::Enter),
            key('c'),
            code(KeyCode::Enter),
        ],
    );
    let hf2 = store.model.release(ReleaseId::Hotfix(2)).unwrap();
    assert_eq!(hf2.phase, hotfix::state::Phase::Closed, "{:?}", app.status);
    // INC-5 resolved and left the queue; the closed hotfix is still the one on screen.
    assert_eq!(
        app.current_release(&store.model).unwrap().id,
        ReleaseId::Hotfix(2)
    );
    let verified = hf2.milestone(hotfix::state::Phase::Verified).unwrap();
    assert_eq!(verified.reason.as_deref(), Some("p99 back under 300 ms"));
}

/// The text of row `y` between columns `from` and `to`.
fn text_at(buffer: &Buffer, y: u16, from: u16, to: u16) -> String {
    (from..to).map(|x| buffer[(x, y)].symbol()).collect()
}

#[test]
fn at_the_minimum_size_every_column_shows_some_text_and_cuts_end_with_an_ellipsis() {
    let (_d, store) = demo();
    let t = draw(&app_for("you"), &store.model, 60, 16, false);
    insta::assert_snapshot!(t.backend());
    let b = t.backend().buffer();
    // Each list's header names every column (maybe cut), and a row shows text in every
    // column, its title or summary included, cut with `…`.
    for (first, headers, row) in [
        ("ID", &["ID", "S", "", "A", "T", "T"][..], "INC-6"),
        ("ID", &["ID", "S", "S", "V", "S"][..], "HF-3  P1"),
    ] {
        let (x, y) = find(b, row);
        let header = text_at(b, y - 1, x, x + 28);
        assert!(header.starts_with(first), "{header:?}");
        let words: Vec<&str> = header.split_whitespace().collect();
        let named: Vec<&&str> = headers.iter().filter(|h| !h.is_empty()).collect();
        assert_eq!(
            words.len(),
            named.len(),
            "every column has a header: {header:?}"
        );
        for (w, h) in words.iter().zip(named) {
            assert!(w.starts_with(*h), "{header:?}");
        }
        let cells = text_at(b, y, x, x + 28);
        assert!(
            cells.split_whitespace().count() >= headers.len() && cells.trim_end().ends_with('…'),
            "every column shows text, the last one cut: {cells:?}"
        );
    }
    // Test names cut by the pane end with `…` rather than stopping mid-word.
    let (x, y) = find(b, "payments::token");
    assert!(text_at(b, y, x, 59).trim_end().ends_with('…'));
}

#[test]
fn the_cockpit_shows_an_escape_sequence_as_text_never_raw() {
    let (_d, store) = demo();
    let mut app = app_for("you");
    app.tell("cannot read x\u{1b}]52;c;ZXZpbA==\u{7}", true);
    let t = draw(&app, &store.model, 100, 30, false);
    let b = t.backend().buffer();
    let (x, y) = find(b, "cannot read");
    let shown = text_at(b, y, x, x + 40);
    assert!(shown.contains("x\\x1b]52;c;ZXZpbA==\\x07"), "{shown:?}");
}

/// The demo generator's store of 300 incidents (three weeks to the fixed clock), with the
/// Insights view open on its last 90 days, the newest hotfix selected.
fn insights_on_the_demo() -> (tempfile::TempDir, Store, App) {
    use hotfix::state::insights;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    hotfix::demo::generate(&path, "you", now(), 300).unwrap();
    let store = common::open(&path).unwrap();
    let mut app = app_for("you");
    app.sync(&store.model);
    app.overlay = Overlay::Insights { selected: 0 };
    let filter = insights::Filter {
        since: Some(now() - chrono::Duration::days(90)),
        service: None,
    };
    let stats = insights::stats(
        &insights::facts(&store.model),
        &store.model.policy,
        &filter,
        now(),
    );
    app.set_insights(store.model.seq, stats);
    (dir, store, app)
}

#[test]
fn insights_at_80x24() {
    let (_dir, store, app) = insights_on_the_demo();
    insta::assert_snapshot!(buffer_text(
        draw(&app, &store.model, 80, 24, false).backend().buffer()
    ));
}

#[test]
fn insights_at_200x50() {
    let (_dir, store, app) = insights_on_the_demo();
    let terminal = draw(&app, &store.model, 200, 50, true);
    let buffer = terminal.backend().buffer();
    insta::assert_snapshot!(buffer_text(buffer));
    // A breach is red: the newest hotfix is the selected one, so look at the caption.
    let text = buffer_text(buffer);
    assert!(
        text.contains("P1 4h:") && text.contains("slowest step"),
        "{text}"
    );
}

#[test]
fn insights_key_opens_the_view_and_a_selected_hotfix_opens_and_returns() {
    let (_dir, mut store, mut app) = insights_on_the_demo();
    app.overlay = Overlay::None;
    app.insights = None;
    press(&mut app, &mut store, &[key('5')]);
    let Overlay::Insights { selected } = app.overlay else {
        panic!("5 opens the Insights view");
    };
    let ids: Vec<ReleaseId> = app
        .insights
        .as_ref()
        .expect("computed by the shell")
        .1
        .hotfixes
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(selected, ids.len() - 1, "the newest hotfix first");
    press(&mut app, &mut store, &[key('k')]);
    let id = ids[selected - 1];
    press(&mut app, &mut store, &[code(KeyCode::Enter)]);
    let Overlay::Details {
        target, ref trail, ..
    } = app.overlay
    else {
        panic!("Enter opens the selected hotfix");
    };
    assert_eq!(target, hotfix::tui::app::Target::Release(id));
    assert!(!trail.is_empty(), "with its audit trail");
    press(&mut app, &mut store, &[code(KeyCode::Esc)]);
    assert!(matches!(app.overlay, Overlay::Insights { selected: s } if s == selected - 1));
    press(&mut app, &mut store, &[code(KeyCode::Esc)]);
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn ctrl_c_quits_from_anywhere_whatever_keys_json_binds() {
    // Every way out rebound to something else.
    let map = Keymap::with_overrides(
        r#"{"global": {"ctrl-c": "help", "q": "help", "esc": "help"}, "dialog": {"ctrl-c": "back"}, "view": {"ctrl-c": "back"}}"#,
    )
    .unwrap();
    let (_dir, mut store) = demo();
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    // From the main screen, a view and a dialog.
    for opening in [vec![], vec![key('?')], vec![key('n')]] {
        let mut app = App::new("you", "/srv/hotfix", map.clone());
        press(&mut app, &mut store, &opening);
        assert_eq!(app.on_key(ctrl_c, &store.model, now()), Effect::Quit);
    }
}

#[test]
fn a_keys_json_that_is_a_device_or_a_pipe_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("keys.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, what) in [
        (fifo.as_path(), "named pipe"),
        (std::path::Path::new("/dev/zero"), "device"),
    ] {
        let (map, warning) = Keymap::load_from(path);
        let warning = warning.unwrap();
        assert!(warning.contains(what), "{warning}");
        let mode = hotfix::tui::keymap::Mode::Pane(hotfix::tui::Pane::Queue);
        assert_eq!(map.bindings(mode), Keymap::default_map().bindings(mode));
    }
}

#[test]
fn text_a_terminal_may_draw_at_another_width_is_shown_escaped() {
    let (_dir, mut store) = demo();
    store
        .execute(
            "you",
            now(),
            hotfix::state::Command::ReportIncident {
                title: "🇩🇪 checkout\u{2028}down\u{200b}".into(),
                severity: hotfix::state::Severity::P1,
                services: vec![],
                impact: String::new(),
                public: String::new(),
                impact_since: None,
            },
        )
        .unwrap();
    let app = app_for("you");
    let text = buffer_text(draw(&app, &store.model, 200, 50, false).backend().buffer());
    assert!(
        text.contains("\\u{1f1e9}\\u{1f1ea} checkout\\u{2028}down\\u{200b}"),
        "{text}"
    );
}

#[test]
fn a_line_the_rules_refused_is_named_in_the_header() {
    let (_dir, store) = demo();
    let mut model = store.model.clone();
    model.illegal.push(hotfix::state::Illegal {
        seq: 77,
        actor: "mallory".into(),
        kind: "release_deployed".into(),
        at: now(),
        reason: "HF-3 is awaiting-approval, not deploying".into(),
    });
    let app = app_for("you");
    let text = buffer_text(draw(&app, &model, 200, 50, false).backend().buffer());
    assert!(
        text.contains("1 REFUSED LINE (inert): #77 release_deployed by mallory"),
        "{text}"
    );
    // Still told what waits on them beside it.
    assert!(text.contains("Waiting on you"), "{text}");
}

#[test]
fn cut_text_fits_the_columns_it_is_given_whatever_its_width() {
    use unicode_width::UnicodeWidthStr;
    assert_eq!(view::cut("支付失败了", 5), "支付…");
    assert_eq!(view::cut("checkout", 5), "chec…");
    assert_eq!(view::cut("ok", 5), "ok");
    for s in ["支付失败了支付失败了", "a支b付c", "🇩🇪 flag", "x\u{200b}y"] {
        for w in 1..12 {
            assert!(view::cut(s, w).width() <= w, "{s:?} at {w}");
        }
    }
}

#[test]
fn the_status_pickers_letters_are_its_statuses_own_and_p_records_passed() {
    let (_d, mut store) = demo();
    let mut app = app_for("quinn");
    press(&mut app, &mut store, &[key('3'), key(' ')]);
    let picked = |app: &App| {
        let Overlay::Form(form) = &app.overlay else {
            panic!("the picker is open")
        };
        match form.fields().first().map(|f| f.shown()) {
            Some(Shown::Pick(value, _)) => value,
            _ => panic!("a picker first"),
        }
    };
    for (letter, status) in [
        ('f', "failed"),
        ('n', "pending"),
        ('p', "passed"),
        ('p', "passed"),
        ('s', "skipped"),
        ('r', "running"),
    ] {
        press(&mut app, &mut store, &[key(letter)]);
        assert_eq!(picked(&app), status, "{letter}");
    }
    press(&mut app, &mut store, &[key('p')]);
    let before = store.model.seq;
    press(
        &mut app,
        &mut store,
        &[
            code(KeyCode::Enter),
            code(KeyCode::Enter),
            code(KeyCode::Enter),
        ],
    );
    assert_eq!(store.model.seq, before + 1, "{:?}", app.status);
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert!(
        hf3.tests
            .iter()
            .any(|t| t.name == "payments::token_refresh_under_load"
                && t.status == hotfix::state::TestStatus::Passed)
    );
}

#[test]
fn a_resize_to_a_taller_screen_brings_every_approvals_row_back() {
    let (_d, mut store) = demo();
    let mut app = app_for("you");
    press(&mut app, &mut store, &[key('2')]);
    let _ = draw(&app, &store.model, 80, 24, false);
    for _ in 0..30 {
        press(&mut app, &mut store, &[key('j')]);
        let _ = draw(&app, &store.model, 80, 24, false);
    }
    let small = buffer_text(draw(&app, &store.model, 80, 24, false).backend().buffer());
    assert!(
        !small.contains("[x] sre-avp"),
        "scrolled at 80x24:\n{small}"
    );
    let big = buffer_text(draw(&app, &store.model, 200, 50, false).backend().buffer());
    assert!(big.contains("[x] sre-avp"), "{big}");
    // And one step up from the end moves at once, not after the hidden overshoot.
    let _ = draw(&app, &store.model, 80, 24, false);
    press(&mut app, &mut store, &[key('k')]);
    assert_eq!(app.approvals_scroll + 1, app.approvals_max.get());
}

#[test]
fn the_deploy_confirmation_says_what_it_goes_out_with() {
    use hotfix::state::{Priority, TestStatus};
    let mut w = common::World::new();
    let id = w.ready_p1();
    w.add_test(id, "ui::copy", Priority::Low);
    w.add_test(id, "api::retry", Priority::Medium);
    w.set_test(id, "api::retry", TestStatus::Failed);
    w.run(
        "dana",
        hotfix::state::Command::WaiveTest {
            id,
            name: "api::retry".into(),
            reason: "covered by smoke".into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = w.store(dir.path());
    let mut app = app_for("sam");
    press(&mut app, &mut store, &[key('4'), key('d')]);
    let Overlay::Form(form) = &app.overlay else {
        panic!("the deploy dialog opens: {:?}", app.status)
    };
    let preview = form.preview.clone().unwrap();
    assert!(
        preview.contains(&"deploys with medium test \"api::retry\" is failed, waived".to_string())
            && preview.contains(&"deploys with low test \"ui::copy\" is pending".to_string()),
        "{preview:?}"
    );
}

#[test]
fn a_test_import_shows_what_it_would_record_before_recording_it() {
    let (_d, mut store) = demo();
    let mut app = app_for("you");
    press(&mut app, &mut store, &[key('3'), key('I')]);
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/junit/pytest.xml"
    );
    type_text(&mut app, &mut store, file);
    let before = store.model.seq;
    // To the confirm step, and confirm: the files are read and previewed, nothing recorded.
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Enter), code(KeyCode::Enter)],
    );
    assert_eq!(store.model.seq, before, "nothing recorded yet");
    let Overlay::Form(form) = &app.overlay else {
        panic!("the dialog stays open: {:?}", app.status)
    };
    let preview = form.preview.clone().unwrap();
    assert!(
        preview.contains(&"medium: 5 new, 1 passed, 3 failed, 1 skipped".to_string())
            && preview.contains(&"gate afterwards: BLOCKED".to_string())
            && preview
                .iter()
                .any(|l| l.contains("test_payment_gateway_retry")),
        "{preview:?}"
    );
    // The confirm records it.
    press(&mut app, &mut store, &[code(KeyCode::Enter)]);
    assert_eq!(store.model.seq, before + 12, "{:?}", app.status);
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn the_approve_dialog_shows_the_whole_scope_and_scrolls_to_its_last_line() {
    let (_d, mut store) = demo();
    // priya approved revision 2; the author then rewrites the changes at length.
    store
        .execute(
            "priya",
            now(),
            hotfix::state::Command::Decide {
                id: ReleaseId::Hotfix(3),
                vote: hotfix::state::Vote::Approve,
                role: Some("prod-owner".into()),
                text: String::new(),
                seen: None,
                signature: None,
            },
        )
        .unwrap();
    let changes: String = (1..=14)
        .map(|i| format!("- item {i}: change number {i} of the payment adapter\n"))
        .collect();
    store
        .execute(
            "sam",
            now(),
            hotfix::state::Command::EditRelease {
                id: ReleaseId::Hotfix(3),
                edit: hotfix::state::ScopeEdit {
                    changes: Some(changes),
                    ..Default::default()
                },
            },
        )
        .unwrap();
    let mut app = app_for("priya");
    press(&mut app, &mut store, &[key('a')]);
    let screen = |app: &App, store: &Store| {
        buffer_text(draw(app, &store.model, 80, 24, false).backend().buffer())
    };
    let first = screen(&app, &store);
    assert!(first.contains("- item 1: change number 1"), "{first}");
    assert!(first.contains("scope lines 1-"), "{first}");
    assert!(!first.contains("item 14"), "{first}");
    // Every line can be read: PageDown reaches the last, whole, never cut with an ellipsis.
    for _ in 0..3 {
        press(&mut app, &mut store, &[code(KeyCode::PageDown)]);
    }
    let last = screen(&app, &store);
    assert!(
        last.contains("- item 14: change number 14 of the payment adapter"),
        "{last}"
    );
    // Changed since priya last approved: marked, and said.
    assert!(first.contains("changes*"), "{first}");
    assert!(last.contains("changed since (marked *): changes"), "{last}");
    // Nothing recorded by scrolling.
    assert!(matches!(app.overlay, Overlay::Form(_)));
}

#[test]
fn withdraw_and_remove_test_are_dialogs_with_a_confirm_step() {
    let (_d, mut store) = demo();
    // avery's sre-avp approval of HF-3, withdrawn from the approvals pane.
    let mut app = app_for("avery");
    press(&mut app, &mut store, &[key('2'), key('W')]);
    let Overlay::Form(_) = &app.overlay else {
        panic!("the withdraw dialog opens: {:?}", app.status)
    };
    let before = store.model.seq;
    type_text(&mut app, &mut store, "approved too early");
    // Through the reason and the role to the confirm step: nothing recorded until the confirm.
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Enter), code(KeyCode::Enter)],
    );
    assert_eq!(store.model.seq, before);
    press(&mut app, &mut store, &[code(KeyCode::Enter)]);
    assert_eq!(store.model.seq, before + 1, "{:?}", app.status);
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert_eq!(hf3.corrections[0].what, "withdrew the sre-avp approval");
    // Someone with no approval is told so instead of a dialog.
    let mut app = app_for("quinn");
    press(&mut app, &mut store, &[key('2'), key('W')]);
    assert!(matches!(app.overlay, Overlay::None));
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("no approval of HF-3")
    );
    // dana (a waiver role) removes the selected test, with a reason and the confirm step.
    let mut app = app_for("dana");
    press(&mut app, &mut store, &[key('3')]);
    let selected = app.selected_test(&store.model).unwrap().name.to_string();
    press(&mut app, &mut store, &[key('X')]);
    type_text(&mut app, &mut store, "not part of this fix");
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Enter), code(KeyCode::Enter)],
    );
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert!(
        hf3.tests.iter().all(|t| t.name != selected),
        "{:?}",
        app.status
    );
    assert_eq!(hf3.corrections.len(), 2);
}

#[test]
fn break_glass_and_delegation_are_dialogs_of_the_same_commands() {
    let (_d, mut store) = demo();
    // priya holds no qualifying role: the key says why and opens nothing.
    let mut app = app_for("priya");
    press(&mut app, &mut store, &[key('2'), key('B')]);
    assert!(matches!(app.overlay, Overlay::None));
    let said = &app.status.as_ref().unwrap().text;
    assert!(
        said.contains("only the sre-avp role may break the glass"),
        "{said}"
    );
    // you (sre-avp) break the glass on HF-3 with a reason.
    let mut app = app_for("you");
    press(&mut app, &mut store, &[key('2'), key('B')]);
    assert!(matches!(app.overlay, Overlay::Form(_)));
    type_text(&mut app, &mut store, "prod-owner unreachable");
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Enter), code(KeyCode::Enter)],
    );
    let hf3 = store.model.release(ReleaseId::Hotfix(3)).unwrap();
    assert_eq!(hf3.break_glass.len(), 1);
    assert_eq!(hf3.break_glass[0].reason, "prod-owner unreachable");
    // priya lends prod-owner (the role she holds, chosen for her) to quinn.
    let mut app = app_for("priya");
    press(&mut app, &mut store, &[key('L'), code(KeyCode::Tab)]);
    type_text(&mut app, &mut store, "quinn");
    // The prefilled end is 8 hours after the screen's clock; the store's is the real one.
    press(
        &mut app,
        &mut store,
        &[code(KeyCode::Tab), code(KeyCode::Tab)],
    );
    for _ in 0..16 {
        press(&mut app, &mut store, &[code(KeyCode::Backspace)]);
    }
    let until = chrono::Utc::now() + chrono::Duration::hours(2);
    type_text(
        &mut app,
        &mut store,
        &until.format("%Y-%m-%d %H:%M").to_string(),
    );
    for _ in 0..2 {
        press(&mut app, &mut store, &[code(KeyCode::Enter)]);
    }
    let said = &app.status.as_ref().unwrap().text;
    assert!(
        said.contains("quinn stands in for priya as prod-owner until"),
        "{said}"
    );
    assert_eq!(
        store
            .model
            .delegators("quinn", "prod-owner", chrono::Utc::now()),
        ["priya"]
    );
}
