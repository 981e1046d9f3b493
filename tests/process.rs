//! The real binary: SIGKILL durability, healthcheck and migrate subcommands, start-up refusals.

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_vpp-emulator");

/// Starts the binary on port 0 and returns it with the port it logged.
fn start_binary(db: &Path) -> (Child, u16) {
    let mut child = Command::new(BINARY)
        .env("VPP_SERVER__PORT", "0")
        .env("VPP_DATABASE__PATH", db)
        .env("VPP_LOG__FORMAT", "pretty")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the binary exited before listening")
            .expect("read line");
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().expect("port");
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

#[tokio::test]
async fn every_acknowledged_create_survives_sigkill() {
    let dir = temp_dir();
    let db = dir.path().join("killed.db");
    let (mut child, port) = start_binary(&db);
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}{BETA}");
    let mut acknowledged = Vec::new();
    for n in 0..40 {
        let response = client
            .post(&url)
            .bearer_auth("t")
            .json(&json!({"displayName": format!("token {n}"), "roleScopeTagIds": ["0", n.to_string()]}))
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        acknowledged.push(body);
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let (mut child, port) = start_binary(&db);
    for body in &acknowledged {
        let id = body["id"].as_str().expect("id");
        let response = client
            .get(format!("http://127.0.0.1:{port}{BETA}/{id}"))
            .bearer_auth("t")
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "token {id} lost");
        let stored: Value = response.json().await.expect("json");
        assert_eq!(stored["displayName"], body["displayName"]);
        assert_eq!(stored["roleScopeTagIds"], body["roleScopeTagIds"]);
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

fn run(args: &[&str], db: &Path, port: u16) -> std::process::Output {
    Command::new(BINARY)
        .args(args)
        .env("VPP_DATABASE__PATH", db)
        .env("VPP_SERVER__PORT", port.to_string())
        .output()
        .expect("run the binary")
}

#[tokio::test]
async fn healthcheck_exits_0_when_healthy_and_1_when_down() {
    let dir = temp_dir();
    let db = dir.path().join("health.db");
    let (mut child, port) = start_binary(&db);
    let healthy = run(&["healthcheck"], &db, port);
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let down = run(&["healthcheck", "--timeout", "2"], &db, port);
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("/health"));
}

#[tokio::test]
async fn migrate_creates_the_schema_and_exits_0() {
    let dir = temp_dir();
    let db = dir.path().join("nested/folder/migrated.db");
    let output = run(&["migrate"], &db, 0);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pool = open_db(&db).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'vpp_%' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    assert_eq!(
        tables,
        [
            "vpp_token_action_results",
            "vpp_token_licenses",
            "vpp_token_role_scope_tag_ids",
            "vpp_tokens"
        ]
    );
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .expect("journal");
    assert_eq!(journal, "wal");
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_with_a_clear_message() {
    let dir = temp_dir();
    let db = dir.path().join("newer.db");
    assert_eq!(run(&["migrate"], &db, 0).status.code(), Some(0));
    {
        let pool =
            sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&db))
                .await
                .expect("open");
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000000, 'from the future', 1, x'00', 0)")
            .execute(&pool)
            .await
            .expect("insert");
        pool.close().await;
    }
    let output = run(&[], &db, 0);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("newer vpp-emulator"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[tokio::test]
async fn invalid_settings_stop_the_start_with_one_line_naming_the_key() {
    let dir = temp_dir();
    let output = Command::new(BINARY)
        .env("VPP_DATABASE__PATH", dir.path().join("x.db"))
        .env("VPP_SERVER__PORT", "not-a-port")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.port"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn sigterm_finishes_cleanly_and_checkpoints_the_wal() {
    let dir = temp_dir();
    let db = dir.path().join("term.db");
    let (mut child, port) = start_binary(&db);
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}{BETA}"))
        .bearer_auth("t")
        .json(&json!({"displayName": "before shutdown"}))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("reaped");
    assert_eq!(exit.code(), Some(0));
    let wal = dir.path().join("term.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL was folded into the database");
    let pool = open_db(&db).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT display_name FROM vpp_tokens")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert_eq!(names, ["before shutdown"]);
}
