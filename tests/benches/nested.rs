//! Validating nested arguments: `edit_file` with 50 edits of 1 KiB each and
//! `create_entities` with 100 entities × 10 observations, through
//! `#[secure_tool]` (size, unknown fields, every field gate at every depth)
//! and through serde deserialising the same structs plus the same checks
//! written by hand, in one run.
//!
//! `cargo bench -p secure-tool-tests --bench nested`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use reference_tools::{filesystem, memory};
use secure_tool::pipeline::{Guards, Tool};
use secure_tool::server::Arguments;
use secure_tool::validate::{check_fields, check_size, is_forbidden_char};
use secure_tool_tests::ready;
use serde::Deserialize;
use serde_json::{Value, json};

/// Every argument gate the pipeline runs before the body.
fn gates<T: Tool>(args: &Arguments, guards: &Guards) -> T::Args {
    check_size(T::SPEC, args).unwrap();
    check_fields(T::SPEC, args).unwrap();
    ready(T::validate(args, guards)).unwrap()
}

/// A string of `max` chars or fewer, without control or bidi characters.
/// (Its byte length bounds its char count: only long strings are counted.)
fn text_ok(s: &str, max: usize) -> Result<(), String> {
    if s.len() > max && s.chars().count() > max {
        return Err("too long".into());
    }
    if s.chars().any(is_forbidden_char) {
        return Err("control character".into());
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Edit {
    old_text: String,
    new_text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EditFile {
    path: String,
    edits: Vec<Edit>,
    #[serde(default)]
    dry_run: bool,
}

fn edit_file_by_hand(args: &Value) -> Result<EditFile, String> {
    let parsed = EditFile::deserialize(args).map_err(|e| e.to_string())?;
    text_ok(&parsed.path, 4096)?;
    if parsed.edits.len() > 100 {
        return Err("too many edits".into());
    }
    for edit in &parsed.edits {
        text_ok(&edit.old_text, 65_536)?;
        text_ok(&edit.new_text, 65_536)?;
    }
    Ok(parsed)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Entity {
    name: String,
    entity_type: String,
    observations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEntities {
    entities: Vec<Entity>,
}

fn create_entities_by_hand(args: &Value) -> Result<CreateEntities, String> {
    let parsed = CreateEntities::deserialize(args).map_err(|e| e.to_string())?;
    if parsed.entities.len() > 100 {
        return Err("too many entities".into());
    }
    for entity in &parsed.entities {
        text_ok(&entity.name, 256)?;
        text_ok(&entity.entity_type, 256)?;
        if entity.observations.len() > 100 {
            return Err("too many observations".into());
        }
        for o in &entity.observations {
            text_ok(o, 4096)?;
        }
    }
    Ok(parsed)
}

fn edit_file_args() -> Value {
    let kib = |c: char| {
        std::iter::repeat_n(c, 1023)
            .chain(['\n'])
            .collect::<String>()
    };
    let edits: Vec<Value> = (0..50)
        .map(|i| json!({"oldText": kib(char::from(b'a' + (i % 26) as u8)), "newText": kib('é')}))
        .collect();
    json!({"path": "/srv/project/src/main.rs", "edits": edits, "dryRun": true})
}

fn create_entities_args() -> Value {
    let entities: Vec<Value> = (0..100)
        .map(|i| {
            let observations: Vec<String> = (0..10)
                .map(|j| format!("observation {j} of entity {i}: speaks Portuguese, likes tea"))
                .collect();
            json!({"name": format!("entity-{i}"), "entityType": "person", "observations": observations})
        })
        .collect();
    json!({"entities": entities})
}

fn nested(c: &mut Criterion) {
    let guards = Guards::default();

    let args = edit_file_args();
    let map = args.as_object().unwrap().clone();
    assert_eq!(
        gates::<filesystem::edit_file::__SecureTool>(&map, &guards)
            .1
            .len(),
        50
    );
    let by_hand = edit_file_by_hand(&args).unwrap();
    assert!(by_hand.dry_run && by_hand.edits.len() == 50);
    let mut group = c.benchmark_group("validate edit_file, 50 edits of 1 KiB");
    group.bench_function("secure_tool", |b| {
        b.iter(|| gates::<filesystem::edit_file::__SecureTool>(black_box(&map), &guards))
    });
    group.bench_function("hand-written serde + checks", |b| {
        b.iter(|| edit_file_by_hand(black_box(&args)).unwrap())
    });
    group.finish();

    let args = create_entities_args();
    let map = args.as_object().unwrap().clone();
    assert_eq!(
        gates::<memory::create_entities::__SecureTool>(&map, &guards)
            .0
            .len(),
        100
    );
    assert_eq!(create_entities_by_hand(&args).unwrap().entities.len(), 100);
    let mut group = c.benchmark_group("validate create_entities, 100 entities x 10 observations");
    group.bench_function("secure_tool", |b| {
        b.iter(|| gates::<memory::create_entities::__SecureTool>(black_box(&map), &guards))
    });
    group.bench_function("hand-written serde + checks", |b| {
        b.iter(|| create_entities_by_hand(black_box(&args)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, nested);
criterion_main!(benches);
