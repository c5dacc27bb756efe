//! The personal data in events, found in the fixtures themselves so that a new fixture is
//! covered without a list to update.

use serde_json::Value;

/// Members that hold personal data wherever they appear in an event's `data`: phone numbers and
/// BSUIDs, message text, captions, file names, button text and payloads, list and button titles,
/// list descriptions, reaction emoji, and the analysed message of analysis events.
const PERSONAL_MEMBERS: &[&str] = &[
    "from",
    "to",
    "fromBSUID",
    "toBSUID",
    "content",
    "caption",
    "fileName",
    "text",
    "payload",
    "title",
    "description",
    "emoji",
    "originalMessage",
];

/// Whether a fixture holds shared placeholders instead of personal data of its own (the seed
/// copies of the public documentation's examples).
pub fn is_seed(name: &str) -> bool {
    name.contains("-seed-")
}

/// The personal data in `event`: every non-empty string held by a personal member of its data,
/// at any depth, except GUIDs, which there are channel registration ids, not people.
pub fn markers(event: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect(&event["data"], None, &mut found);
    found.sort();
    found.dedup();
    found
}

/// Collects the personal strings under `value`, which is the member `key`, if any.
fn collect(value: &Value, key: Option<&str>, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            let personal = key.is_some_and(|key| PERSONAL_MEMBERS.contains(&key));
            if personal && !text.is_empty() && !is_guid(text) {
                found.push(text.clone());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, key, found)),
        Value::Object(members) => members
            .iter()
            .for_each(|(key, member)| collect(member, Some(key), found)),
        _ => {}
    }
}

/// Whether `text` is a GUID such as `0f0eb78e-a576-1dfc-b414-0f0756de3338`.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|group| group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The markers among `markers` that occur in `text`.
pub fn found_in<'a>(markers: &'a [String], text: &str) -> Vec<&'a str> {
    markers
        .iter()
        .filter(|marker| text.contains(marker.as_str()))
        .map(String::as_str)
        .collect()
}
