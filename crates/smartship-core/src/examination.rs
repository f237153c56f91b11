//! Deciding an operator's review of a basic-information change (an
//! examination): whether it may be decided, and what a pass writes into
//! the app. The store reads a [`ReviewSnapshot`] under the app's lock,
//! asks [`decide_review`], and writes the [`ReviewPlan`] in the same
//! transaction, so that the rules live here once, for both backends.

use crate::profile::{ExamStatus, Field, name_key};
use crate::runtime::ServiceStatus;
use std::collections::BTreeMap;
use std::fmt;

/// What a review is decided on, read under the app's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSnapshot<'a> {
    pub field: Field,
    pub status: ExamStatus,
    /// The asked-for value (for a restoration, its corrections as a JSON
    /// object of `app_name`, `app_desc`, `photo_addr`).
    pub value: &'a str,
    /// The change claims a name and another app holds that name now.
    pub name_held_by_another: bool,
    /// The app's service status now.
    pub service_status: ServiceStatus,
}

/// Why a review is refused; nothing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewRefusal {
    NotFound,
    /// Already decided (its status).
    Decided(ExamStatus),
    /// A pass would give the app a name another app took since: a name is
    /// unique when it is given, not only when it is asked for.
    NameTaken,
    /// A restoration of an app that is no longer taken offline (its
    /// status now): an operator changed it since, and a ban or another
    /// change is not undone by a pass.
    NotOffline(ServiceStatus),
}

/// A column of the app that takes the approved value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovedValue {
    Name { name: String, key: String },
    Photo(String),
    Description(String),
    Categories(String),
}

/// A passed restoration: the app serves again, with the corrections, and
/// the violations of its forced offline are resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restoration {
    pub name: Option<String>,
    pub name_key: Option<String>,
    pub description: Option<String>,
    pub photo_addr: Option<String>,
}

/// What a review writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPlan {
    /// The examination's new status.
    pub status: ExamStatus,
    pub approved: Option<ApprovedValue>,
    pub restore: Option<Restoration>,
}

/// A stored restoration whose corrections are no JSON object of texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableRestoration(pub String);

impl fmt::Display for UnreadableRestoration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "restoration: {}", self.0)
    }
}

/// The review of `snap`, passed or failed. `Err` of the outer result is a
/// stored value that cannot be read (the store's corruption).
pub fn decide_review(
    snap: &ReviewSnapshot<'_>,
    pass: bool,
) -> Result<Result<ReviewPlan, ReviewRefusal>, UnreadableRestoration> {
    if snap.status != ExamStatus::Pending {
        return Ok(Err(ReviewRefusal::Decided(snap.status)));
    }
    if !pass {
        return Ok(Ok(ReviewPlan {
            status: ExamStatus::Failed,
            approved: None,
            restore: None,
        }));
    }
    if snap.name_held_by_another {
        return Ok(Err(ReviewRefusal::NameTaken));
    }
    let value = snap.value.to_owned();
    let (approved, restore) = match snap.field {
        Field::Name => (
            Some(ApprovedValue::Name {
                key: name_key(&value),
                name: value,
            }),
            None,
        ),
        Field::Photo => (Some(ApprovedValue::Photo(value)), None),
        Field::Signature => (Some(ApprovedValue::Description(value)), None),
        Field::Category => (Some(ApprovedValue::Categories(value)), None),
        Field::BasicInfo => (None, None),
        Field::Restore => {
            if snap.service_status != ServiceStatus::ForcedOffline {
                return Ok(Err(ReviewRefusal::NotOffline(snap.service_status)));
            }
            let mut fix: BTreeMap<String, String> = serde_json::from_str(snap.value)
                .map_err(|e| UnreadableRestoration(e.to_string()))?;
            let name = fix.remove("app_name");
            (
                None,
                Some(Restoration {
                    name_key: name.as_deref().map(name_key),
                    name,
                    description: fix.remove("app_desc"),
                    photo_addr: fix.remove("photo_addr"),
                }),
            )
        }
    };
    Ok(Ok(ReviewPlan {
        status: ExamStatus::Passed,
        approved,
        restore,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(field: Field, value: &str) -> ReviewSnapshot<'_> {
        ReviewSnapshot {
            field,
            status: ExamStatus::Pending,
            value,
            name_held_by_another: false,
            service_status: ServiceStatus::Normal,
        }
    }

    fn plan(s: &ReviewSnapshot<'_>, pass: bool) -> Result<ReviewPlan, ReviewRefusal> {
        decide_review(s, pass).expect("readable")
    }

    #[test]
    fn a_pass_writes_the_approved_value_and_a_fail_writes_nothing() {
        let p = plan(&snap(Field::Name, "小店 Shop"), true).unwrap();
        assert_eq!(p.status, ExamStatus::Passed);
        assert_eq!(
            p.approved,
            Some(ApprovedValue::Name {
                name: "小店 Shop".into(),
                key: name_key("小店 Shop"),
            })
        );
        for (field, want) in [
            (Field::Photo, ApprovedValue::Photo("p".into())),
            (Field::Signature, ApprovedValue::Description("p".into())),
            (Field::Category, ApprovedValue::Categories("p".into())),
        ] {
            assert_eq!(plan(&snap(field, "p"), true).unwrap().approved, Some(want));
        }
        let failed = plan(&snap(Field::Name, "x"), false).unwrap();
        assert_eq!(
            (failed.status, failed.approved, failed.restore),
            (ExamStatus::Failed, None, None)
        );
    }

    #[test]
    fn decided_taken_and_no_longer_offline_are_refused() {
        let mut s = snap(Field::Name, "x");
        s.status = ExamStatus::Passed;
        assert_eq!(
            plan(&s, false),
            Err(ReviewRefusal::Decided(ExamStatus::Passed))
        );
        let mut s = snap(Field::Name, "x");
        s.name_held_by_another = true;
        assert_eq!(plan(&s, true), Err(ReviewRefusal::NameTaken));
        assert!(plan(&s, false).is_ok(), "failing a taken name is fine");
        let s = snap(Field::Restore, r#"{"app_desc":"d"}"#);
        assert_eq!(
            plan(&s, true),
            Err(ReviewRefusal::NotOffline(ServiceStatus::Normal))
        );
    }

    #[test]
    fn a_restoration_carries_its_corrections() {
        let mut s = snap(
            Field::Restore,
            r#"{"app_name":"新名字","photo_addr":"/i.png"}"#,
        );
        s.service_status = ServiceStatus::ForcedOffline;
        let r = plan(&s, true).unwrap().restore.unwrap();
        assert_eq!(r.name.as_deref(), Some("新名字"));
        assert_eq!(r.name_key, Some(name_key("新名字")));
        assert_eq!(
            (r.description, r.photo_addr.as_deref()),
            (None, Some("/i.png"))
        );
        s.value = "not json";
        assert!(decide_review(&s, true).is_err());
    }
}
