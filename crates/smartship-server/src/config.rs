//! Layered configuration: embedded defaults → TOML file → `SMARTSHIP_*`
//! environment variables → command-line flags. Validated once at start-up so
//! that a bad value stops the server with a message instead of surprising a
//! caller later.

use chrono::FixedOffset;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting of the server. Field names are the TOML keys; the
/// environment variable is `SMARTSHIP_` + the name in upper case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the real address is
    /// logged and written to `<data_dir>/server.json`).
    pub listen: String,
    /// Where the database, blobs and generated files live.
    pub data_dir: PathBuf,
    /// Database URL; default `sqlite:<data_dir>/smartship.db`.
    pub database_url: Option<String>,
    /// Bearer token of the operator API; generated into
    /// `<data_dir>/admin_token` when not set.
    pub admin_token: Option<String>,
    /// Base URL printed in demo output and `server.json`; default from the
    /// bound address.
    pub public_base_url: Option<String>,
    /// Time zone of `commit_time` and event times, as `+08:00`.
    pub timezone: String,
    /// Delay before a requested rollback takes effect.
    pub rollback_delay_secs: f64,
    /// Earlier online versions a rollback may return to, newest first; 0
    /// keeps every one (docs/release.md).
    pub retained_versions: i64,
    /// Audit submissions per app per week; -1 for unlimited.
    pub audit_quota_per_week: i64,
    /// Largest built package, in bytes.
    pub max_package_bytes: u64,
    /// Pre-review check: largest main package (files outside sub-packages).
    pub precheck_main_package_bytes: u64,
    /// Pre-review check: largest package, all files.
    pub precheck_total_package_bytes: u64,
    /// Largest draft (inflated), in bytes.
    pub max_draft_bytes: u64,
    /// Most files in a draft.
    pub max_draft_files: usize,
    /// Drafts a platform may hold that were not made into templates.
    pub max_drafts_per_tp: i64,
    /// Bytes (inflated) those drafts may hold together.
    pub draft_budget_bytes_per_tp: i64,
    /// How often blobs that no row names any more are collected (seconds).
    pub blob_gc_interval_secs: f64,
    /// A blob is collected only when it was last stored longer ago than
    /// this (seconds): longer than any upload or build takes.
    pub blob_gc_grace_secs: f64,
    /// Templates per third-party platform (the public platform allows 50).
    pub max_templates: i64,
    /// Parallel package builds.
    pub build_workers: usize,
    /// How long a claimed build is reserved for its worker before another
    /// (of any node) may take it: covers a node that died mid-build on
    /// another host (seconds).
    pub build_lease_secs: f64,
    /// Lifetime of app access tokens minted by operators, in seconds.
    pub app_token_ttl_secs: i64,
    /// Lifetime of third-party platform tokens, in seconds.
    pub tp_token_ttl_secs: i64,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Delays between delivery attempts of an event, in seconds, comma
    /// separated; after the last one the event is marked failed.
    #[serde(deserialize_with = "string_or_number")]
    pub events_retry_schedule: String,
    /// Timeout of one delivery request, in seconds.
    pub events_timeout_secs: f64,
    /// How long a claimed event is reserved for one attempt before another
    /// worker may take it (covers a crash mid-delivery), in seconds.
    pub events_lease_secs: f64,
    /// Deliveries in flight at once.
    pub events_concurrency: usize,
    /// Who reviews submitted packages: `manual` (an operator, through the
    /// operator API) or `auto-pass` (every submitted package passes; for
    /// sandboxes and tests).
    pub review_policy: ReviewPolicy,
    /// Requests per second allowed per access token (a burst of twice as
    /// many is absorbed); 0 turns the limit off. Answered with gateway 18.
    pub rate_limit_per_token: f64,
    /// How often each third-party platform gets a new ticket pushed to its
    /// authorization-event URL, in seconds.
    pub ticket_interval_secs: f64,
    /// Networks (comma-separated CIDRs, e.g. `127.0.0.0/8,::1/128`) that
    /// event URLs may point to although private, loopback or link-local.
    pub events_allowed_networks: String,
    /// Password sign-ins (consent pages): failures counted per account and
    /// per address within this window, in seconds; at the limit, further
    /// attempts are refused until the window ends.
    pub signin_window_secs: f64,
    /// Failures of one account within the window that lock it.
    pub signin_max_failures_per_account: u32,
    /// How long a console sign-in lasts (seconds); sign-out, a password
    /// reset or the operator's removal end it sooner.
    pub console_session_secs: f64,
    /// The reasons a reviewer picks from when failing a package or a
    /// basic-information change in the console (then edits if needed).
    pub console_reason_templates: Vec<String>,
    /// Failures from one address within the window that lock it.
    pub signin_max_failures_per_address: u32,
    /// The base-library versions host runtimes offer, as
    /// `app/getsupportversion` lists them and `app/setsupportversion`
    /// accepts them (dotted numbers, at most 200).
    pub base_library_versions: Vec<String>,
    /// A connection with no bytes either way for this long, between requests
    /// or inside a body, is closed (seconds).
    pub http_idle_timeout_secs: f64,
    /// A request head not complete this long after its first byte is cut
    /// off (seconds): slowloris clients.
    pub http_header_timeout_secs: f64,
    /// Open connections at most; more wait in the kernel's backlog. Lowered
    /// to what the process's open-file limit leaves room for.
    pub max_connections: usize,
    /// Bytes of form and multipart bodies being received at once, across
    /// all requests; a request past it is refused with 47019.
    pub max_body_bytes_in_flight: u64,
    /// What the retention worker deletes once this old (days): expired or
    /// revoked tokens, expired codes, superseded tickets, delivery attempts
    /// of settled events.
    pub retention_days: f64,
    /// How often the retention worker runs (seconds).
    pub retention_interval_secs: f64,
    /// Rows of each kind deleted per transaction.
    pub retention_batch: i64,
    /// Audit log entries older than this many days are deleted by the
    /// retention worker; 0 keeps them for ever.
    pub audit_retention_days: f64,
    /// Calls refused for want of credentials are counted per client
    /// address over windows this long (seconds), one audit entry per
    /// address and window.
    pub audit_refused_window_secs: f64,
    /// How long a host may act on a signed update answer (seconds): the
    /// v2 signature's `expires_at` is this long after `issued_at`.
    pub update_answer_ttl_secs: f64,
    /// What this node does: `all` serves the APIs and runs the workers,
    /// `api` only serves, `worker` only runs the workers (and answers
    /// `/healthz` and `/readyz`). Several nodes on one PostgreSQL database
    /// may each take any role.
    pub role: Role,
    /// The node's name in every log line; default `HOST/PID`.
    pub node_name: Option<String>,
    /// On SIGTERM, how long the node keeps serving while `/readyz` answers
    /// 503, so that a load balancer takes it out of rotation before it
    /// stops accepting connections (seconds).
    pub shutdown_drain_secs: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            admin_token: None,
            public_base_url: None,
            timezone: "+08:00".to_owned(),
            rollback_delay_secs: 3.0,
            retained_versions: 0,
            audit_quota_per_week: 10,
            max_package_bytes: 16 << 20,
            precheck_main_package_bytes: 2 << 20,
            precheck_total_package_bytes: 20 << 20,
            max_draft_bytes: 32 << 20,
            max_draft_files: 5000,
            max_drafts_per_tp: 100,
            draft_budget_bytes_per_tp: 1 << 30,
            blob_gc_interval_secs: 3_600.0,
            blob_gc_grace_secs: 3_600.0,
            max_templates: 50,
            build_workers: 2,
            build_lease_secs: 120.0,
            app_token_ttl_secs: 3600,
            tp_token_ttl_secs: 30 * 24 * 3600,
            log_format: "text".to_owned(),
            events_retry_schedule: "5,300,1800,7200,18000,36000,36000".to_owned(),
            events_timeout_secs: 10.0,
            events_lease_secs: 60.0,
            events_concurrency: 32,
            events_allowed_networks: String::new(),
            ticket_interval_secs: 600.0,
            rate_limit_per_token: 100.0,
            review_policy: ReviewPolicy::Manual,
            signin_window_secs: 900.0,
            signin_max_failures_per_account: 5,
            console_session_secs: 8.0 * 3600.0,
            console_reason_templates: default_reason_templates(),
            base_library_versions: smartship_core::versions::DEFAULT_BASE_LIBRARIES
                .map(str::to_owned)
                .to_vec(),
            signin_max_failures_per_address: 20,
            http_idle_timeout_secs: 60.0,
            http_header_timeout_secs: 10.0,
            max_connections: 10_000,
            max_body_bytes_in_flight: 2 << 30,
            retention_days: 30.0,
            retention_interval_secs: 3600.0,
            retention_batch: 500,
            audit_retention_days: 365.0,
            audit_refused_window_secs: 60.0,
            update_answer_ttl_secs: 86_400.0,
            role: Role::All,
            node_name: None,
            shutdown_drain_secs: 0.0,
        }
    }
}

/// Accepts `"5,300"` and also a bare number: an environment variable such as
/// `SMARTSHIP_EVENTS_RETRY_SCHEDULE=60` arrives as a number.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        I(i64),
        F(f64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::I(i) => i.to_string(),
        Raw::F(f) => f.to_string(),
    })
}

/// A configuration error, naming the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// Who reviews submitted packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewPolicy {
    /// An operator passes or fails each package (operator API, CLI).
    Manual,
    /// Every submitted package passes (sandboxes and tests).
    AutoPass,
}

impl ReviewPolicy {
    /// The configuration and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReviewPolicy::Manual => "manual",
            ReviewPolicy::AutoPass => "auto-pass",
        }
    }
}

/// What a node does (the `role` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The APIs and the workers.
    All,
    /// The open API, the operator API and the consent pages; no workers.
    Api,
    /// The workers (builds, deliveries, rollbacks, tickets, reviews,
    /// retention); of HTTP only `/healthz` and `/readyz`.
    Worker,
}

impl Role {
    pub const fn serves_api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }

    pub const fn runs_workers(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Worker => "worker",
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment, then
    /// `overrides` (typically command-line flags, as a partial TOML-like map).
    pub fn load(file: Option<&Path>, overrides: Figment) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(format!(
                    "config file {} not found",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        // Only the variables that name a setting: others share the prefix
        // (SMARTSHIP_LOG for the log filter, test and tool variables).
        let keys: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let env = Env::prefixed("SMARTSHIP_").filter(move |k| keys.iter().any(|s| k == s.as_str()));
        let fig = fig.merge(env).merge(overrides);
        let cfg: Config = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The configuration a TOML document gives over the defaults, checked
    /// (environment variables not read): for the fuzz target and tests.
    pub fn from_toml_str(toml: &str) -> Result<Config, ConfigError> {
        let cfg: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(toml))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every value that can be wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError(format!("listen {:?}: {e}", self.listen)))?;
        self.tz()?;
        if !(0.0..=86_400.0).contains(&self.rollback_delay_secs) {
            return Err(ConfigError(
                "rollback_delay_secs must be between 0 and 86400".into(),
            ));
        }
        if self.base_library_versions.is_empty() || self.base_library_versions.len() > 200 {
            return Err(ConfigError(
                "base_library_versions must list 1 to 200 versions".into(),
            ));
        }
        smartship_core::versions::sorted(&self.base_library_versions)
            .map_err(|e| ConfigError(format!("base_library_versions: {e}")))?;
        if !(0..=100_000).contains(&self.retained_versions) {
            return Err(ConfigError(
                "retained_versions must be between 0 (all) and 100000".into(),
            ));
        }
        if self.precheck_main_package_bytes == 0 || self.precheck_total_package_bytes == 0 {
            return Err(ConfigError(
                "precheck_main_package_bytes and precheck_total_package_bytes must be above 0"
                    .into(),
            ));
        }
        if self.audit_quota_per_week < -1 {
            return Err(ConfigError(
                "audit_quota_per_week must be -1 (unlimited) or >= 0".into(),
            ));
        }
        if self.build_workers == 0 || self.build_workers > 64 {
            return Err(ConfigError("build_workers must be 1..=64".into()));
        }
        if !(5.0..=86_400.0).contains(&self.build_lease_secs) {
            return Err(ConfigError(
                "build_lease_secs must be between 5 and 86400".into(),
            ));
        }
        if self.max_templates < 1 {
            return Err(ConfigError("max_templates must be >= 1".into()));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError("log_format must be text or json".into()));
        }
        self.retry_schedule()?;
        crate::net_guard::NetworkPolicy::parse(&self.events_allowed_networks)
            .map_err(|e| ConfigError(format!("events_allowed_networks: {e}")))?;
        if !(0.1..=300.0).contains(&self.events_timeout_secs) {
            return Err(ConfigError("events_timeout_secs must be 0.1..=300".into()));
        }
        if self.events_lease_secs <= self.events_timeout_secs {
            return Err(ConfigError(
                "events_lease_secs must be longer than events_timeout_secs".into(),
            ));
        }
        if !(0.0..=1_000_000.0).contains(&self.rate_limit_per_token) {
            return Err(ConfigError(
                "rate_limit_per_token must be 0..=1000000".into(),
            ));
        }
        if !(0.1..=86_400.0).contains(&self.ticket_interval_secs) {
            return Err(ConfigError(
                "ticket_interval_secs must be 0.1..=86400".into(),
            ));
        }
        if self.events_concurrency == 0 || self.events_concurrency > 4096 {
            return Err(ConfigError("events_concurrency must be 1..=4096".into()));
        }
        for (name, v) in [
            ("http_idle_timeout_secs", self.http_idle_timeout_secs),
            ("http_header_timeout_secs", self.http_header_timeout_secs),
        ] {
            if !(0.05..=86_400.0).contains(&v) {
                return Err(ConfigError(format!(
                    "{name} must be between 0.05 and 86400"
                )));
            }
        }
        if self.max_body_bytes_in_flight < self.max_draft_bytes + (1 << 20) {
            return Err(ConfigError(
                "max_body_bytes_in_flight must hold at least one draft upload (max_draft_bytes + 1 MiB)".into(),
            ));
        }
        if self.max_connections == 0 {
            return Err(ConfigError("max_connections must be at least 1".into()));
        }
        if !(0.001..=86_400.0 * 30.0).contains(&self.signin_window_secs) {
            return Err(ConfigError(
                "signin_window_secs must be between 0.001 and 2592000".into(),
            ));
        }
        if !(60.0..=86_400.0 * 30.0).contains(&self.console_session_secs) {
            return Err(ConfigError(
                "console_session_secs must be between 60 and 2592000".into(),
            ));
        }
        if self
            .console_reason_templates
            .iter()
            .any(|t| t.trim().is_empty() || t.chars().count() > 1000)
        {
            return Err(ConfigError(
                "console_reason_templates: each reason must have 1 to 1000 characters".into(),
            ));
        }
        if self.signin_max_failures_per_account == 0 || self.signin_max_failures_per_address == 0 {
            return Err(ConfigError(
                "signin_max_failures_per_account and signin_max_failures_per_address must be at least 1".into(),
            ));
        }
        if !(0.001..=36_500.0).contains(&self.retention_days) {
            return Err(ConfigError(
                "retention_days must be between 0.001 and 36500".into(),
            ));
        }
        if !(0.1..=86_400.0).contains(&self.retention_interval_secs) {
            return Err(ConfigError(
                "retention_interval_secs must be between 0.1 and 86400".into(),
            ));
        }
        if !(1..=100_000).contains(&self.max_drafts_per_tp) {
            return Err(ConfigError("max_drafts_per_tp must be 1..=100000".into()));
        }
        if self.draft_budget_bytes_per_tp < self.max_draft_bytes as i64 {
            return Err(ConfigError(
                "draft_budget_bytes_per_tp must be at least max_draft_bytes".into(),
            ));
        }
        if !(1.0..=30.0 * 86_400.0).contains(&self.blob_gc_interval_secs) {
            return Err(ConfigError(
                "blob_gc_interval_secs must be between 1 and 2592000".into(),
            ));
        }
        if !(1.0..=30.0 * 86_400.0).contains(&self.blob_gc_grace_secs) {
            return Err(ConfigError(
                "blob_gc_grace_secs must be between 1 and 2592000 (longer than any upload takes)"
                    .into(),
            ));
        }
        if !(60.0..=30.0 * 86_400.0).contains(&self.update_answer_ttl_secs) {
            return Err(ConfigError(
                "update_answer_ttl_secs must be between 60 and 2592000 (30 days)".into(),
            ));
        }
        if !(1.0..=3_600.0).contains(&self.audit_refused_window_secs) {
            return Err(ConfigError(
                "audit_refused_window_secs must be between 1 and 3600".into(),
            ));
        }
        if !(0.0..=36_500.0).contains(&self.audit_retention_days) {
            return Err(ConfigError(
                "audit_retention_days must be between 0 (keep) and 36500".into(),
            ));
        }
        if !(1..=100_000).contains(&self.retention_batch) {
            return Err(ConfigError(
                "retention_batch must be between 1 and 100000".into(),
            ));
        }
        if let Some(n) = &self.node_name
            && (n.is_empty() || n.len() > 100 || n.chars().any(char::is_control))
        {
            return Err(ConfigError(
                "node_name must be 1 to 100 characters, none a control character".into(),
            ));
        }
        if !(0.0..=300.0).contains(&self.shutdown_drain_secs) {
            return Err(ConfigError(
                "shutdown_drain_secs must be between 0 and 300".into(),
            ));
        }
        if let Some(t) = &self.admin_token
            && t.len() < 16
        {
            return Err(ConfigError(
                "admin_token must have at least 16 characters".into(),
            ));
        }
        Ok(())
    }

    /// The name this node writes in its log lines.
    pub fn node_name(&self) -> String {
        self.node_name.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".to_owned());
            format!("{host}/{}", std::process::id())
        })
    }

    /// How long a stopping node keeps serving with `/readyz` at 503.
    pub fn shutdown_drain(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.shutdown_drain_secs)
    }

    /// The connection timeouts.
    pub fn http_timeouts(&self) -> crate::lenient_http::Timeouts {
        crate::lenient_http::Timeouts {
            idle: std::time::Duration::from_secs_f64(self.http_idle_timeout_secs),
            header: std::time::Duration::from_secs_f64(self.http_header_timeout_secs),
        }
    }

    /// The sign-in throttle's limits.
    pub fn sign_in_limits(&self) -> crate::sign_in_throttle::Limits {
        crate::sign_in_throttle::Limits {
            window: std::time::Duration::from_secs_f64(self.signin_window_secs),
            per_account: self.signin_max_failures_per_account,
            per_address: self.signin_max_failures_per_address,
        }
    }

    /// The configured time zone.
    /// `audit_refused_window_secs` in milliseconds.
    pub fn audit_refused_window_ms(&self) -> i64 {
        (self.audit_refused_window_secs * 1000.0) as i64
    }

    pub fn tz(&self) -> Result<FixedOffset, ConfigError> {
        self.timezone.parse::<FixedOffset>().map_err(|_| {
            ConfigError(format!(
                "timezone {:?}: expected like +08:00",
                self.timezone
            ))
        })
    }

    /// The retry schedule as delays.
    pub fn retry_schedule(&self) -> Result<Vec<std::time::Duration>, ConfigError> {
        let mut out = Vec::new();
        for part in self.events_retry_schedule.split(',') {
            let secs: f64 = part.trim().parse().map_err(|_| {
                ConfigError(format!(
                    "events_retry_schedule: {part:?} is not a number of seconds"
                ))
            })?;
            if !(0.0..=7.0 * 86_400.0).contains(&secs) {
                return Err(ConfigError(format!(
                    "events_retry_schedule: {secs} is not between 0 and 7 days"
                )));
            }
            out.push(std::time::Duration::from_secs_f64(secs));
        }
        Ok(out)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.data_dir.join("smartship.db").display()))
    }
}

/// The reasons offered when a reviewer fails something, until the
/// configuration names its own.
fn default_reason_templates() -> Vec<String> {
    [
        "页面存在无法打开或空白的情况，请修复后重新提审。",
        "代码中使用了 eval、new Function 或远程脚本，请移除后重新提审。",
        "小程序调用隐私接口但未声明用途，请补充隐私声明。",
        "测试账号无法登录，请提供可用的测试账号。",
        "版本描述与实际功能不符，请修改后重新提审。",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    #[test]
    fn the_review_policy_is_one_of_two_names() {
        let auto = Config::from_toml_str("review_policy = \"auto-pass\"").unwrap();
        assert_eq!(auto.review_policy, ReviewPolicy::AutoPass);
        let err = Config::from_toml_str("review_policy = \"sometimes\"")
            .unwrap_err()
            .0;
        assert!(
            err.contains("review_policy") && err.contains("auto-pass"),
            "{err}"
        );
    }

    #[test]
    fn defaults_validate_and_overrides_win() {
        let over = Figment::from(Serialized::defaults(
            serde_json::json!({"rollback_delay_secs": 0.5}),
        ));
        let cfg = Config::load(None, over).unwrap();
        assert_eq!(cfg.rollback_delay_secs, 0.5);
        assert_eq!(cfg.tz().unwrap().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn a_single_number_is_a_schedule() {
        let over = Figment::from(Serialized::defaults(
            serde_json::json!({"events_retry_schedule": 60}),
        ));
        let cfg = Config::load(None, over).unwrap();
        assert_eq!(
            cfg.retry_schedule().unwrap(),
            [std::time::Duration::from_secs(60)]
        );
    }

    #[test]
    fn bad_values_are_named() {
        let over = Figment::from(Serialized::defaults(
            serde_json::json!({"timezone": "Mars"}),
        ));
        let e = Config::load(None, over).unwrap_err();
        assert!(e.0.contains("timezone"), "{e}");
        let over = Figment::from(Serialized::defaults(serde_json::json!({"listen": "nope"})));
        assert!(Config::load(None, over).unwrap_err().0.contains("listen"));
    }
}
