//! 64 concurrent clients mixing creates, reads, lists and PATCHes for a bounded time: no 5xx (so
//! no `SQLITE_BUSY` or deadlock reaching a client), every request answered, and no read ever sees
//! a token half-written (every write is a `uniform_body`); and reads are never held up by a
//! writer that waits.

mod common;

use common::{BETA, spawn_app, temp_dir, uniform_body, uniform_value};
use serde_json::{Value, json};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;
const RUN_FOR: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Outcomes {
    latencies_ms: Vec<f64>,
    requests: usize,
    server_errors: usize,
}

fn check_whole(token: &Value) {
    if let Err(partial) = uniform_value(token) {
        panic!("a read saw a half-written token: {partial}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_mixing_reads_and_writes_get_no_5xx_and_no_torn_reads() {
    let dir = temp_dir();
    let app = Arc::new(spawn_app(&dir).await);
    let mut ids = Vec::new();
    for n in 0..32 {
        let created = app.create(&uniform_body(&format!("seed-{n}"))).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let ids = Arc::new(Mutex::new(ids));
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let deadline = Instant::now() + RUN_FOR;

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (app, ids, outcomes) = (app.clone(), ids.clone(), outcomes.clone());
            tokio::spawn(async move {
                let mut n = 0usize;
                while Instant::now() < deadline {
                    n += 1;
                    let value = format!("c{client}-{n}");
                    let some_id = {
                        let ids = ids.lock().unwrap();
                        ids[(client * 7 + n) % ids.len()].clone()
                    };
                    let started = Instant::now();
                    let (status, body) = match n % 4 {
                        0 => {
                            let r = app.post_json(BETA, &uniform_body(&value)).await;
                            let status = r.status().as_u16();
                            let body: Value = r.json().await.unwrap_or_default();
                            if status == 201 {
                                ids.lock()
                                    .unwrap()
                                    .push(body["id"].as_str().unwrap().to_owned());
                            }
                            (status, body)
                        }
                        1 => {
                            let r = app.get(&format!("{BETA}/{some_id}")).await;
                            (r.status().as_u16(), r.json().await.unwrap_or_default())
                        }
                        2 => {
                            let r = app
                                .get(&format!("{BETA}?$top=20&$orderby=displayName desc"))
                                .await;
                            (r.status().as_u16(), r.json().await.unwrap_or_default())
                        }
                        _ => {
                            let r = app
                                .patch_json(&format!("{BETA}/{some_id}"), &uniform_body(&value))
                                .await;
                            (r.status().as_u16(), Value::Null)
                        }
                    };
                    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                    assert!(
                        matches!(status, 200 | 201 | 204) || status >= 500,
                        "unexpected status {status}: {body}"
                    );
                    if status == 200 || status == 201 {
                        match body["value"].as_array() {
                            Some(items) => items.iter().for_each(check_whole),
                            None => check_whole(&body),
                        }
                    }
                    let mut outcomes = outcomes.lock().unwrap();
                    outcomes.requests += 1;
                    outcomes.server_errors += usize::from(status >= 500);
                    outcomes.latencies_ms.push(elapsed);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client task");
    }

    let mut outcomes = Arc::try_unwrap(outcomes)
        .ok()
        .expect("clients done")
        .into_inner()
        .unwrap();
    outcomes.latencies_ms.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        let index = ((outcomes.latencies_ms.len() as f64 - 1.0) * p).round() as usize;
        outcomes.latencies_ms[index]
    };
    println!(
        "concurrency: {} requests from {CLIENTS} clients in {:.1} s ({:.0}/s; creates, gets, lists, PATCHes), \
         {} 5xx, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        outcomes.requests,
        RUN_FOR.as_secs_f64(),
        outcomes.requests as f64 / RUN_FOR.as_secs_f64(),
        outcomes.server_errors,
        percentile(0.50),
        percentile(0.99),
        percentile(1.0),
    );
    assert_eq!(outcomes.server_errors, 0);
    assert!(outcomes.requests > 1000, "the load barely ran");
    let total_created = ids.lock().unwrap().len() as i64;
    assert_eq!(app.count().await, total_created);
}

/// Reads have connections of their own and the database is in WAL mode, so a writer that cannot
/// go on (here another connection holds an exclusive lock, as a long write would) holds up
/// writes only: gets, list pages and counts are answered meanwhile, from the last commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_answered_while_the_writer_waits_for_the_write_lock() {
    let dir = temp_dir();
    let app = Arc::new(spawn_app(&dir).await);
    let before = app.create(&json!({"displayName": "before"})).await;
    let path = format!("{BETA}/{}", before["id"].as_str().unwrap());

    let mut lock = SqliteConnectOptions::new()
        .filename(&app.db_path)
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let app = app.clone();
        async move {
            app.post_json(BETA, &json!({"displayName": "after"}))
                .await
                .status()
        }
    });
    for _ in 0..20 {
        assert_eq!(app.get_json(&path).await, before);
        let page = app.get_json(&format!("{BETA}?$count=true")).await;
        assert_eq!(page["@odata.count"], 1, "{page}");
        assert_eq!(app.count().await, 1);
    }
    assert!(!waiting.is_finished(), "the create went through the lock");

    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    assert_eq!(waiting.await.unwrap(), 201);
    assert_eq!(app.count().await, 2);
    lock.close().await.unwrap();
    Arc::into_inner(app).unwrap().stop().await;
}
