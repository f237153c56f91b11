//! Tolerant request lines.
//!
//! ISV code copied from the public platform's documentation sends request
//! targets that are not valid URIs: the seed's own upload example puts raw
//! JSON into the query string (`ext_json={"extEnable":true, ...}`), which
//! curl sends with the `"` unescaped, and some HTTP clients send raw spaces.
//! The public gateway accepts these; hyper's strict parser answers 400.
//!
//! [`LenientListener`] wraps each accepted connection in [`LenientStream`],
//! which percent-encodes the offending bytes (`"`, `<`, `>`, space) inside
//! the request target of every request head before hyper parses it. It
//! follows `Content-Length` framing so that bodies are passed through
//! untouched and every request line of a keep-alive connection is seen;
//! after a chunked request body it stops rewriting for the rest of that
//! connection (hyper still parses it, strictly).
//!
//! Bytes that are never valid in a target (controls, DEL, bytes of 0x80 and
//! up) are percent-encoded too, so a raw 0xFF or NUL reaches the parameter
//! decoder, which refuses it naming the parameter. A head hyper would answer
//! with a bare 400, 414 or 431 and an empty body (a request line or head
//! too long, too many header lines, a `Content-Length` that is negative,
//! not a number or given twice with different values, a request line that
//! is no request line) is replaced by a request for [`MALFORMED_PATH`],
//! whose handler answers in the shape of the route the client asked for
//! (`/rest/2.0`: HTTP 200 and errno 40001), and the connection is closed.

use axum::serve::Listener;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head, and request line within it, that is parsed.
pub const MAX_HEAD: usize = 64 * 1024;
pub const MAX_REQUEST_LINE: usize = 16 * 1024;
/// Most header lines in a head (hyper's own limit is 100).
pub const MAX_HEADERS: usize = 96;
/// Where a malformed request head is sent instead (see the module docs).
pub const MALFORMED_PATH: &str = "/__smartship/malformed-request";

/// How long a connection may wait (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// No bytes either way on a connection between requests, or in the
    /// middle of a body: closed.
    pub idle: std::time::Duration,
    /// A request head not complete this long after its first byte: closed
    /// (a slowloris client sending a byte now and then).
    pub header: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            idle: std::time::Duration::from_secs(60),
            header: std::time::Duration::from_secs(10),
        }
    }
}

pub struct LenientListener {
    inner: TcpListener,
    timeouts: Timeouts,
    /// One permit per open connection: when all are taken, no connection
    /// is accepted until one closes (the kernel's backlog holds the rest).
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    max_connections: usize,
}

impl LenientListener {
    pub fn new(inner: TcpListener) -> Self {
        Self::with_limits(inner, Timeouts::default(), 10_000)
    }

    pub fn with_limits(inner: TcpListener, timeouts: Timeouts, max_connections: usize) -> Self {
        LenientListener {
            inner,
            timeouts,
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections)),
            max_connections,
        }
    }
}

impl Listener for LenientListener {
    type Io = LenientStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                tracing::warn!(
                    max_connections = self.max_connections,
                    "connection limit reached: new connections wait until one closes"
                );
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        // axum's accept survives EMFILE and the like by logging and
        // retrying a second later.
        let (io, addr) = Listener::accept(&mut self.inner).await;
        let _ = io.set_nodelay(true);
        let mut stream = LenientStream::new(io);
        stream.timeouts = Some(self.timeouts);
        stream.slot = Some(permit);
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The caller's address, made available to handlers as
/// `ConnectInfo<PeerAddr>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, LenientListener>>
    for PeerAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'a, LenientListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Collecting a request head.
    Head,
    /// Passing `n` body bytes through.
    Body(u64),
    /// No more rewriting on this connection.
    Passthrough,
    /// A malformed head was replaced: everything after it is dropped.
    Discard,
}

pub struct LenientStream<S> {
    inner: S,
    mode: Mode,
    /// None: no timeouts (tests of the rewriting alone).
    timeouts: Option<Timeouts>,
    /// When the connection last moved a byte either way, and when the head
    /// being collected started.
    last_activity: tokio::time::Instant,
    head_started: Option<tokio::time::Instant>,
    /// A request was received and its answer has not begun: the server is
    /// working, so the connection is not idle (a long build of a draft's
    /// blobs must not be cut as a silent client would be).
    answer_pending: bool,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The connection's place under the listener's cap.
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Bytes read from `inner` but not yet classified.
    input: Vec<u8>,
    /// Bytes ready for the reader.
    output: Vec<u8>,
    output_pos: usize,
    eof: bool,
}

impl<S> LenientStream<S> {
    pub fn new(inner: S) -> Self {
        LenientStream {
            inner,
            mode: Mode::Head,
            timeouts: None,
            last_activity: tokio::time::Instant::now(),
            head_started: None,
            answer_pending: false,
            timer: None,
            slot: None,
            input: Vec::new(),
            output: Vec::new(),
            output_pos: 0,
            eof: false,
        }
    }

    /// When the connection is cut if nothing more arrives.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        let t = self.timeouts?;
        let idle = self.last_activity + t.idle;
        match (self.mode, self.head_started) {
            (Mode::Head, Some(started)) => Some(idle.min(started + t.header)),
            // The whole request is in; the answer is the server's to give.
            (Mode::Head, None) if self.answer_pending => None,
            _ => Some(idle),
        }
    }

    /// Polls the deadline; an error once it has passed.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(deadline) = self.deadline() else {
            return Poll::Pending;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let what = if self.mode == Mode::Head && self.head_started.is_some() {
                    "request head not complete in time"
                } else {
                    "connection idle"
                };
                Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, what))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Notes bytes read from the peer.
    fn read_some(&mut self) {
        self.last_activity = tokio::time::Instant::now();
        if self.mode == Mode::Head && self.head_started.is_none() && !self.input.is_empty() {
            self.head_started = Some(self.last_activity);
        }
    }

    /// Moves what can be decided from `input` to `output`.
    fn process(&mut self) {
        loop {
            match self.mode {
                Mode::Passthrough => {
                    self.output.append(&mut self.input);
                    return;
                }
                Mode::Discard => {
                    self.input.clear();
                    return;
                }
                Mode::Body(n) => {
                    let take = (n as usize).min(self.input.len());
                    self.output.extend(self.input.drain(..take));
                    let left = n - take as u64;
                    self.mode = if left == 0 {
                        Mode::Head
                    } else {
                        Mode::Body(left)
                    };
                    if left > 0 || self.input.is_empty() {
                        return;
                    }
                }
                Mode::Head => {
                    // The clock of a head starts with its first byte: bytes
                    // left over from a body or a pipelined request start the
                    // next head now, not when the previous head began.
                    if self.head_started.is_none() && !self.input.is_empty() {
                        self.head_started = Some(tokio::time::Instant::now());
                    }
                    // Blank lines between requests are allowed (RFC 9112 §2.2).
                    let Some(end) = find(&self.input, b"\r\n\r\n") else {
                        if self.input.len() > MAX_HEAD {
                            let shape = shape_of(&self.input);
                            self.output.extend(malformed(shape, "head_too_large"));
                            self.input.clear();
                            self.mode = Mode::Discard;
                            return;
                        }
                        if self.eof {
                            self.mode = Mode::Passthrough;
                            continue;
                        }
                        return;
                    };
                    let head: Vec<u8> = self.input.drain(..end + 4).collect();
                    // This head is complete: a handler that takes long to
                    // answer after its body arrives is bounded by the idle
                    // timeout, never by this head's.
                    self.head_started = None;
                    self.answer_pending = true;
                    let checked = if head.len() > MAX_HEAD {
                        Err("head_too_large")
                    } else {
                        check_head(&head)
                    };
                    let (head, framing) = match checked {
                        Ok(()) => rewrite_head(&head),
                        Err(kind) => (malformed(shape_of(&head), kind), Mode::Discard),
                    };
                    self.output.extend_from_slice(&head);
                    self.mode = framing;
                    if self.input.is_empty() {
                        return;
                    }
                }
            }
        }
    }
}

/// What hyper would read of a connection that sent `input` and closed:
/// the rewriting of every head in it, synchronously (for the fuzz target).
pub fn rewrite_connection(input: &[u8]) -> Vec<u8> {
    let mut s = LenientStream::new(());
    s.input.extend_from_slice(input);
    s.eof = true;
    s.process();
    if !s.input.is_empty() {
        let rest = std::mem::take(&mut s.input);
        s.output.extend(rest);
    }
    s.output
}

/// Runs once per request head on every connection, so a vectorised search
/// rather than a comparison at every offset.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Percent-encodes the bytes hyper refuses in a request target and returns
/// the head plus how the body is framed.
fn rewrite_head(head: &[u8]) -> (Vec<u8>, Mode) {
    let line_end = find(head, b"\r\n").unwrap_or(head.len());
    let line = &head[..line_end];
    let mut out = Vec::with_capacity(head.len() + 16);
    match (
        line.iter().position(|&b| b == b' '),
        line.iter().rposition(|&b| b == b' '),
    ) {
        (Some(first), Some(last)) if first < last && line[last + 1..].starts_with(b"HTTP/") => {
            out.extend_from_slice(&line[..=first]);
            for &b in &line[first + 1..last] {
                match b {
                    b'"' | b'<' | b'>' | b' ' | 0..0x20 | 0x7f.. => {
                        out.extend_from_slice(format!("%{b:02X}").as_bytes())
                    }
                    _ => out.push(b),
                }
            }
            out.extend_from_slice(&line[last..]);
        }
        _ => out.extend_from_slice(line),
    }
    out.extend_from_slice(&head[line_end..]);
    (out, framing(head))
}

/// Which answer shape the route a head asks for has (see `malformed_request`).
fn shape_of(head: &[u8]) -> &'static str {
    let line_end = find(head, b"\r\n").unwrap_or(head.len());
    let line = &head[..line_end];
    let target = line
        .iter()
        .position(|&b| b == b' ')
        .map(|i| &line[i + 1..])
        .unwrap_or_default();
    if target.starts_with(b"/rest/2.0/oauth/token") {
        "oauth"
    } else if target.starts_with(b"/rest/2.0/") || target.starts_with(b"/public/2.0/") {
        "rest"
    } else if target.starts_with(b"/admin/") {
        "admin"
    } else {
        "other"
    }
}

/// Why a complete head cannot be passed to hyper, if it cannot.
fn check_head(head: &[u8]) -> Result<(), &'static str> {
    let line_end = find(head, b"\r\n").unwrap_or(head.len());
    if line_end > MAX_REQUEST_LINE {
        return Err("request_line_too_long");
    }
    let line = &head[..line_end];
    // METHOD SP target SP HTTP/x.y, the method a token.
    let (Some(first), Some(last)) = (
        line.iter().position(|&b| b == b' '),
        line.iter().rposition(|&b| b == b' '),
    ) else {
        return Err("bad_request_line");
    };
    if first == 0
        || first >= last
        || !line[last + 1..].starts_with(b"HTTP/1.")
        || !line[..first].iter().all(|b| b.is_ascii_alphabetic())
    {
        return Err("bad_request_line");
    }
    let mut lengths = Vec::new();
    let mut transfer_encodings = 0;
    let mut count = 0;
    for header in head[line_end..].split(|&b| b == b'\n') {
        let header = header.strip_suffix(b"\r").unwrap_or(header);
        if header.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_HEADERS {
            return Err("too_many_headers");
        }
        let Some(colon) = memchr::memchr(b':', header) else {
            return Err("bad_header");
        };
        let name = &header[..colon];
        // A field name is a token: no space before the colon, no empty name.
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err("bad_header");
        }
        let value = header[colon + 1..].trim_ascii();
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err("bad_header");
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = std::str::from_utf8(value).ok();
            match v.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())) {
                Some(v) if v.parse::<u64>().is_ok() => {
                    lengths.push(v.trim_start_matches('0').to_owned())
                }
                _ => return Err("bad_content_length"),
            }
        }
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Only `chunked`, once: anything else hyper refuses bare.
            transfer_encodings += 1;
            if transfer_encodings > 1 || !value.eq_ignore_ascii_case(b"chunked") {
                return Err("bad_transfer_encoding");
            }
        }
    }
    if lengths.windows(2).any(|w| w[0] != w[1]) {
        return Err("bad_content_length");
    }
    Ok(())
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The head that replaces a malformed one: a request for [`MALFORMED_PATH`]
/// that closes the connection.
fn malformed(shape: &str, kind: &str) -> Vec<u8> {
    format!(
        "GET {MALFORMED_PATH}?shape={shape}&kind={kind} HTTP/1.1\r\nHost: smartship\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// What a malformed head gets, in the shape of the route it asked for:
/// `/rest/2.0` and `/public/2.0` HTTP 200 with errno 40001, `oauth/token`
/// HTTP 200 with `invalid_request`, the operator API its JSON error with
/// 400, anything else a plain 400.
pub async fn malformed_request(
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let kind = q
        .get("kind")
        .map(String::as_str)
        .unwrap_or("bad_request_line");
    let what = match kind {
        "head_too_large" => format!("请求头超过 {MAX_HEAD} 字节"),
        "request_line_too_long" => format!("请求行超过 {MAX_REQUEST_LINE} 字节"),
        "too_many_headers" => format!("请求头超过 {MAX_HEADERS} 行"),
        "bad_content_length" => "Content-Length 无效 (须为一个非负整数)".to_owned(),
        "bad_transfer_encoding" => "Transfer-Encoding 无效 (仅支持 chunked)".to_owned(),
        "bad_header" => "请求头格式无效".to_owned(),
        _ => "请求行格式无效".to_owned(),
    };
    tracing::debug!(kind, "malformed request head answered");
    let json = |v: serde_json::Value| axum::Json(v);
    match q.get("shape").map(String::as_str) {
        Some("rest") => crate::openapi::error::ApiError::param(what).into_response(),
        Some("oauth") => json(serde_json::json!({
            "error": "invalid_request",
            "error_description": what,
        }))
        .into_response(),
        Some("admin") => (
            axum::http::StatusCode::BAD_REQUEST,
            json(serde_json::json!({"error": {"code": "bad_request", "message": what}})),
        )
            .into_response(),
        _ => (axum::http::StatusCode::BAD_REQUEST, what).into_response(),
    }
}

fn framing(head: &[u8]) -> Mode {
    let mut length = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"transfer-encoding") || name.eq_ignore_ascii_case(b"upgrade")
        {
            // Chunked (or anything else unusual): stop rewriting.
            return Mode::Passthrough;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let value = std::str::from_utf8(line[colon + 1..].trim_ascii()).ok();
            match value.and_then(|v| v.parse::<u64>().ok()) {
                Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                _ => return Mode::Passthrough,
            }
        }
    }
    match length {
        Some(0) | None => Mode::Head,
        Some(n) => Mode::Body(n),
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LenientStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.output_pos < this.output.len() {
                let n = (this.output.len() - this.output_pos).min(buf.remaining());
                buf.put_slice(&this.output[this.output_pos..this.output_pos + n]);
                this.output_pos += n;
                if this.output_pos == this.output.len() {
                    this.output.clear();
                    this.output_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            // Large bodies skip the intermediate buffers.
            if let Mode::Body(n) = this.mode
                && this.input.is_empty()
                && n as usize >= buf.remaining()
            {
                let before = buf.filled().len();
                match Pin::new(&mut this.inner).poll_read(cx, buf) {
                    Poll::Pending => return this.poll_timeout(cx).map(Err),
                    Poll::Ready(r) => r?,
                }
                let got = (buf.filled().len() - before) as u64;
                if got == 0 {
                    this.eof = true;
                } else {
                    this.last_activity = tokio::time::Instant::now();
                    let left = n - got;
                    this.mode = if left == 0 {
                        Mode::Head
                    } else {
                        Mode::Body(left)
                    };
                }
                return Poll::Ready(Ok(()));
            }
            if this.mode == Mode::Passthrough && this.input.is_empty() {
                let before = buf.filled().len();
                return match Pin::new(&mut this.inner).poll_read(cx, buf) {
                    Poll::Pending => this.poll_timeout(cx).map(Err),
                    Poll::Ready(r) => {
                        if buf.filled().len() > before {
                            this.last_activity = tokio::time::Instant::now();
                        }
                        Poll::Ready(r)
                    }
                };
            }
            // Discard: bytes are read (so the peer is not blocked) and dropped
            // until hyper, having answered with `Connection: close`, closes.
            let mut chunk = [0u8; 8192];
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return this.poll_timeout(cx).map(Err),
                Poll::Ready(r) => r?,
            }
            if rb.filled().is_empty() {
                this.eof = true;
            } else {
                this.input.extend_from_slice(rb.filled());
                this.read_some();
            }
            this.process();
            if this.eof && this.output.is_empty() && !this.input.is_empty() {
                this.output.append(&mut this.input);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LenientStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // An answer being written is activity: a slow handler's connection
        // is not idle once it speaks, and idle again when it has spoken.
        self.last_activity = tokio::time::Instant::now();
        self.answer_pending = false;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.last_activity = tokio::time::Instant::now();
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn through(input: &[u8]) -> Vec<u8> {
        let mut s = LenientStream::new(input);
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_complete_head_stops_the_head_clock_even_when_its_body_arrives_later() {
        let mut s = LenientStream::new(());
        let t = Timeouts::default();
        s.timeouts = Some(t);
        // Head and the start of the body in one read, the rest later: the
        // request then waits for its answer in head mode, with no new head.
        s.input
            .extend_from_slice(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab");
        s.read_some();
        s.process();
        assert!(s.head_started.is_none());
        s.input.extend_from_slice(b"cde");
        s.read_some();
        s.process();
        assert!(s.mode == Mode::Head);
        assert!(s.head_started.is_none(), "no head has begun");
        assert_eq!(s.deadline(), None, "the answer is being worked on");
        // Once the answer is written, the idle clock runs.
        s.answer_pending = false;
        assert_eq!(s.deadline(), Some(s.last_activity + t.idle));
        // A pipelined head that arrives starts its own clock.
        s.input.extend_from_slice(b"GET /y HT");
        s.read_some();
        s.process();
        let started = s.head_started.expect("the next head has begun");
        assert_eq!(s.deadline(), Some(started + t.header));
    }

    #[tokio::test]
    async fn encodes_quotes_and_spaces_in_the_target_only() {
        let req = "POST /x?ext_json={\"a\":1, \"b\":2}&d=模板 case HTTP/1.1\r\nHost: h\r\nX-Q: \"keep\"\r\n\r\n";
        let out = String::from_utf8(through(req.as_bytes()).await).unwrap();
        assert_eq!(
            out,
            "POST /x?ext_json={%22a%22:1,%20%22b%22:2}&d=%E6%A8%A1%E6%9D%BF%20case HTTP/1.1\r\nHost: h\r\nX-Q: \"keep\"\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn bodies_pass_untouched_and_pipelined_heads_are_rewritten() {
        let req = b"POST /a?q=\" HTTP/1.1\r\nContent-Length: 12\r\n\r\nbody \"x y\"\r\nGET /b?q=\" HTTP/1.1\r\n\r\n";
        let out = through(req).await;
        assert_eq!(
            &out[..],
            &b"POST /a?q=%22 HTTP/1.1\r\nContent-Length: 12\r\n\r\nbody \"x y\"\r\nGET /b?q=%22 HTTP/1.1\r\n\r\n"[..]
        );
    }

    #[tokio::test]
    async fn bytes_never_valid_in_a_target_are_encoded() {
        let out = through(b"GET /x?a=\xff\xfe&b=\x00\x1b HTTP/1.1\r\n\r\n").await;
        assert_eq!(out, b"GET /x?a=%FF%FE&b=%00%1B HTTP/1.1\r\n\r\n".to_vec());
    }

    #[tokio::test]
    async fn malformed_heads_become_a_request_for_the_malformed_route() {
        let cases: [(&[u8], &str, &str); 5] = [
            (b"POST /rest/2.0/smartapp/package/get HTTP/1.1\r\nContent-Length: -5\r\n\r\nbody", "rest", "bad_content_length"),
            (b"POST /rest/2.0/smartapp/package/get HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "rest", "bad_content_length"),
            (b"GET /rest/2.0/oauth/token HTTP/1.1\r\nno colon here\r\n\r\n", "oauth", "bad_header"),
            (b"G\x00T /admin/v1/apps HTTP/1.1\r\n\r\n", "admin", "bad_request_line"),
            (b"GET /x\r\n\r\n", "other", "bad_request_line"),
        ];
        for (req, shape, kind) in cases {
            let out = String::from_utf8(through(req).await).unwrap();
            assert_eq!(
                out,
                format!(
                    "GET {MALFORMED_PATH}?shape={shape}&kind={kind} HTTP/1.1\r\nHost: smartship\r\nConnection: close\r\n\r\n"
                ),
                "{:?}",
                String::from_utf8_lossy(req)
            );
        }
        let long = format!(
            "GET /rest/2.0/smartapp/package/get?q={} HTTP/1.1\r\n\r\n",
            "a".repeat(MAX_REQUEST_LINE)
        );
        assert!(
            String::from_utf8(through(long.as_bytes()).await)
                .unwrap()
                .contains("kind=request_line_too_long")
        );
        let huge = format!(
            "GET /rest/2.0/x HTTP/1.1\r\nX: {}\r\n",
            "a".repeat(MAX_HEAD)
        );
        assert!(
            String::from_utf8(through(huge.as_bytes()).await)
                .unwrap()
                .contains("shape=rest&kind=head_too_large")
        );
        for bad in [
            &b"POST /rest/2.0/x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"[..],
            b"POST /rest/2.0/x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST /rest/2.0/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
            b"GET /rest/2.0/x HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET /rest/2.0/x HTTP/1.1\r\n:x: y\r\n\r\n",
            b"GET /rest/2.0/x HTTP/1.1\r\nX-A: \x00\r\n\r\n",
        ] {
            let out = String::from_utf8(through(bad).await).unwrap();
            assert!(out.starts_with(&format!("GET {MALFORMED_PATH}?shape=rest&kind=")), "{out}");
        }
        let big = format!(
            "GET /rest/2.0/x HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        assert!(
            String::from_utf8(through(big.as_bytes()).await)
                .unwrap()
                .contains("kind=head_too_large")
        );
        let same_twice = b"POST /a HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nab";
        assert_eq!(
            through(same_twice).await,
            same_twice.to_vec(),
            "equal lengths are fine"
        );
    }

    #[tokio::test]
    async fn chunked_and_garbage_pass_through() {
        let req = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\"\" \r\n0\r\n\r\nGET /b?q=\" HTTP/1.1\r\n\r\n";
        assert_eq!(through(req).await, req.to_vec());
        assert_eq!(
            through(b"not http at all").await,
            b"not http at all".to_vec()
        );
    }
}
