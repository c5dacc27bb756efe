//! A stand-in for ACS and the identity endpoint: a tiny HTTP/1.1 server on `127.0.0.1:0` that
//! records every request exactly as it arrived and answers through a closure, plus an
//! independent check of ACS's HMAC-SHA256 request signature.

#![allow(dead_code)]

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request line's target: path and query exactly as sent.
    pub target: String,
    /// Every header, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(header, _)| *header == name)
            .map(|(_, value)| value.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query parameters, undecoded.
    pub fn query(&self) -> Vec<(&str, &str)> {
        self.target
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// An answer to write back.
#[derive(Debug, Clone)]
pub struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    /// An empty answer with `status`.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::status(status)
            .header("content-type", "application/json")
            .body(body.to_string().into_bytes())
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

/// What the server does with a request.
pub enum Reply {
    /// Answer at once.
    Now(Answer),
    /// Answer after a pause.
    After(Duration, Answer),
    /// Keep the connection open and never answer.
    Never,
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A running test server; it stops with the test's runtime.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    /// Starts a server answering every request through `handler`.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);

        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&handler), Arc::clone(&recorded)));
            }
        });

        Self {
            base_url: format!("http://{address}"),
            requests,
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("not poisoned").clone()
    }

    /// How many requests so far had a path starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.path().starts_with(prefix))
            .count()
    }
}

/// Serves one connection: requests in turn until the client closes it.
async fn serve(mut stream: TcpStream, handler: Arc<Handler>, recorded: Arc<Mutex<Vec<Recorded>>>) {
    let mut buffer = Vec::new();

    while let Some(request) = read_request(&mut stream, &mut buffer).await {
        recorded.lock().expect("not poisoned").push(request.clone());

        let answer = match handler(&request) {
            Reply::Now(answer) => answer,
            Reply::After(pause, answer) => {
                tokio::time::sleep(pause).await;
                answer
            }
            Reply::Never => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
        };
        if write_answer(&mut stream, &answer).await.is_err() {
            return;
        }
    }
}

/// Reads one request; `None` when the connection closes first.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Recorded> {
    // Read until the blank line that ends the head.
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0_u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };

    // Parse the request line and headers.
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("the head is UTF-8");
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().expect("a request line").split(' ');
    let method = request_line.next().expect("a method").to_owned();
    let target = request_line.next().expect("a target").to_owned();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("a header line");
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    assert!(
        !headers.iter().any(|(name, _)| name == "transfer-encoding"),
        "the client should send a Content-Length, not a chunked body"
    );

    // Read exactly Content-Length bytes of body.
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map(|(_, value)| value.parse().expect("a numeric Content-Length"))
        .unwrap_or(0);
    buffer.drain(..head_end + 4);
    while buffer.len() < length {
        let mut chunk = [0_u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body: Vec<u8> = buffer.drain(..length).collect();

    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

/// Writes one answer with a Content-Length.
async fn write_answer(stream: &mut TcpStream, answer: &Answer) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} Test\r\ncontent-length: {}\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");

    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&answer.body).await?;
    stream.flush().await
}

/// Checks an ACS request's signature from scratch with the decoded access `key`: the content
/// hash against the body received, the date's freshness, and the HMAC over the method, the
/// target as received, the date, the `Host` header and the hash.
pub fn verify_signature(request: &Recorded, key: &[u8]) -> Result<(), String> {
    let header = |name: &str| {
        request
            .header(name)
            .ok_or_else(|| format!("no {name} header"))
    };

    // The body hash must match the bytes that arrived.
    let content_hash = header("x-ms-content-sha256")?;
    let expected_hash = STANDARD.encode(Sha256::digest(&request.body));
    if content_hash != expected_hash {
        return Err(format!(
            "x-ms-content-sha256 {content_hash} does not match the body ({expected_hash})"
        ));
    }

    // The date must be RFC 1123 GMT and recent.
    let date = header("x-ms-date")?;
    let sent = httpdate::parse_http_date(date).map_err(|_| format!("bad x-ms-date {date}"))?;
    if !date.ends_with(" GMT") {
        return Err(format!("x-ms-date {date} is not in GMT"));
    }
    let skew = SystemTime::now()
        .duration_since(sent)
        .unwrap_or_else(|err| err.duration());
    if skew > Duration::from_secs(60) {
        return Err(format!("x-ms-date {date} is {skew:?} off"));
    }

    // The Authorization header must carry the HMAC of the string to sign.
    let authorization = header("authorization")?;
    let signature = authorization
        .strip_prefix("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=")
        .ok_or_else(|| format!("unexpected Authorization layout: {authorization}"))?;
    let string_to_sign = format!(
        "{}\n{}\n{date};{};{content_hash}",
        request.method,
        request.target,
        header("host")?
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length works");
    mac.update(string_to_sign.as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    if signature != expected {
        return Err(format!(
            "signature {signature} is not {expected} for {string_to_sign:?}"
        ));
    }

    Ok(())
}

/// Whether `text` looks like a UUID: `8-4-4-4-12` hex digits.
pub fn is_uuid(text: &str) -> bool {
    let lengths: Vec<usize> = text.split('-').map(str::len).collect();
    lengths == [8, 4, 4, 4, 12] && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}
