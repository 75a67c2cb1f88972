//! Files that become commands: a policy, JUnit reports, an alert payload. The CLI and the
//! cockpit both read them through here, so a file is read and judged the same way wherever it
//! is named. A file that cannot be read fails (exit 1); one that does not parse is refused
//! (exit 3); either way nothing is recorded.

use crate::error::Error;
use crate::state::{Command, Policy, ReleaseId};
use std::path::{Path, PathBuf};

/// What to read, and the command it makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Load {
    Policy(PathBuf),
    TestResults(ReleaseId, Vec<PathBuf>),
    /// `-` reads standard input (the CLI only: in the cockpit it is the terminal).
    Alert(PathBuf),
}

/// A path as shown in messages: escaped, so a file name cannot drive the terminal.
fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".into()
    } else {
        crate::sanitize::line(&path.display().to_string()).into_owned()
    }
}

/// The most a file may hold, by kind: far above any real one, so a device or a runaway file
/// is refused before it is read into memory (the README names these limits).
pub const POLICY_LIMIT: u64 = 1 << 20;
pub const ALERT_LIMIT: u64 = 16 << 20;
pub const JUNIT_LIMIT: u64 = 256 << 20;

/// Reads a whole file, or standard input for `-`, refusing one larger than `limit` bytes.
fn read(path: &Path, limit: u64) -> Result<String, Error> {
    use std::io::Read;
    let fail = |e: std::io::Error| Error::Failed(format!("cannot read {}: {e}", shown(path)));
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(fail)?;
        bytes
    } else {
        crate::fsio::read_regular(path, limit).map_err(fail)?
    };
    if bytes.len() as u64 > limit {
        return Err(Error::Failed(format!(
            "{} is larger than {} MiB, the most hotfix reads for this kind of file: nothing was read",
            shown(path),
            limit >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::Failed(format!(
            "cannot read {}: it is not UTF-8 text (byte {})",
            shown(path),
            e.utf8_error().valid_up_to()
        ))
    })
}

impl Load {
    /// What confirming will do, for a dialog's preview.
    pub fn describe(&self) -> String {
        let names = |files: &[PathBuf]| {
            files
                .iter()
                .map(|f| shown(f))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Load::Policy(f) => format!("read {} and replace the policy with it", shown(f)),
            Load::TestResults(id, files) => {
                format!("read {} and record its results in {id}", names(files))
            }
            Load::Alert(f) => format!(
                "read {} and create or update the incident it keys",
                shown(f)
            ),
        }
    }

    /// Reads the files and makes the command they hold, with what the user should be told
    /// about them. Every file is parsed before anything is returned, so one bad file changes
    /// nothing.
    pub fn command(&self) -> Result<Loaded, Error> {
        Ok(match self {
            Load::Policy(path) => Loaded::just(Command::SetPolicy {
                policy: Box::new(Policy::from_json(&read(path, POLICY_LIMIT)?)?),
            }),
            Load::TestResults(id, files) => {
                let mut reports = Vec::new();
                for file in files {
                    let parsed =
                        crate::import::junit::parse(&read(file, JUNIT_LIMIT)?, &shown(file));
                    reports.push(parsed.map_err(Error::Refused)?);
                }
                let merged = crate::import::junit::merge(reports);
                Loaded {
                    command: Some(Command::ImportTestResults {
                        id: *id,
                        results: merged.results,
                    }),
                    notes: merged.notes,
                }
            }
            Load::Alert(path) => {
                match crate::import::alerts::parse(&read(path, ALERT_LIMIT)?, &shown(path))
                    .map_err(Error::Refused)?
                {
                    crate::import::alerts::Alert::Input(alert) => {
                        Loaded::just(Command::ImportAlert {
                            alert: Box::new(alert),
                        })
                    }
                    crate::import::alerts::Alert::Ignored(why) => Loaded {
                        command: None,
                        notes: vec![why],
                    },
                }
            }
        })
    }
}

/// What reading a file gave: the command to run (none when the file asks for nothing, such as
/// an alert event that is not about an incident), and notes for the user.
#[derive(Debug)]
pub struct Loaded {
    pub command: Option<Command>,
    pub notes: Vec<String>,
}

impl Loaded {
    fn just(command: Command) -> Loaded {
        Loaded {
            command: Some(command),
            notes: Vec::new(),
        }
    }
}
