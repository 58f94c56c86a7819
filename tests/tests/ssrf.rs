//! The SSRF guard and the fetcher. Every test that could reach a network
//! connects through `LoopbackOnly`, which refuses any address outside
//! loopback: a guard bug fails the test instead of sending traffic.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secure_tool::Gate;

use secure_tool::audit::BoxFuture;
use secure_tool::guards::ssrf::{
    Connect, FetchPolicy, LoopbackOnly, Resolve, check, check_syntax, classify,
};
use secure_tool::testing::{INTERNAL_URLS, test_guards};
use secure_tool_test_support::{LoopbackOrigin, Route, loopback_fetch_policy};
use tokio::net::TcpStream;

#[test]
fn every_special_purpose_range_is_internal() {
    let internal = [
        "0.0.0.0",
        "0.1.2.3",
        "10.1.2.3",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.31.196.1",
        "192.52.193.1",
        "192.88.99.1",
        "192.168.1.1",
        "192.175.48.1",
        "198.18.0.1",
        "198.19.255.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::10.0.0.1",
        "::ffff:0:10.0.0.1",
        "64:ff9b::a00:1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001:db8::1",
        "2001:2::1",
        "2002:a00:1::",
        "2002:7f00:1::",
        "2002:a9fe:a9fe::",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "3fff::1",
        "5f00::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
    ];
    for ip in internal {
        let addr: IpAddr = ip.parse().unwrap();
        assert!(classify(addr).is_err(), "{ip} classified as public");
    }
    let public = [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.215.14",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.169.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ];
    for ip in public {
        let addr: IpAddr = ip.parse().unwrap();
        assert!(
            classify(addr).is_ok(),
            "{ip} classified as internal: {:?}",
            classify(addr)
        );
    }
}

#[tokio::test]
async fn internal_urls_are_refused_without_any_lookup() {
    let policy = test_guards().fetch;
    for url in INTERNAL_URLS {
        let reject = check("url", url, &policy).await.unwrap_err();
        assert_eq!(reject.gate(), Gate::Ssrf, "{url}: {reject}");
    }
    let reject = check("url", "https://169.254.169.254/", &policy)
        .await
        .unwrap_err();
    assert_eq!(
        reject.reason(),
        "blocked by SSRF guard: blocked internal/reserved address 169.254.169.254 \
         (link-local and cloud metadata (169.254.0.0/16))"
    );
}

/// A resolver answering from a table, counting its lookups.
#[derive(Default)]
struct Table {
    answers: HashMap<&'static str, Vec<Vec<IpAddr>>>,
    lookups: AtomicUsize,
}

impl Table {
    fn with(mut self, host: &'static str, answers: &[&[&str]]) -> Self {
        let parsed = answers
            .iter()
            .map(|a| a.iter().map(|ip| ip.parse().unwrap()).collect())
            .collect();
        self.answers.insert(host, parsed);
        self
    }
}

impl Resolve for Table {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move {
            let n = self.lookups.fetch_add(1, Ordering::SeqCst);
            let answers = self.answers.get(host).ok_or(std::io::ErrorKind::NotFound)?;
            // Each lookup may answer differently: that is what rebinding is.
            let ips = &answers[n.min(answers.len() - 1)];
            Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
        })
    }
}

/// A connector that records where it was asked to connect, and connects nowhere.
#[derive(Default)]
struct Recorder(Mutex<Vec<SocketAddr>>);

impl Connect for Recorder {
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, std::io::Result<TcpStream>> {
        self.0.lock().unwrap().push(addr);
        Box::pin(async { Err(std::io::ErrorKind::ConnectionRefused.into()) })
    }
}

#[tokio::test]
async fn every_resolved_address_is_checked() {
    let table = Arc::new(
        Table::default()
            .with("public.test", &[&["93.184.215.14"]])
            .with("internal.test", &[&["10.0.0.1"]])
            .with("mixed.test", &[&["93.184.215.14", "127.0.0.1"]])
            .with("empty.test", &[&[]]),
    );
    let policy = FetchPolicy {
        resolver: table.clone(),
        connector: Arc::new(LoopbackOnly),
        ..FetchPolicy::default()
    };
    let ok = check("url", "https://public.test/x", &policy)
        .await
        .unwrap();
    assert_eq!(
        ok.addrs(),
        ["93.184.215.14:443".parse::<SocketAddr>().unwrap()]
    );
    for url in [
        "https://internal.test/",
        "https://mixed.test/",
        "https://empty.test/",
        "https://nowhere.test/",
    ] {
        let reject = check("url", url, &policy).await.unwrap_err();
        assert_eq!(reject.gate(), Gate::Ssrf, "{url}");
    }
}

#[tokio::test]
async fn rebinding_cannot_swap_the_checked_address() {
    // First answer public, every later answer loopback.
    let table =
        Arc::new(Table::default().with("rebind.test", &[&["93.184.215.14"], &["127.0.0.1"]]));
    let recorder = Arc::new(Recorder::default());
    let policy = FetchPolicy {
        resolver: table.clone(),
        connector: recorder.clone(),
        ..FetchPolicy::default()
    };
    let target = check("url", "https://rebind.test/", &policy).await.unwrap();
    let _ = target.fetch().await.unwrap_err();
    assert_eq!(
        table.lookups.load(Ordering::SeqCst),
        1,
        "the fetch must not resolve again"
    );
    assert_eq!(
        *recorder.0.lock().unwrap(),
        ["93.184.215.14:443".parse::<SocketAddr>().unwrap()]
    );
}

async fn origin() -> LoopbackOrigin {
    LoopbackOrigin::start(vec![
        ("/doc", Route::Body(b"hello from loopback".to_vec())),
        (
            "/redirect-internal",
            Route::Redirect("https://169.254.169.254/latest/meta-data/".into()),
        ),
        ("/redirect-ok", Route::Redirect("/doc".into())),
        ("/loop", Route::Redirect("/loop".into())),
        ("/big", Route::Body(vec![b'x'; 2 * 1024 * 1024])),
        ("/slow", Route::Slow(Duration::from_secs(5))),
    ])
    .await
    .unwrap()
}

#[tokio::test]
async fn fetches_over_https_from_an_allowed_loopback_server() {
    let origin = origin().await;
    let policy = loopback_fetch_policy();
    let target = check("url", &origin.url("/doc"), &policy).await.unwrap();
    let fetched = target.fetch().await.unwrap();
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, b"hello from loopback");
}

#[tokio::test]
async fn loopback_is_blocked_unless_explicitly_allowed() {
    let origin = origin().await;
    let reject = check("url", &origin.url("/doc"), &test_guards().fetch)
        .await
        .unwrap_err();
    assert_eq!(reject.gate(), Gate::Ssrf);
}

#[tokio::test]
async fn redirects_are_checked_again() {
    let origin = origin().await;
    let policy = loopback_fetch_policy();
    let target = check("url", &origin.url("/redirect-internal"), &policy)
        .await
        .unwrap();
    let reject = target.fetch().await.unwrap_err();
    assert_eq!(reject.gate(), Gate::Ssrf, "{reject}");
    let target = check("url", &origin.url("/redirect-ok"), &policy)
        .await
        .unwrap();
    let fetched = target.fetch().await.unwrap();
    assert_eq!(fetched.body, b"hello from loopback");
    assert!(fetched.url.path().ends_with("/doc"));
    let target = check("url", &origin.url("/loop"), &policy).await.unwrap();
    assert!(
        target
            .fetch()
            .await
            .unwrap_err()
            .reason()
            .contains("redirects")
    );
}

#[tokio::test]
async fn size_and_time_are_bounded() {
    let origin = origin().await;
    let policy = loopback_fetch_policy();
    let big = check("url", &origin.url("/big"), &policy).await.unwrap();
    assert!(
        big.fetch()
            .await
            .unwrap_err()
            .reason()
            .contains("larger than")
    );
    let slow = check("url", &origin.url("/slow"), &policy).await.unwrap();
    assert!(
        slow.fetch()
            .await
            .unwrap_err()
            .reason()
            .contains("exceeded")
    );
}

#[tokio::test]
async fn untrusted_certificates_are_refused() {
    let origin = origin().await;
    let policy = FetchPolicy {
        allow_loopback: true,
        ports: vec![origin.addr().port()],
        ..test_guards().fetch
    };
    let target = check("url", &origin.url("/doc"), &policy).await.unwrap();
    assert!(target.fetch().await.unwrap_err().reason().contains("TLS"));
}

#[tokio::test]
async fn the_test_connector_refuses_everything_outside_loopback() {
    let refused = LoopbackOnly
        .connect("93.184.215.14:443".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
}

#[test]
fn only_the_allowed_ports_are_fetched() {
    let default = FetchPolicy::default();
    for url in ["https://example.com/x", "https://example.com:443/x"] {
        assert!(check_syntax("url", url, &default).is_ok(), "{url}");
    }
    for url in [
        "https://example.com:8443/x",
        "https://example.com:22/",
        "https://example.com:6379/",
        "https://example.com:80/",
    ] {
        let refused = check_syntax("url", url, &default).unwrap_err();
        assert_eq!(refused.gate(), Gate::Ssrf, "{url}");
        assert!(refused.reason().contains("port"), "{url}: {refused}");
    }
    let widened = FetchPolicy {
        ports: vec![443, 8443],
        ..FetchPolicy::default()
    };
    assert!(check_syntax("url", "https://example.com:8443/x", &widened).is_ok());
}
