//! Running a test's body in a child process whose output the test reads.
//!
//! The handler's logger writes warnings and errors straight to stderr, past the test harness's
//! capture. A test that runs the handler in-process with thousands of faulty events would flood
//! the terminal, so it runs its body in a child instead: the same test binary, started again for
//! that test alone, with its output piped back for the test to check.

use std::process::{Command, Stdio};

/// Set in the child to the name of the test it runs.
const CHILD: &str = "AMH_TEST_CHILD";

/// What the child printed.
#[derive(Debug)]
pub struct ChildOutput {
    /// Its stdout: the test harness's lines and the handler's.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// In the child running `test`, returns `None`: the caller then runs the test's body. Otherwise
/// runs the test binary again for `test` alone, fails when that child fails, and returns what it
/// printed.
pub fn run_in_child(test: &str) -> Option<ChildOutput> {
    if std::env::var(CHILD).is_ok_and(|running| running == test) {
        return None;
    }
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .stdin(Stdio::null())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "the child running {test} failed ({}); the end of its stderr:\n{}\nstdout:\n{}",
        output.status,
        tail(&stderr),
        tail(&stdout)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child did not run {test}:\n{}",
        tail(&stdout)
    );
    Some(ChildOutput { stdout, stderr })
}

/// The last 40 lines of `text`.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
