//! SSRF guard for outgoing event deliveries.
//!
//! An event URL is set by a third-party platform's operator and the server
//! POSTs to it, so it must not become a way to reach the platform's own
//! private network. Every block of the IANA IPv4 and IPv6 special-purpose
//! address registries (loopback, private, link-local, shared, documentation,
//! benchmarking, protocol assignments, ...), multicast and broadcast is
//! refused unless a configured network allows it; an IPv6 address that
//! carries an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address. The check runs on the addresses
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

/// The IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its
/// updates), with multicast and broadcast. Every block is refused, the
/// globally reachable anycast ones (AS112, AMT, PCP, TURN) too: no webhook
/// receiver lives there.
pub const IPV4_SPECIAL: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private use"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link local"),
    ("172.16.0.0/12", "private use"),
    (
        "192.0.0.0/24",
        "IETF protocol assignments (DS-Lite, PCP, TURN, NAT64 discovery)",
    ),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "AS112-v4"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private use"),
    ("192.175.48.0/24", "direct delegation AS112 service"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
];

/// The IANA IPv6 Special-Purpose Address Registry, with multicast and the
/// deprecated site-local and IPv4-compatible blocks. The forms that embed
/// an IPv4 address are judged by that address instead (see [`embedded_v4`]).
pub const IPV6_SPECIAL: &[(&str, &str)] = &[
    (
        "::/96",
        "unspecified, loopback and deprecated IPv4-compatible (::a.b.c.d)",
    ),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    (
        "2001::/23",
        "IETF protocol assignments (Teredo, ORCHID, ...)",
    ),
    ("2001:db8::/32", "documentation"),
    ("2620:4f:8000::/48", "direct delegation AS112 service"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link local"),
    ("fec0::/10", "deprecated site local"),
    ("ff00::/8", "multicast"),
];

fn parsed(table: &'static [(&'static str, &'static str)]) -> Vec<(Network, &'static str)> {
    table
        .iter()
        .map(|(net, name)| (Network::parse(net).expect("valid table entry"), *name))
        .collect()
}

static SPECIAL_V4: std::sync::LazyLock<Vec<(Network, &'static str)>> =
    std::sync::LazyLock::new(|| parsed(IPV4_SPECIAL));
static SPECIAL_V6: std::sync::LazyLock<Vec<(Network, &'static str)>> =
    std::sync::LazyLock::new(|| parsed(IPV6_SPECIAL));

/// The IPv4 address inside an IPv6 address that carries one to an IPv4
/// host: IPv4-mapped `::ffff:a.b.c.d`, the well-known NAT64 prefix
/// `64:ff9b::/96`, and 6to4 `2002:AABB:CCDD::/48`.
pub fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low32 = || Ipv4Addr::from(((u32::from(s[6])) << 16) | u32::from(s[7]));
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(low32());
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low32());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])));
    }
    None
}

/// Why an address is not on the public internet, if it is not: the name of
/// its registry block.
pub fn special_block(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => SPECIAL_V4
            .iter()
            .find(|(n, _)| n.contains(IpAddr::V4(v4)))
            .map(|(_, name)| *name),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => special_block(IpAddr::V4(v4)),
            None => SPECIAL_V6
                .iter()
                .find(|(n, _)| n.contains(IpAddr::V6(v6)))
                .map(|(_, name)| *name),
        },
    }
}

fn is_special(ip: IpAddr) -> bool {
    special_block(ip).is_some()
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
            "192.0.0.1",
            "192.0.0.170",
            "2001:db8::1",
            "64:ff9b::7f00:1",
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

    /// The first and last address of a block.
    fn ends(net: &str) -> (IpAddr, IpAddr) {
        let n = Network::parse(net).unwrap();
        match n.addr {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(u32::from(n.prefix)).unwrap_or(0);
                let first = u32::from(a) & !host;
                (IpAddr::V4(first.into()), IpAddr::V4((first | host).into()))
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(u32::from(n.prefix)).unwrap_or(0);
                let first = u128::from(a) & !host;
                (IpAddr::V6(first.into()), IpAddr::V6((first | host).into()))
            }
        }
    }

    #[test]
    fn every_registry_block_is_refused_from_its_first_to_its_last_address() {
        let p = NetworkPolicy::default();
        for (net, name) in IPV4_SPECIAL.iter().chain(IPV6_SPECIAL) {
            let (first, last) = ends(net);
            for ip in [first, last] {
                // IPv6 blocks that embed IPv4 are judged by it: skip those.
                if let IpAddr::V6(v6) = ip
                    && embedded_v4(v6).is_some()
                {
                    continue;
                }
                assert!(!p.allows(ip), "{ip} in {net} ({name}) must be refused");
            }
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_ipv4() {
        let p = NetworkPolicy::default();
        for bad in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:192.0.0.170",
            "::127.0.0.1",
            "::10.0.0.1",
            "::8.8.8.8",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::192.168.0.1",
            "64:ff9b:1::8.8.8.8",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!p.allows(ip(bad)), "{bad} must be refused");
        }
        for good in ["::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"] {
            assert!(p.allows(ip(good)), "{good} embeds a public address");
        }
    }

    #[test]
    fn neighbours_of_special_blocks_stay_public() {
        let p = NetworkPolicy::default();
        for good in [
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2001:200::1",
            "2001:db9::1",
            "2606:4700::1111",
        ] {
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
