//! Fixtures for tests and the demo, kept out of the library's API: an HTTPS
//! origin on 127.0.0.1 with a test certificate authority (whose key is
//! committed, which is why it lives here), the fetch policy that reaches it,
//! throwaway SQLite and PostgreSQL databases, and a streamable-HTTP MCP
//! client written against the wire ([`http`]).

pub mod http;

/// A fresh SQLite database file under the system temp directory.
pub fn temp_sqlite_url(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join("secure-tool-tests");
    std::fs::create_dir_all(&dir).expect("the temp directory is writable");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let file = dir.join(format!(
        "{label}-{}-{nanos}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    format!("sqlite://{}", file.display())
}

/// When `DATABASE_URL` points at PostgreSQL, creates a fresh database on that
/// server for one test and returns its URL; `None` otherwise. Tests that need
/// PostgreSQL run only then, each on a database of its own.
pub async fn fresh_postgres(label: &str) -> Option<String> {
    let url = std::env::var("DATABASE_URL").ok()?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    let admin = secure_tool::Store::connect(&url)
        .await
        .expect("DATABASE_URL is reachable");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!(
        "st_{}_{}_{nanos}",
        label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id()
    );
    let create = format!("CREATE DATABASE {name}");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(admin.pool())
        .await
        .expect("CREATE DATABASE on the test server");
    let (base, _) = url
        .rsplit_once('/')
        .expect("a PostgreSQL URL names a database");
    Some(format!("{base}/{name}"))
}

/// The certificate authority of [`LoopbackOrigin`], in PEM.
pub const TEST_CA_PEM: &[u8] = include_bytes!("../tls/ca.pem");
const TEST_SERVER_CERT_PEM: &[u8] = include_bytes!("../tls/server.pem");
const TEST_SERVER_KEY_PEM: &[u8] = include_bytes!("../tls/server.key");

/// What a [`LoopbackOrigin`] path answers.
#[derive(Debug, Clone)]
pub enum Route {
    /// `200` with this body.
    Body(Vec<u8>),
    /// `302` to this location.
    Redirect(String),
    /// `200` after this delay.
    Slow(std::time::Duration),
    /// `200` with the request's headers, one `name: value` per line: what
    /// the fetching side sent.
    Headers,
}

/// An HTTPS server on 127.0.0.1 with a certificate from [`TEST_CA_PEM`], for
/// fetch tests and demos: the only origin a loopback-allowing policy reaches.
#[derive(Debug)]
pub struct LoopbackOrigin {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LoopbackOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LoopbackOrigin {
    /// Serves `routes` (path → answer) until dropped; unknown paths answer 404.
    pub async fn start(routes: Vec<(&'static str, Route)>) -> std::io::Result<Self> {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject as _;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        type Body = http_body_util::Full<hyper::body::Bytes>;

        let certs = CertificateDer::pem_slice_iter(TEST_SERVER_CERT_PEM)
            .collect::<Result<Vec<_>, _>>()
            .map_err(std::io::Error::other)?;
        let key =
            PrivateKeyDer::from_pem_slice(TEST_SERVER_KEY_PEM).map_err(std::io::Error::other)?;
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(std::io::Error::other)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let routes = std::sync::Arc::new(routes);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let routes = routes.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let route = routes
                                .iter()
                                .find(|(p, _)| *p == req.uri().path())
                                .map(|(_, r)| r.clone());
                            async move {
                                let response = match route {
                                    Some(Route::Body(body)) => {
                                        hyper::Response::new(Body::from(body))
                                    }
                                    Some(Route::Redirect(to)) => hyper::Response::builder()
                                        .status(302)
                                        .header("location", to)
                                        .body(Body::default())
                                        .expect("a valid response"),
                                    Some(Route::Headers) => {
                                        let echoed: String = req
                                            .headers()
                                            .iter()
                                            .map(|(name, value)| {
                                                format!(
                                                    "{name}: {}\n",
                                                    String::from_utf8_lossy(value.as_bytes())
                                                )
                                            })
                                            .collect();
                                        hyper::Response::new(Body::from(echoed))
                                    }
                                    Some(Route::Slow(delay)) => {
                                        tokio::time::sleep(delay).await;
                                        hyper::Response::new(Body::from("late"))
                                    }
                                    None => hyper::Response::builder()
                                        .status(404)
                                        .body(Body::default())
                                        .expect("a valid response"),
                                };
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The `https://127.0.0.1:port{path}` URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }
}

/// A fetch policy that reaches a [`LoopbackOrigin`] and nothing else: loopback
/// explicitly allowed, its CA trusted, no DNS, and a connector that refuses
/// every address outside loopback.
pub fn loopback_fetch_policy() -> secure_tool::guards::ssrf::FetchPolicy {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(TEST_CA_PEM) {
        roots
            .add(cert.expect("the test CA parses"))
            .expect("the test CA is valid");
    }
    secure_tool::guards::ssrf::FetchPolicy {
        allow_loopback: true,
        // The OS picks the origin's port.
        ports: Vec::new(),
        roots: std::sync::Arc::new(roots),
        timeout: std::time::Duration::from_secs(2),
        max_bytes: 64 * 1024,
        ..secure_tool::testing::test_guards().fetch
    }
}
