//! An OTLP/HTTP collector on loopback, as a test or a benchmark needs one:
//! it takes every request, keeps its JSON body, and answers `200`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A collector on loopback: keeps the JSON body of every request it gets.
#[derive(Debug)]
pub struct Collector {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Value>>>,
    keep: bool,
}

impl Collector {
    /// Starts one that keeps what it receives.
    pub async fn start() -> Self {
        Self::listen(true).await
    }

    /// Starts one that reads and drops what it receives.
    pub async fn sink() -> Self {
        Self::listen(false).await
    }

    /// Starts one that accepts connections and never answers: a collector
    /// that hangs.
    pub async fn hung() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Self {
            addr,
            bodies: Arc::default(),
            keep: false,
        }
    }

    async fn listen(keep: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut read = Vec::new();
                    let mut buf = [0; 8192];
                    let (head, length) = loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        assert!(n > 0, "the exporter closed mid-request");
                        read.extend_from_slice(&buf[..n]);
                        if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&read[..end]).to_lowercase();
                            let length: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map(|v| v.trim().parse().unwrap())
                                .expect("a content length");
                            break (end + 4, length);
                        }
                    };
                    while read.len() < head + length {
                        let n = stream.read(&mut buf).await.unwrap();
                        read.extend_from_slice(&buf[..n]);
                    }
                    assert!(
                        String::from_utf8_lossy(&read[..head]).starts_with("POST /v1/traces "),
                        "{}",
                        String::from_utf8_lossy(&read[..head])
                    );
                    if keep {
                        let body = serde_json::from_slice(&read[head..head + length]).unwrap();
                        kept.lock().unwrap().push(body);
                    }
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                    stream.write_all(answer.as_bytes()).await.unwrap();
                });
            }
        });
        Self { addr, bodies, keep }
    }

    /// Where to send traces.
    pub fn url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// Every body received.
    pub fn bodies(&self) -> Vec<Value> {
        assert!(self.keep, "a sink keeps nothing");
        self.bodies.lock().unwrap().clone()
    }

    /// Every span received, with the resource it came with.
    pub fn spans(&self) -> Vec<(Value, Value)> {
        let mut spans = Vec::new();
        for body in self.bodies.lock().unwrap().iter() {
            for resource in body["resourceSpans"].as_array().unwrap() {
                for scope in resource["scopeSpans"].as_array().unwrap() {
                    assert_eq!(scope["scope"]["name"], "secure-tool");
                    for span in scope["spans"].as_array().unwrap() {
                        spans.push((resource["resource"].clone(), span.clone()));
                    }
                }
            }
        }
        spans
    }
}
