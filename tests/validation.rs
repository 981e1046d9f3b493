//! Issue 2, acceptance 6: every rejection class of contract A.3 answers the right status, code and
//! envelope, and stores nothing.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

/// (description, raw body, expected code, text the message must contain)
fn bad_bodies() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let s = |v: serde_json::Value| v.to_string();
    vec![
        (
            "not JSON",
            "{not json".into(),
            "BadRequest",
            "not valid JSON",
        ),
        ("empty body", "".into(), "BadRequest", "not valid JSON"),
        ("array", "[]".into(), "BadRequest", "JSON object"),
        ("string", "\"x\"".into(), "BadRequest", "JSON object"),
        (
            "trailing garbage",
            "{} x".into(),
            "BadRequest",
            "not valid JSON",
        ),
        (
            "duplicate key",
            r#"{"displayName":"a","displayName":"b"}"#.into(),
            "BadRequest",
            "more than once",
        ),
        (
            "too deep",
            format!("{{\"displayName\":{}1{}}}", "[".repeat(40), "]".repeat(40)),
            "BadRequest",
            "nested deeper",
        ),
        (
            "unknown property",
            s(json!({"colour": "red"})),
            "ModelValidationFailure",
            "'colour' does not exist",
        ),
        (
            "unknown property in action result",
            s(json!({"tokenActionResults": [{"bogus": 1}]})),
            "ModelValidationFailure",
            "'bogus' does not exist",
        ),
        (
            "revoke property on base action result",
            s(json!({"tokenActionResults": [{"failedLicensesCount": 1}]})),
            "ModelValidationFailure",
            "failedLicensesCount",
        ),
        (
            "wrong @odata.type",
            s(json!({"@odata.type": "#microsoft.graph.user"})),
            "BadRequest",
            "@odata.type",
        ),
        (
            "string for Boolean",
            s(json!({"automaticallyUpdateApps": "true"})),
            "BadRequest",
            "automaticallyUpdateApps",
        ),
        (
            "number for string",
            s(json!({"displayName": 5})),
            "BadRequest",
            "displayName",
        ),
        (
            "unknown enum member",
            s(json!({"state": "active"})),
            "BadRequest",
            "state",
        ),
        (
            "enum in wrong case",
            s(json!({"state": "Valid"})),
            "BadRequest",
            "vppTokenState",
        ),
        (
            "enum in wrong case (MDM)",
            s(json!({"state": "assignedToExternalMdm"})),
            "BadRequest",
            "state",
        ),
        (
            "bad account type",
            s(json!({"vppTokenAccountType": "enterprise"})),
            "BadRequest",
            "vppTokenAccountType",
        ),
        (
            "malformed date-time",
            s(json!({"expirationDateTime": "next tuesday"})),
            "BadRequest",
            "expirationDateTime",
        ),
        (
            "date without zone",
            s(json!({"expirationDateTime": "2026-01-01T00:00:00"})),
            "BadRequest",
            "expirationDateTime",
        ),
        (
            "impossible date",
            s(json!({"lastSyncDateTime": "2026-02-30T00:00:00Z"})),
            "BadRequest",
            "lastSyncDateTime",
        ),
        (
            "too many fraction digits",
            s(json!({"lastSyncDateTime": "2026-01-01T00:00:00.1234567890123Z"})),
            "BadRequest",
            "lastSyncDateTime",
        ),
        (
            "null for non-nullable enum",
            s(json!({"state": null})),
            "BadRequest",
            "state",
        ),
        (
            "null for non-nullable Boolean",
            s(json!({"dataSharingConsentGranted": null})),
            "BadRequest",
            "dataSharingConsentGranted",
        ),
        (
            "null for non-nullable date",
            s(json!({"expirationDateTime": null})),
            "BadRequest",
            "expirationDateTime",
        ),
        (
            "non-string scope tag",
            s(json!({"roleScopeTagIds": ["0", 7]})),
            "BadRequest",
            "roleScopeTagIds[1]",
        ),
        (
            "scope tags not an array",
            s(json!({"roleScopeTagIds": "0"})),
            "BadRequest",
            "roleScopeTagIds",
        ),
        (
            "bad enum inside action result",
            s(json!({"tokenActionResults": [{"actionState": "finished"}]})),
            "BadRequest",
            "tokenActionResults[0].actionState",
        ),
        (
            "count beyond Int32",
            s(
                json!({"tokenActionResults": [{"@odata.type": "#microsoft.graph.vppTokenRevokeLicensesActionResult", "totalLicensesCount": 3000000000u64}]}),
            ),
            "BadRequest",
            "totalLicensesCount",
        ),
        (
            "action result not an object",
            s(json!({"tokenActionResults": ["done"]})),
            "BadRequest",
            "tokenActionResults[0]",
        ),
    ]
}

#[tokio::test]
async fn every_rejection_class_answers_a_graph_error_and_stores_nothing() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let cases = bad_bodies();
    assert!(cases.len() >= 20);
    for (what, body, code, needle) in cases {
        let response = app
            .request(Method::POST, BETA)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let message = assert_graph_error(response, 400, code).await;
        assert!(message.contains(needle), "{what}: {message}");
        if code == "BadRequest"
            && !matches!(
                what,
                "not JSON"
                    | "empty body"
                    | "array"
                    | "string"
                    | "trailing garbage"
                    | "duplicate key"
                    | "too deep"
            )
        {
            // Errors found by the service carry Intune's JSON document.
            let document: serde_json::Value =
                serde_json::from_str(&message).unwrap_or_else(|_| panic!("{what}: {message}"));
            assert!(
                document["Message"]
                    .as_str()
                    .unwrap()
                    .contains("Activity ID")
            );
        }
    }
    // The same bad bodies on PATCH change nothing either.
    let token = app
        .create(&json!({"displayName": "keep", "state": "valid"}))
        .await;
    let path = format!("{BETA}/{}", token["id"].as_str().unwrap());
    for (what, body, code, _) in bad_bodies() {
        let response = app
            .request(Method::PATCH, &path)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{what}");
        assert_graph_error(response, 400, code).await;
    }
    let after: serde_json::Value = app.get_json(&path).await;
    assert_eq!(after, token);
    assert_eq!(app.count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn ignored_and_accepted_inputs() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    // A BOM, content-type parameters, annotations, client id and lastModifiedDateTime are fine.
    let response = app
        .request(Method::POST, BETA)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(format!(
            "\u{feff}{}",
            json!({
                "@odata.type": "MICROSOFT.GRAPH.VPPTOKEN",
                "@odata.etag": "W/\"1\"",
                "displayName@odata.type": "#String",
                "id": "00000000-0000-0000-0000-000000000000",
                "lastModifiedDateTime": "2001-01-01T00:00:00Z",
                "displayName": "ok",
                "roleScopeTagIds": null
            })
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_ne!(body["id"], "00000000-0000-0000-0000-000000000000");
    assert_ne!(body["lastModifiedDateTime"], "2001-01-01T00:00:00Z");
    assert_eq!(body["roleScopeTagIds"], json!([]));
    app.stop().await;
}
