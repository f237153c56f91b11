//! The frame of every console page: head, navigation, who is signed in,
//! and the responses for messages and failures.

use super::auth::Signed;
use super::i18n::Lang;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Reviews,
    Apps,
    Tps,
    Events,
    Audit,
}

/// The console's document: its stylesheet and script, the title with the
/// console's name.
fn document(l: Lang, title: &str, body_class: Option<&str>, body: Markup) -> Markup {
    let full_title = format!("{title} · smartship {}", l.t("运营控制台", "console"));
    let head = html! {
        link rel="stylesheet" href=(super::assets::CSS_PATH);
        script src=(super::assets::JS_PATH) defer {}
    };
    crate::html_page::document(l.tag(), &full_title, head, body_class, body)
}

/// Why a console handler does not draw its page: a refusal already drawn
/// (a form without its CSRF token, a role that may not act, a package that
/// is not there), or a failure of the server, shown without its cause
/// ([`OrInternal`]). Handlers return it with `?`. Boxed: a response is
/// large and the happy path should not carry its size.
pub struct PageError(Box<Response>);

impl From<Response> for PageError {
    fn from(r: Response) -> Self {
        PageError(Box::new(r))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A row that must exist: a failure of the server as with [`OrInternal`],
/// no row as the not-found page naming `what`.
pub trait Found<T> {
    fn found(self, l: Lang, what: impl FnOnce() -> String) -> Result<T, PageError>;
}

impl<T, E: Into<anyhow::Error>> Found<T> for Result<Option<T>, E> {
    fn found(self, l: Lang, what: impl FnOnce() -> String) -> Result<T, PageError> {
        self.or_internal(l)?
            .ok_or_else(|| not_found(l, &what()).into())
    }
}

/// What a console handler returns.
pub type Page = Result<Response, PageError>;

/// A failure of the server (a store call, a blocking task) as the
/// server-error page in the operator's language, for `?`.
pub trait OrInternal<T> {
    fn or_internal(self, l: Lang) -> Result<T, PageError>;
}

impl<T, E: Into<anyhow::Error>> OrInternal<T> for Result<T, E> {
    fn or_internal(self, l: Lang) -> Result<T, PageError> {
        self.map_err(|e| internal(l, e).into())
    }
}

/// A page for a signed-in operator.
pub fn page(who: &Signed, status: StatusCode, nav: Nav, title: &str, body: Markup) -> Response {
    let l = who.lang;
    let link = |target: Nav, href: &str, label: &str| {
        html! {
            @if nav == target {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    };
    let other = match l {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    let body = html! {
        a.skip href="#main" { (l.t("跳到正文", "Skip to content")) }
        header.top {
            a.brand href="/console" { "smartship" }
            nav aria-label=(l.t("主导航", "Main")) {
                (link(Nav::Dashboard, "/console", l.t("概览", "Dashboard")))
                (link(Nav::Reviews, "/console/reviews", l.t("审核队列", "Reviews")))
                (link(Nav::Apps, "/console/apps", l.t("小程序", "Apps")))
                (link(Nav::Tps, "/console/tps", l.t("平台", "Platforms")))
                (link(Nav::Events, "/console/events", l.t("事件", "Events")))
                (link(Nav::Audit, "/console/audit", l.t("审计日志", "Audit log")))
            }
            div.who {
                span #who { (who.operator.username) " · " (super::auth::role_label(who.role, l)) }
                a href={ "/console/language?to=" (other.0) "&back=/console" } lang=(if other.0 == "en" { "en" } else { "zh-CN" }) { (other.1) }
                form method="post" action="/console/sign-out" {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button.link #sign-out type="submit" { (l.t("退出", "Sign out")) }
                }
            }
        }
        main #main {
            h1 { (title) }
            (body)
        }
    };
    let markup = document(l, title, None, body);
    respond(status, markup)
}

/// A page with no operator (the sign-in form).
pub fn bare(l: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = document(l, title, Some("bare"), html! { main #main { (body) } });
    respond(status, markup)
}

/// A short message on its own page (refusals, failures).
pub fn message(l: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    bare(
        l,
        status,
        title,
        html! {
            div.card.narrow {
                h1 { (title) }
                p #message { (text) }
                p { a href="/console" { (l.t("返回控制台", "Back to the console")) } }
            }
        },
    )
}

/// 404 for something that does not exist (`what` names it).
pub fn not_found(l: Lang, what: &str) -> Response {
    message(l, StatusCode::NOT_FOUND, l.t("未找到", "Not found"), what)
}

/// The package `id` (of any app), or the 404 page naming it.
pub async fn package_or_404(
    s: &crate::state::AppState,
    l: Lang,
    id: i64,
) -> Result<smartship_store::Package, PageError> {
    s.store
        .package_any(smartship_core::PackageId(id))
        .await
        .found(l, || {
            format!("{} #{id}", l.t("没有这个代码包", "No such package"))
        })
}

/// A failure of the server: logged with its cause, shown without it.
pub fn internal(l: Lang, e: impl Into<anyhow::Error>) -> Response {
    let e = e.into();
    tracing::error!(error = ?e, "console: internal error");
    message(
        l,
        StatusCode::INTERNAL_SERVER_ERROR,
        l.t("系统错误", "Server error"),
        l.t(
            "系统错误，请稍后再试。",
            "Something failed on the server; try again later.",
        ),
    )
}

fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// Headers every console answer carries: not framed, not cached, nothing
/// loaded from elsewhere, no inline script.
pub async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    resp
}
