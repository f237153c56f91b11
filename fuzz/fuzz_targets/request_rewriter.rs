//! The tolerant request-line reader: never panics, never loses body bytes
//! of a well-framed request, and leaves no raw byte hyper refuses (space,
//! quote, angle brackets, controls, 0x80 and up) in a request target.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out = smartship_server::lenient_http::rewrite_connection(data);
    // The first head of the output, when complete, has a clean target.
    if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
        let line_end = out[..end].windows(2).position(|w| w == b"\r\n").unwrap_or(end);
        let line = &out[..line_end];
        let first = line.iter().position(|&b| b == b' ');
        let last = line.iter().rposition(|&b| b == b' ');
        if let (Some(f), Some(l)) = (first, last)
            && f < l
            && line[l + 1..].starts_with(b"HTTP/1.")
            && data.starts_with(&line[..f])
        {
            for &b in &line[f + 1..l] {
                assert!(
                    !matches!(b, b' ' | b'"' | b'<' | b'>' | 0..0x20 | 0x7f..),
                    "raw byte {b:#x} in the target of {line:?}"
                );
            }
        }
    }
});
