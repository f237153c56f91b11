//! Who asked for a change, as the package history and the audit log name
//! them. One type, so every door spells an actor the same way.

use smartship_core::AppId;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A third-party platform acting for an app with its token (`app:ID`).
    App(AppId),
    /// The operator API's admin token (`admin`).
    Admin,
    /// An operator signed in to the console (`console:USERNAME`).
    Console(String),
    /// A background worker of this server (`worker:NAME`).
    Worker(&'static str),
    /// A review policy of the platform (`policy:NAME`).
    Policy(&'static str),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::App(app) => write!(f, "app:{app}"),
            Actor::Admin => f.write_str("admin"),
            Actor::Console(name) => write!(f, "console:{name}"),
            Actor::Worker(name) => write!(f, "worker:{name}"),
            Actor::Policy(name) => write!(f, "policy:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_spelled_as_the_history_has_always_named_them() {
        assert_eq!(Actor::App(AppId(7)).to_string(), "app:7");
        assert_eq!(Actor::Admin.to_string(), "admin");
        assert_eq!(Actor::Console("li".into()).to_string(), "console:li");
        assert_eq!(Actor::Worker("rollback").to_string(), "worker:rollback");
        assert_eq!(Actor::Policy("auto-pass").to_string(), "policy:auto-pass");
    }
}
