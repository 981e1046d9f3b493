//! Each token row keeps a JSON copy of its collections beside the child tables (migration
//! 20261204000001). These tests hold the two copies to each other: on upgrade, after every
//! kind of write, and in what a read answers.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::path::Path;

/// The child tables' rows of every token, in the storage form of the JSON copy, next to the
/// copy itself: `(id, from child tables, copy)` for action results, then for scope tags.
async fn both_copies(db: &SqlitePool) -> Vec<(String, Value, Value)> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT t.id, \
           (SELECT json_group_array(json_array(a.is_revoke_result, a.action_name, a.action_state, \
              a.start_date_time, a.last_updated_date_time, a.action_failure_reason, \
              a.failed_licenses_count, a.total_licenses_count) ORDER BY a.ordinal) \
            FROM vpp_token_action_results a WHERE a.token_seq = t.seq), t.action_results_json, \
           (SELECT json_group_array(r.role_scope_tag_id ORDER BY r.ordinal) \
            FROM vpp_token_role_scope_tag_ids r WHERE r.token_seq = t.seq), t.role_scope_tag_ids_json \
         FROM vpp_tokens t ORDER BY t.seq",
    )
    .fetch_all(db)
    .await
    .expect("copies");
    let parse = |text: &str| serde_json::from_str::<Value>(text).expect("stored JSON");
    rows.iter()
        .flat_map(|(id, results, results_copy, tags, tags_copy)| {
            [
                (id.clone(), parse(results), parse(results_copy)),
                (id.clone(), parse(tags), parse(tags_copy)),
            ]
        })
        .collect()
}

/// Asserts that every stored token's copies agree with its child tables; returns how many
/// collections it compared (two per token).
async fn stored_copies_agree(app: &TestApp) -> usize {
    let db = app.open_db().await;
    let copies = both_copies(&db).await;
    db.close().await;
    for (id, normalised, copy) in &copies {
        assert_eq!(
            normalised, copy,
            "token {id}: child tables and the row's copy differ"
        );
    }
    copies.len()
}

#[tokio::test]
async fn every_kind_of_write_keeps_the_rows_copy_equal_to_the_child_tables() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let created = app.create(&full_body()).await;
    let plain = app.create(&json!({"displayName": "no collections"})).await;
    let id = created["id"].as_str().expect("id");
    let path = format!("{BETA}/{id}");

    let patch = app
        .patch_json(
            &path,
            &json!({
                "roleScopeTagIds": ["9", "3"],
                "tokenActionResults": [{
                    "actionName": "patched", "actionState": "failed",
                    "startDateTime": "2026-01-02T03:04:05.1234567Z",
                    "lastUpdatedDateTime": "2026-01-02T03:04:06Z"
                }]
            }),
        )
        .await;
    assert_eq!(patch.status(), 204);
    let scalar_patch = app
        .patch_json(&path, &json!({"displayName": "renamed"}))
        .await;
    assert_eq!(scalar_patch.status(), 204);
    let sync = app
        .request(Method::POST, &format!("{path}/syncLicenses"))
        .send()
        .await
        .expect("sync");
    assert_eq!(sync.status(), 200);
    let revoke = app
        .post_json(
            &format!("{path}/revokeLicenses"),
            &json!({"notifyManagedDevices": false, "revokeUntrackedLicenses": true}),
        )
        .await;
    assert_eq!(revoke.status(), 204);

    let fetched = app.get_json(&path).await;
    assert_eq!(fetched["roleScopeTagIds"], json!(["9", "3"]));
    let names: Vec<&str> = fetched["tokenActionResults"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["actionName"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["patched", "syncLicenses", "revokeLicenses"]);
    assert_eq!(
        fetched["tokenActionResults"][0]["startDateTime"],
        "2026-01-02T03:04:05.1234567Z"
    );
    let listed = app.get_json(BETA).await;
    for collection in ["tokenActionResults", "roleScopeTagIds"] {
        assert_eq!(listed["value"][0][collection], fetched[collection]);
    }
    assert_eq!(listed["value"][1]["id"], plain["id"]);
    assert_eq!(listed["value"][1]["tokenActionResults"], json!([]));
    assert_eq!(
        listed["value"][1]["roleScopeTagIds"],
        plain["roleScopeTagIds"]
    );

    assert_eq!(stored_copies_agree(&app).await, 4);
    app.stop().await;
}

#[tokio::test]
async fn fixture_upserts_replace_both_copies() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let created = app.create(&full_body()).await;
    let id = created["id"].as_str().expect("id");
    let import = app
        .request(Method::POST, "/_emulator/import?mode=upsert")
        .json(&json!({
            "tenantId": "7f0a44c0-3b1d-4f5e-9c2a-000000000001",
            "vppTokens": [{"id": id, "displayName": "from a fixture", "roleScopeTagIds": ["42"]}]
        }))
        .send()
        .await
        .expect("import");
    assert_eq!(
        import.status(),
        200,
        "{}",
        import.text().await.unwrap_or_default()
    );
    let fetched = app.get_json(&format!("{BETA}/{id}")).await;
    assert_eq!(fetched["roleScopeTagIds"], json!(["42"]));
    assert_eq!(fetched["tokenActionResults"], json!([]));
    assert_eq!(stored_copies_agree(&app).await, 2);
    app.stop().await;
}

/// A database made by a binary from before the copy existed: the schema of the first two
/// migrations, with a token whose child rows were inserted out of ordinal order.
async fn database_before_the_copy(folder: &Path, db: &Path) {
    let old_migrations = folder.join("old-migrations");
    std::fs::create_dir(&old_migrations).expect("folder");
    for name in [
        "20261203000001_create_vpp_tokens.sql",
        "20261203000002_index_common_filters.sql",
    ] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(name),
            old_migrations.join(name),
        )
        .expect("copy migration");
    }
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(db)
            .create_if_missing(true),
    )
    .await
    .expect("create");
    Migrator::new(old_migrations.as_path())
        .await
        .expect("old migrations")
        .run(&pool)
        .await
        .expect("migrate");
    for statement in [
        "INSERT INTO vpp_tokens (seq, tenant_id, id, vpp_token_account_type, expiration_date_time, \
           last_sync_date_time, last_modified_date_time, state, last_sync_status, \
           automatically_update_apps, data_sharing_consent_granted, \
           claim_token_management_from_external_mdm, apple_device_app_delivery_protocol_type) VALUES \
           (1, '7f0a44c0-3b1d-4f5e-9c2a-000000000001', '00000000-0000-4000-8000-00000000000a', 'business', \
            '2027-01-01T00:00:00.0000000Z', '2026-01-01T00:00:00.0000000Z', '2026-02-01T00:00:00.0000000Z', \
            'valid', 'completed', 1, 0, 0, 'default'), \
           (2, '7f0a44c0-3b1d-4f5e-9c2a-000000000001', '00000000-0000-4000-8000-00000000000b', 'education', \
            '2027-01-01T00:00:00.0000000Z', '2026-01-01T00:00:00.0000000Z', '2026-02-01T00:00:00.0000000Z', \
            'expired', 'none', 0, 1, 0, 'default')",
        "INSERT INTO vpp_token_role_scope_tag_ids (token_seq, ordinal, role_scope_tag_id) VALUES \
           (1, 1, 'second'), (1, 0, 'first')",
        "INSERT INTO vpp_token_action_results (token_seq, ordinal, is_revoke_result, action_name, \
           action_state, start_date_time, last_updated_date_time, action_failure_reason, \
           failed_licenses_count, total_licenses_count) VALUES \
           (1, 1, 1, 'revokeLicenses', 'done', '2026-03-01T00:00:00.5000000Z', \
            '2026-03-01T00:00:01.0000000Z', 'appleFailure', 2, 5), \
           (1, 0, 0, 'syncLicenses', 'failed', '2026-02-01T00:00:00.0000000Z', \
            '2026-02-01T00:00:00.0000000Z', NULL, NULL, NULL)",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("old rows");
    }
    pool.close().await;
}

#[tokio::test]
async fn upgrading_an_older_database_copies_the_collections_it_holds() {
    let dir = temp_dir();
    database_before_the_copy(dir.path(), &dir.path().join("vpp.db")).await;
    let app = spawn_app(&dir).await;

    let token = app
        .get_json(&format!("{BETA}/00000000-0000-4000-8000-00000000000a"))
        .await;
    assert_eq!(token["roleScopeTagIds"], json!(["first", "second"]));
    assert_eq!(
        token["tokenActionResults"],
        json!([
            {
                "actionName": "syncLicenses", "actionState": "failed",
                "startDateTime": "2026-02-01T00:00:00Z", "lastUpdatedDateTime": "2026-02-01T00:00:00Z"
            },
            {
                "@odata.type": "#microsoft.graph.vppTokenRevokeLicensesActionResult",
                "actionName": "revokeLicenses", "actionState": "done",
                "startDateTime": "2026-03-01T00:00:00.5Z", "lastUpdatedDateTime": "2026-03-01T00:00:01Z",
                "actionFailureReason": "appleFailure", "failedLicensesCount": 2, "totalLicensesCount": 5
            }
        ])
    );
    let listed = app.get_json(BETA).await;
    for collection in ["tokenActionResults", "roleScopeTagIds"] {
        assert_eq!(listed["value"][0][collection], token[collection]);
    }
    assert_eq!(listed["value"][1]["tokenActionResults"], json!([]));
    assert_eq!(listed["value"][1]["roleScopeTagIds"], json!([]));

    assert_eq!(stored_copies_agree(&app).await, 4);
    app.stop().await;
}
