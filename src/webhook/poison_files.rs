//! Poison events kept as files, since the standalone webhook has no queue binding.
//!
//! Each poison event becomes one file in the folder `POISON_DIR`, named from the time and the
//! event's id (`20261203T183022.604Z-<event id>.json`), holding the same
//! [`PoisonMessage`] the host mode puts on the `poison` queue. The file is written whole and
//! synced to disk before the delivery is acknowledged; when that fails, the event fails, so that
//! Event Grid delivers it again rather than losing it.

use std::{
    fs::{File, OpenOptions},
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
};

use serde_json::value::RawValue;
use time::{
    OffsetDateTime,
    format_description::{BorrowedFormatItem, well_known::Rfc3339},
    macros::format_description,
};

use crate::{dispatch::Report, host_protocol::PoisonMessage};

/// The time at the start of a file's name: sorts in order and is valid on every file system.
const NAME_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year][month][day]T[hour][minute][second].[subsecond digits:3]Z");

/// The longest part of a file's name taken from the event's id.
const MAX_ID_CHARS: usize = 80;

/// How many names are tried when a file of the same name exists.
const MAX_ATTEMPTS: u32 = 100;

/// The folder that keeps poison events.
#[derive(Debug, Clone)]
pub struct PoisonFiles {
    /// The folder, created when the first event is kept.
    dir: PathBuf,
}

impl PoisonFiles {
    /// Keeps poison events in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps the poison `event`, as reported by `report` in the invocation `invocation_id`, in a
    /// new file; returns the file's path.
    ///
    /// # Errors
    ///
    /// Fails when the folder or the file cannot be created, written or synced; no partial file
    /// is left behind.
    pub fn keep(
        &self,
        report: &Report,
        invocation_id: &str,
        event: &RawValue,
    ) -> std::io::Result<PathBuf> {
        // Build the same message the host mode puts on the queue.
        let now = OffsetDateTime::now_utc();
        let message = PoisonMessage {
            reason: &report.detail,
            invocation_id,
            time: now.format(&Rfc3339).unwrap_or_default(),
            event_id: report.id.as_deref(),
            event_type: report.event_type.as_deref(),
            event: Some(event),
        };
        let mut text = serde_json::to_vec(&message)?;
        text.push(b'\n');

        // Write it to a new file, never over an existing one.
        std::fs::create_dir_all(&self.dir)?;
        let stem = format!(
            "{}-{}",
            now.format(NAME_TIME).unwrap_or_default(),
            sanitize(report.id.as_deref())
        );
        for attempt in 1..=MAX_ATTEMPTS {
            let name = match attempt {
                1 => format!("{stem}.json"),
                _ => format!("{stem}-{attempt}.json"),
            };
            let path = self.dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return write_synced(file, &path, &text).map(|()| path),
                Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
        Err(std::io::Error::new(
            ErrorKind::AlreadyExists,
            format!("{MAX_ATTEMPTS} files named {stem} already exist"),
        ))
    }
}

/// Writes `text` to the new `file` and syncs it; removes the file when that fails.
fn write_synced(mut file: File, path: &Path, text: &[u8]) -> std::io::Result<()> {
    let result = file.write_all(text).and_then(|()| file.sync_all());
    if result.is_err() {
        drop(file);
        let _ = std::fs::remove_file(path);
    }
    result
}

/// The event's id made safe for a file name: letters, digits, `-`, `_` and `.` are kept, any
/// other character becomes `_`.
fn sanitize(id: Option<&str>) -> String {
    let safe: String = id
        .unwrap_or_default()
        .chars()
        .take(MAX_ID_CHARS)
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect();
    if safe.trim_matches('.').is_empty() {
        "no-id".to_owned()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::Outcome;

    /// Ids are made safe for a file name: no separators, no dot names, no empty name.
    #[test]
    fn ids_are_sanitized() {
        assert_eq!(sanitize(Some("ab-12_C.d")), "ab-12_C.d");
        assert_eq!(sanitize(Some("../etc/passwd")), ".._etc_passwd");
        assert_eq!(sanitize(Some("..")), "no-id");
        assert_eq!(sanitize(Some("a b\\c:d")), "a_b_c_d");
        assert_eq!(sanitize(None), "no-id");
        assert_eq!(sanitize(Some(&"x".repeat(500))).len(), MAX_ID_CHARS);
    }

    /// A kept event is a new file holding the poison message; the same id twice gives two files.
    #[test]
    fn events_are_kept_in_new_files() {
        let dir = std::env::temp_dir().join(format!("amh-poison-unit-{}", std::process::id()));
        let files = PoisonFiles::new(dir.clone());
        let report = Report {
            id: Some("e/1".to_owned()),
            event_type: Some("T".to_owned()),
            outcome: Outcome::Poison,
            kind: None,
            status: None,
            detail: "data: missing or null".into(),
        };
        let event = RawValue::from_string(r#"{"id":"e/1","eventType":"T"}"#.to_owned()).unwrap();
        let first = files.keep(&report, "inv-1", &event).unwrap();
        let second = files.keep(&report, "inv-2", &event).unwrap();
        assert_ne!(first, second);
        let kept: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&first).unwrap()).unwrap();
        assert_eq!(kept["event"]["id"], "e/1");
        assert_eq!(kept["reason"], "data: missing or null");
        assert_eq!(kept["invocationId"], "inv-1");
        assert!(
            first
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("-e_1.json")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
