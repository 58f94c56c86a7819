//! Lists, nested objects across modules, wire names, defaults and list selectors.

use secure_tool::{Args, Reject, secure_tool, server};

mod graph {
    pub mod parts {
        use secure_tool::Args;

        #[derive(Args)]
        #[arg(rename_all = "camelCase")]
        pub struct Observation {
            #[arg(max_len = 100)]
            pub text_value: String,
            #[arg(min = 0, max = 10, default = 5)]
            pub weight: u8,
        }
    }

    use secure_tool::Args;

    #[derive(Args)]
    #[arg(rename_all = "camelCase")]
    pub struct Entity {
        pub name: String,
        #[arg(rename = "type", allow = ["person", "place"])]
        pub entity_type: EntityType,
        #[arg(max_items = 10)]
        pub observations: Vec<parts::Observation>,
        pub origin: Option<self::parts::Observation>,
    }
}

#[derive(Args)]
struct Edit {
    old: String,
    new: String,
}

/// Creates entities.
#[secure_tool(
    public,
    rename_all = "camelCase",
    max_items(entities = 3, tags = 4),
    min_items(entities = 1),
    unique(tags),
    allow(tags = ["a", "b"]),
    default(dry_run = false, tags = ["a"]),
    max_size = 4096,
    max = 1e6
)]
fn create(
    entities: Vec<graph::Entity>,
    edit: Option<Edit>,
    tags: Vec<Tag>,
    dry_run: bool,
    scores: Option<Vec<f64>>,
) -> Result<u64, Reject> {
    let _ = (edit.map(|e| format!("{}{}", e.old, e.new)), dry_run, scores);
    let kinds = entities
        .iter()
        .filter(|e| matches!(e.entity_type, graph::EntityType::Person))
        .count();
    Ok(kinds as u64 + tags.len() as u64)
}

server!(Graph { create });

fn main() {
    use secure_tool::server::Tools as _;
    let spec = Graph::TOOLS[0];
    assert_eq!(spec.params[0].name, "entities");
    assert_eq!(spec.params[3].name, "dryRun");
    assert_eq!(spec.params[3].default, Some("false"));
    assert_eq!(spec.params[2].default, Some("[\"a\"]"));
    assert!(spec.generated_tests().any(|t| t.name == "rejects_entities_observations_text_value_over_max_len"));
    assert!(spec.generated_tests().any(|t| t.name == "rejects_unknown_field_in_entities_origin"));
    assert!(spec.generated_tests().any(|t| t.name == "rejects_duplicate_tags"));
}
