//! Redaction throughput on 1 MiB of text, clean and secret-laden: the
//! single-pass redactor next to the same patterns applied one regex at a time.
//!
//! `cargo bench -p secure-tool --bench redaction`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secure_tool::guards::secrets::{redact, redact_one_at_a_time};

const MIB: usize = 1024 * 1024;

fn fill(pieces: &[&str]) -> String {
    let mut text = String::with_capacity(MIB + 256);
    let mut i = 0;
    while text.len() < MIB {
        text.push_str(pieces[i % pieces.len()]);
        text.push('\n');
        i += 1;
    }
    // Every piece is ASCII, so any byte length is a char boundary.
    text.truncate(MIB);
    text
}

fn clean() -> String {
    fill(&[
        "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly figures.",
        "fn main() { let total: u64 = items.iter().map(|i| i.price).sum(); println!(\"{total}\"); }",
        "id 550e8400-e29b-41d4-a716-446655440000 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "Visit https://example.com/docs?page=2 for the manual; the port is 5432 and the host is db.example.",
    ])
}

fn laden() -> String {
    fill(&[
        "deploy notes: aws AKIAIOSFODNN7EXAMPLE and db postgres://app:s3cr3t@db:5432/appdb",
        "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 and stripe sk_live_abcdefghijklmnopqrstuvwx",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N password=hunter22",
        "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly figures.",
    ])
}

fn bench(c: &mut Criterion) {
    for (name, text) in [("clean", clean()), ("secret-laden", laden())] {
        let mut group = c.benchmark_group(format!("redact 1 MiB {name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(10);
        group.bench_function("single pass", |b| b.iter(|| redact(black_box(&text))));
        group.bench_function("one regex at a time", |b| {
            b.iter(|| redact_one_at_a_time(black_box(&text)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
