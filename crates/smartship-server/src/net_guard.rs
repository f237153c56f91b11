//! SSRF guard for outgoing event deliveries.
//!
//! An event URL is set by a third-party platform's operator and the server
//! POSTs to it, so it must not become a way to reach the platform's own
//! private network. Destinations that are loopback, private, link-local,
//! shared (CGNAT), unspecified, multicast, broadcast or reserved are refused
//! unless a configured network allows them. The check runs on the addresses
//! the name actually resolves to, inside the HTTP client's resolver, so a
//! name that resolves differently on the second lookup (DNS rebinding)
//! cannot slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// A CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Result<Network, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has an invalid prefix length"))?,
        };
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Which special destinations are allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    allowed: Vec<Network>,
}

/// Addresses that are not on the public internet.
fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_special_v4(v4);
            }
            let seg0 = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg0 & 0xffc0) == 0xfe80 // link local fe80::/10
                || v6 == Ipv6Addr::from([0, 0, 0, 0, 0, 0, 0, 1])
        }
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

impl NetworkPolicy {
    /// Parses a comma-separated list of CIDRs; empty means none allowed.
    pub fn parse(list: &str) -> Result<NetworkPolicy, String> {
        let allowed = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<_, _>>()?;
        Ok(NetworkPolicy { allowed })
    }

    /// Whether `ip` is inside one of the listed networks (for allow-lists of
    /// callers, where public addresses get no free pass).
    pub fn lists(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.allowed.iter().any(|n| n.contains(ip))
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        !is_special(ip) || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// Checks a URL's scheme and, when its host is an IP literal, the
    /// address (names are checked at resolution, see [`GuardedResolver`]).
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {} is not http or https", url.scheme()));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) if !self.allows(IpAddr::V4(ip)) => {
                Err(format!("destination {ip} is not allowed (private network)"))
            }
            Some(url::Host::Ipv6(ip)) if !self.allows(IpAddr::V6(ip)) => {
                Err(format!("destination {ip} is not allowed (private network)"))
            }
            None => Err("URL has no host".to_owned()),
            _ => Ok(url),
        }
    }
}

/// A DNS resolver for the delivery client that drops disallowed addresses.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub policy: Arc<NetworkPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "destination {host} is not allowed (resolves only to private addresses)"
                )
                .into());
            }
            let iter: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(iter)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_refused_by_default() {
        let p = NetworkPolicy::default();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!p.allows(ip(bad)), "{bad}");
        }
        for good in ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"] {
            assert!(p.allows(ip(good)), "{good}");
        }
    }

    #[test]
    fn allow_list_opens_exactly_its_networks() {
        let p = NetworkPolicy::parse("127.0.0.0/8, ::1").unwrap();
        assert!(p.allows(ip("127.0.0.1")));
        assert!(p.allows(ip("127.9.9.9")));
        assert!(p.allows(ip("::1")));
        assert!(!p.allows(ip("10.0.0.1")));
        assert!(NetworkPolicy::parse("10.0.0.0/33").is_err());
        assert!(NetworkPolicy::parse("nope").is_err());
    }

    #[test]
    fn urls_are_checked() {
        let p = NetworkPolicy::default();
        assert!(p.check_url("ftp://example.com/").is_err());
        assert!(p.check_url("http://127.0.0.1:8080/x").is_err());
        assert!(p.check_url("http://[::1]/x").is_err());
        assert!(p.check_url("https://example.com/hook").is_ok());
        assert!(p.check_url("not a url").is_err());
    }
}
