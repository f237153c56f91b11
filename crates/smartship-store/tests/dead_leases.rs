//! A build leased by a process that died is claimed again at once after
//! `release_dead_leases`, while a lease held by a live process (this one)
//! is left to run out.

mod common;

use smartship_core::TemplateId;
use smartship_store::*;

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

#[tokio::test]
async fn the_builds_of_a_dead_process_are_taken_back_at_once() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (dir, store, tp) = common::store_with_tp(backend).await;
        let app = store
            .create_app(
                NewApp {
                    id: None,
                    app_key: "k".into(),
                    name: "a".into(),
                    description: String::new(),
                    basic_info_approved: true,
                    authenticity_verified: true,
                },
                0,
            )
            .await
            .unwrap()
            .id;
        let upload = |version: &str| NewUpload {
            app_id: app,
            tp_id: tp.id,
            template_id: TemplateId(1),
            version: version.into(),
            version_desc: String::new(),
            ext_json: "{}".into(),
            direct_commit: false,
            test_account: None,
            test_password: None,
            committer: "--".into(),
        };
        let now = 1_000_000;
        let id = store
            .create_upload(upload("1.0.0"), &ctx(now))
            .await
            .unwrap()
            .unwrap();
        let lease = 120_000;
        let job = store
            .claim_build(now, lease)
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(job.package.id, id);
        assert!(
            store.claim_build(now + 1, lease).await.unwrap().is_none(),
            "leased"
        );

        // Held by this (live) process: nothing is released.
        assert_eq!(
            store.release_dead_leases(now + 1).await.unwrap(),
            ReleasedLeases::default()
        );
        assert!(store.claim_build(now + 2, lease).await.unwrap().is_none());

        // Make the lease a dead process's, as after a SIGKILL and a restart.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let host = lease_owner::this_process()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        dir.execute(&format!(
            "UPDATE packages SET build_lease_owner = '{host}/{dead_pid}/0' WHERE id = {}",
            id.0
        ))
        .await;
        let released = store.release_dead_leases(now + 3).await.unwrap();
        assert_eq!(
            released,
            ReleasedLeases {
                builds: 1,
                events: 0
            }
        );
        let again = store
            .claim_build(now + 4, lease)
            .await
            .unwrap()
            .expect("claimed again at once");
        assert_eq!(again.package.id, id);
    }
}
