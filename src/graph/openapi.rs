//! The OpenAPI 3 description served at `GET /openapi.json`. It is built from the tables the
//! emulator itself runs on (the property table, the enumerations, the limits), so it cannot
//! drift from what the routes accept and answer.

use crate::config::Settings;
use crate::domain::enums::{self, ActionFailureReason, ActionState};
use crate::domain::properties::{ApiVersion, PROPERTIES, PropKind, Property};
use serde_json::{Map, Value, json};

/// Where each version's collection lives.
const COLLECTIONS: [(ApiVersion, &str); 2] = [
    (ApiVersion::Beta, "/beta/deviceAppManagement/vppTokens"),
    (ApiVersion::V1, "/v1.0/deviceAppManagement/vppTokens"),
];

pub fn document(settings: &Settings) -> Value {
    let mut paths = Map::new();
    for (version, collection) in COLLECTIONS {
        add_version_paths(&mut paths, version, collection, settings);
    }
    paths.insert(
        "/health".into(),
        json!({"get": {
            "operationId": "health",
            "summary": "Liveness of the emulator and its database",
            "security": [],
            "responses": {
                "200": {"description": "Healthy", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["status"],
                    "properties": {"status": {"type": "string"}}}}}},
                "503": {"description": "The database does not answer"}
            }
        }}),
    );
    let mut schemas = Map::new();
    for (version, _) in COLLECTIONS {
        let suffix = version_suffix(version);
        schemas.insert(format!("vppToken{suffix}"), token_schema(version, settings));
        schemas.insert(
            format!("vppTokenCollection{suffix}"),
            json!({
                "type": "object",
                "required": ["@odata.context", "value"],
                "properties": {
                    "@odata.context": {"type": "string"},
                    "@odata.count": {"type": "integer"},
                    "@odata.nextLink": {"type": "string", "format": "uri"},
                    "value": {"type": "array", "items": {"$ref": format!("#/components/schemas/vppToken{suffix}")}}
                }
            }),
        );
    }
    schemas.insert(
        "vppTokenActionResult".into(),
        action_result_schema(settings),
    );
    schemas.insert(
        "vppTokenLicenseSummary".into(),
        json!({
            "type": "object",
            "properties": {
                "vppTokenId": {"type": "string"},
                "appleId": {"type": "string", "nullable": true},
                "organizationName": {"type": "string", "nullable": true},
                "availableLicenseCount": {"type": "integer", "format": "int32"},
                "usedLicenseCount": {"type": "integer", "format": "int32"}
            }
        }),
    );
    schemas.insert(
        "odataError".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message", "innerError"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "innerError": {
                        "type": "object",
                        "required": ["date", "request-id", "client-request-id"],
                        "properties": {
                            "message": {"type": "string"},
                            "date": {"type": "string"},
                            "request-id": {"type": "string"},
                            "client-request-id": {"type": "string"}
                        }
                    }
                }
            }}
        }),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "vpp-emulator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A persistent emulator of the Microsoft Graph Intune vppTokens API."
        },
        "servers": [{"url": settings.public_base_url().unwrap_or("/")}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": {"error": {
                "description": "A Graph error envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/odataError"}}}
            }}
        }
    })
}

fn version_suffix(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::Beta => "",
        ApiVersion::V1 => "V1",
    }
}

fn add_version_paths(
    paths: &mut Map<String, Value>,
    version: ApiVersion,
    collection: &str,
    settings: &Settings,
) {
    let suffix = version_suffix(version);
    let entity = format!("#/components/schemas/vppToken{suffix}");
    let op = |name: &str| format!("{name}{suffix}");
    let id_parameter = json!({"name": "vppToken-id", "in": "path", "required": true,
        "schema": {"type": "string", "format": "uuid"}});
    let item = format!("{collection}/{{vppToken-id}}");
    let entity_response = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": entity}}}});
    paths.insert(
        collection.to_owned(),
        json!({
            "get": {
                "operationId": op("listVppTokens"),
                "parameters": list_parameters(settings),
                "responses": {
                    "200": {"description": "A page of tokens", "content": {"application/json": {"schema":
                        {"$ref": format!("#/components/schemas/vppTokenCollection{suffix}")}}}},
                    "default": {"$ref": "#/components/responses/error"}
                }
            },
            "post": {
                "operationId": op("createVppToken"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": entity}}}},
                "responses": {
                    "201": created_response(&entity, version),
                    "default": {"$ref": "#/components/responses/error"}
                }
            }
        }),
    );
    paths.insert(
        format!("{collection}/$count"),
        json!({"get": {
            "operationId": op("countVppTokens"),
            "parameters": [{"name": "$filter", "in": "query", "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The number of tokens", "content": {"text/plain": {"schema": {"type": "integer"}}}},
                "default": {"$ref": "#/components/responses/error"}
            }
        }}),
    );
    paths.insert(
        item.clone(),
        json!({
            "parameters": [id_parameter],
            "get": {
                "operationId": op("getVppToken"),
                "parameters": [{"name": "$select", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": entity_response("The token"), "default": {"$ref": "#/components/responses/error"}}
            },
            "patch": {
                "operationId": op("updateVppToken"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": entity}}}},
                "responses": {
                    "204": {"description": "Updated"},
                    "200": entity_response("Updated, with Prefer: return=representation"),
                    "default": {"$ref": "#/components/responses/error"}
                }
            },
            "delete": {
                "operationId": op("deleteVppToken"),
                "responses": {"204": {"description": "Deleted"}, "default": {"$ref": "#/components/responses/error"}}
            }
        }),
    );
    paths.insert(
        format!("{item}/syncLicenses"),
        json!({"parameters": [id_parameter], "post": {
            "operationId": op("syncLicenses"),
            "responses": {"200": entity_response("The token after the sync"), "default": {"$ref": "#/components/responses/error"}}
        }}),
    );
    if version != ApiVersion::Beta {
        return;
    }
    paths.insert(
        format!("{item}/revokeLicenses"),
        json!({"parameters": [id_parameter], "post": {
            "operationId": "revokeLicenses",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["notifyManagedDevices"],
                "properties": {
                    "notifyManagedDevices": {"type": "boolean"},
                    "revokeUntrackedLicenses": {"type": "boolean"}
                }
            }}}},
            "responses": {"204": {"description": "Revoked"}, "default": {"$ref": "#/components/responses/error"}}
        }}),
    );
    paths.insert(
        format!("{collection}/syncLicenseCounts"),
        json!({"post": {
            "operationId": "syncLicenseCounts",
            "responses": {"204": {"description": "Synced"}, "default": {"$ref": "#/components/responses/error"}}
        }}),
    );
    paths.insert(
        format!("{collection}/getLicensesForApp(bundleId='{{bundleId}}')"),
        json!({"get": {
            "operationId": "getLicensesForApp",
            "parameters": [{"name": "bundleId", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "Licence counts per token", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["value"],
                    "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/vppTokenLicenseSummary"}}}
                }}}},
                "default": {"$ref": "#/components/responses/error"}
            }
        }}),
    );
}

/// The 201 of a create, with OpenAPI links from the new id to the operations on it (so that
/// generated tests reach stored tokens, not only 404s).
fn created_response(entity: &str, version: ApiVersion) -> Value {
    let suffix = version_suffix(version);
    let mut operations = vec![
        "getVppToken",
        "updateVppToken",
        "deleteVppToken",
        "syncLicenses",
    ];
    if version == ApiVersion::Beta {
        operations.push("revokeLicenses");
    }
    let links: Map<String, Value> = operations
        .into_iter()
        .map(|operation| {
            let id = if operation == "revokeLicenses" {
                operation.to_owned()
            } else {
                format!("{operation}{suffix}")
            };
            (
                id.clone(),
                json!({"operationId": id, "parameters": {"vppToken-id": "$response.body#/id"}}),
            )
        })
        .collect();
    json!({
        "description": "The stored token",
        "content": {"application/json": {"schema": {"$ref": entity}}},
        "links": links
    })
}

fn list_parameters(settings: &Settings) -> Value {
    json!([
        {"name": "$filter", "in": "query", "schema": {"type": "string"}},
        {"name": "$select", "in": "query", "schema": {"type": "string"}},
        {"name": "$orderby", "in": "query", "schema": {"type": "string"}},
        {"name": "$top", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": settings.paging.max_page_size}},
        {"name": "$skip", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "$count", "in": "query", "schema": {"type": "boolean"}},
        {"name": "$skiptoken", "in": "query", "schema": {"type": "string"}}
    ])
}

/// A `vppToken` as `version` has it; `token` is write-only (always `null` in answers).
fn token_schema(version: ApiVersion, settings: &Settings) -> Value {
    let mut properties = Map::new();
    properties.insert("@odata.context".into(), json!({"type": "string"}));
    properties.insert("@odata.type".into(), json!({"type": "string"}));
    for property in PROPERTIES.iter().filter(|p| p.in_version(version)) {
        properties.insert(
            property.name.into(),
            property_schema(property, version, settings),
        );
    }
    json!({"type": "object", "properties": properties})
}

fn property_schema(property: &Property, version: ApiVersion, settings: &Settings) -> Value {
    let max_string = settings.limits.max_string_bytes;
    let max_items = settings.limits.max_collection_items;
    let mut schema = match property.kind {
        PropKind::Key => json!({"type": "string", "format": "uuid"}),
        PropKind::String => json!({"type": "string", "maxLength": max_string}),
        PropKind::Boolean => json!({"type": "boolean"}),
        PropKind::DateTime => json!({"type": "string", "format": "date-time"}),
        PropKind::Enum(name) => json!({"type": "string", "enum": enums::members_of(name, version)}),
        PropKind::ActionResults => json!({"type": "array", "maxItems": max_items,
            "items": {"$ref": "#/components/schemas/vppTokenActionResult"}}),
        PropKind::StringCollection => json!({"type": "array", "maxItems": max_items,
            "items": {"type": "string", "maxLength": max_string}}),
    };
    if property.nullable {
        schema["nullable"] = json!(true);
    }
    schema
}

fn action_result_schema(settings: &Settings) -> Value {
    json!({
        "type": "object",
        "properties": {
            "@odata.type": {"type": "string"},
            "actionName": {"type": "string", "nullable": true, "maxLength": settings.limits.max_string_bytes},
            "actionState": {"type": "string", "enum": enums::members::<ActionState>(ApiVersion::Beta)},
            "startDateTime": {"type": "string", "format": "date-time"},
            "lastUpdatedDateTime": {"type": "string", "format": "date-time"},
            "actionFailureReason": {"type": "string", "enum": enums::members::<ActionFailureReason>(ApiVersion::Beta)},
            "failedLicensesCount": {"type": "integer", "format": "int32"},
            "totalLicensesCount": {"type": "integer", "format": "int32"}
        }
    })
}
