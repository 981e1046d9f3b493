//! Issue 3: PATCH, DELETE and the four actions.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn patch_updates_each_property_type_and_answers_204_or_the_entity() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let token = app.create(&full_body()).await;
    let path = format!("{BETA}/{}", token["id"].as_str().unwrap());
    let changes = json!({
        "organizationName": null,
        "state": "expired",
        "automaticallyUpdateApps": false,
        "expirationDateTime": "2028-01-01T00:00:00.5+01:00",
        "roleScopeTagIds": ["9"],
        "tokenActionResults": [],
        "token": "new-secret"
    });
    let response = app.patch_json(&path, &changes).await;
    assert_eq!(response.status(), 204);
    assert!(response.text().await.unwrap().is_empty());
    let after = app.get_json(&path).await;
    assert_eq!(after["organizationName"], Value::Null);
    assert_eq!(after["state"], "expired");
    assert_eq!(after["automaticallyUpdateApps"], false);
    assert_eq!(after["expirationDateTime"], "2027-12-31T23:00:00.5Z");
    assert_eq!(after["roleScopeTagIds"], json!(["9"]));
    assert_eq!(after["tokenActionResults"], json!([]));
    assert_eq!(after["token"], Value::Null);
    assert_eq!(
        after["displayName"], token["displayName"],
        "absent properties unchanged"
    );
    assert!(after["lastModifiedDateTime"].as_str() > token["lastModifiedDateTime"].as_str());

    let db = app.open_db().await;
    let stored: String = sqlx::query_scalar("SELECT token FROM vpp_tokens")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, "new-secret");
    db.close().await;

    let response = app
        .request(Method::PATCH, &path)
        .header("Prefer", "return=representation")
        .json(&json!({"displayName": "renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "preference-applied"),
        "return=representation"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["displayName"], "renamed");
    assert_eq!(body["@odata.type"], "#microsoft.graph.vppToken");
    assert_eq!(body["token"], Value::Null);
    let db = app.open_db().await;
    let stored: String = sqlx::query_scalar("SELECT token FROM vpp_tokens")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        stored, "new-secret",
        "a PATCH without token keeps the stored one"
    );
    db.close().await;

    for null_on_required in [
        json!({"state": null}),
        json!({"automaticallyUpdateApps": null}),
        json!({"lastSyncDateTime": null}),
    ] {
        let before = app.get_json(&path).await;
        assert_graph_error(
            app.patch_json(&path, &null_on_required).await,
            400,
            "BadRequest",
        )
        .await;
        let unchanged = app.get_json(&path).await;
        assert_eq!(unchanged, before);
    }
    let missing = format!("{BETA}/3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76");
    assert_graph_error(
        app.patch_json(&missing, &json!({})).await,
        404,
        "ResourceNotFound",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn delete_removes_the_token_and_its_child_rows() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let keep = app.create(&full_body()).await;
    let gone = app.create(&full_body()).await;
    let gone_id = gone["id"].as_str().unwrap();
    let db = app.open_db().await;
    let seq_sql = "SELECT seq FROM vpp_tokens WHERE id = ?";
    let gone_seq: i64 = sqlx::query_scalar(seq_sql)
        .bind(gone_id)
        .fetch_one(&db)
        .await
        .unwrap();
    let keep_seq: i64 = sqlx::query_scalar(seq_sql)
        .bind(keep["id"].as_str().unwrap())
        .fetch_one(&db)
        .await
        .unwrap();
    let response = app
        .request(Method::DELETE, &format!("{BETA}/{gone_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_graph_error(
        app.get(&format!("{BETA}/{gone_id}")).await,
        404,
        "ResourceNotFound",
    )
    .await;
    let again = app
        .request(Method::DELETE, &format!("{BETA}/{gone_id}"))
        .send()
        .await
        .unwrap();
    assert_graph_error(again, 404, "ResourceNotFound").await;

    for table in ["vpp_token_action_results", "vpp_token_role_scope_tag_ids"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE token_seq = ?");
        let orphans: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(gone_seq)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(orphans, 0, "{table}");
        let kept: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(keep_seq)
            .fetch_one(&db)
            .await
            .unwrap();
        assert!(kept > 0, "{table}");
    }
    db.close().await;
    app.stop().await;
}

#[tokio::test]
async fn actions_change_the_stored_token_as_the_contract_says() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let token = app.create(&json!({"displayName": "sync me"})).await;
    let other = app.create(&json!({"displayName": "other"})).await;
    let id = token["id"].as_str().unwrap();
    let path = format!("{BETA}/{id}");

    let response = app
        .request(Method::POST, &format!("{path}/syncLicenses"))
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let synced: Value = response.json().await.unwrap();
    assert_eq!(synced["@odata.type"], "#microsoft.graph.vppToken");
    assert_eq!(synced["lastSyncStatus"], "completed");
    assert_eq!(synced["lastSyncDateTime"], synced["lastModifiedDateTime"]);
    let result = &synced["tokenActionResults"][0];
    assert_eq!(result["actionName"], "syncLicenses");
    assert_eq!(result["actionState"], "done");
    assert_eq!(result["startDateTime"], synced["lastSyncDateTime"]);
    assert_eq!(result["lastUpdatedDateTime"], synced["lastSyncDateTime"]);
    let fetched = app.get_json(&path).await;
    assert_eq!(fetched, synced);

    let v1_sync = app
        .request(Method::POST, &format!("{V1}/{id}/syncLicenses"))
        .send()
        .await
        .unwrap();
    assert_eq!(v1_sync.status(), 200);

    let revoke = app
        .post_json(
            &format!("{path}/revokeLicenses"),
            &json!({"notifyManagedDevices": true, "revokeUntrackedLicenses": false}),
        )
        .await;
    assert_eq!(revoke.status(), 204);
    let after = app.get_json(&path).await;
    let results = after["tokenActionResults"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[2],
        json!({
            "@odata.type": "#microsoft.graph.vppTokenRevokeLicensesActionResult",
            "actionName": "revokeLicenses", "actionState": "done",
            "startDateTime": results[2]["startDateTime"], "lastUpdatedDateTime": results[2]["startDateTime"],
            "actionFailureReason": "none", "failedLicensesCount": 0, "totalLicensesCount": 0
        })
    );
    assert_graph_error(
        app.post_json(&format!("{path}/revokeLicenses"), &json!({}))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert_graph_error(
        app.post_json(
            &format!("{path}/revokeLicenses"),
            &json!({"notifyManagedDevices": "yes"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    assert_graph_error(
        app.post_json(
            &format!("{V1}/{id}/revokeLicenses"),
            &json!({"notifyManagedDevices": true}),
        )
        .await,
        400,
        "No method match route template",
    )
    .await;

    let counts = app
        .request(Method::POST, &format!("{BETA}/syncLicenseCounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(counts.status(), 204);
    let other_after: Value = app
        .get(&format!("{BETA}/{}", other["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(other_after["lastSyncDateTime"], "0001-01-01T00:00:00Z");

    let licenses = app
        .get(&format!(
            "{BETA}/getLicensesForApp(bundleId='com.contoso.app')"
        ))
        .await;
    assert_eq!(licenses.status(), 200);
    let body: Value = licenses.json().await.unwrap();
    assert_eq!(body["value"], json!([]));
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#Collection(microsoft.graph.vppTokenLicenseSummary)")
    );

    let missing = "3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76";
    let response = app
        .request(Method::POST, &format!("{BETA}/{missing}/syncLicenses"))
        .send()
        .await
        .unwrap();
    assert_graph_error(response, 404, "ResourceNotFound").await;
    app.stop().await;
}

#[tokio::test]
async fn v1_list_get_and_patch_answer_v1_shapes() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let token = app.create(&full_body()).await;
    let id = token["id"].as_str().unwrap();
    let list = app.get_json(V1).await;
    assert_eq!(list["value"][0].as_object().unwrap().len(), 12);
    assert!(list["value"][0].get("displayName").is_none());
    let item = app.get_json(&format!("{V1}/{id}")).await;
    assert_eq!(item.as_object().unwrap().len(), 14);
    let response = app
        .request(Method::PATCH, &format!("{V1}/{id}"))
        .header("Prefer", "return=representation")
        .json(&json!({"organizationName": "v1 org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 14);
    assert_eq!(body["organizationName"], "v1 org");
    let rejected = app
        .patch_json(&format!("{V1}/{id}"), &json!({"locationName": "x"}))
        .await;
    assert_graph_error(rejected, 400, "ModelValidationFailure").await;
    app.stop().await;
}
