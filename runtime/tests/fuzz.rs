//! Bounded fuzzing of the pure guards with proptest: a fixed seed and a fixed
//! case budget, so every CI run tries the same 2,000 inputs per target and a
//! failure reproduces. Raise `FUZZ_CASES` locally to search further.

#[cfg(feature = "fetch")]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use secure_tool::Gate;
use secure_tool::guards::command::{METACHARACTERS, check_metacharacters};
use secure_tool::guards::secrets::{KINDS, redact};
#[cfg(feature = "fetch")]
use secure_tool::guards::ssrf::{check, classify};
#[cfg(feature = "fetch")]
use secure_tool::testing::test_guards;
use secure_tool::validate::{At, check_text, first_invisible, is_forbidden_char};

fn config() -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5ec0_7e57),
        failure_persistence: None,
        ..Config::default()
    }
}

/// What the standard library already knows to be internal, as a floor the
/// classifier must meet (it refuses more: shared, benchmarking, reserved …).
#[cfg(feature = "fetch")]
fn std_internal_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || ip.octets()[0] == 0
        || ip.octets()[0] >= 240
}

#[cfg(feature = "fetch")]
fn std_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link local
        || ip.to_ipv4_mapped().is_some_and(std_internal_v4)
}

#[cfg(feature = "fetch")]
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const TEXT: At<'static> = At::root("text");

proptest! {
    #![proptest_config(config())]

    #[test]
    #[cfg(feature = "fetch")]
    fn the_classifier_refuses_every_internal_ipv4(bits: u32) {
        let ip = Ipv4Addr::from(bits);
        if std_internal_v4(ip) {
            prop_assert!(classify(IpAddr::V4(ip)).is_err(), "{ip} allowed");
            // Mapped into IPv6, it is still internal.
            prop_assert!(classify(IpAddr::V6(ip.to_ipv6_mapped())).is_err(), "{ip} mapped allowed");
        }
    }

    #[test]
    #[cfg(feature = "fetch")]
    fn the_classifier_refuses_every_internal_ipv6(bits: u128) {
        let ip = Ipv6Addr::from(bits);
        if std_internal_v6(ip) {
            prop_assert!(classify(IpAddr::V6(ip)).is_err(), "{ip} allowed");
        }
    }

    #[test]
    #[cfg(feature = "fetch")]
    fn internal_ipv4_in_any_url_spelling_is_refused(
        bits in prop_oneof![
            any::<u8>().prop_map(|x| 0x7f00_0000 | u32::from(x)),       // 127/8
            any::<u16>().prop_map(|x| 0x0a00_0000 | u32::from(x)),      // 10/8
            any::<u16>().prop_map(|x| 0xc0a8_0000 | u32::from(x)),      // 192.168/16
            any::<u16>().prop_map(|x| 0xa9fe_0000 | u32::from(x)),      // 169.254/16
        ],
        spelling in 0..4usize,
    ) {
        let ip = Ipv4Addr::from(bits);
        let [a, b, c, d] = ip.octets();
        let host = match spelling {
            0 => ip.to_string(),
            1 => bits.to_string(),
            2 => format!("0x{bits:x}"),
            _ => format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        };
        let url = format!("https://{host}/x");
        let refused = block_on(check("url", &url, &test_guards().fetch));
        prop_assert!(refused.is_err(), "{url} allowed");
    }

    #[test]
    #[cfg(feature = "fetch")]
    fn url_checks_never_panic_and_refuse_at_the_ssrf_gate(raw in "\\PC{0,80}") {
        if let Err(reject) = block_on(check("url", &raw, &test_guards().fetch)) {
            prop_assert_eq!(reject.gate(), Gate::Ssrf);
        }
    }

    #[test]
    fn the_command_check_refuses_exactly_metacharacters_and_controls(raw in "\\PC{0,40}|[a-z;|&$`<>()\\n ]{0,20}") {
        let bad = raw.chars().any(|c| METACHARACTERS.contains(&c) || c.is_control());
        let result = check_metacharacters("format", &raw);
        prop_assert_eq!(result.is_err(), bad, "{:?}", raw);
        if let Err(reject) = result {
            prop_assert_eq!(reject.gate(), Gate::Command);
        }
    }

    #[test]
    fn the_string_rules_accept_exactly_short_clean_text(raw in "\\PC{0,70}|[\\x00-\\x1f\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a]{0,70}|[a\\u{200b}-\\u{200f}\\u{ad}\\u{fe0f}\\u{1f3f4}\\u{e0061}-\\u{e0063}\\u{e007f}\\u{1f600}]{0,70}") {
        let clean = !raw.chars().any(is_forbidden_char) && first_invisible(&raw).is_none();
        let short = raw.chars().count() <= 64;
        let result = check_text(TEXT, &raw, 64);
        prop_assert_eq!(result.is_ok(), clean && short, "{:?}", raw);
        if let Err(reject) = result {
            // A long string may be refused for either; a short one only for a character.
            let allowed: &[Gate] = if short { &[Gate::Control] } else { &[Gate::Control, Gate::Length] };
            prop_assert!(allowed.contains(&reject.gate()), "{:?}", reject.gate());
        }
    }

    #[test]
    fn a_secret_anywhere_in_any_text_is_redacted(
        before in "\\PC{0,60}",
        after in "\\PC{0,60}",
        which in 0..KINDS.len(),
    ) {
        let (kind, _) = KINDS[which];
        let sample = sample(kind);
        // Separated by spaces, as secrets are when they leak into prose or logs.
        let text = format!("{before} {sample} {after}");
        let redacted = redact(&text);
        prop_assert!(
            redacted.findings.iter().any(|k| *k == format!("secret:redacted {kind}")),
            "{} not found in {:?}: {:?}", kind, text, redacted.findings
        );
        // What redaction removes from the sample alone is gone from the whole.
        let alone = redact(sample);
        let secret_parts = sample.split_whitespace().filter(|w| {
            w.len() >= 12 && !alone.text.contains(w) && !before.contains(w) && !after.contains(w)
        });
        for part in secret_parts {
            prop_assert!(!redacted.text.contains(part), "{:?} survived in {:?}", part, redacted.text);
        }
        // Redacting twice changes nothing more.
        prop_assert_eq!(redact(&redacted.text).text, redacted.text.clone());
    }
}

#[path = "common/samples.rs"]
mod samples;

/// The secret of each kind in the redaction tests' corpus: the positive
/// sample, which the redaction tests prove is exactly one secret of its kind.
fn sample(kind: &str) -> &'static str {
    samples::SAMPLES
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, positive, _)| *positive)
        .unwrap_or_else(|| panic!("no sample for {kind}"))
}
