//! Event files named on the command line, for `handler invoke` and `handler post`: each is read
//! whole and split into its events before anything is done with any of them, so that a bad file
//! stops the command before a single event is replayed or posted.
//!
//! `-` names standard input.

use std::{io::Read, path::PathBuf};

use thiserror::Error;

use crate::batch::{Batch, BatchError};

/// The name that stands for standard input.
pub const STDIN: &str = "-";

/// A file's text and its events.
#[derive(Debug)]
pub struct EventFile {
    /// The file's name as given, `(stdin)` for standard input.
    pub name: String,
    /// The file's bytes, unchanged.
    pub bytes: Vec<u8>,
    /// Its events.
    pub batch: Batch,
}

/// Why a file cannot be used. The message names the file and never quotes its content.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file cannot be read.
    #[error("{name}: cannot read: {source}")]
    Unreadable {
        /// The file's name.
        name: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not an event or an array of events.
    #[error("{name}: {source}")]
    NotEvents {
        /// The file's name.
        name: String,
        /// Why.
        source: BatchError,
    },
    /// Standard input is named twice; it can be read only once.
    #[error("standard input (-) can be named only once")]
    StdinTwice,
}

/// Reads every file in `paths`, in order.
///
/// # Errors
///
/// Returns the first file that cannot be read or holds no events.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<EventFile>, FileError> {
    let stdin_count = paths
        .iter()
        .filter(|path| path.as_os_str() == STDIN)
        .count();
    if stdin_count > 1 {
        return Err(FileError::StdinTwice);
    }
    paths.iter().map(read).collect()
}

/// Reads one file, or standard input for `-`.
fn read(path: &PathBuf) -> Result<EventFile, FileError> {
    // Read the bytes whole.
    let stdin = path.as_os_str() == STDIN;
    let name = if stdin {
        "(stdin)".to_owned()
    } else {
        path.display().to_string()
    };
    let bytes = if stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(source) => return Err(FileError::Unreadable { name, source }),
    };

    // Split them into events.
    match Batch::from_slice(&bytes) {
        Ok(batch) => Ok(EventFile { name, bytes, batch }),
        Err(source) => Err(FileError::NotEvents { name, source }),
    }
}
