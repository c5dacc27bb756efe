//! Configuration from the environment, so that it works the same from app settings,
//! `local.settings.json` and a shell. Every value is checked at start; a bad one stops the
//! handler with a one-line error that names the setting.
//!
//! | setting | default | meaning |
//! | --- | --- | --- |
//! | `FUNCTIONS_CUSTOMHANDLER_PORT` | none | port to listen on, set by the host |
//! | `FUNCTIONS_HTTPWORKER_PORT` | none | the same, under its older name |
//! | `HANDLER_LOGIC_TIMEOUT_MS` | 25000 | deadline of business logic per event |
//! | `HANDLER_MAX_BODY_BYTES` | 4194304 | largest request body accepted |
//! | `HANDLER_BODY_TIMEOUT_MS` | 10000 | how long a request body may take to arrive |
//! | `HANDLER_SHUTDOWN_GRACE_SECONDS` | 10 | time for invocations in flight after a stop signal |
//! | `HANDLER_WORKERS` | the number of CPUs | worker threads serving requests |
//! | `DEDUP_WINDOW_SECONDS` | 900 | how long handled event ids are remembered (0: off) |
//! | `DEDUP_CAPACITY` | 10000 | how many handled event ids are remembered |
//! | `POISON_DIR` | `poison` | standalone webhook only: folder that keeps poison events as files |
//! | `WEBHOOK_KEY` | none | standalone webhook only: key deliveries must carry |
//! | `RUST_LOG` | `info` | log filter |

use std::{fmt::Display, path::PathBuf, str::FromStr, time::Duration};

use thiserror::Error;

use crate::dispatch::DispatchSettings;

/// A setting whose value cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    /// The setting's name.
    pub name: &'static str,
    /// What is wrong with its value.
    pub problem: String,
}

/// The handler's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The port the host chose, when started by the host.
    pub host_port: Option<u16>,
    /// The deadline of business logic per event.
    pub logic_timeout: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// How long invocations in flight may finish after SIGTERM or SIGINT.
    pub shutdown_grace: Duration,
    /// Worker threads serving requests.
    pub workers: usize,
    /// How long handled event ids are remembered.
    pub dedup_window: Duration,
    /// How many handled event ids are remembered.
    pub dedup_capacity: usize,
    /// Where the standalone webhook keeps poison events, one JSON file each.
    pub poison_dir: PathBuf,
    /// The key deliveries to the standalone webhook must carry, if set.
    pub webhook_key: Option<Secret>,
}

/// A value that must never be shown, such as a key: its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The shortest key accepted.
    pub const MIN_LEN: usize = 16;

    /// The secret's value, for comparison only; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

impl Settings {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    ///
    /// Returns the first setting whose value cannot be used.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which returns a setting's value by name.
    ///
    /// # Errors
    ///
    /// Returns the first setting whose value cannot be used.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let port = |name| parse::<u16>(&lookup, name, 1, u16::MAX);
        Ok(Self {
            host_port: match port("FUNCTIONS_CUSTOMHANDLER_PORT")? {
                Some(port) => Some(port),
                None => port("FUNCTIONS_HTTPWORKER_PORT")?,
            },
            logic_timeout: millis(
                parse(&lookup, "HANDLER_LOGIC_TIMEOUT_MS", 1, 600_000)?,
                25_000,
            ),
            max_body_bytes: parse(&lookup, "HANDLER_MAX_BODY_BYTES", 1024, 64 << 20)?
                .unwrap_or(4 << 20),
            body_timeout: millis(
                parse(&lookup, "HANDLER_BODY_TIMEOUT_MS", 1, 600_000)?,
                10_000,
            ),
            shutdown_grace: Duration::from_secs(
                parse(&lookup, "HANDLER_SHUTDOWN_GRACE_SECONDS", 0, 3600)?.unwrap_or(10),
            ),
            workers: parse(&lookup, "HANDLER_WORKERS", 1, 256)?.unwrap_or(cpus),
            dedup_window: Duration::from_secs(
                parse(&lookup, "DEDUP_WINDOW_SECONDS", 0, 86_400)?.unwrap_or(900),
            ),
            dedup_capacity: parse(&lookup, "DEDUP_CAPACITY", 0, 10_000_000)?.unwrap_or(10_000),
            poison_dir: text(&lookup, "POISON_DIR").map_or_else(|| "poison".into(), PathBuf::from),
            webhook_key: key(&lookup, "WEBHOOK_KEY")?,
        })
    }

    /// The settings of dispatch.
    pub fn dispatch(&self) -> DispatchSettings {
        DispatchSettings {
            deadline: self.logic_timeout,
            dedup_window: self.dedup_window,
            dedup_capacity: self.dedup_capacity,
        }
    }
}

/// A duration in milliseconds, or the default.
fn millis(value: Option<u64>, default: u64) -> Duration {
    Duration::from_millis(value.unwrap_or(default))
}

/// Reads an optional text, trimmed; empty counts as unset.
fn text(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// Reads an optional key: at least [`Secret::MIN_LEN`] visible ASCII characters, so that it can
/// travel in a header. The error never quotes the value.
fn key(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    let Some(key) = text(lookup, name) else {
        return Ok(None);
    };
    let visible = key.bytes().all(|byte| byte.is_ascii_graphic());
    if !visible || key.len() < Secret::MIN_LEN {
        return Err(ConfigError {
            name,
            problem: format!(
                "expected at least {} visible ASCII characters without spaces (value not shown)",
                Secret::MIN_LEN
            ),
        });
    }
    Ok(Some(Secret(key)))
}

/// Reads an optional whole number within `min..=max`; empty counts as unset.
fn parse<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    min: T,
    max: T,
) -> Result<Option<T>, ConfigError>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    let Some(text) = lookup(name).filter(|text| !text.trim().is_empty()) else {
        return Ok(None);
    };
    match text.trim().parse::<T>() {
        Ok(value) if value >= min && value <= max => Ok(Some(value)),
        _ => Err(ConfigError {
            name,
            problem: format!("expected a whole number from {min} to {max}, got {text:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    /// The host's port wins over the legacy name, which is used when alone.
    #[test]
    fn port_comes_from_either_name() {
        let both = [
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "7001"),
            ("FUNCTIONS_HTTPWORKER_PORT", "7002"),
        ];
        assert_eq!(settings(&both).map(|s| s.host_port), Ok(Some(7001)));
        let legacy = [("FUNCTIONS_HTTPWORKER_PORT", "7002")];
        assert_eq!(settings(&legacy).map(|s| s.host_port), Ok(Some(7002)));
        assert_eq!(settings(&[]).map(|s| s.host_port), Ok(None));
    }

    /// A bad port is an error naming the setting, never a panic.
    #[test]
    fn bad_port_names_the_setting() {
        for bad in ["abc", "0", "65536", "-1", "80x"] {
            let err = settings(&[("FUNCTIONS_CUSTOMHANDLER_PORT", bad)]).unwrap_err();
            assert_eq!(err.name, "FUNCTIONS_CUSTOMHANDLER_PORT");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    /// A key is read trimmed, is hidden from `Debug`, and a weak one is refused without being
    /// quoted.
    #[test]
    fn webhook_key_is_checked_and_hidden() {
        let key = "k3y-0123456789-abcdef";
        let padded = format!(" {key}\n");
        let read = settings(&[("WEBHOOK_KEY", &padded)]).unwrap();
        assert_eq!(read.webhook_key.as_ref().map(Secret::expose), Some(key));
        assert!(!format!("{read:?}").contains(key));
        for weak in ["short", "has a space in it, long enough"] {
            let err = settings(&[("WEBHOOK_KEY", weak)]).unwrap_err();
            assert_eq!(err.name, "WEBHOOK_KEY");
            assert!(!err.to_string().contains(weak), "{err}");
        }
        assert_eq!(
            settings(&[("WEBHOOK_KEY", "  ")]).unwrap().webhook_key,
            None
        );
    }

    /// Defaults apply when nothing is set.
    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.logic_timeout, Duration::from_secs(25));
        assert_eq!(s.max_body_bytes, 4 << 20);
        assert_eq!(s.shutdown_grace, Duration::from_secs(10));
        assert!(s.workers >= 1);
        assert_eq!(s.poison_dir, PathBuf::from("poison"));
        assert_eq!(s.webhook_key, None);
    }
}
