//! The real binary: SIGKILL durability, healthcheck and migrate subcommands, start-up refusals.

mod common;

use common::binary::{self, BINARY};
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command};

/// Starts the binary on port 0 and returns it with its port.
fn start_binary(db: &Path) -> (Child, u16) {
    let server = binary::start(db, &[]);
    (server.child, server.port)
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

/// Runs `serve` with `env` until it exits (it must, within 20 s); returns its exit code and
/// stderr, and checks that the failure was one line and no panic.
fn failed_start(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(BINARY);
    command
        .arg("serve")
        .env("VPP_SERVER__PORT", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("run");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill");
            panic!("the server started although it should not have");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    (output.status.code(), stderr)
}

#[tokio::test]
async fn a_database_folder_that_cannot_be_written_stops_the_start_with_one_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    // A regular file where the folder should be: this fails for root too.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").expect("write");
    let db = blocker.join("data/vpp.db");
    let (code, stderr) = failed_start(&[("VPP_DATABASE__PATH", db.to_str().unwrap())]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("cannot create the database folder") && stderr.contains("not-a-folder"),
        "{stderr}"
    );

    // A folder that exists but is read-only: by its mode bits, or, for root (whom mode bits do
    // not stop), by mounting it read-only.
    let folder = dir.path().join("read-only");
    std::fs::create_dir(&folder).expect("mkdir");
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let _read_only_mount = match std::fs::write(folder.join("probe"), "x") {
        Err(_) => None,
        Ok(()) => {
            std::fs::remove_file(folder.join("probe")).expect("rm");
            let Some(mount) = SmallDisk::mount(folder.clone(), "ro,size=1m") else {
                println!("SKIPPED the read-only folder: root, and mounting needs CAP_SYS_ADMIN");
                return;
            };
            Some(mount)
        }
    };
    let db = folder.join("vpp.db");
    let (code, stderr) = failed_start(&[("VPP_DATABASE__PATH", db.to_str().unwrap())]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("cannot open the database") && stderr.contains("read-only/vpp.db"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_stops_the_start_with_one_line() {
    let dir = temp_dir();
    let db = dir.path().join("corrupt.db");
    std::fs::write(&db, "this is not a SQLite database\n".repeat(200)).expect("write");
    let (code, stderr) = failed_start(&[("VPP_DATABASE__PATH", db.to_str().unwrap())]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("corrupt.db") && stderr.contains("not a database"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_port_in_use_stops_the_start_with_one_line() {
    let dir = temp_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let db = dir.path().join("vpp.db");
    let (code, stderr) = failed_start(&[
        ("VPP_DATABASE__PATH", db.to_str().unwrap()),
        ("VPP_SERVER__PORT", &port),
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

/// A tmpfs of our own, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// Mounts a tmpfs with `options` (such as `size=1m`) at `at`; `None` where that is not
    /// permitted.
    fn mount(at: std::path::PathBuf, options: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(&at).expect("mkdir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk(at))
    }

    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("remount");
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_500_and_loses_nothing_acknowledged() {
    let dir = temp_dir();
    let Some(disk) = SmallDisk::mount(dir.path().join("small"), "size=1m") else {
        println!("SKIPPED: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let db = disk.0.join("vpp.db");
    let server = binary::start(&db, &[]);
    let client = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let failure = loop {
        let response = client
            .post(server.url(BETA))
            .bearer_auth("t")
            .json(&full_body())
            .send()
            .await
            .expect("the server keeps answering");
        if response.status() != 201 {
            break response;
        }
        let body: Value = response.json().await.expect("json");
        acknowledged.push(body["id"].as_str().expect("id").to_owned());
        assert!(acknowledged.len() < 5000, "the disk never filled");
    };
    assert!(
        acknowledged.len() > 10,
        "{} creates before full",
        acknowledged.len()
    );
    let message = assert_graph_error(failure, 500, "InternalServerError").await;
    assert!(
        !message.contains("full"),
        "causes are logged, not sent: {message}"
    );
    // Reads still work and everything acknowledged is there.
    for id in &acknowledged {
        let response = client
            .get(server.url(&format!("{BETA}/{id}")))
            .bearer_auth("t")
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "{id}");
    }
    assert!(
        server.log.lock().expect("log").contains("full"),
        "the cause is logged"
    );
    server.kill();

    // With room again, a restart serves every acknowledged token and takes writes.
    disk.grow("16m");
    let server = binary::start(&db, &[]);
    let listed: Value = client
        .get(server.url(&format!("{BETA}?$count=true&$top=1")))
        .bearer_auth("t")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["@odata.count"], acknowledged.len() as i64);
    let response = client
        .post(server.url(BETA))
        .bearer_auth("t")
        .json(&full_body())
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201);
    server.kill();
}

#[tokio::test]
async fn the_stored_token_and_authorization_never_reach_the_logs_at_any_level() {
    let dir = temp_dir();
    let db = dir.path().join("logs.db");
    let (token, bearer, admin) = (
        "sToken-SECRET-4f1c9a",
        "BEARER-SECRET-77d2",
        "ADMIN-SECRET-0b3e",
    );
    for format in ["json", "pretty"] {
        let server = binary::start(
            &db,
            &[
                ("VPP_LOG__LEVEL", "trace"),
                ("VPP_LOG__FORMAT", format),
                ("VPP_ADMIN__TOKEN", admin),
            ],
        );
        let client = reqwest::Client::new();
        let mut body = full_body();
        body["token"] = json!(token);
        let created: Value = client
            .post(server.url(BETA))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let id = created["id"].as_str().expect("id");
        let patched = client
            .patch(server.url(&format!("{BETA}/{id}")))
            .bearer_auth(bearer)
            .json(&json!({"token": token, "displayName": 7}))
            .send()
            .await
            .expect("patch");
        assert_eq!(patched.status(), 400);
        let exported = client
            .get(server.url("/_emulator/export"))
            .bearer_auth(admin)
            .send()
            .await
            .expect("export")
            .text()
            .await
            .expect("text");
        assert!(exported.contains(token), "the export carries the token");
        // Let the log lines of the last requests arrive.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let log = server.log.lock().expect("log").clone();
        server.kill();
        assert!(log.contains("request"), "the requests were logged: {log}");
        for secret in [token, bearer, admin] {
            assert!(
                !log.contains(secret),
                "{secret} appears in the {format} log"
            );
        }
    }
}
