//! Text that rides in a CodeBuild environment variable as gzip+base64, so it fits in
//! CodeBuild's 4096 characters per value (`cib_contract::ENV_VALUE_MAX_CHARS`).
//!
//! The output is deterministic (no file name, modification time 0, fixed compression
//! level), so the same text always gives the same value and golden files stay stable.
//! The build decodes it with `base64 -d | gunzip` (coreutils and gzip, both on CodeBuild's
//! curated Amazon Linux images).

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::{Compression, GzBuilder};

/// `text` gzip-compressed (best compression) and base64-encoded (standard alphabet, with
/// padding, on one line).
pub fn gzip_base64(text: &str) -> String {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail; an error here would only mean an allocation failure.
    let compressed = match encoder.write_all(text.as_bytes()) {
        Ok(()) => encoder.finish().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    STANDARD.encode(compressed)
}

/// The length, in characters, of [`gzip_base64`] of `text`.
pub fn gzip_base64_len(text: &str) -> usize {
    gzip_base64(text).len()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use flate2::read::GzDecoder;

    use super::gzip_base64;

    fn decode(value: &str) -> String {
        let bytes = STANDARD.decode(value).expect("base64");
        let mut text = String::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .expect("gzip");
        text
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let text = "#!/bin/bash\necho \"$HOME\"\n".repeat(50);
        let packed = gzip_base64(&text);
        assert_eq!(packed, gzip_base64(&text));
        assert_eq!(decode(&packed), text);
        assert!(packed.len() < text.len());
        assert!(!packed.contains('\n'));
    }

    #[test]
    fn empty_text_round_trips() {
        assert_eq!(decode(&gzip_base64("")), "");
    }
}
