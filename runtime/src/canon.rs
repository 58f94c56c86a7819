//! Canonical JSON and SHA-256 digests: what the tool manifest and the audit
//! chain hash, so that the same value always gives the same bytes.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `value` with object keys sorted at every depth and no whitespace, whatever
/// order its maps keep.
pub fn json(value: &Value) -> String {
    let mut out = Vec::new();
    write(value, &mut out).expect("writing to a vector cannot fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// `sha256:` and the 64 hex digits of the SHA-256 of `prefix` followed by
/// [`json`] of `value`, hashed as it is written, without the text in between.
pub fn sha256_json(prefix: &[u8], value: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prefix);
    write(value, &mut hasher).expect("hashing cannot fail");
    hex(&hasher.finalize())
}

fn write(value: &Value, out: &mut impl std::io::Write) -> std::io::Result<()> {
    match value {
        Value::Object(map) => {
            out.write_all(b"{")?;
            let mut keys: Vec<&String> = map.keys().collect();
            // Sorted already, unless the maps keep insertion order.
            if !keys.is_sorted() {
                keys.sort();
            }
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, key)?;
                out.write_all(b":")?;
                write(&map[key], out)?;
            }
            out.write_all(b"}")
        }
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write(item, out)?;
            }
            out.write_all(b"]")
        }
        scalar => serde_json::to_writer(out, scalar).map_err(std::io::Error::from),
    }
}

/// `sha256:` and the 64 hex digits of the SHA-256 of `parts`, concatenated.
pub fn sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth() {
        assert_eq!(
            json(&json!({"b": [{"z": 1, "a": "x\"y"}], "a": null})),
            r#"{"a":null,"b":[{"a":"x\"y","z":1}]}"#
        );
    }

    #[test]
    fn hashing_as_written_is_hashing_the_text() {
        let value = json!({"z": [1, "é\n", null], "a": {"c": true, "b": -2}});
        assert_eq!(
            sha256_json(b"prev\n", &value),
            sha256(&[b"prev\n", json(&value).as_bytes()])
        );
    }

    #[test]
    fn digests_are_sha256_in_hex() {
        // The SHA-256 of the empty string, and of "abc" given in two parts.
        assert_eq!(
            sha256(&[]),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256(&[b"a", b"bc"]),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
