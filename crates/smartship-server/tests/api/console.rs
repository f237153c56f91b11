//! The operator console over raw HTTP: sign-in with its CSRF value and
//! throttle, sessions that are never carried across a sign-in and end at
//! sign-out, reset and expiry, CSRF tokens on every form, and what each
//! role may do. The browser's side is in `browser.rs`.

use crate::common::*;
use crate::events::start_receiver;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use std::time::{Duration, Instant};

/// A browser's cookies, by hand: the client follows no redirect, so every
/// answer is seen as the browser would get it.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub session: Option<String>,
    pub csrf: String,
}

pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("smartship_console="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .filter(|v| !v.is_empty())
}

/// The first CSRF token on a page.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("the page has a form");
    let rest = &page[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

impl Browser {
    pub fn new(t: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: t.base.clone(),
            session: None,
            csrf: String::new(),
        }
    }

    /// Signs in through the form (its CSRF value from the page and its
    /// cookie), presenting `carry` as the session cookie if given; the
    /// answer to the POST.
    pub async fn try_sign_in(
        &self,
        user: &str,
        password: &str,
        carry: Option<&str>,
    ) -> reqwest::Response {
        self.sign_in_request(user, password, carry, None, "/console/reviews")
            .await
    }

    /// The sign-in form's POST, going to `next` once signed in.
    pub async fn sign_in_request(
        &self,
        user: &str,
        password: &str,
        carry: Option<&str>,
        extra: Option<&str>,
        next: &str,
    ) -> reqwest::Response {
        let form = self
            .http
            .get(format!("{}/console/sign-in", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let signin_cookie = form
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("smartship_console_signin="))
            .map(|v| v.split(';').next().unwrap().to_owned())
            .unwrap();
        let page = form.text().await.unwrap();
        let mut cookie = format!("smartship_console_signin={signin_cookie}");
        if let Some(c) = carry {
            cookie.push_str(&format!("; smartship_console={c}"));
        }
        if let Some(e) = extra {
            cookie.push_str(&format!("; {e}"));
        }
        self.http
            .post(format!("{}/console/sign-in", self.base))
            .header(COOKIE, cookie)
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("next", next),
                ("username", user),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// As [`Browser::try_sign_in`], presenting `extra` (`name=value`) as
    /// a cookie too.
    pub async fn try_sign_in_with_cookie(
        &self,
        user: &str,
        password: &str,
        extra: &str,
    ) -> reqwest::Response {
        self.sign_in_request(user, password, None, Some(extra), "/console/reviews")
            .await
    }

    pub async fn sign_in(t: &TestApp, user: &str, password: &str) -> Browser {
        let mut b = Browser::new(t);
        let resp = b.try_sign_in(user, password, None).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "{}",
            resp.text().await.unwrap()
        );
        assert_eq!(resp.headers()[LOCATION], "/console/reviews");
        b.session = Some(session_cookie(&resp).expect("a session cookie"));
        let (status, page) = b.get("/console/reviews").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        b.csrf = csrf_of(&page);
        b
    }

    fn cookie(&self) -> String {
        self.session
            .as_deref()
            .map(|s| format!("smartship_console={s}"))
            .unwrap_or_default()
    }

    /// A GET with the session; the status and the redirect target (or
    /// the page).
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// Posts a form with the session; as [`Browser::get`].
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        self.send(self.http.post(format!("{}{path}", self.base)).form(form))
            .await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, String) {
        let resp = req.header(COOKIE, self.cookie()).send().await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        (status, location.unwrap_or(body))
    }
}

/// Makes an operator through the operator API; its password.
pub async fn operator(t: &TestApp, user: &str, role: &str) -> String {
    let (status, v) = t
        .admin_post(
            "/admin/v1/operators",
            json!({"username": user, "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["password"].as_str().unwrap().to_owned()
}

pub async fn submitted(t: &TestApp, app: &AppHandle, version: &str) -> i64 {
    t.submitted_package(app, version).await
}

async fn state_of(t: &TestApp, id: i64) -> String {
    let (_, p) = t.admin_get(&format!("/admin/v1/packages/{id}")).await;
    p["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_reviewer_passes_and_fails_from_the_queue_and_the_platform_hears_both() {
    let t = spawn_with(|c| {
        c.events_allowed_networks = "127.0.0.0/8".to_owned();
        c.events_retry_schedule = "0.1".to_owned();
    })
    .await;
    let r = start_receiver(vec![]).await;
    let (status, _) = t.patch_tp(json!({"message_url": r.url})).await;
    assert_eq!(status, StatusCode::OK);
    let first = submitted(&t, &t.apps[0], "1.0.0").await;
    let second = submitted(&t, &t.apps[1], "2.0.0").await;
    let password = operator(&t, "rev", "reviewer").await;
    let b = Browser::sign_in(&t, "rev", &password).await;

    let (_, queue) = b.get("/console/reviews").await;
    let (a, z) = (
        queue.find(&format!("/console/packages/{first}\"")).unwrap(),
        queue
            .find(&format!("/console/packages/{second}\""))
            .unwrap(),
    );
    assert!(a < z, "oldest first");
    assert!(queue.contains("data-pass"), "a reviewer has the actions");

    let (status, to) = b
        .post(
            &format!("/console/packages/{first}/review"),
            &[
                ("csrf", &b.csrf),
                ("decision", "pass"),
                ("next", "/console/reviews"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(to, format!("/console/reviews?done=pass&id={first}"));
    // A fail needs a reason: refused without one, nothing changes.
    let (status, _) = b
        .post(
            &format!("/console/packages/{second}/review"),
            &[("csrf", &b.csrf), ("decision", "fail"), ("reason", "  ")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(state_of(&t, second).await, "auditing");
    let (status, _) = b
        .post(
            &format!("/console/packages/{second}/review"),
            &[
                ("csrf", &b.csrf),
                ("decision", "fail"),
                ("reason", "测试账号无法登录"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&t, first).await, "audit_passed");
    assert_eq!(state_of(&t, second).await, "audit_failed");
    // Reviewing twice is refused, not repeated.
    let (status, page) = b
        .post(
            &format!("/console/packages/{first}/review"),
            &[("csrf", &b.csrf), ("decision", "pass")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");

    // Who did it is on record.
    let (_, p) = t.admin_get(&format!("/admin/v1/packages/{first}")).await;
    let actors: Vec<_> = p["transitions"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["actor"].as_str()).collect())
        .unwrap_or_default();
    assert!(actors.contains(&"console:rev"), "{p}");

    // The platform's receiver gets both results.
    let deadline = Instant::now() + Duration::from_secs(20);
    while r.hits().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "events not delivered: {}",
            r.hits().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, events) = t
        .admin_get(&format!("/admin/v1/events?client_id={}", t.tp_client_id))
        .await;
    let kinds: Vec<_> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "message")
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k.contains("PASS")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.contains("FAIL")), "{kinds:?}");

    // The dashboard counts today's two reviews and has a delivery lag.
    let (status, dash) = b.get("/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dash.contains(r#"id="daily-chart""#), "{dash}");
    let table = &dash[dash.find(r#"id="daily""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let last_row = &table[table.rfind("<tr>").unwrap()..];
    assert!(last_row.contains("<td>2</td>"), "today: {last_row}");
    let lag = &dash[dash.find(r#"id="stat-lag""#).unwrap()..];
    assert!(
        lag[..200].contains(" ms") || lag[..200].contains(" s"),
        "{}",
        &lag[..200]
    );
}

#[tokio::test]
async fn a_viewer_sees_no_action_and_its_forged_posts_change_nothing() {
    let t = spawn_app().await;
    let id = submitted(&t, &t.apps[0], "1.0.0").await;
    let password = operator(&t, "watcher", "viewer").await;
    let b = Browser::sign_in(&t, "watcher", &password).await;
    let (status, queue) = b.get("/console/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains(&format!("/console/packages/{id}\"")));
    assert!(
        !queue.contains("data-pass") && !queue.contains("fail-dialog"),
        "{queue}"
    );
    let (_, page) = b.get(&format!("/console/packages/{id}")).await;
    assert!(!page.contains(&format!("action=\"/console/packages/{id}/review\"")));
    // With its own valid CSRF token, the role still refuses.
    let (status, page) = b
        .post(
            &format!("/console/packages/{id}/review"),
            &[("csrf", &b.csrf), ("decision", "pass")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    // Without a session at all: sent to sign in, nothing done.
    let anonymous = Browser::new(&t);
    let (status, to) = anonymous
        .post(
            &format!("/console/packages/{id}/review"),
            &[("decision", "pass")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/console/sign-in"), "{to}");
    assert_eq!(state_of(&t, id).await, "auditing");
}

#[tokio::test]
async fn every_form_needs_its_csrf_token() {
    let t = spawn_app().await;
    let id = submitted(&t, &t.apps[0], "1.0.0").await;
    let password = operator(&t, "rev", "reviewer").await;
    let b = Browser::sign_in(&t, "rev", &password).await;
    let other = Browser::sign_in(&t, "rev", &password).await;
    assert_ne!(b.csrf, other.csrf, "each session has its own token");
    for form in [
        vec![("decision", "pass")],
        vec![("csrf", ""), ("decision", "pass")],
        vec![("csrf", "forged"), ("decision", "pass")],
        vec![("csrf", other.csrf.as_str()), ("decision", "pass")],
    ] {
        let (status, _) = b
            .post(&format!("/console/packages/{id}/review"), &form)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form:?}");
    }
    assert_eq!(state_of(&t, id).await, "auditing");
    let (status, _) = b.post("/console/sign-out", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "sign-out is a form too");
    let (status, _) = b.get("/console").await;
    assert_eq!(status, StatusCode::OK, "still signed in");

    // The sign-in form: its value must match its cookie.
    let resp = b
        .http
        .post(format!("{}/console/sign-in", t.base))
        .header(COOKIE, "smartship_console_signin=aaaa")
        .form(&[
            ("csrf", "bbbb"),
            ("username", "rev"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(session_cookie(&resp), None);
}

#[tokio::test]
async fn a_session_id_is_never_carried_across_a_sign_in() {
    let t = spawn_app().await;
    let password = operator(&t, "adm", "admin").await;
    let b = Browser::new(&t);
    // An id planted by someone else before the sign-in is not adopted.
    let planted = "PlantedByAnAttacker0000000000000000000000000";
    let resp = b.try_sign_in("adm", &password, Some(planted)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let issued = session_cookie(&resp).unwrap();
    assert_ne!(issued, planted);
    let mut attacker = Browser::new(&t);
    attacker.session = Some(planted.to_owned());
    let (status, to) = attacker.get("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/console/sign-in"));

    // A live session presented at a sign-in is ended and replaced.
    let resp = b.try_sign_in("adm", &password, Some(&issued)).await;
    let again = session_cookie(&resp).unwrap();
    assert_ne!(again, issued);
    let mut old = Browser::new(&t);
    old.session = Some(issued);
    assert_eq!(old.get("/console").await.0, StatusCode::SEE_OTHER);
    let mut new = Browser::new(&t);
    new.session = Some(again);
    assert_eq!(new.get("/console").await.0, StatusCode::OK);

    // The cookie cannot be read by scripts nor sent by other sites.
    let resp = b.try_sign_in("adm", &password, None).await;
    let set = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("smartship_console="))
        .unwrap();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Strict")
            && set.contains("Path=/console"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP here: {set}");
}

#[tokio::test]
async fn a_next_page_with_control_characters_is_replaced_by_the_console() {
    let t = spawn_app().await;
    let password = operator(&t, "adm", "admin").await;
    let b = Browser::new(&t);
    for next in [
        "/console/apps\r\nSet-Cookie: x=1",
        "/console/\0",
        "/console/a b",
    ] {
        let resp = b.sign_in_request("adm", &password, None, None, next).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()[LOCATION], "/console", "{next:?}");
    }
    // A review's fail reason with NUL or ESC does not reach the platform.
    let id = submitted(&t, &t.apps[0], "1.0.0").await;
    let admin = Browser::sign_in(&t, "adm", &password).await;
    let (status, _) = admin
        .post(
            &format!("/console/packages/{id}/review"),
            &[
                ("csrf", &admin.csrf),
                ("decision", "fail"),
                ("reason", "bad\u{0}\u{1b}[31m code"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(state_of(&t, id).await, "auditing", "nothing was decided");
    let (status, v) = t
        .admin_post(
            &format!("/admin/v1/packages/{id}/review"),
            json!({"decision": "fail", "reason": "bad\u{1b}[31m"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("reason"), "{v}");
    assert_eq!(state_of(&t, id).await, "auditing");
}

#[tokio::test]
async fn a_browser_that_signed_in_before_is_not_locked_out_by_others() {
    let t = spawn_with(|c| {
        c.signin_max_failures_per_account = 3;
        c.signin_max_failures_per_address = 6;
    })
    .await;
    let password = operator(&t, "demo-admin", "admin").await;
    // The owner signs in once: the browser keeps a device cookie.
    let owner = Browser::new(&t);
    let first = owner.try_sign_in("demo-admin", &password, None).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let device = first
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("smartship_console_device="))
        .expect("a device cookie")
        .to_owned();
    assert!(device.contains("HttpOnly") && device.contains("SameSite=Strict"));
    let device = device.split(';').next().unwrap().to_owned();
    // Anyone else fails five times: the account is locked for them...
    let attacker = Browser::new(&t);
    for _ in 0..5 {
        attacker
            .try_sign_in("demo-admin", "guess-guess", None)
            .await;
    }
    let resp = attacker.try_sign_in("demo-admin", &password, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but not for the owner's browser, even from the same address.
    let resp = owner
        .try_sign_in_with_cookie("demo-admin", &password, &device)
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    // A device cookie made for another account proves nothing there: the
    // address's lock applies to it as to anyone.
    operator(&t, "other", "viewer").await;
    for _ in 0..3 {
        attacker.try_sign_in("other", "guess-guess", None).await;
    }
    let resp = owner
        .try_sign_in_with_cookie("other", "guess-guess", &device)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = owner
        .try_sign_in_with_cookie("demo-admin", &password, &device)
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "its own account still"
    );
}

#[tokio::test]
async fn sign_ins_are_throttled_per_account_and_per_address() {
    let t = spawn_with(|c| {
        c.signin_max_failures_per_account = 3;
        c.signin_max_failures_per_address = 6;
    })
    .await;
    let rev = operator(&t, "rev", "reviewer").await;
    let adm = operator(&t, "adm", "admin").await;
    let b = Browser::new(&t);
    for _ in 0..3 {
        let resp = b.try_sign_in("rev", "wrong-password", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.text().await.unwrap().contains("账号或密码错误"));
    }
    // Locked: even the right password is not checked.
    let resp = b.try_sign_in("rev", &rev, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(session_cookie(&resp), None);
    // Another account from the same address still signs in...
    assert_eq!(
        b.try_sign_in("adm", &adm, None).await.status(),
        StatusCode::SEE_OTHER
    );
    // ...until the address has failed too often, whatever the account.
    for user in ["a1", "a2", "a3"] {
        assert_eq!(
            b.try_sign_in(user, "x", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let resp = b.try_sign_in("adm", &adm, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sessions_end_at_sign_out_reset_removal_and_expiry() {
    let t = spawn_app().await;
    let password = operator(&t, "adm", "admin").await;
    let b = Browser::sign_in(&t, "adm", &password).await;
    let (status, to) = b.post("/console/sign-out", &[("csrf", &b.csrf)]).await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/sign-in")
    );
    assert_eq!(b.get("/console").await.0, StatusCode::SEE_OTHER);

    let b = Browser::sign_in(&t, "adm", &password).await;
    let (status, v) = t
        .admin_post(
            "/admin/v1/operators/adm/password",
            json!({"password": "a-new-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        v.get("password").is_none(),
        "a given password is not echoed"
    );
    assert_eq!(b.get("/console").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        Browser::new(&t)
            .try_sign_in("adm", &password, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let b = Browser::sign_in(&t, "adm", "a-new-password").await;
    let resp = t
        .http
        .delete(format!("{}/admin/v1/operators/adm", t.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.get("/console").await.0, StatusCode::SEE_OTHER);

    // A session past its expiry is not honoured.
    let password = operator(&t, "late", "viewer").await;
    let b = Browser::sign_in(&t, "late", &password).await;
    let store = &t.state().store;
    let op = store.operator("late").await.unwrap().unwrap();
    let now = smartship_server::clock::now_ms();
    store
        .create_operator_session(
            smartship_store::NewOperatorSession {
                token_hash: smartship_server::tokens::hash("expired-token"),
                operator_id: op.id,
                csrf: "c".into(),
                address: None,
                created_at: now - 10_000,
                expires_at: now - 1,
            },
            None,
        )
        .await
        .unwrap();
    let mut expired = Browser::new(&t);
    expired.session = Some("expired-token".into());
    assert_eq!(expired.get("/console").await.0, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/console").await.0, StatusCode::OK);
}

#[tokio::test]
async fn operator_accounts_are_checked() {
    let t = spawn_app().await;
    for (body, code) in [
        (json!({"username": "x", "role": "root"}), "invalid"),
        (json!({"username": "", "role": "viewer"}), "invalid"),
        (json!({"username": "a b", "role": "viewer"}), "invalid"),
        (
            json!({"username": "ok", "role": "viewer", "password": "short"}),
            "invalid",
        ),
        (
            json!({"username": "ok", "role": "viewer", "extra": 1}),
            "invalid",
        ),
    ] {
        let (status, v) = t.admin_post("/admin/v1/operators", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {v}");
        assert_eq!(v["error"]["code"], code, "{v}");
    }
    let (status, v) = t
        .admin_post(
            "/admin/v1/operators",
            json!({"username": "ok", "role": "viewer", "password": "long-enough-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert!(v.get("password").is_none());
    let (status, v) = t
        .admin_post(
            "/admin/v1/operators",
            json!({"username": "ok", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (_, v) = t.admin_get("/admin/v1/operators").await;
    assert_eq!(v["operators"][0]["username"], "ok");
    assert_eq!(v["operators"][0]["role"], "viewer");
    assert!(
        v.to_string().find("pbkdf2").is_none(),
        "no hash is shown: {v}"
    );
    let (status, _) = t
        .admin_post("/admin/v1/operators/nobody/password", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_admins_act_on_apps_and_events() {
    let t = spawn_with(|c| {
        c.events_allowed_networks = "127.0.0.0/8".to_owned();
        c.events_retry_schedule = "0.1".to_owned();
    })
    .await;
    let r = start_receiver(vec![(500, "down"), (500, "down")]).await;
    assert_eq!(
        t.patch_tp(json!({"message_url": r.url})).await.0,
        StatusCode::OK
    );
    let app = &t.apps[0];
    let first = t.released_package(app, "1.0.0").await;
    // The first pass's two attempts take the receiver's two failures.
    let (_, failed) = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (s, v) = t.admin_get("/admin/v1/events?status=failed").await;
            if v["events"][0]["event_id"].is_i64() {
                break (s, v);
            }
            assert!(Instant::now() < deadline, "no event failed: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let event = failed["events"][0]["event_id"].as_i64().unwrap();
    let second = t.released_package(app, "2.0.0").await;
    let admin = Browser::sign_in(&t, "boss", &operator(&t, "boss", "admin").await).await;
    let reviewer = Browser::sign_in(&t, "rev", &operator(&t, "rev", "reviewer").await).await;
    let viewer = Browser::sign_in(&t, "watcher", &operator(&t, "watcher", "viewer").await).await;

    // Every page reads for every role; only an admin's show actions.
    let app_page = format!("/console/apps/{}", app.app_id);
    let event_page = format!("/console/events/{event}");
    for b in [&admin, &reviewer, &viewer] {
        for page in [
            "/console/apps?q=App",
            "/console/tps",
            "/console/events?status=failed",
            "/console/audit?actor=admin",
            &app_page,
            &event_page,
        ] {
            let (status, body) = b.get(page).await;
            assert_eq!(status, StatusCode::OK, "{page}: {body}");
        }
    }
    assert!(admin.get(&app_page).await.1.contains(r#"id="rollback""#));
    assert!(!reviewer.get(&app_page).await.1.contains(r#"id="rollback""#));
    assert!(admin.get(&event_page).await.1.contains(r#"id="replay""#));
    assert!(!viewer.get(&event_page).await.1.contains(r#"id="replay""#));
    let (_, listed) = viewer.get("/console/events?status=failed").await;
    assert!(
        listed.contains(&format!("/console/events/{event}\"")),
        "{listed}"
    );
    let (_, found) = viewer.get("/console/apps?q=App%200").await;
    assert!(found.contains(&app_page), "{found}");

    // Reviewers and viewers are refused, with their own valid tokens.
    let rollback = format!("/console/apps/{}/rollback", app.app_id);
    let second_id = second.to_string();
    for b in [&reviewer, &viewer] {
        let (status, _) = b
            .post(&rollback, &[("csrf", &b.csrf), ("package_id", &second_id)])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = b
            .post(&format!("{event_page}/replay"), &[("csrf", &b.csrf)])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = b
            .post(
                &format!("/console/apps/{}/service", app.app_id),
                &[("csrf", &b.csrf), ("status", "paused")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(state_of(&t, second).await, "online");

    // The admin: replay, pause and resume, roll back; approving is for
    // demo servers only.
    let (status, to) = admin
        .post(&format!("{event_page}/replay"), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(
        (status, to.contains("done=replay")),
        (StatusCode::SEE_OTHER, true),
        "{to}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.admin_get(&format!("/admin/v1/events/{event}")).await.1["status"] != "delivered" {
        assert!(
            Instant::now() < deadline,
            "the replayed event was not delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let service = format!("/console/apps/{}/service", app.app_id);
    let (status, _) = admin
        .post(&service, &[("csrf", &admin.csrf), ("status", "paused")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.admin_get(&format!("/admin/v1/apps/{}", app.app_id))
            .await
            .1["service_status"],
        "paused"
    );
    let (status, _) = admin
        .post(&service, &[("csrf", &admin.csrf), ("status", "banned")])
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "bans take a reason: the operator API"
    );
    let (status, _) = admin
        .post(&service, &[("csrf", &admin.csrf), ("status", "normal")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.admin_get(&format!("/admin/v1/apps/{}", app.app_id))
            .await
            .1["service_status"],
        "normal"
    );
    let (status, _) = admin
        .post(
            &rollback,
            &[("csrf", &admin.csrf), ("package_id", &second_id)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let deadline = Instant::now() + Duration::from_secs(20);
    while state_of(&t, first).await != "online" {
        assert!(Instant::now() < deadline, "the rollback did not complete");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state_of(&t, second).await, "rolled_back");
    let (_, timeline) = admin.get(&app_page).await;
    assert!(
        timeline.contains("console:boss"),
        "the timeline names who rolled back"
    );
    let (status, _) = admin
        .post(
            &format!("/console/apps/{}/approve", t.apps[1].app_id),
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not a demo server");
}

#[tokio::test]
async fn basic_information_changes_are_reviewed_from_the_queue_in_either_language() {
    let t = spawn_app().await;
    let a = &t.apps[0];
    let v = t
        .api(
            "app/modifysignature",
            &a.token,
            &[("signature", "一家好吃的小店，欢迎光临")],
        )
        .await;
    assert_eq!(v["errno"], 0, "{v}");
    let id = v["data"]["examine_id"].as_i64().unwrap();
    let b = Browser::sign_in(&t, "rev", &operator(&t, "rev", "reviewer").await).await;
    let (_, queue) = b.get("/console/reviews").await;
    assert!(queue.contains("一家好吃的小店"), "{queue}");
    assert!(queue.contains(&format!("/console/examinations/{id}/review")));
    assert!(queue.contains("审核队列"), "Chinese by default");
    let (status, _) = b
        .post(
            &format!("/console/examinations/{id}/review"),
            &[
                ("csrf", &b.csrf),
                ("decision", "fail"),
                ("reason", "描述含有夸大用语"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, e) = t.admin_get("/admin/v1/examinations?status=failed").await;
    let decided = &e["examinations"][0];
    assert_eq!(decided["examine_id"], id);
    assert_eq!(decided["reason"], "描述含有夸大用语");
    assert_eq!(decided["reviewed_by"], "console:rev");
    let (status, _) = b
        .post(
            &format!("/console/examinations/{id}/review"),
            &[("csrf", &b.csrf), ("decision", "pass")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");

    // English, remembered in a cookie; only console pages are targets.
    let resp = b
        .http
        .get(format!(
            "{}/console/language?to=en&back=/console/reviews",
            t.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/reviews");
    let lang = resp.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(lang.starts_with("smartship_lang=en;"), "{lang}");
    let page = b
        .http
        .get(format!("{}/console/reviews", t.base))
        .header(
            COOKIE,
            format!(
                "{}; smartship_lang=en",
                b.session
                    .as_deref()
                    .map(|s| format!("smartship_console={s}"))
                    .unwrap()
            ),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Review queue") && page.contains(r#"lang="en""#),
        "{page}"
    );
    let resp = b
        .http
        .get(format!(
            "{}/console/language?to=en&back=https://evil.example/",
            t.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[LOCATION], "/console");
}
