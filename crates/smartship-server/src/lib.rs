//! The smartship server: the `/rest/2.0` open API, the `/admin/v1` operator
//! API and the background workers, in one process.
//!
//! Requests flow one way: handler parses and authenticates → core decides →
//! store persists (the decision, its history and its event in one
//! transaction) → workers act on what was stored.

pub mod admin;
pub mod api_doc;
pub mod audit;
pub mod body_budget;
pub mod clock;
pub mod config;

pub mod console;
pub mod demo;
pub mod home;
pub mod html_page;
pub mod json_error;
pub mod lenient_http;
pub mod metrics;
pub mod net_guard;
pub mod openapi;
pub mod passwords;
pub mod rate_limit;
pub mod request_id;
pub mod runtime;
pub mod service;
pub mod sign_in_throttle;
pub mod state;
pub mod storage_failure;
pub mod tokens;
pub mod wire;
pub mod workers;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use config::Config;
use smartship_store::Store;
use state::{AppState, Inner};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long a stopping server waits for requests in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Options that are not configuration (they change what starts, not how).
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions {
    /// Seed demo data and write `demo.json`.
    pub demo: bool,
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub base_url: String,
    pub state: AppState,
    pub demo: Option<demo::DemoInfo>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    audit_writer: JoinHandle<()>,
    http: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the server has stopped (after the shutdown token fires).
    pub async fn wait(self) -> anyhow::Result<()> {
        // In-flight requests get a grace period once the stop is asked for;
        // a connection that never finishes (a client that stopped sending a
        // body) must not keep the process from exiting.
        let mut http = self.http;
        let drain = self.state.config.shutdown_drain();
        let grace = async {
            self.shutdown.cancelled().await;
            tokio::time::sleep(drain + SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            r = &mut http => r.context("http task")??,
            _ = grace => {
                tracing::warn!(
                    grace_secs = SHUTDOWN_GRACE.as_secs(),
                    "connections still open after the shutdown grace period: closing them"
                );
                http.abort();
            }
        }
        for t in self.tasks {
            let _ = t.await;
        }
        // No request and no worker can add an entry now: the writer
        // stores what is left and ends.
        self.state.audit.close();
        let _ = self.audit_writer.await;
        // The workers have stopped: what they still held (a build, a
        // delivery cut short) is given back now, for another node to take
        // at once rather than when the leases run out.
        match service::housekeeping::give_back_own_leases(&self.state).await {
            Ok(r) if r != Default::default() => tracing::info!(
                builds = r.builds,
                events = r.events,
                "gave back the leases of unfinished work"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not give back this node's leases; they end when they expire")
            }
        }
        remove_server_file(&self.state.config.data_dir.join("server.json"));
        Ok(())
    }

    /// Stops accepting requests, lets in-flight ones finish, stops workers.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}

/// Writes via a temporary file and rename, so readers never see half a file.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The configured connection cap, lowered so that the open-file limit
/// keeps room for the database, blobs and outgoing deliveries: a server at
/// its file limit would fail every accept and every file it opens.
fn connection_cap(configured: usize) -> usize {
    const RESERVED_FILES: u64 = 256;
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            // rlim_t is u64 on Linux but not on every Unix.
            #[allow(clippy::unnecessary_cast)]
            let room = (limit.rlim_cur as u64)
                .saturating_sub(RESERVED_FILES)
                .max(16);
            let cap = configured.min(usize::try_from(room).unwrap_or(usize::MAX));
            if cap < configured {
                tracing::warn!(
                    configured,
                    cap,
                    open_file_limit = limit.rlim_cur,
                    "max_connections lowered to what the open-file limit allows"
                );
            }
            return cap;
        }
    }
    configured
}

/// Removes `server.json` on a clean stop, so that no tool reads the address
/// and pid of a server that is gone. Left alone when another process has
/// written it since (two servers on one data directory).
fn remove_server_file(path: &Path) {
    let ours = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["pid"].as_u64() == Some(u64::from(std::process::id())));
    if ours && let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(path = %path.display(), error = %e, "could not remove server.json");
    }
}

fn admin_token(config: &Config) -> anyhow::Result<String> {
    if let Some(t) = &config.admin_token {
        return Ok(t.clone());
    }
    let path = config.data_dir.join("admin_token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_owned());
    }
    let token = tokens::generate("admin");
    write_file_atomically(&path, token.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    tracing::info!(path = %path.display(), "generated the admin token");
    Ok(token)
}

async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    smartship_store::open(&url)
        .await
        .with_context(|| format!("opening the store at {}", redacted(&url)))
}

/// A database URL without its password, for messages and logs.
/// A database URL as it may be printed: its password, if any, masked.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Routes outside the two APIs that clients and load balancers use.
fn service_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// Whether this node should get traffic.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Readiness {
    /// `true` when the node is ready.
    ready: bool,
    /// The node's role: `all`, `api` or `worker`.
    role: &'static str,
    /// Why it is not ready: `draining`, `database_unreachable`,
    /// `migrations_pending` or `schema_newer_than_node`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// The database's schema version and the one this node expects (absent
    /// when the database could not be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_schema_version: Option<i64>,
}

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The node can serve: its database answers within 2 s with the schema this
/// build expects, and it is not stopping. A load balancer sends traffic
/// only to nodes that answer 200 here.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "service",
    operation_id = "readyz",
    responses(
        (status = 200, description = "ready", body = Readiness),
        (status = 503, description = "not ready, with the reason", body = Readiness),
    )
)]
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, axum::Json<Readiness>) {
    let mut r = Readiness {
        ready: false,
        role: state.config.role.as_str(),
        reason: None,
        schema_version: None,
        expected_schema_version: None,
    };
    if state.stopping.is_cancelled() {
        r.reason = Some("draining");
    } else {
        match tokio::time::timeout(READY_TIMEOUT, state.store.schema_state()).await {
            Ok(Ok(schema)) => {
                r.schema_version = Some(schema.applied);
                r.expected_schema_version = Some(schema.expected);
                r.reason = match schema.applied.cmp(&schema.expected) {
                    std::cmp::Ordering::Less => Some("migrations_pending"),
                    std::cmp::Ordering::Greater => Some("schema_newer_than_node"),
                    std::cmp::Ordering::Equal => None,
                };
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database did not answer");
                r.reason = Some("database_unreachable");
            }
            Err(_) => r.reason = Some("database_unreachable"),
        }
    }
    r.ready = r.reason.is_none();
    let status = if r.ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(r))
}

/// The process is up (it answers without touching the database).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    operation_id = "healthz",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String))
)]
async fn healthz() -> &'static str {
    "ok"
}

/// The OpenAPI description of every documented route, as `/openapi.json`
/// serves it: the same routers build both, so they cannot disagree.
pub fn openapi_document() -> serde_json::Value {
    api_doc::finish(
        openapi::api(0)
            .merge(admin::api())
            .merge(runtime::api())
            .merge(service_api())
            .into_openapi(),
    )
}

/// What a worker node serves: the routes for load balancers and
/// orchestrators only.
fn service_router(state: AppState) -> Router {
    let (router, _) = service_api().split_for_parts();
    router
        .route("/metrics", get(metrics::show))
        .layer(axum::middleware::from_fn(metrics::track_requests))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let (router, doc) = openapi::router(&state)
        .merge(admin::router(&state))
        .merge(runtime::router())
        .merge(service_api())
        .split_for_parts();
    let document = bytes::Bytes::from(
        serde_json::to_vec_pretty(&api_doc::finish(doc)).expect("the document serializes"),
    );
    router
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document.clone(),
                )
            }),
        )
        .route(
            "/mappconsole/tp/authorization",
            get(openapi::consent::show).post(openapi::consent::submit),
        )
        .route(
            "/mappconsole/tp/unauthorize",
            get(openapi::consent::show_unauthorize).post(openapi::consent::submit_unauthorize),
        )
        .route("/", get(home::show))
        .route("/metrics", get(metrics::show))
        .merge(console::router())
        .route(
            lenient_http::MALFORMED_PATH,
            get(lenient_http::malformed_request),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record,
        ))
        .layer(axum::middleware::from_fn(metrics::track_requests))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Starts the server and its workers; returns once it is listening.
pub async fn start(mut config: Config, opts: StartOptions) -> anyhow::Result<Server> {
    if opts.demo && config.events_allowed_networks.trim().is_empty() {
        // The demo's receivers run on this machine.
        config.events_allowed_networks = "127.0.0.0/8,::1/128".to_owned();
    }
    config.validate()?;
    metrics::handle();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let store = open_store(&config).await?;
    // Entries written with their changes by a process that was stopped
    // before it moved them.
    audit::move_staged(store.as_ref()).await;
    let blobs = store
        .blobs(&config.data_dir.join("blobs"))
        .context("opening the blob store")?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Every URL the server writes (downloads, images, the console's) starts
    // with this base, never with a client's Host header: a caller must not
    // decide where others are sent.
    let base_url = match &config.public_base_url {
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => {
            let shown = match addr.ip() {
                std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                    std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, addr.port()))
                }
                std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
                    std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
                }
                _ => addr,
            };
            let base = format!("http://{shown}");
            if !addr.ip().is_loopback() {
                tracing::warn!(
                    listen = %addr,
                    base = %base,
                    "listening beyond loopback without public_base_url: download and image \
                     URLs name {base}; set public_base_url (SMARTSHIP_PUBLIC_BASE_URL) to the \
                     address clients reach"
                );
            }
            config.public_base_url = Some(base.clone());
            base
        }
    };
    let shutdown = CancellationToken::new();
    let state = AppState {
        inner: Arc::new(Inner {
            tz: config.tz()?,
            admin_token: admin_token(&config)?,
            store,
            blobs,
            build_wakeup: Default::default(),
            rollback_wakeup: Default::default(),
            gray_wakeup: Default::default(),
            schedule_wakeup: Default::default(),
            signing: Default::default(),
            delivery: Default::default(),
            artifact_cache: Default::default(),
            events_wakeup: Default::default(),
            rate_limiter: rate_limit::RateLimiter::new(config.rate_limit_per_token),
            sign_in_throttle: sign_in_throttle::SignInThrottle::new(config.sign_in_limits()),
            body_budget: body_budget::BodyBudget::new(config.max_body_bytes_in_flight),
            review_wakeup: Default::default(),
            stopping: shutdown.clone(),
            audit: Default::default(),
            demo: opts.demo,
            config,
        }),
    };
    // Work leased by a process of this host that died (SIGKILL, a crash)
    // is taken back now rather than when its leases expire.
    let released = service::housekeeping::release_dead_leases(&state)
        .await
        .context("taking back the leases of a dead process")?;
    if released != Default::default() {
        tracing::info!(
            builds = released.builds,
            events = released.events,
            "took back the leased work of a process that is gone"
        );
    }
    // The audit log's writer runs on every node: each records its own
    // requests. It is awaited last (see `Server::wait`).
    let audit_writer = tokio::spawn(audit::writer(state.clone()));
    let mut tasks = Vec::new();
    if state.config.role.runs_workers() {
        spawn_workers(&state, &shutdown, &mut tasks);
    }
    let demo = if opts.demo {
        Some(demo::prepare(&state, &base_url).await?)
    } else {
        None
    };
    let server_file = state.config.data_dir.join("server.json");
    if let Err(e) = write_file_atomically(
        &server_file,
        serde_json::json!({"base_url": base_url, "pid": std::process::id()})
            .to_string()
            .as_bytes(),
    ) {
        // A full disk must not keep the server from serving reads; the
        // address is in the log line below.
        tracing::warn!(path = %server_file.display(), error = %e, "could not write server.json");
        let _ = std::fs::remove_file(server_file.with_extension("tmp"));
    }
    let app = if state.config.role.serves_api() {
        router(state.clone())
    } else {
        service_router(state.clone())
    };
    let stop = shutdown.clone();
    let drain = state.config.shutdown_drain();
    let timeouts = state.config.http_timeouts();
    let max_connections = connection_cap(state.config.max_connections);
    let http = tokio::spawn(async move {
        axum::serve(
            lenient_http::LenientListener::with_limits(listener, timeouts, max_connections),
            app.into_make_service_with_connect_info::<lenient_http::PeerAddr>(),
        )
        .with_graceful_shutdown(async move {
            stop.cancelled().await;
            // Still serving, /readyz answering 503: the load balancer
            // stops sending before the node stops accepting.
            tokio::time::sleep(drain).await;
        })
        .await
    });
    tracing::info!(%addr, %base_url, role = state.config.role.as_str(), "smartship listening");
    Ok(Server {
        addr,
        base_url,
        state,
        demo,
        shutdown,
        tasks,
        audit_writer,
        http,
    })
}

/// Every background worker of a node whose role runs them. Each shares
/// its work with the workers of the other nodes: builds and deliveries
/// through leases, the rest through the row locks of the transactions
/// they run (see docs/scaling.md).
fn spawn_workers(state: &AppState, shutdown: &CancellationToken, tasks: &mut Vec<JoinHandle<()>>) {
    for i in 0..state.config.build_workers {
        tasks.push(tokio::spawn(workers::build::run(
            state.clone(),
            shutdown.clone(),
            i,
        )));
    }
    tasks.push(tokio::spawn(workers::rollback::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(workers::schedule::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(workers::gray::run(
        state.clone(),
        shutdown.clone(),
    )));
    if state.config.review_policy == config::ReviewPolicy::AutoPass {
        tasks.push(tokio::spawn(workers::auto_review::run(
            state.clone(),
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(workers::ticket::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(workers::delivery::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(workers::retention::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(workers::lease_reaper::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(workers::blob_gc::run(
        state.clone(),
        shutdown.clone(),
    )));
}
