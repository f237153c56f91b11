//! The authorization flow over raw HTTP: ticket → TP token → pre-auth code;
//! authorization code → app tokens → package/get → refresh (old tokens
//! refused) → app/info; and every refusal in its documented shape.

use crate::common::*;
use serde_json::{Value, json};

async fn get_json(t: &TestApp, url: String) -> Value {
    let resp = t.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn oauth(t: &TestApp, params: &[(&str, &str)]) -> Value {
    let resp = t
        .http
        .get(format!("{}/rest/2.0/oauth/token", t.base))
        .query(params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn assert_oauth_error(v: &Value, error: &str) {
    assert_eq!(v["error"], error, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{v}"
    );
    assert_eq!(
        v.as_object().unwrap().len(),
        2,
        "only error and error_description: {v}"
    );
}

#[tokio::test]
async fn ticket_to_tokens_to_refresh_end_to_end() {
    let t = spawn_app().await;
    // The ticket, as the operator (or the pushed TICKET event) shows it.
    let (_, v) = t
        .admin_get(&format!("/admin/v1/tps/{}/ticket", t.tp_client_id))
        .await;
    let ticket = v["ticket"].as_str().unwrap().to_owned();
    let url = |client: &str, ticket: &str| {
        format!(
            "{}/public/2.0/smartapp/auth/tp/token?client_id={client}&ticket={ticket}",
            t.base
        )
    };
    let v = get_json(&t, url(&t.tp_client_id, &ticket)).await;
    assert_eq!(v["errno"], 0, "{v}");
    assert_eq!(v["data"]["expires_in"], 30 * 24 * 3600);
    let tp_token = v["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        get_json(&t, url(&t.tp_client_id, "nope")).await["errno"],
        47015
    );
    assert_eq!(
        get_json(&t, url("unknown-client", &ticket)).await["errno"],
        47015
    );
    let v = get_json(
        &t,
        format!("{}/public/2.0/smartapp/auth/tp/token?client_id=x", t.base),
    )
    .await;
    assert_eq!(v["errno"], 40001);
    assert!(v["msg"].as_str().unwrap().contains("ticket"));

    // The TP token works on TP routes.
    let pre = t.api_get("tp/createpreauthcode", &tp_token, &[]).await;
    assert_eq!(pre["errno"], 0, "{pre}");
    assert_eq!(pre["data"]["expires_in"], 1200);
    assert!(pre["data"]["pre_auth_code"].as_str().unwrap().len() >= 32);

    // An authorization code for an authorized app, exchanged once.
    let app = &t.apps[0];
    let id = app.app_id.to_string();
    let code = t
        .api(
            "auth/retrieve/authorizationcode",
            &tp_token,
            &[("app_id", &id)],
        )
        .await;
    assert_eq!(code["errno"], 0, "{code}");
    assert_eq!(code["data"]["expires_in"], 600);
    let code = code["data"]["authorization_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = [
        ("access_token", tp_token.as_str()),
        ("grant_type", "app_to_tp_authorization_code"),
        ("code", code.as_str()),
    ];
    let tokens = oauth(&t, &grant).await;
    assert_eq!(tokens["expires_in"], 3600, "{tokens}");
    assert!(tokens["scope"].as_str().unwrap().contains("package"));
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_oauth_error(&oauth(&t, &grant).await, "invalid_grant");

    let list = t.api_get("package/get", &access, &[]).await;
    assert_eq!(list, json!({"errno": 0, "msg": "success", "data": []}));

    // Refresh: a new pair; the old access and refresh tokens stop working.
    let refresh_grant = [
        ("access_token", tp_token.as_str()),
        ("grant_type", "app_to_tp_refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let renewed = oauth(&t, &refresh_grant).await;
    let new_access = renewed["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"]);
    assert_eq!(t.api_get("package/get", new_access, &[]).await["errno"], 0);
    let old = t.api_get("package/get", &access, &[]).await;
    assert_eq!(old["error_code"], 110, "{old}");
    assert_oauth_error(&oauth(&t, &refresh_grant).await, "invalid_grant");

    // app/info with the new token.
    let info = t.api_get("app/info", new_access, &[]).await;
    assert_eq!(info["errno"], 0, "{info}");
    assert_eq!(info["data"]["app_id"], app.app_id);
    assert_eq!(info["data"]["qualification"]["status"], 1);
    assert_eq!(info["data"]["audit_info"]["status"], 1);
    assert!(!info["data"]["auth_info"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn oauth_refusals_use_the_flat_oauth_shape() {
    let t = spawn_app().await;
    let tp = t.tp_token.as_str();
    assert_oauth_error(
        &oauth(
            &t,
            &[
                ("access_token", "bogus"),
                ("grant_type", "app_to_tp_authorization_code"),
                ("code", "x"),
            ],
        )
        .await,
        "invalid_client",
    );
    assert_oauth_error(
        &oauth(&t, &[("access_token", tp), ("grant_type", "password")]).await,
        "unsupported_grant_type",
    );
    assert_oauth_error(&oauth(&t, &[("access_token", tp)]).await, "invalid_request");
    assert_oauth_error(
        &oauth(
            &t,
            &[
                ("access_token", tp),
                ("grant_type", "app_to_tp_authorization_code"),
            ],
        )
        .await,
        "invalid_request",
    );
    assert_oauth_error(
        &oauth(
            &t,
            &[
                ("access_token", tp),
                ("grant_type", "app_to_tp_authorization_code"),
                ("code", "unknown"),
            ],
        )
        .await,
        "invalid_grant",
    );
    // An app's refresh token presented by another TP is just invalid.
    let (_, other_tp) = t.second_tp().await;
    let app = &t.apps[0];
    assert_oauth_error(
        &oauth(
            &t,
            &[
                ("access_token", other_tp.as_str()),
                ("grant_type", "app_to_tp_refresh_token"),
                ("refresh_token", app.refresh_token.as_str()),
            ],
        )
        .await,
        "invalid_grant",
    );
    // ... and stays usable by its own TP.
    let ok = oauth(
        &t,
        &[
            ("access_token", tp),
            ("grant_type", "app_to_tp_refresh_token"),
            ("refresh_token", app.refresh_token.as_str()),
        ],
    )
    .await;
    assert!(ok["access_token"].is_string(), "{ok}");
}

#[tokio::test]
async fn retrieve_authorization_code_needs_a_relation() {
    let t = spawn_app().await;
    let (status, lone) = t
        .admin_post("/admin/v1/apps", json!({"name": "Not authorized"}))
        .await;
    assert_eq!(status, 201);
    let id = lone["app_id"].to_string();
    let v = t
        .api(
            "auth/retrieve/authorizationcode",
            &t.tp_token,
            &[("app_id", &id)],
        )
        .await;
    assert_eq!(v["errno"], 50032, "{v}");
    // An app token cannot call TP routes.
    let v = t
        .api(
            "auth/retrieve/authorizationcode",
            &t.apps[0].token,
            &[("app_id", &id)],
        )
        .await;
    assert_eq!(v["error_code"], 6);
    // A TP token cannot call app/info.
    assert_eq!(
        t.api_get("app/info", &t.tp_token, &[]).await["error_code"],
        6
    );
}

/// The value of a hidden input of the consent form.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

struct ConsentSetup {
    tp_token: String,
    redirect: String,
}

async fn consent_setup(t: &TestApp) -> ConsentSetup {
    t.enable_consent().await;
    // The TP token as an ISV gets it: from the pushed ticket.
    let (_, v) = t
        .admin_get(&format!("/admin/v1/tps/{}/ticket", t.tp_client_id))
        .await;
    let v = get_json(
        t,
        format!(
            "{}/public/2.0/smartapp/auth/tp/token?client_id={}&ticket={}",
            t.base,
            t.tp_client_id,
            v["ticket"].as_str().unwrap()
        ),
    )
    .await;
    ConsentSetup {
        tp_token: v["data"]["access_token"].as_str().unwrap().to_owned(),
        redirect: "https://auth.isv.example/callback?state=xyz".to_owned(),
    }
}

async fn pre_auth_code(t: &TestApp, tp_token: &str) -> String {
    let v = t.api_get("tp/createpreauthcode", tp_token, &[]).await;
    v["data"]["pre_auth_code"].as_str().unwrap().to_owned()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn consent_page(t: &TestApp, code: &str, redirect: &str) -> (u16, String) {
    let resp = t
        .http
        .get(format!("{}/mappconsole/tp/authorization", t.base))
        .query(&[
            ("client_id", t.tp_client_id.as_str()),
            ("pre_auth_code", code),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn post_consent(
    t: &TestApp,
    html: &str,
    user: &str,
    pass: &str,
    decision: &str,
) -> reqwest::Response {
    let form = [
        ("client_id", hidden(html, "client_id")),
        ("pre_auth_code", hidden(html, "pre_auth_code")),
        ("redirect_uri", hidden(html, "redirect_uri")),
        ("username", user.to_owned()),
        ("password", pass.to_owned()),
        ("decision", decision.to_owned()),
    ];
    no_redirects()
        .post(format!("{}/mappconsole/tp/authorization", t.base))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn consent_page_signs_in_and_redirects_with_a_code() {
    let t = spawn_app().await;
    let setup = consent_setup(&t).await;
    let code = pre_auth_code(&t, &setup.tp_token).await;
    let (status, html) = consent_page(&t, &code, &setup.redirect).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Test ISV"), "the page names the platform");
    assert!(html.contains(r#"id="scopes""#) && html.contains("代码包"));

    // Wrong password: the page again, with an error, nothing consumed.
    let resp = post_consent(&t, &html, "shop-admin", "wrong", "approve").await;
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("账号或密码错误"));

    let resp = post_consent(&t, &html, "shop-admin", "s3cret-pass", "approve").await;
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.host_str(), Some("auth.isv.example"));
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz", "the redirect keeps its own parameters");
    assert_eq!(q["expires_in"], "600");
    let auth_code = q["authorization_code"].clone();

    // The code is exchanged for working app tokens.
    let tokens = oauth(
        &t,
        &[
            ("access_token", setup.tp_token.as_str()),
            ("grant_type", "app_to_tp_authorization_code"),
            ("code", auth_code.as_str()),
        ],
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(t.api_get("package/get", access, &[]).await["errno"], 0);
    let info = t.api_get("app/info", access, &[]).await;
    assert_eq!(info["data"]["app_id"], t.apps[0].app_id);

    // Refresh: the old access token is refused (110), the old refresh
    // token too.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refresh_grant = [
        ("access_token", setup.tp_token.as_str()),
        ("grant_type", "app_to_tp_refresh_token"),
        ("refresh_token", refresh),
    ];
    let renewed = oauth(&t, &refresh_grant).await;
    let new_access = renewed["access_token"].as_str().unwrap();
    assert_eq!(t.api_get("package/get", new_access, &[]).await["errno"], 0);
    assert_eq!(
        t.api_get("package/get", access, &[]).await["error_code"],
        110
    );
    assert_oauth_error(&oauth(&t, &refresh_grant).await, "invalid_grant");

    // The consent was recorded as an authorization change for the TP.
    let (_, ev) = t
        .admin_get(&format!("/admin/v1/events?client_id={}", t.tp_client_id))
        .await;
    assert!(
        ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "UPDATE_AUTHORIZED" && e["app_id"] == t.apps[0].app_id)
    );

    // The pre-auth code was single use.
    let (status, html) = consent_page(&t, &code, &setup.redirect).await;
    assert_eq!(status, 400);
    assert!(html.contains("预授权码"));
}

#[tokio::test]
async fn consent_refusals() {
    let t = spawn_app().await;
    let setup = consent_setup(&t).await;
    // A redirect on a foreign domain is refused before anything is shown.
    let code = pre_auth_code(&t, &setup.tp_token).await;
    for bad in [
        "https://evil.example/cb",
        "https://isv.example.evil.example/cb",
        "javascript:alert(1)",
    ] {
        let (status, html) = consent_page(&t, &code, bad).await;
        assert_eq!(status, 400, "{bad}");
        assert!(html.contains("redirect_uri"));
    }
    // Unknown pre-auth code, missing parameters.
    let (status, _) = consent_page(&t, "nope", &setup.redirect).await;
    assert_eq!(status, 400);
    let resp = t
        .http
        .get(format!("{}/mappconsole/tp/authorization", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-frame-options"], "DENY");

    // The administrator refuses: redirect with access_denied, no code.
    let (_, html) = consent_page(&t, &code, &setup.redirect).await;
    let resp = post_consent(&t, &html, "shop-admin", "s3cret-pass", "refuse").await;
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("error=access_denied") && !location.contains("authorization_code"),
        "{location}"
    );
    // ... and that used the code: posting it again fails.
    let resp = post_consent(&t, &html, "shop-admin", "s3cret-pass", "approve").await;
    assert_eq!(resp.status(), 400);

    // Markup in names is escaped.
    assert_eq!(
        t.patch_tp(json!({"redirect_domain": "isv.example"}))
            .await
            .0,
        200
    );
    let code = pre_auth_code(&t, &setup.tp_token).await;
    let (_, html) = consent_page(&t, &code, "https://isv.example/cb?a=<script>").await;
    assert!(!html.contains("<script>"), "escaped");
}

#[tokio::test]
async fn a_superseded_ticket_still_works_for_a_grace_period() {
    let t = spawn_with(|c| c.ticket_interval_secs = 0.2).await;
    let ticket_url = format!("/admin/v1/tps/{}/ticket", t.tp_client_id);
    let (_, v) = t.admin_get(&ticket_url).await;
    let first = v["ticket"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, v) = t.admin_get(&ticket_url).await;
        if v["ticket"] != first.as_str() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the ticket never rotated"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v = get_json(
        &t,
        format!(
            "{}/public/2.0/smartapp/auth/tp/token?client_id={}&ticket={first}",
            t.base, t.tp_client_id
        ),
    )
    .await;
    assert_eq!(v["errno"], 0, "the previous ticket is accepted: {v}");
}

#[tokio::test]
async fn the_app_administrator_can_end_the_authorization() {
    let t = spawn_app().await;
    consent_setup(&t).await;
    let app = &t.apps[0];
    let page = t
        .http
        .get(format!("{}/mappconsole/tp/unauthorize", t.base))
        .query(&[("client_id", t.tp_client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Test ISV"));
    let post = |password: &'static str| {
        t.http
            .post(format!("{}/mappconsole/tp/unauthorize", t.base))
            .form(&[
                ("client_id", t.tp_client_id.as_str()),
                ("username", "shop-admin"),
                ("password", password),
            ])
            .send()
    };
    assert_eq!(post("wrong-password").await.unwrap().status(), 401);
    assert_eq!(t.api_get("package/get", &app.token, &[]).await["errno"], 0);
    let resp = post("s3cret-pass").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("已解除"));
    assert_eq!(
        t.api_get("package/get", &app.token, &[]).await["error_code"],
        110
    );
    let (_, ev) = t
        .admin_get(&format!("/admin/v1/events?client_id={}", t.tp_client_id))
        .await;
    assert!(
        ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "UNAUTHORIZED")
    );
    assert_eq!(
        post("s3cret-pass").await.unwrap().status(),
        400,
        "nothing left to end"
    );
}

#[tokio::test]
async fn codes_are_bound_to_their_platform_and_authorization() {
    let t = spawn_app().await;
    let app = &t.apps[0];
    let id = app.app_id.to_string();
    let code = t
        .api(
            "auth/retrieve/authorizationcode",
            &t.tp_token,
            &[("app_id", &id)],
        )
        .await["data"]["authorization_code"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another platform cannot use it, and trying does not use it up.
    let (_, other) = t.second_tp().await;
    let grant = |tp: &str| {
        vec![
            ("access_token", tp.to_owned()),
            ("grant_type", "app_to_tp_authorization_code".to_owned()),
            ("code", code.clone()),
        ]
    };
    let v: Value = t
        .http
        .get(format!("{}/rest/2.0/oauth/token", t.base))
        .query(&grant(&other))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_oauth_error(&v, "invalid_grant");
    // Once the authorization has ended, the code buys nothing.
    let resp = t
        .http
        .delete(format!(
            "{}/admin/v1/apps/{id}/authorize/{}",
            t.base, t.tp_client_id
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = t
        .http
        .get(format!("{}/rest/2.0/oauth/token", t.base))
        .query(&grant(&t.tp_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_oauth_error(&v, "invalid_grant");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("no longer authorized")
    );
    // The refresh token of the ended authorization says so too.
    let v = oauth(
        &t,
        &[
            ("access_token", t.tp_token.as_str()),
            ("grant_type", "app_to_tp_refresh_token"),
            ("refresh_token", app.refresh_token.as_str()),
        ],
    )
    .await;
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("no longer authorized"),
        "{v}"
    );
}

#[tokio::test]
async fn tp_settings_for_the_flow_are_validated() {
    let t = spawn_app().await;
    for bad in [
        json!({"ip_allowlist": ","}),
        json!({"ip_allowlist": "10.0.0.0/99"}),
        json!({"redirect_domain": ""}),
        json!({"redirect_domain": "https://isv.example/"}),
        json!({"redirect_domain": "isv..example"}),
    ] {
        assert_eq!(t.patch_tp(bad.clone()).await.0, 422, "{bad}");
    }
    for (bad, why) in [
        (
            json!({"username": "", "password": "long-enough"}),
            "empty user",
        ),
        (
            json!({"username": "u", "password": "short"}),
            "short password",
        ),
    ] {
        let (status, _) = t
            .admin_post(&format!("/admin/v1/apps/{}/admins", t.apps[0].app_id), bad)
            .await;
        assert_eq!(status, 422, "{why}");
    }
}

/// Guessing is throttled: 5 wrong passwords lock the account (even the right
/// password is then refused, unchecked, with 429 and Retry-After), 20
/// failures lock the address for every account, and the lock ends with its
/// window.
#[tokio::test]
async fn consent_sign_ins_are_throttled_per_account_and_per_address() {
    let t = spawn_with(|c| {
        c.signin_window_secs = 60.0;
        c.signin_max_failures_per_account = 5;
        c.signin_max_failures_per_address = 8;
    })
    .await;
    let setup = consent_setup(&t).await;
    let code = pre_auth_code(&t, &setup.tp_token).await;
    let (_, html) = consent_page(&t, &code, &setup.redirect).await;
    for i in 0..5 {
        let resp = post_consent(&t, &html, "shop-admin", &format!("guess{i}"), "approve").await;
        assert_eq!(resp.status(), 401, "guess {i}");
    }
    let resp = post_consent(&t, &html, "shop-admin", "s3cret-pass", "approve").await;
    assert_eq!(
        resp.status(),
        429,
        "locked: the right password is not even checked"
    );
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(resp.text().await.unwrap().contains("尝试次数过多"));
    // Unknown accounts count against the address: 3 more failures reach 8.
    for i in 0..3 {
        let resp = post_consent(&t, &html, &format!("nobody{i}"), "x", "approve").await;
        assert_eq!(resp.status(), 401, "unknown account {i}");
    }
    let resp = post_consent(&t, &html, "someone-else", "x", "approve").await;
    assert_eq!(
        resp.status(),
        429,
        "the address is locked for every account"
    );
}

#[tokio::test]
async fn a_sign_in_lock_ends_with_its_window() {
    let t = spawn_with(|c| {
        c.signin_window_secs = 1.0;
        c.signin_max_failures_per_account = 1;
    })
    .await;
    let setup = consent_setup(&t).await;
    let code = pre_auth_code(&t, &setup.tp_token).await;
    let (_, html) = consent_page(&t, &code, &setup.redirect).await;
    assert_eq!(
        post_consent(&t, &html, "shop-admin", "guess", "approve")
            .await
            .status(),
        401
    );
    assert_eq!(
        post_consent(&t, &html, "shop-admin", "s3cret-pass", "approve")
            .await
            .status(),
        429
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The pre-auth code was never used while locked: the consent goes on.
    let resp = post_consent(&t, &html, "shop-admin", "s3cret-pass", "approve").await;
    assert_eq!(resp.status(), 302);
}
