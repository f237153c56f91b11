//! Work that every worker node does on a timer must happen once, however
//! many nodes (here: stores on one database, and concurrent callers of
//! each) find it due at the same moment.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_due_ticket_is_issued_once_by_nodes_that_find_it_due_together() {
    for backend in common::backends() {
        eprintln!("backend: {backend}");
        let (db, first, tp) = common::store_with_tp(backend).await;
        // A second node on the same database (SQLite: a second process's
        // store on the same file).
        let second = smartship_store::open(db.url()).await.unwrap();
        let nodes = [first.clone(), second];
        for round in 1..=3i64 {
            let now = round * 1_000_000;
            let due_before = now - 600_000;
            let mut calls = tokio::task::JoinSet::new();
            for caller in 0..8 {
                let store = nodes[caller % 2].clone();
                let tp = tp.id;
                calls.spawn(async move {
                    store
                        .rotate_ticket_if_due(
                            tp,
                            &format!("t{round}-{caller}"),
                            "{}",
                            now,
                            due_before,
                        )
                        .await
                        .unwrap()
                });
            }
            let rotated = calls.join_all().await.into_iter().filter(|r| *r).count();
            assert_eq!(
                rotated, 1,
                "{backend} round {round}: {rotated} tickets issued"
            );
            let tickets = first.tickets(tp.id, now).await.unwrap();
            assert_eq!(tickets.len(), 1, "{backend} round {round}: {tickets:?}");
        }
        // Not yet due: nothing.
        assert!(
            !first
                .rotate_ticket_if_due(tp.id, "early", "{}", 3_000_001, 3_000_001 - 600_000)
                .await
                .unwrap()
        );
    }
}
