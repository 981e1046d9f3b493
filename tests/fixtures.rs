//! Issue 4: seeding at start, export/import, reset under load, admin auth, licences, CLI.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::binary::BINARY;
const FIXTURE_IDS: [&str; 5] = [
    "0b5c8d7e-1f2a-4b3c-8d4e-5f6a7b8c9d01",
    "0b5c8d7e-1f2a-4b3c-8d4e-5f6a7b8c9d02",
    "0b5c8d7e-1f2a-4b3c-8d4e-5f6a7b8c9d03",
    "0b5c8d7e-1f2a-4b3c-8d4e-5f6a7b8c9d04",
    "0b5c8d7e-1f2a-4b3c-8d4e-5f6a7b8c9d05",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

async fn list_ids(app: &TestApp) -> Vec<String> {
    ids(&app.get_json(&format!("{BETA}?$select=id")).await)
}

async fn seeded(dir: &tempfile::TempDir, mode: &str) -> TestApp {
    let path = fixtures_dir().display().to_string();
    spawn_app_with(
        dir,
        &[("VPP_SEED__PATH", path.as_str()), ("VPP_SEED__MODE", mode)],
    )
    .await
}

#[tokio::test]
async fn seed_at_start_keeps_changes_with_if_empty_and_restores_them_with_upsert() {
    let dir = temp_dir();
    let app = seeded(&dir, "if-empty").await;
    assert_eq!(list_ids(&app).await, FIXTURE_IDS);
    let expired = app.get_json(&format!("{BETA}/{}", FIXTURE_IDS[2])).await;
    assert_eq!(expired["state"], "expired");
    assert_eq!(
        expired["token"],
        Value::Null,
        "the fixture's token value is never answered"
    );
    let path = format!("{BETA}/{}", FIXTURE_IDS[0]);
    assert_eq!(
        app.patch_json(&path, &json!({"displayName": "changed by a test"}))
            .await
            .status(),
        204
    );
    app.stop().await;

    let app = seeded(&dir, "if-empty").await;
    assert_eq!(list_ids(&app).await, FIXTURE_IDS, "nothing duplicated");
    let changed = app.get_json(&path).await;
    assert_eq!(changed["displayName"], "changed by a test");
    app.stop().await;

    let app = seeded(&dir, "upsert").await;
    assert_eq!(list_ids(&app).await, FIXTURE_IDS);
    let restored = app.get_json(&path).await;
    assert_eq!(restored["displayName"], "Contoso Schools VPP");
    assert_eq!(restored["lastModifiedDateTime"], "2026-11-30T08:15:00Z");
    app.stop().await;
}

#[tokio::test]
async fn export_reset_empty_import_gives_back_byte_identical_answers() {
    let dir = temp_dir();
    let app = seeded(&dir, "if-empty").await;
    app.create(&full_body()).await;
    let list_before = app
        .get(&format!("{BETA}?$count=true"))
        .await
        .text()
        .await
        .unwrap();
    let item_before = app
        .get(&format!("{BETA}/{}", FIXTURE_IDS[1]))
        .await
        .text()
        .await
        .unwrap();
    let exported = app
        .client
        .get(format!("{}/_emulator/export", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(exported.status(), 200);
    let document: Value = exported.json().await.unwrap();
    assert_eq!(
        document["vppTokens"][0]["token"],
        "eyJleHBEYXRlIjoiMjAyNy0wOS0yNSJ9.contoso-schools"
    );
    assert_eq!(document["licenses"].as_array().unwrap().len(), 4);

    let reset = app
        .client
        .post(format!("{}/_emulator/reset?to=empty", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(app.count().await, 0);

    let imported = app
        .client
        .post(format!("{}/_emulator/import", app.base))
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    assert_eq!(
        app.get(&format!("{BETA}?$count=true"))
            .await
            .text()
            .await
            .unwrap(),
        list_before
    );
    assert_eq!(
        app.get(&format!("{BETA}/{}", FIXTURE_IDS[1]))
            .await
            .text()
            .await
            .unwrap(),
        item_before
    );

    let again: Value = app
        .client
        .get(format!("{}/_emulator/export", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, document);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_fixture_names_file_path_and_reason_and_changes_nothing() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let existing = app.create(&json!({"displayName": "already here"})).await;
    app.stop().await;

    let bad_dir = temp_dir();
    let mut document: Value =
        serde_json::from_slice(&std::fs::read(fixtures_dir().join("10-contoso.json")).unwrap())
            .unwrap();
    document["vppTokens"][2]["tokenActionResults"] =
        json!([{"actionName": "x", "actionState": "finished"}]);
    let bad_file = bad_dir.path().join("bad.json");
    std::fs::write(&bad_file, document.to_string()).unwrap();

    let db = dir.path().join("vpp.db");
    let output = Command::new(BINARY)
        .env("VPP_DATABASE__PATH", &db)
        .env("VPP_SERVER__PORT", "0")
        .env("VPP_SEED__PATH", &bad_file)
        .env("VPP_SEED__MODE", "replace")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.json"), "{stderr}");
    assert!(
        stderr.contains("$.vppTokens[2].tokenActionResults[0].actionState"),
        "{stderr}"
    );
    assert!(
        stderr.contains("actionState") && stderr.contains("finished"),
        "{stderr}"
    );

    let seed = Command::new(BINARY)
        .args(["seed", bad_file.to_str().unwrap(), "--mode", "replace"])
        .env("VPP_DATABASE__PATH", &db)
        .output()
        .unwrap();
    assert_eq!(seed.status.code(), Some(1));

    let app = spawn_app(&dir).await;
    let ids = list_ids(&app).await;
    assert_eq!(
        ids,
        [existing["id"].as_str().unwrap()],
        "the database is unchanged"
    );
    app.stop().await;
}

#[tokio::test]
async fn reset_under_load_shows_readers_the_old_or_the_new_state_never_a_mix() {
    let dir = temp_dir();
    let app = std::sync::Arc::new(seeded(&dir, "if-empty").await);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut workers = Vec::new();
    for worker in 0..4 {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            let mut reads = 0;
            while std::time::Instant::now() < deadline {
                if worker % 2 == 0 {
                    let response = app.get(&format!("{BETA}?$top=999&$count=true")).await;
                    assert!(response.status().is_success(), "{}", response.status());
                    let body: Value = response.json().await.unwrap();
                    let values = body["value"].as_array().unwrap();
                    assert_eq!(
                        body["@odata.count"].as_u64().unwrap() as usize,
                        values.len()
                    );
                    let present = values
                        .iter()
                        .filter(|t| FIXTURE_IDS.contains(&t["id"].as_str().unwrap()))
                        .count();
                    assert!(
                        present == 0 || present == FIXTURE_IDS.len(),
                        "a mix: {present} fixture tokens"
                    );
                    reads += 1;
                } else {
                    let response = app.post_json(BETA, &json!({"displayName": "writer"})).await;
                    assert_eq!(response.status(), 201);
                }
            }
            reads
        }));
    }
    let mut resets = 0;
    while std::time::Instant::now() < deadline {
        let to = if resets % 2 == 0 { "empty" } else { "seed" };
        let response = app
            .client
            .post(format!("{}/_emulator/reset?to={to}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        resets += 1;
    }
    let mut reads = 0;
    for worker in workers {
        reads += worker.await.unwrap();
    }
    assert!(resets > 2 && reads > 2, "resets {resets}, reads {reads}");
    std::sync::Arc::into_inner(app).unwrap().stop().await;
}

#[tokio::test]
async fn the_admin_token_is_enforced_and_the_admin_api_is_not_under_graph_paths() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_ADMIN__TOKEN", "s3cret")]).await;
    let url = format!("{}/_emulator/reset?to=empty", app.base);
    assert_graph_error(
        app.client.post(&url).send().await.unwrap(),
        401,
        "InvalidAuthenticationToken",
    )
    .await;
    assert_graph_error(
        app.client
            .post(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap(),
        401,
        "InvalidAuthenticationToken",
    )
    .await;
    // A Graph bearer token is not the admin token.
    assert_graph_error(
        app.request(Method::POST, "/_emulator/reset?to=empty")
            .send()
            .await
            .unwrap(),
        401,
        "InvalidAuthenticationToken",
    )
    .await;
    assert_eq!(
        app.client
            .post(&url)
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_graph_error(
        app.client
            .get(format!("{}/_emulator/export", app.base))
            .send()
            .await
            .unwrap(),
        401,
        "InvalidAuthenticationToken",
    )
    .await;
    assert_eq!(
        app.client
            .get(format!("{}/_emulator/health/live", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(format!("{}/_emulator/health/ready", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for path in [
        "/beta/_emulator/reset",
        "/beta/deviceAppManagement/vppTokens/_emulator/reset",
        "/v1.0/_emulator/export",
    ] {
        let response = app.request(Method::POST, path).send().await.unwrap();
        assert_graph_error(response, 400, "No method match route template").await;
    }
    let bad = app
        .client
        .post(format!("{}/_emulator/reset?to=yesterday", app.base))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_graph_error(bad, 400, "BadRequest").await;
    app.stop().await;
}

#[tokio::test]
async fn get_licenses_for_app_answers_the_fixture_licences_per_token() {
    let dir = temp_dir();
    let app = seeded(&dir, "if-empty").await;
    let body: Value = app
        .get(&format!(
            "{BETA}/getLicensesForApp(bundleId='com.contoso.pointofsale')"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["value"],
        json!([
            {"vppTokenId": FIXTURE_IDS[1], "appleId": "apps@retail.contoso.example", "organizationName": "Contoso Retail", "availableLicenseCount": 45, "usedLicenseCount": 255},
            {"vppTokenId": FIXTURE_IDS[2], "appleId": "labs@contoso.example", "organizationName": "Contoso Labs", "availableLicenseCount": 0, "usedLicenseCount": 12},
        ])
    );
    let classroom: Value = app
        .get(&format!(
            "{BETA}/getLicensesForApp(bundleId='com.contoso.classroom')"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(classroom["value"].as_array().unwrap().len(), 2);
    // revokeLicenses counts the token's used licences from the fixtures.
    let revoke = app
        .post_json(
            &format!("{BETA}/{}/revokeLicenses", FIXTURE_IDS[1]),
            &json!({"notifyManagedDevices": false}),
        )
        .await;
    assert_eq!(revoke.status(), 204);
    let token = app.get_json(&format!("{BETA}/{}", FIXTURE_IDS[1])).await;
    let last = token["tokenActionResults"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["totalLicensesCount"], 270);
    app.stop().await;
}

#[tokio::test]
async fn cli_seed_export_migrate_and_healthcheck_exit_codes() {
    let dir = temp_dir();
    let db = dir.path().join("cli.db");
    let run = |args: &[&str]| {
        Command::new(BINARY)
            .args(args)
            .env("VPP_DATABASE__PATH", &db)
            .env("VPP_SERVER__PORT", "1")
            .output()
            .unwrap()
    };
    assert_eq!(run(&["migrate"]).status.code(), Some(0));
    let seeded = run(&[
        "seed",
        fixtures_dir().to_str().unwrap(),
        "--mode",
        "if-empty",
    ]);
    assert_eq!(seeded.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&seeded.stdout).contains("5 vppTokens, 4 licenses"));
    let again = run(&[
        "seed",
        fixtures_dir().to_str().unwrap(),
        "--mode",
        "if-empty",
    ]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("skipped"));
    let exported = run(&["export"]);
    assert_eq!(exported.status.code(), Some(0));
    let document: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(document["vppTokens"].as_array().unwrap().len(), 5);
    assert!(String::from_utf8_lossy(&exported.stderr).contains("exported tenant"));

    // export → seed round-trips exactly.
    let file = dir.path().join("export.json");
    assert_eq!(
        run(&["export", "--output", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["seed", file.to_str().unwrap(), "--mode", "replace"])
            .status
            .code(),
        Some(0)
    );
    let round_trip: Value = serde_json::from_slice(&run(&["export"]).stdout).unwrap();
    assert_eq!(round_trip, document);

    assert_eq!(
        run(&["seed", "/no/such/fixtures.json"]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&["healthcheck", "--timeout", "1"]).status.code(),
        Some(1)
    );
    let help = String::from_utf8_lossy(&run(&["--help"]).stdout).into_owned();
    for command in ["serve", "migrate", "seed", "export", "healthcheck"] {
        assert!(help.contains(command), "{help}");
    }
}
