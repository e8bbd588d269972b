//! The vault header item and its copy: setting the vault up, unlocking it (throttled), resuming a session, verifying the passphrase again and re-wrapping the vault key under stronger Argon2 parameters.

use crate::engine::secret::SecretString;
use crate::engine::vault::capture::{self, PrivateChanges};
use crate::engine::vault::crypto::{self, b64, unb64, unb64_array, RandomFailed, MAC_LEN, NONCE_LEN, TAG_LEN};
use crate::engine::vault::entry::index_changes;
use crate::engine::vault::kdf::{self, KdfParams};
use crate::engine::vault::rotation::Record;
use crate::engine::vault::secrets::{AgeIdentity, Passphrase, VaultKey, VAULT_KEY_LEN};
use crate::engine::vault::store::{Changeset, MemoryStore, Store};
use crate::engine::vault::throttle::{Throttle, THROTTLE_KEY};
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use zeroize::Zeroizing;

/// Storage key of the header.
pub const HEADER_KEY: &str = "vault";
/// Storage key of the header's second copy, always written together with the first.
pub const HEADER_COPY_KEY: &str = "vault:header-copy";
/// The header's `format` field.
pub const HEADER_FORMAT: &str = "keywarden-vault";
/// Header format version this code writes: version 1 plus a `checksum`.
pub const HEADER_VERSION: u32 = 2;
/// The older header version this code still reads (no checksum, no copy); the first unlock
/// rewrites it as version 2.
pub const LEGACY_HEADER_VERSION: u32 = 1;
/// Fewest characters a new passphrase may have (vault and backups). How strong it is, beyond
/// that, the options page estimates.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

const SALT_LEN: usize = 16;
const KDF_ALG: &str = "argon2id";
const ARGON2_VERSION: u32 = 0x13;
pub(crate) const AEAD_ALG: &str = "xchacha20poly1305";

// Domain separation: every derived key and every piece of associated data names the format,
// its version and its purpose.
const KEK_INFO: &[u8] = b"keywarden-vault/1/key-encryption-key";
const CHECK_INFO: &[u8] = b"keywarden-vault/1/passphrase-check-key";
const CHECK_LABEL: &[u8] = b"keywarden-vault/1/passphrase-check";
const WRAP_AAD: &[u8] = b"keywarden-vault/1/wrapped-vault-key";
const IDENTITY_INFO: &[u8] = b"keywarden-vault/1/identity-key";
const IDENTITY_AAD: &[u8] = b"keywarden-vault/1/identity";
const ENTRY_MAC_INFO: &[u8] = b"keywarden-vault/1/entry-mac-key";
const INDEX_MAC_INFO: &[u8] = b"keywarden-vault/1/index-mac-key";
const CAPTURE_INFO: &[u8] = b"keywarden-vault/1/capture-key";
const SUMMARY_INFO: &[u8] = b"keywarden-vault/1/summary-key";
const CHECKSUM_LABEL: &[u8] = b"keywarden-vault/header-checksum";

/// The stored header (version 2), under both [`HEADER_KEY`] and [`HEADER_COPY_KEY`]:
///
/// ```json
/// { "format": "keywarden-vault", "version": 2, "created_at": 1767225600000,
///   "kdf": { "alg": "argon2id", "version": 19, "m_cost_kib": 65536, "t_cost": 3, "p_cost": 1,
///            "salt": "<16 bytes, base64>" },
///   "check": "<32 bytes, base64>",
///   "wrapped_key": { "alg": "xchacha20poly1305", "nonce": "<24 bytes>", "ciphertext": "<48 bytes>" },
///   "recipient": "age1…",
///   "identity": { "alg": "xchacha20poly1305", "nonce": "<24 bytes>", "ciphertext": "<…>" },
///   "checksum": "<32 bytes, base64>" }
/// ```
///
/// Argon2id(passphrase, salt) gives 32 bytes; HKDF-SHA256 turns them into the key-encryption key
/// and a separate check key. `check` is HMAC-SHA256 of a fixed label under the check key: it
/// tells a wrong passphrase from damaged data without weakening anything (testing a guess
/// against it costs the same Argon2 run as testing it against the wrapped key). `wrapped_key` is
/// the vault key sealed under the key-encryption key. `identity` is the age identity's text
/// sealed under a subkey of the vault key, with the recipient in its associated data, so a
/// swapped recipient is caught at unlock. `checksum` is SHA-256 over every other field (see
/// [`checksum`]): a flipped byte anywhere is damage, found before any Argon2 run, so it is never
/// taken for a wrong passphrase. Version 1 is the same without `checksum`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderJson {
    format: String,
    version: u32,
    created_at: u64,
    kdf: KdfJson,
    check: String,
    wrapped_key: SealedJson,
    recipient: String,
    identity: SealedJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfJson {
    alg: String,
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

/// Something sealed with XChaCha20-Poly1305: `{ "alg", "nonce", "ciphertext" }`, base64.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SealedJson {
    alg: String,
    nonce: String,
    ciphertext: String,
}

impl SealedJson {
    pub(crate) fn new(nonce: &[u8], ciphertext: &[u8]) -> Self {
        SealedJson { alg: AEAD_ALG.into(), nonce: b64(nonce), ciphertext: b64(ciphertext) }
    }

    pub(crate) fn parse(&self, what: &'static str) -> Result<([u8; NONCE_LEN], Vec<u8>), HeaderProblem> {
        if self.alg != AEAD_ALG {
            return Err(HeaderProblem::Malformed(what));
        }
        let nonce = unb64_array(&self.nonce).ok_or(HeaderProblem::Malformed(what))?;
        let ct = unb64(&self.ciphertext).filter(|c| c.len() > TAG_LEN).ok_or(HeaderProblem::Malformed(what))?;
        Ok((nonce, ct))
    }
}

/// The header checksum: SHA-256 over the length-prefixed parts `"keywarden-vault/header-checksum"`,
/// version (4 bytes, big-endian), `created_at` (8 bytes), then the KDF's `alg`, `version`,
/// `m_cost_kib`, `t_cost`, `p_cost` (4 bytes each) and `salt`, then `check`, `wrapped_key`'s
/// `alg`, `nonce`, `ciphertext`, `recipient`, and `identity`'s `alg`, `nonce`, `ciphertext`.
/// Text fields enter as their stored UTF-8 text (base64 as written, not decoded).
fn checksum(json: &HeaderJson) -> [u8; MAC_LEN] {
    let k = &json.kdf;
    let (version, created) = (json.version.to_be_bytes(), json.created_at.to_be_bytes());
    let (kv, m, t, p) =
        (k.version.to_be_bytes(), k.m_cost_kib.to_be_bytes(), k.t_cost.to_be_bytes(), k.p_cost.to_be_bytes());
    crypto::digest(&[
        CHECKSUM_LABEL,
        &version,
        &created,
        k.alg.as_bytes(),
        &kv,
        &m,
        &t,
        &p,
        k.salt.as_bytes(),
        json.check.as_bytes(),
        json.wrapped_key.alg.as_bytes(),
        json.wrapped_key.nonce.as_bytes(),
        json.wrapped_key.ciphertext.as_bytes(),
        json.recipient.as_bytes(),
        json.identity.alg.as_bytes(),
        json.identity.nonce.as_bytes(),
        json.identity.ciphertext.as_bytes(),
    ])
}

/// The header as written now: version 2 with its checksum.
fn stored_value(mut json: HeaderJson) -> Value {
    json.version = HEADER_VERSION;
    json.checksum = None;
    json.checksum = Some(b64(&checksum(&json)));
    serde_json::to_value(&json).expect("plain JSON")
}

/// What is wrong with the stored header, when something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// No vault has been set up.
    Missing,
    /// Written by a newer keywarden: this version is unknown.
    UnknownVersion(u64),
    /// Not a header this code understands, or damaged; names the part that is wrong.
    Malformed(&'static str),
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderProblem::Missing => f.write_str("no vault has been set up"),
            HeaderProblem::UnknownVersion(v) => {
                write!(f, "the vault uses format version {v}, which this version of keywarden does not know")
            }
            HeaderProblem::Malformed(what) => write!(f, "the vault header is damaged ({what})"),
        }
    }
}

impl HeaderProblem {
    /// The problem in the admin's words, to go inside another sentence.
    pub fn words(&self) -> Words {
        match self {
            HeaderProblem::Missing => words!("errHeaderMissing"),
            HeaderProblem::UnknownVersion(v) => words!("errHeaderNewerVersion", *v),
            HeaderProblem::Malformed(what) => words!("errHeaderDamaged", *what),
        }
    }
}

impl std::error::Error for HeaderProblem {}

/// The header, parsed and checked for shape and checksum (nothing decrypted).
pub(crate) struct Header {
    json: HeaderJson,
    params: KdfParams,
    salt: [u8; SALT_LEN],
    check: [u8; MAC_LEN],
    wrapped: ([u8; NONCE_LEN], Vec<u8>),
    identity: ([u8; NONCE_LEN], Vec<u8>),
    recipient: age::x25519::Recipient,
}

impl Header {
    /// The header in effect: the first copy, or the second when the first is missing or damaged.
    pub(crate) fn load(store: &impl Store) -> Result<Header, HeaderProblem> {
        Header::load_repairing(store).map(|(h, _)| h)
    }

    /// [`Header::load`], plus the writes that bring both copies back to the header in effect
    /// (as version 2): empty when both are fine.
    pub(crate) fn load_repairing(store: &impl Store) -> Result<(Header, Changeset), HeaderProblem> {
        let (first, second) = (store.get(HEADER_KEY), store.get(HEADER_COPY_KEY));
        let same = first.is_some() && first == second;
        let primary = first.map(Header::parse);
        let copy = second.map(Header::parse);
        let header = match (primary, copy) {
            (None, None) => return Err(HeaderProblem::Missing),
            // A newer keywarden wrote it: say so rather than fall back to an older copy.
            (Some(Err(HeaderProblem::UnknownVersion(v))), _) => return Err(HeaderProblem::UnknownVersion(v)),
            (Some(Ok(h)), _) => h,
            (_, Some(Ok(c))) => c,
            (_, Some(Err(HeaderProblem::UnknownVersion(v)))) => return Err(HeaderProblem::UnknownVersion(v)),
            (Some(Err(e)), None) | (None, Some(Err(e))) => return Err(e),
            // Two identical copies share one reason, which says more.
            (Some(Err(e)), Some(Err(_))) if same => return Err(e),
            (Some(Err(_)), Some(Err(_))) => {
                return Err(HeaderProblem::Malformed("both copies of the header are damaged"));
            }
        };
        let wanted = header.stored_value();
        let mut repair = Changeset::default();
        for key in [HEADER_KEY, HEADER_COPY_KEY] {
            if store.get(key).as_ref() != Some(&wanted) {
                repair.put(key, wanted.clone());
            }
        }
        Ok((header, repair))
    }

    pub(crate) fn parse(item: Value) -> Result<Header, HeaderProblem> {
        // Format and version first, so a newer header says "newer" rather than "damaged".
        if item.get("format").and_then(Value::as_str) != Some(HEADER_FORMAT) {
            return Err(HeaderProblem::Malformed("not a keywarden vault header"));
        }
        let version = match item.get("version").and_then(Value::as_u64) {
            Some(v) if v == HEADER_VERSION as u64 || v == LEGACY_HEADER_VERSION as u64 => v as u32,
            Some(v) if v > HEADER_VERSION as u64 => return Err(HeaderProblem::UnknownVersion(v)),
            Some(_) => return Err(HeaderProblem::Malformed("unknown version")),
            None => return Err(HeaderProblem::Malformed("its version is missing")),
        };
        let json: HeaderJson =
            serde_json::from_value(item).map_err(|_| HeaderProblem::Malformed("fields are missing or unexpected"))?;
        match (&json.checksum, version) {
            (None, LEGACY_HEADER_VERSION) => {}
            (Some(sum), HEADER_VERSION) => {
                if unb64(sum).as_deref() != Some(checksum(&json).as_slice()) {
                    return Err(HeaderProblem::Malformed("its checksum does not match"));
                }
            }
            (None, _) => return Err(HeaderProblem::Malformed("its checksum is missing")),
            (Some(_), _) => return Err(HeaderProblem::Malformed("fields are missing or unexpected")),
        }
        let k = &json.kdf;
        if k.alg != KDF_ALG || k.version != ARGON2_VERSION {
            return Err(HeaderProblem::Malformed("unknown key-derivation algorithm"));
        }
        let params = KdfParams::from_stored(k.m_cost_kib, k.t_cost, k.p_cost)
            .ok_or(HeaderProblem::Malformed("Argon2 parameters out of bounds"))?;
        let salt = unb64_array(&k.salt).ok_or(HeaderProblem::Malformed("bad salt"))?;
        let check = unb64_array(&json.check).ok_or(HeaderProblem::Malformed("bad passphrase check"))?;
        let wrapped = json.wrapped_key.parse("bad wrapped key")?;
        if wrapped.1.len() != VAULT_KEY_LEN + TAG_LEN {
            return Err(HeaderProblem::Malformed("bad wrapped key"));
        }
        let identity = json.identity.parse("bad encrypted identity")?;
        let recipient = json.recipient.parse().map_err(|_| HeaderProblem::Malformed("bad recipient"))?;
        Ok(Header { params, salt, check, wrapped, identity, recipient, json })
    }

    /// The recipient captures are sealed to while the vault is locked. Unauthenticated until the
    /// next unlock (see the module docs).
    pub(crate) fn recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }

    pub(crate) fn recipient_text(&self) -> &str {
        &self.json.recipient
    }

    pub(crate) fn params(&self) -> KdfParams {
        self.params
    }

    pub(crate) fn created_at(&self) -> u64 {
        self.json.created_at
    }

    /// This header as it is written now (version 2, with its checksum).
    pub(crate) fn stored_value(&self) -> Value {
        stored_value(self.json.clone())
    }

    /// The vault key, when `passphrase` is the right one (`None` when it is not).
    pub(crate) fn try_passphrase(&self, passphrase: &Passphrase) -> Result<Option<VaultKey>, UnlockError> {
        let keys = passphrase_keys(passphrase, &self.salt, &self.params).map_err(|_| UnlockError::Kdf)?;
        if !crypto::mac_verify(&keys.check_key, &[CHECK_LABEL], &self.check) {
            return Ok(None);
        }
        let raw = crypto::open(&keys.kek, &self.wrapped.0, WRAP_AAD, &self.wrapped.1)
            .ok_or(UnlockError::Damaged("the wrapped vault key failed authentication"))?;
        VaultKey::from_slice(&raw).map(Some).ok_or(UnlockError::Damaged("the wrapped vault key has the wrong size"))
    }

    /// The keys this header describes, given its vault key.
    pub(crate) fn open_with_key(&self, key: VaultKey) -> Result<KeySet, UnlockError> {
        let identity_key = crypto::subkey(key.bytes(), IDENTITY_INFO);
        let aad = identity_aad(&self.json.recipient);
        let text = crypto::open(&identity_key, &self.identity.0, &aad, &self.identity.1)
            .ok_or(UnlockError::Damaged("the vault identity or its public recipient was altered"))?;
        let identity = std::str::from_utf8(&text)
            .ok()
            .and_then(AgeIdentity::parse)
            .ok_or(UnlockError::Damaged("the vault identity does not parse"))?;
        if identity.recipient().to_string() != self.json.recipient {
            return Err(UnlockError::Damaged("the vault identity or its public recipient was altered"));
        }
        Ok(KeySet::new(key, identity))
    }
}

fn identity_aad(recipient: &str) -> Vec<u8> {
    let mut aad = IDENTITY_AAD.to_vec();
    aad.push(0);
    aad.extend_from_slice(recipient.as_bytes());
    aad
}

/// Passphrase-derived keys: the key-encryption key and the check tag.
struct PassphraseKeys {
    kek: Zeroizing<[u8; 32]>,
    check_key: Zeroizing<[u8; 32]>,
}

fn passphrase_keys(passphrase: &Passphrase, salt: &[u8], params: &KdfParams) -> Result<PassphraseKeys, kdf::KdfFailed> {
    let master = kdf::derive(passphrase, salt, params)?;
    Ok(PassphraseKeys {
        kek: crypto::subkey(master.as_ref(), KEK_INFO),
        check_key: crypto::subkey(master.as_ref(), CHECK_INFO),
    })
}

/// Why a header could not be made.
pub(crate) enum WrapFailed {
    Random,
    Kdf,
}

/// The parts of the header that depend on the passphrase: KDF section, check and wrapped key.
fn wrap(
    passphrase: &Passphrase,
    params: KdfParams,
    key: &VaultKey,
) -> Result<(KdfJson, String, SealedJson), WrapFailed> {
    let salt = crypto::random::<SALT_LEN>().map_err(|_| WrapFailed::Random)?;
    let keys = passphrase_keys(passphrase, &salt, &params).map_err(|_| WrapFailed::Kdf)?;
    let check = crypto::mac(&keys.check_key, &[CHECK_LABEL]);
    let (nonce, ct) = crypto::seal(&keys.kek, WRAP_AAD, key.bytes()).map_err(|_| WrapFailed::Random)?;
    let kdf = KdfJson {
        alg: KDF_ALG.into(),
        version: ARGON2_VERSION,
        m_cost_kib: params.m_cost_kib(),
        t_cost: params.t_cost(),
        p_cost: params.p_cost(),
        salt: b64(&salt),
    };
    Ok((kdf, b64(&check), SealedJson::new(&nonce, &ct)))
}

/// A complete new header (version 2) for `keys` under `passphrase`.
pub(crate) fn new_header(
    passphrase: &Passphrase,
    params: KdfParams,
    keys: &KeySet,
    created_at: u64,
) -> Result<Value, WrapFailed> {
    let (kdf, check, wrapped_key) = wrap(passphrase, params, &keys.key)?;
    let identity_key = crypto::subkey(keys.key.bytes(), IDENTITY_INFO);
    let (nonce, ct) =
        crypto::seal(&identity_key, &identity_aad(&keys.recipient_text), keys.identity.to_text().as_bytes())
            .map_err(|_| WrapFailed::Random)?;
    Ok(stored_value(HeaderJson {
        format: HEADER_FORMAT.into(),
        version: HEADER_VERSION,
        created_at,
        kdf,
        check,
        wrapped_key,
        recipient: keys.recipient_text.clone(),
        identity: SealedJson::new(&nonce, &ct),
        checksum: None,
    }))
}

/// The writes that put `header` (a stored value) under both header keys.
pub(crate) fn header_changes(header: &Value) -> Changeset {
    let mut c = Changeset::default();
    c.put(HEADER_KEY, header.clone());
    c.put(HEADER_COPY_KEY, header.clone());
    c
}

/// One generation of the vault's keys: the vault key, its age identity and everything derived
/// from them. Every key in it is zeroized on drop.
pub(crate) struct KeySet {
    key: VaultKey,
    identity: AgeIdentity,
    recipient: age::x25519::Recipient,
    recipient_text: String,
    entry_mac_key: Zeroizing<[u8; 32]>,
    index_mac_key: Zeroizing<[u8; 32]>,
    capture_key: Zeroizing<[u8; 32]>,
    summary_key: Zeroizing<[u8; 32]>,
}

impl KeySet {
    fn new(key: VaultKey, identity: AgeIdentity) -> Self {
        let recipient = identity.recipient();
        KeySet {
            entry_mac_key: crypto::subkey(key.bytes(), ENTRY_MAC_INFO),
            index_mac_key: crypto::subkey(key.bytes(), INDEX_MAC_INFO),
            capture_key: crypto::subkey(key.bytes(), CAPTURE_INFO),
            summary_key: crypto::subkey(key.bytes(), SUMMARY_INFO),
            recipient_text: recipient.to_string(),
            recipient,
            key,
            identity,
        }
    }

    /// A new random vault key and a new age identity.
    pub(crate) fn generate() -> Result<Self, RandomFailed> {
        Ok(KeySet::new(VaultKey::generate()?, AgeIdentity::generate()))
    }

    pub(crate) fn duplicate(&self) -> Self {
        KeySet::new(self.key.duplicate(), self.identity.duplicate())
    }

    pub(crate) fn key(&self) -> &VaultKey {
        &self.key
    }

    pub(crate) fn identity(&self) -> &AgeIdentity {
        &self.identity
    }

    pub(crate) fn recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }

    pub(crate) fn recipient_text(&self) -> &str {
        &self.recipient_text
    }

    /// The key the entry summaries are sealed under ([`summaries`](crate::engine::vault::summaries)).
    pub(crate) fn summary_key(&self) -> &[u8; 32] {
        &self.summary_key
    }

    pub(crate) fn entry_mac_key(&self) -> &[u8; 32] {
        &self.entry_mac_key
    }

    pub(crate) fn index_mac_key(&self) -> &[u8; 32] {
        &self.index_mac_key
    }

    pub(crate) fn capture_key(&self) -> &[u8; 32] {
        &self.capture_key
    }
}

/// An open vault: the vault key, the age identity and the keys derived from them. Holding one is
/// being unlocked; dropping it locks (every key in it is zeroized).
///
/// While a passphrase change is only partly written ([`rotation`](crate::engine::vault::rotation)),
/// it also holds the previous generation of keys, so every item opens whichever generation it
/// is under; everything it writes is under the new one.
pub struct UnlockedVault {
    current: KeySet,
    previous: Option<KeySet>,
}

impl fmt::Debug for UnlockedVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnlockedVault")
            .field("recipient", &self.current.recipient_text)
            .field("rotating", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl UnlockedVault {
    pub(crate) fn from_keys(current: KeySet, previous: Option<KeySet>) -> Self {
        UnlockedVault { current, previous }
    }

    /// The vault's public `age1…` recipient.
    pub fn recipient(&self) -> String {
        self.current.recipient_text.clone()
    }

    /// Whether this vault also holds the keys from before a passphrase change (one found half
    /// written at unlock or resume, or one this vault made), so it opens items under either; see
    /// [`UnlockedVault::finish_rotation`].
    pub fn rotation_pending(&self) -> bool {
        self.previous.is_some()
    }

    /// The vault key as text for `storage.session` (trusted extension contexts only), so the
    /// unlocked state survives a worker restart; [`resume`] turns it back into a vault. It is
    /// the key to every entry: it must never reach local storage, a page or a log.
    pub fn session_key(&self) -> SecretString {
        self.current.key.to_text()
    }

    /// The write that puts this vault's capture key into the private store (the extension
    /// origin's own storage, never `storage.local`), or nothing when it is there already. The
    /// glue applies it after every unlock and resume, so a cleared private store heals.
    pub fn restore_capture_key(&self, private: &impl Store) -> PrivateChanges {
        capture::changes(private, self.current.capture_key(), &self.current.recipient_text)
    }

    pub(crate) fn current(&self) -> &KeySet {
        &self.current
    }

    pub(crate) fn previous(&self) -> Option<&KeySet> {
        self.previous.as_ref()
    }

    /// Current keys first, then the previous ones while a rotation is pending.
    pub(crate) fn keysets(&self) -> impl Iterator<Item = &KeySet> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }

    /// Re-wraps the vault key under the same passphrase with new Argon2 `params` (a fresh
    /// salt), for a vault whose stored parameters are below the production floor
    /// ([`UnlockAttempt::upgrade_needed`]). `passphrase` is checked first (one Argon2 run with
    /// the old parameters), so a mistyped one cannot lock the admin out. Entries are untouched.
    pub fn rewrap(
        &self,
        store: &impl Store,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<Changeset, RewrapError> {
        if !params.is_production_strength() {
            return Err(RewrapError::TooWeak);
        }
        let header = Header::load(store).map_err(RewrapError::Header)?;
        if Record::load_for(store, &header).is_some() {
            return Err(RewrapError::RotationPending);
        }
        if header.recipient_text() != self.current.recipient_text {
            return Err(RewrapError::NotThisVault);
        }
        let key = match header.try_passphrase(passphrase) {
            Ok(Some(key)) => key,
            Ok(None) => return Err(RewrapError::WrongPassphrase),
            Err(UnlockError::Kdf) => return Err(RewrapError::Kdf),
            Err(_) => return Err(RewrapError::NotThisVault),
        };
        let keys = header.open_with_key(key).map_err(|_| RewrapError::NotThisVault)?;
        let (kdf, check, wrapped_key) = wrap(passphrase, params, &keys.key).map_err(|e| match e {
            WrapFailed::Random => RewrapError::Random,
            WrapFailed::Kdf => RewrapError::Kdf,
        })?;
        let json = HeaderJson { kdf, check, wrapped_key, ..header.json };
        Ok(header_changes(&stored_value(json)))
    }
}

/// Whether a vault header exists (it may still be damaged or newer).
pub fn is_set_up(store: &impl Store) -> bool {
    store.get(HEADER_KEY).is_some() || store.get(HEADER_COPY_KEY).is_some()
}

/// The vault's public `age1…` recipient as stored, readable while locked.
pub fn stored_recipient(store: &impl Store) -> Result<String, HeaderProblem> {
    Header::load(store).map(|h| h.json.recipient)
}

/// The stored Argon2 parameters (to show them, or to decide whether to re-calibrate).
pub fn stored_params(store: &impl Store) -> Result<KdfParams, HeaderProblem> {
    Header::load(store).map(|h| h.params())
}

/// A new vault, unlocked, and the items to write: `changes` for `storage.local` (both header
/// copies and an empty entry index), `private` for the private store (the capture key).
#[derive(Debug)]
pub struct Setup {
    pub vault: UnlockedVault,
    pub changes: Changeset,
    pub private: PrivateChanges,
}

/// First run: sets the vault up under `passphrase`. `params` come from
/// [`calibrate`](crate::engine::vault::kdf::calibrate); `now` is unix milliseconds.
pub fn setup(store: &impl Store, passphrase: &Passphrase, params: KdfParams, now: u64) -> Result<Setup, SetupError> {
    if is_set_up(store) {
        return Err(SetupError::AlreadySetUp);
    }
    if passphrase.char_count() < MIN_PASSPHRASE_CHARS {
        return Err(SetupError::PassphraseTooShort { min: MIN_PASSPHRASE_CHARS });
    }
    let keys = KeySet::generate().map_err(|_| SetupError::Random)?;
    let header = new_header(passphrase, params, &keys, now).map_err(|e| match e {
        WrapFailed::Random => SetupError::Random,
        WrapFailed::Kdf => SetupError::Kdf,
    })?;
    let vault = UnlockedVault::from_keys(keys, None);
    let mut changes = header_changes(&header);
    changes.delete(THROTTLE_KEY);
    changes.merge(index_changes(&vault, &[]));
    let private = vault.restore_capture_key(&MemoryStore::new());
    Ok(Setup { vault, changes, private })
}

/// The outcome of an unlock attempt plus what to write.
#[derive(Debug)]
pub struct UnlockAttempt {
    pub result: Result<UnlockedVault, UnlockError>,
    /// Written either way, first: the throttle state, and after a success any repair of the
    /// header's two copies (a damaged copy restored from the other, a version-1 header rewritten
    /// as version 2).
    pub changes: Changeset,
    /// After a success: the rest of a passphrase change that was only partly written, in order,
    /// each batch on its own (see [`rotation`](crate::engine::vault::rotation)); empty when none
    /// was pending. Once written, only the new passphrase opens the vault.
    pub pending: Vec<Changeset>,
    /// The Argon2 parameters of the header in effect are below the production floor
    /// ([`KdfParams::is_production_strength`]): ask for [`UnlockedVault::rewrap`] with
    /// calibrated ones.
    pub upgrade_needed: bool,
}

/// Unlocks with `passphrase` at `now` (unix ms). Refuses while the throttle says wait; a wrong
/// passphrase adds a failure to the throttle, a success clears it. Damaged data does not count
/// as a failure. While a passphrase change is pending, the old and the new passphrase both open
/// the vault (the new one after a second Argon2 run), and `pending` finishes the change.
pub fn unlock(store: &impl Store, passphrase: &Passphrase, now: u64) -> UnlockAttempt {
    let mut changes = Changeset::default();
    match unlock_inner(store, passphrase, now, &mut changes) {
        Ok((vault, repair, params)) => {
            changes.merge(repair);
            let pending = vault.finish_rotation(store);
            UnlockAttempt { result: Ok(vault), changes, pending, upgrade_needed: !params.is_production_strength() }
        }
        Err(e) => UnlockAttempt { result: Err(e), changes, pending: Vec::new(), upgrade_needed: false },
    }
}

/// The outcome of [`verify_passphrase`], and the throttle state to write either way.
#[derive(Debug)]
pub struct Verification {
    pub result: Result<(), UnlockError>,
    pub changes: Changeset,
}

/// Checks the passphrase again (before an export or a share, say) exactly as [`unlock`] does —
/// throttled, a wrong one counted, damage told apart — without returning a vault or any write
/// other than the throttle's.
pub fn verify_passphrase(store: &impl Store, passphrase: &Passphrase, now: u64) -> Verification {
    let mut changes = Changeset::default();
    let result = unlock_inner(store, passphrase, now, &mut changes).map(|_| ());
    Verification { result, changes }
}

fn clear_throttle(store: &impl Store, changes: &mut Changeset) {
    if store.get(THROTTLE_KEY).is_some() {
        changes.delete(THROTTLE_KEY);
    }
}

/// The vault, the header repair and the Argon2 parameters of the header now in effect.
fn unlock_inner(
    store: &impl Store,
    passphrase: &Passphrase,
    now: u64,
    changes: &mut Changeset,
) -> Result<(UnlockedVault, Changeset, KdfParams), UnlockError> {
    let (header, repair) = Header::load_repairing(store).map_err(UnlockError::from)?;
    let throttle = Throttle::from_item(store.get(THROTTLE_KEY));
    if throttle.clock_went_back(now) {
        let t = throttle.reanchored(now);
        changes.put(THROTTLE_KEY, t.to_item());
        return Err(UnlockError::Throttled { wait_ms: t.wait_ms(now) });
    }
    let wait_ms = throttle.wait_ms(now);
    if wait_ms > 0 {
        return Err(UnlockError::Throttled { wait_ms });
    }
    let record = Record::load_for(store, &header);
    if let Some(key) = header.try_passphrase(passphrase)? {
        let old = header.open_with_key(key)?;
        clear_throttle(store, changes);
        // A pending change this vault key vouches for: move on to its new keys.
        if let Some(rec) = &record {
            if let Some(next) = rec.open_next(old.key()) {
                let new = rec.header().open_with_key(next)?;
                let params = rec.header().params();
                return Ok((UnlockedVault::from_keys(new, Some(old)), Changeset::default(), params));
            }
        }
        return Ok((UnlockedVault::from_keys(old, None), repair, header.params()));
    }
    if let Some(rec) = &record {
        if let Some(key) = rec.header().try_passphrase(passphrase)? {
            const FOREIGN: UnlockError =
                UnlockError::Damaged("the pending passphrase change does not belong to this vault");
            let new = rec.header().open_with_key(key)?;
            let previous = rec.open_previous(new.key()).ok_or(FOREIGN)?;
            let old = header.open_with_key(previous).map_err(|_| FOREIGN)?;
            clear_throttle(store, changes);
            let params = rec.header().params();
            return Ok((UnlockedVault::from_keys(new, Some(old)), Changeset::default(), params));
        }
    }
    let t = throttle.after_failure(now);
    changes.put(THROTTLE_KEY, t.to_item());
    Err(UnlockError::WrongPassphrase { wait_ms: t.wait_ms(now) })
}

/// Re-opens the vault from a [`UnlockedVault::session_key`] kept in session storage. Copes with a
/// passphrase change left half-written: the key from before it and the key from after it both
/// resume, with both generations of keys (see [`UnlockedVault::finish_rotation`]).
pub fn resume(store: &impl Store, session_key: &SecretString) -> Result<UnlockedVault, UnlockError> {
    let header = Header::load(store).map_err(UnlockError::from)?;
    let key = VaultKey::from_text(session_key).ok_or(UnlockError::StaleSession)?;
    let record = Record::load_for(store, &header);
    if let Ok(old) = header.open_with_key(key.duplicate()) {
        if let Some(rec) = &record {
            if let Some(new) = rec.open_next(old.key()).and_then(|next| rec.header().open_with_key(next).ok()) {
                return Ok(UnlockedVault::from_keys(new, Some(old)));
            }
        }
        return Ok(UnlockedVault::from_keys(old, None));
    }
    let rec = record.ok_or(UnlockError::StaleSession)?;
    let new = rec.header().open_with_key(key).map_err(|_| UnlockError::StaleSession)?;
    let previous = rec.open_previous(new.key()).ok_or(UnlockError::StaleSession)?;
    let old = header.open_with_key(previous).map_err(|_| UnlockError::StaleSession)?;
    Ok(UnlockedVault::from_keys(new, Some(old)))
}

/// Why setting the vault up failed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetupError {
    AlreadySetUp,
    PassphraseTooShort { min: usize },
    Random,
    Kdf,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::AlreadySetUp => f.write_str("a vault is already set up"),
            SetupError::PassphraseTooShort { min } => write!(f, "the passphrase needs at least {min} characters"),
            SetupError::Random => f.write_str("the system's random number generator failed"),
            SetupError::Kdf => f.write_str("the passphrase could not be processed (Argon2 failed; not enough memory?)"),
        }
    }
}

impl SetupError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            SetupError::AlreadySetUp => words!("errAlreadySetUp"),
            SetupError::PassphraseTooShort { min } => words!("errPassphraseShort", *min),
            SetupError::Random => words!("errRandomFailed"),
            SetupError::Kdf => words!("errKdfFailed"),
        }
    }
}

impl std::error::Error for SetupError {}

/// Why unlocking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnlockError {
    NotSetUp,
    /// Too many wrong passphrases: try again in `wait_ms`.
    Throttled {
        wait_ms: u64,
    },
    /// The passphrase is wrong; the next attempt must wait `wait_ms` (often 0).
    WrongPassphrase {
        wait_ms: u64,
    },
    /// Written by a newer keywarden.
    UnknownVersion(u64),
    /// The stored vault is damaged or was altered (the passphrase itself was right, or the header
    /// could not even be read). Never counted as a wrong passphrase.
    Damaged(&'static str),
    Kdf,
    /// The session key kept for this browser session no longer opens the vault.
    StaleSession,
}

impl From<HeaderProblem> for UnlockError {
    fn from(p: HeaderProblem) -> Self {
        match p {
            HeaderProblem::Missing => UnlockError::NotSetUp,
            HeaderProblem::UnknownVersion(v) => UnlockError::UnknownVersion(v),
            HeaderProblem::Malformed(what) => UnlockError::Damaged(what),
        }
    }
}

impl fmt::Display for UnlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnlockError::NotSetUp => f.write_str("no vault has been set up"),
            UnlockError::Throttled { wait_ms } => {
                write!(f, "too many wrong passphrases: try again in {} s", wait_ms.div_ceil(1000))
            }
            UnlockError::WrongPassphrase { wait_ms: 0 } => f.write_str("wrong passphrase"),
            UnlockError::WrongPassphrase { wait_ms } => {
                write!(f, "wrong passphrase: try again in {} s", wait_ms.div_ceil(1000))
            }
            UnlockError::UnknownVersion(v) => {
                write!(f, "the vault uses format version {v}, which this version of keywarden does not know")
            }
            UnlockError::Damaged(what) => write!(f, "the vault is damaged or was altered: {what}"),
            UnlockError::Kdf => {
                f.write_str("the passphrase could not be processed (Argon2 failed; not enough memory?)")
            }
            UnlockError::StaleSession => f.write_str("the saved session no longer matches the vault: unlock again"),
        }
    }
}

impl UnlockError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        let seconds = |ms: u64| ms.div_ceil(1000);
        match self {
            UnlockError::NotSetUp => words!("errNotSetUp"),
            UnlockError::Throttled { wait_ms } if seconds(*wait_ms) == 1 => words!("errThrottledOneSecond"),
            UnlockError::Throttled { wait_ms } => words!("errThrottled", seconds(*wait_ms)),
            UnlockError::WrongPassphrase { wait_ms: 0 } => words!("errWrongPassphrase"),
            UnlockError::WrongPassphrase { wait_ms } if seconds(*wait_ms) == 1 => {
                words!("errWrongPassphraseOneSecond")
            }
            UnlockError::WrongPassphrase { wait_ms } => words!("errWrongPassphraseWait", seconds(*wait_ms)),
            UnlockError::UnknownVersion(v) => words!("errVaultNewerVersion", *v),
            UnlockError::Damaged(what) => words!("errVaultDamaged", *what),
            UnlockError::Kdf => words!("errKdfFailed"),
            UnlockError::StaleSession => words!("errStaleSession"),
        }
    }
}

impl std::error::Error for UnlockError {}

/// Why re-wrapping the vault key failed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RewrapError {
    /// The new parameters are below the production floor themselves.
    TooWeak,
    WrongPassphrase,
    Header(HeaderProblem),
    /// The stored header belongs to another vault than the unlocked one.
    NotThisVault,
    /// A passphrase change is still being written: finish it first.
    RotationPending,
    Random,
    Kdf,
}

impl fmt::Display for RewrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RewrapError::TooWeak => f.write_str("the new Argon2 parameters are below the production floor"),
            RewrapError::WrongPassphrase => f.write_str("wrong passphrase"),
            RewrapError::Header(p) => write!(f, "cannot strengthen the vault: {p}"),
            RewrapError::NotThisVault => {
                f.write_str("the stored vault is not the one that is unlocked: lock and unlock again")
            }
            RewrapError::RotationPending => {
                f.write_str("a passphrase change is not finished yet: unlock again to finish it first")
            }
            RewrapError::Random => f.write_str("the system's random number generator failed"),
            RewrapError::Kdf => {
                f.write_str("the passphrase could not be processed (Argon2 failed; not enough memory?)")
            }
        }
    }
}

impl std::error::Error for RewrapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RewrapError::Header(p) => Some(p),
            _ => None,
        }
    }
}
