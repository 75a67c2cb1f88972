//! The small vocabularies of the process: ids, severities, decisions, priorities, statuses.
//!
//! Every one of them parses from the words a person types (`P1`, `hotfix`, `critical`, `HF-3`) and
//! serialises to the same words, so the CLI, the JSON output and the event log agree.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Implements `Display`/`FromStr` over a fixed word list, with an error that lists the choices.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word a person types and reads.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $(if s.eq_ignore_ascii_case($word) { return Ok($name::$variant); })+
                let choices: Vec<&str> = vec![$($word),+];
                Err(format!("'{}' is not a {}: use one of {}", s, $what, choices.join(", ")))
            }
        }
    };
}

word_enum!(
    /// Incident severity; `P1` is the most severe, so the derived order sorts most severe first.
    Severity, "severity" { P1 => "P1", P2 => "P2", P3 => "P3", P4 => "P4" }
);
word_enum!(
    /// The outcome of qualifying an incident.
    Decision, "decision" { Hotfix => "hotfix", RegularRelease => "regular-release", NoAction => "no-action" }
);
word_enum!(
    /// The risk of the fix, as weighed by the qualifier.
    Risk, "risk" { Low => "low", Medium => "medium", High => "high" }
);
word_enum!(
    /// Test priority; critical first.
    Priority, "priority" { Critical => "critical", High => "high", Medium => "medium", Low => "low" }
);
word_enum!(
    /// Where a test stands.
    TestStatus, "test status" {
        Pending => "pending", Running => "running", Passed => "passed", Failed => "failed", Skipped => "skipped"
    }
);
word_enum!(
    /// Where an incident stands.
    IncidentStatus, "incident status" { Open => "open", Qualified => "qualified", Resolved => "resolved" }
);

word_enum!(
    /// The moment a stakeholder notice is about.
    Stage, "notice stage" { Investigating => "investigating", Planned => "planned", Deploying => "deploying", Deployed => "deployed", Resolved => "resolved", RolledBack => "rolled-back" }
);
word_enum!(
    /// Who a notice is written for.
    Audience, "audience" { Ops => "ops", Users => "users" }
);

/// `INC-<n>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentId(pub u64);

/// `HF-<n>` for a hotfix, `REL-<n>` for a regular release. Hotfixes order before regular releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReleaseId {
    Hotfix(u64),
    Regular(u64),
}

impl ReleaseId {
    pub fn is_hotfix(self) -> bool {
        matches!(self, ReleaseId::Hotfix(_))
    }
}

fn parse_numbered(s: &str, prefix: &str, what: &str) -> Result<u64, String> {
    let upper = s.trim().to_ascii_uppercase();
    upper
        .strip_prefix(prefix)
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{s}' is not {what} id: expected {prefix}<number>, e.g. {prefix}1"))
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

impl FromStr for IncidentId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_numbered(s, "INC-", "an incident").map(IncidentId)
    }
}

impl fmt::Display for ReleaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseId::Hotfix(n) => write!(f, "HF-{n}"),
            ReleaseId::Regular(n) => write!(f, "REL-{n}"),
        }
    }
}

impl FromStr for ReleaseId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().to_ascii_uppercase().starts_with("REL-") {
            parse_numbered(s, "REL-", "a release").map(ReleaseId::Regular)
        } else {
            parse_numbered(s, "HF-", "a release")
                .map(ReleaseId::Hotfix)
                .map_err(|_| {
                    format!("'{s}' is not a release id: expected HF-<number> or REL-<number>")
                })
        }
    }
}

/// Ids travel as their display string (`"INC-3"`) in JSON, never as bare numbers; in the binary
/// snapshot they are numbers, which read without parsing text.
macro_rules! serde_as_string {
    ($t:ty, $binary:ty, $to:expr, $from:expr) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.collect_str(self)
                } else {
                    let to: fn(&$t) -> $binary = $to;
                    to(self).serialize(s)
                }
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    let from: fn($binary) -> $t = $from;
                    Ok(from(<$binary>::deserialize(d)?))
                }
            }
        }
    };
}
serde_as_string!(IncidentId, u64, |i| i.0, IncidentId);
serde_as_string!(
    ReleaseId,
    (bool, u64),
    |r| match *r {
        ReleaseId::Hotfix(n) => (true, n),
        ReleaseId::Regular(n) => (false, n),
    },
    |(hotfix, n)| if hotfix {
        ReleaseId::Hotfix(n)
    } else {
        ReleaseId::Regular(n)
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        assert_eq!("inc-12".parse::<IncidentId>(), Ok(IncidentId(12)));
        assert_eq!("HF-3".parse::<ReleaseId>(), Ok(ReleaseId::Hotfix(3)));
        assert_eq!("REL-4".parse::<ReleaseId>(), Ok(ReleaseId::Regular(4)));
        assert!("INC-0".parse::<IncidentId>().is_err());
        assert!("HF-x".parse::<ReleaseId>().is_err());
        assert!("12".parse::<IncidentId>().is_err());
        assert_eq!(ReleaseId::Regular(4).to_string(), "REL-4");
    }

    #[test]
    fn words_parse_case_insensitively_and_list_choices() {
        assert_eq!("p2".parse::<Severity>(), Ok(Severity::P2));
        assert_eq!(
            "regular-release".parse::<Decision>(),
            Ok(Decision::RegularRelease)
        );
        let err = "urgent".parse::<Priority>().unwrap_err();
        assert!(err.contains("critical, high, medium, low"), "{err}");
        assert!(Severity::P1 < Severity::P4 && Priority::Critical < Priority::Low);
    }
}
