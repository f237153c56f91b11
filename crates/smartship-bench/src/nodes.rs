//! Several nodes on one PostgreSQL database, as docs/scaling.md runs them,
//! in this process: extra servers with the first one's configuration (each
//! its own data directory, store, pool and cache), and a round-robin TCP
//! balancer in front of all of them, so that a scenario's clients, which
//! know one address, spread their connections over the nodes. The balancer
//! is in the path with one node too, so that one and three nodes are
//! measured the same way.

use smartship_server::{Server, StartOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The nodes added to a scenario's first server, kept running until
/// dropped (stopped by [`Extra::stop`]).
pub struct Extra {
    servers: Vec<Server>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Extra {
    pub async fn stop(self) -> anyhow::Result<()> {
        for s in self.servers {
            s.stop().await?;
        }
        Ok(())
    }
}

/// Starts `count` more nodes with `first`'s configuration.
pub async fn add(first: &Server, count: usize) -> anyhow::Result<Extra> {
    let mut servers = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..count {
        let dir = tempfile::tempdir()?;
        let mut config = first.state.config.clone();
        config.data_dir = dir.path().to_path_buf();
        config.listen = "127.0.0.1:0".to_owned();
        config.public_base_url = None;
        servers.push(smartship_server::start(config, StartOptions::default()).await?);
        dirs.push(dir);
    }
    Ok(Extra {
        servers,
        _dirs: dirs,
    })
}

impl Extra {
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(|s| s.addr).collect()
    }
}

/// A balancer on port 0 that hands each new connection to the next of
/// `backends` and copies bytes both ways until either side closes.
pub async fn balancer(backends: Vec<SocketAddr>) -> anyhow::Result<SocketAddr> {
    anyhow::ensure!(!backends.is_empty(), "a balancer needs a backend");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
            tokio::spawn(async move {
                let _ = inbound.set_nodelay(true);
                let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = outbound.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    Ok(addr)
}

/// Where a scenario's clients connect: the first server itself, or, with
/// `nodes`, a balancer over it and `nodes - 1` more (returned, to stop).
pub async fn front(
    b: &crate::setup::Bench,
    nodes: Option<usize>,
) -> anyhow::Result<(String, Option<Extra>)> {
    let Some(k) = nodes else {
        return Ok((b.base.clone(), None));
    };
    anyhow::ensure!(k >= 1, "--nodes must be at least 1");
    let extra = add(&b.server, k - 1).await?;
    let mut addrs = vec![b.server.addr];
    addrs.extend(extra.addrs());
    let front = balancer(addrs).await?;
    Ok((format!("http://{front}"), Some(extra)))
}
