//! Mutation of events and host request bodies, for testing that whatever arrives gets a defined
//! answer: each mutation breaks a well-formed input the way a real fault or an attacker might.
//!
//! Mutations are drawn from a small seeded generator, so a failing case is reproduced from its
//! seed alone. Structural mutations work on the JSON tree; the ones JSON cannot express (duplicate
//! members, nesting past the parser's limits, numbers out of range, invalid UTF-8, truncation)
//! work on the text.

use serde_json::{Map, Value, json};

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same cases.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Member names the handler reads, to put where they do not belong.
const KNOWN_MEMBERS: &[&str] = &[
    "id",
    "eventType",
    "type",
    "specversion",
    "specVersion",
    "data",
    "data_base64",
    "eventTime",
    "time",
    "topic",
    "source",
    "subject",
    "messageType",
    "channelType",
    "content",
    "media",
    "animated",
    "reaction",
    "interactive",
    "buttonReply",
    "listReply",
    "button",
    "context",
    "status",
    "error",
    "receivedTimestamp",
    "receivedTimeStamp",
    "from",
    "fromBSUID",
    "to",
    "toBSUID",
];

/// Number literals that no Rust number type holds.
const OUT_OF_RANGE: &[&str] = &[
    "1e999",
    "-1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "1.7976931348623157e309",
    "1e-400",
    "123456789012345678901234567890123456789",
    "-0.0e-0",
];

/// Byte sequences that are not UTF-8.
const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\x80",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
    b"\xfe\xfe\xff\xff",
];

/// JSON text fragments that are valid JSON strings with awkward content.
const AWKWARD_STRINGS: &[&str] = &[
    r#""\ud800""#,
    r#""\udc00\ud800""#,
    r#""\u0000""#,
    r#""\\\"\/\b\f\n\r\t""#,
    "\"\u{202e}\u{200b}\u{feff}\"",
    r#""2026-02-30T25:61:61+24:00""#,
    r#""+275760-09-13T00:00:00Z""#,
];

/// An event given as JSON text, mutated by placing raw text where the tree has placeholders.
struct Draft {
    /// The event as a tree, with placeholder strings where raw text goes.
    tree: Value,
    /// The raw text of each placeholder, by number.
    raw: Vec<Vec<u8>>,
}

impl Draft {
    /// A placeholder for `text`, as a string value; JSON-escaped, it cannot occur in an event.
    fn placeholder(&mut self, text: Vec<u8>) -> String {
        self.raw.push(text);
        format!("\u{1}raw{}\u{1}", self.raw.len() - 1)
    }

    /// The event's bytes, with each placeholder replaced by its raw text.
    fn render(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec(&self.tree).expect("serialize the tree");
        for (n, raw) in self.raw.iter().enumerate().rev() {
            let quoted = format!("\"\\u0001raw{n}\\u0001\"");
            text = replace(&text, quoted.as_bytes(), raw);
        }
        text
    }
}

/// `haystack` with every `needle` replaced by `with`.
fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len() + with.len());
    let mut rest = haystack;
    while let Some(at) = rest
        .windows(needle.len())
        .position(|window| window == needle)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// The paths of every node in `tree`, the root first, as member names and indexes.
fn paths(tree: &Value) -> Vec<Vec<Step>> {
    let mut all = vec![Vec::new()];
    let mut next = 0;
    while next < all.len() {
        let path = all[next].clone();
        next += 1;
        match node(tree, &path) {
            Some(Value::Object(members)) => {
                for key in members.keys() {
                    all.push([path.clone(), vec![Step::Key(key.clone())]].concat());
                }
            }
            Some(Value::Array(items)) => {
                for index in 0..items.len() {
                    all.push([path.clone(), vec![Step::Index(index)]].concat());
                }
            }
            _ => {}
        }
    }
    all
}

/// One step of a path into a JSON tree.
#[derive(Debug, Clone)]
enum Step {
    /// A member of an object.
    Key(String),
    /// An item of an array.
    Index(usize),
}

/// The node at `path`.
fn node<'a>(tree: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(tree, |at, step| match step {
        Step::Key(key) => at.get(key),
        Step::Index(index) => at.get(index),
    })
}

/// The node at `path`, to change.
fn node_mut<'a>(tree: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(tree, |at, step| match step {
        Step::Key(key) => at.get_mut(key),
        Step::Index(index) => at.get_mut(index),
    })
}

/// A value of a JSON type other than `than`'s, or of any type.
fn other_type(rng: &mut Rng, than: &Value) -> Value {
    let candidates = [
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
        json!([1, "a", null]),
        json!({"k": "v"}),
    ];
    loop {
        let value = rng.pick(&candidates).clone();
        if std::mem::discriminant(&value) != std::mem::discriminant(than) || rng.one_in(4) {
            return value;
        }
    }
}

/// A long string of awkward characters: quotes, escapes, controls, emoji and right-to-left text.
fn huge_string(rng: &mut Rng) -> String {
    let length = if rng.one_in(100) {
        1 << 20
    } else {
        1 << (8 + rng.below(8))
    };
    let pieces = [
        "a",
        "\"",
        "\\",
        "\n",
        "\u{0}",
        "🧪",
        "مرحبا",
        "\u{7f}",
        " ",
        "%s",
    ];
    let mut text = String::with_capacity(length + 8);
    while text.len() < length {
        let piece: &&str = rng.pick(&pieces);
        text.push_str(piece);
    }
    text
}

/// Nesting `depth` levels deep around `inner`, in arrays or objects.
fn nested(rng: &mut Rng, depth: usize, inner: &[u8]) -> Vec<u8> {
    let (open, close): (&[u8], &[u8]) = if rng.one_in(2) {
        (b"[", b"]")
    } else {
        (b"{\"a\":", b"}")
    };
    let mut text = Vec::with_capacity(depth * (open.len() + 1) + inner.len());
    for _ in 0..depth {
        text.extend_from_slice(open);
    }
    text.extend_from_slice(inner);
    for _ in 0..depth {
        text.extend_from_slice(close);
    }
    text
}

/// Applies one to three mutations to `event` and returns its text, which may not be JSON at all.
pub fn mutate_event(rng: &mut Rng, event: &Value) -> Vec<u8> {
    let mut draft = Draft {
        tree: event.clone(),
        raw: Vec::new(),
    };
    let mut bytes_level = Vec::new();
    for _ in 0..=rng.below(3) {
        let all = paths(&draft.tree);
        let path = rng.pick(&all).clone();
        let Some(target) = node(&draft.tree, &path).cloned() else {
            continue;
        };
        match rng.below(11) {
            // Delete the node from its parent.
            0 => delete(&mut draft.tree, &path),

            // Give it another JSON type.
            1 => set(&mut draft.tree, &path, other_type(rng, &target)),

            // Repeat one of its members, when it is an object with some.
            2 => {
                if let Value::Object(members) = &target
                    && let Some(key) = members.keys().nth(rng.below(members.len().max(1)))
                {
                    let name = serde_json::to_vec(key).expect("key");
                    let placeholder = draft.placeholder(name);
                    let copy = members[key].clone();
                    if let Some(Value::Object(members)) = node_mut(&mut draft.tree, &path) {
                        members.insert(placeholder, copy);
                    }
                }
            }

            // Make it a huge string.
            3 => set(&mut draft.tree, &path, Value::String(huge_string(rng))),

            // Nest it deeply, near and past the parser's limit of 128.
            4 => {
                let depth = *rng.pick(&[2, 64, 127, 128, 129, 1000, 20_000]);
                let inner = serde_json::to_vec(&target).expect("node");
                let raw = nested(rng, depth, &inner);
                let placeholder = draft.placeholder(raw);
                set(&mut draft.tree, &path, Value::String(placeholder));
            }

            // Make it a number out of every type's range.
            5 => {
                let raw = rng.pick(OUT_OF_RANGE).as_bytes().to_vec();
                let placeholder = draft.placeholder(raw);
                set(&mut draft.tree, &path, Value::String(placeholder));
            }

            // Make it a string with invalid UTF-8 or awkward escapes.
            6 => {
                let raw = if rng.one_in(2) {
                    [b"\"ok".as_slice(), *rng.pick(INVALID_UTF8), b"\""].concat()
                } else {
                    rng.pick(AWKWARD_STRINGS).as_bytes().to_vec()
                };
                let placeholder = draft.placeholder(raw);
                set(&mut draft.tree, &path, Value::String(placeholder));
            }

            // Add a member the handler reads, with a value of any type.
            7 => {
                if let Some(Value::Object(members)) = node_mut(&mut draft.tree, &path) {
                    let name = (*rng.pick(KNOWN_MEMBERS)).to_owned();
                    members.insert(name, other_type(rng, &Value::Null));
                }
            }

            // Rename a member to a name nobody reads.
            8 => rename(&mut draft.tree, &path, rng),

            // Truncate the text, or put a foreign byte in it, after the tree is done.
            9 => bytes_level.push(true),
            _ => bytes_level.push(false),
        }
    }
    let mut text = draft.render();
    for truncate in bytes_level {
        if text.is_empty() {
            break;
        }
        let at = rng.below(text.len());
        if truncate {
            text.truncate(at);
        } else {
            let insert = if rng.one_in(2) {
                rng.pick(INVALID_UTF8).to_vec()
            } else {
                vec![*rng.pick(&[b'{', b'}', b'[', b']', b'"', b',', b':', b'\\', 0, b'\n'])]
            };
            text.splice(at..at, insert);
        }
    }
    text
}

/// Removes the node at `path` from its parent; the root becomes `null`.
fn delete(tree: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        *tree = Value::Null;
        return;
    };
    match (node_mut(tree, parent), last) {
        (Some(Value::Object(members)), Step::Key(key)) => {
            members.remove(key);
        }
        (Some(Value::Array(items)), Step::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}

/// Replaces the node at `path`.
fn set(tree: &mut Value, path: &[Step], value: Value) {
    if let Some(slot) = node_mut(tree, path) {
        *slot = value;
    }
}

/// Renames the member at `path` to a new name.
fn rename(tree: &mut Value, path: &[Step], rng: &mut Rng) {
    let Some((Step::Key(key), parent)) = path.split_last() else {
        return;
    };
    if let Some(Value::Object(members)) = node_mut(tree, parent)
        && let Some(value) = members.remove(key)
    {
        members.insert(format!("renamed{}", rng.below(1000)), value);
    }
}

/// Wraps event text as the host's invocation body; `as_string` sends it as a JSON string
/// holding the text, as string-typed triggers do (the text is then read as UTF-8, lossily).
pub fn host_body_around(event: &[u8], as_string: bool) -> Vec<u8> {
    let event = if as_string {
        serde_json::to_vec(&String::from_utf8_lossy(event)).expect("string")
    } else {
        event.to_vec()
    };
    [
        br#"{"Data":{"eventGridEvent":"#.as_slice(),
        &event,
        br#"},"Metadata":{"sys":{"MethodName":"EventGridTrigger","UtcNow":"2026-12-03"}}}"#,
    ]
    .concat()
}

/// Applies one mutation to a host invocation body.
pub fn mutate_body(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let event = || -> Value {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|body| body["Data"].get("eventGridEvent").cloned())
            .unwrap_or(Value::Null)
    };
    match rng.below(10) {
        // Truncate it.
        0 => body[..rng.below(body.len().max(1))].to_vec(),

        // Drop `Data`, or give it another type.
        1 => br#"{"Metadata":{"sys":{"MethodName":"EventGridTrigger"}}}"#.to_vec(),
        2 => {
            let data = other_type(rng, &json!({}));
            serde_json::to_vec(&json!({"Data": data})).expect("body")
        }

        // Put the event under another binding name, alone or beside others.
        3 => serde_json::to_vec(&json!({"Data": {"other": event()}})).expect("body"),
        4 => serde_json::to_vec(&json!({"Data": {"a": event(), "b": 1}})).expect("body"),

        // Garbage after the body, or a byte order mark before it.
        5 => [body, b" }garbage"].concat(),
        6 => [b"\xef\xbb\xbf".as_slice(), body].concat(),

        // `Data`, or the whole body, as an array holding what belongs in an object.
        7 => serde_json::to_vec(&json!({"Data": [event()]})).expect("body"),
        8 => serde_json::to_vec(&json!([{"eventGridEvent": event()}])).expect("body"),

        // A body that is not an object at all.
        _ => {
            let mut members = Map::new();
            members.insert("Data".into(), json!({"eventGridEvent": event()}));
            serde_json::to_vec(&vec![Value::Object(members)]).expect("body")
        }
    }
}
