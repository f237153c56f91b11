//! A receiver for pushed events in axum: verify, decrypt, parse, store,
//! answer `success`. Any other answer makes the platform retry.
//!
//! ```sh
//! ENCODING_AES_KEY=… MSG_TOKEN=… CLIENT_ID=… \
//! cargo run -p smartship-client --example event_receiver
//! # then: smartship admin tp set-urls CLIENT_ID --message-url http://HOST:3000/events
//! ```

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use smartship_client::events::{EventReceiver, PushEvent, SUCCESS};
use std::sync::{Arc, Mutex};

/// What the receiver saw, newest last (a real one would write a database).
#[derive(Default)]
pub struct Inbox {
    /// (webhook-id, event) pairs; the id de-duplicates retried deliveries.
    pub events: Mutex<Vec<(String, PushEvent)>>,
}

/// The router: `POST /events`.
pub fn router(receiver: EventReceiver, inbox: Arc<Inbox>) -> Router {
    Router::new()
        .route("/events", post(receive))
        .with_state((Arc::new(receiver), inbox))
}

async fn receive(
    State((receiver, inbox)): State<(Arc<EventReceiver>, Arc<Inbox>)>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    match receiver.receive(&body) {
        Ok(event) => {
            let mut events = inbox.events.lock().expect("not poisoned");
            // At-least-once delivery: the same id may arrive again.
            if id.is_empty() || !events.iter().any(|(seen, _)| *seen == id) {
                events.push((id, event));
            }
            (StatusCode::OK, SUCCESS)
        }
        // Not ours or tampered with: refuse, so nothing is acknowledged.
        Err(_) => (StatusCode::BAD_REQUEST, "rejected"),
    }
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).map_err(|_| format!("set {k}"));
    let receiver = EventReceiver::new(
        &env("ENCODING_AES_KEY")?,
        &env("MSG_TOKEN")?,
        &env("CLIENT_ID")?,
    )?;
    let inbox = Arc::new(Inbox::default());
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
    println!(
        "receiving events on http://{}/events",
        listener.local_addr()?
    );
    axum::serve(listener, router(receiver, inbox)).await?;
    Ok(())
}
