//! `copy`: a SQLite installation copied to PostgreSQL is the same data,
//! row for row; an interrupted copy is finished by running it again; the
//! copy's table list is every table and column of both schemas.

use smartship_core::lifecycle::{Action, Verdict};
use smartship_core::manifest::sha256_hex;
use smartship_core::{AppId, TemplateId};
use smartship_store::copy::{BLOB_TABLES, Copy, tables};
use smartship_store::test_db::{Backend, TestDb};
use smartship_store::*;
use std::collections::BTreeMap;

fn ctx(now: i64) -> ActionContext {
    ActionContext {
        now,
        actor: "test".into(),
        quota: None,
        rollback_delay_ms: 1000,
        retained_versions: None,
        submission: None,
        audit: None,
    }
}

/// A store with some of everything: platforms, apps, authorizations,
/// tokens, codes, tickets, drafts, templates, packages through their
/// lifecycle with history and events, delivery attempts, admins, meta.
async fn populate(store: &dyn Store) {
    let tp = store
        .create_tp(
            NewTp {
                client_id: "client-1".into(),
                name: "ISV 平台".into(),
                message_url: Some("http://127.0.0.1:9/msg".into()),
                auth_event_url: None,
                msg_token: "t".into(),
                encoding_aes_key: "k".repeat(43),
            },
            1,
        )
        .await
        .unwrap();
    store.set_meta("instance", "copy-test").await.unwrap();
    let manifest = smartship_core::manifest::Manifest::default();
    let draft = store
        .create_draft(
            NewDraft {
                tp_id: tp.id,
                user_version: "1.0.0".into(),
                user_desc: "d".into(),
                manifest,
            },
            2,
        )
        .await
        .unwrap();
    let AddTemplate::Created(template) = store
        .add_template(tp.id, draft, "tpl", 10, 3)
        .await
        .unwrap()
    else {
        panic!("template")
    };
    for n in 0..30 {
        let app = store
            .create_app(
                NewApp {
                    id: if n == 0 { Some(AppId(1_000)) } else { None },
                    app_key: format!("key-{n}"),
                    name: format!("小程序 {n}"),
                    description: String::new(),
                    basic_info_approved: true,
                    authenticity_verified: n % 2 == 0,
                },
                4,
            )
            .await
            .unwrap()
            .id;
        store.authorize(app, tp.id, "all", 5).await.unwrap();
        store
            .insert_token(NewToken {
                hash: format!("hash-{n:03}"),
                kind: TokenKind::AppAccess,
                tp_id: tp.id,
                app_id: Some(app),
                expires_at: 10_000,
                created_at: 5,
            })
            .await
            .unwrap();
        store
            .insert_code(NewCode {
                hash: format!("Code-{n}"),
                kind: CodeKind::Authorization,
                tp_id: tp.id,
                app_id: Some(app),
                expires_at: 10_000,
                created_at: 5,
            })
            .await
            .unwrap();
        store
            .upsert_app_admin(&format!("admin{n}"), app, "pbkdf2$x", 6)
            .await
            .unwrap();
        let upload = |version: &str| NewUpload {
            app_id: app,
            tp_id: tp.id,
            template_id: template,
            version: version.into(),
            version_desc: "第一版".into(),
            ext_json: "{}".into(),
            direct_commit: false,
            test_account: None,
            test_password: None,
            committer: "--".into(),
        };
        let id = store
            .create_upload(upload("1.0.0"), &ctx(10))
            .await
            .unwrap()
            .unwrap();
        if n % 3 == 0 {
            continue;
        }
        store
            .finish_build(
                app,
                id,
                BuildOutcome::Built {
                    manifest: smartship_core::manifest::Manifest::default(),
                    blocked: None,
                },
                &ctx(11),
            )
            .await
            .unwrap()
            .unwrap();
        store
            .apply(app, id, Action::SubmitAudit, &ctx(12))
            .await
            .unwrap()
            .unwrap();
        let verdict = if n % 3 == 1 {
            Verdict::Pass
        } else {
            Verdict::Fail {
                reason: "不通过".into(),
            }
        };
        store
            .apply(app, id, Action::Review(verdict), &ctx(13))
            .await
            .unwrap()
            .unwrap();
    }
    store
        .rotate_ticket(tp.id, "ticket-1", "{}", 20)
        .await
        .unwrap();
    let claimed = store.claim_events(1_000_000, 60_000, 5).await.unwrap();
    let attempts: Vec<AttemptRecord> = claimed
        .iter()
        .map(|c| AttemptRecord {
            event_id: c.event.id,
            attempt: c.attempt,
            lease_until: c.lease_until,
            url: "http://127.0.0.1:9/msg".into(),
            started_at: 1_000_000,
            duration_ms: 3,
            status_code: Some(200),
            response_body: Some("success".into()),
            error: None,
            outcome: AttemptOutcome::Delivered,
        })
        .collect();
    store.record_attempts(&attempts, 1_000_001).await.unwrap();
}

async fn snapshot(store: &dyn Store) -> (Vec<App>, Vec<Package>, Vec<EventRecord>) {
    let page = PageRequest {
        offset: 0,
        limit: 1000,
    };
    let (_, apps) = store.list_apps(&AppFilter::default(), page).await.unwrap();
    let (_, packages) = store
        .list_packages(&PackageFilter::default(), page)
        .await
        .unwrap();
    let events = store.events(None, None, 1000).await.unwrap();
    (apps, packages, events)
}

#[tokio::test]
async fn a_copy_is_the_same_data_and_an_interrupted_one_finishes_when_run_again() {
    let source_db = TestDb::new(Backend::Sqlite).await;
    let target_db = TestDb::new(Backend::Postgres).await;
    let source = smartship_store::open(source_db.url()).await.unwrap();
    populate(source.as_ref()).await;
    let before = snapshot(source.as_ref()).await;
    drop(source);

    let mut copy = Copy::open(source_db.url(), target_db.url()).await.unwrap();
    let mut last: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    copy.copy_all(|p| {
        last.insert(p.table, (p.read, p.total, p.written));
    })
    .await
    .unwrap();
    assert_eq!(last.len(), tables().len());
    for (table, (read, total, written)) in &last {
        assert_eq!(read, total, "{table}");
        assert_eq!(written, total, "{table}: a first copy writes every row");
    }
    assert_eq!(last["packages"].1, 30);
    for check in copy.verify().await.unwrap() {
        assert!(check.equal(), "{check:?}");
    }

    // An interruption: the target lost the end of two tables.
    target_db
        .execute("DELETE FROM event_attempts WHERE id > 2")
        .await;
    target_db
        .execute("DELETE FROM package_transitions WHERE id > 40")
        .await;
    assert!(
        copy.verify().await.unwrap().iter().any(|c| !c.equal()),
        "the comparison sees a difference"
    );
    let mut written = 0;
    copy.copy_all(|p| {
        if p.read == p.total {
            written += p.written;
        }
    })
    .await
    .unwrap();
    assert!(written > 0, "the missing rows are written");
    for check in copy.verify().await.unwrap() {
        assert!(check.equal(), "{check:?}");
    }
    let mut again = 0;
    copy.copy_all(|p| again += p.written).await.unwrap();
    assert_eq!(again, 0, "a finished copy writes nothing when run again");

    // The copy serves as a store: same reads, and new rows get fresh ids.
    let target = smartship_store::open(target_db.url()).await.unwrap();
    assert_eq!(snapshot(target.as_ref()).await, before);
    let app = target
        .create_app(
            NewApp {
                id: None,
                app_key: "after-copy".into(),
                name: "new".into(),
                description: String::new(),
                basic_info_approved: true,
                authenticity_verified: true,
            },
            100,
        )
        .await
        .unwrap();
    assert!(app.id.0 > 1_000, "past every copied id: {}", app.id);
    let tp = target.tp_by_client_id("client-1").await.unwrap().unwrap();
    let pkg = target
        .create_upload(
            NewUpload {
                app_id: app.id,
                tp_id: tp.id,
                template_id: TemplateId(1),
                version: "1.0.0".into(),
                version_desc: String::new(),
                ext_json: "{}".into(),
                direct_commit: false,
                test_account: None,
                test_password: None,
                committer: "--".into(),
            },
            &ctx(101),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(pkg.0 > 30);
}

#[tokio::test]
async fn the_copy_covers_every_table_and_column_of_both_schemas() {
    let sqlite = TestDb::new(Backend::Sqlite).await;
    let pg = TestDb::new(Backend::Postgres).await;
    drop(smartship_store::open(sqlite.url()).await.unwrap());
    drop(smartship_store::open(pg.url()).await.unwrap());
    let expected: BTreeMap<String, Vec<String>> = tables()
        .into_iter()
        .map(|(t, cols)| {
            let mut cols: Vec<String> = cols.into_iter().map(str::to_owned).collect();
            cols.sort();
            (t.to_owned(), cols)
        })
        .collect();

    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(sqlite.url()).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
           AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut in_sqlite = BTreeMap::new();
    for name in names {
        let mut cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        cols.sort();
        in_sqlite.insert(name, cols);
    }
    assert_eq!(in_sqlite, expected, "sqlite schema");

    let mut conn = sqlx::PgConnection::connect(pg.url()).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut in_pg: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, c) in rows {
        if BLOB_TABLES.contains(&t.as_str()) {
            continue;
        }
        in_pg.entry(t).or_default().push(c);
    }
    for cols in in_pg.values_mut() {
        cols.sort();
    }
    assert_eq!(in_pg, expected, "postgres schema");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_copied_once_each_and_proven_by_reading_them_back() {
    let source_db = TestDb::new(Backend::Sqlite).await;
    let target_db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs");
    let files = blobs::BlobStore::open_files(&root).unwrap();
    // Small files, an empty one, and one of several chunks.
    let mut contents: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 100 + i as usize]).collect();
    contents.push(Vec::new());
    contents.push((0..700_000u32).map(|i| (i % 251) as u8).collect());
    let stored = {
        let (files, contents) = (files.clone(), contents.clone());
        tokio::task::spawn_blocking(move || {
            contents
                .iter()
                .map(|c| files.put(c).unwrap().0)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap()
    };

    let mut copy = Copy::open(source_db.url(), target_db.url()).await.unwrap();
    let mut last = copy::BlobProgress::default();
    copy.copy_blobs(&root, |p| last = p.clone()).await.unwrap();
    assert_eq!((last.done, last.total, last.written), (22, 22, 22));
    let check = copy.verify_blobs(&root).await.unwrap();
    assert!(check.equal(), "{check:?}");
    assert_eq!(check.checked, 22);

    // What the target serves is what the source held.
    let target = smartship_store::open(target_db.url()).await.unwrap();
    let in_pg = target.blobs(&dir.path().join("node")).unwrap();
    let read = tokio::task::spawn_blocking(move || {
        stored
            .iter()
            .map(|d| in_pg.get(d).unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(read, contents);

    // An interruption lost two blobs: the comparison names them, a second
    // run writes just those.
    target_db
        .execute(&format!(
            "DELETE FROM blob_chunks WHERE sha256 IN ('{}', '{}')",
            sha256_hex(&contents[3]),
            sha256_hex(&contents[21])
        ))
        .await;
    target_db
        .execute(&format!(
            "DELETE FROM blobs WHERE sha256 IN ('{}', '{}')",
            sha256_hex(&contents[3]),
            sha256_hex(&contents[21])
        ))
        .await;
    let check = copy.verify_blobs(&root).await.unwrap();
    assert_eq!(check.missing.len(), 2, "{check:?}");
    copy.copy_blobs(&root, |p| last = p.clone()).await.unwrap();
    assert_eq!((last.written, last.bytes_written), (2, 103 + 700_000));
    assert!(copy.verify_blobs(&root).await.unwrap().equal());

    // Damaged bytes in the target are seen.
    target_db
        .execute(&format!(
            "UPDATE blob_chunks SET data = '\\x00' WHERE sha256 = '{}'",
            sha256_hex(&contents[5])
        ))
        .await;
    let check = copy.verify_blobs(&root).await.unwrap();
    assert_eq!(check.corrupt, vec![sha256_hex(&contents[5])]);

    // A damaged source file is refused, not copied under a wrong name.
    let name = sha256_hex(&contents[7]);
    std::fs::write(root.join(&name[..2]).join(&name[2..]), b"other bytes").unwrap();
    target_db
        .execute(&format!("DELETE FROM blob_chunks WHERE sha256 = '{name}'"))
        .await;
    target_db
        .execute(&format!("DELETE FROM blobs WHERE sha256 = '{name}'"))
        .await;
    let err = copy.copy_blobs(&root, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains(&name), "{err}");
    let in_pg = target.blobs(&dir.path().join("node")).unwrap();
    let usage = tokio::task::spawn_blocking(move || in_pg.usage().unwrap())
        .await
        .unwrap();
    assert_eq!(usage.0, 21, "the damaged file is stored under no name");
}
