//! An app's and a platform's server and web-view domains (`app/modifydomain`,
//! `tp/modifydomain`, `app/modifywebviewdomain`, `tp/modifywebviewdomain`):
//! what a host runtime lets the app's code reach. Each is an origin,
//! `https://host[:port]` (`wss://` for sockets): no IP literal, no
//! wildcard, no path, at most [`MAX_PER_KIND`] per kind.

use serde::{Deserialize, Serialize};

/// The kinds of domain, by their parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainKind {
    Request,
    Upload,
    Download,
    Socket,
    WebView,
}

impl DomainKind {
    /// The four server-domain kinds, in the order the routes answer them.
    pub const SERVER: [DomainKind; 4] = [
        DomainKind::Download,
        DomainKind::Request,
        DomainKind::Socket,
        DomainKind::Upload,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DomainKind::Request => "request",
            DomainKind::Upload => "upload",
            DomainKind::Download => "download",
            DomainKind::Socket => "socket",
            DomainKind::WebView => "web_view",
        }
    }

    /// The request parameter (and answer field) that carries the kind.
    pub const fn param(self) -> &'static str {
        match self {
            DomainKind::Request => "request_domain",
            DomainKind::Upload => "upload_domain",
            DomainKind::Download => "download_domain",
            DomainKind::Socket => "socket_domain",
            DomainKind::WebView => "web_view_domain",
        }
    }

    pub fn parse(s: &str) -> Option<DomainKind> {
        [
            DomainKind::Request,
            DomainKind::Upload,
            DomainKind::Download,
            DomainKind::Socket,
            DomainKind::WebView,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    fn scheme(self) -> &'static str {
        match self {
            DomainKind::Socket => "wss://",
            _ => "https://",
        }
    }
}

/// How many domains of one kind an app or a platform may have.
pub const MAX_PER_KIND: usize = 20;

/// What a modify call does with the domains it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainAction {
    Add,
    Delete,
    Set,
    Get,
}

impl DomainAction {
    pub fn parse(s: &str) -> Option<DomainAction> {
        match s {
            "add" => Some(DomainAction::Add),
            "delete" => Some(DomainAction::Delete),
            "set" => Some(DomainAction::Set),
            "get" => Some(DomainAction::Get),
            _ => None,
        }
    }
}

/// Why a domain is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainRefusal {
    #[error("{0:?} 须以 {1} 开头")]
    Scheme(String, &'static str),
    #[error("{0:?} 不能是 IP 地址")]
    IpLiteral(String),
    #[error("{0:?} 不能含通配符")]
    Wildcard(String),
    #[error("{0:?} 只能是域名（不含路径、参数、用户信息）")]
    NotAnOrigin(String),
    #[error("{0:?} 不是合法的域名")]
    BadHost(String),
    #[error("每类域名至多 {MAX_PER_KIND} 个，{0} 将有 {1} 个")]
    TooMany(&'static str, usize),
}

/// Checks one domain of `kind` and returns it in its stored form
/// (scheme and host lower-cased).
pub fn normalize(kind: DomainKind, raw: &str) -> Result<String, DomainRefusal> {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    let scheme = kind.scheme();
    let Some(rest) = lower.strip_prefix(scheme) else {
        return Err(DomainRefusal::Scheme(raw.to_owned(), scheme));
    };
    if rest.contains('*') {
        return Err(DomainRefusal::Wildcard(raw.to_owned()));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@', '\\']) || rest.is_empty() {
        return Err(DomainRefusal::NotAnOrigin(raw.to_owned()));
    }
    if rest.starts_with('[') {
        return Err(DomainRefusal::IpLiteral(raw.to_owned()));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(DomainRefusal::NotAnOrigin(raw.to_owned())),
                // The scheme's own port is the same origin as none.
                Ok(443) => None,
                Ok(n) => Some(n),
            }
        }
        Some(_) => return Err(DomainRefusal::NotAnOrigin(raw.to_owned())),
    };
    // URL parsers (WHATWG, so host runtimes) read a host whose last label
    // is a number, decimal or `0x` hex, as an IPv4 address: `0x7f.0.0.1`
    // is 127.0.0.1.
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or("");
    let numeric = |l: &str| {
        (!l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
            || l.strip_prefix("0x")
                .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if numeric(last) {
        return Err(DomainRefusal::IpLiteral(raw.to_owned()));
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || host.len() > 253 || !labels.iter().all(label_ok) {
        return Err(DomainRefusal::BadHost(raw.to_owned()));
    }
    Ok(match port {
        Some(p) => format!("{scheme}{host}:{p}"),
        None => format!("{scheme}{host}"),
    })
}

/// Splits a comma-separated parameter and checks each domain; empty
/// entries are skipped, repeats kept once.
pub fn parse_list(kind: DomainKind, raw: &str) -> Result<Vec<String>, DomainRefusal> {
    let mut out: Vec<String> = Vec::new();
    for d in raw.split(',').filter(|d| !d.trim().is_empty()) {
        let d = normalize(kind, d)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// The domains of one kind after `action` with `given`.
pub fn apply(
    kind: DomainKind,
    action: DomainAction,
    current: &[String],
    given: &[String],
) -> Result<Vec<String>, DomainRefusal> {
    let next: Vec<String> = match action {
        DomainAction::Get => current.to_vec(),
        DomainAction::Set => given.to_vec(),
        DomainAction::Add => {
            let mut v = current.to_vec();
            v.extend(given.iter().filter(|d| !current.contains(d)).cloned());
            v
        }
        DomainAction::Delete => current
            .iter()
            .filter(|d| !given.contains(d))
            .cloned()
            .collect(),
    };
    if next.len() > MAX_PER_KIND {
        return Err(DomainRefusal::TooMany(kind.param(), next.len()));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_with_https_and_a_name_passes() {
        let k = DomainKind::Request;
        assert_eq!(
            normalize(k, "https://API.Example.com").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(
            normalize(k, "https://a.example.com:8443/").unwrap(),
            "https://a.example.com:8443"
        );
        assert_eq!(
            normalize(k, "https://a.example.com:443").unwrap(),
            "https://a.example.com",
            "the default port is the same origin"
        );
        assert_eq!(
            normalize(DomainKind::Socket, "wss://ws.example.com").unwrap(),
            "wss://ws.example.com"
        );
    }

    #[test]
    fn ips_wildcards_paths_and_plain_http_are_refused() {
        let k = DomainKind::Request;
        for (raw, want) in [
            ("http://example.com", "Scheme"),
            ("https://10.0.0.1", "IpLiteral"),
            ("https://[::1]", "IpLiteral"),
            ("https://127.1", "IpLiteral"),
            ("https://0x7f.0.0.1", "IpLiteral"),
            ("https://127.0.0.0x1", "IpLiteral"),
            ("https://example.123", "IpLiteral"),
            ("https://a.com:+443", "NotAnOrigin"),
            ("https://a.com:", "NotAnOrigin"),
            ("https://a.com:70000", "NotAnOrigin"),
            ("https://*.example.com", "Wildcard"),
            ("https://example.com/path", "NotAnOrigin"),
            ("https://user@example.com", "NotAnOrigin"),
            ("https://example.com:0", "NotAnOrigin"),
            ("https://localhost", "BadHost"),
            ("https://-a.example.com", "BadHost"),
            ("https://a_b.example.com", "BadHost"),
        ] {
            let got = format!("{:?}", normalize(k, raw).unwrap_err());
            assert!(got.starts_with(want), "{raw}: {got}");
        }
        assert!(normalize(DomainKind::Socket, "https://ws.example.com").is_err());
    }

    #[test]
    fn actions_and_the_limit() {
        let k = DomainKind::Request;
        let cur = vec!["https://a.com".to_owned()];
        let b = vec!["https://b.com".to_owned()];
        assert_eq!(apply(k, DomainAction::Add, &cur, &b).unwrap().len(), 2);
        assert_eq!(apply(k, DomainAction::Delete, &cur, &cur).unwrap().len(), 0);
        assert_eq!(apply(k, DomainAction::Set, &cur, &b).unwrap(), b);
        assert_eq!(apply(k, DomainAction::Get, &cur, &b).unwrap(), cur);
        let many: Vec<String> = (0..=MAX_PER_KIND)
            .map(|i| format!("https://d{i}.com"))
            .collect();
        assert!(matches!(
            apply(k, DomainAction::Set, &cur, &many),
            Err(DomainRefusal::TooMany("request_domain", 21))
        ));
        assert_eq!(parse_list(k, "https://a.com, ,https://A.com").unwrap(), cur);
    }
}
