//! Upgrading a database keeps what its apps had: an app whose basic
//! information was approved before approval was derived from examinations
//! stays approved (the migration records the approval as the operator's
//! shortcut), and names get the folded key look-alikes are compared on,
//! on both backends.

use smartship_core::AppId;
use smartship_store::test_db::{Backend, TestDb};
use smartship_store::*;
use std::borrow::Cow;
use std::str::FromStr;

/// The version of the migration that made approval a projection.
fn derived_approval(backend: Backend) -> i64 {
    match backend {
        Backend::Sqlite => 10,
        Backend::Postgres => 4,
    }
}

async fn upgrade_keeps_approval(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut before = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let cut = derived_approval(backend);
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < cut)
            .cloned()
            .collect(),
    );
    let insert = "INSERT INTO apps (id, app_key, name, description, basic_info_approved, \
                  authenticity_verified, created_at) VALUES (1, 'k1', 'old approved', '', TRUE, TRUE, 0), \
                  (2, 'k2', 'old pending', '', FALSE, TRUE, 0)";
    match backend {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(db.url())
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            before.run(&pool).await.unwrap();
            sqlx::query(insert).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            before.run(&pool).await.unwrap();
            sqlx::query(insert).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    // Opening migrates to the current schema.
    let store = smartship_store::open(db.url()).await.unwrap();
    let old = store.app(AppId(1)).await.unwrap().unwrap();
    assert!(old.basic_info_approved);
    // Names written before the store kept their folded key were given one
    // when it opened: a look-alike of an old name is taken.
    assert!(
        store
            .name_taken("OLD\u{a0}APPR0VED", AppId(2))
            .await
            .unwrap()
    );
    assert!(!store.name_taken("old approved", AppId(1)).await.unwrap());
    // A review of a field recomputes the approval: it stays, by the
    // recorded shortcut.
    let exam = store
        .submit_examination(
            NewExamination {
                app: AppId(1),
                field: smartship_core::profile::Field::Signature,
                value: "一个新的描述内容".into(),
                material: String::new(),
                name_claim: None,
                actor: "test".into(),
                year_start: 0,
            },
            1,
        )
        .await
        .unwrap()
        .unwrap();
    store
        .review_examination(exam.id, false, "no", "test", 2)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .app(AppId(1))
            .await
            .unwrap()
            .unwrap()
            .basic_info_approved
    );
    assert!(
        !store
            .app(AppId(2))
            .await
            .unwrap()
            .unwrap()
            .basic_info_approved
    );
    let recorded = store
        .examinations(None, Some(AppId(1)), 0, 10)
        .await
        .unwrap();
    assert_eq!(recorded[0].field, smartship_core::profile::Field::BasicInfo);
    assert_eq!(recorded[0].submitted_by, "migration");
}

#[tokio::test]
async fn an_app_approved_before_the_upgrade_stays_approved_on_sqlite() {
    upgrade_keeps_approval(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_app_approved_before_the_upgrade_stays_approved_on_postgres() {
    upgrade_keeps_approval(Backend::Postgres).await;
}
