//! How a failed store or blob call is told apart, by type, never by the
//! text of a message: contention that outlasted the store's retries (the
//! caller may retry), or a full disk (a documented answer, nothing was
//! written). Everything else is an internal error.

use smartship_store::StoreError;
use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Busy,
    Full,
}

/// What an error (or any error in its chain of causes) is.
pub fn classify(e: &anyhow::Error) -> Option<Failure> {
    e.chain().find_map(|cause| {
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return match s {
                StoreError::Busy(_) => Some(Failure::Busy),
                StoreError::Full(_) => Some(Failure::Full),
                _ => None,
            };
        }
        cause
            .downcast_ref::<io::Error>()
            .filter(|io| is_full_io(io))
            .map(|_| Failure::Full)
    })
}

/// Whether an I/O error says the disk or the quota is full (the OS's
/// ENOSPC and EDQUOT, or a database that is full under a blob store).
pub fn is_full_io(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_told_by_type_through_the_chain_of_causes() {
        let busy = anyhow::Error::from(StoreError::Busy("x".into()));
        assert_eq!(classify(&busy), Some(Failure::Busy));
        let full = anyhow::Error::from(StoreError::Full("x".into())).context("storing");
        assert_eq!(classify(&full), Some(Failure::Full));
        let enospc = anyhow::Error::from(io::Error::from_raw_os_error(28)).context("writing");
        assert_eq!(classify(&enospc), Some(Failure::Full));
        let edquot = anyhow::Error::from(io::Error::from_raw_os_error(122));
        assert_eq!(classify(&edquot), Some(Failure::Full));
        // A message that merely says so is not a full disk.
        let text = anyhow::anyhow!("No space left on device");
        assert_eq!(classify(&text), None);
        let pg_blob = anyhow::Error::from(StoreError::Full("53100".into()).into_io());
        assert_eq!(classify(&pg_blob), Some(Failure::Full));
    }
}
