//! The Keep a Changelog 1.1.0 entry for a hotfix, and its place in an existing changelog.
//!
//! An entry exists only for a hotfix that reached production (deployed, verified or closed),
//! dated the day it was deployed; `--unreleased` files one still on its way under
//! `## [Unreleased]`. A version deployed and then rolled back is listed as Keep a Changelog
//! says a pulled version is, `## [1.4.1] - DATE [YANKED]` (it marks an entry already there); a
//! hotfix cancelled, or rolled back before it was deployed, never reached production and gets none.

use crate::state::{Model, Phase, Rejection, ReleaseId};
use serde::Serialize;

/// One entry: a version (or Unreleased) with its section and items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: ReleaseId,
    /// `None` for an entry under `[Unreleased]`.
    pub version: Option<String>,
    /// `YYYY-MM-DD`, the day it was deployed.
    pub date: Option<String>,
    /// `Fixed`, or `Security`.
    pub section: &'static str,
    pub items: Vec<String>,
    /// Deployed and then rolled back: the version was pulled.
    pub yanked: bool,
}

/// The entry for hotfix `id`, or why there is none.
pub fn entry(
    model: &Model,
    id: ReleaseId,
    security: bool,
    unreleased: bool,
) -> Result<Entry, Rejection> {
    let r = model.release(id)?;
    if !id.is_hotfix() {
        return Err(Rejection::new(format!(
            "{id} is a regular release: the changelog entry is for hotfixes"
        )));
    }
    let status = model.release_status(r);
    let deployed = r.milestone(Phase::Deployed).map(|m| m.at);
    let yanked = r.phase == Phase::RolledBack && deployed.is_some();
    let released = yanked || matches!(r.phase, Phase::Deployed | Phase::Verified | Phase::Closed);
    match r.phase {
        Phase::RolledBack | Phase::Cancelled if !yanked => {
            return Err(Rejection::new(format!(
                "{id} was {status} before it reached production, so it gets no changelog entry"
            )));
        }
        _ if !released && !unreleased => {
            return Err(Rejection::new(format!(
                "{id} is {status}: it has not been deployed yet. `--unreleased` files it under [Unreleased]"
            )));
        }
        _ => {}
    }
    let incidents: Vec<String> = model
        .incidents_of(r)
        .map(|i| format!("{}: {}", i.id, super::markdown::cell(&i.title)))
        .collect();
    let mut item = format!("{} ({id}", super::markdown::cell(&r.scope.summary));
    if !incidents.is_empty() {
        item.push_str("; ");
        item.push_str(&incidents.join("; "));
    }
    item.push(')');
    let dated = released && !unreleased;
    Ok(Entry {
        id,
        version: dated.then(|| crate::sanitize::line(&r.scope.version).into_owned()),
        date: deployed
            .filter(|_| dated)
            .map(|at| at.format("%Y-%m-%d").to_string()),
        section: if security { "Security" } else { "Fixed" },
        items: vec![item],
        yanked: yanked && dated,
    })
}

impl Entry {
    fn heading(&self) -> String {
        let pulled = if self.yanked { " [YANKED]" } else { "" };
        match (&self.version, &self.date) {
            (Some(v), Some(d)) => format!("## [{v}] - {d}{pulled}"),
            (Some(v), None) => format!("## [{v}]"),
            _ => "## [Unreleased]".into(),
        }
    }

    fn item_lines(&self) -> String {
        self.items.iter().map(|i| format!("- {i}\n")).collect()
    }

    /// The entry on its own, as Markdown.
    pub fn markdown(&self) -> String {
        format!(
            "{}\n\n### {}\n\n{}",
            self.heading(),
            self.section,
            self.item_lines()
        )
    }
}

const NEW_FILE: &str = "# Changelog\n\nAll notable changes to this project are documented in this file.\n\nThe format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\nand this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n";

/// A `## [...]` heading: its name (`Unreleased` or a version).
fn version_heading(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("## [")?;
    let end = rest.find(']')?;
    Some(&rest[..end])
}

/// A link reference definition (`[1.0.0]: https://...`), which Keep a Changelog keeps at the end.
fn is_link_reference(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

/// A compare link's parts, learnt from one already in the file: `[4.12.0]:
/// https://host/repo/compare/v4.11.0...v4.12.0` gives the base up to `/compare/` and the tag
/// prefix (`v`).
fn compare_pattern(lines: &[String]) -> Option<(String, String)> {
    lines.iter().filter(|l| is_link_reference(l)).find_map(|l| {
        let (name, url) = l.split_once("]: ")?;
        let version = name.strip_prefix('[')?;
        let (base, range) = url.trim().split_once("/compare/")?;
        let (_, to) = range.split_once("...")?;
        let prefix = to.strip_suffix(version)?;
        Some((base.to_string(), prefix.to_string()))
    })
}

/// Keeps the link references at the bottom true after `version` was added: its own compare
/// link from `previous`, in order (newest first), and `[Unreleased]` comparing from it when
/// it is the newest. Nothing when the file has no compare link to learn the pattern from.
fn compare_links(lines: &mut Vec<String>, version: &str, previous: Option<&str>, newest: bool) {
    let Some((base, prefix)) = compare_pattern(lines) else {
        return;
    };
    let link_of = |lines: &[String], name: &str| {
        let start = format!("[{}]: ", name.to_ascii_lowercase());
        lines
            .iter()
            .position(|l| l.to_ascii_lowercase().starts_with(&start))
    };
    if newest && let Some(at) = link_of(lines, "unreleased") {
        lines[at] = format!("[Unreleased]: {base}/compare/{prefix}{version}...HEAD");
    }
    if link_of(lines, version).is_some() {
        return;
    }
    let own = match previous {
        Some(p) => format!("[{version}]: {base}/compare/{prefix}{p}...{prefix}{version}"),
        None => format!("[{version}]: {base}/releases/tag/{prefix}{version}"),
    };
    match previous.and_then(|p| link_of(lines, p)) {
        Some(at) => lines.insert(at, own),
        None => {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            lines.push(own);
        }
    }
}

/// Puts `entry` in its place in the changelog `text` (empty for a new file): a version newest
/// first among the versions, after `[Unreleased]`, before the link references; an unreleased
/// item under `[Unreleased]`'s section. Refuses a text that is not a Keep a Changelog file, or
/// that already holds the entry.
pub fn insert(text: &str, entry: &Entry) -> Result<String, String> {
    let text = if text.trim().is_empty() {
        NEW_FILE.to_string()
    } else {
        text.replace("\r\n", "\n")
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let title = lines.iter().position(|l| l.starts_with("# "));
    let first_section = lines.iter().position(|l| l.starts_with("## "));
    match (title, first_section) {
        (None, _) => {
            return Err("it has no `# ` title: not a Keep a Changelog file".into());
        }
        (Some(t), Some(s)) if s < t => {
            return Err(
                "a `## ` section comes before the `# ` title: not a Keep a Changelog file".into(),
            );
        }
        _ => {}
    }
    if let Some(bad) = lines
        .iter()
        .find(|l| l.starts_with("## ") && version_heading(l).is_none())
    {
        return Err(format!(
            "the section heading \"{}\" is not `## [version] - date` or `## [Unreleased]`",
            crate::sanitize::line(bad)
        ));
    }
    let headings: Vec<(usize, String)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| version_heading(l).map(|v| (i, v.to_string())))
        .collect();
    // Where the sections end: the link references at the bottom, else the end of the file.
    let end = {
        let mut end = lines.len();
        while end > 0 && (lines[end - 1].trim().is_empty() || is_link_reference(&lines[end - 1])) {
            end -= 1;
        }
        if headings.last().is_some_and(|(i, _)| *i >= end) {
            lines.len()
        } else {
            end
        }
    };
    let block: Vec<String> = entry.markdown().lines().map(str::to_string).collect();
    match &entry.version {
        Some(version) => {
            if let Some((at, _)) = headings.iter().find(|(_, v)| v == version) {
                // A version pulled after its entry was written: its heading is marked.
                let heading = &lines[*at];
                if entry.yanked && !heading.to_ascii_uppercase().ends_with("[YANKED]") {
                    lines[*at] = format!("{} [YANKED]", heading.trim_end());
                    return Ok(lines.join("\n") + "\n");
                }
                return Err(format!("it already has a section for version {version}"));
            }
            let new = semver::Version::parse(version).ok();
            // Before the first older version (newest first); else after the last section.
            let at = headings
                .iter()
                .filter(|(_, v)| !v.eq_ignore_ascii_case("unreleased"))
                .find(|(_, v)| match (&new, semver::Version::parse(v)) {
                    (Some(new), Ok(old)) => old < *new,
                    _ => true,
                })
                .map_or(end, |(i, _)| *i);
            // The version it follows: the first older one below it.
            let previous = headings
                .iter()
                .filter(|(i, v)| *i >= at && !v.eq_ignore_ascii_case("unreleased"))
                .map(|(_, v)| v.clone())
                .next();
            let newest = !headings
                .iter()
                .any(|(i, v)| *i < at && !v.eq_ignore_ascii_case("unreleased"));
            let mut insert = block;
            insert.push(String::new());
            let at = if at == end && at > 0 && !lines[at - 1].trim().is_empty() {
                insert.insert(0, String::new());
                at
            } else {
                at
            };
            lines.splice(at..at, insert);
            compare_links(&mut lines, version, previous.as_deref(), newest);
        }
        None => {
            let item_lines: Vec<String> = entry.item_lines().lines().map(str::to_string).collect();
            match headings
                .iter()
                .find(|(_, v)| v.eq_ignore_ascii_case("unreleased"))
            {
                Some((start, _)) => {
                    let stop = headings
                        .iter()
                        .map(|(i, _)| *i)
                        .find(|i| i > start)
                        .unwrap_or(end);
                    let wanted = format!("### {}", entry.section);
                    match (start + 1..stop).find(|i| lines[*i].trim() == wanted) {
                        Some(sub) => {
                            // After the subsection's last item.
                            let mut at = sub + 1;
                            while at < stop && !lines[at].starts_with('#') {
                                at += 1;
                            }
                            while at > sub + 1 && lines[at - 1].trim().is_empty() {
                                at -= 1;
                            }
                            if lines[(sub + 1)..at].iter().any(|l| item_lines.contains(l)) {
                                return Err("[Unreleased] already lists this hotfix".into());
                            }
                            lines.splice(at..at, item_lines);
                        }
                        None => {
                            let mut at = stop;
                            while at > start + 1 && lines[at - 1].trim().is_empty() {
                                at -= 1;
                            }
                            let mut insert = vec![String::new(), wanted, String::new()];
                            insert.extend(item_lines);
                            lines.splice(at..at, insert);
                        }
                    }
                }
                None => {
                    // A new [Unreleased] section above every version.
                    let at = headings.first().map_or(end, |(i, _)| *i);
                    let mut insert = block;
                    insert.push(String::new());
                    lines.splice(at..at, insert);
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: Option<&str>) -> Entry {
        Entry {
            id: ReleaseId::Hotfix(7),
            version: version.map(str::to_string),
            date: version.map(|_| "2026-11-27".to_string()),
            section: "Fixed",
            items: vec!["Null card token (HF-7; INC-9: Card payments fail)".into()],
            yanked: false,
        }
    }

    #[test]
    fn a_pulled_version_is_listed_yanked_or_its_entry_marked() {
        let pulled = Entry {
            yanked: true,
            ..entry(Some("4.12.1"))
        };
        assert!(
            pulled
                .markdown()
                .starts_with("## [4.12.1] - 2026-11-27 [YANKED]\n")
        );
        let added = insert(REAL, &pulled).unwrap();
        assert!(
            added.contains("## [4.12.1] - 2026-11-27 [YANKED]\n\n### Fixed\n\n- Null card token")
        );
        // Written when it was deployed, then pulled: the heading is marked, once.
        let written = insert(REAL, &entry(Some("4.12.1"))).unwrap();
        let marked = insert(&written, &pulled).unwrap();
        assert_eq!(marked, added);
        assert_eq!(marked.matches("[YANKED]").count(), 1);
        assert!(insert(&marked, &pulled).is_err(), "already marked");
    }

    const REAL: &str = "# Changelog\n\nAll notable changes.\n\n## [Unreleased]\n\n### Added\n\n- Dark mode\n\n## [4.12.0] - 2026-11-20\n\n### Added\n\n- Wallets\n\n## [4.11.0] - 2026-10-01\n\n### Fixed\n\n- Login\n\n[Unreleased]: https://example.com/compare/v4.12.0...HEAD\n[4.12.0]: https://example.com/compare/v4.11.0...v4.12.0\n[4.11.0]: https://example.com/releases/tag/v4.11.0\n";

    #[test]
    fn a_version_goes_newest_first_after_unreleased_and_before_the_links() {
        let out = insert(REAL, &entry(Some("4.12.1"))).unwrap();
        let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} in {out}"));
        assert!(at("## [Unreleased]") < at("## [4.12.1] - 2026-11-27"));
        assert!(at("## [4.12.1]") < at("## [4.12.0]"));
        assert!(at("- Null card token") < at("## [4.12.0]"));
        assert!(out.ends_with("[4.11.0]: https://example.com/releases/tag/v4.11.0\n"));
        // The compare links follow: the new version's own, newest first, and [Unreleased]
        // now compares from it.
        assert!(
            out.contains("[Unreleased]: https://example.com/compare/v4.12.1...HEAD\n[4.12.1]: https://example.com/compare/v4.12.0...v4.12.1\n[4.12.0]: https://example.com/compare/v4.11.0...v4.12.0\n"),
            "{out}"
        );
        // An older patch goes below the newer minor.
        let out = insert(REAL, &entry(Some("4.11.1"))).unwrap();
        assert!(out.find("## [4.12.0]") < out.find("## [4.11.1]"));
        // Not the newest: [Unreleased] stays; its own link goes among the others, in order.
        assert!(out.contains("[Unreleased]: https://example.com/compare/v4.12.0...HEAD\n"));
        assert!(
            out.contains("[4.12.0]: https://example.com/compare/v4.11.0...v4.12.0\n[4.11.1]: https://example.com/compare/v4.11.0...v4.11.1\n[4.11.0]:"),
            "{out}"
        );
        assert!(out.find("## [4.11.1]") < out.find("## [4.11.0]"));
        assert!(
            insert(&out, &entry(Some("4.11.1")))
                .unwrap_err()
                .contains("already")
        );
    }

    #[test]
    fn an_unreleased_item_goes_under_its_section_in_unreleased() {
        let out = insert(REAL, &entry(None)).unwrap();
        let unreleased =
            &out[out.find("## [Unreleased]").unwrap()..out.find("## [4.12.0]").unwrap()];
        assert!(
            unreleased.contains("### Fixed\n\n- Null card token"),
            "{out}"
        );
        assert!(unreleased.contains("### Added\n\n- Dark mode"));
        let again = insert(&out, &entry(None)).unwrap_err();
        assert!(again.contains("already"), "{again}");
    }

    #[test]
    fn a_new_file_is_started_and_a_foreign_one_refused() {
        let out = insert("", &entry(Some("1.0.1"))).unwrap();
        assert!(out.starts_with("# Changelog") && out.contains("## [1.0.1] - 2026-11-27"));
        assert!(insert("just some notes\n", &entry(None)).is_err());
        assert!(insert("# Changelog\n\n## 1.0.0\n", &entry(None)).is_err());
    }
}
