//! A ceiling on the bytes of request bodies being received at once, across
//! all requests: each form or multipart request takes its share (its
//! `Content-Length`, or the route's limit) before its body is read and
//! holds it until it is answered. Uploads are streamed to temporary files,
//! so the share bounds disk and work in flight more than memory; a request
//! that would pass the ceiling is refused at once with 47019.

use crate::openapi::error::ApiError;
use smartship_api::ErrorCode;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct BodyBudget {
    /// One permit per KiB.
    kib: Arc<Semaphore>,
    total_bytes: u64,
}

impl BodyBudget {
    pub fn new(total_bytes: u64) -> Self {
        let kib = usize::try_from(total_bytes.div_ceil(1024))
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        BodyBudget {
            kib: Arc::new(Semaphore::new(kib)),
            total_bytes,
        }
    }

    /// Takes a share of `bytes`, or refuses when the ceiling would be passed.
    pub fn take(&self, bytes: u64) -> Result<OwnedSemaphorePermit, ApiError> {
        let kib = u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
        self.kib.clone().try_acquire_many_owned(kib).map_err(|_| {
            tracing::warn!(
                bytes,
                ceiling = self.total_bytes,
                "request refused: bodies in flight at their ceiling"
            );
            ApiError::business(
                ErrorCode::ServerBusy,
                format!("正在接收的请求体已达上限 ({} MiB)", self.total_bytes >> 20),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_given_back_when_dropped() {
        let b = BodyBudget::new(10 << 20);
        let first = b.take(6 << 20).unwrap();
        assert!(b.take(6 << 20).is_err(), "past the ceiling");
        let small = b.take(1 << 20).unwrap();
        drop(first);
        assert!(b.take(8 << 20).is_ok(), "given back");
        drop(small);
    }
}
