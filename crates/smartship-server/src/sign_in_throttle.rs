//! Throttling of password sign-ins (the consent pages; the console's too).
//!
//! Failures are counted per account and per client address within a window
//! (`signin_window_secs`). An account with `signin_max_failures_per_account`
//! failures, or an address with `signin_max_failures_per_address`, is
//! refused without its password being checked until the window that
//! counted them ends: a guesser gets a handful of tries per window instead
//! of a hundred a second, and a locked account gives no answer about the
//! password. A success clears the account's count. Counts live in this
//! process, bounded in number: the oldest windows are dropped first.
//!
//! An account lock is something anyone can cause: five wrong passwords for
//! a known name would keep its real owner out for as long as they are
//! repeated. So a browser that signed in to that account before (it
//! presents a device cookie the console signed for the account, OWASP's
//! "device cookies") is not subject to the account's or the address's lock;
//! its failures are counted for that device alone, with the account's
//! limit. A guesser without such a cookie still meets both locks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept at most per kind (accounts, addresses).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// The limits (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub window: Duration,
    pub per_account: u32,
    pub per_address: u32,
}

#[derive(Debug, Default)]
struct Counts {
    accounts: HashMap<String, Window>,
    addresses: HashMap<IpAddr, Window>,
    devices: HashMap<String, Window>,
}

/// Why an attempt is not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    Account { retry_after: Duration },
    Address { retry_after: Duration },
    Device { retry_after: Duration },
}

impl Locked {
    pub fn retry_after(self) -> Duration {
        match self {
            Locked::Account { retry_after }
            | Locked::Address { retry_after }
            | Locked::Device { retry_after } => retry_after,
        }
    }
}

/// Who attempts a sign-in, as far as the throttle can tell.
#[derive(Debug, Clone, Copy)]
pub enum Client<'a> {
    /// Anyone: the account's and the address's counts apply.
    Unknown(Option<IpAddr>),
    /// A browser that signed in to this account before (the id of its
    /// verified device cookie): only its own count applies.
    TrustedDevice(&'a str),
}

pub struct SignInThrottle {
    limits: Limits,
    counts: Mutex<Counts>,
}

fn live<K: std::hash::Hash + Eq + Clone>(
    map: &mut HashMap<K, Window>,
    key: &K,
    now: Instant,
    window: Duration,
) -> Option<Window> {
    match map.get(key) {
        Some(w) if now.duration_since(w.started) < window => Some(*w),
        Some(_) => {
            map.remove(key);
            None
        }
        None => None,
    }
}

fn bump<K: std::hash::Hash + Eq + Clone>(
    map: &mut HashMap<K, Window>,
    key: K,
    now: Instant,
    window: Duration,
) {
    if map.len() >= MAX_KEYS && !map.contains_key(&key) {
        map.retain(|_, w| now.duration_since(w.started) < window);
        if map.len() >= MAX_KEYS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
    let w = live(map, &key, now, window).unwrap_or(Window {
        started: now,
        failures: 0,
    });
    map.insert(
        key,
        Window {
            failures: w.failures + 1,
            ..w
        },
    );
}

impl SignInThrottle {
    pub fn new(limits: Limits) -> Self {
        SignInThrottle {
            limits,
            counts: Mutex::default(),
        }
    }

    /// Whether an attempt for `username` by `client` may be checked now.
    pub fn check(&self, username: &str, client: Client<'_>) -> Result<(), Locked> {
        self.check_at(username, client, Instant::now())
    }

    fn check_at(&self, username: &str, client: Client<'_>, now: Instant) -> Result<(), Locked> {
        let l = self.limits;
        let mut c = self.counts.lock().expect("not poisoned");
        let left = |w: Window| l.window.saturating_sub(now.duration_since(w.started));
        let addr = match client {
            Client::TrustedDevice(device) => {
                return match live(&mut c.devices, &device.to_owned(), now, l.window) {
                    Some(w) if w.failures >= l.per_account => Err(Locked::Device {
                        retry_after: left(w),
                    }),
                    _ => Ok(()),
                };
            }
            Client::Unknown(addr) => addr,
        };
        if let Some(ip) = addr
            && let Some(w) = live(&mut c.addresses, &ip, now, l.window)
            && w.failures >= l.per_address
        {
            return Err(Locked::Address {
                retry_after: left(w),
            });
        }
        if let Some(w) = live(&mut c.accounts, &username.to_owned(), now, l.window)
            && w.failures >= l.per_account
        {
            return Err(Locked::Account {
                retry_after: left(w),
            });
        }
        Ok(())
    }

    /// Records the outcome of a checked attempt.
    pub fn record(&self, username: &str, client: Client<'_>, success: bool) {
        self.record_at(username, client, success, Instant::now())
    }

    fn record_at(&self, username: &str, client: Client<'_>, success: bool, now: Instant) {
        let window = self.limits.window;
        let mut c = self.counts.lock().expect("not poisoned");
        match client {
            Client::TrustedDevice(device) if success => {
                c.devices.remove(device);
            }
            Client::TrustedDevice(device) => bump(&mut c.devices, device.to_owned(), now, window),
            Client::Unknown(_) if success => {
                c.accounts.remove(username);
            }
            Client::Unknown(addr) => {
                bump(&mut c.accounts, username.to_owned(), now, window);
                if let Some(ip) = addr {
                    bump(&mut c.addresses, ip, now, window);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        window: Duration::from_secs(900),
        per_account: 5,
        per_address: 20,
    };

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([198, 51, 100, last]))
    }

    #[test]
    fn an_account_locks_after_its_failures_until_the_window_ends() {
        let t = SignInThrottle::new(LIMITS);
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(
                t.check_at("shop", Client::Unknown(ip(i)), t0),
                Ok(()),
                "attempt {i}"
            );
            t.record_at("shop", Client::Unknown(ip(i)), false, t0);
        }
        // From any address: the account is locked.
        let locked = t.check_at(
            "shop",
            Client::Unknown(ip(99)),
            t0 + Duration::from_secs(60),
        );
        assert_eq!(
            locked,
            Err(Locked::Account {
                retry_after: Duration::from_secs(840)
            })
        );
        assert_eq!(
            t.check_at("other", Client::Unknown(ip(99)), t0),
            Ok(()),
            "other accounts are not"
        );
        assert_eq!(
            t.check_at(
                "shop",
                Client::Unknown(ip(1)),
                t0 + Duration::from_secs(900)
            ),
            Ok(()),
            "a new window"
        );
    }

    #[test]
    fn an_address_locks_after_failures_on_many_accounts() {
        let t = SignInThrottle::new(LIMITS);
        let t0 = Instant::now();
        for i in 0..20 {
            t.record_at(&format!("user{i}"), Client::Unknown(ip(7)), false, t0);
        }
        assert!(matches!(
            t.check_at("fresh", Client::Unknown(ip(7)), t0),
            Err(Locked::Address { .. })
        ));
        assert_eq!(t.check_at("fresh", Client::Unknown(ip(8)), t0), Ok(()));
        assert_eq!(t.check_at("fresh", Client::Unknown(None), t0), Ok(()));
    }

    #[test]
    fn a_success_clears_the_account() {
        let t = SignInThrottle::new(LIMITS);
        let t0 = Instant::now();
        for _ in 0..4 {
            t.record_at("shop", Client::Unknown(ip(1)), false, t0);
        }
        t.record_at("shop", Client::Unknown(ip(1)), true, t0);
        for _ in 0..4 {
            t.record_at("shop", Client::Unknown(ip(1)), false, t0);
        }
        assert_eq!(t.check_at("shop", Client::Unknown(ip(2)), t0), Ok(()));
    }

    #[test]
    fn a_trusted_device_signs_in_while_the_account_is_locked_by_others() {
        let t = SignInThrottle::new(LIMITS);
        let t0 = Instant::now();
        for i in 0..20 {
            t.record_at("admin", Client::Unknown(ip(i)), false, t0);
        }
        assert!(t.check_at("admin", Client::Unknown(ip(50)), t0).is_err());
        let mine = Client::TrustedDevice("device-1");
        assert_eq!(t.check_at("admin", mine, t0), Ok(()));
        // The device's own failures lock the device alone.
        for _ in 0..5 {
            t.record_at("admin", mine, false, t0);
        }
        assert!(matches!(
            t.check_at("admin", mine, t0),
            Err(Locked::Device { .. })
        ));
        let other = Client::TrustedDevice("device-2");
        assert_eq!(t.check_at("admin", other, t0), Ok(()));
    }

    #[test]
    fn memory_is_bounded() {
        let t = SignInThrottle::new(LIMITS);
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            t.record_at(&format!("u{i}"), Client::Unknown(None), false, t0);
        }
        assert!(t.counts.lock().unwrap().accounts.len() <= MAX_KEYS);
    }
}
