//! Background workers. Each works only from what is stored, so a restart
//! resumes where the last process stopped: a build whose lease ran out is
//! claimed again, a rollback whose delay passed while the server was down
//! completes at start-up.

pub mod auto_review;
pub mod build;
pub mod delivery;
pub mod lease_reaper;
pub mod retention;
pub mod rollback;
pub mod ticket;
