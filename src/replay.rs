//! `handler invoke <file>...`: events from files run through the same decoding, dispatch and
//! business logic as a real invocation, in this process, without the host.
//!
//! Each event runs as its own invocation, `replay-1`, `replay-2`, …, one after another in the
//! order of the files and of the events in them. Standard output gets one JSON line per event,
//! the event's [`Report`] with the file it came from:
//!
//! ```json
//! {"file": "samples/eventgrid/received-text.json", "id": "…",
//!  "type": "Microsoft.Communication.AdvancedMessageReceived", "outcome": "handled",
//!  "kind": "text", "detail": "handled by business logic"}
//! ```
//!
//! Logs go to standard error (the process must use [`HandlerLogger::to_stderr`]), and so does
//! the closing summary. A poison event is only reported: nothing is kept.
//!
//! [`HandlerLogger::to_stderr`]: crate::logging::HandlerLogger::to_stderr

use std::{fmt, io::Write};

use serde::Serialize;

use crate::{
    business_logic::BusinessLogic,
    dispatch::{Dispatcher, Outcome, Report},
    event_files::EventFile,
    logging,
};

/// One line of output: an event's report and its file.
#[derive(Serialize)]
struct Line<'a> {
    /// The file the event came from.
    file: &'a str,
    /// The report, its members inline.
    #[serde(flatten)]
    report: &'a Report,
}

/// How many events had each outcome.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Files read.
    pub files: usize,
    /// Events handled.
    pub handled: usize,
    /// Events ignored.
    pub ignored: usize,
    /// Events already handled.
    pub duplicate: usize,
    /// Events that are poison.
    pub poison: usize,
    /// Events that failed.
    pub failed: usize,
}

impl Tally {
    /// Counts one outcome.
    fn count(&mut self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Handled => &mut self.handled,
            Outcome::Ignored => &mut self.ignored,
            Outcome::Duplicate => &mut self.duplicate,
            Outcome::Poison => &mut self.poison,
            Outcome::Failed => &mut self.failed,
        };
        *counter += 1;
    }

    /// Events counted.
    pub fn events(&self) -> usize {
        self.handled + self.ignored + self.duplicate + self.poison + self.failed
    }

    /// Whether every event went through: none failed and none is poison.
    pub fn all_through(&self) -> bool {
        self.failed == 0 && self.poison == 0
    }
}

impl fmt::Display for Tally {
    /// The one-line summary: `replayed 2 events from 1 file: 2 handled, 0 ignored, …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |count: usize| if count == 1 { "" } else { "s" };
        write!(
            f,
            "replayed {} event{} from {} file{}: {} handled, {} ignored, {} duplicate, {} poison, \
             {} failed",
            self.events(),
            plural(self.events()),
            self.files,
            plural(self.files),
            self.handled,
            self.ignored,
            self.duplicate,
            self.poison,
            self.failed,
        )
    }
}

/// Replays every event of `files` through `dispatcher`, writing one JSON line per event to `out`.
///
/// # Errors
///
/// Fails only when `out` cannot be written.
pub async fn replay<L: BusinessLogic>(
    dispatcher: &Dispatcher<L>,
    files: &[EventFile],
    out: &mut impl Write,
) -> std::io::Result<Tally> {
    let mut tally = Tally {
        files: files.len(),
        ..Tally::default()
    };
    let events = files
        .iter()
        .flat_map(|file| file.batch.events.iter().map(move |event| (file, event)));
    for (number, (file, event)) in (1..).zip(events) {
        // Run the event as its own invocation, its records tied to it.
        let invocation_id = format!("replay-{number}");
        let (report, _logs) =
            logging::capture(&invocation_id, dispatcher.dispatch(&invocation_id, event)).await;

        // Report it at once, so that a long replay shows progress.
        let line = Line {
            file: &file.name,
            report: &report,
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
        out.flush()?;
        tally.count(report.outcome);
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary counts every outcome and says whether all went through.
    #[test]
    fn tally_summary() {
        let mut tally = Tally {
            files: 1,
            ..Tally::default()
        };
        for outcome in [Outcome::Handled, Outcome::Handled, Outcome::Poison] {
            tally.count(outcome);
        }
        assert_eq!(
            tally.to_string(),
            "replayed 3 events from 1 file: 2 handled, 0 ignored, 0 duplicate, 1 poison, 0 failed"
        );
        assert!(!tally.all_through());
    }
}
