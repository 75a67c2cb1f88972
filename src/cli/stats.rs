//! `hotfix stats`: the insights of a period as text tables (or JSON, every figure in seconds).

use super::Out;
use super::write::open;
use crate::error::Error;
use crate::present::seconds as time;
use crate::sanitize::line;
use crate::state::insights::{self, Filter, Spread, Stats, WaitStat};
use crate::store::Location;

pub fn stats(out: &Out, at: &Location, since: &str, service: Option<String>) -> Result<(), Error> {
    let now = crate::clock::now();
    let since = insights::parse_since(since, now).map_err(Error::Usage)?;
    let mut store = open(at)?;
    let facts = store.facts(since)?;
    let filter = Filter { since, service };
    let mut s = insights::stats(&facts, &store.model.policy, &filter, now);
    s.overdue_debts = store.model.overdue_debts(now);
    if out.json {
        return out.json(&s);
    }
    print(out, &s);
    Ok(())
}

/// Up to ten ids, then how many more (`--json` has them all).
fn some_ids(ids: &[crate::state::ReleaseId]) -> String {
    let shown: Vec<String> = ids.iter().take(10).map(ToString::to_string).collect();
    match ids.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more (--json lists all)", shown.join(", ")),
    }
}

fn spread_row(name: &str, s: &Spread) -> Vec<String> {
    vec![
        name.to_string(),
        s.count.to_string(),
        time(s.median),
        time(s.p90),
    ]
}

fn waits(out: &Out, title: &str, rows: &[WaitStat]) {
    if rows.is_empty() {
        return;
    }
    out.line("");
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|w| spread_row(&line(&w.by), &w.wait))
        .collect();
    out.table(&[title, "N", "MEDIAN", "P90"], &rows, |_, c| c.to_string());
}

fn print(out: &Out, s: &Stats) {
    let period = match s.since {
        Some(t) => format!("since {}", t.format("%Y-%m-%d %H:%M UTC")),
        None => "in the whole history".into(),
    };
    let scope = s.service.as_deref().map_or_else(
        || "all services".to_string(),
        |x| format!("service {}", line(x)),
    );
    let open = s.hotfixes.iter().filter(|j| j.stages[3].is_none()).count();
    if s.hotfixes.is_empty() {
        out.line(&format!(
            "No hotfixes were created {period} ({scope}): nothing to measure. (`--since all` looks at the whole history.)"
        ));
        return;
    }
    out.line(&out.bold(&format!(
        "{} hotfixes created {period}, {scope} ({open} not deployed)",
        s.hotfixes.len()
    )));
    out.line("");
    // Per hotfix: the newest ones (JSON has them all).
    const NEWEST: usize = 15;
    let rows: Vec<Vec<String>> = s
        .hotfixes
        .iter()
        .rev()
        .take(NEWEST)
        .map(|j| {
            let mut row = vec![
                j.id.to_string(),
                j.severity.map_or_else(|| "-".into(), |x| x.to_string()),
            ];
            row.extend(j.stages.iter().map(|d| time(*d)));
            row.push(match (j.target, j.breached) {
                (None, _) => "-".into(),
                (Some(_), true) => "breached".into(),
                (Some(_), false) if j.stages[3].is_some() => "met".into(),
                (Some(t), false) => format!("{} left", time(Some(t - j.in_flight.unwrap_or(0)))),
            });
            row.push(if j.rolled_back {
                "rolled back".into()
            } else if j.followed_up {
                "followed up".into()
            } else {
                String::new()
            });
            row
        })
        .collect();
    out.table(
        &[
            "HOTFIX",
            "SEV",
            "QUALIFIED",
            "APPROVED",
            "GATE READY",
            "DEPLOYED",
            "VERIFIED",
            "TARGET",
            "",
        ],
        &rows,
        |col, cell| match col {
            7 if cell == "breached" => out.bad(cell),
            7 if cell == "met" => out.good(cell),
            8 if !cell.is_empty() => out.bad(cell),
            _ => cell.to_string(),
        },
    );
    if s.hotfixes.len() > NEWEST {
        out.line(&out.dim(&format!(
            "(the newest {NEWEST} of {}, times from the first report; --json lists every one)",
            s.hotfixes.len()
        )));
    }
    out.line("");
    let rows: Vec<Vec<String>> = s
        .stages
        .iter()
        .map(|(name, sp)| spread_row(name, sp))
        .collect();
    out.table(&["FROM REPORT TO", "N", "MEDIAN", "P90"], &rows, |_, c| {
        c.to_string()
    });
    let slowest = s
        .steps
        .iter()
        .filter_map(|(name, m)| m.map(|m| (name, m)))
        .max_by_key(|(_, m)| *m);
    if let Some((name, m)) = slowest {
        out.line(&format!("slowest step: {name}, median {}", time(Some(m))));
    }
    out.line("");
    for t in &s.targets {
        let share = match &t.met.percent {
            Some(p) => format!("{} of {} met ({p})", t.met.part, t.met.whole),
            None => "none deployed or due yet".into(),
        };
        let breaches = if t.breaches.is_empty() {
            String::new()
        } else {
            format!("; breached: {}", some_ids(&t.breaches))
        };
        out.line(&format!(
            "target {} {}h from report to deployed: {share}{}",
            out.severity(t.severity),
            t.hours,
            if breaches.is_empty() {
                breaches
            } else {
                out.bad(&breaches)
            }
        ));
    }
    let f = &s.failure;
    out.line("");
    match &f.rate.percent {
        None => out.line("change failure rate: no hotfix deployed in the period"),
        Some(p) => out.line(&format!(
            "change failure rate: {} of {} deployed ({p}){}",
            f.rate.part,
            f.rate.whole,
            if f.failed.is_empty() {
                String::new()
            } else {
                format!(": {}", some_ids(&f.failed))
            }
        )),
    }
    if f.time_to_restore.count > 0 || !f.unrestored.is_empty() {
        out.line(&format!(
            "time to restore: median {}, p90 {} ({} restored){}",
            time(f.time_to_restore.median),
            time(f.time_to_restore.p90),
            f.time_to_restore.count,
            if f.unrestored.is_empty() {
                String::new()
            } else {
                format!("; not restored yet: {}", some_ids(&f.unrestored))
            }
        ));
    }
    waits(out, "APPROVAL WAIT BY ROLE", &s.wait_by_role);
    waits(out, "BY APPROVER", &s.wait_by_approver);
    waits(out, "BY WEEKDAY ASKED (UTC)", &s.wait_by_weekday);
    waits(out, "BY HOUR ASKED (UTC)", &s.wait_by_hour);
    if !s.break_glass.is_empty() || !s.overdue_debts.is_empty() {
        let overdue: Vec<String> = s
            .overdue_debts
            .iter()
            .map(|(id, role)| format!("{id} {role}"))
            .collect();
        out.line(&format!(
            "break-glass deploys: {} ({}); approvals owed and overdue: {}",
            s.break_glass.len(),
            some_ids(&s.break_glass),
            if overdue.is_empty() {
                "none".to_string()
            } else {
                overdue.join(", ")
            }
        ));
    }
    if s.stale_approvals > 0 {
        out.line(&format!(
            "{} approvals went stale after a scope edit and were asked for again",
            s.stale_approvals
        ));
    }
    let counts = |title: &str, list: &[insights::Count]| {
        if !list.is_empty() {
            let top: Vec<String> = list
                .iter()
                .take(10)
                .map(|c| format!("{} ({})", line(&c.name), c.count))
                .collect();
            out.line(&format!("{title}: {}", top.join(", ")));
        }
    };
    out.line("");
    counts("flakiest tests", &s.flaky_tests);
    counts("most waived tests", &s.waived_tests);
    if !s.deferred_tests.is_empty() {
        let list: Vec<String> = s
            .deferred_tests
            .iter()
            .take(10)
            .map(|(id, n)| format!("{id} {}", line(n)))
            .collect();
        let more = s.deferred_tests.len().saturating_sub(list.len());
        out.line(&format!(
            "deferred tests never run since: {}{}",
            list.join(", "),
            if more > 0 {
                format!(" and {more} more (--json lists all)")
            } else {
                String::new()
            }
        ));
    }
    let weeks: Vec<&insights::Week> = s.weeks.iter().rev().take(26).collect();
    if !weeks.is_empty() {
        let max = weeks.iter().map(|w| w.hotfixes).max().unwrap_or(0).max(1);
        let bars: String = weeks
            .iter()
            .rev()
            .map(|w| {
                const TICKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
                TICKS[(w.hotfixes * 7).div_ceil(max).min(7)]
            })
            .collect();
        out.line(&format!(
            "hotfixes per week ({} to {}): {bars}",
            weeks.last().map_or("", |w| w.week.as_str()),
            weeks.first().map_or("", |w| w.week.as_str())
        ));
    }
    if !s.held_back.is_empty() {
        let list: Vec<String> = s
            .held_back
            .iter()
            .map(|h| format!("{} {}", h.release, time(Some(h.held))))
            .collect();
        out.line(&format!("regular releases held back: {}", list.join(", ")));
    }
}
