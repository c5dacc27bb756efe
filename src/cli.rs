//! The command line of the `handler` binary, read by hand to keep the binary small.
//!
//! ```text
//! handler [--listen ADDR]            serve (the Functions host's handler, or a standalone webhook)
//! handler invoke FILE...             replay events from files, - for standard input
//! handler post [--url URL] FILE...   post events from files to an Event Grid webhook
//! handler --help | --version
//! ```
//!
//! Serving is for the Functions host when it set `FUNCTIONS_CUSTOMHANDLER_PORT` (or
//! `FUNCTIONS_HTTPWORKER_PORT`), and a standalone webhook otherwise; `main` decides, since it
//! depends on the environment.

use std::{
    ffi::OsString,
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
};

use thiserror::Error;

/// Exit status: every event went through, every post was answered 2xx, or the server stopped.
pub const EXIT_OK: u8 = 0;

/// Exit status: some event failed or was poison, some post was not answered 2xx, or the server
/// could not run.
pub const EXIT_FAILED: u8 = 1;

/// Exit status: a usage error, an unreadable or malformed file, or an invalid setting.
pub const EXIT_USAGE: u8 = 2;

/// The default address of the standalone webhook: `func start`'s, so URLs are the same.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 7071);

/// The help text.
pub const USAGE: &str = "\
handler: Azure Functions custom handler for Azure Communication Services Advanced Messaging events

Usage:
  handler [--listen ADDR]
      Serve. Started by the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT is set), serve the
      host's invocations. Otherwise serve Event Grid directly as a standalone webhook at
      http://ADDR/runtime/webhooks/EventGrid?functionName=EventGridTrigger
      (ADDR defaults to 127.0.0.1:7071; off loopback, WEBHOOK_KEY is required).
  handler invoke FILE...
      Replay the events of each file (an event, an array of events, a dead-letter blob or a
      kept poison event; - for standard input) through the business logic, without the host.
      Prints one JSON line per event, and a summary on standard error.
  handler post [--url URL] FILE...
      Post each file's events to an Event Grid webhook, as Event Grid does, and print each
      answer's status. URL defaults to
      http://localhost:7071/runtime/webhooks/EventGrid?functionName=EventGridTrigger
  handler --help | --version

Exit status:
  0  success
  1  an event failed or was poison, a post was not answered 2xx, or the server failed
  2  a usage error, an unreadable or malformed file, or an invalid setting
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve: the host's invocations, or Event Grid as a standalone webhook.
    Serve {
        /// `--listen`: where the standalone webhook listens.
        listen: Option<SocketAddr>,
    },
    /// Replay the events of files.
    Invoke {
        /// The files, `-` for standard input.
        files: Vec<PathBuf>,
    },
    /// Post the events of files to a webhook.
    Post {
        /// `--url`, when given.
        url: Option<String>,
        /// The files, `-` for standard input.
        files: Vec<PathBuf>,
    },
    /// Print the help.
    Help,
    /// Print the version.
    Version,
}

/// A command line that cannot be read; exits with [`EXIT_USAGE`].
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct UsageError(String);

/// Reads the arguments, without the program's name.
///
/// # Errors
///
/// Returns a [`UsageError`] naming the argument that cannot be used.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let args: Vec<OsString> = args.into_iter().collect();

    // Help and version win wherever they are, before a `--`.
    let options = args.iter().take_while(|arg| *arg != "--");
    for arg in options {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(Command::Help),
            Some("-V" | "--version") => return Ok(Command::Version),
            _ => {}
        }
    }

    // The first argument names the command; serving has none.
    let mut rest = args.into_iter();
    let mut first = rest.next();
    let command = match first.as_ref().and_then(|arg| arg.to_str()) {
        Some("invoke") => "invoke",
        Some("post") => "post",
        Some("help") => return Ok(Command::Help),
        _ => "serve",
    };
    if command != "serve" {
        first = None;
    }
    let mut args = first.into_iter().chain(rest);

    // Read the options and files of the command.
    let mut listen = None;
    let mut url = None;
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            files.push(PathBuf::from(arg));
            continue;
        };
        if text == "--" {
            files.extend(args.by_ref().map(PathBuf::from));
            break;
        }
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (text, None),
        };
        match (command, name) {
            ("serve", "--listen") => {
                let value = option_value(name, inline, &mut args)?;
                listen = Some(parse_listen(&value)?);
            }
            ("post", "--url") => url = Some(option_value(name, inline, &mut args)?),
            (_, "-") => files.push(PathBuf::from(text)),
            (_, option) if option.starts_with('-') => {
                return Err(UsageError(format!(
                    "unknown option {option} for {command}; see handler --help"
                )));
            }
            _ => files.push(PathBuf::from(text)),
        }
    }

    // Check what each command needs.
    match command {
        "serve" if !files.is_empty() => Err(UsageError(format!(
            "unknown command {}; see handler --help",
            files[0].display()
        ))),
        "serve" => Ok(Command::Serve { listen }),
        _ if files.is_empty() => Err(UsageError(format!(
            "{command} needs at least one file (- for standard input); see handler --help"
        ))),
        "invoke" => Ok(Command::Invoke { files }),
        _ => Ok(Command::Post { url, files }),
    }
}

/// The value of an option, given inline (`--name=value`) or as the next argument.
fn option_value(
    name: &str,
    inline: Option<String>,
    args: &mut impl Iterator<Item = OsString>,
) -> Result<String, UsageError> {
    let value = match inline {
        Some(value) => Some(value),
        None => args.next().and_then(|arg| arg.into_string().ok()),
    };
    value
        .filter(|value| !value.is_empty())
        .ok_or_else(|| UsageError(format!("{name} needs a value")))
}

/// Reads a listening address: `IP:PORT`, `localhost:PORT`, or a port alone (on 127.0.0.1).
///
/// # Errors
///
/// Returns a [`UsageError`] when the address cannot be read.
pub fn parse_listen(text: &str) -> Result<SocketAddr, UsageError> {
    let loopback = |port: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    if let Ok(port) = text.parse::<u16>() {
        return Ok(loopback(port));
    }
    if let Some(port) = text.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(loopback(port));
    }
    Err(UsageError(format!(
        "--listen: expected IP:PORT, such as 127.0.0.1:7071 or 0.0.0.0:8080, got {text:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    /// Each command is read with its options, in either spelling.
    #[test]
    fn commands() {
        assert_eq!(parse_str(&[]), Ok(Command::Serve { listen: None }));
        assert_eq!(
            parse_str(&["--listen", "0.0.0.0:8080"]),
            Ok(Command::Serve {
                listen: Some("0.0.0.0:8080".parse().unwrap())
            })
        );
        assert_eq!(
            parse_str(&["invoke", "a.json", "-", "--", "--b.json"]),
            Ok(Command::Invoke {
                files: vec!["a.json".into(), "-".into(), "--b.json".into()]
            })
        );
        assert_eq!(
            parse_str(&["post", "a.json", "--url=http://x/y"]),
            Ok(Command::Post {
                url: Some("http://x/y".into()),
                files: vec!["a.json".into()]
            })
        );
        assert_eq!(parse_str(&["invoke", "--help"]), Ok(Command::Help));
        assert_eq!(parse_str(&["--version"]), Ok(Command::Version));
    }

    /// Mistakes are usage errors that name what is wrong.
    #[test]
    fn usage_errors() {
        let cases = [
            (&["--bogus"][..], "unknown option --bogus"),
            (&["serve-me"], "unknown command serve-me"),
            (&["invoke"], "invoke needs at least one file"),
            (
                &["post", "--listen", "1", "a"],
                "unknown option --listen for post",
            ),
            (&["post", "--url"], "--url needs a value"),
            (&["--listen", "nowhere"], "--listen: expected IP:PORT"),
            (
                &["invoke", "--url", "x", "a"],
                "unknown option --url for invoke",
            ),
        ];
        for (args, expected) in cases {
            let err = parse_str(args).unwrap_err().to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }

    /// Listening addresses may be written several ways; a port alone means loopback.
    #[test]
    fn listen_addresses() {
        let loopback: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        for text in ["127.0.0.1:9000", "9000", "localhost:9000"] {
            assert_eq!(parse_listen(text), Ok(loopback));
        }
        assert!(parse_listen("[::]:9000").is_ok_and(|a| a.ip().is_unspecified()));
    }
}
