//! Where a client connects and how patient it is.

use std::time::Duration;

/// The public platform's open API host, for ISV code that runs against both.
///
/// ```
/// use smartship_client::{ClientConfig, PUBLIC_PLATFORM_BASE_URL};
/// assert_eq!(PUBLIC_PLATFORM_BASE_URL, "https://openapi.baidu.com");
/// assert_eq!(ClientConfig::public_platform().base_url, PUBLIC_PLATFORM_BASE_URL);
/// ```
pub const PUBLIC_PLATFORM_BASE_URL: &str = "https://openapi.baidu.com";

/// Base URL, timeouts and the retry policy of idempotent reads.
///
/// Reads (`package/get`, `package/getdetail`, `package/auditquota`, the
/// template lists, `app/info`) are retried on a transport failure, a gateway
/// rate limit (18) or an internal error (50000), with exponential backoff.
/// Writes are never retried by the client: an upload or a submit that timed
/// out may have happened, and only the caller can check (see the fleet's
/// reconciliation in [`crate::fleet`]).
///
/// ```
/// use smartship_client::{ClientConfig, OpenApiClient};
/// use std::time::Duration;
/// let config = ClientConfig::new("http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(10))
///     .read_retries(3);
/// let client = OpenApiClient::with_config(&config, "APP_TOKEN");
/// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Scheme, host and port, without a trailing slash.
    pub base_url: String,
    /// Limit for a whole request, body included.
    pub timeout: Duration,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// How many times a failed read is tried again.
    pub read_retries: u32,
    /// Wait before the first retry; doubled for each further one (at most 5 s).
    pub retry_backoff: Duration,
}

impl ClientConfig {
    /// Defaults: 30 s timeout, 5 s connect timeout, 2 read retries from 200 ms.
    ///
    /// ```
    /// let c = smartship_client::ClientConfig::new("http://localhost:8080/");
    /// assert_eq!(c.base_url, "http://localhost:8080");
    /// assert_eq!(c.read_retries, 2);
    /// ```
    pub fn new(base_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            read_retries: 2,
            retry_backoff: Duration::from_millis(200),
        }
    }

    /// The public platform ([`PUBLIC_PLATFORM_BASE_URL`]) with the defaults.
    ///
    /// ```
    /// let c = smartship_client::ClientConfig::public_platform();
    /// assert_eq!(c.base_url, "https://openapi.baidu.com");
    /// ```
    pub fn public_platform() -> ClientConfig {
        ClientConfig::new(PUBLIC_PLATFORM_BASE_URL)
    }

    /// Sets the whole-request timeout.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let c = smartship_client::ClientConfig::new("http://h").timeout(Duration::from_secs(3));
    /// assert_eq!(c.timeout, Duration::from_secs(3));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> ClientConfig {
        self.timeout = timeout;
        self
    }

    /// Sets how many times a failed read is retried (0: never).
    ///
    /// ```
    /// let c = smartship_client::ClientConfig::new("http://h").read_retries(0);
    /// assert_eq!(c.read_retries, 0);
    /// ```
    pub fn read_retries(mut self, retries: u32) -> ClientConfig {
        self.read_retries = retries;
        self
    }

    /// Sets the first retry's wait.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let c = smartship_client::ClientConfig::new("http://h").retry_backoff(Duration::ZERO);
    /// assert_eq!(c.retry_backoff, Duration::ZERO);
    /// ```
    pub fn retry_backoff(mut self, backoff: Duration) -> ClientConfig {
        self.retry_backoff = backoff;
        self
    }

    /// The wait before retry number `attempt` (0-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        self.retry_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(Duration::from_secs(5))
    }

    pub(crate) fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("smartship-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client without custom TLS settings always builds")
    }
}
