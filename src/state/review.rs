//! The post-incident review: what happened, why, what was learned, and the action items that
//! keep it from happening again, each with an owner and a due date. The policy names the
//! severities whose last hotfix cannot close without one (or a qualifier's waiver).

use super::Name;
use super::kinds::IncidentId;
use super::text::{self, MAX_LINE, MAX_TEXT};
use super::{Ctx, Event, Model, Recorded, Rejection, reject};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The most action items one review may list.
pub const MAX_ACTIONS: usize = 50;

/// What a review says, as written (the event's payload and the command's). Every field is
/// written even when empty: the model holds it too, and the snapshot's format (postcard) has no
/// field names to tell a skipped field by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewText {
    pub summary: String,
    /// What set it off (a deploy, a certificate expiry, a traffic spike).
    #[serde(default)]
    pub trigger: String,
    pub root_cause: String,
    #[serde(default)]
    pub factors: String,
    #[serde(default)]
    pub lessons: String,
    #[serde(default)]
    pub actions: Vec<ActionInput>,
}

/// An action item as written: what, who owns it, by when, and where it is tracked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionInput {
    pub what: String,
    pub owner: String,
    pub due: NaiveDate,
    #[serde(default)]
    pub ticket: Option<String>,
}

impl std::str::FromStr for ActionInput {
    type Err = String;
    /// `WHAT|OWNER|YYYY-MM-DD[|TICKET]`, as `--action` takes it and the cockpit's lines.
    fn from_str(s: &str) -> Result<ActionInput, String> {
        let parts: Vec<&str> = s.split('|').map(str::trim).collect();
        let (what, owner, due, ticket) = match parts.as_slice() {
            [what, owner, due] => (what, owner, due, None),
            [what, owner, due, ticket] => (what, owner, due, Some(*ticket)),
            _ => {
                return Err(format!(
                    "the action \"{}\" is not WHAT|OWNER|YYYY-MM-DD[|TICKET], e.g. \"alert on certificate expiry|dana|2026-12-20|OPS-12\"",
                    crate::sanitize::line(s)
                ));
            }
        };
        let due = NaiveDate::parse_from_str(due, "%Y-%m-%d").map_err(|_| {
            format!(
                "the action's due date \"{}\" is not a date such as 2026-12-20",
                crate::sanitize::line(due)
            )
        })?;
        Ok(ActionInput {
            what: what.to_string(),
            owner: owner.to_string(),
            due,
            ticket: ticket.filter(|t| !t.is_empty()).map(String::from),
        })
    }
}

/// The review on record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub text: ReviewText,
    /// Whether each action item is done, by whom and when, in the text's order.
    pub done: Vec<Option<Done>>,
    /// 1 for the first review, one more for each rewrite.
    pub revision: u32,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

/// A qualifier's decision that an incident needs no review, with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewWaiver {
    pub reason: String,
    pub by: Name,
    #[serde(with = "super::stamp")]
    pub at: DateTime<Utc>,
}

/// An action item that is not done and was due before `today`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overdue {
    pub incident: IncidentId,
    /// 1-based, as `review INC-1 --done N` names it.
    pub item: usize,
    pub what: String,
    pub owner: String,
    pub due: NaiveDate,
}

impl Review {
    /// The action items not done that were due before `today`.
    pub fn overdue(&self, incident: IncidentId, today: NaiveDate) -> Vec<Overdue> {
        self.text
            .actions
            .iter()
            .zip(&self.done)
            .enumerate()
            .filter(|(_, (a, done))| done.is_none() && a.due < today)
            .map(|(i, (a, _))| Overdue {
                incident,
                item: i + 1,
                what: a.what.clone(),
                owner: a.owner.clone(),
                due: a.due,
            })
            .collect()
    }

    /// Action items not done yet.
    pub fn open_actions(&self) -> usize {
        self.done.iter().filter(|d| d.is_none()).count()
    }
}

impl super::Incident {
    /// Whether the policy wants a review of this incident and none is on record or waived: a
    /// severity it names, and a hotfix (the policy's rule is about a hotfix's close; an alert
    /// that fired and resolved by itself owes none, though a team may write one).
    pub fn review_due(&self, model: &Model) -> bool {
        model.policy.review_required.contains(&self.severity)
            && self.review.is_none()
            && self.review_waiver.is_none()
            && model.hotfixes_for(self.id).next().is_some()
    }
}

pub(crate) fn decide_record(
    ctx: &Ctx,
    id: IncidentId,
    review: &ReviewText,
) -> Result<Vec<Event>, Rejection> {
    ctx.model.incident(id)?;
    if review.actions.len() > MAX_ACTIONS {
        reject!(
            "the review lists {} action items: the limit is {MAX_ACTIONS}",
            review.actions.len()
        );
    }
    let mut actions = Vec::with_capacity(review.actions.len());
    for (i, a) in review.actions.iter().enumerate() {
        let n = i + 1;
        let owner = text::check_name(&format!("action {n}'s owner"), &a.owner)?;
        if !ctx.model.users.contains_key(owner.as_str()) {
            reject!(
                "action {n}'s owner \"{owner}\" is not a user of this store: name someone who holds a role (see `hotfix user list`)"
            );
        }
        actions.push(ActionInput {
            what: text::required(&format!("action {n}"), &a.what, MAX_LINE)?,
            owner,
            due: a.due,
            ticket: match &a.ticket {
                Some(t) => Some(text::required(
                    &format!("action {n}'s ticket"),
                    t,
                    MAX_LINE,
                )?),
                None => None,
            },
        });
    }
    Ok(vec![Event::ReviewRecorded {
        id,
        review: ReviewText {
            summary: text::required("summary", &review.summary, MAX_TEXT)?,
            trigger: text::optional("trigger", &review.trigger, MAX_TEXT)?,
            root_cause: text::required("root cause", &review.root_cause, MAX_TEXT)?,
            factors: text::optional("contributing factors", &review.factors, MAX_TEXT)?,
            lessons: text::optional("lessons", &review.lessons, MAX_TEXT)?,
            actions,
        },
    }])
}

pub(crate) fn decide_waive(
    ctx: &Ctx,
    id: IncidentId,
    reason: &str,
) -> Result<Vec<Event>, Rejection> {
    let incident = ctx.model.incident(id)?;
    let role = &ctx.model.policy.qualifier_role;
    if !ctx.holds(role) {
        reject!(
            "only the {role} role may waive a post-incident review; {} does not hold it",
            ctx.actor
        );
    }
    if incident.review.is_some() {
        reject!("{id} has a review on record: there is nothing to waive");
    }
    if incident.review_waiver.is_some() {
        reject!("{id}'s review is already waived");
    }
    Ok(vec![Event::ReviewWaived {
        id,
        reason: text::required("reason", reason, MAX_TEXT)?,
    }])
}

pub(crate) fn decide_done(ctx: &Ctx, id: IncidentId, item: usize) -> Result<Vec<Event>, Rejection> {
    let incident = ctx.model.incident(id)?;
    let Some(review) = &incident.review else {
        reject!(
            "{id} has no review, so no action items: record one with `hotfix review {id} --summary ... --root-cause ... --action WHAT|OWNER|YYYY-MM-DD`"
        );
    };
    let count = review.text.actions.len();
    match review.done.get(item.wrapping_sub(1)) {
        None => reject!(
            "{id}'s review has {count} action item{}: there is no item {item}",
            if count == 1 { "" } else { "s" }
        ),
        Some(Some(done)) => reject!(
            "action {item} of {id} was done by {} at {}",
            done.by,
            crate::present::stamp(done.at)
        ),
        Some(None) => Ok(vec![Event::ActionDone { id, item }]),
    }
}

/// Folds a review (`incident::apply` routes the review events here).
pub(crate) fn fold_recorded(model: &mut Model, r: &Recorded, id: IncidentId, review: &ReviewText) {
    let Some(i) = model.incidents.get_mut(&id) else {
        return;
    };
    // A rewrite keeps what was done of the items it keeps (known by their text).
    let before = i.review.take();
    let done = review
        .actions
        .iter()
        .map(|a| {
            before.as_ref().and_then(|b| {
                b.text
                    .actions
                    .iter()
                    .position(|x| x.what == a.what)
                    .and_then(|p| b.done.get(p).cloned().flatten())
            })
        })
        .collect();
    i.review = Some(Review {
        text: review.clone(),
        done,
        revision: before.map_or(1, |b| b.revision + 1),
        by: r.actor.as_str().into(),
        at: r.at,
    });
}

pub(crate) fn fold_waived(model: &mut Model, r: &Recorded, id: IncidentId, reason: &str) {
    if let Some(i) = model.incidents.get_mut(&id) {
        i.review_waiver = Some(ReviewWaiver {
            reason: reason.to_string(),
            by: r.actor.as_str().into(),
            at: r.at,
        });
    }
}

pub(crate) fn fold_done(model: &mut Model, r: &Recorded, id: IncidentId, item: usize) {
    if let Some(slot) = model
        .incidents
        .get_mut(&id)
        .and_then(|i| i.review.as_mut())
        .and_then(|rv| rv.done.get_mut(item.wrapping_sub(1)))
    {
        *slot = Some(Done {
            by: r.actor.as_str().into(),
            at: r.at,
        });
    }
}
