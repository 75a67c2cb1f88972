//! JUnit XML as real producers write it (cargo-nextest, pytest, Maven Surefire, jest-junit,
//! go-junit-report, tst, ...): a `<testsuites>` or bare `<testsuite>` root, `<testcase>`s whose
//! children and attributes say how they ended.
//!
//! The rules, which the README states too:
//! - **Well-formed or nothing.** roxmltree checks well-formedness itself (undefined entities,
//!   duplicate attributes, a second root, a `<` in an attribute) and never expands external
//!   entities; a file that fails is refused whole with its line and column.
//! - **Identity**: `classname::name`, or `name` without a classname, both trimmed
//!   ([`test_identity`]). A case without one, or longer than [`MAX_TEST_NAME`], is counted and
//!   reported, never stored or cut.
//! - **Outcome**: `<failure>`/`<error>` failed; `<skipped>`, or a `status`/`result` attribute
//!   saying it did not run, skipped; otherwise passed, flaky when a `<flakyFailure>`,
//!   `<flakyError>`, `<rerunFailure>` or `<rerunError>` shows an earlier failed attempt.
//! - **Reruns**: the same identity twice in one `<testsuite>` is a rerun: the last run counts,
//!   flaky when an earlier one failed. In different suites (or files) it is not: any failure
//!   makes it failed, and the import says which suites disagreed.

use crate::state::TestStatus;
use crate::state::imports::{TestResult, test_identity};
use crate::state::text::MAX_TEST_NAME;
use std::collections::HashMap;

/// Words in a `status` or `result` attribute that mean the test did not run.
const NOT_RUN: &[&str] = &[
    "disabled",
    "notrun",
    "not run",
    "not_run",
    "notexecuted",
    "not executed",
    "skipped",
    "skip",
    "ignored",
    "suppressed",
];

/// One report read: each case with the suite it ran in, and what could not be imported.
#[derive(Debug, Default)]
pub struct Parsed {
    cases: Vec<(String, TestResult)>,
    unnamed: usize,
    too_long: Vec<String>,
}

/// Several reports merged into what one import records, and what to tell the user about it.
#[derive(Debug, Default)]
pub struct Merged {
    pub results: Vec<TestResult>,
    pub notes: Vec<String>,
}

/// Parses one JUnit report. `source` names the file in errors and in suite names.
pub fn parse(text: &str, source: &str) -> Result<Parsed, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "{source} is empty: no <testsuites> or <testsuite> element"
        ));
    }
    bounded(text, source)?;
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let at = e.pos();
        let what = e.to_string();
        let suffix = format!(" at {}:{}", at.row, at.col);
        format!(
            "{source} is not well-formed XML (line {}, column {}): {}; nothing was imported",
            at.row,
            at.col,
            what.strip_suffix(&suffix).unwrap_or(&what)
        )
    })?;
    let root = doc.root_element();
    let kind = root.tag_name().name();
    if kind != "testsuites" && kind != "testsuite" {
        return Err(format!(
            "{source} is not a JUnit report: its root element is <{kind}>, not <testsuites> or <testsuite>"
        ));
    }
    let mut parsed = Parsed::default();
    // Each suite's label, by node: told apart by file, name and position.
    let suites: HashMap<roxmltree::NodeId, String> = root
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .enumerate()
        .map(|(i, s)| {
            let name = s.attribute("name").unwrap_or("").trim();
            let label = if name.is_empty() {
                format!("{source} suite #{}", i + 1)
            } else {
                format!("{source} {name} (#{})", i + 1)
            };
            (s.id(), label)
        })
        .collect();
    let todo = jest_todos(root);
    for node in root.descendants().filter(|n| n.has_tag_name("testcase")) {
        let suite = node
            .ancestors()
            .find(|a| a.has_tag_name("testsuite"))
            .and_then(|s| suites.get(&s.id()).cloned())
            .unwrap_or_else(|| source.to_string());
        let class = node.attribute("classname").unwrap_or("");
        let name = node.attribute("name").unwrap_or("");
        let Some(id) = test_identity(class, name) else {
            parsed.unnamed += 1;
            continue;
        };
        if id.chars().count() > MAX_TEST_NAME {
            parsed.too_long.push(id);
            continue;
        }
        let mut result = outcome(node, id, name.trim());
        if todo.contains(&node.id()) {
            result.status = TestStatus::Skipped;
            result.message = "a todo test: not written yet, so not run".into();
        }
        parsed.cases.push((suite, result));
    }
    Ok(parsed)
}

/// jest-junit writes a `test.todo` as a bare `<testcase time="0">`, which reads as passed, and
/// leaves it out of its suite's `tests` count. Where a suite lists exactly that many more
/// cases than it counts, and exactly that many of them are bare with no time, those are the
/// todos (not run). Anything less certain is left as the file says.
fn jest_todos(root: roxmltree::Node) -> std::collections::HashSet<roxmltree::NodeId> {
    let mut todo = std::collections::HashSet::new();
    for suite in root.descendants().filter(|n| n.has_tag_name("testsuite")) {
        let Some(counted) = suite
            .attribute("tests")
            .and_then(|t| t.trim().parse::<usize>().ok())
        else {
            continue;
        };
        let cases: Vec<roxmltree::Node> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let Some(extra) = cases.len().checked_sub(counted).filter(|e| *e > 0) else {
            continue;
        };
        let bare: Vec<roxmltree::NodeId> = cases
            .iter()
            .filter(|c| {
                !c.children().any(|n| n.is_element())
                    && c.attribute("time")
                        .and_then(|t| t.trim().parse::<f64>().ok())
                        == Some(0.0)
            })
            .map(roxmltree::Node::id)
            .collect();
        if bare.len() == extra {
            todo.extend(bare);
        }
    }
    todo
}

/// The most attributes one element may have, and the deepest nesting: far beyond any real
/// report (a `<testcase>` has under ten), and what keeps parsing linear. roxmltree compares
/// each attribute with the ones before it, so a million on one element never finished.
const MAX_ATTRIBUTES: usize = 64;
const MAX_DEPTH: usize = 256;

/// Refuses, in one linear pass before the real parse, a document with an element of more than
/// [`MAX_ATTRIBUTES`] attributes or nested deeper than [`MAX_DEPTH`]. It only counts: anything
/// malformed it lets through is for roxmltree to name.
fn bounded(text: &str, source: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let (mut i, mut depth, mut line) = (0, 0usize, 1usize);
    let skip_to = |from: usize, end: &[u8]| {
        bytes[from..]
            .windows(end.len())
            .position(|w| w == end)
            .map_or(bytes.len(), |p| from + p + end.len())
    };
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'<' if bytes[i..].starts_with(b"<!--") => i = skip_to(i, b"-->"),
            b'<' if bytes[i..].starts_with(b"<![CDATA[") => i = skip_to(i, b"]]>"),
            b'<' if bytes[i..].starts_with(b"<?") => i = skip_to(i, b"?>"),
            b'<' if bytes[i..].starts_with(b"<!") => i = skip_to(i, b">"),
            b'<' if bytes.get(i + 1) == Some(&b'/') => {
                depth = depth.saturating_sub(1);
                i = skip_to(i, b">");
            }
            b'<' => {
                // A start tag: count `=` outside quoted values up to its `>`.
                let (start_line, mut attributes, mut quote) = (line, 0usize, None);
                i += 1;
                while i < bytes.len() {
                    let b = bytes[i];
                    i += 1;
                    match (quote, b) {
                        (_, b'\n') => line += 1,
                        (Some(q), b) if b == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'"' | b'\'') => quote = Some(b),
                        (None, b'=') => attributes += 1,
                        (None, b'>') => {
                            if bytes.get(i.wrapping_sub(2)) != Some(&b'/') {
                                depth += 1;
                            }
                            break;
                        }
                        (None, _) => {}
                    }
                }
                if attributes > MAX_ATTRIBUTES {
                    return Err(format!(
                        "{source} has an element with {attributes} attributes at line {start_line}, over the limit of {MAX_ATTRIBUTES}: it is not a JUnit report hotfix reads; nothing was imported"
                    ));
                }
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "{source} nests elements deeper than {MAX_DEPTH} at line {start_line}: it is not a JUnit report hotfix reads; nothing was imported"
                    ));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// How one `<testcase>` ended.
fn outcome(node: roxmltree::Node, id: String, name: &str) -> TestResult {
    let mut failed = None;
    let mut skipped = None;
    let mut flaky = false;
    for child in node.children().filter(roxmltree::Node::is_element) {
        let message = || {
            child
                .attribute("message")
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
        };
        match child.tag_name().name() {
            "failure" | "error" => {
                failed.get_or_insert_with(|| message().unwrap_or_else(|| "failed".into()));
            }
            "skipped" => {
                skipped.get_or_insert_with(|| message().unwrap_or_else(|| "skipped".into()));
            }
            // An earlier attempt failed and a rerun followed (nextest, Surefire).
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => flaky = true,
            _ => {}
        }
    }
    let said = ["status", "result"]
        .iter()
        .filter_map(|a| node.attribute(*a))
        .map(|v| v.trim().to_ascii_lowercase())
        .find(|v| NOT_RUN.contains(&v.as_str()));
    if skipped.is_none()
        && let Some(word) = said
    {
        skipped = Some(format!("not run ({word})"));
    }
    let (status, message) = match (failed, skipped) {
        (Some(m), _) => (TestStatus::Failed, m),
        (None, Some(m)) => (TestStatus::Skipped, m),
        (None, None) if flaky => (TestStatus::Passed, "passed after a rerun".into()),
        (None, None) => (TestStatus::Passed, String::new()),
    };
    TestResult {
        id,
        name: name.to_string(),
        status,
        flaky: flaky && status == TestStatus::Passed,
        message,
    }
}

/// Merges the reports of one import (see the module's rules), in the order cases first appear.
pub fn merge(reports: Vec<Parsed>) -> Merged {
    // Per identity: its result in each suite (a rerun within a suite replaces the earlier run).
    let mut order: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, Vec<(String, TestResult)>> = HashMap::new();
    let (mut unnamed, mut too_long) = (0, Vec::new());
    for report in reports {
        unnamed += report.unnamed;
        too_long.extend(report.too_long);
        for (suite, r) in report.cases {
            let runs = by_id.entry(r.id.clone()).or_insert_with(|| {
                order.push(r.id.clone());
                Vec::new()
            });
            match runs.iter_mut().find(|(s, _)| *s == suite) {
                Some((_, earlier)) => {
                    let flaky = r.flaky
                        || (r.status == TestStatus::Passed
                            && (earlier.status == TestStatus::Failed || earlier.flaky));
                    *earlier = TestResult { flaky, ..r };
                    if earlier.flaky && earlier.message.is_empty() {
                        earlier.message = "passed after a rerun".into();
                    }
                }
                None => runs.push((suite, r)),
            }
        }
    }
    let mut merged = Merged::default();
    for id in order {
        let Some(runs) = by_id.remove(&id) else {
            continue;
        };
        let rank = |s: TestStatus| match s {
            TestStatus::Failed => 3,
            TestStatus::Passed => 2,
            TestStatus::Running => 1,
            TestStatus::Skipped | TestStatus::Pending => 0,
        };
        let worst = runs
            .iter()
            .max_by_key(|(_, r)| rank(r.status))
            .map(|(_, r)| r.status);
        if runs.iter().any(|(_, r)| Some(r.status) != worst) {
            let said: Vec<String> = runs
                .iter()
                .map(|(s, r)| format!("{} in {s}", r.status))
                .collect();
            merged.notes.push(format!(
                "{id} ran in {} suites that disagree ({}): recorded as {}",
                runs.len(),
                said.join(", "),
                worst.map_or("?", TestStatus::as_str)
            ));
        }
        // The run that decides: a failing one if any, else the best, flaky if any run was.
        let flaky = runs.iter().any(|(_, r)| r.flaky);
        if let Some((_, mut r)) = runs.into_iter().max_by_key(|(_, r)| rank(r.status)) {
            r.flaky = flaky && r.status == TestStatus::Passed;
            merged.results.push(r);
        }
    }
    if unnamed > 0 {
        merged.notes.push(format!(
            "{unnamed} unnamed test case{} not imported (no name and no classname)",
            if unnamed == 1 { "" } else { "s" }
        ));
    }
    if !too_long.is_empty() {
        let first: String = too_long[0].chars().take(60).collect();
        merged.notes.push(format!(
            "{} test case{} with a name over {MAX_TEST_NAME} characters not imported (never cut): {first}…",
            too_long.len(),
            if too_long.len() == 1 { "" } else { "s" }
        ));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(xml: &str) -> Merged {
        merge(vec![parse(xml, "t.xml").expect("parses")])
    }

    #[test]
    fn malformed_input_is_refused_with_line_and_column() {
        for bad in [
            "<testsuite><testcase name='a'></testsuite>",
            "<testsuite time=\"<<computed>>\"/>",
            "<testsuite/><testsuite/>",
            "<testsuite><testcase name='a' name='b'/></testsuite>",
            "<testsuite><testcase name='a&nbsp;b'/></testsuite>",
            "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><testsuite name='&e;'/>",
        ] {
            let e = parse(bad, "t.xml").expect_err(bad);
            assert!(
                e.contains("not well-formed") && e.contains("column"),
                "{bad}: {e}"
            );
        }
        assert!(
            parse("<html/>", "t.xml")
                .unwrap_err()
                .contains("root element is <html>")
        );
        assert!(parse("", "t.xml").unwrap_err().contains("empty"));
    }

    #[test]
    fn a_jest_todo_is_not_run_never_passed() {
        let text = include_str!("../../tests/fixtures/junit/jest-junit-todo.xml");
        let m = merge(vec![parse(text, "jest.xml").unwrap()]);
        let status = |name: &str| m.results.iter().find(|r| r.name == name).map(|r| r.status);
        assert_eq!(status("passes"), Some(TestStatus::Passed));
        assert_eq!(status("write the refund test"), Some(TestStatus::Skipped));
        assert_eq!(status("skipped one"), Some(TestStatus::Skipped));
        // A bare case with no time, in a suite that counts it, stays as the file says.
        let counted = r#"<testsuite tests="2"><testcase name="a" time="0"/><testcase name="b" time="0"/></testsuite>"#;
        let m = merge(vec![parse(counted, "x.xml").unwrap()]);
        assert!(m.results.iter().all(|r| r.status == TestStatus::Passed));
    }

    #[test]
    fn disabled_and_not_run_cases_are_skipped_never_passed() {
        let m = one(
            "<testsuite><testcase name='disabled_test' status='disabled'/>\
             <testcase name='n' result='NotRun'/><testcase name='ok' status='run'/></testsuite>",
        );
        let status: Vec<_> = m
            .results
            .iter()
            .map(|r| (r.id.as_str(), r.status))
            .collect();
        assert_eq!(
            status,
            [
                ("disabled_test", TestStatus::Skipped),
                ("n", TestStatus::Skipped),
                ("ok", TestStatus::Passed)
            ]
        );
    }

    #[test]
    fn identities_are_trimmed_unnamed_cases_counted_long_ones_never_cut() {
        let long = "x".repeat(MAX_TEST_NAME + 1);
        let m = one(&format!(
            "<testsuite><testcase classname=' a ' name='b '/><testcase classname='' name=''/>\
             <testcase classname='c' name='{long}'/></testsuite>"
        ));
        assert_eq!(m.results.len(), 1);
        assert_eq!(m.results[0].id, "a::b");
        assert!(
            m.notes
                .iter()
                .any(|n| n.starts_with("1 unnamed test case not imported"))
        );
        assert!(m.notes.iter().any(|n| n.contains("over 1000 characters")));
    }

    #[test]
    fn a_class_level_failure_is_a_failed_test_named_after_its_class() {
        // What JUnit 5 (Surefire) writes when a class's @BeforeAll fails.
        let m = one(
            "<testsuite name='com.example.RefundTest' tests='1' failures='0' errors='1'>\
             <testcase name='' classname='com.example.RefundTest' time='0.01'>\
             <error message='database not reachable' type='java.lang.IllegalStateException'/>\
             </testcase></testsuite>",
        );
        assert_eq!(m.results.len(), 1, "{:?}", m.notes);
        assert_eq!(m.results[0].id, "com.example.RefundTest");
        assert_eq!(m.results[0].status, TestStatus::Failed);
        assert_eq!(m.results[0].message, "database not reachable");
    }

    #[test]
    fn reruns_in_a_suite_and_disagreements_across_suites() {
        let m = one(
            "<testsuites><testsuite name='s1'><testcase name='r'><failure/></testcase>\
             <testcase name='r'/></testsuite>\
             <testsuite name='s2'><testcase name='x'/></testsuite>\
             <testsuite name='s3'><testcase name='x'><failure message='boom'/></testcase></testsuite>\
             <testsuite name='s4'><testcase name='f'><flakyFailure/></testcase></testsuite></testsuites>",
        );
        let get = |id: &str| m.results.iter().find(|r| r.id == id).expect(id);
        assert_eq!(
            (get("r").status, get("r").flaky),
            (TestStatus::Passed, true)
        );
        assert_eq!(
            (get("x").status, get("x").message.as_str()),
            (TestStatus::Failed, "boom")
        );
        assert_eq!(
            (get("f").status, get("f").flaky),
            (TestStatus::Passed, true)
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("x ran in 2 suites that disagree")
                    && n.contains("s2")
                    && n.contains("s3")),
            "{:?}",
            m.notes
        );
    }
}
