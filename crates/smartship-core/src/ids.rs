//! Identifier newtypes, so that a package id can never be passed where an app
//! id is expected. All are integers on the wire (SPEC §1).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A mini-program (`app_id`, `appId` in events).
    AppId
);
id_type!(
    /// A third-party platform's numeric id (`tpAppId` in events).
    TpId
);
id_type!(
    /// A code package (`package_id`).
    PackageId
);
id_type!(
    /// A template (`template_id`).
    TemplateId
);
id_type!(
    /// A template draft (`draft_id`).
    DraftId
);
