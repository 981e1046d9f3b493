//! Issue 2: persistent create and read, end to end.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Row;

const BETA_KEYS: [&str; 21] = [
    "@odata.context",
    "@odata.type",
    "id",
    "organizationName",
    "vppTokenAccountType",
    "appleId",
    "expirationDateTime",
    "lastSyncDateTime",
    "token",
    "lastModifiedDateTime",
    "state",
    "tokenActionResults",
    "lastSyncStatus",
    "automaticallyUpdateApps",
    "countryOrRegion",
    "dataSharingConsentGranted",
    "displayName",
    "locationName",
    "claimTokenManagementFromExternalMdm",
    "roleScopeTagIds",
    "appleDeviceAppDeliveryProtocolType",
];

fn keys(body: &Value) -> Vec<String> {
    body.as_object().expect("object").keys().cloned().collect()
}

#[tokio::test]
async fn create_with_the_full_body_answers_201_with_every_property_as_graph_does() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let before = chrono::Utc::now();
    let response = app
        .request(Method::POST, BETA)
        .header("client-request-id", "my-correlation-id")
        .json(&full_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(
        header(&response, "content-type").starts_with("application/json;odata.metadata=minimal")
    );
    assert_eq!(header(&response, "odata-version"), "4.0");
    assert_eq!(header(&response, "client-request-id"), "my-correlation-id");
    assert!(uuid::Uuid::parse_str(&header(&response, "request-id")).is_ok());
    assert!(!header(&response, "date").is_empty());
    assert!(header(&response, "x-ms-ags-diagnostic").contains("\"DataCenter\":\"vpp-emulator\""));
    assert_eq!(header(&response, "cache-control"), "private");
    assert_eq!(header(&response, "vary"), "Accept-Encoding");
    assert_eq!(
        header(&response, "strict-transport-security"),
        "max-age=31536000"
    );
    let raw = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&raw).unwrap();

    // Key order is Graph's: context, type, then the B.1 table.
    let expected_keys: Vec<String> = BETA_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(&body), expected_keys, "{raw}");
    assert!(raw.starts_with("{\"@odata.context\":"));
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceAppManagement/vppTokens/$entity",
            app.base
        )
    );
    assert_eq!(body["@odata.type"], "#microsoft.graph.vppToken");

    let id = body["id"].as_str().unwrap();
    let parsed = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(id, id.to_lowercase());
    assert_eq!(body["token"], Value::Null);
    let modified =
        chrono::DateTime::parse_from_rfc3339(body["lastModifiedDateTime"].as_str().unwrap())
            .unwrap();
    assert!(modified >= before - chrono::Duration::seconds(1) && modified <= chrono::Utc::now());
    assert!(
        body["lastModifiedDateTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    assert_eq!(body["organizationName"], "Contoso Schools");
    assert_eq!(body["vppTokenAccountType"], "education");
    assert_eq!(body["expirationDateTime"], "2027-09-25T17:09:22Z");
    assert_eq!(body["lastSyncDateTime"], "2026-07-17T14:50:53.5002993Z");
    assert_eq!(body["state"], "valid");
    assert_eq!(body["lastSyncStatus"], "completed");
    assert_eq!(body["automaticallyUpdateApps"], true);
    assert_eq!(body["countryOrRegion"], "gb");
    assert_eq!(
        body["appleDeviceAppDeliveryProtocolType"],
        "declarativeDeviceManagement"
    );
    assert_eq!(body["roleScopeTagIds"], json!(["0", "12", "7"]));
    assert_eq!(
        body["tokenActionResults"],
        json!([
            {"actionName": "syncLicenses", "actionState": "done",
             "startDateTime": "2026-07-17T14:50:53.5002993Z", "lastUpdatedDateTime": "2026-07-17T14:51:00Z"},
            {"@odata.type": "#microsoft.graph.vppTokenRevokeLicensesActionResult",
             "actionName": "revokeLicenses", "actionState": "failed",
             "startDateTime": "2026-08-01T09:00:00Z", "lastUpdatedDateTime": "2026-08-01T09:05:00Z",
             "actionFailureReason": "appleFailure", "failedLicensesCount": 2, "totalLicensesCount": 40}
        ])
    );

    // GET answers the same entity.
    let fetched = app.get_json(&format!("{BETA}/{id}")).await;
    assert_eq!(fetched, body);
    let odata_key = app.get_json(&format!("{BETA}('{id}')")).await;
    assert_eq!(odata_key, body);
    app.stop().await;
}

#[tokio::test]
async fn sdk_style_subset_gets_graph_defaults_and_normalised_dates() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let body = app
        .create(&json!({
            "appleId": "sdk@contoso.example",
            "expirationDateTime": "2027-01-02T03:04:05.123456+00:00",
            "lastSyncDateTime": "2026-05-06T07:08:09.000001+02:00",
        }))
        .await;
    assert_eq!(body["expirationDateTime"], "2027-01-02T03:04:05.123456Z");
    assert_eq!(body["lastSyncDateTime"], "2026-05-06T05:08:09.000001Z");
    assert_eq!(body["vppTokenAccountType"], "business");
    assert_eq!(body["state"], "unknown");
    assert_eq!(body["lastSyncStatus"], "none");
    assert_eq!(body["automaticallyUpdateApps"], false);
    assert_eq!(body["dataSharingConsentGranted"], false);
    assert_eq!(body["claimTokenManagementFromExternalMdm"], false);
    assert_eq!(body["tokenActionResults"], json!([]));
    assert_eq!(body["roleScopeTagIds"], json!(["0"]));
    assert_eq!(body["appleDeviceAppDeliveryProtocolType"], "default");
    assert_eq!(body["organizationName"], Value::Null);
    assert_eq!(body["displayName"], Value::Null);
    let defaulted = app.create(&json!({})).await;
    assert_eq!(defaulted["expirationDateTime"], "0001-01-01T00:00:00Z");
    app.stop().await;
}

#[tokio::test]
async fn created_rows_are_in_the_sqlite_file_with_their_children_in_order() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let body = app.create(&full_body()).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let db = app.open_db().await;
    let row = sqlx::query("SELECT token, state, expiration_date_time, last_sync_date_time FROM vpp_tokens WHERE id = ?")
        .bind(&id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        row.get::<String, _>("token"),
        "eyJleHBEYXRlIjoiMjAyNy0wOS0yNSJ9.secret-value"
    );
    assert_eq!(row.get::<String, _>("state"), "valid");
    assert_eq!(
        row.get::<String, _>("expiration_date_time"),
        "2027-09-25T17:09:22.0000000Z"
    );
    assert_eq!(
        row.get::<String, _>("last_sync_date_time"),
        "2026-07-17T14:50:53.5002993Z"
    );
    let tags: Vec<String> = sqlx::query_scalar(
        "SELECT r.role_scope_tag_id FROM vpp_token_role_scope_tag_ids r \
         JOIN vpp_tokens t ON t.seq = r.token_seq WHERE t.id = ? ORDER BY r.ordinal",
    )
    .bind(&id)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(tags, ["0", "12", "7"]);
    let results: Vec<(String, bool)> = sqlx::query_as(
        "SELECT a.action_name, a.is_revoke_result FROM vpp_token_action_results a \
         JOIN vpp_tokens t ON t.seq = a.token_seq WHERE t.id = ? ORDER BY a.ordinal",
    )
    .bind(&id)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        results,
        [
            ("syncLicenses".to_owned(), false),
            ("revokeLicenses".to_owned(), true)
        ]
    );
    db.close().await;
    app.stop().await;
}

#[tokio::test]
async fn tokens_survive_a_restart_with_identical_bodies() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let mut created = Vec::new();
    for name in ["one", "two", "three"] {
        let mut body = full_body();
        body["displayName"] = json!(name);
        created.push(app.create(&body).await);
    }
    app.stop().await;

    let app = spawn_app(&dir).await;
    for body in &created {
        let again = app
            .get_json(&format!("{BETA}/{}", body["id"].as_str().unwrap()))
            .await;
        let mut expected = body.clone();
        // The host of the context URL is the new server's.
        expected["@odata.context"] = json!(format!(
            "{}/beta/$metadata#deviceAppManagement/vppTokens/$entity",
            app.base
        ));
        assert_eq!(again, expected);
    }
    app.stop().await;
}

#[tokio::test]
async fn v1_answers_exactly_the_12_v1_properties_and_rejects_beta_only_input() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let response = app
        .post_json(
            V1,
            &json!({"organizationName": "Fabrikam", "state": "valid"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys(&body),
        [
            "@odata.context",
            "@odata.type",
            "id",
            "organizationName",
            "vppTokenAccountType",
            "appleId",
            "expirationDateTime",
            "lastSyncDateTime",
            "token",
            "lastModifiedDateTime",
            "state",
            "lastSyncStatus",
            "automaticallyUpdateApps",
            "countryOrRegion",
        ]
    );
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/v1.0/$metadata#deviceAppManagement/vppTokens/$entity",
            app.base
        )
    );

    for beta_only in [
        json!({"displayName": "x"}),
        json!({"roleScopeTagIds": ["0"]}),
        json!({"tokenActionResults": []}),
    ] {
        let before = app.count().await;
        let response = app.post_json(V1, &beta_only).await;
        let message = assert_graph_error(response, 400, "ModelValidationFailure").await;
        let name = beta_only
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap()
            .clone();
        assert_eq!(
            message,
            format!(
                "The property '{name}' does not exist on type 'microsoft.management.services.api.vppToken'. Make sure to only use property names that are defined by the type."
            )
        );
        assert_eq!(app.count().await, before);
    }
    let response = app
        .post_json(V1, &json!({"state": "duplicateLocationId"}))
        .await;
    assert_graph_error(response, 400, "BadRequest").await;
    app.stop().await;
}

#[tokio::test]
async fn v1_shows_the_beta_only_state_as_unknown_and_filters_it_so() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let hidden = app
        .create(&json!({"displayName": "hidden", "state": "duplicateLocationId"}))
        .await;
    let valid = app.create(&json!({"state": "valid"})).await;
    let (hidden_id, valid_id) = (
        hidden["id"].as_str().unwrap(),
        valid["id"].as_str().unwrap(),
    );

    let one = app.get_json(&format!("{V1}/{hidden_id}")).await;
    assert_eq!(one["state"], "unknown");
    let listed = app.get_json(V1).await;
    assert_eq!(listed["value"][0]["id"], hidden_id);
    assert_eq!(listed["value"][0]["state"], "unknown");
    let on_beta = app.get_json(&format!("{BETA}/{hidden_id}")).await;
    assert_eq!(on_beta["state"], "duplicateLocationId");

    for (version, filter, expected) in [
        (V1, "state%20eq%20'unknown'", vec![hidden_id]),
        (V1, "state%20ne%20'unknown'", vec![valid_id]),
        (BETA, "state%20eq%20'unknown'", vec![]),
        (BETA, "state%20eq%20'duplicateLocationId'", vec![hidden_id]),
    ] {
        let response = app.get(&format!("{version}?$filter={filter}")).await;
        assert_eq!(response.status(), 200, "{version} {filter}");
        assert_eq!(
            ids(&response.json().await.unwrap()),
            expected,
            "{version} {filter}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn unversioned_alias_is_beta() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let created = app
        .post_json(
            "/deviceAppManagement/vppTokens",
            &json!({"displayName": "alias"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["displayName"], "alias");
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/beta/$metadata")
    );
    app.stop().await;
}

#[tokio::test]
async fn authentication_is_required_on_graph_routes() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let url = format!("{}{BETA}", app.base);
    let cases = [
        (None, "Access token is empty."),
        (Some("Bearer "), "Access token is empty."),
        (Some("Bearer"), "Access token is empty."),
        (
            Some("Basic dXNlcjpwYXNz"),
            "Access token validation failure.",
        ),
    ];
    for (authorization, message) in cases {
        let mut request = app.client.get(&url);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(header(&response, "www-authenticate"), "Bearer");
        let got = assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
        assert_eq!(got, message);
    }
    // /health needs no token.
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    app.stop().await;

    let dir = temp_dir();
    let open = spawn_app_with(&dir, &[("VPP_AUTH__MODE", "none")]).await;
    let response = open
        .client
        .get(format!("{}{BETA}", open.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    open.stop().await;
}

#[tokio::test]
async fn unknown_ids_routes_versions_sizes_and_media_types_are_graph_errors() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_SERVER__MAX_BODY_BYTES", "2048")]).await;
    let message = assert_graph_error(
        app.get(&format!("{BETA}/3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76"))
            .await,
        404,
        "ResourceNotFound",
    )
    .await;
    let document: Value =
        serde_json::from_str(&message).expect("Intune's JSON document in message");
    assert_eq!(document["_version"], 3);
    assert!(message.contains("\r\n  \"Message\""));
    assert_graph_error(
        app.get(&format!("{BETA}/not-a-guid")).await,
        404,
        "ResourceNotFound",
    )
    .await;

    let put = app
        .request(Method::PUT, BETA)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let message = assert_graph_error(put, 400, "No method match route template").await;
    assert!(message.contains("PUT"), "{message}");
    let head = app
        .request(
            Method::OPTIONS,
            &format!("{BETA}/3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76"),
        )
        .send()
        .await
        .unwrap();
    assert_graph_error(head, 400, "No method match route template").await;
    let message = assert_graph_error(
        app.get("/v2.0/deviceAppManagement/vppTokens").await,
        400,
        "BadRequest",
    )
    .await;
    assert_eq!(message, "Invalid version: v2.0");

    let big = json!({"displayName": "x".repeat(4096)});
    let response = app.post_json(BETA, &big).await;
    assert_graph_error(response, 413, "RequestEntityTooLarge").await;
    let text = app
        .request(Method::POST, BETA)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_graph_error(text, 415, "UnsupportedMediaType").await;
    let none = app
        .request(Method::POST, BETA)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_graph_error(none, 415, "UnsupportedMediaType").await;
    assert_eq!(app.count().await, 0);
    app.stop().await;
}
