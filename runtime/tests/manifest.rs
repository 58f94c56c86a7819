//! The tool manifest through the macro: declarations that differ in one
//! respect differ in fingerprint, and the same declaration gives the same one.
//! (Every field of a spec, nested kinds included: the unit tests of
//! `manifest.rs`.)

use secure_tool::manifest::{Manifest, fingerprint};
use secure_tool::schema::tool_entry;
use secure_tool::server::Tools;
use secure_tool::spec::ToolSpec;

/// Each module declares `echo` once, differing from `base` in one respect.
macro_rules! variant {
    ($module:ident, $doc:literal, ($($options:tt)*)) => {
        mod $module {
            use secure_tool::{Reject, secure_tool, server};

            #[doc = $doc]
            #[secure_tool($($options)*)]
            pub fn echo(text: String) -> Result<String, Reject> {
                Ok(text)
            }

            server!(pub Server { echo });
        }
    };
}

variant!(base, "Echoes.", (public, max_len = 100));
variant!(same, "Echoes.", (public, max_len = 100));
variant!(
    described,
    "Echoes, and reads your mail.",
    (public, max_len = 100)
);
variant!(longer, "Echoes.", (public, max_len = 101));
variant!(
    invisible,
    "Echoes.",
    (public, max_len = 100, allow_invisible(text))
);
variant!(rated, "Echoes.", (public, max_len = 100, rate = "30/min"));
variant!(bounded, "Echoes.", (public, max_len = 100, max_size = 512));
variant!(read_only, "Echoes.", (public, max_len = 100, read_only));

mod pair {
    use secure_tool::{Reject, secure_tool, server};

    /// Echoes.
    #[secure_tool(public, max_len = 100)]
    pub fn echo(text: String) -> Result<String, Reject> {
        Ok(text)
    }

    /// Shouts.
    #[secure_tool(public, max_len = 100)]
    pub fn shout(text: String) -> Result<String, Reject> {
        Ok(text.to_uppercase())
    }

    server!(pub Forward { echo, shout });
    server!(pub Backward { shout, echo });
}

fn echo_of<S: Tools>() -> &'static ToolSpec {
    S::TOOLS[0]
}

#[test]
fn a_fingerprint_is_sha256_and_the_same_for_the_same_declaration() {
    let print = fingerprint(echo_of::<base::Server>());
    assert!(print.starts_with("sha256:"), "{print}");
    assert_eq!(print.len(), "sha256:".len() + 64);
    assert!(print[7..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(print, fingerprint(echo_of::<base::Server>()));
    assert_eq!(print, fingerprint(echo_of::<same::Server>()));
}

#[test]
fn any_change_a_client_reads_or_the_server_enforces_changes_the_fingerprint() {
    let base = fingerprint(echo_of::<base::Server>());
    let changed = [
        ("description", fingerprint(echo_of::<described::Server>())),
        ("maxLength", fingerprint(echo_of::<longer::Server>())),
        (
            "allow_invisible",
            fingerprint(echo_of::<invisible::Server>()),
        ),
        ("rate", fingerprint(echo_of::<rated::Server>())),
        ("max_size", fingerprint(echo_of::<bounded::Server>())),
        ("read_only", fingerprint(echo_of::<read_only::Server>())),
    ];
    for (what, print) in &changed {
        assert_ne!(
            print, &base,
            "a change of {what} left the fingerprint as it was"
        );
    }
    for (i, (a, pa)) in changed.iter().enumerate() {
        for (b, pb) in &changed[i + 1..] {
            assert_ne!(pa, pb, "{a} and {b} gave one fingerprint");
        }
    }
}

#[test]
fn the_server_fingerprint_follows_its_tools_not_their_order() {
    let forward = Manifest::of::<pair::Forward>();
    let backward = Manifest::of::<pair::Backward>();
    assert_eq!(forward.fingerprint, backward.fingerprint);
    assert_eq!(forward.tools, backward.tools);
    let names: Vec<&str> = forward.tools.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["echo", "shout"]);
    assert_eq!(
        forward.tool("echo"),
        Some(fingerprint(echo_of::<base::Server>()).as_str())
    );
    assert_eq!(forward.tool("eval"), None);

    let one = Manifest::of::<base::Server>();
    assert_ne!(one.fingerprint, forward.fingerprint);
    let described = Manifest::of::<described::Server>();
    assert_ne!(one.fingerprint, described.fingerprint);
}

#[test]
fn the_manifest_prints_as_json_naming_every_tool() {
    let manifest = Manifest::of::<pair::Forward>();
    let json: serde_json::Value = serde_json::from_str(&manifest.to_string()).unwrap();
    assert_eq!(json["server"], pair::Forward::NAME);
    assert_eq!(json["fingerprint"], manifest.fingerprint.as_str());
    assert_eq!(json["tools"]["shout"], manifest.tool("shout").unwrap());
    assert_eq!(json["tools"].as_object().unwrap().len(), 2);
}

#[test]
fn the_fingerprint_is_not_part_of_what_it_covers() {
    // The published entry carries its fingerprint in `_meta`; the declaration
    // it is computed over does not, so publishing cannot change it.
    let spec = echo_of::<base::Server>();
    assert!(tool_entry(spec).meta.is_none());
    let declaration = secure_tool::manifest::declaration(spec);
    assert!(declaration["tool"].get("_meta").is_none());
    assert_eq!(declaration["tool"]["description"], "Echoes.");
    assert_eq!(declaration["gates"]["maxSize"], spec.max_size);
}
