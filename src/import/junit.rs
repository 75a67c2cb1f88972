//! JUnit XML as written by cargo-nextest, pytest (`--junitxml`) and Maven Surefire: a
//! `<testsuites>` or bare `<testsuite>` root, `<testcase>`s whose child says how they ended.

use crate::state::TestStatus;
use crate::state::imports::TestResult;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// The 1-based line of a byte offset, for error messages.
fn line_of(text: &str, offset: u64) -> usize {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn attr(e: &BytesStart, name: &str) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.0 == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
        .unwrap_or_default()
}

/// The case being read and what its children said.
#[derive(Default)]
struct Case {
    id: String,
    name: String,
    failed: bool,
    skipped: bool,
    flaky: bool,
    message: String,
}

impl Case {
    fn start(e: &BytesStart) -> Case {
        let name = attr(e, "name");
        let class = attr(e, "classname");
        let id = if class.is_empty() {
            name.clone()
        } else {
            format!("{class}::{name}")
        };
        Case {
            id,
            name,
            ..Case::default()
        }
    }

    /// A child element of the test case.
    fn child(&mut self, e: &BytesStart) {
        let message = attr(e, "message");
        match e.name().0 {
            "failure" | "error" => {
                self.failed = true;
                self.message = if message.is_empty() {
                    "failed".into()
                } else {
                    message
                };
            }
            "skipped" => {
                self.skipped = true;
                if self.message.is_empty() {
                    self.message = if message.is_empty() {
                        "skipped".into()
                    } else {
                        message
                    };
                }
            }
            // A failed attempt followed by a passing rerun (nextest, Surefire).
            "flakyFailure" | "flakyError" => self.flaky = true,
            _ => {}
        }
    }

    fn finish(self) -> TestResult {
        let status = if self.failed {
            TestStatus::Failed
        } else if self.skipped {
            TestStatus::Skipped
        } else {
            TestStatus::Passed
        };
        let flaky = self.flaky && status == TestStatus::Passed;
        let message = match status {
            TestStatus::Passed if flaky => "passed after a rerun".into(),
            TestStatus::Passed => String::new(),
            _ => self.message,
        };
        TestResult {
            id: self.id,
            name: self.name,
            status,
            flaky,
            message,
        }
    }
}

/// Parses one JUnit report. `source` names the file in errors.
pub fn parse(text: &str, source: &str) -> Result<Vec<TestResult>, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut results: Vec<TestResult> = Vec::new();
    let mut case: Option<Case> = None;
    let mut root: Option<String> = None;
    let mut depth_in_case = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "{source} is not well-formed XML (line {}): {e}",
                line_of(text, reader.error_position())
            )
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_none() => {
                let name = e.name().0.to_string();
                if name != "testsuites" && name != "testsuite" {
                    return Err(format!(
                        "{source} is not a JUnit report: its root element is <{name}>, not <testsuites> or <testsuite>"
                    ));
                }
                root = Some(name);
            }
            Event::Start(e) if e.name().0 == "testcase" && case.is_none() => {
                case = Some(Case::start(&e));
                depth_in_case = 0;
            }
            Event::Empty(e) if e.name().0 == "testcase" && case.is_none() => {
                results.push(Case::start(&e).finish());
            }
            Event::Start(e) => {
                if let Some(c) = case.as_mut() {
                    if depth_in_case == 0 {
                        c.child(&e);
                    }
                    depth_in_case += 1;
                }
            }
            Event::Empty(e) => {
                if let Some(c) = case.as_mut().filter(|_| depth_in_case == 0) {
                    c.child(&e);
                }
            }
            Event::End(e) if e.name().0 == "testcase" && depth_in_case == 0 => {
                if let Some(c) = case.take() {
                    results.push(c.finish());
                }
            }
            Event::End(_) => depth_in_case = depth_in_case.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
    }
    if root.is_none() {
        return Err(format!(
            "{source} is empty: no <testsuites> or <testsuite> element"
        ));
    }
    if case.is_some() {
        return Err(format!(
            "{source} ends inside a <testcase>: the file is truncated"
        ));
    }
    // A test reported more than once (reruns written as separate cases): the last word counts,
    // and it is flaky if an earlier run failed and a later one passed.
    // Found by id through a map, so a large report merges in linear time.
    let mut merged: Vec<TestResult> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in results {
        match at.get(&r.id).and_then(|&i| merged.get_mut(i)) {
            Some(m) => {
                let flaky = m.status == TestStatus::Failed && r.status == TestStatus::Passed;
                *m = TestResult {
                    flaky: r.flaky || flaky,
                    ..r
                };
                if m.flaky && m.message.is_empty() {
                    m.message = "passed after a rerun".into();
                }
            }
            None => {
                at.insert(r.id.clone(), merged.len());
                merged.push(r);
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_identities() {
        let xml = r#"<testsuite name="s"><testcase classname="a.b" name="ok"/>
            <testcase classname="a.b" name="bad"><failure message="boom">trace</failure></testcase>
            <testcase name="skip"><skipped message="later"/></testcase>
            <testcase classname="c" name="flaky"><flakyFailure message="first"/></testcase></testsuite>"#;
        let r = parse(xml, "t.xml").unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(
            (r[0].id.as_str(), r[0].status),
            ("a.b::ok", TestStatus::Passed)
        );
        assert_eq!(
            (r[1].status, r[1].message.as_str()),
            (TestStatus::Failed, "boom")
        );
        assert_eq!(
            (r[2].id.as_str(), r[2].status),
            ("skip", TestStatus::Skipped)
        );
        assert!(r[3].flaky && r[3].status == TestStatus::Passed);
    }

    #[test]
    fn malformed_and_foreign_files_are_explained() {
        assert!(
            parse("<testsuite><testcase name='x'>", "t.xml")
                .unwrap_err()
                .contains("truncated")
        );
        assert!(
            parse("<html></html>", "t.xml")
                .unwrap_err()
                .contains("root element is <html>")
        );
        let e = parse("<testsuite>\n<testcase name='x'></testsuit>", "t.xml").unwrap_err();
        assert!(e.contains("not well-formed") && e.contains("line 2"), "{e}");
        assert!(parse("", "t.xml").unwrap_err().contains("empty"));
    }
}
