//! The reference application's settings, read from the environment and checked at start.
//!
//! | setting | default | meaning |
//! | --- | --- | --- |
//! | `ACS_CONNECTION_STRING` | none | `endpoint=…;accesskey=…`: sign with the access key |
//! | `ACS_ENDPOINT` | none | the resource's endpoint, used with the managed identity |
//! | `ACS_MANAGED_IDENTITY_CLIENT_ID` | none | client id of a user-assigned identity |
//! | `AUTO_REPLY_TEXT` | none | the reply; unset means no replies |
//! | `AUTO_REPLY_KINDS` | all but `reaction`, `unknown` | kinds to reply to, or `all` |
//! | `ACS_CHANNEL_REGISTRATION_ID` | the channel each message arrived on | channel to reply from |
//! | `ACS_TIMEOUT_MS` | 10000 | timeout of each call to ACS |
//! | `MESSAGE_STORE_CAPACITY` | 1000 | messages kept in memory, each of received and sent |

use std::{collections::BTreeSet, time::Duration};

use crate::{
    acs::{AcsClient, ClientOptions, Credential, ManagedIdentity},
    config::ConfigError,
    events::MessageKind,
};

/// Every kind of message, by its name in settings.
const KINDS: [MessageKind; 11] = [
    MessageKind::Text,
    MessageKind::Image,
    MessageKind::Document,
    MessageKind::Video,
    MessageKind::Audio,
    MessageKind::Sticker,
    MessageKind::Reaction,
    MessageKind::TemplateButtonReply,
    MessageKind::InteractiveButtonReply,
    MessageKind::InteractiveListReply,
    MessageKind::Unknown,
];

/// WhatsApp's limit on a text message's length, in characters.
const MAX_TEXT_CHARS: usize = 4096;

/// How replies are sent, when they are.
#[derive(Debug, Clone)]
pub struct ReplySettings {
    /// The client for the Messages API.
    pub client: AcsClient,
    /// The reply's text.
    pub text: String,
    /// The kinds of message that get a reply.
    pub kinds: BTreeSet<&'static str>,
    /// The channel to reply from, instead of the one the message arrived on.
    pub channel_override: Option<String>,
}

/// The reference application's settings.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// How replies are sent; `None` when replies are off.
    pub reply: Option<ReplySettings>,
    /// Why replies are off, for the start-up log line.
    pub replies_off_because: Option<&'static str>,
    /// Messages kept in memory, each of received and sent.
    pub store_capacity: usize,
}

impl AppSettings {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    ///
    /// Returns the first setting whose value cannot be used, never quoting a secret.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`.
    ///
    /// # Errors
    ///
    /// Returns the first setting whose value cannot be used, never quoting a secret.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let store_capacity = number(&get, "MESSAGE_STORE_CAPACITY", 1, 10_000_000)?
            .map_or(1_000, |capacity| {
                usize::try_from(capacity).unwrap_or(usize::MAX)
            });
        let timeout =
            Duration::from_millis(number(&get, "ACS_TIMEOUT_MS", 1, 120_000)?.unwrap_or(10_000));

        // Read the reply, checking it against WhatsApp's limit.
        let text = lookup("AUTO_REPLY_TEXT").filter(|text| !text.trim().is_empty());
        if text
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(invalid(
                "AUTO_REPLY_TEXT",
                "longer than WhatsApp's 4096 characters",
            ));
        }
        let kinds = reply_kinds(get("AUTO_REPLY_KINDS"))?;
        let channel_override = get("ACS_CHANNEL_REGISTRATION_ID");

        // Build the client from whichever credential is configured.
        let options = ClientOptions {
            timeout,
            ..ClientOptions::default()
        };
        let client = client(&get, options)?;
        let (reply, replies_off_because) = match (client, text) {
            (Some(client), Some(text)) => (
                Some(ReplySettings {
                    client,
                    text,
                    kinds,
                    channel_override,
                }),
                None,
            ),
            (Some(_), None) => (None, Some("AUTO_REPLY_TEXT is not set")),
            (None, Some(_)) => {
                return Err(invalid(
                    "AUTO_REPLY_TEXT",
                    "replies need ACS_CONNECTION_STRING or ACS_ENDPOINT to be set too",
                ));
            }
            (None, None) => (
                None,
                Some("no ACS credentials or AUTO_REPLY_TEXT are configured"),
            ),
        };
        Ok(Self {
            reply,
            replies_off_because,
            store_capacity,
        })
    }
}

/// The ACS client, if a credential is configured.
fn client(
    get: &impl Fn(&str) -> Option<String>,
    options: ClientOptions,
) -> Result<Option<AcsClient>, ConfigError> {
    match (get("ACS_CONNECTION_STRING"), get("ACS_ENDPOINT")) {
        (Some(_), Some(_)) => Err(invalid(
            "ACS_ENDPOINT",
            "set either ACS_CONNECTION_STRING (access key) or ACS_ENDPOINT (managed identity), \
             not both",
        )),
        (Some(connection_string), None) => {
            AcsClient::from_connection_string(&connection_string, options)
                .map(Some)
                .map_err(|err| invalid("ACS_CONNECTION_STRING", &err.to_string()))
        }
        (None, Some(endpoint)) => {
            let identity = ManagedIdentity::from_lookup(get, get("ACS_MANAGED_IDENTITY_CLIENT_ID"))
                .map_err(|err| {
                    invalid("ACS_ENDPOINT", &format!("needs a managed identity: {err}"))
                })?;
            AcsClient::new(&endpoint, Credential::ManagedIdentity(identity), options)
                .map(Some)
                .map_err(|err| invalid("ACS_ENDPOINT", &err.to_string()))
        }
        (None, None) => Ok(None),
    }
}

/// The kinds that get a reply: a comma-separated list of kind names, or `all`.
fn reply_kinds(setting: Option<String>) -> Result<BTreeSet<&'static str>, ConfigError> {
    let Some(setting) = setting else {
        let default = KINDS
            .iter()
            .filter(|kind| !matches!(kind, MessageKind::Reaction | MessageKind::Unknown));
        return Ok(default.map(|kind| kind.as_str()).collect());
    };
    if setting.eq_ignore_ascii_case("all") {
        return Ok(KINDS.iter().map(|kind| kind.as_str()).collect());
    }
    let mut kinds = BTreeSet::new();
    for name in setting
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let kind = KINDS
            .iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = KINDS.iter().map(|kind| kind.as_str()).collect();
                invalid(
                    "AUTO_REPLY_KINDS",
                    &format!("unknown kind {name:?}; known: {}, or all", known.join(", ")),
                )
            })?;
        kinds.insert(kind.as_str());
    }
    Ok(kinds)
}

/// Reads an optional whole number within `min..=max`.
fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    let Some(text) = get(name) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(Some(value)),
        _ => Err(invalid(
            name,
            &format!("expected a whole number from {min} to {max}, got {text:?}"),
        )),
    }
}

/// A [`ConfigError`] for `name`.
fn invalid(name: &'static str, problem: &str) -> ConfigError {
    ConfigError {
        name,
        problem: problem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings from pairs.
    fn settings(pairs: &[(&str, &str)]) -> Result<AppSettings, ConfigError> {
        AppSettings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    const CONNECTION: &str = "endpoint=http://127.0.0.1:9/;accesskey=cHc=";

    /// Nothing configured: the application runs with replies off and says why.
    #[test]
    fn nothing_configured_means_replies_off() {
        let app = settings(&[]).unwrap();
        assert!(app.reply.is_none());
        assert!(app.replies_off_because.is_some());
        assert_eq!(app.store_capacity, 1_000);
    }

    /// A connection string and a text turn replies on for every kind but reactions and unknown.
    #[test]
    fn replies_on_with_defaults() {
        let app = settings(&[
            ("ACS_CONNECTION_STRING", CONNECTION),
            ("AUTO_REPLY_TEXT", "Thanks!"),
        ])
        .unwrap();
        let reply = app.reply.unwrap();
        assert!(reply.kinds.contains("text") && reply.kinds.contains("interactive_list_reply"));
        assert!(!reply.kinds.contains("reaction") && !reply.kinds.contains("unknown"));
    }

    /// Bad values are one-line errors naming the setting, and never quote the key.
    #[test]
    fn bad_values_name_the_setting() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[(
                    "ACS_CONNECTION_STRING",
                    "endpoint=nope;accesskey=c2VjcmV0LWtleQ==",
                )],
                "ACS_CONNECTION_STRING",
            ),
            (&[("AUTO_REPLY_TEXT", "hi")], "AUTO_REPLY_TEXT"),
            (
                &[
                    ("ACS_CONNECTION_STRING", CONNECTION),
                    ("ACS_ENDPOINT", "https://x.communication.azure.com"),
                ],
                "ACS_ENDPOINT",
            ),
            (&[("AUTO_REPLY_KINDS", "text,selfie")], "AUTO_REPLY_KINDS"),
            (
                &[("ACS_ENDPOINT", "https://x.communication.azure.com")],
                "ACS_ENDPOINT",
            ),
        ];
        for (pairs, name) in cases {
            let err = settings(pairs).unwrap_err();
            assert_eq!(err.name, name);
            assert!(
                !err.to_string().contains("c2VjcmV0LWtleQ") && !err.to_string().contains('\n'),
                "{err}"
            );
        }
    }

    /// `AUTO_REPLY_KINDS` takes a list or `all`.
    #[test]
    fn reply_kinds_setting() {
        let pick = |value: &str| {
            settings(&[
                ("ACS_CONNECTION_STRING", CONNECTION),
                ("AUTO_REPLY_TEXT", "x"),
                ("AUTO_REPLY_KINDS", value),
            ])
            .unwrap()
            .reply
            .unwrap()
            .kinds
        };
        assert_eq!(
            pick("text, reaction").into_iter().collect::<Vec<_>>(),
            ["reaction", "text"]
        );
        assert_eq!(pick("all").len(), 11);
    }
}
