//! `serve --demo`: a ready-to-use sandbox. Seeds one third-party platform, a
//! template built from the sample mini-program in `demo/sample-miniprogram`,
//! and two authorized apps (one fully approved, one with neither approval),
//! then writes `demo.json` with fresh tokens. Seeding happens once per data
//! directory; later starts only mint fresh tokens.

use crate::service::{self, parties, parties::AppSpec, parties::TpSpec};
use crate::state::AppState;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use smartship_core::archive::SourceTree;
use smartship_core::roles::Role;
use smartship_core::{AppId, TemplateId};
use smartship_store::{AddTemplate, NewDraft};

const META_KEY: &str = "demo.seed";

macro_rules! sample {
    ($($path:literal),* $(,)?) => {
        [$(($path, &include_bytes!(concat!("../demo/sample-miniprogram/", $path))[..])),*]
    };
}

/// The sample mini-program's files.
pub fn sample_tree() -> SourceTree {
    sample!(
        "app.json",
        "app.js",
        "app.css",
        "pages/index/index.swan",
        "pages/index/index.js",
        "pages/index/index.css",
        "pages/index/index.json",
        "pages/detail/detail.swan",
        "pages/detail/detail.js",
        "pages/detail/detail.css",
        "pages/detail/detail.json",
    )
    .into_iter()
    .map(|(p, b)| (p.to_owned(), b.to_vec()))
    .collect()
}

/// What was seeded (kept in the `meta` table).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Seed {
    client_id: String,
    template_id: i64,
    app_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoTp {
    pub client_id: String,
    pub access_token: String,
    pub msg_token: String,
    pub encoding_aes_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoApp {
    pub app_id: i64,
    pub access_token: String,
    pub refresh_token: String,
    pub basic_info_approved: bool,
    pub authenticity_verified: bool,
}

/// The content of `demo.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoInfo {
    /// Where this file is (for the banner; not needed by clients).
    #[serde(skip)]
    pub path: std::path::PathBuf,
    /// The review policy in force (for the banner).
    #[serde(skip)]
    pub review_policy: String,
    /// Whether the demo platform has an event URL (for the banner).
    #[serde(skip)]
    pub tp_has_event_url: bool,
    pub base_url: String,
    pub admin_token: String,
    pub tp: DemoTp,
    pub template_id: i64,
    pub apps: Vec<DemoApp>,
    pub runtime: DemoRuntime,
    pub console: DemoConsole,
}

/// How to sign in to the operator console of the demo (docs/console.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoConsole {
    pub url: String,
    pub username: String,
    pub password: String,
}

const CONSOLE_USER: &str = "demo-admin";
/// Where the demo keeps its console password (only the demo keeps one in
/// clear, like its host key).
const CONSOLE_PASSWORD_META: &str = "demo_console_password";

/// The demo's admin console account: made once; its password kept, or set
/// afresh when the kept one no longer signs in.
async fn demo_console(s: &AppState, base_url: &str) -> anyhow::Result<DemoConsole> {
    let kept = s.store.get_meta(CONSOLE_PASSWORD_META).await?;
    let existing = s.store.operator(CONSOLE_USER).await?;
    let password = match (kept, existing) {
        (Some(p), Some(o)) if crate::passwords::verify(&p, &o.password_hash) => p,
        (_, existing) => {
            let p = crate::tokens::random_alnum(20);
            let hash = crate::passwords::hash(&p);
            if existing.is_some() {
                service::operators::set_password(s, CONSOLE_USER, &hash).await?;
            } else {
                service::operators::create(s, CONSOLE_USER, Role::Admin, &hash).await?;
            }
            service::housekeeping::remember(s, CONSOLE_PASSWORD_META, &p).await?;
            p
        }
    };
    Ok(DemoConsole {
        url: format!("{base_url}/console"),
        username: CONSOLE_USER.to_owned(),
        password,
    })
}

/// What a host runtime of the demo sends (docs/release.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoRuntime {
    /// `Authorization: Bearer <host_key>` on `/runtime/v1`.
    pub host_key: String,
}

/// Where the demo keeps its host-app key. Only the demo keeps a host key's
/// secret: an operator's keys are stored as digests and shown once.
const HOST_KEY_META: &str = "demo_host_key";

async fn demo_host_key(s: &AppState) -> anyhow::Result<String> {
    if let Some(key) = s.store.get_meta(HOST_KEY_META).await? {
        let digest = crate::service::delivery::host_key_digest(&key);
        if s.store.active_host_key(&digest).await?.is_some() {
            return Ok(key);
        }
    }
    let (_, key) = service::delivery::create_host_key(s, "demo host").await?;
    service::housekeeping::remember(s, HOST_KEY_META, &key).await?;
    Ok(key)
}

async fn seed(s: &AppState) -> anyhow::Result<Seed> {
    if let Some(json) = s.store.get_meta(META_KEY).await? {
        return serde_json::from_str(&json).context("reading the demo seed record");
    }
    let tp = parties::create_tp(
        s,
        TpSpec {
            name: "Demo ISV".to_owned(),
            ..Default::default()
        },
    )
    .await?;
    let blobs = s.blobs.clone();
    let manifest = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let mut manifest = smartship_core::manifest::Manifest::default();
        for (path, bytes) in &sample_tree() {
            blobs.put(bytes)?;
            manifest.insert(path, bytes);
        }
        Ok(manifest)
    })
    .await??;
    let draft = NewDraft {
        tp_id: tp.id,
        user_version: "1.0.0".to_owned(),
        user_desc: "sample mini-program".to_owned(),
        manifest,
    };
    let draft = match service::templates::create_draft(s, draft).await? {
        Ok(id) => id,
        Err(r) => anyhow::bail!("could not store the demo draft: {r:?}"),
    };
    let AddTemplate::Created(template) =
        service::templates::add_template(s, tp.id, draft, "demo template").await?
    else {
        anyhow::bail!("could not create the demo template");
    };
    let mut app_ids = Vec::new();
    for (name, approved) in [("Demo Shop (approved)", true), ("Demo Cafe (new)", false)] {
        let app = parties::create_app(
            s,
            AppSpec {
                name: name.to_owned(),
                description: "demo".to_owned(),
                basic_info_approved: approved,
                authenticity_verified: approved,
                ..Default::default()
            },
        )
        .await?;
        authorize(s, app.id, tp.id).await?;
        app_ids.push(app.id.0);
    }
    let seed = Seed {
        client_id: tp.client_id,
        template_id: template.0,
        app_ids,
    };
    service::housekeeping::remember(s, META_KEY, &serde_json::to_string(&seed)?).await?;
    tracing::info!(template = %TemplateId(seed.template_id), "demo data seeded");
    Ok(seed)
}

/// Authorizes a demo app to the demo platform with the default scopes.
async fn authorize(s: &AppState, app: AppId, tp: smartship_core::TpId) -> anyhow::Result<()> {
    let now = crate::clock::now_ms();
    parties::record_authorization(s, app, tp, parties::DEFAULT_SCOPES, now).await?;
    Ok(())
}

/// Seeds (once) and mints fresh tokens; writes `demo.json`.
pub async fn prepare(s: &AppState, base_url: &str) -> anyhow::Result<DemoInfo> {
    let seed = seed(s).await?;
    let tp = s
        .store
        .tp_by_client_id(&seed.client_id)
        .await?
        .context("the demo third-party platform is gone")?;
    let tp_token = parties::mint_tp_token(s, tp.id).await?;
    let mut apps = Vec::new();
    for id in &seed.app_ids {
        let app = s
            .store
            .app(AppId(*id))
            .await?
            .with_context(|| format!("demo app {id} is gone"))?;
        // Tokens of an app whose authorization was revoked (through the
        // consent page, say) are refused at once: the demo authorizes it
        // again rather than hand out dead tokens, and says so.
        if !s.store.authorization_active(app.id, tp.id).await? {
            authorize(s, app.id, tp.id).await?;
            tracing::warn!(
                app = %app.id,
                "demo app {} had been unauthorized; it is authorized again so that its tokens in demo.json work",
                app.id
            );
        }
        let tokens = parties::mint_app_tokens(s, app.id, tp.id).await?;
        apps.push(DemoApp {
            app_id: app.id.0,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            basic_info_approved: app.basic_info_approved,
            authenticity_verified: app.authenticity_verified,
        });
    }
    let path = s.config.data_dir.join("demo.json");
    let info = DemoInfo {
        path: path.clone(),
        review_policy: s.config.review_policy.as_str().to_owned(),
        tp_has_event_url: tp.message_url.is_some() || tp.auth_event_url.is_some(),
        base_url: base_url.to_owned(),
        admin_token: s.admin_token.clone(),
        tp: DemoTp {
            client_id: tp.client_id,
            access_token: tp_token.access_token,
            msg_token: tp.msg_token,
            encoding_aes_key: tp.encoding_aes_key,
        },
        template_id: seed.template_id,
        apps,
        runtime: DemoRuntime {
            host_key: demo_host_key(s).await?,
        },
        console: demo_console(s, base_url).await?,
    };
    crate::write_file_atomically(&path, serde_json::to_string_pretty(&info)?.as_bytes())?;
    Ok(info)
}

/// Ready-to-paste curl commands that walk the seed flow on the approved app.
pub fn instructions(info: &DemoInfo) -> String {
    let b = &info.base_url;
    let app = &info.apps[0];
    let t = &app.access_token;
    let ext = "%7B%22extEnable%22%3Atrue%2C%22ext%22%3A%7B%22name%22%3A%22Demo%20Shop%22%7D%7D";
    format!(
        r#"smartship demo is ready at {b}
  tokens, ids and keys: {path}
  review policy: {policy}
  events: {events}
  operator console: {console_url} (user {console_user}, password {console_password})

# 1. upload a package from template {tpl} (returns at once; the build is asynchronous)
curl -s -X POST '{b}/rest/2.0/smartapp/package/upload?access_token={t}&template_id={tpl}&ext_json={ext}&user_version=1.0.0&user_desc=first'
# 2. list packages until the new one shows status 3 and upload_status 2; note its package_id
curl -s '{b}/rest/2.0/smartapp/package/get?access_token={t}'
# 3. submit it for audit (replace PACKAGE_ID)
curl -s -X POST '{b}/rest/2.0/smartapp/package/submitaudit?access_token={t}&package_id=PACKAGE_ID&content=first%20release&remark=demo'
# 4. the operator passes the review
curl -s -X POST -H 'Authorization: Bearer {admin}' -H 'Content-Type: application/json' -d '{{"decision":"pass"}}' '{b}/admin/v1/packages/PACKAGE_ID/review'
# 5. release, then see the online version
curl -s -X POST '{b}/rest/2.0/smartapp/package/release?access_token={t}&package_id=PACKAGE_ID'
curl -s '{b}/rest/2.0/smartapp/package/getdetail?access_token={t}'
# 6. download the built package (merged app.json, ext.json)
curl -s -o package.zip -H 'Authorization: Bearer {admin}' '{b}/admin/v1/packages/PACKAGE_ID/download'
# after releasing a second version: roll back (status 8, then the first version is online again)
curl -s -X POST '{b}/rest/2.0/smartapp/package/rollback?access_token={t}&package_id=PACKAGE_ID'
# the second app ({app2}) has neither basic info nor authenticity approved: submitaudit answers 47003
"#,
        tpl = info.template_id,
        path = info.path.display(),
        policy = match info.review_policy.as_str() {
            "auto-pass" => "auto-pass (the server passes every audit itself)",
            _ => "manual (an operator passes or fails each audit: smartship admin package queue)",
        },
        events = if info.tp_has_event_url {
            "pushed to the demo platform's URLs"
        } else {
            "the demo platform has no event URL, so its events are held as undeliverable until one is set \
             (smartship admin tp set-urls CLIENT_ID --message-url URL --auth-event-url URL)"
        },
        admin = info.admin_token,
        console_url = info.console.url,
        console_user = info.console.username,
        console_password = info.console.password,
        app2 = info.apps[1].app_id,
    )
}
