//! Server and web-view domains of an app (app token) or of its platform
//! (TP token), and the platform's domain-ownership check file. The stored
//! domains are what a host runtime lets the app's code reach (the rules
//! are `smartship_core::domains`). smartship makes no request to any of
//! these domains: the check file is issued for the platform to put at its
//! web-view domains' root, as on the public platform, and is not fetched.

use super::auth::{AppCall, TpCall};
use super::error::{ApiError, ok};
use crate::service::profile;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use smartship_api::ErrorCode;
use smartship_api::fields::Verbatim;
use smartship_api::profile::{AppDomains, TpDomains};
use smartship_api::requests::profile::{AppDomainAction, DomainLists, TpDomainAction, WebViewList};
use smartship_core::domains::{self, DomainAction, DomainKind, DomainRefusal};
use smartship_store::{DomainOwner, Domains};

fn refusal(r: DomainRefusal) -> ApiError {
    let code = match r {
        DomainRefusal::TooMany(..) => ErrorCode::DomainLimitReached,
        _ => ErrorCode::DomainInvalid,
    };
    ApiError::business(code, r.to_string())
}

/// The server domain lists of a call, in the order of `DomainKind::SERVER`.
fn server_lists(l: &DomainLists) -> [(DomainKind, &Verbatim); 4] {
    [
        (DomainKind::Download, &l.download_domain),
        (DomainKind::Request, &l.request_domain),
        (DomainKind::Socket, &l.socket_domain),
        (DomainKind::Upload, &l.upload_domain),
    ]
}

/// The action and the domain lists a call gives. Without an action, the
/// platform's domains of those kinds are added (the public platform's
/// rule); `get` reads.
async fn modify(
    s: &AppState,
    action: Option<&str>,
    lists: &[(DomainKind, &Verbatim)],
    owner: DomainOwner,
    // The app's platform, whose domains an app call without `action`
    // adds; None for a platform's own call (`action` is required).
    registrar: Option<smartship_core::TpId>,
) -> Result<Domains, ApiError> {
    let action_required = registrar.is_none();
    let kinds: Vec<DomainKind> = lists.iter().map(|(kind, _)| *kind).collect();
    let action = match action {
        Some(a) => Some(DomainAction::parse(a).ok_or_else(|| {
            ApiError::param(format!("action 必须是 add、delete、set 或 get，收到 {a:?}"))
        })?),
        None if action_required => return Err(ApiError::param("缺少参数 action")),
        None => None,
    };
    let mut given = Domains::new();
    match (action, owner) {
        (Some(DomainAction::Get), _) => return Ok(s.store.domains(owner).await?),
        (Some(_), _) => {
            for (kind, list) in lists {
                if let Some(raw) = list.as_deref() {
                    if raw.len() > 16 * 1024 {
                        return Err(ApiError::param(format!("{} 过长", kind.param())));
                    }
                    given.insert(*kind, domains::parse_list(*kind, raw).map_err(refusal)?);
                }
            }
            if given.is_empty() && action != Some(DomainAction::Set) {
                return Err(ApiError::param(format!(
                    "至少提供 {} 之一",
                    kinds
                        .iter()
                        .map(|k| k.param())
                        .collect::<Vec<_>>()
                        .join("、")
                )));
            }
            // `set` replaces the kinds the call names; naming none, it
            // empties them all.
            if action == Some(DomainAction::Set) && given.is_empty() {
                for kind in &kinds {
                    given.insert(*kind, Vec::new());
                }
            }
        }
        (None, DomainOwner::App(_)) => {
            // Everything the platform registered.
            let Some(tp) = registrar else {
                return Err(ApiError::param("缺少参数 action"));
            };
            let registered = s.store.domains(DomainOwner::Tp(tp)).await?;
            for kind in &kinds {
                given.insert(*kind, registered.get(kind).cloned().unwrap_or_default());
            }
        }
        (None, DomainOwner::Tp(_)) => return Err(ApiError::param("缺少参数 action")),
    }
    let action = action.unwrap_or(DomainAction::Add);
    profile::modify_domains(s, owner, action, given)
        .await?
        .map_err(refusal)
}

fn list(d: &Domains, k: DomainKind) -> Vec<String> {
    d.get(&k).cloned().unwrap_or_default()
}

/// `POST app/modifydomain`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/modifydomain",
    tag = "domains",
    operation_id = "app_modify_domain",
    summary = "The app's server domains",
    description = "`action` add, delete, set or get; `request_domain`, `upload_domain`, `download_domain`, `socket_domain`, each comma-separated. `https://host[:port]` (`wss://` for sockets), no IP literal, no wildcard, no path: else 47032; at most 20 per kind: else 47033, nothing changed. Without `action`, the platform's registered domains are added. `data` gives each kind comma-separated.",
    params(AppDomainAction, DomainLists),
    security(("app_token" = [])),
    responses((status = 200, description = "The domains, or an error.", body = inline(crate::api_doc::AppDomainsAnswer)))
)]
pub async fn app_modify_domain(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let action: AppDomainAction = call.p.decode()?;
    let lists: DomainLists = call.p.decode()?;
    let d = modify(
        &s,
        action.action.as_deref(),
        &server_lists(&lists),
        DomainOwner::App(call.caller.app),
        Some(call.caller.tp),
    )
    .await?;
    let joined = |k| list(&d, k).join(",");
    Ok(ok(AppDomains {
        download_domain: joined(DomainKind::Download),
        request_domain: joined(DomainKind::Request),
        socket_domain: joined(DomainKind::Socket),
        upload_domain: joined(DomainKind::Upload),
    }))
}

/// `POST tp/modifydomain`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/tp/modifydomain",
    tag = "domains",
    operation_id = "tp_modify_domain",
    summary = "The platform's server domains",
    description = "TP token. As `app/modifydomain`, with `action` required; `data` gives each kind as a list. These are the domains `app/modifydomain` without `action` adds to an app.",
    params(TpDomainAction, DomainLists),
    security(("tp_token" = [])),
    responses((status = 200, description = "The domains, or an error.", body = inline(crate::api_doc::TpDomainsAnswer)))
)]
pub async fn tp_modify_domain(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let action: TpDomainAction = call.p.decode()?;
    let lists: DomainLists = call.p.decode()?;
    let d = modify(
        &s,
        Some(&action.action),
        &server_lists(&lists),
        DomainOwner::Tp(call.caller.tp),
        None,
    )
    .await?;
    Ok(ok(TpDomains {
        download_domain: list(&d, DomainKind::Download),
        request_domain: list(&d, DomainKind::Request),
        socket_domain: list(&d, DomainKind::Socket),
        upload_domain: list(&d, DomainKind::Upload),
    }))
}

/// `POST app/modifywebviewdomain`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/modifywebviewdomain",
    tag = "domains",
    operation_id = "app_modify_webview_domain",
    summary = "The app's web-view domains",
    description = "`action` add, delete, set or get; `web_view_domain` comma-separated, checked as server domains are. Without `action`, the platform's web-view domains are added. `data` is the domains, comma-separated.",
    params(AppDomainAction, WebViewList),
    security(("app_token" = [])),
    responses((status = 200, description = "The domains, or an error.", body = inline(crate::api_doc::TextAnswer)))
)]
pub async fn app_modify_webview_domain(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let action: AppDomainAction = call.p.decode()?;
    let web_view: WebViewList = call.p.decode()?;
    let d = modify(
        &s,
        action.action.as_deref(),
        &[(DomainKind::WebView, &web_view.web_view_domain)],
        DomainOwner::App(call.caller.app),
        Some(call.caller.tp),
    )
    .await?;
    Ok(ok(list(&d, DomainKind::WebView).join(",")))
}

/// `POST tp/modifywebviewdomain`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/tp/modifywebviewdomain",
    tag = "domains",
    operation_id = "tp_modify_webview_domain",
    summary = "The platform's web-view domains",
    description = "TP token. As `app/modifywebviewdomain` (`action` required); `data` is a list.",
    params(TpDomainAction, WebViewList),
    security(("tp_token" = [])),
    responses((status = 200, description = "The domains, or an error.", body = inline(crate::api_doc::TextListAnswer)))
)]
pub async fn tp_modify_webview_domain(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let action: TpDomainAction = call.p.decode()?;
    let web_view: WebViewList = call.p.decode()?;
    let d = modify(
        &s,
        Some(&action.action),
        &[(DomainKind::WebView, &web_view.web_view_domain)],
        DomainOwner::Tp(call.caller.tp),
        None,
    )
    .await?;
    Ok(ok(list(&d, DomainKind::WebView)))
}

/// `GET tp/download/domaincer`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/tp/download/domaincer",
    tag = "domains",
    operation_id = "tp_download_domain_check_file",
    summary = "The platform's domain-ownership check file",
    description = "TP token. The file (`application/octet-stream`, its name in `Content-Disposition`) the platform puts at the root of its web-view domains to show it owns them; the same content every time. Errors are JSON with `errno`, as everywhere.",
    security(("tp_token" = [])),
    responses((status = 200, description = "The file, or an error (JSON).", content(
        (Vec<u8> = "application/octet-stream"),
        (inline(crate::api_doc::Done) = "application/json")
    )))
)]
pub async fn download_domain_check_file(
    State(s): State<AppState>,
    call: TpCall,
) -> Result<Response, ApiError> {
    let tp = call.caller.tp;
    let content = profile::domain_check(&s, tp).await?;
    let name = format!(
        "smartship-domain-check-{}.txt",
        &content[..8.min(content.len())]
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        content,
    )
        .into_response())
}
