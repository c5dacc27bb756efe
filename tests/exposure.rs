//! Exposure: under the host the handler listens on 127.0.0.1 only, and the secrets in its
//! environment (the ACS access key, the storage account key) never reach its logs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    collections::HashSet,
    net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket},
    thread,
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use support::{Framing, Handler, fixture, free_port};

/// The socket inodes the process `pid` holds open.
fn socket_inodes(pid: u32) -> HashSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list the process's files")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect()
}

/// The local addresses, as `/proc/net/<table>` writes them, of the listening sockets among
/// `inodes`.
fn listening(table: &str, inodes: &HashSet<String>) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/net/{table}")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let listens = fields.get(3) == Some(&"0A");
            let ours = fields.get(9).is_some_and(|inode| inodes.contains(*inode));
            (listens && ours).then(|| fields[1].to_owned())
        })
        .collect()
}

/// Whether a connection to `address` is refused or cannot be made.
fn unreachable(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err()
}

/// This machine's address on its default route, if it has one besides loopback.
fn outward_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let address = socket.local_addr().ok()?.ip();
    (!address.is_loopback() && !address.is_unspecified()).then_some(address)
}

/// The handler's only listening socket is 127.0.0.1 on the host's port: nothing on IPv6, and
/// other addresses of this machine, loopback or not, refuse connections.
#[test]
fn listens_on_ipv4_loopback_only() {
    let handler = Handler::start(&[]);
    let port = handler.port;
    let inodes = socket_inodes(handler.pid());
    assert_eq!(
        listening("tcp", &inodes),
        [format!("0100007F:{port:04X}")],
        "IPv4 listening sockets"
    );
    assert!(
        listening("tcp6", &inodes).is_empty(),
        "IPv6 listening sockets"
    );

    // Only 127.0.0.1 answers.
    assert!(!unreachable(SocketAddr::from((Ipv4Addr::LOCALHOST, port))));
    assert!(unreachable(SocketAddr::from((
        Ipv4Addr::new(127, 0, 0, 2),
        port
    ))));
    assert!(unreachable(SocketAddr::from((
        [0u16, 0, 0, 0, 0, 0, 0, 1],
        port
    ))));
    if let Some(outward) = outward_address() {
        assert!(
            unreachable(SocketAddr::new(outward, port)),
            "reachable on {outward}"
        );
    }
}

/// With an ACS connection string and a storage connection string in its environment, the
/// handler's output, answers and logs never show either key, through replies that fail, poison,
/// bad requests and a bad setting.
#[test]
fn secrets_stay_out_of_logs() {
    let access_key = b"exposure-test-access-key-5f1c9d";
    let encoded_key = STANDARD.encode(access_key);
    let storage_key = "c3RvcmFnZS1rZXktZXhwb3N1cmUtdGVzdC05YjNl";
    let closed = free_port();
    let connection = format!("endpoint=http://127.0.0.1:{closed}/;accesskey={encoded_key}");
    let storage = format!(
        "DefaultEndpointsProtocol=https;AccountName=exposure;AccountKey={storage_key};\
         EndpointSuffix=core.windows.net"
    );
    let handler = Handler::start(&[
        ("ACS_CONNECTION_STRING", connection.as_str()),
        ("AUTO_REPLY_TEXT", "Thanks"),
        ("ACS_TIMEOUT_MS", "2000"),
        ("AzureWebJobsStorage", storage.as_str()),
        ("RUST_LOG", "info"),
    ]);
    let secrets = [
        encoded_key.clone(),
        String::from_utf8_lossy(access_key).into_owned(),
        storage_key.to_owned(),
    ];
    let mut answers = Vec::new();

    // A reply that cannot be sent, poison, a status, and a request that is not an invocation.
    for (n, name) in [
        "received-text",
        "received-malformed-media-string",
        "status-failed",
    ]
    .iter()
    .enumerate()
    {
        let answer =
            handler.invoke_event(&format!("5ec00000-0000-4000-8000-{n:012}"), &fixture(name));
        answers.push(String::from_utf8_lossy(&answer.body).into_owned());
    }
    let answer = handler.invoke(
        "EventGridTrigger",
        "5ec00000-0000-4000-8000-000000000009",
        b"not json",
        Framing::ContentLength,
    );
    answers.push(String::from_utf8_lossy(&answer.body).into_owned());
    let reply_failed: Value = serde_json::from_str(&answers[0]).unwrap();
    assert_eq!(
        reply_failed["error"]["code"],
        json!("transient_failure"),
        "{reply_failed}"
    );

    // A bad setting beside the secrets stops the start without showing them.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_handler"))
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", free_port().to_string())
        .env("ACS_CONNECTION_STRING", &connection)
        .env("AzureWebJobsStorage", &storage)
        .env("ACS_TIMEOUT_MS", "not a number")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));

    // None of it shows a key.
    thread::sleep(Duration::from_millis(300));
    let everything = format!(
        "{}\n{}\n{}\n{}\n{}",
        handler.stdout(),
        handler.stderr(),
        answers.join("\n"),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a key was shown:\n{everything}"
        );
    }
    assert!(
        handler
            .stderr()
            .contains("5ec00000-0000-4000-8000-000000000000")
    );
}
