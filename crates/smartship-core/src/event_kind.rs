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
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::PackageAuditPass,
        EventKind::PackageAuditFail,
        EventKind::Ticket,
        EventKind::Authorized,
        EventKind::UpdateAuthorized,
        EventKind::Unauthorized,
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
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Audit results carry a package; the others a payload of their own.
    pub const fn is_audit_result(self) -> bool {
        matches!(
            self,
            EventKind::PackageAuditPass | EventKind::PackageAuditFail
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
