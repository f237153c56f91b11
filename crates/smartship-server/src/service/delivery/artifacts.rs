//! The zips hosts download: a package's whole files, or the incremental
//! package from an earlier version. Each is made once, on first ask, kept
//! as a blob and recorded by its digest, which is its download address;
//! being content-addressed, it never changes, so any node, proxy or CDN may
//! keep it forever.

pub use super::caches::ArtifactCache;
use crate::state::AppState;
use bytes::Bytes;
use smartship_core::manifest::{Manifest, sha256_hex};
use smartship_core::runtime::{DELTA_FILES_DIR, DELTA_MANIFEST_PATH, DeltaManifest};
use smartship_store::{Artifact, Package};

/// The bytes of a recorded artifact.
pub async fn bytes_of(s: &AppState, sha256: &str) -> anyhow::Result<Bytes> {
    if let Some(b) = s.artifact_cache.get(sha256) {
        return Ok(b);
    }
    let blobs = s.blobs.clone();
    let digest = sha256.to_owned();
    let bytes = Bytes::from(tokio::task::spawn_blocking(move || blobs.get(&digest)).await??);
    s.artifact_cache.put(sha256, bytes.clone());
    Ok(bytes)
}

/// Writes `files` into a zip and stores it as a blob.
async fn store_zip(s: &AppState, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Artifact> {
    let blobs = s.blobs.clone();
    let (sha256, size) = tokio::task::spawn_blocking(move || -> anyhow::Result<(String, i64)> {
        let zip = smartship_core::archive::write_zip(
            files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        )?;
        let (sha256, _) = blobs.put(&zip)?;
        debug_assert_eq!(sha256, sha256_hex(&zip));
        Ok((sha256, zip.len() as i64))
    })
    .await??;
    Ok(Artifact { sha256, size })
}

/// The files of a manifest, read from the blob store.
async fn read_files(
    s: &AppState,
    manifest: &Manifest,
    paths: Vec<String>,
    prefix: &'static str,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let blobs = s.blobs.clone();
    let refs: Vec<(String, String)> = paths
        .into_iter()
        .filter_map(|p| manifest.files.get(&p).map(|f| (p, f.sha256.clone())))
        .collect();
    Ok(
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<(String, Vec<u8>)>> {
            refs.into_iter()
                .map(|(p, sha)| Ok((format!("{prefix}{p}"), blobs.get(&sha)?)))
                .collect()
        })
        .await??,
    )
}

async fn manifest_of(s: &AppState, p: &Package) -> anyhow::Result<Manifest> {
    s.store
        .package_manifest(p.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("package {} has no built files", p.id))
}

/// The package's whole zip, made on first ask.
pub async fn package_artifact(s: &AppState, p: &Package) -> anyhow::Result<Artifact> {
    if let Some(a) = s.store.package_artifact(p.id).await? {
        return Ok(a);
    }
    let _turn = s.artifact_cache.build_turn(format!("p{}", p.id)).await;
    if let Some(a) = s.store.package_artifact(p.id).await? {
        return Ok(a);
    }
    let manifest = manifest_of(s, p).await?;
    let paths = manifest.files.keys().cloned().collect();
    let files = read_files(s, &manifest, paths, "").await?;
    let made = store_zip(s, files).await?;
    // Two nodes making it at once both store a blob; the first recorded
    // wins and both answer with it.
    Ok(s.store.set_package_artifact(p.id, &made).await?)
}

/// The incremental package from `from` to `to`, made on first ask.
pub async fn delta_artifact(
    s: &AppState,
    from: &Package,
    to: &Package,
) -> anyhow::Result<Artifact> {
    if let Some(a) = s.store.delta(from.id, to.id).await? {
        return Ok(a);
    }
    let _turn = s
        .artifact_cache
        .build_turn(format!("d{}>{}", from.id, to.id))
        .await;
    if let Some(a) = s.store.delta(from.id, to.id).await? {
        return Ok(a);
    }
    let (old, new) = (manifest_of(s, from).await?, manifest_of(s, to).await?);
    let (delta, changed) = DeltaManifest::between(
        (&old, from.id.0, &from.version),
        (&new, to.id.0, &to.version),
    );
    let mut files = vec![(
        DELTA_MANIFEST_PATH.to_owned(),
        serde_json::to_vec_pretty(&delta)?,
    )];
    files.extend(read_files(s, &new, changed, DELTA_FILES_DIR).await?);
    let made = store_zip(s, files).await?;
    Ok(s.store
        .put_delta(from.id, to.id, &made, crate::clock::now_ms())
        .await?)
}
