//! One HTTP/1.1 exchange over a connection the caller opened: TLS for
//! `https` against the given roots, the body bounded while it is read. The
//! SSRF guard opens the connection to an address it checked; the identity
//! verifiers to the issuer their operator configured.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use hyper::body::Bytes;
use tokio::net::TcpStream;
use tokio_rustls::rustls::RootCertStore;
use url::Url;

/// A request to send.
pub(crate) struct Outgoing<'a> {
    pub method: hyper::Method,
    pub url: &'a Url,
    pub accept: &'static str,
    /// `(name, value)` pairs besides `Host`, `User-Agent` and `Accept`.
    pub headers: Vec<(hyper::header::HeaderName, String)>,
    pub body: Vec<u8>,
    /// The most body bytes read; more is an error.
    pub max_bytes: usize,
    pub roots: &'a Arc<RootCertStore>,
}

/// What came back.
pub(crate) struct Answer {
    pub status: u16,
    /// Redirects are followed only by the SSRF guard's fetch.
    #[cfg_attr(not(feature = "fetch"), allow(dead_code))]
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Sends `out` over `stream`, with TLS when the URL is `https`.
pub(crate) async fn exchange(stream: TcpStream, out: Outgoing<'_>) -> Result<Answer, String> {
    let host = out.url.host_str().unwrap_or_default().to_owned();
    if out.url.scheme() == "https" {
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(out.roots.clone())
        .with_no_client_auth();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(
            host.trim_matches(['[', ']']).to_owned(),
        )
        .map_err(|_| "invalid TLS server name".to_owned())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake failed: {}", e.kind()))?;
        send(hyper_util::rt::TokioIo::new(tls), out).await
    } else {
        send(hyper_util::rt::TokioIo::new(stream), out).await
    }
}

async fn send<T>(io: T, out: Outgoing<'_>) -> Result<Answer, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    let driver = tokio::spawn(connection);
    let path = match out.url.query() {
        Some(q) => format!("{}?{q}", out.url.path()),
        None => out.url.path().to_owned(),
    };
    let authority = match out.url.port() {
        Some(port) => format!("{}:{port}", out.url.host_str().unwrap_or_default()),
        None => out.url.host_str().unwrap_or_default().to_owned(),
    };
    let mut request = hyper::Request::builder()
        .method(out.method)
        .uri(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "secure-tool")
        .header(hyper::header::ACCEPT, out.accept);
    for (name, value) in out.headers {
        request = request.header(name, value);
    }
    let request = request
        .body(http_body_util::Full::new(Bytes::from(out.body)))
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP request failed: {e}"))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the body: {e}"))?;
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > out.max_bytes {
                driver.abort();
                return Err(format!("response larger than {} bytes", out.max_bytes));
            }
            bytes.extend_from_slice(data);
        }
    }
    driver.abort();
    Ok(Answer {
        status,
        location,
        body: bytes,
    })
}
