//! `@modelcontextprotocol/server-memory`: a knowledge graph of entities,
//! relations and observations.

use secure_tool::{Args, Json, Reject, secure_tool, server};
use serde_json::{Value, json};

use crate::received;

/// A node of the graph.
#[derive(Debug, Args)]
#[arg(rename_all = "camelCase")]
pub struct Entity {
    /// The entity's name.
    #[arg(max_len = 256)]
    pub name: String,
    /// Its type, such as `person`.
    #[arg(max_len = 256)]
    pub entity_type: String,
    /// What is known about it.
    #[arg(max_items = 100, max_len = 4096)]
    pub observations: Vec<String>,
}

/// A directed edge, in active voice: `from` → `relationType` → `to`.
#[derive(Debug, Args)]
#[arg(rename_all = "camelCase")]
pub struct Relation {
    #[arg(max_len = 256)]
    pub from: String,
    #[arg(max_len = 256)]
    pub to: String,
    #[arg(max_len = 256)]
    pub relation_type: String,
}

/// Observations to add to one entity.
#[derive(Debug, Args)]
#[arg(rename_all = "camelCase")]
pub struct ObservationAddition {
    #[arg(max_len = 256)]
    pub entity_name: String,
    #[arg(max_items = 100, max_len = 4096)]
    pub contents: Vec<String>,
}

/// Observations to remove from one entity.
#[derive(Debug, Args)]
#[arg(rename_all = "camelCase")]
pub struct ObservationDeletion {
    #[arg(max_len = 256)]
    pub entity_name: String,
    #[arg(max_items = 100, max_len = 4096)]
    pub observations: Vec<String>,
}

fn entities_json(entities: &[Entity]) -> Value {
    entities
        .iter()
        .map(|e| json!({ "name": e.name, "entityType": e.entity_type, "observations": e.observations }))
        .collect()
}

fn relations_json(relations: &[Relation]) -> Value {
    relations
        .iter()
        .map(|r| json!({ "from": r.from, "to": r.to, "relationType": r.relation_type }))
        .collect()
}

/// Create entities in the knowledge graph.
#[secure_tool(public, max_items(entities = 100))]
pub fn create_entities(entities: Vec<Entity>) -> Result<Json<Value>, Reject> {
    Ok(received(
        "create_entities",
        json!({ "entities": entities_json(&entities) }),
    ))
}

/// Create relations between entities.
#[secure_tool(public, max_items(relations = 100))]
pub fn create_relations(relations: Vec<Relation>) -> Result<Json<Value>, Reject> {
    Ok(received(
        "create_relations",
        json!({ "relations": relations_json(&relations) }),
    ))
}

/// Add observations to existing entities.
#[secure_tool(public, max_items(observations = 100))]
pub fn add_observations(observations: Vec<ObservationAddition>) -> Result<Json<Value>, Reject> {
    let observations: Value = observations
        .iter()
        .map(|o| json!({ "entityName": o.entity_name, "contents": o.contents }))
        .collect();
    Ok(received(
        "add_observations",
        json!({ "observations": observations }),
    ))
}

/// Delete entities and the relations that name them.
#[secure_tool(
    public,
    rename_all = "camelCase",
    max_items(entity_names = 100),
    max_len(entity_names = 256)
)]
pub fn delete_entities(entity_names: Vec<String>) -> Result<Json<Value>, Reject> {
    Ok(received(
        "delete_entities",
        json!({ "entityNames": entity_names }),
    ))
}

/// Delete observations from entities.
#[secure_tool(public, max_items(deletions = 100))]
pub fn delete_observations(deletions: Vec<ObservationDeletion>) -> Result<Json<Value>, Reject> {
    let deletions: Value = deletions
        .iter()
        .map(|d| json!({ "entityName": d.entity_name, "observations": d.observations }))
        .collect();
    Ok(received(
        "delete_observations",
        json!({ "deletions": deletions }),
    ))
}

/// Delete relations.
#[secure_tool(public, max_items(relations = 100))]
pub fn delete_relations(relations: Vec<Relation>) -> Result<Json<Value>, Reject> {
    Ok(received(
        "delete_relations",
        json!({ "relations": relations_json(&relations) }),
    ))
}

/// Read the whole knowledge graph.
#[secure_tool(public)]
pub fn read_graph() -> Result<Json<Value>, Reject> {
    Ok(received("read_graph", json!({})))
}

/// Search entities by name, type and observations.
#[secure_tool(public, max_len(query = 1024))]
pub fn search_nodes(query: String) -> Result<Json<Value>, Reject> {
    Ok(received("search_nodes", json!({ "query": query })))
}

/// Open entities by name.
#[secure_tool(public, max_items(names = 100), max_len(names = 256))]
pub fn open_nodes(names: Vec<String>) -> Result<Json<Value>, Reject> {
    Ok(received("open_nodes", json!({ "names": names })))
}

server!(pub Memory {
    create_entities,
    create_relations,
    add_observations,
    delete_entities,
    delete_observations,
    delete_relations,
    read_graph,
    search_nodes,
    open_nodes,
});
