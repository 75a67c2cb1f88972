use super::*;
use crate::tui::keymap::{Key, Keymap, Mode};

fn press(form: &mut Form, code: KeyCode) -> FormInput {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    let action = Key::of(key).and_then(|k| Keymap::default_map().action(Mode::Dialog, &k));
    form.on_key(key, action)
}

fn typed(form: &mut Form, text: &str) {
    for c in text.chars() {
        press(form, KeyCode::Char(c));
    }
}

fn shown() -> Review {
    Review {
        seen: Seen {
            revision: 1,
            fingerprint: Some("abc".into()),
        },
        scope: Scope::default(),
        since_mine: None,
        moved: None,
        scroll: 0,
    }
}

#[test]
fn a_new_incident_form_builds_the_command() {
    let mut form = Form::new_incident();
    typed(&mut form, "DB down");
    press(&mut form, KeyCode::Tab);
    press(&mut form, KeyCode::Left); // P2 -> P1
    press(&mut form, KeyCode::Enter);
    typed(&mut form, "db, api");
    assert_eq!(
        form.submit(),
        Ok(Submit::Command(Command::ReportIncident {
            title: "DB down".into(),
            severity: Severity::P1,
            services: vec!["db".into(), "api".into()],
            impact: String::new(),
            public: String::new(),
            impact_since: None,
        }))
    );
    press(&mut form, KeyCode::Enter);
    // Enter in the last field reaches the confirm step; only the next one submits.
    assert_eq!(press(&mut form, KeyCode::Enter), FormInput::Moved);
    assert!(form.on_button());
    assert_eq!(press(&mut form, KeyCode::Enter), FormInput::Submit);
}

#[test]
fn letters_typed_into_a_dialog_are_text_never_shortcuts() {
    let roles = ["prod-owner".to_string()];
    let mut form = Form::decide(ReleaseId::Hotfix(1), Vote::Approve, &roles, shown());
    assert_eq!(form.focus, 1, "the focus starts in the comment");
    typed(&mut form, "yes fine");
    let Ok(Submit::Command(Command::Decide {
        vote: Vote::Approve,
        text: comment,
        seen,
        ..
    })) = form.submit()
    else {
        panic!("an approval");
    };
    assert_eq!(comment, "yes fine");
    assert_eq!(seen.map(|s| s.revision), Some(1));
    // y and n act only on the confirm step.
    press(&mut form, KeyCode::Enter);
    assert!(form.on_button());
    assert_eq!(press(&mut form, KeyCode::Char('n')), FormInput::Cancel);
    assert_eq!(press(&mut form, KeyCode::Char('y')), FormInput::Submit);
}

#[test]
fn a_scope_that_moved_needs_a_review_step_before_confirming() {
    let mut s = shown();
    s.moved = Some((2, vec!["changes".into()]));
    let form = Form::decide(ReleaseId::Hotfix(1), Vote::Approve, &["qa".into()], s);
    assert_eq!(form.submit(), Ok(Submit::AcceptRevision));
    assert_eq!(form.button(), "Review revision 2 instead");
}

#[test]
fn input_edits_with_a_cursor() {
    let mut i = Input::new("héllo");
    i.edit(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
    i.edit(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    i.edit(KeyEvent::new(KeyCode::Char('L'), KeyModifiers::NONE));
    assert_eq!(i.text, "hélLo");
    i.edit(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    assert_eq!(i.text, "");
}

#[test]
fn bad_planned_times_are_explained() {
    let mut form = Form::plan_release("");
    press(&mut form, KeyCode::Tab);
    press(&mut form, KeyCode::Tab);
    typed(&mut form, "tomorrow");
    assert!(form.submit().unwrap_err().contains("RFC 3339"));
}

#[test]
fn files_are_named_on_submit_not_read() {
    let mut form = Form::import_tests(ReleaseId::Hotfix(2));
    typed(&mut form, "a.xml, b.xml");
    assert_eq!(
        form.submit(),
        Ok(Submit::Load(Load::TestResults(
            ReleaseId::Hotfix(2),
            vec!["a.xml".into(), "b.xml".into()]
        )))
    );
}
