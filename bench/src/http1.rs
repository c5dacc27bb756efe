//! The client side of HTTP/1.1, written by hand over a tokio `TcpStream`.
//!
//! One request in flight per connection, kept alive between requests. A request is written as
//! ready-made bytes; the answer's head is read and parsed, then its body, framed by
//! `Content-Length` or by chunked transfer coding, is read whole. Nothing else is done per
//! request, so the time measured is the server's plus the loopback's.

use std::{fmt, io, net::SocketAddr};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Room for the answer's head and body before the buffer must grow.
const INITIAL_BUFFER: usize = 16 * 1024;

/// The largest answer accepted; anything bigger is a fault of the server.
const MAX_ANSWER: usize = 1024 * 1024;

/// Why an exchange failed.
///
/// A plain enum rather than a boxed error: it is made on the hot path and only counted.
#[derive(Debug)]
pub enum WireError {
    /// The socket failed.
    Io(io::Error),
    /// The server closed the connection before the answer was complete.
    Closed,
    /// The answer was not HTTP/1.1 as this client reads it.
    Malformed(&'static str),
    /// The answer was larger than [`MAX_ANSWER`].
    TooLarge,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(err) => write!(f, "i/o error: {err}"),
            WireError::Closed => f.write_str("connection closed before the answer was complete"),
            WireError::Malformed(what) => write!(f, "malformed answer: {what}"),
            WireError::TooLarge => write!(f, "answer larger than {MAX_ANSWER} bytes"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<io::Error> for WireError {
    fn from(err: io::Error) -> Self {
        WireError::Io(err)
    }
}

/// What the client learned from one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Whether the server keeps the connection open for the next request.
    pub keep_alive: bool,
    /// Whether the content type says JSON and the body is a JSON object, as the host requires.
    pub json_object: bool,
}

/// How the length of the answer's body is known.
enum Framing {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No body: 1xx, 204 and 304 answers.
    Empty,
    /// Neither: the body ends when the server closes the connection.
    UntilClose,
}

/// A kept-alive connection to one server.
pub struct Connection {
    /// The socket.
    stream: TcpStream,
    /// Bytes read and not yet consumed; `buf[..filled]` is valid.
    buf: Vec<u8>,
    /// How much of `buf` holds data.
    filled: usize,
    /// The last answer's body, decoded from its framing.
    body: Vec<u8>,
}

impl Connection {
    /// Connects to `addr` with Nagle's algorithm off.
    ///
    /// # Errors
    ///
    /// Fails when the connection is refused or the socket cannot be set up.
    pub async fn open(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buf: vec![0; INITIAL_BUFFER],
            filled: 0,
            body: Vec::new(),
        })
    }

    /// Sends `request` and reads the whole answer.
    ///
    /// # Errors
    ///
    /// Fails on a socket error, an early close, or an answer that cannot be parsed.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Answer, WireError> {
        self.stream.write_all(request).await?;

        // Read the head and learn the framing.
        let head_end = self.read_head().await?;
        let head = Head::parse(&self.buf[..head_end])?;

        // Read the body whole.
        self.body.clear();
        let end = match head.framing {
            Framing::Length(len) => {
                self.fill_to(head_end + len).await?;
                self.body
                    .extend_from_slice(&self.buf[head_end..head_end + len]);
                head_end + len
            }
            Framing::Chunked => self.read_chunked(head_end).await?,
            Framing::Empty => head_end,
            Framing::UntilClose => self.read_to_close(head_end).await?,
        };
        self.consume(end);

        let json_object = head.json && self.body.trim_ascii_start().first() == Some(&b'{');
        let keep_alive = head.keep_alive && !matches!(head.framing, Framing::UntilClose);
        Ok(Answer {
            status: head.status,
            keep_alive,
            json_object,
        })
    }

    /// The last answer's body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Reads until the buffer holds a whole head; returns where the body starts.
    async fn read_head(&mut self) -> Result<usize, WireError> {
        let mut scanned = 0;
        loop {
            if let Some(at) = find(&self.buf[scanned..self.filled], b"\r\n\r\n") {
                return Ok(scanned + at + 4);
            }
            scanned = self.filled.saturating_sub(3);
            self.read_more().await?;
        }
    }

    /// Reads the chunks that start at `at`; returns where the answer ends.
    async fn read_chunked(&mut self, mut at: usize) -> Result<usize, WireError> {
        loop {
            // The size line, hex digits possibly followed by `;extensions`.
            let line_end = self.find_crlf(at).await?;
            let size_text = self.buf[at..line_end]
                .split(|&b| b == b';')
                .next()
                .unwrap_or(&[]);
            let size =
                parse_hex(size_text.trim_ascii()).ok_or(WireError::Malformed("bad chunk size"))?;
            at = line_end + 2;

            // The last chunk: skip trailers up to the empty line.
            if size == 0 {
                loop {
                    let line_end = self.find_crlf(at).await?;
                    let empty = line_end == at;
                    at = line_end + 2;
                    if empty {
                        return Ok(at);
                    }
                }
            }

            // The chunk's data and its closing CRLF.
            let data_end = at.checked_add(size).ok_or(WireError::TooLarge)?;
            self.fill_to(data_end + 2).await?;
            if &self.buf[data_end..data_end + 2] != b"\r\n" {
                return Err(WireError::Malformed("chunk not closed by CRLF"));
            }
            self.body.extend_from_slice(&self.buf[at..data_end]);
            at = data_end + 2;
        }
    }

    /// Reads a body that ends with the connection; returns where it ends.
    async fn read_to_close(&mut self, at: usize) -> Result<usize, WireError> {
        loop {
            match self.read_more().await {
                Ok(()) => {}
                Err(WireError::Closed) => break,
                Err(err) => return Err(err),
            }
        }
        self.body.extend_from_slice(&self.buf[at..self.filled]);
        Ok(self.filled)
    }

    /// Reads until a CRLF follows `from`; returns its position.
    async fn find_crlf(&mut self, from: usize) -> Result<usize, WireError> {
        loop {
            if let Some(at) = find(&self.buf[from..self.filled], b"\r\n") {
                return Ok(from + at);
            }
            self.read_more().await?;
        }
    }

    /// Reads until the buffer holds at least `len` bytes.
    async fn fill_to(&mut self, len: usize) -> Result<(), WireError> {
        if len > MAX_ANSWER {
            return Err(WireError::TooLarge);
        }
        while self.filled < len {
            self.read_more().await?;
        }
        Ok(())
    }

    /// Reads what the socket has, growing the buffer when it is full.
    async fn read_more(&mut self) -> Result<(), WireError> {
        if self.filled == self.buf.len() {
            if self.buf.len() >= MAX_ANSWER {
                return Err(WireError::TooLarge);
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        match self.stream.read(&mut self.buf[self.filled..]).await? {
            0 => Err(WireError::Closed),
            n => {
                self.filled += n;
                Ok(())
            }
        }
    }

    /// Drops the first `end` bytes of the buffer, keeping any that follow.
    fn consume(&mut self, end: usize) {
        self.buf.copy_within(end..self.filled, 0);
        self.filled -= end;
    }
}

/// The parts of an answer's head that the client uses.
struct Head {
    /// The status code.
    status: u16,
    /// How the body is framed.
    framing: Framing,
    /// Whether the connection stays open (HTTP/1.1 without `Connection: close`).
    keep_alive: bool,
    /// Whether `Content-Type` names JSON.
    json: bool,
}

impl Head {
    /// Parses a head, status line to the empty line.
    fn parse(head: &[u8]) -> Result<Head, WireError> {
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|line| line.trim_ascii_end());

        // `HTTP/1.1 200 OK`
        let status_line = lines.next().unwrap_or(&[]);
        if status_line.len() < 12 || !status_line.starts_with(b"HTTP/1.") {
            return Err(WireError::Malformed("bad status line"));
        }
        let status = parse_decimal(&status_line[9..12])
            .and_then(|code| u16::try_from(code).ok())
            .ok_or(WireError::Malformed("bad status code"))?;
        let mut keep_alive = status_line[7] == b'1';

        // The headers that matter here.
        let (mut length, mut chunked, mut json) = (None, false, false);
        for line in lines.filter(|line| !line.is_empty()) {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                return Err(WireError::Malformed("header without a colon"));
            };
            let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"content-length") {
                length = Some(parse_decimal(value).ok_or(WireError::Malformed("bad length"))?);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = contains_ignore_case(value, b"chunked");
            } else if name.eq_ignore_ascii_case(b"connection") {
                if contains_ignore_case(value, b"close") {
                    keep_alive = false;
                } else if contains_ignore_case(value, b"keep-alive") {
                    keep_alive = true;
                }
            } else if name.eq_ignore_ascii_case(b"content-type") {
                json = contains_ignore_case(value, b"json");
            }
        }

        let framing = match (status, chunked, length) {
            (100..=199 | 204 | 304, _, _) => Framing::Empty,
            (_, true, _) => Framing::Chunked,
            (_, false, Some(len)) => Framing::Length(len),
            (_, false, None) => Framing::UntilClose,
        };
        Ok(Head {
            status,
            framing,
            keep_alive,
            json,
        })
    }
}

/// Finds the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Whether `haystack` contains `needle`, ASCII case ignored.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Parses non-empty decimal digits.
fn parse_decimal(digits: &[u8]) -> Option<usize> {
    std::str::from_utf8(digits)
        .ok()
        .filter(|s| !s.is_empty())?
        .parse()
        .ok()
}

/// Parses non-empty hex digits.
fn parse_hex(digits: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(digits).ok().filter(|s| !s.is_empty())?;
    usize::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use tokio::{io::AsyncWriteExt, net::TcpListener};

    use super::*;

    /// Serves `answers` in order on one connection, reading one request before each.
    async fn serve(answers: Vec<&'static [u8]>) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            for answer in answers {
                if socket.read(&mut buf).await.is_err() {
                    return;
                }
                // Split the answer in two writes to exercise partial reads.
                let (first, second) = answer.split_at(answer.len() / 2);
                let _ = socket.write_all(first).await;
                let _ = socket.flush().await;
                let _ = socket.write_all(second).await;
            }
        });
        Ok(addr)
    }

    /// Length-framed and chunked answers are read whole on one kept-alive connection.
    #[tokio::test]
    async fn reads_both_framings_on_one_connection() -> Result<(), Box<dyn std::error::Error>> {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/json\r\n\r\n\
              3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n",
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\n\
              oops",
        ])
        .await?;
        let mut conn = Connection::open(addr).await?;

        let first = conn.exchange(b"GET / HTTP/1.1\r\n\r\n").await?;
        assert_eq!(
            first,
            Answer {
                status: 200,
                keep_alive: true,
                json_object: true
            }
        );

        let second = conn.exchange(b"GET / HTTP/1.1\r\n\r\n").await?;
        assert_eq!(
            second,
            Answer {
                status: 200,
                keep_alive: true,
                json_object: true
            }
        );
        assert_eq!(conn.body(), b"{\"a\":1}");

        let third = conn.exchange(b"GET / HTTP/1.1\r\n\r\n").await?;
        assert_eq!(
            third,
            Answer {
                status: 500,
                keep_alive: false,
                json_object: false
            }
        );
        assert_eq!(conn.body(), b"oops");
        Ok(())
    }

    /// A connection closed mid-answer is an error, not a short answer.
    #[tokio::test]
    async fn early_close_is_an_error() -> Result<(), Box<dyn std::error::Error>> {
        let addr = serve(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}"]).await?;
        let mut conn = Connection::open(addr).await?;
        let result = conn.exchange(b"GET / HTTP/1.1\r\n\r\n").await;
        assert!(matches!(result, Err(WireError::Closed)));
        Ok(())
    }
}
