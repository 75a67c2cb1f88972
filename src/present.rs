//! Words for people: one-line descriptions of events and small formatting helpers shared by the
//! CLI and the cockpit, so both faces say the same thing.

use crate::sanitize;
use crate::state::incident::Target;
use crate::state::{Event, Recorded};
use chrono::{DateTime, Duration, Utc};

/// Who decided: "pat for carol" when a deputy decided for a holder.
pub fn acting(actor: &str, on_behalf: Option<&str>) -> String {
    match on_behalf {
        Some(holder) => format!("{actor} for {holder}"),
        None => actor.to_string(),
    }
}

/// One line saying what an event recorded, with stored text escaped.
pub fn describe(r: &Recorded) -> String {
    let s = |t: &str| sanitize::line(t).into_owned();
    match &r.event {
        Event::StoreInitialized { demo: true, .. } => {
            "demo store initialised with the default policy".into()
        }
        Event::StoreInitialized { .. } => "store initialised with the default policy".into(),
        Event::RoleGranted { user, role } => format!("{user} granted {role}"),
        Event::RoleRevoked { user, role } => format!("{user} no longer holds {role}"),
        Event::PolicyReplaced { .. } => "policy replaced".into(),
        Event::RoleDelegated {
            user,
            to,
            role,
            until,
        } if *until <= r.at => format!("{to} no longer stands in for {user} as {role}"),
        Event::RoleDelegated {
            user,
            to,
            role,
            until,
        } => format!(
            "{to} stands in for {user} as {role} until {}",
            until.format("%Y-%m-%d %H:%M UTC")
        ),
        Event::ApprovalEscalated {
            id, role, step, to, ..
        } => {
            let to = if to.is_empty() {
                String::new()
            } else {
                format!(" to {}", to.join(", "))
            };
            format!("{id} {role} approval: {step}{to}")
        }
        Event::EscalationFailed {
            id,
            role,
            step,
            error,
            ..
        } => format!("{id} {role} approval: {step} not sent: {}", s(error)),
        Event::GlassBroken { id, reason } => {
            format!("{id} break-glass by {}: {}", r.actor, s(reason))
        }
        Event::KeyAdded { user, key } => format!(
            "{user}'s SSH key {} recorded",
            crate::state::signing::key_fingerprint(key).unwrap_or_default()
        ),
        Event::KeyRemoved { user, fingerprint } => {
            format!("{user}'s SSH key {} removed", s(fingerprint))
        }
        Event::IncidentReported {
            id,
            title,
            severity,
            ..
        } => format!("{id} reported ({severity}): {}", s(title)),
        Event::IncidentSeverityChanged {
            id,
            from,
            to,
            reason,
        } => {
            format!("{id} severity {from} -> {to}: {}", s(reason))
        }
        Event::IncidentQualified {
            id, decision, risk, ..
        } => {
            format!("{id} qualified: {decision} (risk {risk})")
        }
        Event::IncidentEdited {
            id,
            public,
            impact_since,
            impact_until,
        } => {
            let mut parts = Vec::new();
            if public.is_some() {
                parts.push("public text".to_string());
            }
            if let Some(t) = impact_since {
                parts.push(format!("impact since {}", stamp(*t)));
            }
            if let Some(t) = impact_until {
                parts.push(format!("impact until {}", stamp(*t)));
            }
            format!("{id} edited: {}", parts.join(", "))
        }
        Event::ReviewRecorded { id, review } => format!(
            "{id} post-incident review recorded ({} action item{})",
            review.actions.len(),
            if review.actions.len() == 1 { "" } else { "s" }
        ),
        Event::ReviewWaived { id, reason } => {
            format!("{id} post-incident review waived: {}", s(reason))
        }
        Event::ActionDone { id, item } => format!("{id} review action {item} done"),
        Event::IncidentNoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error,
        } => match error {
            None => format!("{id} {stage} notice for {audience} sent ({})", s(channel)),
            Some(e) => format!(
                "{id} {stage} notice for {audience} NOT sent ({}): {}",
                s(channel),
                s(e)
            ),
        },
        Event::IncidentResolved { id, note, .. } if note.is_empty() => format!("{id} resolved"),
        Event::IncidentResolved { id, note, .. } => format!("{id} resolved: {}", s(note)),
        Event::HotfixCreated {
            id,
            incidents,
            version,
            ..
        } => {
            let list: Vec<String> = incidents.iter().map(ToString::to_string).collect();
            format!(
                "{id} created: version {} fixing {}",
                s(version),
                list.join(", ")
            )
        }
        Event::RegularReleasePlanned {
            id,
            version,
            planned_at,
            ..
        } => match planned_at {
            Some(at) => format!("{id} planned: version {} at {}", s(version), stamp(*at)),
            None => format!("{id} planned: version {}", s(version)),
        },
        Event::ReleaseEdited { id, revision, .. } => {
            format!("{id} edited: scope revision {revision}; earlier approvals are now stale")
        }
        Event::ApprovalGiven {
            id,
            role,
            revision,
            on_behalf,
            ..
        } => format!(
            "{id} revision {revision} approved by {} as {role}",
            acting(&r.actor, on_behalf.as_deref())
        ),
        Event::ApprovalRejected {
            id,
            role,
            reason,
            revision,
            on_behalf,
            ..
        } => {
            format!(
                "{id} revision {revision} rejected by {} as {role}: {}",
                acting(&r.actor, on_behalf.as_deref()),
                s(reason)
            )
        }
        Event::DeployStarted {
            id,
            exempted: Some(n),
            ..
        } => format!("{id} deploying (freeze exempted: {})", s(n)),
        Event::DeployStarted { id, .. } => format!("{id} deploying"),
        Event::ReleaseDeployed {
            id,
            commit,
            artifact,
        } => {
            let what: Vec<String> = commit
                .iter()
                .map(|c| format!("commit {}", c.get(..12).unwrap_or(c)))
                .chain(artifact.iter().map(|a| format!("artifact {a}")))
                .collect();
            if what.is_empty() {
                format!("{id} deployed")
            } else {
                format!("{id} deployed ({}, as approved)", what.join(", "))
            }
        }
        Event::ReleaseVerified { id, note } if note.is_empty() => {
            format!("{id} verified in production")
        }
        Event::ReleaseVerified { id, note } => {
            format!("{id} verified in production: {}", s(note))
        }
        Event::ReleaseClosed {
            id,
            carried_to: Some(c),
        } => format!(
            "{id} closed; its fix is on the mainline at {}",
            c.get(..12).unwrap_or(c)
        ),
        Event::ReleaseClosed { id, .. } => format!("{id} closed"),
        Event::ReleaseRolledBack { id, reason } => format!("{id} rolled back: {}", s(reason)),
        Event::ReleaseCancelled { id, reason } => format!("{id} cancelled: {}", s(reason)),
        Event::TestAdded {
            id, name, priority, ..
        } => format!("{id} test added: {} ({priority})", s(name)),
        Event::TestStatusSet {
            id,
            name,
            status,
            flaky,
            ..
        } => format!(
            "{id} test {}: {status}{}",
            s(name),
            if *flaky {
                " (flaky: after a rerun)"
            } else {
                ""
            }
        ),
        Event::TestWaived { id, name, reason } => {
            format!("{id} test {} waived: {}", s(name), s(reason))
        }
        Event::IncidentNoted { id, note, .. } => format!("{id} noted: {}", s(note)),
        Event::ApprovalWithdrawn { id, role, reason } => {
            format!("{id} approval as {role} withdrawn: {}", s(reason))
        }
        Event::TestRemoved { id, name, reason } => {
            format!("{id} test {} removed: {}", s(name), s(reason))
        }
        Event::Unreadable { claimed, reason } => {
            format!("an unreadable \"{}\" event: {}", s(claimed), s(reason))
        }
        Event::IncidentServicesChanged { id, services } => {
            format!("{id} services now: {}", s(&services.join(", ")))
        }
        Event::NoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error: None,
        } => {
            format!("{id} {stage} notice for {audience} sent ({})", s(channel))
        }
        Event::NoticeRecorded {
            id,
            stage,
            audience,
            channel,
            error: Some(e),
        } => {
            format!(
                "{id} {stage} notice for {audience} NOT sent ({}): {}",
                s(channel),
                s(e)
            )
        }
    }
}

/// `2026-11-27 14:03 UTC`.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A compact duration such as `3h12m`, `45m`, `2d4h`; negative durations are shown as their size.
pub fn span(d: Duration) -> String {
    let mins = d.num_minutes().abs();
    let (days, hours, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    if days > 0 {
        format!("{days}d{hours}h")
    } else if hours > 0 {
        format!("{hours}h{m:02}m")
    } else {
        format!("{m}m")
    }
}

/// A number of seconds as [`span`] shows it; `-` for none (a stage not reached).
pub fn seconds(secs: Option<i64>) -> String {
    secs.map_or_else(|| "-".into(), |s| span(Duration::seconds(s)))
}

/// A duration by its largest unit only: `3h`, `2d`, `49m` (for narrow columns).
pub fn span_short(d: Duration) -> String {
    let mins = d.num_minutes().abs();
    match (mins / 1440, mins / 60) {
        (0, 0) => format!("{mins}m"),
        (0, hours) => format!("{hours}h"),
        (days, _) => format!("{days}d"),
    }
}

/// Time left to a deadline, or how long ago it was breached.
pub fn time_left(deadline: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = deadline - now;
    if d < Duration::zero() {
        format!("breached {} ago", span(d))
    } else {
        format!("{} left", span(d))
    }
}

/// One tier's counts in an import preview: `3 new, 2 passed, 1 failed, 0 skipped, 1 flaky`.
pub fn tier_counts(t: &crate::state::imports::TierCount) -> String {
    let flaky = if t.flaky > 0 {
        format!(", {} flaky", t.flaky)
    } else {
        String::new()
    };
    format!(
        "{} new, {} passed, {} failed, {} skipped{flaky}",
        t.new, t.passed, t.failed, t.skipped
    )
}

/// The target column: time left, how long ago it was breached, or whether a deploy met it.
pub fn target(t: Target, now: DateTime<Utc>) -> String {
    match t {
        Target::None => String::new(),
        Target::Running(deadline) => time_left(deadline, now),
        Target::Deployed { at, deadline, .. } if at <= deadline => {
            format!("met ({} early)", span(deadline - at))
        }
        Target::Deployed { at, deadline, .. } => format!("missed by {}", span(at - deadline)),
    }
}

/// The customer-impact window as recorded: when it began and ended, and how long it lasted.
pub fn impact_window(i: &crate::state::Incident) -> Option<String> {
    match (i.impact_since, i.impact_until) {
        (Some(s), Some(u)) => Some(format!("{} to {} ({})", stamp(s), stamp(u), span(u - s))),
        (Some(s), None) => Some(format!("since {}, no end recorded", stamp(s))),
        (None, Some(u)) => Some(format!("ended {}, no start recorded", stamp(u))),
        (None, None) => None,
    }
}

/// Where an incident's post-incident review stands, in one line.
pub fn review_state(m: &crate::state::Model, i: &crate::state::Incident) -> Option<String> {
    if let Some(r) = &i.review {
        let open = r.open_actions();
        return Some(format!(
            "recorded by {} at {} (revision {}); {} of {} action items open",
            r.by,
            stamp(r.at),
            r.revision,
            open,
            r.text.actions.len()
        ));
    }
    if let Some(w) = &i.review_waiver {
        return Some(format!(
            "waived by {} at {}: {}",
            w.by,
            stamp(w.at),
            sanitize::line(&w.reason)
        ));
    }
    i.review_due(m).then(|| {
        format!(
            "due: none recorded, and {} incidents need one before their last hotfix closes",
            i.severity
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::minutes(45)), "45m");
        assert_eq!(span(Duration::minutes(192)), "3h12m");
        assert_eq!(span(Duration::hours(52)), "2d4h");
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert_eq!(time_left(now + Duration::minutes(30), now), "30m left");
        assert_eq!(
            time_left(now - Duration::minutes(90), now),
            "breached 1h30m ago"
        );
    }
}
