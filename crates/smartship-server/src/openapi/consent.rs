//! The consent page an app's administrator opens to authorize a third-party
//! platform: `/mappconsole/tp/authorization?client_id&pre_auth_code&redirect_uri`.
//!
//! GET shows who asks for what and a sign-in form; POST checks the
//! administrator's credentials, uses the pre-auth code (once), records the
//! authorization (which pushes AUTHORIZED or UPDATE_AUTHORIZED) and redirects
//! to `redirect_uri?authorization_code=..&expires_in=..`, or with
//! `error=access_denied` when the administrator refuses. The pre-auth code
//! in the form doubles as the CSRF token: it is unguessable and single use.

use super::oauth::AUTH_CODE_TTL_SECS;
use super::params::Params;
use crate::service::{oauth, parties, parties::DEFAULT_SCOPES};
use crate::state::AppState;
use crate::tokens;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use smartship_store::{CodeKind, CodeRefusal, Tp};

/// What each scope lets the platform do, as shown to the administrator.
fn scope_label(scope: &str) -> &'static str {
    match scope {
        "package" => {
            "上传、提审、发布和回滚小程序代码包 (upload, submit, release and roll back code packages)"
        }
        "template" => "使用第三方平台的代码模板 (use the platform's code templates)",
        "app_info" => "读取小程序基本信息 (read the mini-program's basic information)",
        _ => "其他权限 (other permission)",
    }
}

/// The consent pages' own look: a card on a grey page. Inline, so the
/// pages load nothing (their CSP allows nothing else).
const STYLE: &str = "\
body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }
main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }
h1 { font-size: 1.3rem; margin-top: 0; }
ul { padding-left: 1.2rem; } li { margin: .3rem 0; }
label { display: block; margin: .8rem 0 .2rem; }
input[type=text], input[type=password] { width: 100%; padding: .5rem; box-sizing: border-box; }
.actions { display: flex; gap: .8rem; margin-top: 1.4rem; }
button { flex: 1; padding: .6rem; border-radius: 4px; border: 1px solid #3060d0; font-size: 1rem; }
button[value=approve] { background: #3060d0; color: #fff; }
button[value=refuse] { background: #fff; color: #3060d0; }
.error { color: #b00020; }
.muted { color: #666; font-size: .9rem; }
";

fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    let head = html! { style { (PreEscaped(STYLE)) } };
    let html = crate::html_page::document("zh-CN", title, head, None, html! { main { (body) } });
    let mut resp = (status, Html(html.into_string())).into_response();
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, "DENY".parse().expect("static"));
    h.insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
            .parse()
            .expect("static"),
    );
    h.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("static"),
    );
    resp
}

/// A refusal's message, where the browser test and a screen reader find it.
fn error_line(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.error #error { (m) }
        }
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "授权失败",
        html! {
            h1 { "无法完成授权" }
            (error_line(Some(message)))
        },
    )
}

/// A query that does not decode: the page names the parameter.
fn bad_encoding(e: super::error::ApiError) -> Response {
    let detail = match e {
        super::error::ApiError::Business(_, problem) => format!("参数编码无效：{problem}"),
        _ => "参数编码无效。".to_owned(),
    };
    error_page(StatusCode::BAD_REQUEST, &detail)
}

/// Whether `redirect_uri` is an http(s) URL on the TP's domain.
fn redirect_allowed(tp: &Tp, redirect_uri: &str) -> bool {
    let Some(domain) = tp.redirect_domain.as_deref().filter(|d| !d.is_empty()) else {
        return false;
    };
    let Ok(url) = url::Url::parse(redirect_uri) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    matches!(url.scheme(), "http" | "https")
        && (host == domain || host.ends_with(&format!(".{domain}")))
}

/// The outcome of a sign-in.
enum SignIn {
    App(smartship_core::AppId),
    Wrong,
    Locked(crate::sign_in_throttle::Locked),
}

/// The app whose administrator these credentials are, if they are right
/// and the account and address are not locked (see `sign_in_throttle`).
/// The deliberately slow hash runs off the async workers, for unknown
/// accounts too, so the answer takes as long either way.
async fn sign_in(
    s: &AppState,
    username: &str,
    password: &str,
    addr: Option<std::net::IpAddr>,
) -> Result<SignIn, anyhow::Error> {
    if let Err(locked) = s
        .sign_in_throttle
        .check(username, crate::sign_in_throttle::Client::Unknown(addr))
    {
        tracing::info!(username, ?addr, ?locked, "consent: sign-in locked");
        return Ok(SignIn::Locked(locked));
    }
    let account = s.store.app_admin(username).await?;
    let password = password.to_owned();
    let stored = account.as_ref().map(|(_, hash)| hash.clone());
    let ok = tokio::task::spawn_blocking(move || {
        crate::passwords::verify_or_dummy(&password, stored.as_deref())
    })
    .await?;
    s.sign_in_throttle
        .record(username, crate::sign_in_throttle::Client::Unknown(addr), ok);
    Ok(match account {
        Some((app, _)) if ok => SignIn::App(app),
        _ => SignIn::Wrong,
    })
}

/// The form again (drawn by `form` with a message), with why the sign-in
/// did not work: 401 for wrong credentials, 429 with `Retry-After` while
/// the account or the address is locked.
fn refused_sign_in(outcome: &SignIn, title: &str, form: impl Fn(&str) -> Markup) -> Response {
    match outcome {
        SignIn::Locked(l) => {
            let secs = l.retry_after().as_secs().max(1);
            let minutes = secs.div_ceil(60);
            let mut resp = page(
                StatusCode::TOO_MANY_REQUESTS,
                title,
                form(&format!("尝试次数过多，请 {minutes} 分钟后再试。")),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                secs.to_string().parse().expect("digits are a header value"),
            );
            resp
        }
        _ => page(StatusCode::UNAUTHORIZED, title, form("账号或密码错误。")),
    }
}

/// The request's parameters, checked: the TP, a usable pre-auth code and an
/// allowed redirect.
struct Consent {
    tp: Tp,
    pre_auth_code: String,
    redirect_uri: String,
}

/// Why the consent cannot go on; shown as an error page.
struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error_page(self.0, self.1)
    }
}

const SYSTEM_ERROR: Refused = Refused(StatusCode::INTERNAL_SERVER_ERROR, "系统错误，请稍后再试。");

async fn check(s: &AppState, p: &Params) -> Result<Consent, Refused> {
    let bad = |m: &'static str| Err(Refused(StatusCode::BAD_REQUEST, m));
    let (Some(client_id), Some(code), Some(redirect_uri)) = (
        p.optional("client_id"),
        p.optional("pre_auth_code"),
        p.optional("redirect_uri"),
    ) else {
        return bad("缺少 client_id、pre_auth_code 或 redirect_uri 参数。");
    };
    let tp = match s.store.tp_by_client_id(client_id).await {
        Ok(Some(tp)) => tp,
        Ok(None) => return bad("第三方平台不存在。"),
        Err(e) => {
            tracing::error!(error = ?e, "consent: loading the TP failed");
            return Err(SYSTEM_ERROR);
        }
    };
    if !redirect_allowed(&tp, redirect_uri) {
        return bad("redirect_uri 不属于该第三方平台登记的域名。");
    }
    match s
        .store
        .code_usable(
            CodeKind::PreAuth,
            &tokens::hash(code),
            tp.id,
            crate::clock::now_ms(),
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => return bad("预授权码无效、已过期或已被使用，请回到第三方平台重新发起授权。"),
        Err(e) => {
            tracing::error!(error = ?e, "consent: checking the code failed");
            return Err(SYSTEM_ERROR);
        }
    }
    Ok(Consent {
        tp,
        pre_auth_code: code.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
    })
}

fn form(c: &Consent, error: Option<&str>, username: &str) -> Markup {
    let tp = c.tp.name.as_str();
    let redirect_host = url::Url::parse(&c.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    html! {
        h1 { "授权 " (tp) " 管理你的小程序" }
        p.muted { "第三方平台 " strong #tp-name { (tp) } " 请求以下权限：" }
        ul #scopes {
            @for scope in DEFAULT_SCOPES.split(',') {
                li { (scope_label(scope)) }
            }
        }
        (error_line(error))
        form method="post" action="/mappconsole/tp/authorization" {
            input type="hidden" name="client_id" value=(c.tp.client_id);
            input type="hidden" name="pre_auth_code" value=(c.pre_auth_code);
            input type="hidden" name="redirect_uri" value=(c.redirect_uri);
            (credentials(username))
            div.actions {
                button type="submit" name="decision" value="approve" #approve { "同意授权" }
                button type="submit" name="decision" value="refuse" #refuse { "拒绝" }
            }
        }
        p.muted { "授权后将跳转到 " (redirect_host) }
    }
}

/// The administrator's account and password fields.
fn credentials(username: &str) -> Markup {
    html! {
        label for="username" { "小程序管理员账号" }
        input type="text" #username name="username" autocomplete="username" value=(username) required;
        label for="password" { "密码" }
        input type="password" #password name="password" autocomplete="current-password" required;
    }
}

/// `GET /mappconsole/tp/authorization`
pub async fn show(State(s): State<AppState>, req: Request) -> Response {
    let p = match Params::from_query(&req) {
        Ok(p) => p,
        Err(e) => return bad_encoding(e),
    };
    match check(&s, &p).await {
        Ok(c) => page(StatusCode::OK, "小程序授权", form(&c, None, "")),
        Err(refused) => refused.into_response(),
    }
}

fn redirect_to(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "redirect_uri 无效。"),
    };
    url.query_pairs_mut().extend_pairs(params);
    let mut resp = StatusCode::FOUND.into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        url.as_str().parse().expect("a URL is a valid header value"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    resp
}

/// A posted form's parameters (query and body), and the request's audit
/// slot; or the page that refuses a form that does not decode.
async fn read_form(
    s: &AppState,
    req: Request,
) -> Result<(Params, Option<crate::audit::AuditSlot>), Response> {
    let mut p = Params::from_query(&req).map_err(bad_encoding)?;
    let audit = crate::audit::AuditSlot::of(req.extensions());
    if p.read_body(req, s, false).await.is_err() {
        return Err(error_page(StatusCode::BAD_REQUEST, "表单无效。"));
    }
    Ok((p, audit))
}

/// The audit entry of a sign-in form names the administrator it signs in.
fn audit_sign_in(audit: &Option<crate::audit::AuditSlot>, username: &str, p: &Params) {
    if let Some(slot) = audit {
        slot.actor(format!("app-admin:{username}"));
        slot.params(&p.summary());
    }
}

/// `POST /mappconsole/tp/authorization`
pub async fn submit(State(s): State<AppState>, req: Request) -> Response {
    let (p, audit) = match read_form(&s, req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let c = match check(&s, &p).await {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let username = p.optional("username").unwrap_or("");
    audit_sign_in(&audit, username, &p);
    let app = match sign_in(&s, username, p.raw("password").unwrap_or(""), p.peer).await {
        Ok(SignIn::App(app)) => app,
        Ok(refused) => {
            tracing::info!(username, "consent: sign-in refused");
            return refused_sign_in(&refused, "小程序授权", |m| form(&c, Some(m), username));
        }
        Err(e) => {
            tracing::error!(error = ?e, "consent: loading the account failed");
            return SYSTEM_ERROR.into_response();
        }
    };
    // The pre-auth code is used whatever the decision: a consent is given
    // or refused once.
    match oauth::use_code(&s, CodeKind::PreAuth, &c.pre_auth_code, c.tp.id).await {
        Ok(Ok(_)) => {}
        Ok(Err(CodeRefusal::AlreadyUsed | CodeRefusal::Expired | CodeRefusal::Unknown)) => {
            return error_page(StatusCode::BAD_REQUEST, "预授权码已被使用或已过期。");
        }
        Err(e) => {
            tracing::error!(error = ?e, "consent: using the code failed");
            return SYSTEM_ERROR.into_response();
        }
    }
    if p.optional("decision") != Some("approve") {
        tracing::info!(%app, tp = %c.tp.id, "consent refused");
        return redirect_to(&c.redirect_uri, &[("error", "access_denied")]);
    }
    let result = oauth::consent(&s, app, c.tp.id, DEFAULT_SCOPES, AUTH_CODE_TTL_SECS).await;
    match result {
        Ok(code) => {
            tracing::info!(%app, tp = %c.tp.id, "consent given");
            redirect_to(
                &c.redirect_uri,
                &[
                    ("authorization_code", code.as_str()),
                    ("expires_in", &AUTH_CODE_TTL_SECS.to_string()),
                ],
            )
        }
        Err(e) => {
            tracing::error!(error = ?e, "consent: recording the authorization failed");
            SYSTEM_ERROR.into_response()
        }
    }
}

/// `GET /mappconsole/tp/unauthorize?client_id`: the administrator's side of
/// ending an authorization.
pub async fn show_unauthorize(State(s): State<AppState>, req: Request) -> Response {
    let p = match Params::from_query(&req) {
        Ok(p) => p,
        Err(e) => return bad_encoding(e),
    };
    let Some(client_id) = p.optional("client_id") else {
        return error_page(StatusCode::BAD_REQUEST, "缺少 client_id 参数。");
    };
    match s.store.tp_by_client_id(client_id).await {
        Ok(Some(tp)) => page(StatusCode::OK, "解除授权", unauthorize_form(&tp, None)),
        Ok(None) => error_page(StatusCode::BAD_REQUEST, "第三方平台不存在。"),
        Err(e) => {
            tracing::error!(error = ?e, "unauthorize page: loading the TP failed");
            SYSTEM_ERROR.into_response()
        }
    }
}

fn unauthorize_form(tp: &Tp, error: Option<&str>) -> Markup {
    let name = tp.name.as_str();
    html! {
        h1 { "解除对 " (name) " 的授权" }
        p.muted { "解除后，" (name) " 将立即无法再管理你的小程序。" }
        (error_line(error))
        form method="post" action="/mappconsole/tp/unauthorize" {
            input type="hidden" name="client_id" value=(tp.client_id);
            (credentials(""))
            div.actions {
                button type="submit" name="decision" value="refuse" #unauthorize { "解除授权" }
            }
        }
    }
}

/// `POST /mappconsole/tp/unauthorize`: signs the administrator in and ends
/// the app's authorization to the TP (tokens revoked, UNAUTHORIZED pushed).
pub async fn submit_unauthorize(State(s): State<AppState>, req: Request) -> Response {
    let (p, audit) = match read_form(&s, req).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let tp = match s
        .store
        .tp_by_client_id(p.optional("client_id").unwrap_or(""))
        .await
    {
        Ok(Some(tp)) => tp,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, "第三方平台不存在。"),
        Err(e) => {
            tracing::error!(error = ?e, "unauthorize: loading the TP failed");
            return SYSTEM_ERROR.into_response();
        }
    };
    let username = p.optional("username").unwrap_or("");
    audit_sign_in(&audit, username, &p);
    let app = match sign_in(&s, username, p.raw("password").unwrap_or(""), p.peer).await {
        Ok(SignIn::App(app)) => app,
        Ok(refused) => {
            return refused_sign_in(&refused, "解除授权", |m| unauthorize_form(&tp, Some(m)));
        }
        Err(e) => {
            tracing::error!(error = ?e, "unauthorize: loading the account failed");
            return SYSTEM_ERROR.into_response();
        }
    };
    match parties::unauthorize(&s, app, tp.id).await {
        Ok(true) => {
            tracing::info!(%app, tp = %tp.id, "authorization ended by the app administrator");
            page(
                StatusCode::OK,
                "解除授权",
                html! { h1 #done { "已解除对 " (tp.name) " 的授权" } },
            )
        }
        Ok(false) => error_page(StatusCode::BAD_REQUEST, "该小程序没有授权给此第三方平台。"),
        Err(e) => {
            tracing::error!(error = ?e, "unauthorize: failed");
            SYSTEM_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(domain: Option<&str>) -> Tp {
        Tp {
            id: smartship_core::TpId(1),
            client_id: "c".into(),
            name: "n".into(),
            message_url: None,
            auth_event_url: None,
            msg_token: "t".into(),
            encoding_aes_key: "k".into(),
            webhook_secret: None,
            redirect_domain: domain.map(str::to_owned),
            ip_allowlist: None,
            created_at: 0,
            release_events: Vec::new(),
        }
    }

    #[test]
    fn redirects_must_be_on_the_domain() {
        let t = tp(Some("isv.example"));
        assert!(redirect_allowed(&t, "https://isv.example/cb"));
        assert!(redirect_allowed(&t, "https://auth.isv.example/cb?x=1"));
        assert!(!redirect_allowed(&t, "https://evil.example/cb"));
        assert!(!redirect_allowed(&t, "https://isv.example.evil.example/cb"));
        assert!(!redirect_allowed(&t, "https://notisv.example/cb"));
        assert!(!redirect_allowed(&t, "javascript:alert(1)"));
        assert!(!redirect_allowed(&tp(None), "https://isv.example/cb"));
    }

    #[test]
    fn a_platforms_name_and_the_redirect_are_shown_escaped() {
        let mut t = tp(Some("isv.example"));
        t.name = r#"<a href="x">'&"#.into();
        let consent = Consent {
            tp: t.clone(),
            pre_auth_code: "c\"><script>".into(),
            redirect_uri: "https://isv.example/cb?a=1&b=\"2\"".into(),
        };
        let page = form(&consent, Some("<b>no</b>"), "u\"ser").into_string();
        assert!(!page.contains("<a href=\"x\">"), "{page}");
        assert!(
            page.contains("&lt;a href=&quot;x&quot;&gt;'&amp;"),
            "{page}"
        );
        assert!(
            page.contains(r#"value="c&quot;&gt;&lt;script&gt;""#),
            "{page}"
        );
        assert!(page.contains(r#"value="u&quot;ser""#), "{page}");
        assert!(page.contains("&lt;b&gt;no&lt;/b&gt;"), "{page}");
        let page = unauthorize_form(&t, None).into_string();
        assert!(!page.contains("<a href"), "{page}");
    }
}
