//! Backup and restore: the whole vault as one passphrase-protected, ASCII-armored age file, and merging such a file back in.
//!
//! The file is a standard age file with a single scrypt (passphrase) recipient, so `age -d`
//! opens it without keywarden. Its plaintext is UTF-8 JSON, format version 1:
//!
//! ```json
//! { "format": "keywarden-backup",
//!   "version": 1,
//!   "exported_at": 1767225600000,
//!   "entries": [
//!     { "id": "<22 characters, base64url>",
//!       "secret": "<the key>",
//!       "meta": { "vendor": "predicthq", "tenant": "control.predicthq.com",
//!                 "account": "ops@example.com", "key_name": "CI token", "scopes": ["events"],
//!                 "created_at": 1767225600000, "page_url": "https://…", "notes": "",
//!                 "state": "active" } } ] }
//! ```
//!
//! `state` is `active`, `replaced` or `revoked`; times are unix milliseconds. A reader refuses a
//! `version` it does not know rather than guess. tests/data/vault/BACKUP-FORMAT.md says the same
//! for people holding a backup.

use crate::engine::secret::SecretString;
use crate::engine::vault::agefile::{self, AgeFailure};
use crate::engine::vault::entry::{Damaged, EntryId, EntryMeta, SealError, Trust};
use crate::engine::vault::header::{UnlockedVault, MIN_PASSPHRASE_CHARS};
use crate::engine::vault::replace::same_vendor_and_tenant;
use crate::engine::vault::secrets::{json_zeroizing, Passphrase};
use crate::engine::vault::store::{Changeset, Store};
use crate::engine::words::Words;
use crate::words;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The backup plaintext's `format`.
pub const BACKUP_FORMAT: &str = "keywarden-backup";
/// Backup version this code writes and reads.
pub const BACKUP_VERSION: u32 = 1;
/// scrypt work factor (log2 N) for new backups: about a second, as `age -p` picks; scrypt then
/// needs 2^18 KiB = 256 MiB of memory.
pub const BACKUP_WORK_FACTOR: u8 = 18;
/// Highest scrypt work factor an imported backup may demand: one above what
/// [`UnlockedVault::export_backup`] writes, i.e. 512 MiB of scrypt memory (each step up
/// doubles it), so a crafted file cannot make the browser allocate gigabytes. Backups that
/// `age -p` made on a fast machine with a higher factor can be re-encrypted with the default.
pub const MAX_IMPORT_WORK_FACTOR: u8 = 19;
/// Largest backup plaintext accepted on import.
pub const MAX_BACKUP_BYTES: usize = 32 * 1024 * 1024;

#[derive(Serialize)]
struct BackupOut<'a> {
    format: &'a str,
    version: u32,
    exported_at: u64,
    entries: Vec<EntryOut<'a>>,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    id: &'a EntryId,
    secret: &'a str,
    meta: &'a EntryMeta,
}

/// Read first: only what tells a foreign or newer file from ours.
#[derive(Deserialize)]
struct Sniff {
    format: String,
    version: u64,
}

/// The whole document; `format` and `version` were checked by [`Sniff`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupIn {
    #[serde(rename = "format")]
    _format: serde::de::IgnoredAny,
    #[serde(rename = "version")]
    _version: serde::de::IgnoredAny,
    exported_at: u64,
    entries: Vec<EntryIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn {
    id: EntryId,
    secret: SecretString,
    meta: EntryMeta,
}

/// An exported backup.
#[derive(Debug)]
pub struct Backup {
    /// The armored age file (`-----BEGIN AGE ENCRYPTED FILE-----` …).
    pub armored: String,
    /// How many entries it holds.
    pub entries: usize,
    /// Items that could not be opened and so are not in it.
    pub left_out: Vec<Damaged>,
    /// [`Trust::Foreign`] entries, not in it either: importing the backup would vouch for them.
    /// Confirm them first if they are wanted.
    pub unconfirmed: Vec<EntryId>,
}

/// Why exporting failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupError {
    PassphraseTooShort {
        min: usize,
    },
    /// age failed to encrypt (should not happen).
    Encrypt,
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupError::PassphraseTooShort { min } => {
                write!(f, "the backup passphrase needs at least {min} characters")
            }
            BackupError::Encrypt => f.write_str("the backup could not be encrypted"),
        }
    }
}

impl BackupError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            BackupError::PassphraseTooShort { min } => words!("errBackupPassphraseShort", *min),
            BackupError::Encrypt => words!("errBackupEncrypt"),
        }
    }
}

impl std::error::Error for BackupError {}

/// What an import did (once `changes` is written).
#[derive(Debug)]
pub struct ImportReport {
    pub changes: Changeset,
    /// When the backup was made (unix ms), as it says.
    pub exported_at: u64,
    /// Entries added under their own id.
    pub imported: Vec<EntryId>,
    /// Backup entries skipped because the vault already holds the same secret for the same vendor
    /// and tenant.
    pub duplicates: Vec<EntryId>,
    /// Backup entries whose id is taken by a different entry: added under a new id (backup id,
    /// new id) instead of overwriting anything.
    pub renamed: Vec<(EntryId, EntryId)>,
}

/// Why importing failed. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// Not an age file.
    NotAge,
    /// An age file, but cut short.
    Truncated,
    /// An age file encrypted to keys, not to a passphrase.
    NotPassphraseProtected,
    WrongPassphrase,
    /// Its scrypt work factor (log2 N) is above `max` ([`MAX_IMPORT_WORK_FACTOR`]); refused
    /// before any scrypt work.
    TooMuchWork {
        work_factor: u8,
        max: u8,
    },
    /// An age file of a newer age format.
    UnsupportedAge,
    /// An age file that fails its integrity checks.
    Damaged,
    TooLarge,
    /// Decrypts, but is not a keywarden backup.
    NotABackup,
    /// A keywarden backup of a newer version.
    UnknownVersion(u64),
    /// A keywarden backup of this version whose contents are invalid; names what.
    BadContents(&'static str),
    /// The vault is not unlocked for the import.
    Seal(SealError),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::NotAge => f.write_str("this is not an age-encrypted file"),
            ImportError::Truncated => f.write_str("the backup file is truncated (incomplete copy?)"),
            ImportError::NotPassphraseProtected => {
                f.write_str("this age file is encrypted to keys, not to a passphrase")
            }
            ImportError::WrongPassphrase => f.write_str("wrong backup passphrase"),
            ImportError::TooMuchWork { work_factor, max } => write!(
                f,
                "the backup asks for scrypt work factor {work_factor} ({} of memory); keywarden opens backups up to \
                 work factor {max} ({}): re-encrypt it with age's default",
                scrypt_memory(*work_factor),
                scrypt_memory(*max)
            ),
            ImportError::UnsupportedAge => f.write_str("the file uses a newer age format"),
            ImportError::Damaged => f.write_str("the backup file is damaged"),
            ImportError::TooLarge => f.write_str("the backup is too large"),
            ImportError::NotABackup => f.write_str("the file decrypts, but it is not a keywarden backup"),
            ImportError::UnknownVersion(v) => {
                write!(f, "the backup is format version {v}, which this version of keywarden does not know")
            }
            ImportError::BadContents(what) => write!(f, "the backup's contents are invalid ({what})"),
            ImportError::Seal(e) => write!(f, "the backup could not be stored: {e}"),
        }
    }
}

impl ImportError {
    /// The refusal in the admin's words.
    pub fn words(&self) -> Words {
        match self {
            ImportError::NotAge => words!("errImportNotAge"),
            ImportError::Truncated => words!("errImportTruncated"),
            ImportError::NotPassphraseProtected => words!("errImportNotPassphrase"),
            ImportError::WrongPassphrase => words!("errImportWrongPassphrase"),
            ImportError::TooMuchWork { work_factor, max } => {
                words!("errImportTooMuchWork", *work_factor, scrypt_memory(*work_factor), *max, scrypt_memory(*max))
            }
            ImportError::UnsupportedAge => words!("errImportNewerAge"),
            ImportError::Damaged => words!("errImportDamaged"),
            ImportError::TooLarge => words!("errImportTooLarge"),
            ImportError::NotABackup => words!("errImportNotBackup"),
            ImportError::UnknownVersion(v) => words!("errImportNewerVersion", *v),
            ImportError::BadContents(what) => words!("errImportBadContents", *what),
            ImportError::Seal(e) => words!("errImportSeal", e.words()),
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Seal(e) => Some(e),
            _ => None,
        }
    }
}

/// The memory scrypt needs at work factor `log_n` with age's r = 8: 2^log_n KiB.
fn scrypt_memory(log_n: u8) -> String {
    let kib = 1u128 << log_n.min(100);
    match kib {
        k if k >= 1 << 20 => format!("{} GiB", k >> 20),
        k if k >= 1 << 10 => format!("{} MiB", k >> 10),
        k => format!("{k} KiB"),
    }
}

impl UnlockedVault {
    /// Exports every entry that opens, with the standard work factor. `now` is unix ms.
    pub fn export_backup(&self, store: &impl Store, passphrase: &Passphrase, now: u64) -> Result<Backup, BackupError> {
        self.export_backup_with_work_factor(store, passphrase, now, BACKUP_WORK_FACTOR)
    }

    /// [`UnlockedVault::export_backup`] with a chosen scrypt work factor (log2 N); tests use a
    /// small one.
    pub fn export_backup_with_work_factor(
        &self,
        store: &impl Store,
        passphrase: &Passphrase,
        now: u64,
        log_n: u8,
    ) -> Result<Backup, BackupError> {
        if passphrase.char_count() < MIN_PASSPHRASE_CHARS {
            return Err(BackupError::PassphraseTooShort { min: MIN_PASSPHRASE_CHARS });
        }
        let listing = self.list(store);
        let (kept, foreign): (Vec<_>, Vec<_>) = listing.entries.iter().partition(|e| e.trust != Trust::Foreign);
        let doc = BackupOut {
            format: BACKUP_FORMAT,
            version: BACKUP_VERSION,
            exported_at: now,
            entries: kept.iter().map(|e| EntryOut { id: &e.id, secret: e.secret.expose(), meta: &e.meta }).collect(),
        };
        // Sized exactly before writing (with room for the final newline): growing the buffer
        // would leave copies of secrets behind.
        let mut plain = json_zeroizing(&doc, true);
        plain.push(b'\n');
        let mut recipient = age::scrypt::Recipient::new(passphrase.to_age());
        recipient.set_work_factor(log_n);
        let armored = agefile::encrypt(&recipient, &plain, true).map_err(|_| BackupError::Encrypt)?;
        let armored = String::from_utf8(armored).map_err(|_| BackupError::Encrypt)?;
        Ok(Backup {
            armored,
            entries: kept.len(),
            unconfirmed: foreign.iter().map(|e| e.id.clone()).collect(),
            left_out: listing.damaged,
        })
    }

    /// Merges a backup file (armored or binary age) into the vault. Nothing is overwritten:
    /// duplicates are skipped and taken ids get new ones, each reported.
    pub fn import_backup(
        &self,
        store: &impl Store,
        file: &[u8],
        passphrase: &Passphrase,
    ) -> Result<ImportReport, ImportError> {
        let mut identity = age::scrypt::Identity::new(passphrase.to_age());
        identity.set_max_work_factor(MAX_IMPORT_WORK_FACTOR);
        let plain = agefile::decrypt(&identity, file, true, MAX_BACKUP_BYTES).map_err(|e| match e {
            AgeFailure::NotAge => ImportError::NotAge,
            AgeFailure::Truncated => ImportError::Truncated,
            AgeFailure::WrongKind => ImportError::NotPassphraseProtected,
            AgeFailure::WrongKey => ImportError::WrongPassphrase,
            AgeFailure::TooMuchWork(work_factor) => {
                ImportError::TooMuchWork { work_factor, max: MAX_IMPORT_WORK_FACTOR }
            }
            AgeFailure::UnknownAgeFormat => ImportError::UnsupportedAge,
            AgeFailure::TooLarge => ImportError::TooLarge,
            AgeFailure::Damaged => ImportError::Damaged,
        })?;
        let sniff: Sniff = serde_json::from_slice(&plain).map_err(|_| ImportError::NotABackup)?;
        if sniff.format != BACKUP_FORMAT {
            return Err(ImportError::NotABackup);
        }
        if sniff.version != BACKUP_VERSION as u64 {
            return Err(ImportError::UnknownVersion(sniff.version));
        }
        let backup: BackupIn = serde_json::from_slice(&plain).map_err(|_| ImportError::BadContents("entries"))?;

        // Foreign entries do not count as already held: the backup's copy is vouched for.
        let existing: Vec<_> = self.list(store).entries.into_iter().filter(|e| e.trust != Trust::Foreign).collect();
        let mut report = ImportReport {
            changes: Changeset::default(),
            exported_at: backup.exported_at,
            imported: Vec::new(),
            duplicates: Vec::new(),
            renamed: Vec::new(),
        };
        let mut accepted: Vec<(EntryId, &EntryIn)> = Vec::new();
        for entry in &backup.entries {
            let same = |secret: &SecretString, meta: &EntryMeta| {
                secret.expose() == entry.secret.expose() && same_vendor_and_tenant(meta, &entry.meta)
            };
            if existing.iter().any(|e| same(&e.secret, &e.meta))
                || accepted.iter().any(|(_, e)| same(&e.secret, &e.meta))
            {
                report.duplicates.push(entry.id.clone());
                continue;
            }
            let taken = |id: &EntryId| store.get(&id.item_key()).is_some() || accepted.iter().any(|(a, _)| a == id);
            if taken(&entry.id) {
                let new_id = loop {
                    let id = EntryId::random().map_err(|_| ImportError::Seal(SealError::Random))?;
                    if !taken(&id) {
                        break id;
                    }
                };
                report.renamed.push((entry.id.clone(), new_id.clone()));
                accepted.push((new_id, entry));
            } else {
                report.imported.push(entry.id.clone());
                accepted.push((entry.id.clone(), entry));
            }
        }
        if !accepted.is_empty() {
            let items: Vec<_> = accepted.iter().map(|(id, e)| (id, &e.secret, &e.meta)).collect();
            report.changes = self.reseal_all(store, &items).map_err(|e| match e {
                SealError::Invalid { field, .. } => ImportError::BadContents(field),
                other => ImportError::Seal(other),
            })?;
        }
        Ok(report)
    }
}
