//! Test harness: the real server on a random port over a real SQLite file in a temp dir.
#![allow(dead_code)]

pub mod binary;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use vpp_emulator::config::Settings;
use vpp_emulator::startup::Application;

pub const BETA: &str = "/beta/deviceAppManagement/vppTokens";
pub const V1: &str = "/v1.0/deviceAppManagement/vppTokens";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db_path: PathBuf,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A folder holding the database; kept alive by the test so restarts reuse the file.
pub fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub async fn spawn_app(dir: &TempDir) -> TestApp {
    spawn_app_with(dir, &[]).await
}

pub async fn spawn_app_with(dir: &TempDir, overrides: &[(&str, &str)]) -> TestApp {
    let db_path = dir.path().join("vpp.db");
    let mut env: HashMap<String, String> = HashMap::from([
        ("VPP_SERVER__PORT".to_owned(), "0".to_owned()),
        ("VPP_SERVER__WORKERS".to_owned(), "2".to_owned()),
        (
            "VPP_DATABASE__PATH".to_owned(),
            db_path.display().to_string(),
        ),
    ]);
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let settings = Settings::from_layers(None, env).expect("settings");
    let app = Application::build(settings).await.expect("application");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: Client::new(),
        db_path,
        handle,
        task,
    }
}

impl TestApp {
    /// Stops the server gracefully and waits until the database is closed.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.task
            .await
            .expect("server task")
            .expect("server result");
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth("test-token")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("GET")
    }

    /// GETs `path`, asserts a 200 and returns the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    /// Creates a token on beta and returns its body.
    pub async fn create(&self, body: &Value) -> Value {
        let response = self.post_json(BETA, body).await;
        assert_eq!(response.status(), 201, "create failed");
        response.json().await.expect("json")
    }

    pub async fn count(&self) -> i64 {
        let text = self
            .get(&format!("{BETA}/$count"))
            .await
            .text()
            .await
            .expect("count");
        text.parse().expect("integer count")
    }

    /// A read-only connection to the database file, to check what is really stored.
    pub async fn open_db(&self) -> SqlitePool {
        open_db(&self.db_path).await
    }
}

pub async fn open_db(path: &Path) -> SqlitePool {
    SqlitePool::connect_with(SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .expect("open database")
}

/// Asserts a Graph error envelope with `status` and `code`; returns the message.
pub async fn assert_graph_error(response: Response, status: u16, code: &str) -> String {
    assert_graph_error_of(response, status, &[code]).await
}

/// Asserts a Graph error envelope with `status` and one of `codes`; returns the message.
pub async fn assert_graph_error_of(response: Response, status: u16, codes: &[&str]) -> String {
    assert_eq!(response.status(), status, "status");
    let request_id = header(&response, "request-id");
    assert!(!request_id.is_empty(), "request-id header");
    assert!(header(&response, "content-type").starts_with("application/json"));
    // Errors carry Graph's fixed headers too, whichever layer raised them.
    assert!(!header(&response, "x-ms-ags-diagnostic").is_empty());
    assert_eq!(header(&response, "vary"), "Accept-Encoding");
    let body: Value = response.json().await.expect("error body is JSON");
    let code = body["error"]["code"].as_str().unwrap_or_default();
    assert!(
        codes.contains(&code),
        "code {code}, expected one of {codes:?}: {body}"
    );
    let inner = &body["error"]["innerError"];
    assert_eq!(inner["request-id"], request_id.as_str());
    let date = inner["date"].as_str().expect("innerError.date");
    assert_eq!(date.len(), 19, "date without fraction or zone: {date}");
    let message = body["error"]["message"].as_str().expect("message");
    // Contract A.3: an unknown property's text is repeated in innerError.message; no other
    // error carries one.
    if code == "ModelValidationFailure" {
        assert_eq!(inner["message"], message, "innerError.message: {body}");
    } else {
        assert!(inner.get("message").is_none(), "innerError.message: {body}");
    }
    message.to_owned()
}

/// The ids of a collection page's `value`, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .expect("value array")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The contract's seed body with realistic values.
pub fn full_body() -> Value {
    serde_json::json!({
        "@odata.type": "#microsoft.graph.vppToken",
        "organizationName": "Contoso Schools",
        "vppTokenAccountType": "education",
        "appleId": "vpp-admin@contoso.example",
        "expirationDateTime": "2027-09-25T17:09:22Z",
        "lastSyncDateTime": "2026-07-17T14:50:53.5002993Z",
        "token": "eyJleHBEYXRlIjoiMjAyNy0wOS0yNSJ9.secret-value",
        "lastModifiedDateTime": "2001-01-01T00:00:00Z",
        "state": "valid",
        "tokenActionResults": [
            {
                "@odata.type": "microsoft.graph.vppTokenActionResult",
                "actionName": "syncLicenses",
                "actionState": "done",
                "startDateTime": "2026-07-17T14:50:53.5002993Z",
                "lastUpdatedDateTime": "2026-07-17T14:51:00Z"
            },
            {
                "@odata.type": "#microsoft.graph.vppTokenRevokeLicensesActionResult",
                "actionName": "revokeLicenses",
                "actionState": "failed",
                "startDateTime": "2026-08-01T09:00:00Z",
                "lastUpdatedDateTime": "2026-08-01T09:05:00Z",
                "actionFailureReason": "appleFailure",
                "failedLicensesCount": 2,
                "totalLicensesCount": 40
            }
        ],
        "lastSyncStatus": "completed",
        "automaticallyUpdateApps": true,
        "countryOrRegion": "gb",
        "dataSharingConsentGranted": true,
        "displayName": "Contoso VPP",
        "locationName": "London",
        "claimTokenManagementFromExternalMdm": false,
        "roleScopeTagIds": ["0", "12", "7"],
        "appleDeviceAppDeliveryProtocolType": "declarativeDeviceManagement"
    })
}

/// Collections per uniform token (see [`uniform_body`]).
pub const UNIFORM_TAGS: usize = 3;
pub const UNIFORM_RESULTS: usize = 2;

/// A body that sets one value everywhere in a token (`displayName`, each scope tag, each action
/// result's `actionName`), so that a token mixing two writes is visible at once.
pub fn uniform_body(value: &str) -> Value {
    serde_json::json!({
        "displayName": value,
        "roleScopeTagIds": vec![value; UNIFORM_TAGS],
        "tokenActionResults": vec![serde_json::json!({"actionName": value, "actionState": "done"}); UNIFORM_RESULTS],
    })
}

/// The one value of a token written with [`uniform_body`], or why it is not one whole write.
pub fn uniform_value(token: &Value) -> Result<String, String> {
    let value = token["displayName"].as_str().ok_or("no displayName")?;
    let tags = token["roleScopeTagIds"].as_array().ok_or("no tags")?;
    let results = token["tokenActionResults"].as_array().ok_or("no results")?;
    let whole = tags.len() == UNIFORM_TAGS
        && results.len() == UNIFORM_RESULTS
        && tags.iter().all(|tag| tag == value)
        && results.iter().all(|r| r["actionName"] == value);
    if whole {
        Ok(value.to_owned())
    } else {
        Err(format!("partial token: {token}"))
    }
}
