//! Interoperability with the real age command-line tool (Debian's `age` package, /usr/bin/age): backups and shared keys made by the vault core must open with it.
//!
//! `age -d` reads a passphrase only from a terminal, never from a pipe or the environment. The
//! tests therefore run it under `script` (util-linux), which gives it a pseudo-terminal whose
//! input is our pipe: they wait for age's "Enter passphrase" prompt, then type the passphrase.
//! Shared keys need no terminal: `age -d -i identity-file` as the teammate would run it.

#[path = "vault_support/mod.rs"]
mod support;

use keywarden::engine::vault::*;
use serde_json::Value;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

const AGE: &str = "/usr/bin/age";
const AGE_KEYGEN: &str = "/usr/bin/age-keygen";
const SCRIPT: &str = "/usr/bin/script";

fn require_tools() {
    for tool in [AGE, AGE_KEYGEN, SCRIPT] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: install Debian's `age` and `bsdutils` packages (./build.sh installs them as root)"
        );
    }
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!("keywarden-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `age -d -o out input` in a pseudo-terminal and types `passphrase` at its prompt.
/// Returns the decrypted bytes, or age's complaint.
fn age_decrypt_with_passphrase(input: &Path, out: &Path, passphrase: &str) -> Result<Vec<u8>, String> {
    let command = format!("{AGE} -d -o '{}' '{}'", out.display(), input.display());
    let mut child = Command::new(SCRIPT)
        .args(["-q", "-e", "-E", "never", "-c", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&seen).contains("passphrase") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no passphrase prompt from age; it printed {:?}", String::from_utf8_lossy(&seen)));
            }
        }
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{passphrase}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("age did not finish".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let _ = reader.join();
    seen.extend(rx.try_iter().flatten());
    if status.success() {
        std::fs::read(out).map_err(|e| e.to_string())
    } else {
        Err(String::from_utf8_lossy(&seen).into_owned())
    }
}

#[test]
fn a_backup_opens_with_the_age_cli() {
    require_tools();
    let (mut store, private, vault) = fresh_with_private();
    for (key, m) in [
        ("phq_live_CLI_ONE", meta("predicthq", "control.predicthq.com", "ops@example.com", "CI token", NOW)),
        ("phq_live_CLI_TWO", meta("predicthq", "control.predicthq.com", "dev@example.com", "Local", NOW + 1)),
    ] {
        let sealed = seal_locked(&store, &private, &secret(key), &m).unwrap();
        apply(&mut store, &sealed.changes);
    }
    let backup = vault.export_backup_with_work_factor(&store, &pass(BACKUP_PASSPHRASE), NOW, TEST_WORK_FACTOR).unwrap();
    let dir = Scratch::new("backup");
    std::fs::write(dir.file("vault.age"), &backup.armored).unwrap();

    let plain =
        age_decrypt_with_passphrase(&dir.file("vault.age"), &dir.file("vault.json"), BACKUP_PASSPHRASE).unwrap();
    let doc: Value = serde_json::from_slice(&plain).expect("the plaintext is JSON");
    assert_eq!(doc["format"], "keywarden-backup");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["exported_at"], NOW);
    let listing = vault.list(&store);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for (got, want) in entries.iter().zip(&listing.entries) {
        assert_eq!(got["id"], want.id.as_str());
        assert_eq!(got["secret"], want.secret.expose());
        assert_eq!(got["meta"], serde_json::to_value(&want.meta).unwrap());
    }

    // The harness really checks the passphrase: a wrong one fails.
    let wrong = age_decrypt_with_passphrase(&dir.file("vault.age"), &dir.file("wrong.json"), "not the passphrase");
    assert!(wrong.is_err());
}

#[test]
fn the_backup_vector_opens_with_the_age_cli() {
    require_tools();
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vault/backup-v1.json")).unwrap(),
    )
    .unwrap();
    let dir = Scratch::new("vector");
    std::fs::write(dir.file("vector.age"), v["file"].as_str().unwrap()).unwrap();
    let plain = age_decrypt_with_passphrase(
        &dir.file("vector.age"),
        &dir.file("vector.json"),
        v["passphrase"].as_str().unwrap(),
    )
    .unwrap();
    let doc: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["entries"], v["expect"]["entries"]);
}

#[test]
fn a_shared_key_opens_with_the_teammates_age_identity() {
    require_tools();
    let dir = Scratch::new("share");
    let keygen = Command::new(AGE_KEYGEN).arg("-o").arg(dir.file("teammate.txt")).output().unwrap();
    assert!(keygen.status.success(), "{}", String::from_utf8_lossy(&keygen.stderr));
    let identity_file = std::fs::read_to_string(dir.file("teammate.txt")).unwrap();
    let recipient = identity_file
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen writes the public key as a comment")
        .to_string();

    let (mut store, vault) = fresh();
    let sealed = vault
        .seal(&store, &secret("phq_live_SHARE_ME"), &meta("predicthq", "control.predicthq.com", "", "CI token", NOW))
        .unwrap();
    apply(&mut store, &sealed.changes);
    let entry = vault.open(&store, &sealed.id).unwrap();
    let armored = share(&entry, &recipient).unwrap();
    std::fs::write(dir.file("shared.age"), &armored).unwrap();

    let out = Command::new(AGE)
        .arg("-d")
        .arg("-i")
        .arg(dir.file("teammate.txt"))
        .arg(dir.file("shared.age"))
        .output()
        .unwrap();
    assert!(out.status.success(), "age -d failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "# keywarden shared key, format 1\nvendor: predicthq\nname: CI token\ntenant: control.predicthq.com\nsecret: phq_live_SHARE_ME\n"
    );

    // Anyone else's identity does not open it.
    Command::new(AGE_KEYGEN).arg("-o").arg(dir.file("other.txt")).output().unwrap();
    let other =
        Command::new(AGE).arg("-d").arg("-i").arg(dir.file("other.txt")).arg(dir.file("shared.age")).output().unwrap();
    assert!(!other.status.success());
}
