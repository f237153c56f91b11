//! The kinds of pushed events (SPEC §5), by their wire names.

/// What a pushed event tells (its `event` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// To the message URL: a package passed its audit.
    PackageAuditPass,
    /// To the message URL: a package failed its audit, with the reason.
    PackageAuditFail,
    /// To the authorization-event URL: the platform's new ticket.
    Ticket,
    /// An app authorized the platform (or authorized it again).
    Authorized,
    /// An app changed the scopes of an active authorization.
    UpdateAuthorized,
    /// An app ended its authorization.
    Unauthorized,
    /// Release events (opt-in per platform, to the message URL): a
    /// package's build finished.
    PackageBuildSuccess,
    /// A package's build failed; `reason` says why.
    PackageBuildFail,
    /// A package went online (a release, a scheduled release, a phased
    /// release reaching 100 %).
    PackageRelease,
    /// A phased release started, changed percentage, paused, resumed or
    /// was reverted; `grayPercentage` and `grayStatus` tell where it is.
    PackageGrayRelease,
    /// A rollback took effect: the package is the version online again.
    PackageRollback,
}

impl EventKind {
    pub const ALL: [EventKind; 11] = [
        EventKind::PackageAuditPass,
        EventKind::PackageAuditFail,
        EventKind::Ticket,
        EventKind::Authorized,
        EventKind::UpdateAuthorized,
        EventKind::Unauthorized,
        EventKind::PackageBuildSuccess,
        EventKind::PackageBuildFail,
        EventKind::PackageRelease,
        EventKind::PackageGrayRelease,
        EventKind::PackageRollback,
    ];

    /// The release events a platform may subscribe to.
    pub const RELEASE_EVENTS: [EventKind; 5] = [
        EventKind::PackageBuildSuccess,
        EventKind::PackageBuildFail,
        EventKind::PackageRelease,
        EventKind::PackageGrayRelease,
        EventKind::PackageRollback,
    ];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::PackageAuditPass => "PACKAGE_AUDIT_PASS",
            EventKind::PackageAuditFail => "PACKAGE_AUDIT_FAIL",
            EventKind::Ticket => "TICKET",
            EventKind::Authorized => "AUTHORIZED",
            EventKind::UpdateAuthorized => "UPDATE_AUTHORIZED",
            EventKind::Unauthorized => "UNAUTHORIZED",
            EventKind::PackageBuildSuccess => "PACKAGE_BUILD_SUCCESS",
            EventKind::PackageBuildFail => "PACKAGE_BUILD_FAIL",
            EventKind::PackageRelease => "PACKAGE_RELEASE",
            EventKind::PackageGrayRelease => "PACKAGE_GRAY_RELEASE",
            EventKind::PackageRollback => "PACKAGE_ROLLBACK",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Audit results always go out; release events only to platforms that
    /// subscribe to them.
    pub const fn is_audit_result(self) -> bool {
        matches!(
            self,
            EventKind::PackageAuditPass | EventKind::PackageAuditFail
        )
    }

    /// Events about a package (audit results and release events) carry
    /// `packageId` and `version`; the others a payload of their own.
    pub const fn carries_package(self) -> bool {
        self.is_audit_result() || self.is_release_event()
    }

    pub const fn is_release_event(self) -> bool {
        matches!(
            self,
            EventKind::PackageBuildSuccess
                | EventKind::PackageBuildFail
                | EventKind::PackageRelease
                | EventKind::PackageGrayRelease
                | EventKind::PackageRollback
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("package_audit_pass"), None);
        let audit: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|k| k.is_audit_result())
            .collect();
        assert_eq!(
            audit,
            [EventKind::PackageAuditPass, EventKind::PackageAuditFail]
        );
    }
}
