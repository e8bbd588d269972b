//! The vault header item: setting the vault up, unlocking it (throttled), resuming a session and changing the passphrase.

use crate::engine::secret::SecretString;
use crate::engine::vault::crypto::{self, b64, unb64, unb64_array, RandomFailed, MAC_LEN, NONCE_LEN, TAG_LEN};
use crate::engine::vault::entry::index_changes;
use crate::engine::vault::kdf::{self, KdfParams};
use crate::engine::vault::secrets::{AgeIdentity, Passphrase, VaultKey, VAULT_KEY_LEN};
use crate::engine::vault::store::{Changeset, Store};
use crate::engine::vault::throttle::{Throttle, THROTTLE_KEY};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use zeroize::Zeroizing;

/// Storage key of the header.
pub const HEADER_KEY: &str = "vault";
/// The header's `format` field.
pub const HEADER_FORMAT: &str = "keywarden-vault";
/// Header format version this code writes and reads.
pub const HEADER_VERSION: u32 = 1;
/// Fewest characters a new passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

const SALT_LEN: usize = 16;
const KDF_ALG: &str = "argon2id";
const ARGON2_VERSION: u32 = 0x13;
const AEAD_ALG: &str = "xchacha20poly1305";

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

/// The stored header:
///
/// ```json
/// { "format": "keywarden-vault", "version": 1, "created_at": 1767225600000,
///   "kdf": { "alg": "argon2id", "version": 19, "m_cost_kib": 65536, "t_cost": 3, "p_cost": 1,
///            "salt": "<16 bytes, base64>" },
///   "check": "<32 bytes, base64>",
///   "wrapped_key": { "alg": "xchacha20poly1305", "nonce": "<24 bytes>", "ciphertext": "<48 bytes>" },
///   "recipient": "age1…",
///   "identity": { "alg": "xchacha20poly1305", "nonce": "<24 bytes>", "ciphertext": "<…>" } }
/// ```
///
/// Argon2id(passphrase, salt) gives 32 bytes; HKDF-SHA256 turns them into the key-encryption key
/// and a separate check key. `check` is HMAC-SHA256 of a fixed label under the check key: it
/// tells a wrong passphrase from damaged data without weakening anything (testing a guess
/// against it costs the same Argon2 run as testing it against the wrapped key). `wrapped_key` is
/// the vault key sealed under the key-encryption key. `identity` is the age identity's text
/// sealed under a subkey of the vault key, with the recipient in its associated data, so a
/// swapped recipient is caught at unlock.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderJson {
    format: String,
    version: u32,
    created_at: u64,
    kdf: KdfJson,
    check: String,
    wrapped_key: SealedJson,
    recipient: String,
    identity: SealedJson,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfJson {
    alg: String,
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedJson {
    alg: String,
    nonce: String,
    ciphertext: String,
}

impl SealedJson {
    fn new(nonce: &[u8], ciphertext: &[u8]) -> Self {
        SealedJson { alg: AEAD_ALG.into(), nonce: b64(nonce), ciphertext: b64(ciphertext) }
    }

    fn parse(&self, what: &'static str) -> Result<([u8; NONCE_LEN], Vec<u8>), HeaderProblem> {
        if self.alg != AEAD_ALG {
            return Err(HeaderProblem::Malformed(what));
        }
        let nonce = unb64_array(&self.nonce).ok_or(HeaderProblem::Malformed(what))?;
        let ct = unb64(&self.ciphertext).filter(|c| c.len() > TAG_LEN).ok_or(HeaderProblem::Malformed(what))?;
        Ok((nonce, ct))
    }
}

/// What is wrong with the stored header, when something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// No vault has been set up.
    Missing,
    /// Written by a newer keywarden: this version is unknown.
    UnknownVersion(u64),
    /// Not a header this code understands; names the part that is wrong.
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

/// The header, parsed and checked for shape (nothing decrypted).
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
    pub(crate) fn load(store: &impl Store) -> Result<Header, HeaderProblem> {
        Header::parse(store.get(HEADER_KEY).ok_or(HeaderProblem::Missing)?)
    }

    fn parse(item: Value) -> Result<Header, HeaderProblem> {
        // Format and version first, so a newer header says "newer" rather than "damaged".
        if item.get("format").and_then(Value::as_str) != Some(HEADER_FORMAT) {
            return Err(HeaderProblem::Malformed("not a keywarden vault header"));
        }
        match item.get("version").and_then(Value::as_u64) {
            Some(v) if v == HEADER_VERSION as u64 => {}
            Some(v) => return Err(HeaderProblem::UnknownVersion(v)),
            None => return Err(HeaderProblem::Malformed("its version is missing")),
        }
        let json: HeaderJson =
            serde_json::from_value(item).map_err(|_| HeaderProblem::Malformed("fields are missing or unexpected"))?;
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

    pub(crate) fn params(&self) -> KdfParams {
        self.params
    }

    /// The unlocked vault this header describes, given its vault key.
    fn open_with_key(&self, key: VaultKey) -> Result<UnlockedVault, UnlockError> {
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
        Ok(UnlockedVault::new(key, identity))
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

/// The parts of the header that depend on the passphrase: KDF section, check and wrapped key.
fn wrap(
    passphrase: &Passphrase,
    params: KdfParams,
    key: &VaultKey,
) -> Result<(KdfJson, String, SealedJson), WrapFailed> {
    let salt = crypto::random::<SALT_LEN>().map_err(WrapFailed::Random)?;
    let keys = passphrase_keys(passphrase, &salt, &params).map_err(|_| WrapFailed::Kdf)?;
    let check = crypto::mac(&keys.check_key, &[CHECK_LABEL]);
    let (nonce, ct) = crypto::seal(&keys.kek, WRAP_AAD, key.bytes()).map_err(WrapFailed::Random)?;
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

enum WrapFailed {
    Random(RandomFailed),
    Kdf,
}

/// An open vault: the vault key, the age identity and the keys derived from them. Holding one is
/// being unlocked; dropping it locks (every key in it is zeroized).
pub struct UnlockedVault {
    key: VaultKey,
    identity: AgeIdentity,
    recipient: age::x25519::Recipient,
    entry_mac_key: Zeroizing<[u8; 32]>,
    index_mac_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for UnlockedVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnlockedVault").field("recipient", &self.recipient.to_string()).finish_non_exhaustive()
    }
}

impl UnlockedVault {
    fn new(key: VaultKey, identity: AgeIdentity) -> Self {
        UnlockedVault {
            entry_mac_key: crypto::subkey(key.bytes(), ENTRY_MAC_INFO),
            index_mac_key: crypto::subkey(key.bytes(), INDEX_MAC_INFO),
            recipient: identity.recipient(),
            key,
            identity,
        }
    }

    /// The vault's public `age1…` recipient.
    pub fn recipient(&self) -> String {
        self.recipient.to_string()
    }

    /// The vault key as text for `storage.session` (trusted extension contexts only), so the
    /// unlocked state survives a worker restart; [`resume`] turns it back into a vault. It is
    /// the key to every entry: it must never reach local storage, a page or a log.
    pub fn session_key(&self) -> SecretString {
        self.key.to_text()
    }

    pub(crate) fn identity(&self) -> &AgeIdentity {
        &self.identity
    }

    pub(crate) fn age_recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }

    pub(crate) fn entry_mac_key(&self) -> &[u8; 32] {
        &self.entry_mac_key
    }

    pub(crate) fn index_mac_key(&self) -> &[u8; 32] {
        &self.index_mac_key
    }

    /// Change passphrase: re-wraps the same vault key under `new` with a fresh salt and `params`
    /// (entries stay as they are). The glue asks for the old passphrase and checks it with
    /// [`unlock`] first. Also clears the throttle.
    pub fn change_passphrase(
        &self,
        store: &impl Store,
        new: &Passphrase,
        params: KdfParams,
    ) -> Result<Changeset, ChangePassphraseError> {
        if new.char_count() < MIN_PASSPHRASE_CHARS {
            return Err(ChangePassphraseError::PassphraseTooShort { min: MIN_PASSPHRASE_CHARS });
        }
        let header = Header::load(store).map_err(ChangePassphraseError::Header)?;
        if header.json.recipient != self.recipient() {
            return Err(ChangePassphraseError::NotThisVault);
        }
        let (kdf, check, wrapped_key) = wrap(new, params, &self.key).map_err(|e| match e {
            WrapFailed::Random(_) => ChangePassphraseError::Random,
            WrapFailed::Kdf => ChangePassphraseError::Kdf,
        })?;
        let json = HeaderJson { kdf, check, wrapped_key, ..header.json };
        let mut changes = Changeset::default();
        changes.put(HEADER_KEY, serde_json::to_value(&json).expect("plain JSON"));
        changes.delete(THROTTLE_KEY);
        Ok(changes)
    }
}

/// Whether a vault header exists (it may still be damaged or newer).
pub fn is_set_up(store: &impl Store) -> bool {
    store.get(HEADER_KEY).is_some()
}

/// The vault's public `age1…` recipient as stored, readable while locked.
pub fn stored_recipient(store: &impl Store) -> Result<String, HeaderProblem> {
    Header::load(store).map(|h| h.json.recipient)
}

/// The stored Argon2 parameters (to show them, or to decide whether to re-calibrate).
pub fn stored_params(store: &impl Store) -> Result<KdfParams, HeaderProblem> {
    Header::load(store).map(|h| h.params())
}

/// A new vault, unlocked, and the items to write (header and an empty entry index).
#[derive(Debug)]
pub struct Setup {
    pub vault: UnlockedVault,
    pub changes: Changeset,
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
    let key = VaultKey::from_bytes(crypto::random::<VAULT_KEY_LEN>().map_err(|_| SetupError::Random)?);
    let identity = AgeIdentity::generate();
    let recipient = identity.recipient().to_string();
    let (kdf, check, wrapped_key) = wrap(passphrase, params, &key).map_err(|e| match e {
        WrapFailed::Random(_) => SetupError::Random,
        WrapFailed::Kdf => SetupError::Kdf,
    })?;
    let identity_key = crypto::subkey(key.bytes(), IDENTITY_INFO);
    let (nonce, ct) = crypto::seal(&identity_key, &identity_aad(&recipient), identity.to_text().as_bytes())
        .map_err(|_| SetupError::Random)?;
    let json = HeaderJson {
        format: HEADER_FORMAT.into(),
        version: HEADER_VERSION,
        created_at: now,
        kdf,
        check,
        wrapped_key,
        recipient,
        identity: SealedJson::new(&nonce, &ct),
    };
    let vault = UnlockedVault::new(key, identity);
    let mut changes = Changeset::default();
    changes.put(HEADER_KEY, serde_json::to_value(&json).expect("plain JSON"));
    changes.delete(THROTTLE_KEY);
    changes.merge(index_changes(&vault, &[]));
    Ok(Setup { vault, changes })
}

/// The outcome of an unlock attempt plus what to write either way (the throttle state).
#[derive(Debug)]
pub struct UnlockAttempt {
    pub result: Result<UnlockedVault, UnlockError>,
    pub changes: Changeset,
}

/// Unlocks with `passphrase` at `now` (unix ms). Refuses while the throttle says wait; a wrong
/// passphrase adds a failure to the throttle, a success clears it. Damaged data does not count
/// as a failure.
pub fn unlock(store: &impl Store, passphrase: &Passphrase, now: u64) -> UnlockAttempt {
    let mut changes = Changeset::default();
    let result = unlock_inner(store, passphrase, now, &mut changes);
    UnlockAttempt { result, changes }
}

fn unlock_inner(
    store: &impl Store,
    passphrase: &Passphrase,
    now: u64,
    changes: &mut Changeset,
) -> Result<UnlockedVault, UnlockError> {
    let header = Header::load(store).map_err(UnlockError::from)?;
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
    let keys = passphrase_keys(passphrase, &header.salt, &header.params).map_err(|_| UnlockError::Kdf)?;
    if !crypto::mac_verify(&keys.check_key, &[CHECK_LABEL], &header.check) {
        let t = throttle.after_failure(now);
        changes.put(THROTTLE_KEY, t.to_item());
        return Err(UnlockError::WrongPassphrase { wait_ms: t.wait_ms(now) });
    }
    let raw = crypto::open(&keys.kek, &header.wrapped.0, WRAP_AAD, &header.wrapped.1)
        .ok_or(UnlockError::Damaged("the wrapped vault key failed authentication"))?;
    let bytes: [u8; VAULT_KEY_LEN] =
        raw.as_slice().try_into().map_err(|_| UnlockError::Damaged("the wrapped vault key has the wrong size"))?;
    let vault = header.open_with_key(VaultKey::from_bytes(bytes))?;
    if store.get(THROTTLE_KEY).is_some() {
        changes.delete(THROTTLE_KEY);
    }
    Ok(vault)
}

/// Re-opens the vault from a [`UnlockedVault::session_key`] kept in session storage.
pub fn resume(store: &impl Store, session_key: &SecretString) -> Result<UnlockedVault, UnlockError> {
    let header = Header::load(store).map_err(UnlockError::from)?;
    let key = VaultKey::from_text(session_key).ok_or(UnlockError::StaleSession)?;
    header.open_with_key(key).map_err(|_| UnlockError::StaleSession)
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
    /// could not even be read).
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

impl std::error::Error for UnlockError {}

/// Why changing the passphrase failed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangePassphraseError {
    PassphraseTooShort {
        min: usize,
    },
    Header(HeaderProblem),
    /// The stored header belongs to another vault than the unlocked one.
    NotThisVault,
    Random,
    Kdf,
}

impl fmt::Display for ChangePassphraseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangePassphraseError::PassphraseTooShort { min } => {
                write!(f, "the new passphrase needs at least {min} characters")
            }
            ChangePassphraseError::Header(p) => write!(f, "cannot change the passphrase: {p}"),
            ChangePassphraseError::NotThisVault => {
                f.write_str("the stored vault is not the one that is unlocked: lock and unlock again")
            }
            ChangePassphraseError::Random => f.write_str("the system's random number generator failed"),
            ChangePassphraseError::Kdf => {
                f.write_str("the passphrase could not be processed (Argon2 failed; not enough memory?)")
            }
        }
    }
}

impl std::error::Error for ChangePassphraseError {}
