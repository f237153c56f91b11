//! The app's basic information and settings over raw HTTP: image upload,
//! name, icon, description and categories with their examinations, the
//! derived "basic info approved", domains, QR codes, bans and forced
//! offline with restoration requests.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A PNG of `w`×`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

impl TestApp {
    /// Uploads an image as the official SDKs do (TP token in the query,
    /// the file part named `part`, `type` after it).
    pub async fn upload_image(&self, bytes: Vec<u8>, part: &str, kind: &str) -> Value {
        let form = reqwest::multipart::Form::new()
            .part(
                part.to_owned(),
                reqwest::multipart::Part::bytes(bytes).file_name("image.png"),
            )
            .text("type", kind.to_owned());
        let resp = self
            .http
            .post(format!("{}/file/2.0/smartapp/upload/image", self.base))
            .query(&[("access_token", &self.tp_token)])
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    pub async fn icon_url(&self) -> String {
        let up = self.upload_image(png(200, 200), "multipartFile", "1").await;
        assert_eq!(up["errno"], 0, "{up}");
        up["data"].as_str().unwrap().to_owned()
    }

    pub async fn app_info(&self, app: &AppHandle) -> Value {
        let v = self.api_get("app/info", &app.token, &[]).await;
        assert_eq!(v["errno"], 0, "{v}");
        v["data"].clone()
    }

    pub async fn pending_examinations(&self, app: &AppHandle) -> Vec<Value> {
        let (st, v) = self
            .admin_get(&format!(
                "/admin/v1/examinations?status=pending&app_id={}",
                app.app_id
            ))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v["examinations"].as_array().unwrap().clone()
    }

    pub async fn review_examination(&self, id: i64, pass: bool, reason: &str) -> Value {
        let body = if pass {
            json!({"decision": "pass"})
        } else {
            json!({"decision": "fail", "reason": reason})
        };
        let (st, v) = self
            .admin_post(&format!("/admin/v1/examinations/{id}/review"), body)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v
    }
}

fn examine_id(v: &Value) -> i64 {
    assert_eq!(v["errno"], 0, "{v}");
    v["data"]["examine_id"]
        .as_i64()
        .or_else(|| v["data"][0]["examine_id"].as_i64())
        .unwrap_or_else(|| panic!("no examine_id in {v}"))
}

async fn submit(t: &TestApp, a: &AppHandle, pkg: i64) -> Value {
    t.api(
        "package/submitaudit",
        &a.token,
        &[
            ("package_id", &pkg.to_string()),
            ("content", "c"),
            ("remark", "r"),
        ],
    )
    .await
}

#[tokio::test]
async fn onboarding_sets_and_reviews_basic_info_until_submitaudit_is_allowed() {
    let t = spawn_app().await;
    let a = t.create_app("Old name", false, true).await;
    t.upload(&a, "1.0.0", r#"{"extEnable":true}"#).await;
    let pkg = t.wait_built(&a).await["package_id"].as_i64().unwrap();
    assert_eq!(
        submit(&t, &a, pkg).await["errno"],
        47003,
        "refused before any review"
    );

    let icon = t.icon_url().await;
    let name = examine_id(
        &t.api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "好吃小店")],
        )
        .await,
    );
    let photo = examine_id(
        &t.api("app/modifyheadimage", &a.token, &[("image_url", &icon)])
            .await,
    );
    let desc = examine_id(
        &t.api(
            "app/modifysignature",
            &a.token,
            &[("signature", "一家好吃的小店，欢迎光临")],
        )
        .await,
    );
    let cat = examine_id(
        &t.api(
            "app/category/update",
            &a.token,
            &[("categorys", r#"[{"category_id":101}]"#)],
        )
        .await,
    );

    let info = t.app_info(&a).await;
    assert_eq!(
        info["app_name"], "Old name",
        "the approved value stays while in review"
    );
    assert_eq!(info["audit_info"]["audit_app_name"], "好吃小店");
    assert_eq!(info["audit_info"]["audit_app_name_status"], 1);
    assert_eq!(info["audit_info"]["audit_photo_addr_status"], 1);
    assert_eq!(info["audit_info"]["audit_app_desc_status"], 1);
    assert_eq!(info["category"][0]["audit_status"], 1);
    assert_eq!(info["category"][0]["parent"]["category_id"], 1);
    assert_eq!(info["status"], 2, "a new app under review");
    assert_eq!(info["modify_count"]["name_modify_used"], 1);
    assert_eq!(info["modify_count"]["name_modify_quota"], 2);

    let pending: Vec<i64> = t
        .pending_examinations(&a)
        .await
        .iter()
        .map(|e| e["examine_id"].as_i64().unwrap())
        .collect();
    assert_eq!(pending, vec![name, photo, desc, cat], "oldest first");

    t.review_examination(name, false, "名称与主体不符").await;
    for id in [photo, desc, cat] {
        t.review_examination(id, true, "").await;
    }
    let info = t.app_info(&a).await;
    assert_eq!(info["audit_info"]["audit_app_name_status"], 3);
    assert_eq!(
        info["audit_info"]["audit_app_name_reason"],
        "名称与主体不符"
    );
    assert_eq!(info["audit_info"]["audit_photo_addr_status"], 2);
    assert_eq!(info["photo_addr"], icon.as_str());
    assert_eq!(info["app_desc"], "一家好吃的小店，欢迎光临");
    assert_eq!(info["category"][0]["audit_status"], 2);
    assert_eq!(info["audit_info"]["basic_info_approved"], false);
    assert_eq!(
        submit(&t, &a, pkg).await["errno"],
        47003,
        "a failed name keeps it refused"
    );

    let again = examine_id(
        &t.api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "好吃小馆")],
        )
        .await,
    );
    t.review_examination(again, true, "").await;
    let info = t.app_info(&a).await;
    assert_eq!(info["app_name"], "好吃小馆");
    assert_eq!(info["audit_info"]["audit_app_name_status"], 2);
    assert_eq!(info["audit_info"]["basic_info_approved"], true);
    assert_eq!(info["status"], 1);
    assert_eq!(
        submit(&t, &a, pkg).await["errno"],
        0,
        "allowed once every field passed"
    );

    // A decided examination cannot be decided again.
    let (st, v) = t
        .admin_post(
            &format!("/admin/v1/examinations/{again}/review"),
            json!({"decision": "fail", "reason": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, _) = t
        .admin_post(
            "/admin/v1/examinations/999999/review",
            json!({"decision": "pass"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refused_changes_name_their_cause_and_change_nothing() {
    let t = spawn_app().await;
    let a = t.create_app("Shop A", false, true).await;
    let b = t.create_app("Shop B", false, true).await;
    let before = t.app_info(&a).await;
    // (route, parameters, errno, what the message names)
    type Case = (&'static str, Vec<(&'static str, String)>, i64, &'static str);
    let cases: Vec<Case> = vec![
        (
            "app/setnicknamewithqual",
            vec![("nick_name", "名".repeat(16))],
            40001,
            "nick_name",
        ),
        (
            "app/setnicknamewithqual",
            vec![("nick_name", "第一好店".into())],
            47028,
            "第一",
        ),
        (
            "app/setnicknamewithqual",
            vec![("nick_name", "百度好店".into())],
            47029,
            "百度",
        ),
        (
            "app/setnicknamewithqual",
            vec![("nick_name", "Shop B".into())],
            47028,
            "nick_name",
        ),
        // 4 Chinese characters and one ASCII letter: 9 counted the Chinese way.
        (
            "app/modifysignature",
            vec![("signature", "一二三四a".into())],
            40001,
            "signature",
        ),
        (
            "app/modifyheadimage",
            vec![("image_url", "https://elsewhere.example/x.png".into())],
            47030,
            "image_url",
        ),
        (
            "app/category/update",
            vec![("categorys", "999".into())],
            47031,
            "999",
        ),
        (
            "app/category/update",
            vec![("categorys", "203".into())],
            47031,
            "203",
        ),
        (
            "app/category/update",
            vec![("categorys", "101,102,103,402".into())],
            47031,
            "categorys",
        ),
    ];
    for (route, params, code, names) in &cases {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = t.api(route, &a.token, &p).await;
        assert_eq!(v["errno"], *code, "{route} {params:?}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(names), "{route}: {v}");
    }
    // Five Chinese characters count ten: the shortest description allowed.
    let ok = t
        .api(
            "app/modifysignature",
            &b.token,
            &[("signature", "一二三四五")],
        )
        .await;
    assert_eq!(ok["errno"], 0, "{ok}");
    assert!(
        t.pending_examinations(&a).await.is_empty(),
        "no examination was made"
    );
    assert_eq!(t.app_info(&a).await, before, "app/info unchanged");

    // A second change of a field under review; then the yearly quota.
    let first = examine_id(
        &t.api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "A店新名")],
        )
        .await,
    );
    let v = t
        .api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "A店新名二")],
        )
        .await;
    assert_eq!(v["errno"], 47026, "{v}");
    assert!(v["msg"].as_str().unwrap().contains(&first.to_string()));
    t.review_examination(first, true, "").await;
    let second = examine_id(
        &t.api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "A店新名二")],
        )
        .await,
    );
    t.review_examination(second, false, "no").await;
    let v = t
        .api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "A店新名三")],
        )
        .await;
    assert_eq!(v["errno"], 47027, "{v}");
    let info = t.app_info(&a).await;
    assert_eq!(info["modify_count"]["name_modify_used"], 2);
    assert_eq!(info["app_name"], "A店新名");

    // A platform token is not an app token; another app sees only itself.
    let v = t
        .api(
            "app/modifysignature",
            &t.tp_token,
            &[("signature", "一二三四五六")],
        )
        .await;
    assert_eq!(v["error_code"], 6, "{v}");
    let info_b = t.app_info(&b).await;
    assert_eq!(info_b["app_name"], "Shop B");
    assert_eq!(info_b["audit_info"]["audit_app_name_status"], 0);

    // The name check reports instead of refusing.
    let v = t
        .api_get(
            "app/checknamewithqual",
            &a.token,
            &[("app_name", "百度好店")],
        )
        .await;
    assert_eq!(
        v["data"],
        json!({"checkResult": 1, "checkWords": ["百度"], "requiredFields": [1], "optionalFields": [2]})
    );
    let v = t
        .api_get("app/checknamewithqual", &a.token, &[("app_name", "Shop B")])
        .await;
    assert_eq!(v["data"]["checkResult"], 3);
    let material = t.upload_image(png(300, 100), "file", "3").await;
    let url = material["data"].as_str().unwrap();
    let v = t
        .api_get(
            "app/checknamewithqual",
            &a.token,
            &[("app_name", "百度好店"), ("qual_materials", url)],
        )
        .await;
    assert_eq!(v["data"]["checkResult"], 0, "{v}");
}

#[tokio::test]
async fn look_alike_names_are_taken_and_disguised_words_forbidden() {
    let t = spawn_app().await;
    let a = t.create_app("Shop One", false, true).await;
    let b = t.create_app("Shop Two", false, true).await;
    let v = t
        .api(
            "app/setnicknamewithqual",
            &a.token,
            &[("nick_name", "Shop Alpha")],
        )
        .await;
    assert_eq!(v["errno"], 0, "{v}");
    for look_alike in [
        "SHOPALPHA",
        "ＳＨＯＰ alpha",
        "Shop\u{a0}Alpha",
        "Shop \u{410}lpha",
        "Sh0p_Alpha",
    ] {
        let v = t
            .api_get(
                "app/checknamewithqual",
                &b.token,
                &[("app_name", look_alike)],
            )
            .await;
        assert_eq!(v["data"]["checkResult"], 3, "{look_alike:?}: {v}");
    }
    let v = t
        .api(
            "app/setnicknamewithqual",
            &b.token,
            &[("nick_name", "Shop \u{410}lpha")],
        )
        .await;
    assert_eq!(v["errno"], 47028, "{v}");
    assert!(t.pending_examinations(&b).await.is_empty());
    // An operator-given name counts too.
    let v = t
        .api_get(
            "app/checknamewithqual",
            &b.token,
            &[("app_name", "SHOP ONE")],
        )
        .await;
    assert_eq!(v["data"]["checkResult"], 3, "{v}");
    for disguised in [
        "Sm\u{430}rtship店",
        "𝐬martship店",
        "最.佳小店",
        "最_佳小店",
        "最\u{2800}佳小店",
    ] {
        let v = t
            .api_get(
                "app/checknamewithqual",
                &b.token,
                &[("app_name", disguised)],
            )
            .await;
        assert_eq!(v["data"]["checkResult"], 2, "{disguised:?}: {v}");
    }
    let v = t
        .api(
            "app/setnicknamewithqual",
            &b.token,
            &[("nick_name", "好吃\u{2028}小店")],
        )
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
}

/// `png` with an `iCCP` chunk whose zlib stream inflates to `inflated`
/// bytes, placed after `IHDR` as the specification puts it.
fn png_with_iccp_bomb(png: &[u8], inflated: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..inflated / zeros.len() {
        z.write_all(&zeros).unwrap();
    }
    let mut data = b"bomb\0\0".to_vec();
    data.extend(z.finish().unwrap());
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut typed = b"iCCP".to_vec();
    typed.extend(&data);
    chunk.extend(&typed);
    chunk.extend(crc32fast::hash(&typed).to_be_bytes());
    // Signature (8) and IHDR (12 + 13).
    let mut out = png[..33].to_vec();
    out.extend(chunk);
    out.extend(&png[33..]);
    out
}

#[tokio::test]
async fn a_png_whose_profile_inflates_without_bound_is_stored_without_it() {
    let t = spawn_app().await;
    let clean = png(160, 160);
    let bomb = png_with_iccp_bomb(&clean, 256 << 20);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let up = t.upload_image(bomb, "multipartFile", "1").await;
    assert_eq!(up["errno"], 0, "{up}");
    let got = t
        .http
        .get(up["data"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let stored = got.bytes().await.unwrap().to_vec();
    // The profile is gone: what is stored and served is the image alone.
    assert!(!stored.windows(4).any(|w| w == b"iCCP"));
    assert_eq!(stored, clean);
}

#[tokio::test]
async fn images_are_decoded_checked_and_served() {
    let t = spawn_app().await;
    let bytes = png(160, 160);
    // Any part name: the official Go SDK names it after the file.
    let up = t.upload_image(bytes.clone(), "icon.png", "1").await;
    assert_eq!(up["errno"], 0, "{up}");
    let url = up["data"].as_str().unwrap();
    assert!(
        url.contains("/file/2.0/smartapp/image/") && url.ends_with(".png"),
        "{url}"
    );
    let got = t.http.get(url).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);

    for (bytes, kind, why) in [
        (b"not an image at all, named .png".to_vec(), "1", "PNG"),
        (png(300, 200), "1", "正方形"),
        (png(100, 100), "1", "144"),
        (png(2100, 10), "3", "2048"),
        (vec![0u8; 3 << 20], "2", "字节"),
    ] {
        let v = t.upload_image(bytes, "multipartFile", kind).await;
        assert_eq!(v["errno"], 47030, "{v}");
        assert!(v["msg"].as_str().unwrap().contains(why), "{v}");
    }
    let v = t.upload_image(png(10, 10), "multipartFile", "7").await;
    assert_eq!(v["errno"], 40001, "{v}");
    let missing = t
        .http
        .get(format!(
            "{}/file/2.0/smartapp/image/{}.png",
            t.base,
            "0".repeat(64)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // A JPEG is taken too; the type of an app token is refused.
    let img = image::RgbImage::from_pixel(150, 150, image::Rgb([200, 10, 10]));
    let mut jpg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpg, image::ImageFormat::Jpeg).unwrap();
    let v = t
        .upload_image(jpg.into_inner(), "multipartFile", "<nil>")
        .await;
    assert_eq!(v["errno"], 0, "{v}");
    assert!(v["data"].as_str().unwrap().ends_with(".jpg"));
}

#[tokio::test]
async fn domains_are_validated_limited_and_kept_per_app_and_platform() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let v = t
        .api(
            "app/modifydomain",
            &a.token,
            &[
                ("action", "set"),
                (
                    "request_domain",
                    "https://api.example.com,https://b.example.com",
                ),
                ("socket_domain", "wss://ws.example.com"),
            ],
        )
        .await;
    assert_eq!(v["errno"], 0, "{v}");
    assert_eq!(
        v["data"],
        json!({"download_domain": "", "request_domain": "https://api.example.com,https://b.example.com", "socket_domain": "wss://ws.example.com", "upload_domain": ""})
    );
    for (domain, code, names) in [
        ("https://10.1.2.3", 47032, "IP"),
        ("https://*.example.com", 47032, "通配符"),
        ("http://plain.example.com", 47032, "https://"),
        ("https://example.com/path", 47032, "example.com/path"),
    ] {
        let v = t
            .api(
                "app/modifydomain",
                &a.token,
                &[("action", "add"), ("request_domain", domain)],
            )
            .await;
        assert_eq!(v["errno"], code, "{domain}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(names), "{v}");
    }
    let many: Vec<String> = (0..21)
        .map(|i| format!("https://d{i}.example.com"))
        .collect();
    let v = t
        .api(
            "app/modifydomain",
            &a.token,
            &[("action", "set"), ("upload_domain", &many.join(","))],
        )
        .await;
    assert_eq!(v["errno"], 47033, "{v}");
    let v = t
        .api("app/modifydomain", &a.token, &[("action", "get")])
        .await;
    assert_eq!(
        v["data"]["request_domain"], "https://api.example.com,https://b.example.com",
        "unchanged: {v}"
    );
    assert_eq!(v["data"]["upload_domain"], "");
    let v = t
        .api(
            "app/modifydomain",
            &a.token,
            &[
                ("action", "delete"),
                ("request_domain", "https://b.example.com"),
            ],
        )
        .await;
    assert_eq!(v["data"]["request_domain"], "https://api.example.com");

    // The platform's own domains are lists; an app call without action adds them.
    let v = t
        .api(
            "tp/modifydomain",
            &t.tp_token,
            &[
                ("action", "add"),
                ("download_domain", "https://cdn.example.com"),
            ],
        )
        .await;
    assert_eq!(
        v["data"]["download_domain"],
        json!(["https://cdn.example.com"]),
        "{v}"
    );
    assert_eq!(v["data"]["request_domain"], json!([]));
    let v = t
        .api(
            "tp/modifydomain",
            &t.tp_token,
            &[("download_domain", "https://x.example.com")],
        )
        .await;
    assert_eq!(v["errno"], 40001, "action is required for a platform: {v}");
    let v = t.api("app/modifydomain", &a.token, &[]).await;
    assert_eq!(
        v["data"]["download_domain"], "https://cdn.example.com",
        "{v}"
    );
    assert_eq!(v["data"]["request_domain"], "https://api.example.com");
    let other = t.apps[1].clone();
    let v = t
        .api("app/modifydomain", &other.token, &[("action", "get")])
        .await;
    assert_eq!(
        v["data"]["request_domain"], "",
        "another app's domains are its own"
    );

    let v = t
        .api(
            "tp/modifywebviewdomain",
            &t.tp_token,
            &[
                ("action", "set"),
                ("web_view_domain", "https://h5.example.com"),
            ],
        )
        .await;
    assert_eq!(v["data"], json!(["https://h5.example.com"]), "{v}");
    let v = t.api("app/modifywebviewdomain", &a.token, &[]).await;
    assert_eq!(v["data"], "https://h5.example.com", "{v}");
    let v = t
        .api(
            "app/modifywebviewdomain",
            &a.token,
            &[("action", "add"), ("web_view_domain", "https://[::1]")],
        )
        .await;
    assert_eq!(v["errno"], 47032, "{v}");

    let file = |tok: String| {
        let http = t.http.clone();
        let url = t.url("tp/download/domaincer");
        async move {
            let r = http
                .get(url)
                .query(&[("access_token", tok)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            (
                r.headers()
                    .get("content-type")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned(),
                r.text().await.unwrap(),
            )
        }
    };
    let (ct, first) = file(t.tp_token.clone()).await;
    assert_eq!(ct, "application/octet-stream");
    assert_eq!(first.len(), 32);
    assert_eq!(
        file(t.tp_token.clone()).await.1,
        first,
        "the same file each time"
    );
    let (ct, body) = file(a.token.clone()).await;
    assert!(
        ct.starts_with("application/json") && body.contains("\"error_code\":6"),
        "{body}"
    );
}

#[tokio::test]
async fn qr_codes_decode_to_the_documented_deep_link() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let online = t.released_package(&a, "1.0.0").await;
    t.upload(&a, "1.1.0", r#"{"extEnable":true}"#).await;
    let dev = t.wait_built(&a).await["package_id"].as_i64().unwrap();
    let app_key = t
        .state()
        .store
        .app(smartship_core::AppId(a.app_id))
        .await
        .unwrap()
        .unwrap()
        .app_key;

    let decode = |png: &[u8]| {
        let img = image::load_from_memory(png).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    };
    let qr = |params: Vec<(&'static str, String)>| {
        let http = t.http.clone();
        let url = t.url("app/qrcode");
        let token = a.token.clone();
        async move {
            http.get(url)
                .query(&[("access_token", token)])
                .query(&params)
                .send()
                .await
                .unwrap()
        }
    };
    let r = qr(vec![
        ("path", "pages/detail/detail?id=7".into()),
        ("package_id", dev.to_string()),
        ("width", "430".into()),
    ])
    .await;
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (430, 430));
    assert_eq!(
        decode(&png),
        format!(
            "smartship://swan/{app_key}?path=pages%2Fdetail%2Fdetail%3Fid%3D7&package_id={dev}&channel=development"
        )
    );
    let png = qr(vec![]).await.bytes().await.unwrap();
    assert_eq!(
        decode(&png),
        format!("smartship://swan/{app_key}?path=&package_id={online}&channel=online")
    );

    for (params, code) in [
        (vec![("width", "199".to_owned())], 40001),
        (vec![("width", "1281".to_owned())], 40001),
        (vec![("package_id", "999999".to_owned())], 47001),
    ] {
        let v: Value = qr(params.clone()).await.json().await.unwrap();
        assert_eq!(v["errno"], code, "{params:?}: {v}");
    }
    let other = t.apps[1].clone();
    let v: Value = t
        .http
        .get(t.url("app/qrcode"))
        .query(&[
            ("access_token", other.token.as_str()),
            ("package_id", &online.to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errno"], 47001, "another app's package is not found: {v}");
}

#[tokio::test]
async fn operators_ban_and_take_offline_with_a_reason_and_a_restoration_is_reviewed() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let path = format!("/admin/v1/apps/{}", a.app_id);
    let (st, v) = t
        .admin_patch(&path, json!({"service_status": "banned"}))
        .await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a ban needs a reason: {v}"
    );
    let (st, v) = t
        .admin_patch(
            &path,
            json!({"service_status": "forced_offline", "reason": "x", "illegal_fields": "nope"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let v = t
        .api(
            "app/offline/update",
            &a.token,
            &[("app_desc", "更正后的小程序描述文字")],
        )
        .await;
    assert_eq!(
        v["errno"], 47025,
        "only an app taken offline asks for restoration: {v}"
    );

    let (st, v) = t
        .admin_patch(&path, json!({"service_status": "forced_offline", "reason": "描述含违规内容", "illegal_fields": "appDesc"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let info = t.app_info(&a).await;
    assert_eq!(info["status"], 5);
    assert_eq!(info["status_reason"], "描述含违规内容");
    assert_eq!(
        info["app_offline_info"],
        json!([{"offline_reason": 1, "illegal_fields": "appDesc", "reason": "描述含违规内容"}])
    );
    let v = t.api_get("app/violation", &a.token, &[]).await;
    assert_eq!(v["data"]["appId"], a.app_id);
    assert_eq!(
        v["data"]["problemDetails"][0]["problemDesc"],
        "描述含违规内容"
    );
    assert_eq!(v["data"]["problemDetails"][0]["status"], 1);

    let v = t.api("app/offline/update", &a.token, &[]).await;
    assert_eq!(v["errno"], 40001, "{v}");
    let restore = examine_id(
        &t.api(
            "app/offline/update",
            &a.token,
            &[("app_desc", "更正后的小程序描述文字")],
        )
        .await,
    );
    t.review_examination(restore, false, "仍有问题").await;
    let v = t.api_get("app/violation", &a.token, &[]).await;
    assert_eq!(v["data"]["problemDetails"][0]["auditReason"], "仍有问题");
    assert_eq!(t.app_info(&a).await["status"], 5);
    let restore = examine_id(
        &t.api(
            "app/offline/update",
            &a.token,
            &[("app_desc", "再次更正的小程序描述文字")],
        )
        .await,
    );
    t.review_examination(restore, true, "").await;
    let info = t.app_info(&a).await;
    assert_eq!(info["status"], 1);
    assert_eq!(info["app_desc"], "再次更正的小程序描述文字");
    assert_eq!(info["app_offline_info"], json!([]));
    assert_eq!(info["status_reason"], "");
    let v = t.api_get("app/violation", &a.token, &[]).await;
    assert_eq!(v["data"]["problemDetails"][0]["status"], 2);

    let (st, _) = t
        .admin_patch(&path, json!({"service_status": "banned", "reason": "欺诈"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let info = t.app_info(&a).await;
    assert_eq!(
        (info["status"].clone(), info["status_reason"].clone()),
        (json!(-1), json!("欺诈"))
    );
    let (st, _) = t
        .admin_patch(&path, json!({"service_status": "normal"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t.app_info(&a).await["status_reason"], "");
}

#[tokio::test]
async fn the_category_catalogue_lists_what_a_subject_may_choose() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let all = t
        .api_get("app/category/list", &a.token, &[("category_type", "2")])
        .await;
    let personal = t
        .api_get("app/category/list", &a.token, &[("category_type", "1")])
        .await;
    let all = all["data"].as_array().unwrap();
    let personal = personal["data"].as_array().unwrap();
    assert!(all.len() > personal.len());
    let tools = &all[0];
    assert_eq!(tools["id"], 1);
    assert_eq!(tools["sub_items"]["101"]["need_quali"], 0);
    assert!(personal.iter().all(|c| c["category_type"] == 1));
    let v = t
        .api_get("app/category/list", &a.token, &[("category_type", "3")])
        .await;
    assert_eq!(v["errno"], 40001, "{v}");
}

/// Sends the calls at once (each on its own task) and returns the answers
/// in order.
/// One call: the route, the token, the form parameters.
type Call = (&'static str, String, Vec<(&'static str, String)>);

async fn all_at_once(t: &TestApp, calls: Vec<Call>) -> Vec<Value> {
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|(route, token, params)| {
            let http = t.http.clone();
            let url = t.url(route);
            let params: Vec<(String, String)> =
                params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .query(&[("access_token", token)])
                    .form(&params)
                    .send()
                    .await
                    .unwrap();
                r.json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn concurrent_changes_leave_one_pending_per_field_and_one_app_per_name() {
    let t = spawn_app().await;
    let mut apps = Vec::new();
    for i in 0..6 {
        apps.push(t.create_app(&format!("Race {i}"), false, true).await);
    }
    // Six apps ask for one name at once: one gets it, the others hear 47028.
    let calls = apps
        .iter()
        .map(|a| {
            (
                "app/setnicknamewithqual",
                a.token.clone(),
                vec![("nick_name", "同名小店".to_owned())],
            )
        })
        .collect();
    let answers = all_at_once(&t, calls).await;
    assert_eq!(
        answers.iter().filter(|v| v["errno"] == 0).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|v| v["errno"] == 0 || v["errno"] == 47028),
        "{answers:?}"
    );

    // One app sends eight descriptions at once: one is taken for review.
    let a = &apps[0];
    let calls = (0..8)
        .map(|i| {
            (
                "app/modifysignature",
                a.token.clone(),
                vec![("signature", format!("并发提交的描述第{i}条"))],
            )
        })
        .collect();
    let answers = all_at_once(&t, calls).await;
    assert_eq!(
        answers.iter().filter(|v| v["errno"] == 0).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|v| v["errno"] == 0 || v["errno"] == 47026),
        "{answers:?}"
    );
    let (_, all) = t
        .admin_get(&format!("/admin/v1/examinations?app_id={}", a.app_id))
        .await;
    let signatures = all["examinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "signature")
        .count();
    assert_eq!(signatures, 1);
}

#[tokio::test]
async fn an_image_is_used_by_the_platform_that_uploaded_it_and_shown_from_this_server() {
    let t = spawn_app().await;
    let a = t.apps[0].clone();
    let (_, other_tp) = t.second_tp().await;
    // The other platform's upload: the same route, its own token.
    let form = reqwest::multipart::Form::new().part(
        "multipartFile",
        reqwest::multipart::Part::bytes(png(150, 150)).file_name("i.png"),
    );
    let theirs: Value = t
        .http
        .post(format!("{}/file/2.0/smartapp/upload/image", t.base))
        .query(&[("access_token", &other_tp)])
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs = theirs["data"].as_str().unwrap().to_owned();
    let v = t
        .api("app/modifyheadimage", &a.token, &[("image_url", &theirs)])
        .await;
    assert_eq!(v["errno"], 47030, "another platform's image: {v}");

    // Our own image under any host name is taken, and shown from here.
    let ours = t.icon_url().await;
    let path = &ours[ours.find("/file/").unwrap()..];
    let elsewhere = format!("https://cdn.elsewhere.example{path}");
    let id = examine_id(
        &t.api(
            "app/modifyheadimage",
            &a.token,
            &[("image_url", &elsewhere)],
        )
        .await,
    );
    assert_eq!(
        t.app_info(&a).await["audit_info"]["audit_photo_addr"],
        ours.as_str()
    );
    t.review_examination(id, true, "").await;
    assert_eq!(t.app_info(&a).await["photo_addr"], ours.as_str());
}

#[tokio::test]
async fn a_restoration_never_undoes_a_later_ban_and_claims_its_name() {
    let t = spawn_app().await;
    let (a, b) = (t.apps[0].clone(), t.apps[1].clone());
    let path = format!("/admin/v1/apps/{}", a.app_id);
    let offline = json!({"service_status": "forced_offline", "reason": "名称违规", "illegal_fields": "appName"});
    let (st, _) = t.admin_patch(&path, offline.clone()).await;
    assert_eq!(st, StatusCode::OK);
    let restore = examine_id(
        &t.api(
            "app/offline/update",
            &a.token,
            &[("app_name", "改正后的店名")],
        )
        .await,
    );
    // The name is claimed while the restoration waits.
    let v = t
        .api(
            "app/setnicknamewithqual",
            &b.token,
            &[("nick_name", "改正后的店名")],
        )
        .await;
    assert_eq!(v["errno"], 47028, "{v}");

    // A ban meanwhile fails the waiting restoration: it cannot lift the ban.
    let (st, _) = t
        .admin_patch(&path, json!({"service_status": "banned", "reason": "欺诈"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = t
        .admin_post(
            &format!("/admin/v1/examinations/{restore}/review"),
            json!({"decision": "pass"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let info = t.app_info(&a).await;
    assert_eq!(
        (info["status"].clone(), info["status_reason"].clone()),
        (json!(-1), json!("欺诈"))
    );

    // Taken offline again, restored; the name became free when the claim failed.
    let (st, _) = t.admin_patch(&path, offline).await;
    assert_eq!(st, StatusCode::OK);
    let restore = examine_id(
        &t.api(
            "app/offline/update",
            &a.token,
            &[("app_name", "改正后的店名")],
        )
        .await,
    );
    let v = t
        .api(
            "app/offline/update",
            &a.token,
            &[("app_desc", "另一个描述内容文字")],
        )
        .await;
    assert_eq!(v["errno"], 47026, "one restoration at a time: {v}");
    t.review_examination(restore, true, "").await;
    let info = t.app_info(&a).await;
    assert_eq!(
        (info["status"].clone(), info["app_name"].clone()),
        (json!(1), json!("改正后的店名"))
    );
}
