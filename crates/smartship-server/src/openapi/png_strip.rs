//! A PNG's chunks, kept to what a still image needs before anything decodes
//! it. Ancillary chunks may carry zlib streams (`iCCP`, `zTXt`, `iTXt`) that
//! inflate without a bound the decoder's pixel limits see: a 2 MB file with
//! an `iCCP` profile of 1,000 MB took the server past 1 GB. Only the
//! critical chunks and the small fixed-size ancillary ones are kept, the
//! result is what is decoded and stored, and the decoder's limits then bound
//! everything that remains (pixels are limited by the image's sides).

/// The ancillary chunks kept, each of a small fixed size by the PNG
/// specification (transparency, gamma, chromaticities, sRGB intent,
/// significant bits, background, physical size).
const KEPT_ANCILLARY: [&[u8; 4]; 7] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs",
];
/// Longest kept ancillary chunk (`tRNS` of a 256-entry palette).
const MAX_ANCILLARY_LEN: usize = 256;
const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Why a PNG's chunk structure was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    NotPng,
    Truncated,
    NoEnd,
}

/// The PNG in `bytes` with only the chunks an image needs, in their order,
/// ending at `IEND` (anything after it is dropped). The chunks' CRCs are
/// copied, not checked: the decoder checks them.
pub fn strip(bytes: &[u8]) -> Result<Vec<u8>, ChunkError> {
    let rest = bytes.strip_prefix(SIGNATURE).ok_or(ChunkError::NotPng)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut at = 0usize;
    loop {
        let header = rest.get(at..at + 8).ok_or(ChunkError::Truncated)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(len))
            .ok_or(ChunkError::Truncated)?;
        let chunk = rest.get(at..end).ok_or(ChunkError::Truncated)?;
        // Bit 5 of the first byte: lower case is ancillary.
        let critical = kind[0] & 0x20 == 0;
        let kept = critical || (KEPT_ANCILLARY.contains(&&kind) && len <= MAX_ANCILLARY_LEN);
        if kept {
            out.extend_from_slice(chunk);
        }
        if &kind == b"IEND" {
            return Ok(out);
        }
        at = end;
        if at >= rest.len() {
            return Err(ChunkError::NoEnd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    }

    #[test]
    fn keeps_critical_and_small_fixed_chunks_drops_compressed_ones() {
        let mut png = SIGNATURE.to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"iCCP", b"profile\0\0zzzz"));
        png.extend(chunk(b"gAMA", &[0, 0, 0, 1]));
        png.extend(chunk(b"zTXt", b"k\0\0zz"));
        png.extend(chunk(b"iTXt", b"k\0\0\0\0\0zz"));
        png.extend(chunk(b"tEXt", b"k\0v"));
        png.extend(chunk(b"IDAT", b"pixels"));
        png.extend(chunk(b"IEND", b""));
        png.extend_from_slice(b"trailing");
        let out = strip(&png).unwrap();
        let mut want = SIGNATURE.to_vec();
        want.extend(chunk(b"IHDR", &[0; 13]));
        want.extend(chunk(b"gAMA", &[0, 0, 0, 1]));
        want.extend(chunk(b"IDAT", b"pixels"));
        want.extend(chunk(b"IEND", b""));
        assert_eq!(out, want);
    }

    #[test]
    fn refuses_broken_structure() {
        assert_eq!(strip(b"GIF89a"), Err(ChunkError::NotPng));
        let mut png = SIGNATURE.to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        assert_eq!(strip(&png), Err(ChunkError::NoEnd));
        // A length past the end of the file.
        let mut png = SIGNATURE.to_vec();
        png.extend_from_slice(&u32::MAX.to_be_bytes());
        png.extend_from_slice(b"IDAT");
        assert_eq!(strip(&png), Err(ChunkError::Truncated));
        // An oversized tRNS is dropped, not copied.
        let mut png = SIGNATURE.to_vec();
        png.extend(chunk(b"tRNS", &[0; 1000]));
        png.extend(chunk(b"IEND", b""));
        assert_eq!(strip(&png).unwrap().len(), 8 + 12);
    }
}
