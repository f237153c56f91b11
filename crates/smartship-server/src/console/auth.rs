//! Operators signing in to the console: roles, sessions, CSRF tokens.
//!
//! A sign-in checks the password (PBKDF2, `passwords`) under the same
//! throttle as the consent pages (per account and per address), then
//! records a new session in the database, so every node knows it, and sets
//! its token in a cookie that scripts cannot read (`HttpOnly`), that no
//! other site's request carries (`SameSite=Strict`), sent only over HTTPS
//! when the server is reached by HTTPS (`public_base_url`). A session id is
//! never carried across a sign-in: the one a browser presents when it signs
//! in is ended and a new one issued (session fixation). Sessions end at
//! `console_session_secs`, at sign-out, and when the operator's password is
//! reset or the operator removed.
//!
//! Sign-in failures are throttled per account and per address, except for
//! a browser holding a device cookie for the account (`device_cookie`): it
//! signed in before, and its failures count for it alone, so failures from
//! anyone else never lock the account's owner out.
//!
//! Every form carries a CSRF token: the session's own once signed in; on
//! the sign-in form, a random value also set in a short-lived cookie (a
//! forged sign-in cannot know it).

use super::cookies::cookie;
use super::i18n::Lang;
use super::layout::{self, OrInternal, Page};
use crate::service::operators;
use crate::sign_in_throttle::Client;
use crate::state::AppState;
use crate::tokens;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use smartship_store::{NewOperatorSession, Operator};
use std::collections::HashMap;

pub const SESSION_COOKIE: &str = "smartship_console";
/// The sign-in form's CSRF value.
const SIGN_IN_COOKIE: &str = "smartship_console_signin";

pub use smartship_core::roles::Role;

/// A role as the console names it.
pub fn role_label(r: Role, l: Lang) -> &'static str {
    match r {
        Role::Admin => l.t("管理员", "admin"),
        Role::Reviewer => l.t("审核员", "reviewer"),
        Role::Viewer => l.t("只读", "viewer"),
    }
}

/// A `Set-Cookie` value for the console's cookies.
fn set_cookie(s: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    cookie_header(
        secure_cookies(s.config.public_base_url.as_deref()),
        name,
        value,
        max_age_secs,
    )
}

fn cookie_header(secure: bool, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/console; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    )
    .parse()
    .expect("cookie values are alphanumeric")
}

/// Whether browsers reach the server over HTTPS (its public URL says so):
/// the cookies are then sent over HTTPS only.
fn secure_cookies(public_base_url: Option<&str>) -> bool {
    public_base_url.is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
}

/// A signed-in operator, taken from the session cookie. Pages that need
/// one send a browser without it to the sign-in page.
#[derive(Debug, Clone)]
pub struct Signed {
    pub operator: Operator,
    pub role: Role,
    pub csrf: String,
    pub lang: Lang,
    /// Where the audit log takes this request's form (a form's request).
    audit: Option<crate::audit::AuditSlot>,
}

impl Signed {
    /// Who did something, as the records of actions name them.
    pub fn actor(&self) -> crate::service::Actor {
        crate::service::Actor::Console(self.operator.username.clone())
    }

    /// Refuses a form without this session's CSRF token. Every form
    /// passes here, so here it is noted for the audit log.
    pub fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), layout::PageError> {
        if let Some(slot) = &self.audit {
            let mut pairs: Vec<(String, String)> =
                form.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            pairs.sort();
            slot.params(&pairs);
        }
        let given = form.get("csrf").map(String::as_str).unwrap_or("");
        if !given.is_empty() && crate::tokens::token_matches(given, &self.csrf) {
            return Ok(());
        }
        tracing::warn!(operator = %self.operator.username, "console: a form without its CSRF token was refused");
        Err(forbidden(
            self.lang,
            self.lang.t(
                "表单已失效（缺少或错误的 CSRF 令牌），请刷新页面后重试。",
                "The form is no longer valid (missing or wrong CSRF token); reload the page and try again.",
            ),
        )
        .into())
    }

    /// Refuses an operator whose role does not allow the action.
    pub fn require(&self, allowed: bool) -> Result<(), layout::PageError> {
        if allowed {
            return Ok(());
        }
        tracing::warn!(operator = %self.operator.username, role = self.role.as_str(), "console: an action beyond the role was refused");
        Err(forbidden(
            self.lang,
            self.lang.t(
                "你的角色不能执行此操作。",
                "Your role does not allow this action.",
            ),
        )
        .into())
    }
}

pub fn forbidden(l: Lang, message: &str) -> Response {
    layout::message(
        l,
        StatusCode::FORBIDDEN,
        l.t("无权操作", "Forbidden"),
        message,
    )
}

/// Where an unsigned browser goes: the sign-in page, coming back to the
/// page it asked for (GET) or to the console (a form).
fn to_sign_in(parts: &Parts) -> Response {
    let next = if parts.method == Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/console", |p| p.as_str())
    } else {
        "/console"
    };
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    target.append_pair("next", next);
    Redirect::to(&format!("/console/sign-in?{}", target.finish())).into_response()
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let lang = Lang::of(&parts.headers);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in(parts));
        };
        let session = s
            .store
            .operator_session(&tokens::hash(token), crate::clock::now_ms())
            .await
            .map_err(|e| layout::internal(lang, e))?;
        let Some(session) = session else {
            return Err(to_sign_in(parts));
        };
        let Some(role) = Role::parse(&session.operator.role) else {
            tracing::error!(operator = %session.operator.username, role = %session.operator.role, "console: an operator with an unknown role");
            return Err(forbidden(lang, "unknown role"));
        };
        let audit = crate::audit::AuditSlot::of(&parts.extensions);
        if let Some(slot) = &audit {
            slot.actor(format!("console:{}", session.operator.username));
        }
        Ok(Signed {
            operator: session.operator,
            role,
            csrf: session.csrf,
            lang,
            audit,
        })
    }
}

/// The client's address, when the connection recorded one.
pub struct PeerIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<crate::lenient_http::PeerAddr>>()
                .map(|c| c.0.0.ip()),
        ))
    }
}

/// Where to go after signing in: a console page, never another site.
pub(super) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if (n == "/console" || n.starts_with("/console/") || n.starts_with("/console?"))
                && !n.contains("//")
                && !n.contains('\\')
                // Visible ASCII only: CR, LF or NUL cannot go in a
                // Location header (a browser sends the rest encoded).
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/console",
    }
}

fn sign_in_form(
    l: Lang,
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> maud::Markup {
    html! {
        div.card.narrow {
            h1 { (l.t("登录运营控制台", "Sign in to the operator console")) }
            @if let Some(e) = error {
                p.error #error role="alert" { (e) }
            }
            form method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label for="username" { (l.t("账号", "Username")) }
                input #username type="text" name="username" autocomplete="username" required value=(username);
                label for="password" { (l.t("密码", "Password")) }
                input #password type="password" name="password" autocomplete="current-password" required;
                button.primary #sign-in type="submit" { (l.t("登录", "Sign in")) }
            }
        }
    }
}

/// `GET /console/sign-in`
pub async fn show(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let l = Lang::of(&headers);
    let next = safe_next(q.get("next").map(String::as_str)).to_owned();
    let csrf = tokens::random_alnum(32);
    let mut resp = layout::bare(
        l,
        StatusCode::OK,
        l.t("登录", "Sign in"),
        sign_in_form(l, &csrf, &next, "", None),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&s, SIGN_IN_COOKIE, &csrf, 3600),
    );
    resp
}

/// `POST /console/sign-in`
pub async fn submit(
    State(s): State<AppState>,
    PeerIp(addr): PeerIp,
    audit: Option<axum::Extension<crate::audit::AuditSlot>>,
    headers: HeaderMap,
    form: Result<
        axum::extract::Form<HashMap<String, String>>,
        axum::extract::rejection::FormRejection,
    >,
) -> Page {
    let l = Lang::of(&headers);
    let Ok(axum::extract::Form(form)) = form else {
        return Ok(layout::message(
            l,
            StatusCode::BAD_REQUEST,
            l.t("表单无效", "Bad form"),
            l.t("表单无效。", "The form could not be read."),
        ));
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let next = safe_next(form.get("next").map(String::as_str)).to_owned();
    // No account has a longer name (`admin::operators::check_username`):
    // a longer one is cut to one character more, which matches none, so
    // it costs no more than any wrong name in logs and the throttle.
    let username: String = field("username").trim().chars().take(65).collect();
    // Nobody is signed in yet: the attempt is anonymous, the name tried
    // is a parameter (the actor is named only once the password matched).
    if let Some(axum::Extension(slot)) = &audit {
        slot.actor("anonymous".to_owned());
        slot.params(&[("username".to_owned(), username.clone())]);
    }
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if expected.is_empty() || !crate::tokens::token_matches(field("csrf"), expected) {
        tracing::warn!(
            username,
            "console: a sign-in without its CSRF token was refused"
        );
        return Ok(again(
            &s,
            l,
            StatusCode::FORBIDDEN,
            &next,
            &username,
            l.t(
                "登录表单已失效，请重新输入。",
                "The sign-in form expired; enter your credentials again.",
            ),
        ));
    }
    let throttle_key = format!("operator:{username}");
    let device = cookie(&headers, super::device_cookie::DEVICE_COOKIE)
        .and_then(|v| super::device_cookie::verify(&s.admin_token, &username, v));
    let client = match device {
        Some(id) => Client::TrustedDevice(id),
        None => Client::Unknown(addr),
    };
    if let Err(locked) = s.sign_in_throttle.check(&throttle_key, client) {
        tracing::info!(username, ?addr, ?locked, "console: sign-in locked");
        let secs = locked.retry_after().as_secs().max(1);
        let minutes = secs.div_ceil(60).to_string();
        let message = match l {
            Lang::Zh => format!("尝试次数过多，请 {minutes} 分钟后再试。"),
            Lang::En => format!("Too many attempts; try again in {minutes} min."),
        };
        let mut resp = again(
            &s,
            l,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &username,
            &message,
        );
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            secs.to_string().parse().expect("digits are a header value"),
        );
        return Ok(resp);
    }
    let operator = s.store.operator(&username).await.or_internal(l)?;
    let password = field("password").to_owned();
    let stored = operator.as_ref().map(|o| o.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || {
        crate::passwords::verify_or_dummy(&password, stored.as_deref())
    })
    .await
    .unwrap_or(false);
    s.sign_in_throttle.record(&throttle_key, client, ok);
    let Some(operator) = operator.filter(|_| ok) else {
        tracing::info!(username, ?addr, "console: sign-in refused");
        // A checked password: an entry of its own (the throttle bounds
        // how many), anonymous with the name tried.
        if let Some(axum::Extension(slot)) = &audit {
            slot.checked();
        }
        return Ok(again(
            &s,
            l,
            StatusCode::UNAUTHORIZED,
            &next,
            &username,
            l.t("账号或密码错误。", "Wrong username or password."),
        ));
    };
    let token = tokens::random_alnum(43);
    let now = crate::clock::now_ms();
    let ttl_ms = (s.config.console_session_secs * 1000.0) as i64;
    let presented = cookie(&headers, SESSION_COOKIE).map(tokens::hash);
    let session = NewOperatorSession {
        token_hash: tokens::hash(&token),
        operator_id: operator.id,
        csrf: tokens::random_alnum(32),
        address: addr.map(|a| a.to_string()),
        created_at: now,
        expires_at: now + ttl_ms,
    };
    operators::start_session(&s, session, presented.as_deref())
        .await
        .or_internal(l)?;
    tracing::info!(operator = %operator.username, ?addr, "console: signed in");
    if let Some(axum::Extension(slot)) = &audit {
        slot.actor(format!("console:{}", operator.username));
    }
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&s, SESSION_COOKIE, &token, ttl_ms / 1000),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &s,
            super::device_cookie::DEVICE_COOKIE,
            &super::device_cookie::issue(&s.admin_token, &operator.username),
            super::device_cookie::DEVICE_COOKIE_SECS,
        ),
    );
    h.append(header::SET_COOKIE, set_cookie(&s, SIGN_IN_COOKIE, "", 0));
    Ok(resp)
}

/// The sign-in form again, with a fresh CSRF value and why.
fn again(
    s: &AppState,
    l: Lang,
    status: StatusCode,
    next: &str,
    username: &str,
    message: &str,
) -> Response {
    let csrf = tokens::random_alnum(32);
    let mut resp = layout::bare(
        l,
        status,
        l.t("登录", "Sign in"),
        sign_in_form(l, &csrf, next, username, Some(message)),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(s, SIGN_IN_COOKIE, &csrf, 3600),
    );
    resp
}

/// `POST /console/sign-out`
pub async fn sign_out(
    State(s): State<AppState>,
    who: Signed,
    headers: HeaderMap,
    form: Result<
        axum::extract::Form<HashMap<String, String>>,
        axum::extract::rejection::FormRejection,
    >,
) -> Page {
    let form = form.map(|f| f.0).unwrap_or_default();
    who.check_csrf(&form)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        operators::end_session(&s, &tokens::hash(token))
            .await
            .or_internal(who.lang)?;
    }
    tracing::info!(operator = %who.operator.username, "console: signed out");
    let mut resp = Redirect::to("/console/sign-in").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&s, SESSION_COOKIE, "", 0));
    Ok(resp)
}

/// `GET /console/language?to=en|zh&back=PATH`: remembers the language in a
/// cookie (a preference, not a state change) and goes back.
pub async fn language(
    State(s): State<AppState>,
    q: axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let to = if q.get("to").map(String::as_str) == Some("en") {
        "en"
    } else {
        "zh"
    };
    let mut resp = Redirect::to(safe_next(q.get("back").map(String::as_str))).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&s, super::i18n::LANG_COOKIE, to, 365 * 86_400),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_several() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; smartship_console=tok; b=2".parse().unwrap(),
        );
        h.append(header::COOKIE, "c=3".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), Some("3"));
        assert_eq!(cookie(&h, "smartship"), None);
    }

    #[test]
    fn only_console_pages_are_next() {
        assert_eq!(
            safe_next(Some("/console/reviews?after=1.2")),
            "/console/reviews?after=1.2"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/console");
        assert_eq!(safe_next(Some("/console//evil.example")), "/console");
        assert_eq!(safe_next(Some("/consolex\\evil")), "/console");
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn cookies_are_secure_behind_https_only() {
        assert!(secure_cookies(Some("https://ship.example")));
        assert!(secure_cookies(Some("HTTPS://ship.example/base")));
        assert!(!secure_cookies(Some("http://127.0.0.1:8080")));
        assert!(!secure_cookies(None));
        let on = cookie_header(true, SESSION_COOKIE, "v", 60);
        assert_eq!(
            on.to_str().unwrap(),
            "smartship_console=v; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(
            !cookie_header(false, SESSION_COOKIE, "v", 60)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
