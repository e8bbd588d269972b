//! Thin wrappers over the vetted primitives the vault uses: randomness, base64, HKDF-SHA256 subkeys, XChaCha20-Poly1305, HMAC-SHA256 and SHA-256 checksums.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// Nonce length of XChaCha20-Poly1305.
pub const NONCE_LEN: usize = 24;
/// Tag length of XChaCha20-Poly1305.
pub const TAG_LEN: usize = 16;
/// Length of an HMAC-SHA256 tag.
pub const MAC_LEN: usize = 32;

/// The operating system's random number generator failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomFailed;

impl fmt::Display for RandomFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the system's random number generator failed")
    }
}

/// `N` bytes from the operating system's generator.
pub fn random<const N: usize>() -> Result<[u8; N], RandomFailed> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| RandomFailed)?;
    Ok(out)
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Strict base64 (padded, standard alphabet); `None` on anything else.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Strict base64 of exactly `N` bytes.
pub fn unb64_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    unb64(text)?.as_slice().try_into().ok()
}

/// A 32-byte subkey of `ikm` for one purpose, named by `info` (HKDF-SHA256, no salt: every
/// input key here is already uniformly random or the output of Argon2).
pub fn subkey(ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, ikm).expand(info, out.as_mut()).expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

/// XChaCha20-Poly1305 with a fresh random nonce. Returns (nonce, ciphertext with tag).
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>), RandomFailed> {
    let nonce = random::<NONCE_LEN>()?;
    let cipher = XChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key");
    let ct = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad })
        .expect("XChaCha20-Poly1305 encrypts any message this small");
    Ok((nonce, ct))
}

/// Opens what [`seal`] made; `None` when the tag does not verify (wrong key, altered data or
/// associated data).
pub fn open(key: &[u8; 32], nonce: &[u8; NONCE_LEN], aad: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key");
    cipher.decrypt(&XNonce::from(*nonce), Payload { msg: ciphertext, aad }).ok().map(Zeroizing::new)
}

/// HMAC-SHA256 over `parts`, each preceded by its length (8 bytes, big-endian) so that no two
/// different lists of parts feed the MAC the same bytes.
fn mac_state(key: &[u8; 32], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac
}

pub fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; MAC_LEN] {
    mac_state(key, parts).finalize().into_bytes().into()
}

/// Constant-time check of a tag made by [`mac`].
pub fn mac_verify(key: &[u8; 32], parts: &[&[u8]], tag: &[u8]) -> bool {
    mac_state(key, parts).verify_slice(tag).is_ok()
}

/// SHA-256 over `parts`, framed like [`mac`]. A checksum against damage, not against anyone who
/// can write storage (they can recompute it).
pub fn digest(parts: &[&[u8]]) -> [u8; MAC_LEN] {
    let mut hash = Sha256::new();
    for p in parts {
        hash.update((p.len() as u64).to_be_bytes());
        hash.update(p);
    }
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aead_rejects_other_associated_data_and_flipped_bytes() {
        let key = [1u8; 32];
        let (nonce, mut ct) = seal(&key, b"purpose-a", b"hello").unwrap();
        assert_eq!(open(&key, &nonce, b"purpose-a", &ct).unwrap().as_slice(), b"hello");
        assert!(open(&key, &nonce, b"purpose-b", &ct).is_none());
        ct[0] ^= 1;
        assert!(open(&key, &nonce, b"purpose-a", &ct).is_none());
    }

    #[test]
    fn mac_framing_separates_parts() {
        let key = [2u8; 32];
        let t = mac(&key, &[b"ab", b"c"]);
        assert!(mac_verify(&key, &[b"ab", b"c"], &t));
        assert!(!mac_verify(&key, &[b"a", b"bc"], &t));
        assert!(!mac_verify(&[3u8; 32], &[b"ab", b"c"], &t));
    }

    #[test]
    fn digest_framing_separates_parts() {
        assert_eq!(digest(&[b"ab", b"c"]), digest(&[b"ab", b"c"]));
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }

    #[test]
    fn subkeys_differ_by_purpose() {
        assert_ne!(*subkey(&[9; 32], b"one"), *subkey(&[9; 32], b"two"));
    }
}
