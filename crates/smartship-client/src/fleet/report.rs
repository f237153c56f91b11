//! The report of a fleet run: every app's outcome and, for failures, why.

use super::{AppRecord, Outcome};
use serde::Serialize;

/// Every app's last record, sorted by app id.
///
/// ```
/// use smartship_client::fleet::{AppRecord, FleetReport, Outcome, Stage};
/// let r = FleetReport::new(vec![AppRecord {
///     app: 7, stage: Stage::Building, outcome: Some(Outcome::Failed), package_id: Some(70),
///     reason: Some("build failed: extPages key \"pages/x\" is no page".into()), code: Some(40001), at: 0,
/// }]);
/// assert_eq!(r.count(Outcome::Failed), 1);
/// assert!(r.to_csv().starts_with("app_id,outcome,stage,package_id,code,reason\n7,failed,building,70,40001,"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetReport {
    /// One record per app.
    pub apps: Vec<AppRecord>,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

impl FleetReport {
    /// A report of these records.
    ///
    /// ```
    /// use smartship_client::fleet::{AppRecord, FleetReport, Stage};
    /// let r = FleetReport::new(vec![AppRecord {
    ///     app: 1, stage: Stage::Uploading, outcome: None, package_id: None, reason: None, code: None, at: 0,
    /// }]);
    /// assert_eq!(r.apps.len(), 1);
    /// ```
    pub fn new(apps: Vec<AppRecord>) -> FleetReport {
        FleetReport { apps }
    }

    /// Apps with `outcome`.
    ///
    /// ```
    /// # use smartship_client::fleet::{AppRecord, FleetReport, Outcome, Stage};
    /// # let rec = |app, outcome| AppRecord { app, stage: Stage::Done, outcome, package_id: None, reason: None, code: None, at: 0 };
    /// let r = FleetReport::new(vec![rec(1, Some(Outcome::Released)), rec(2, Some(Outcome::Released)), rec(3, None)]);
    /// assert_eq!(r.count(Outcome::Released), 2);
    /// assert_eq!(r.count(Outcome::Failed), 0);
    /// ```
    pub fn count(&self, outcome: Outcome) -> usize {
        self.apps
            .iter()
            .filter(|a| a.outcome == Some(outcome))
            .count()
    }

    /// Apps without an outcome (the run was stopped).
    ///
    /// ```
    /// # use smartship_client::fleet::{AppRecord, FleetReport, Outcome, Stage};
    /// # let rec = |app, outcome| AppRecord { app, stage: Stage::Done, outcome, package_id: None, reason: None, code: None, at: 0 };
    /// let r = FleetReport::new(vec![rec(1, Some(Outcome::Built)), rec(2, None)]);
    /// assert_eq!(r.unfinished(), 1);
    /// assert_eq!(r.summary(), "built 1, unfinished 1");
    /// ```
    pub fn unfinished(&self) -> usize {
        self.apps.iter().filter(|a| a.outcome.is_none()).count()
    }

    /// `released 480, failed 12, skipped 8`: the non-zero counts.
    ///
    /// ```
    /// assert_eq!(smartship_client::fleet::FleetReport::new(vec![]).summary(), "no apps");
    /// ```
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Outcome::ALL
            .iter()
            .map(|o| (o, self.count(*o)))
            .filter(|(_, n)| *n > 0)
            .map(|(o, n)| format!("{} {n}", o.as_str()))
            .collect();
        let unfinished = self.unfinished();
        if unfinished > 0 {
            parts.push(format!("unfinished {unfinished}"));
        }
        if parts.is_empty() {
            "no apps".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// `{"summary": {...}, "apps": [...]}`.
    ///
    /// ```
    /// # use smartship_client::fleet::{AppRecord, FleetReport, Outcome, Stage};
    /// # let rec = |app, outcome| AppRecord { app, stage: Stage::Done, outcome, package_id: None, reason: None, code: None, at: 0 };
    /// let json = FleetReport::new(vec![rec(1, Some(Outcome::Failed)), rec(2, None)]).to_json();
    /// assert_eq!(json["summary"]["total"], 2);
    /// assert_eq!(json["summary"]["failed"], 1);
    /// assert_eq!(json["summary"]["unfinished"], 1);
    /// assert_eq!(json["apps"][0]["outcome"], "failed");
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let mut summary = serde_json::Map::new();
        summary.insert("total".to_owned(), self.apps.len().into());
        for o in Outcome::ALL {
            summary.insert(o.as_str().to_owned(), self.count(o).into());
        }
        summary.insert("unfinished".to_owned(), self.unfinished().into());
        serde_json::json!({"summary": summary, "apps": self.apps})
    }

    /// One line per app: `app_id,outcome,stage,package_id,code,reason`.
    ///
    /// ```
    /// # use smartship_client::fleet::{AppRecord, FleetReport, Outcome, Stage};
    /// # let rec = |app, outcome| AppRecord { app, stage: Stage::Done, outcome, package_id: None, reason: None, code: None, at: 0 };
    /// let mut failed = rec(7, Some(Outcome::Failed));
    /// failed.reason = Some("errno 47005: a, b".into()); // quoted: it has a comma
    /// let csv = FleetReport::new(vec![failed, rec(8, None)]).to_csv();
    /// let lines: Vec<_> = csv.lines().collect();
    /// assert_eq!(lines[1], r#"7,failed,done,,,"errno 47005: a, b""#);
    /// assert_eq!(lines[2], "8,unfinished,done,,,");
    /// ```
    pub fn to_csv(&self) -> String {
        let mut out = String::from("app_id,outcome,stage,package_id,code,reason\n");
        for a in &self.apps {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                a.app,
                a.outcome.map(Outcome::as_str).unwrap_or("unfinished"),
                a.stage.as_str(),
                a.package_id.map(|p| p.to_string()).unwrap_or_default(),
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                csv_field(a.reason.as_deref().unwrap_or("")),
            ));
        }
        out
    }

    /// A fixed-width table of `rows` (all apps, or only the failures).
    ///
    /// ```
    /// # use smartship_client::fleet::{AppRecord, FleetReport, Outcome, Stage};
    /// # let rec = |app, outcome| AppRecord { app, stage: Stage::Done, outcome, package_id: None, reason: None, code: None, at: 0 };
    /// let r = FleetReport::new(vec![rec(1, Some(Outcome::Released)), rec(2, Some(Outcome::Failed))]);
    /// let failures = FleetReport::table(r.apps.iter().filter(|a| a.outcome == Some(Outcome::Failed)));
    /// let lines: Vec<_> = failures.lines().collect();
    /// assert!(lines[0].starts_with("APP        OUTCOME"));
    /// assert_eq!(lines.len(), 2);
    /// assert!(lines[1].starts_with("2          failed       done"));
    /// ```
    pub fn table<'a>(rows: impl IntoIterator<Item = &'a AppRecord>) -> String {
        let mut out = format!(
            "{:<10} {:<12} {:<12} {:<10} {:<7} {}\n",
            "APP", "OUTCOME", "STAGE", "PACKAGE", "CODE", "REASON"
        );
        for a in rows {
            out.push_str(&format!(
                "{:<10} {:<12} {:<12} {:<10} {:<7} {}\n",
                a.app,
                a.outcome.map(Outcome::as_str).unwrap_or("unfinished"),
                a.stage.as_str(),
                a.package_id.map(|p| p.to_string()).unwrap_or_default(),
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                crate::terminal::printable(a.reason.as_deref().unwrap_or("")),
            ));
        }
        out
    }
}
