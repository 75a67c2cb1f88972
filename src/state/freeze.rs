//! Deploy freezes: dated windows (a year-end freeze) and a weekly one in a time zone (no
//! deploys on Friday evenings, Berlin time, right across the DST change). A regular release
//! does not deploy in one; a hotfix does, as the exemption the process gives it, and its
//! record says so.

use super::Rejection;
use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// A dated freeze, optionally for some services only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    pub name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(default)]
    pub services: Vec<String>,
}

/// A weekly window: on `days`, from `from` to `to` (local `HH:MM`, `to` excluded) in `tz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    pub days: Vec<String>,
    pub from: String,
    pub to: String,
    pub tz: String,
}

/// The freeze holding deploys at a moment: its name, and when it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub name: String,
    pub ends: DateTime<Utc>,
    /// The end in the window's own zone, for people there (weekly windows).
    pub ends_local: Option<String>,
}

impl Window {
    pub fn until(&self) -> String {
        match &self.ends_local {
            Some(local) => format!("{} ({local})", crate::present::stamp(self.ends)),
            None => crate::present::stamp(self.ends),
        }
    }
}

fn weekday(day: &str) -> Option<Weekday> {
    day.parse::<Weekday>().ok()
}

fn time(t: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(t, "%H:%M").ok()
}

impl Weekly {
    pub fn validate(&self) -> Result<(), Rejection> {
        let fail = |msg: String| Err(Rejection::new(format!("the policy is not valid: {msg}")));
        if self.tz.parse::<chrono_tz::Tz>().is_err() {
            return fail(format!(
                "weekly.tz \"{}\" is not a time zone such as \"Europe/Berlin\"",
                self.tz
            ));
        }
        if self.days.is_empty() {
            return fail("weekly.days names no day".into());
        }
        if let Some(d) = self.days.iter().find(|d| weekday(d).is_none()) {
            return fail(format!(
                "weekly.days has \"{d}\", not a day such as \"Fri\""
            ));
        }
        match (time(&self.from), time(&self.to)) {
            (Some(f), Some(t)) if f < t => Ok(()),
            (Some(_), Some(_)) => {
                fail("weekly.from must be before weekly.to (one day's window)".into())
            }
            _ => fail(format!(
                "weekly.from and weekly.to must be times such as \"16:00\" (got \"{}\" and \"{}\")",
                self.from, self.to
            )),
        }
    }

    /// The window holding `now`, if one does.
    fn at(&self, now: DateTime<Utc>) -> Option<Window> {
        let tz: chrono_tz::Tz = self.tz.parse().ok()?;
        let local = now.with_timezone(&tz);
        let (from, to) = (time(&self.from)?, time(&self.to)?);
        let today = self
            .days
            .iter()
            .filter_map(|d| weekday(d))
            .any(|d| d == local.weekday());
        let t = local.time();
        if !today || t < from || t >= to {
            return None;
        }
        let ends = tz
            .from_local_datetime(&local.date_naive().and_time(to))
            .earliest()?
            .with_timezone(&Utc);
        Some(Window {
            name: format!(
                "weekly freeze ({} {}-{} {})",
                self.days.join("/"),
                self.from,
                self.to,
                self.tz
            ),
            ends,
            ends_local: Some(format!("{} {}", self.to, self.tz)),
        })
    }
}

impl super::Policy {
    /// The freeze that holds deploys of something touching `services` at `now`, if one does
    /// (the one ending last, when several do). An empty `services` (a regular release, which
    /// ships everything) is held by every freeze.
    pub fn frozen(&self, now: DateTime<Utc>, services: &[&str]) -> Option<Window> {
        let dated = self.freezes.iter().filter(|f| {
            f.from <= now
                && now < f.to
                && (f.services.is_empty()
                    || services.is_empty()
                    || f.services.iter().any(|s| services.contains(&s.as_str())))
        });
        dated
            .map(|f| Window {
                name: f.name.clone(),
                ends: f.to,
                ends_local: None,
            })
            .chain(self.weekly.as_ref().and_then(|w| w.at(now)))
            .max_by_key(|w| w.ends)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Policy;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn a_dated_window_holds_from_its_first_second_to_before_its_last() {
        let mut p = Policy::default();
        p.freezes.push(Freeze {
            name: "year-end freeze".into(),
            from: t("2026-12-20T00:00:00Z"),
            to: t("2027-01-04T00:00:00Z"),
            services: vec!["checkout".into()],
        });
        assert!(p.frozen(t("2026-12-19T23:59:59Z"), &[]).is_none());
        assert_eq!(
            p.frozen(t("2026-12-20T00:00:00Z"), &[]).map(|w| w.name),
            Some("year-end freeze".into())
        );
        assert!(p.frozen(t("2027-01-03T23:59:59Z"), &["checkout"]).is_some());
        assert!(p.frozen(t("2027-01-04T00:00:00Z"), &[]).is_none());
        // Scoped to checkout: a hotfix for search is not held.
        assert!(p.frozen(t("2026-12-24T00:00:00Z"), &["search"]).is_none());
    }

    #[test]
    fn a_weekly_window_is_local_time_across_the_dst_night() {
        let p = Policy {
            weekly: Some(Weekly {
                days: vec!["Fri".into()],
                from: "16:00".into(),
                to: "23:59".into(),
                tz: "Europe/Berlin".into(),
            }),
            ..Policy::default()
        };
        assert!(p.weekly.as_ref().is_some_and(|w| w.validate().is_ok()));
        // Friday 23 October 2026, summer time (UTC+2): 16:00 Berlin is 14:00 UTC.
        assert!(p.frozen(t("2026-10-23T13:59:59Z"), &[]).is_none());
        let w = p.frozen(t("2026-10-23T14:00:00Z"), &[]).unwrap();
        assert_eq!(w.ends, t("2026-10-23T21:59:00Z"));
        // Friday 30 October, after the clocks went back (UTC+1): 16:00 Berlin is 15:00 UTC.
        assert!(p.frozen(t("2026-10-30T14:30:00Z"), &[]).is_none());
        assert!(p.frozen(t("2026-10-30T15:00:00Z"), &[]).is_some());
        assert!(p.frozen(t("2026-10-30T22:58:59Z"), &[]).is_some());
        assert!(p.frozen(t("2026-10-30T22:59:00Z"), &[]).is_none());
        // Not on Thursday.
        assert!(p.frozen(t("2026-10-29T15:00:00Z"), &[]).is_none());
        let bad = Weekly {
            days: vec!["Friyay".into()],
            from: "16:00".into(),
            to: "23:59".into(),
            tz: "Mars/Olympus".into(),
        };
        assert!(bad.validate().is_err());
    }
}
