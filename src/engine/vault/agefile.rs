//! Running the age crate on stored or imported bytes: encrypting to a recipient or passphrase and decrypting with the failure sorted into kinds.

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use std::io::{ErrorKind, Read, Write};
use zeroize::Zeroizing;

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END: &str = "-----END AGE ENCRYPTED FILE-----";
const BINARY_MAGIC: &[u8] = b"age-encryption.org/";

/// Why age could not decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AgeFailure {
    /// Not an age file at all.
    NotAge,
    /// An age file that ends early.
    Truncated,
    /// The file is for recipients, not a passphrase (or the reverse).
    WrongKind,
    /// The passphrase or identity does not open it.
    WrongKey,
    /// It asks for more scrypt work than allowed: the work factor (log2 N) it asks for.
    TooMuchWork(u8),
    /// A newer age format.
    UnknownAgeFormat,
    /// Larger than the caller accepts.
    TooLarge,
    /// Anything else: altered or corrupted.
    Damaged,
}

/// Encrypts `plaintext` to one recipient, binary or ASCII-armored.
pub(crate) fn encrypt(recipient: &dyn age::Recipient, plaintext: &[u8], armor: bool) -> Result<Vec<u8>, ()> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient)).map_err(|_| ())?;
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    let format = if armor { Format::AsciiArmor } else { Format::Binary };
    let mut writer =
        encryptor.wrap_output(ArmoredWriter::wrap_output(&mut out, format).map_err(|_| ())?).map_err(|_| ())?;
    writer.write_all(plaintext).map_err(|_| ())?;
    writer.finish().and_then(|armor| armor.finish()).map_err(|_| ())?;
    Ok(out)
}

/// Decrypts an age file (binary or armored) with `identity`, accepting at most `max_len`
/// plaintext bytes. `passphrase_file` says which kind of file is expected.
pub(crate) fn decrypt(
    identity: &dyn age::Identity,
    input: &[u8],
    passphrase_file: bool,
    max_len: usize,
) -> Result<Zeroizing<Vec<u8>>, AgeFailure> {
    let text_start = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    let trimmed = &input[text_start..];
    if trimmed.starts_with(ARMOR_BEGIN.as_bytes()) {
        let end = trimmed.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
        if !trimmed[..end].ends_with(ARMOR_END.as_bytes()) {
            return Err(AgeFailure::Truncated);
        }
    } else if !trimmed.starts_with(BINARY_MAGIC) || text_start != 0 {
        return Err(AgeFailure::NotAge);
    }
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(trimmed)).map_err(classify)?;
    if decryptor.is_scrypt() != passphrase_file {
        return Err(AgeFailure::WrongKind);
    }
    let mut reader = decryptor.decrypt(std::iter::once(identity)).map_err(classify)?;
    // The plaintext is shorter than the age file it comes from, so a buffer of the file's size
    // never grows (growing would leave copies of the plaintext behind).
    let mut out = Zeroizing::new(Vec::with_capacity(input.len().min(max_len) + 1));
    let read = (&mut reader).take(max_len as u64 + 1).read_to_end(&mut out);
    match read {
        Ok(n) if n > max_len => Err(AgeFailure::TooLarge),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(AgeFailure::Truncated),
        Err(_) => Err(AgeFailure::Damaged),
    }
}

fn classify(e: age::DecryptError) -> AgeFailure {
    use age::DecryptError as E;
    match e {
        E::Io(io) if io.kind() == ErrorKind::UnexpectedEof => AgeFailure::Truncated,
        E::DecryptionFailed | E::KeyDecryptionFailed | E::NoMatchingKeys => AgeFailure::WrongKey,
        E::ExcessiveWork { required, .. } => AgeFailure::TooMuchWork(required),
        E::UnknownFormat => AgeFailure::UnknownAgeFormat,
        _ => AgeFailure::Damaged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (age::x25519::Identity, age::x25519::Recipient) {
        let i = age::x25519::Identity::generate();
        let r = i.to_public();
        (i, r)
    }

    #[test]
    fn sorts_failures() {
        let (id, r) = pair();
        let (other, _) = pair();
        let ct = encrypt(&r, b"payload", false).unwrap();
        assert_eq!(decrypt(&id, &ct, false, 100).unwrap().as_slice(), b"payload");
        assert_eq!(decrypt(&id, &ct, false, 3), Err(AgeFailure::TooLarge));
        assert_eq!(decrypt(&other, &ct, false, 100), Err(AgeFailure::WrongKey));
        assert_eq!(decrypt(&id, &ct, true, 100), Err(AgeFailure::WrongKind));
        assert_eq!(decrypt(&id, &ct[..ct.len() - 30], false, 100), Err(AgeFailure::Truncated));
        assert_eq!(decrypt(&id, &ct[..40], false, 100), Err(AgeFailure::Truncated));
        assert_eq!(decrypt(&id, b"{\"hello\": 1}", false, 100), Err(AgeFailure::NotAge));
        let mut flipped = ct.clone();
        let n = flipped.len() - 5;
        flipped[n] ^= 1;
        assert_eq!(decrypt(&id, &flipped, false, 100), Err(AgeFailure::Damaged));

        let armored = encrypt(&r, b"payload", true).unwrap();
        assert!(armored.starts_with(ARMOR_BEGIN.as_bytes()));
        assert_eq!(decrypt(&id, &armored, false, 100).unwrap().as_slice(), b"payload");
        assert_eq!(decrypt(&id, &armored[..armored.len() - 40], false, 100), Err(AgeFailure::Truncated));
    }
}
