//! `pairwise serve` as a process: it answers on its port, stops cleanly on SIGTERM, and
//! refuses a bad config with one line.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{failure_message, minilm_dir, pairwise, write};

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serves_until_sigterm_then_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_pairwise"))
        .args([
            "serve",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--addr",
            &addr,
        ])
        .args(["--model", minilm_dir().to_str().unwrap(), "--api-key", "k"])
        .env("PAIRWISE_LOG", "error")
        .env("PAIRWISE_SERVER__ENCODER__DEVICE", "cpu")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "never ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let openapi = get(port, "/openapi.json").unwrap();
    assert!(openapi.contains("\"openapi\":\"3.1.0\""), "{openapi}");
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(send_sigterm(pid), 0);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
}

/// Sends SIGTERM with the `kill` command (the workspace denies `unsafe`).
fn send_sigterm(pid: i32) -> i32 {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    if status.success() {
        0
    } else {
        1
    }
}

#[test]
fn a_bad_config_fails_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "server.toml", b"[encoder]\nmax_bach = 4\n");
    let output = pairwise(&["serve", "--config", &config, "--addr", "127.0.0.1:0"]);
    let message = failure_message(&output);
    assert!(message.contains("max_bach"), "{message}");
}
