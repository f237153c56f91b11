//! The roles of console operators and what each may do. Every role sees
//! everything; the doors ask here before they act.

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: reviews, actions on apps, event replays.
    Admin,
    /// Passes and fails packages and basic-information changes.
    Reviewer,
    /// Reads only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Reviewer, Role::Viewer];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
        }
    }

    pub fn can_review(self) -> bool {
        matches!(self, Role::Admin | Role::Reviewer)
    }

    /// Acting on apps and events (rollback, pause, replay).
    pub fn can_operate(self) -> bool {
        self == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_they_say() {
        assert!(Role::Admin.can_review() && Role::Admin.can_operate());
        assert!(Role::Reviewer.can_review() && !Role::Reviewer.can_operate());
        assert!(!Role::Viewer.can_review() && !Role::Viewer.can_operate());
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
