//! Text of connection URLs, shared by the backends' URL readers: `%XX` escapes.

/// Why [`percent_decode`] refused a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentDecodeError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

/// Decodes the `%XX` escapes of a URL part; the result must be UTF-8. Anything else (`+`
/// included) stands for itself.
///
/// ```
/// use orm_core::url::{percent_decode, PercentDecodeError};
///
/// assert_eq!(percent_decode("p%40ss%2Fw%C3%B6rd").as_deref(), Ok("p@ss/wörd"));
/// assert_eq!(percent_decode("100%"), Err(PercentDecodeError::BadEscape));
/// assert_eq!(percent_decode("%FF"), Err(PercentDecodeError::NotUtf8));
/// ```
pub fn percent_decode(s: &str) -> Result<String, PercentDecodeError> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(PercentDecodeError::BadEscape)?;
            out.push(byte);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PercentDecodeError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_bad_ones_are_refused() {
        assert_eq!(percent_decode("plain").as_deref(), Ok("plain"));
        assert_eq!(percent_decode("a%20b%2bc+d").as_deref(), Ok("a b+c+d"));
        assert_eq!(percent_decode("%e2%82%ac").as_deref(), Ok("€"));
        for bad in ["%", "%2", "%zz", "a%2", "%%41"] {
            assert_eq!(percent_decode(bad), Err(PercentDecodeError::BadEscape), "{bad}");
        }
        // A lone continuation byte, and half of a two-byte sequence.
        assert_eq!(percent_decode("%80"), Err(PercentDecodeError::NotUtf8));
        assert_eq!(percent_decode("%C3"), Err(PercentDecodeError::NotUtf8));
    }
}
