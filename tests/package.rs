//! The deployment package made by `scripts/package`: exactly the app's three files, the handler
//! with its execute bit, read back by a zip reader of its own.
//!
//! The test packages the binary cargo built for the tests (`--binary`), so that it needs no
//! second, release build; `.ci/run` runs the script's own release build.

// Tests report failures by panicking, helpers included.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;

use support::{TempDir, app_root};

/// One entry of a zip's central directory.
#[derive(Debug)]
struct Entry {
    /// The entry's path in the archive.
    name: String,
    /// The system that made it: 3 is Unix, whose mode is then honoured.
    made_by: u8,
    /// The Unix mode, from the high half of the external attributes.
    mode: u32,
    /// The size once extracted.
    size: u64,
}

/// The little-endian number of `width` bytes at `at`.
fn le(bytes: &[u8], at: usize, width: usize) -> u64 {
    bytes[at..at + width]
        .iter()
        .rev()
        .fold(0, |value, byte| (value << 8) | u64::from(*byte))
}

/// Reads the central directory of a zip without a comment.
fn central_directory(zip: &[u8]) -> Vec<Entry> {
    let end = zip.len() - 22;
    assert_eq!(le(zip, end, 4), 0x0605_4b50, "end of central directory");
    let count = le(zip, end + 10, 2) as usize;
    let mut at = le(zip, end + 16, 4) as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(le(zip, at, 4), 0x0201_4b50, "central directory entry");
        let name_len = le(zip, at + 28, 2) as usize;
        let extra_len = le(zip, at + 30, 2) as usize;
        let comment_len = le(zip, at + 32, 2) as usize;
        entries.push(Entry {
            name: String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap(),
            made_by: zip[at + 5],
            mode: (le(zip, at + 38, 4) >> 16) as u32,
            size: le(zip, at + 24, 4),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    entries
}

/// The zip holds exactly host.json, EventGridTrigger/function.json and handler, each whole, the
/// handler as a regular file with mode 0755 made on Unix; the staged handler runs.
#[test]
fn package_holds_the_app() {
    let dir = TempDir::new("package");
    let zip = dir.path.join("function-app.zip");
    let binary = env!("CARGO_BIN_EXE_handler");
    let output = Command::new(app_root().join("scripts/package"))
        .args(["--binary", binary, "--out", zip.to_str().unwrap()])
        .output()
        .expect("run scripts/package");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    // Exactly the three files, whole, with their modes.
    let entries = central_directory(&std::fs::read(&zip).unwrap());
    let names: Vec<&str> = entries.iter().map(|entry| entry.name.as_str()).collect();
    assert_eq!(
        names,
        ["host.json", "EventGridTrigger/function.json", "handler"]
    );
    let sources = [
        app_root().join("host.json"),
        app_root().join("EventGridTrigger/function.json"),
        binary.into(),
    ];
    for (entry, source) in entries.iter().zip(&sources) {
        assert_eq!(entry.made_by, 3, "{entry:?}");
        assert_eq!(
            entry.size,
            std::fs::metadata(source).unwrap().len(),
            "{entry:?}"
        );
        let expected = if entry.name == "handler" {
            0o100_755
        } else {
            0o100_644
        };
        assert_eq!(entry.mode, expected, "{entry:?}");
    }

    // The staged copy, which `func azure functionapp publish` would send, runs.
    let staged = dir.path.join("function-app/handler");
    let version = Command::new(staged).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("handler "));
}

/// An unknown argument is refused before anything is built.
#[test]
fn package_refuses_unknown_arguments() {
    let output = Command::new(app_root().join("scripts/package"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument --frobnicate"));
}
