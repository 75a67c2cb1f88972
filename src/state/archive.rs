//! Closed work kept out of the loaded model, so what starts up is what is open.
//!
//! A checkpoint splits a complete model in two: the active part (open incidents, unfinished
//! and recently finished releases, users, policy) and the archive (incidents resolved and
//! releases finished more than [`RECENT_DAYS`] before the newest event, with everything they
//! link also archived, so neither part ever names a record of the other). The active part is
//! a `Model` whose [`Archive`] says how much is left out and which ids it has used.
//!
//! Nothing here changes an answer. The model knows what it lacks: a command that names an
//! archived record, or reads every record (an alert looked up by its source key), asks for
//! the archive first ([`Model::needs_archive`]), as does folding an event that touches one
//! ([`Model::touches_archive`]); lists of open and recent work are exactly what the active
//! part holds, and every other list loads the archive. The property tests hold the two forms
//! to the same answers.

use super::{Command, Event, Incident, IncidentId, IncidentStatus, Model, Release, ReleaseId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How long finished work stays in the active part (and in the cockpit's release list).
pub const RECENT_DAYS: i64 = 14;

/// What a model's active part leaves out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// Incidents and releases not loaded.
    pub incidents: u64,
    pub releases: u64,
    /// The highest ids in use among them (ids are never reused).
    pub last_incident: u64,
    pub last_hotfix: u64,
    pub last_regular: u64,
}

/// A record of the model, by its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    Incident(IncidentId),
    Release(ReleaseId),
}

/// Archived records that link only among themselves (see [`Model::archive_groups`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub incidents: BTreeSet<IncidentId>,
    pub releases: BTreeSet<ReleaseId>,
}

/// The archived records themselves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Archived {
    pub incidents: BTreeMap<IncidentId, Incident>,
    pub releases: BTreeMap<ReleaseId, Release>,
    pub hotfixes_by_incident: BTreeMap<IncidentId, Vec<ReleaseId>>,
}

impl Archive {
    /// Counts `incidents` and `releases` as left out.
    pub fn count(&mut self, incidents: &BTreeSet<IncidentId>, releases: &BTreeSet<ReleaseId>) {
        for id in incidents {
            self.incidents += 1;
            self.last_incident = self.last_incident.max(id.0);
        }
        for id in releases {
            self.releases += 1;
            let last = if id.is_hotfix() {
                &mut self.last_hotfix
            } else {
                &mut self.last_regular
            };
            *last = (*last).max(number(*id));
        }
    }
}

fn number(id: ReleaseId) -> u64 {
    match id {
        ReleaseId::Hotfix(n) | ReleaseId::Regular(n) => n,
    }
}

impl Release {
    /// When a finished release finished (its last milestone); `None` while unfinished.
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.phase
            .is_finished()
            .then(|| self.milestones.last().map_or(self.created_at, |m| m.at))
    }
}

impl Model {
    /// Whether every record is loaded.
    pub fn is_complete(&self) -> bool {
        self.archive.incidents == 0 && self.archive.releases == 0
    }

    /// Finished work newer than this is recent (kept active, listed by the cockpit): the
    /// newest event's time less [`RECENT_DAYS`]. Derived from the log, never the wall clock,
    /// so the active part always holds every recent record.
    pub fn recent_since(&self) -> Option<DateTime<Utc>> {
        self.at.map(|at| at - Duration::days(RECENT_DAYS))
    }

    /// Whether `id` is a record this model has left out (it exists, but is not loaded).
    pub fn incident_archived(&self, id: IncidentId) -> bool {
        self.archive.incidents > 0
            && id.0 <= self.archive.last_incident
            && !self.incidents.contains_key(&id)
    }

    pub fn release_archived(&self, id: ReleaseId) -> bool {
        let last = if id.is_hotfix() {
            self.archive.last_hotfix
        } else {
            self.archive.last_regular
        };
        self.archive.releases > 0 && number(id) <= last && !self.releases.contains_key(&id)
    }

    /// Whether deciding `command` needs the archive loaded: it names an archived record, or
    /// looks through every incident.
    pub fn needs_archive(&self, command: &Command) -> bool {
        if self.is_complete() {
            return false;
        }
        let incident = |id: &IncidentId| self.incident_archived(*id);
        match command {
            Command::ImportAlert { .. } => true,
            Command::ChangeSeverity { id, .. }
            | Command::QualifyIncident { id, .. }
            | Command::ResolveIncident { id, .. }
            | Command::EditIncident { id, .. }
            | Command::RecordReview { id, .. }
            | Command::WaiveReview { id, .. }
            | Command::CompleteAction { id, .. }
            | Command::RecordIncidentNotice { id, .. } => incident(id),
            Command::CreateHotfix { incidents, .. } => incidents.iter().any(incident),
            Command::EditRelease { id, edit } => {
                self.release_archived(*id) || edit.add_incidents.iter().any(incident)
            }
            Command::Decide { id, .. }
            | Command::StartDeploy { id }
            | Command::MarkDeployed { id, .. }
            | Command::VerifyRelease { id, .. }
            | Command::CloseRelease { id, .. }
            | Command::RollBack { id, .. }
            | Command::CancelRelease { id, .. }
            | Command::AddTest { id, .. }
            | Command::SetTestStatus { id, .. }
            | Command::WaiveTest { id, .. }
            | Command::RemoveTest { id, .. }
            | Command::Withdraw { id, .. }
            | Command::ImportTestResults { id, .. }
            | Command::RecordNotice { id, .. }
            | Command::BreakGlass { id, .. }
            | Command::Escalate { id, .. }
            | Command::EscalationFailed { id, .. } => self.release_archived(*id),
            Command::Init
            | Command::InitDemo
            | Command::AddKey { .. }
            | Command::RemoveKey { .. }
            | Command::GrantRole { .. }
            | Command::RevokeRole { .. }
            | Command::Delegate { .. }
            | Command::SetPolicy { .. }
            | Command::ReportIncident { .. }
            | Command::PlanRegularRelease { .. } => false,
        }
    }

    /// Whether folding `event` needs the archive loaded: it touches an archived record.
    pub fn touches_archive(&self, event: &Event) -> bool {
        !self.is_complete()
            && (event.release().is_some_and(|id| self.release_archived(id))
                || event
                    .incidents()
                    .iter()
                    .any(|id| self.incident_archived(*id)))
    }

    /// The records a split would archive: finished or resolved before [`Model::recent_since`],
    /// closed under links (an archived incident's releases and an archived release's incidents
    /// are all archived too).
    pub fn archivable(&self) -> (BTreeSet<IncidentId>, BTreeSet<ReleaseId>) {
        let Some(since) = self.recent_since() else {
            return Default::default();
        };
        let mut releases: BTreeSet<ReleaseId> = self
            .releases
            .values()
            .filter(|r| r.finished_at().is_some_and(|at| at < since))
            // Approvals still owed after a break-glass deploy stay in view (see `waiting`).
            .filter(|r| self.debts(r).iter().all(|d| d.paid.is_some()))
            .map(|r| r.id)
            .collect();
        let mut incidents: BTreeSet<IncidentId> = self
            .incidents
            .values()
            .filter(|i| {
                i.status == IncidentStatus::Resolved
                    && i.resolution.as_ref().is_some_and(|r| r.at < since)
                    // Learning still owed stays in view (see `Model::waiting_on`).
                    && !i.review_due(self)
                    && i.review.as_ref().is_none_or(|r| r.open_actions() == 0)
            })
            .map(|i| i.id)
            .collect();
        // Every release that links an incident, whatever its kind.
        let mut linking: BTreeMap<IncidentId, Vec<ReleaseId>> = BTreeMap::new();
        for r in self.releases.values() {
            for i in &r.scope.incidents {
                linking.entry(*i).or_default().push(r.id);
            }
        }
        for (i, list) in &self.hotfixes_by_incident {
            linking.entry(*i).or_default().extend(list);
        }
        loop {
            let before = (incidents.len(), releases.len());
            incidents.retain(|i| {
                linking
                    .get(i)
                    .is_none_or(|l| l.iter().all(|r| releases.contains(r)))
            });
            releases.retain(|r| {
                self.releases[r]
                    .scope
                    .incidents
                    .iter()
                    .all(|i| incidents.contains(i))
            });
            if (incidents.len(), releases.len()) == before {
                break;
            }
        }
        (incidents, releases)
    }

    /// `incidents` and `releases` (archivable ones, see [`Model::archivable`]) in groups of
    /// about `size` records, each made of whole link components: a record, what it links, what
    /// those link, and so on. One group then answers everything about any record in it, so a
    /// report on one closed release reads its group, not the archive.
    pub fn archive_groups(
        &self,
        incidents: &BTreeSet<IncidentId>,
        releases: &BTreeSet<ReleaseId>,
        size: usize,
    ) -> Vec<Group> {
        let mut links: BTreeMap<IncidentId, BTreeSet<ReleaseId>> = BTreeMap::new();
        for id in releases {
            for i in self
                .releases
                .get(id)
                .into_iter()
                .flat_map(|r| &r.scope.incidents)
            {
                links.entry(*i).or_default().insert(*id);
            }
        }
        for (i, list) in &self.hotfixes_by_incident {
            links.entry(*i).or_default().extend(list);
        }
        let mut seen_incidents = BTreeSet::new();
        let mut seen_releases = BTreeSet::new();
        let mut groups = Vec::new();
        let mut group = Group::default();
        let starts = incidents
            .iter()
            .map(|i| Record::Incident(*i))
            .chain(releases.iter().map(|r| Record::Release(*r)));
        for start in starts {
            let mut todo = vec![start];
            while let Some(record) = todo.pop() {
                match record {
                    Record::Incident(i) if incidents.contains(&i) && seen_incidents.insert(i) => {
                        group.incidents.insert(i);
                        let linked = links.get(&i).into_iter().flatten();
                        todo.extend(linked.map(|r| Record::Release(*r)));
                    }
                    Record::Release(r) if releases.contains(&r) && seen_releases.insert(r) => {
                        group.releases.insert(r);
                        let linked = self.releases.get(&r).into_iter();
                        todo.extend(linked.flat_map(|rel| {
                            rel.scope.incidents.iter().map(|i| Record::Incident(*i))
                        }));
                    }
                    Record::Incident(_) | Record::Release(_) => {}
                }
            }
            if group.incidents.len() + group.releases.len() >= size {
                groups.push(std::mem::take(&mut group));
            }
        }
        if !group.incidents.is_empty() || !group.releases.is_empty() {
            groups.push(group);
        }
        groups
    }

    /// This model without any record: its policy, users and counts, to read archived records
    /// beside (see [`Model::with_part`]).
    pub fn without_records(&self) -> Model {
        Model {
            incidents: BTreeMap::new(),
            releases: BTreeMap::new(),
            hotfixes_by_incident: BTreeMap::new(),
            policy: self.policy.clone(),
            users: self.users.clone(),
            archive: self.archive.clone(),
            illegal: self.illegal.clone(),
            keys: self.keys.clone(),
            origin: self.origin.clone(),
            delegations: self.delegations.clone(),
            ..*self
        }
    }

    /// Adds archived records beside the loaded ones, for a read of them: the model still
    /// counts them as left out, so it never passes for complete.
    pub fn with_part(&self, part: Archived) -> Model {
        let mut model = self.clone();
        model.incidents.extend(part.incidents);
        model.releases.extend(part.releases);
        model.hotfixes_by_incident.extend(part.hotfixes_by_incident);
        model
    }

    /// Whether `record` is one this model has left out.
    pub fn archived(&self, record: Record) -> bool {
        match record {
            Record::Incident(id) => self.incident_archived(id),
            Record::Release(id) => self.release_archived(id),
        }
    }

    /// Moves the archivable records (see [`Model::archivable`]) out of a complete model.
    pub fn split(&mut self) -> Archived {
        let (incidents, releases) = self.archivable();
        self.archive.count(&incidents, &releases);
        let mut out = Archived::default();
        for id in incidents {
            if let Some(i) = self.incidents.remove(&id) {
                out.incidents.insert(id, i);
            }
            if let Some(links) = self.hotfixes_by_incident.remove(&id) {
                out.hotfixes_by_incident.insert(id, links);
            }
        }
        for id in releases {
            if let Some(r) = self.releases.remove(&id) {
                out.releases.insert(id, r);
            }
        }
        out
    }

    /// Puts archived records back: the model is complete again.
    pub fn merge(&mut self, archived: Archived) {
        self.incidents.extend(archived.incidents);
        self.releases.extend(archived.releases);
        self.hotfixes_by_incident
            .extend(archived.hotfixes_by_incident);
        self.archive = Archive::default();
    }

    /// Whether `part`, a model with records left out, is this complete model's fold with them
    /// left out: every other field equal, every record it holds equal to this one's, and the
    /// left-out ones exactly those it counts.
    pub fn agrees_with(&self, part: &Model) -> bool {
        let scalars = self.seq == part.seq
            && self.initialized == part.initialized
            && self.demo == part.demo
            && self.at == part.at
            && self.policy == part.policy
            && self.users == part.users
            && self.illegal == part.illegal;
        let held = part
            .incidents
            .iter()
            .all(|(id, i)| self.incidents.get(id) == Some(i))
            && part
                .releases
                .iter()
                .all(|(id, r)| self.releases.get(id) == Some(r))
            && part
                .hotfixes_by_incident
                .iter()
                .all(|(id, l)| self.hotfixes_by_incident.get(id) == Some(l));
        let counted = self.incidents.len() as u64
            == part.incidents.len() as u64 + part.archive.incidents
            && self.releases.len() as u64 == part.releases.len() as u64 + part.archive.releases;
        scalars && held && counted && self.archive == Archive::default()
    }
}
