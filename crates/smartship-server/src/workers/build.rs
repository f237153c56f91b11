//! The build worker: turns an accepted upload into a package.

use crate::service;
use crate::state::AppState;
use smartship_core::build::{BuildError, build_package};
use smartship_core::ext_json;
use smartship_core::precheck;
use smartship_store::{BuildJob, BuildOutcome};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Upper bound on how long an idle worker sleeps before looking again
/// (uploads notify; this only covers builds left by another process).
const IDLE_POLL: Duration = Duration::from_secs(2);

pub async fn run(state: AppState, shutdown: CancellationToken, worker: usize) {
    tracing::debug!(worker, "build worker started");
    loop {
        let notified = state.build_wakeup.notified();
        let lease_ms = (state.config.build_lease_secs * 1000.0) as i64;
        match service::packages::claim_build(&state, lease_ms).await {
            Ok(Some(job)) => {
                let span = tracing::info_span!(
                    "build",
                    app = %job.package.app_id,
                    package = %job.package.id
                );
                build_one(&state, job).instrument(span).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = ?e, "claiming a build failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = notified => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
    tracing::debug!(worker, "build worker stopped");
}

async fn build_one(state: &AppState, job: BuildJob) {
    let package = job.package.id;
    let app = job.package.app_id;
    let started = std::time::Instant::now();
    let outcome = match job.template {
        None => BuildOutcome::Failed {
            code: 6,
            message: "模板已不存在".to_owned(),
        },
        Some(template) => {
            // The app's request domains, for the network check (none: not
            // checked). A failure to read them is a failed build, retried
            // by whoever uploads again, rather than a check skipped.
            let domains = match state
                .store
                .domains(smartship_store::DomainOwner::App(app))
                .await
            {
                Ok(d) => d
                    .get(&smartship_core::domains::DomainKind::Request)
                    .cloned()
                    .unwrap_or_default(),
                Err(e) => {
                    tracing::error!(error = ?e, %package, "reading the app's domains");
                    Vec::new()
                }
            };
            let limits = precheck::Limits {
                main_bytes: state.config.precheck_main_package_bytes,
                total_bytes: state.config.precheck_total_package_bytes,
                ..precheck::Limits::default()
            };
            let blobs = state.blobs.clone();
            let raw = job.package.ext_json.clone();
            let limit = state.config.max_package_bytes;
            let built = tokio::task::spawn_blocking(move || {
                // ext_json was validated at upload; parsing again here is
                // cheap and keeps the stored form the only input.
                let ext = ext_json::parse(&raw, app.0).map_err(|e| BuildError::Read {
                    path: "ext_json".to_owned(),
                    reason: e.to_string(),
                })?;
                let mut read = |path: &str| -> Result<Vec<u8>, String> {
                    let f = template
                        .files
                        .get(path)
                        .ok_or_else(|| "not in template".to_owned())?;
                    blobs.get(&f.sha256).map_err(|e| e.to_string())
                };
                let built = build_package(&template, &ext, &mut read, limit)?;
                for (_, bytes) in &built.new_files {
                    blobs.put(bytes).map_err(|e| BuildError::Read {
                        path: "blob store".to_owned(),
                        reason: e.to_string(),
                    })?;
                }
                let mut read_built = |path: &str| -> Result<Vec<u8>, String> {
                    let f = built
                        .manifest
                        .files
                        .get(path)
                        .ok_or_else(|| "not in package".to_owned())?;
                    blobs.get(&f.sha256).map_err(|e| e.to_string())
                };
                let findings = precheck::run(&built.manifest, &mut read_built, &domains, &limits);
                Ok::<_, BuildError>((built.manifest, findings))
            })
            .await;
            match built {
                Ok(Ok((manifest, findings))) => {
                    let blocked = precheck::first_blocking(&findings)
                        .map(|f| format!("{} {}:{}", f.check, f.file, f.line));
                    let blocking = findings.iter().filter(|f| f.blocking).count() as i64;
                    let json = serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into());
                    match service::packages::record_checks(state, package, &json, blocking).await {
                        Ok(()) => BuildOutcome::Built { manifest, blocked },
                        // Without its findings a package could be submitted
                        // unchecked: the build fails instead (upload again).
                        Err(e) => {
                            tracing::error!(error = ?e, %package, "recording pre-review checks");
                            BuildOutcome::Failed {
                                code: 5,
                                message: "预审检查结果无法保存".to_owned(),
                            }
                        }
                    }
                }
                Ok(Err(e)) => BuildOutcome::Failed {
                    code: e.code(),
                    message: e.to_string(),
                },
                Err(join) => {
                    tracing::error!(error = ?join, %package, "build task panicked");
                    BuildOutcome::Failed {
                        code: 99,
                        message: "构建过程内部错误".to_owned(),
                    }
                }
            }
        }
    };
    let failed = matches!(outcome, BuildOutcome::Failed { .. });
    let result = if failed { "failed" } else { "built" };
    metrics::counter!("smartship_builds_total", "outcome" => result).increment(1);
    metrics::histogram!("smartship_build_duration_seconds", "outcome" => result)
        .record(started.elapsed().as_secs_f64());
    match service::packages::finish_build(state, app, package, outcome).await {
        Ok(Ok(_)) => tracing::info!(
            %package, %app, failed, elapsed_ms = started.elapsed().as_millis() as u64,
            "build finished"
        ),
        Ok(Err(r)) => tracing::info!(%package, reason = %r, "build result dropped"),
        Err(e) => tracing::error!(error = ?e, %package, "recording a build failed"),
    }
}
