//! `GET /openapi.json` describes what the routes serve (schemathesis checks answers against it in
//! CI; this checks its shape).

mod common;

use common::{spawn_app_with, temp_dir};
use serde_json::Value;

#[tokio::test]
async fn openapi_json_describes_both_versions_from_the_property_table() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_LIMITS__MAX_STRING_BYTES", "500")]).await;
    let response = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.0.3");
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/beta/deviceAppManagement/vppTokens",
        "/beta/deviceAppManagement/vppTokens/{vppToken-id}",
        "/beta/deviceAppManagement/vppTokens/$count",
        "/beta/deviceAppManagement/vppTokens/{vppToken-id}/revokeLicenses",
        "/beta/deviceAppManagement/vppTokens/getLicensesForApp(bundleId='{bundleId}')",
        "/v1.0/deviceAppManagement/vppTokens",
        "/v1.0/deviceAppManagement/vppTokens/{vppToken-id}/syncLicenses",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    assert!(!paths.contains_key("/v1.0/deviceAppManagement/vppTokens/syncLicenseCounts"));

    let schemas = &document["components"]["schemas"];
    let names = |schema: &str| -> Vec<String> {
        let mut names: Vec<String> = schemas[schema]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !k.starts_with('@'))
            .cloned()
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("vppToken").len(), 19);
    assert_eq!(
        names("vppTokenV1"),
        [
            "appleId",
            "automaticallyUpdateApps",
            "countryOrRegion",
            "expirationDateTime",
            "id",
            "lastModifiedDateTime",
            "lastSyncDateTime",
            "lastSyncStatus",
            "organizationName",
            "state",
            "token",
            "vppTokenAccountType"
        ]
    );
    let state_v1 = &schemas["vppTokenV1"]["properties"]["state"]["enum"];
    assert!(
        !state_v1
            .as_array()
            .unwrap()
            .contains(&Value::from("duplicateLocationId"))
    );
    let state_beta = &schemas["vppToken"]["properties"]["state"]["enum"];
    assert!(
        state_beta
            .as_array()
            .unwrap()
            .contains(&Value::from("duplicateLocationId"))
    );
    // The configured limits are what the schema states.
    assert_eq!(
        schemas["vppToken"]["properties"]["displayName"]["maxLength"],
        500
    );
    app.stop().await;
}
