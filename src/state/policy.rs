//! The organisation's rules: who approves a hotfix of each severity, which severities qualify, who
//! qualifies and waives, and the target time from report to deployed.

use super::Rejection;
use super::kinds::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The default policy, shipped in `assets/` and recorded into a new store's first event, so a store
/// keeps the rules it was created with even when a later version changes the defaults.
pub const DEFAULT_POLICY_JSON: &str = include_str!("../../assets/policy.default.json");

/// The role that may grant roles and replace the policy; it cannot be removed from a policy.
pub const ADMIN_ROLE: &str = "admin";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Every role that exists; grants must name one of these.
    pub roles: Vec<String>,
    /// The roles that must approve a hotfix, by the hotfix's severity.
    pub approvals: BTreeMap<Severity, Vec<String>>,
    /// The severities that may be qualified for a hotfix.
    pub hotfix_severities: Vec<Severity>,
    /// The role that qualifies incidents.
    pub qualifier_role: String,
    /// The roles that may waive a non-critical test.
    pub waiver_roles: Vec<String>,
    /// Target hours from incident report to hotfix deployed, by severity.
    pub target_hours: BTreeMap<Severity, u32>,
    /// How often end users hear about an incident they are affected by, by severity: each
    /// users notice says when the next one comes ("30m", "2h", "1d"). None: no promise made.
    #[serde(default)]
    pub update_every: BTreeMap<Severity, Every>,
    /// The severities whose last hotfix may close only once the incident has a post-incident
    /// review, or the qualifier waived it. None in a policy that names none (a store made before
    /// reviews keeps the rules its lines were written under).
    #[serde(default)]
    pub review_required: Vec<Severity>,
    /// Dated deploy freezes, and a weekly window (see `state::freeze`): a regular release does
    /// not deploy in one; a hotfix does, on the record as exempted.
    #[serde(default)]
    pub freezes: Vec<super::freeze::Freeze>,
    #[serde(default)]
    pub weekly: Option<super::freeze::Weekly>,
    /// How long approvals skipped by break-glass may stay owed after the deploy (24h when
    /// unnamed).
    #[serde(default)]
    pub break_glass: Option<super::glass::BreakGlassPolicy>,
    /// How long a hotfix's approval may wait, by severity, before `hotfix remind` escalates
    /// it (see `state::escalation`). None: no deadline.
    #[serde(default)]
    pub approval_deadline: BTreeMap<Severity, Every>,
    /// Who is asked after two deadlines, and after how many someone is paged.
    #[serde(default)]
    pub escalation: Option<super::escalation::EscalationPolicy>,
    /// Whether approvals and rejections carry SSH signatures: off, optional, required.
    #[serde(default)]
    pub signatures: super::signing::Signatures,
    /// The branch (or ref) every hotfix's fix must reach before the hotfix closes, checked with
    /// git by the client: `"main"`. None: not checked.
    #[serde(default)]
    pub mainline: Option<String>,
    /// Priorities for tests first seen in an imported CI report; unmatched ones are medium.
    #[serde(default)]
    pub test_priority_rules: Vec<super::imports::PriorityRule>,
    /// Alertmanager `severity` label (lower case) to incident severity; anything else is P4.
    #[serde(default)]
    pub alert_severity: BTreeMap<String, Severity>,
    /// Which rules the store runs under. A rule that refuses more than before comes with a new
    /// version in the default policy, so a store made before it keeps the policy it had and its
    /// recorded lines stay what the rules then allowed (see `state::legality`); an admin moves
    /// it on with `policy set`. 1: the rules before versions. 2: a failed test of any tier shuts
    /// the gate until it passes or is waived, and a test's owner must be a user of the store.
    #[serde(default = "first_rules")]
    pub rules: u32,
}

/// A period a policy names, written `30s`, `15m`, `2h` or `1d` (1 second to 7 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Every {
    pub seconds: u32,
}

impl Every {
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.seconds))
    }
}

impl std::str::FromStr for Every {
    type Err = String;
    fn from_str(s: &str) -> Result<Every, String> {
        let bad = || format!("\"{s}\" is not a period such as \"30m\", \"2h\" or \"1d\"");
        let Some((last, _)) = s.char_indices().last() else {
            return Err(bad());
        };
        let (digits, unit) = s.split_at(last);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = digits.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => Some(n),
            "m" => n.checked_mul(60),
            "h" => n.checked_mul(3600),
            "d" => n.checked_mul(24 * 3600),
            _ => None,
        }
        .ok_or_else(bad)?;
        if !(1..=7 * 24 * 3600).contains(&seconds) {
            return Err(format!("\"{s}\" is outside 1 second to 7 days"));
        }
        Ok(Every { seconds })
    }
}

impl std::fmt::Display for Every {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seconds {
            s if s % (24 * 3600) == 0 => write!(f, "{}d", s / (24 * 3600)),
            s if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Serialize for Every {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Every {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Every, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The rules of a policy that names none: those before versions.
fn first_rules() -> u32 {
    1
}

/// The rules this hotfix knows (the default policy's).
pub const RULES: u32 = 2;

impl Default for Policy {
    fn default() -> Self {
        // The asset is compiled in and covered by a test, so parsing it cannot fail at run time.
        #[allow(clippy::expect_used)]
        serde_json::from_str(DEFAULT_POLICY_JSON).expect("assets/policy.default.json is valid")
    }
}

impl Policy {
    /// Rules 2: a failed medium or low test shuts the gate too.
    pub fn failed_tests_block(&self) -> bool {
        self.rules >= 2
    }

    /// Rules 2: a test's owner must be a user of the store.
    pub fn owners_known(&self) -> bool {
        self.rules >= 2
    }

    /// Parses and validates a policy file's text.
    pub fn from_json(text: &str) -> Result<Policy, Rejection> {
        let policy: Policy = serde_json::from_str(text)
            .map_err(|e| Rejection::new(format!("the policy file is not valid: {e}")))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks that every role named exists and every hotfix severity has approvers.
    pub fn validate(&self) -> Result<(), Rejection> {
        let known = |role: &String| self.roles.contains(role);
        let fail = |msg: String| Err(Rejection::new(format!("the policy is not valid: {msg}")));
        for (i, role) in self.roles.iter().enumerate() {
            if let Err(e) = super::text::check_name("role", role) {
                return fail(e.message);
            }
            if self.roles[..i].contains(role) {
                return fail(format!("role \"{role}\" is listed twice in `roles`"));
            }
        }
        if !self.roles.iter().any(|r| r == ADMIN_ROLE) {
            return fail(format!("`roles` must include \"{ADMIN_ROLE}\""));
        }
        if !known(&self.qualifier_role) {
            return fail(format!(
                "qualifier_role \"{}\" is not in `roles`",
                self.qualifier_role
            ));
        }
        for role in &self.waiver_roles {
            if !known(role) {
                return fail(format!("waiver role \"{role}\" is not in `roles`"));
            }
        }
        for (severity, roles) in &self.approvals {
            for (i, role) in roles.iter().enumerate() {
                if roles[..i].contains(role) {
                    return fail(format!(
                        "approver role \"{role}\" is listed twice for {severity}"
                    ));
                }
                if !known(role) {
                    return fail(format!(
                        "approver role \"{role}\" for {severity} is not in `roles`"
                    ));
                }
            }
        }
        if self.hotfix_severities.is_empty() {
            return fail("`hotfix_severities` is empty: no incident could ever be hotfixed".into());
        }
        for severity in &self.hotfix_severities {
            if self.approvals.get(severity).is_none_or(Vec::is_empty) {
                return fail(format!(
                    "{severity} may be hotfixed but `approvals` names no role for it"
                ));
            }
        }
        if !(1..=RULES).contains(&self.rules) {
            return fail(format!(
                "`rules` is {}: this hotfix knows rules 1 to {RULES}",
                self.rules
            ));
        }
        if let Some(w) = &self.weekly {
            w.validate()?;
        }
        if let Some(e) = &self.escalation {
            for (role, deputies) in &e.deputies {
                if !known(role) {
                    return fail(format!(
                        "escalation deputies name role \"{role}\", which is not in `roles`"
                    ));
                }
                for user in deputies {
                    if let Err(why) = super::text::check_name("deputy", user) {
                        return fail(why.message);
                    }
                }
            }
            if !(1..=10).contains(&e.page_after) {
                return fail(format!(
                    "escalation page_after is {}: it counts deadlines, 1 to 10",
                    e.page_after
                ));
            }
        }
        if let Some(f) = self
            .freezes
            .iter()
            .find(|f| f.from >= f.to || f.name.trim().is_empty())
        {
            return fail(format!(
                "the freeze \"{}\" must have a name and end after it starts",
                f.name
            ));
        }
        if let Some((severity, _)) = self.target_hours.iter().find(|(_, h)| **h == 0) {
            return fail(format!("target_hours for {severity} must be at least 1"));
        }
        Ok(())
    }

    /// The roles a hotfix of this severity needs, or `None` when the severity may not be hotfixed.
    pub fn approvers_for(&self, severity: Severity) -> Option<&[String]> {
        if self.hotfix_severities.contains(&severity) {
            self.approvals.get(&severity).map(Vec::as_slice)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_the_documented_one() {
        let p = Policy::default();
        assert!(p.validate().is_ok());
        assert_eq!(p.approvers_for(Severity::P1).map(<[String]>::len), Some(3));
        assert_eq!(p.approvers_for(Severity::P2).map(<[String]>::len), Some(2));
        assert_eq!(p.approvers_for(Severity::P3), None);
        assert_eq!(p.target_hours.get(&Severity::P1), Some(&4));
    }

    #[test]
    fn invalid_policies_say_what_is_wrong() {
        let mut p = Policy::default();
        p.approvals.insert(Severity::P1, vec!["cto".into()]);
        let err = p.validate().unwrap_err().message;
        assert!(err.contains("\"cto\""), "{err}");
        let err = Policy::from_json("{\"roles\": []}").unwrap_err().message;
        assert!(err.contains("not valid"), "{err}");
        let mut p = Policy::default();
        p.hotfix_severities.push(Severity::P3);
        assert!(p.validate().unwrap_err().message.contains("P3"));
    }

    #[test]
    fn a_promised_period_reads_as_people_write_it_and_nothing_else() {
        for (text, seconds) in [
            ("30m", 1800),
            ("2h", 7200),
            ("1d", 86400),
            ("90m", 5400),
            ("45s", 45),
        ] {
            let every: Every = text.parse().unwrap();
            assert_eq!(every.seconds, seconds);
            assert_eq!(every.to_string().parse::<Every>().unwrap(), every);
        }
        for bad in [
            "",
            "m",
            "5x",
            "0m",
            "0s",
            "+5m",
            "8d",
            "-1h",
            "30é",
            "é",
            "1.5h",
            "99999999999d",
        ] {
            assert!(bad.parse::<Every>().is_err(), "{bad}");
        }
        let json = DEFAULT_POLICY_JSON.replace("\"30m\"", "\"soon\"");
        let e = Policy::from_json(&json).unwrap_err();
        assert!(
            e.message.contains("\"soon\" is not a period"),
            "{}",
            e.message
        );
        assert_eq!(
            Policy::default()
                .update_every
                .get(&Severity::P1)
                .map(|e| e.seconds),
            Some(1800)
        );
    }
}
