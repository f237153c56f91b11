//! The query parameters of the operator API's lists. Each list takes only
//! its own filters: an unknown one is refused (422 `invalid`), so a typo
//! never silently lists everything.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A list's query: `page` and `page_size`, then the list's own filters.
macro_rules! list_query {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Page number, 1 to 1,000,000 (default 1).
            #[param(minimum = 1, maximum = 1000000)]
            pub page: Option<i64>,
            /// Items per page, 1 to 500 (default 50).
            #[param(minimum = 1, maximum = 500)]
            pub page_size: Option<i64>,
            $(
                $(#[$fdoc])*
                pub $field: $ty,
            )*
        }
    };
}

list_query!(
    /// `GET /admin/v1/apps`.
    AppListQuery {
        /// Part of the app's name.
        q: Option<String>,
        /// Apps that authorized this platform.
        client_id: Option<String>,
    }
);

list_query!(
    /// `GET /admin/v1/tps`.
    TpListQuery {}
);

list_query!(
    /// `GET /admin/v1/packages`.
    PackageListQuery {
        /// Packages of this app.
        app_id: Option<i64>,
        /// Packages of this platform's apps.
        client_id: Option<String>,
        /// A state name (`auditing`) or a wire status (`4`).
        #[param(
            pattern = "^(development|auditing|audit_failed|audit_passed|online|rolling_back|history|superseded|rolled_back|[134568])$"
        )]
        state: Option<String>,
        /// `user_version`.
        version: Option<String>,
    }
);

list_query!(
    /// `GET /admin/v1/templates`.
    TemplateListQuery {
        /// Templates of this platform.
        client_id: Option<String>,
    }
);

/// `GET /admin/v1/audit-log`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditLogQuery {
    /// One actor (`app:12`, `console:li.wei`); ending with `:`, every actor of the kind (`console:`).
    pub actor: Option<String>,
    /// Entries whose action starts with this (`POST /admin/v1/`).
    pub action: Option<String>,
    /// Entries on exactly this (`package:12`).
    pub target: Option<String>,
    /// From this time on (Unix seconds).
    pub since: Option<i64>,
    /// Before this time (Unix seconds).
    pub until: Option<i64>,
    /// Entries older than this id: `next_before` of the previous page.
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// `GET /admin/v1/events`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Events of this platform.
    pub client_id: Option<String>,
    /// `pending`, `delivered`, `failed`, `undeliverable` or `discarded`.
    #[param(pattern = "^(pending|delivered|failed|undeliverable|discarded)$")]
    pub status: Option<String>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// `GET /admin/v1/review-queue`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// `GET /admin/v1/examinations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExaminationQuery {
    /// `pending`, `passed` or `failed` (default: all).
    #[param(pattern = "^(pending|passed|failed)$")]
    pub status: Option<String>,
    /// Only this app's.
    #[param(minimum = 1)]
    pub app_id: Option<i64>,
    /// Only those after this `examine_id` (the previous page's `next_after`).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

// ---- request bodies (JSON objects; an unknown field is refused) ----

/// `null` clears a setting, an absent field leaves it.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /admin/v1/tps`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTp {
    /// Generated when absent.
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: Option<String>,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    /// Where audit events go (http or https).
    #[schema(pattern = r"^https?://[^/\s]+")]
    pub message_url: Option<String>,
    /// Where authorization events go (http or https).
    #[schema(pattern = r"^https?://[^/\s]+")]
    pub auth_event_url: Option<String>,
    /// Generated when absent.
    pub msg_token: Option<String>,
    /// 43 base64 characters; generated when absent.
    #[schema(pattern = "^[A-Za-z0-9+/]{43}$")]
    pub encoding_aes_key: Option<String>,
}

/// `PATCH /admin/v1/tps/{client_id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTp {
    /// An http or https URL; `null` removes it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(pattern = r"^https?://[^/\s]+")]
    pub message_url: Option<Option<String>>,
    /// An http or https URL; `null` removes it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(pattern = r"^https?://[^/\s]+")]
    pub auth_event_url: Option<Option<String>>,
    /// `whsec_` and the base64 of at least 16 bytes; `null` removes it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(pattern = "^whsec_[A-Za-z0-9+/=]{22,}$")]
    pub webhook_secret: Option<Option<String>>,
    /// A domain name such as `isv.example`; `null` removes it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(pattern = r"^\.?([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$")]
    pub redirect_domain: Option<Option<String>>,
    /// Comma-separated networks (`203.0.113.0/24,2001:db8::/32`); `null`
    /// removes the allow-list.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_allowlist: Option<Option<String>>,
    /// The release events to subscribe to, replacing the list (`[]`: none):
    /// `PACKAGE_BUILD_SUCCESS`, `PACKAGE_BUILD_FAIL`, `PACKAGE_RELEASE`,
    /// `PACKAGE_GRAY_RELEASE`, `PACKAGE_ROLLBACK`.
    #[serde(default)]
    pub release_events: Option<Vec<String>>,
}

/// `POST /admin/v1/apps`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    /// Generated when absent.
    #[schema(minimum = 1)]
    pub app_id: Option<i64>,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub basic_info_approved: bool,
    #[serde(default)]
    pub authenticity_verified: bool,
}

/// `PATCH /admin/v1/apps/{app_id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    pub name: Option<String>,
    pub basic_info_approved: Option<bool>,
    pub authenticity_verified: Option<bool>,
    /// `normal`, `paused`, `banned` or `forced_offline`: host runtimes are
    /// served only a normal app.
    pub service_status: Option<String>,
    /// Why the app is banned or taken offline (required with `banned` and
    /// `forced_offline`): shown to its platform in `app/info` and
    /// `app/violation`.
    pub reason: Option<String>,
    /// With `forced_offline`: the offending fields, any of `appName`,
    /// `photoAddr`, `appDesc`, comma-separated (`app/offline/update`
    /// corrects them).
    pub illegal_fields: Option<String>,
}

/// `POST /admin/v1/apps/{app_id}/authorize`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorize {
    pub client_id: String,
    /// Comma-separated scopes (default: every scope of the platform).
    pub scopes: Option<String>,
}

/// `POST /admin/v1/apps/{app_id}/admins`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppAdmin {
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub username: String,
    #[schema(min_length = 8)]
    pub password: String,
}

/// `POST /admin/v1/operators`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    /// 1–64 of letters, digits, `.`, `_`, `-`, `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    /// `admin`, `reviewer` or `viewer`.
    #[schema(pattern = "^(admin|reviewer|viewer)$")]
    pub role: String,
    /// 10–256 characters; generated (and returned once) when absent.
    #[serde(default)]
    #[schema(min_length = 10, max_length = 256)]
    pub password: Option<String>,
}

/// `POST /admin/v1/operators/{username}/password`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// 10–256 characters; generated (and returned once) when absent.
    #[serde(default)]
    #[schema(min_length = 10, max_length = 256)]
    pub password: Option<String>,
}

/// `POST /admin/v1/host-keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHostKey {
    /// Who uses the key (the host app), 1–100 characters, one line.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
}

/// `POST /admin/v1/signing-keys/rotate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// Seconds the replaced keys stay published (default a week, 10–31,536,000:
    /// at least the time every node takes to sign with the new key).
    #[schema(minimum = 10, maximum = 31_536_000)]
    pub overlap_secs: Option<i64>,
}

/// `POST /admin/v1/packages/{package_id}/review` and
/// `POST /admin/v1/examinations/{examine_id}/review`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `pass` or `fail`.
    #[schema(pattern = "^(pass|fail)$")]
    pub decision: String,
    /// Needed to fail: shown to the platform. Tab and line breaks are
    /// fine; other control characters and those that reorder or hide text
    /// are not.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]*[^\s\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]*$"
    )]
    pub reason: Option<String>,
}

impl Review {
    pub fn pass() -> Review {
        Review {
            decision: "pass".to_owned(),
            reason: None,
        }
    }

    pub fn fail(reason: impl Into<String>) -> Review {
        Review {
            decision: "fail".to_owned(),
            reason: Some(reason.into()),
        }
    }
}

/// The body of an operator call that takes none (`{}`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}
