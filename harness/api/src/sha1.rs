//! SHA-1 as hex, for the places upstream derives a name from it: a group
//! channel is named by the digest of its sorted member ids, so the same
//! members always find the same channel.

use sha1::{Digest, Sha1};

pub fn hex_digest(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_test_vectors() {
        assert_eq!(hex_digest(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex_digest(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
