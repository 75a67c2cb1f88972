//! The code a release ships: bound by the client from git (see `crate::git`), held in its
//! scope so approvers read the exact diff they approve, and checked when the scope is made.

use super::kinds::ReleaseId;
use serde::{Deserialize, Serialize};

/// The code a release ships, as the client read it from git when it was bound, so approvers
/// need no repository: the commit, the base it is compared with, the files and the diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// Full commit ids (40 hex digits).
    pub commit: String,
    pub base: String,
    pub files: Vec<FileChange>,
    /// The unified diff base..commit, cut at [`DIFF_LIMIT`] bytes (`truncated` then says so).
    pub diff: String,
    pub truncated: bool,
    /// A regular release's: the deployed hotfixes whose fixes its history holds, found when it
    /// was bound (see `Model::gate`). Empty for a hotfix.
    #[serde(default)]
    pub includes: Vec<ReleaseId>,
}

/// The most diff a scope holds: the log's line limit (1 MiB) with room for JSON escapes.
pub const DIFF_LIMIT: usize = 256 * 1024;

/// One file of a diff: lines added and removed (`None` for a binary file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub added: Option<u32>,
    pub removed: Option<u32>,
}

impl Code {
    /// `a1b2c3d`, for people.
    pub fn short(&self) -> &str {
        self.commit.get(..7).unwrap_or(&self.commit)
    }
}
