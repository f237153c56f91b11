//! Who holds a work lease, and whether that holder is gone.
//!
//! Every lease (a build, an event delivery) is written with the claiming
//! process's identity, `host/pid/nonce`. A lease normally ends when its
//! work is recorded, or else when it expires; but a process that restarts
//! after a crash (SIGKILL, power loss) would wait out every lease its dead
//! predecessor held. At start it asks which holders of live leases are dead
//! processes of this host, and takes their work back at once. Holders on
//! other hosts, or whose liveness cannot be told, keep their leases until
//! they expire: a lease is never taken from a process that may still run.

use std::sync::LazyLock;

static THIS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}/{}/{:016x}",
        host(),
        std::process::id(),
        rand::random::<u64>()
    )
});

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// This process's identity, written into the leases it takes.
pub fn this_process() -> &'static str {
    &THIS
}

/// Whether the process that wrote `owner` is certainly gone: it ran on this
/// host and either no process has its pid, or the pid is this process's own
/// with another nonce (a restart that got the same pid, as in a container).
pub fn is_dead(owner: &str) -> bool {
    let mut parts = owner.split('/');
    let (Some(host_part), Some(pid), Some(nonce)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host_part != host() || owner == this_process() {
        return false;
    }
    if pid == std::process::id() {
        return nonce != this_process().rsplit('/').next().unwrap_or_default();
    }
    !process_exists(pid)
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // Signal 0 checks for existence only. EPERM: it exists, owned by another user.
    // SAFETY: kill with signal 0 sends nothing.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gone_processes_of_this_host_are_dead() {
        assert!(!is_dead(this_process()), "not this process");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(is_dead(&format!("{}/{pid}/0", host())), "an exited process");
        let me = std::process::id();
        assert!(
            is_dead(&format!("{}/{me}/0", host())),
            "this pid, another life"
        );
        assert!(
            !is_dead(&format!("other-host/{pid}/0")),
            "another host: unknown"
        );
        assert!(!is_dead(&format!("{}/1/0", host())), "a live process");
        assert!(!is_dead("garbage"));
    }
}
