//! End-to-end tests of the HTTP API: through the router (`oneshot`) and through a real socket
//! on loopback, with the real all-MiniLM-L6-v2 encoder and real collections on disk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod api;
mod fuzz;
mod openapi;
mod server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use pairwise_server::{app, serve, AppState, ServerConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tower::ServiceExt;

/// The API key the tests configure.
pub const KEY: &str = "test-key";

/// The model folder written by the set-up script.
pub fn minilm_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run scripts/setup.sh",
        dir.display()
    );
    dir.canonicalize().unwrap()
}

/// Small limits so that the limit errors are cheap to reach.
pub fn test_config(data_dir: &Path) -> ServerConfig {
    let mut config = ServerConfig {
        data_dir: data_dir.to_path_buf(),
        ..ServerConfig::default()
    };
    config.auth.api_keys = vec![KEY.to_owned()];
    config.limits.max_body_bytes = 64 * 1024;
    config.limits.max_batch_docs = 8;
    config.limits.max_embed_texts = 8;
    config.limits.max_k = 100;
    config.encoder.device = "cpu".to_owned();
    config
}

/// A loaded state over `config`.
pub async fn state(config: ServerConfig) -> AppState {
    AppState::open(config, minilm_dir()).await.unwrap()
}

/// One answer: status, headers we check, and the body (JSON when it parses, else a string).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body as JSON (a JSON string of the raw text when it is not JSON).
    pub body: Value,
}

impl Answer {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Where requests go: the router itself, or a server on a real socket.
#[derive(Clone)]
pub enum Client {
    /// `tower::ServiceExt::oneshot` on the router.
    Router(Router),
    /// Raw HTTP/1.1 over TCP.
    Socket(SocketAddr),
}

/// A request to send.
pub struct Call<'a> {
    /// Method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// Raw body.
    pub body: Vec<u8>,
    /// Content type, if any.
    pub content_type: Option<&'a str>,
    /// Bearer token, if any.
    pub key: Option<&'a str>,
}

impl<'a> Call<'a> {
    /// A request without body.
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            body: Vec::new(),
            content_type: None,
            key: None,
        }
    }

    /// With a JSON body.
    pub fn json(mut self, body: &Value) -> Self {
        self.body = serde_json::to_vec(body).unwrap();
        self.content_type = Some("application/json");
        self
    }

    /// With raw bytes declared as JSON.
    pub fn raw(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self.content_type = Some("application/json");
        self
    }

    /// With the test key.
    pub fn key(mut self) -> Self {
        self.key = Some(KEY);
        self
    }

    /// With a given key.
    pub fn with_key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }
}

impl Client {
    /// Sends one request.
    pub async fn send(&self, call: Call<'_>) -> Answer {
        let (status, bytes) = match self {
            Self::Router(router) => {
                let mut request = Request::builder().method(call.method).uri(call.path);
                if let Some(ct) = call.content_type {
                    request = request.header("content-type", ct);
                }
                if let Some(key) = call.key {
                    request = request.header("authorization", format!("Bearer {key}"));
                }
                let response = router
                    .clone()
                    .oneshot(request.body(Body::from(call.body)).unwrap())
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, bytes.to_vec())
            }
            Self::Socket(addr) => raw_http(*addr, &call).await,
        };
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer { status, body }
    }

    /// Shorthand: a JSON request with the key.
    pub async fn post(&self, method: &str, path: &str, body: &Value) -> Answer {
        self.send(Call::new(method, path).json(body).key()).await
    }

    /// Shorthand: a GET with the key.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(Call::new("GET", path).key()).await
    }
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`), by hand, so the test
/// sees exactly what a client on the wire sees.
async fn raw_http(addr: SocketAddr, call: &Call<'_>) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        call.method,
        call.path,
        call.body.len()
    );
    if let Some(ct) = call.content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(key) = call.key {
        head.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    head.push_str("\r\n");
    // The server may answer (413) and close before reading a large body: ignore write errors.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&call.body).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |i| i + 4);
    let headers = text[..split.min(text.len())].to_ascii_lowercase();
    let body = response[split..].to_vec();
    let body = if headers.contains("transfer-encoding: chunked") {
        dechunk(&body)
    } else {
        body
    };
    (status, body)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
    out
}

/// A server on an ephemeral loopback port.
pub struct Running {
    /// Its address.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), pairwise_server::ApiError>>,
}

impl Running {
    /// Starts serving `state`.
    pub async fn start(state: AppState) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        Self { addr, stop, task }
    }

    /// The client for it.
    pub fn client(&self) -> Client {
        Client::Socket(self.addr)
    }

    /// Graceful shutdown; waits for the server to finish.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

/// The router over `state`.
pub fn router(state: &AppState) -> Client {
    Client::Router(app(state.clone()))
}

/// Four short documents with metadata, for a `docs` collection.
pub fn tiny_documents() -> Value {
    json!({"documents": [
        {"id": "cat", "title": "Cats", "text": "Cats are small domesticated felines that purr.", "metadata": {"year": 2021, "tag": "animal"}},
        {"id": "rocket", "text": "Rockets burn fuel to reach orbit around the Earth.", "metadata": {"year": 2015, "tag": "space"}},
        {"id": "bread", "text": "Bread is baked from flour, water and yeast.", "metadata": {"year": 2019, "tag": "food"}},
        {"id": "dog", "text": "Dogs are loyal animals that bark at strangers.", "metadata": {"year": 2023, "tag": "animal"}}
    ]})
}

/// Creates the collection `docs` and fills it with [`tiny_documents`].
pub async fn with_docs(client: &Client) {
    assert_eq!(
        client
            .post("POST", "/v1/collections", &json!({"name": "docs"}))
            .await
            .status,
        201
    );
    assert_eq!(
        client
            .post("PUT", "/v1/collections/docs/documents", &tiny_documents())
            .await
            .status,
        200
    );
}
