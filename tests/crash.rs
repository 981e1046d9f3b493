//! Crash safety: the real binary, under creates, updates and deletes from concurrent writers, is
//! SIGKILLed at a random moment, cycle after cycle on the same database. After every restart:
//! each acknowledged change is there, each change in flight at the kill is wholly there or wholly
//! absent (a token's row and its child rows together), and `PRAGMA integrity_check` is `ok`.
//!
//! Every write is a `uniform_body`, so a token mixing two writes is visible at once.

mod common;

use common::binary::{self, Server};
use common::{BETA, open_db, temp_dir, uniform_body as body, uniform_value as value_of};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CYCLES: usize = 6;
const WRITERS: usize = 8;
/// What a writer knows of one of its tokens.
#[derive(Debug, Clone, Default)]
struct Known {
    /// The last acknowledged value; `None` once a delete was acknowledged.
    acked: Option<String>,
    /// Writes sent but not acknowledged when the server died: `None` is a delete.
    in_flight: Vec<Option<String>>,
}

#[derive(Default)]
struct Tally {
    creates: AtomicU64,
    updates: AtomicU64,
    deletes: AtomicU64,
    in_flight: AtomicU64,
}

/// A small deterministic generator, so a failing run can be replayed from its printed seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

struct Writer {
    tokens: HashMap<String, Known>,
    /// Values of creates in flight at the kill (their ids were never seen).
    unacked_creates: HashSet<String>,
}

/// Writes until the server goes away; every outcome is recorded in `writer`.
async fn write_until_killed(
    server_url: String,
    mut writer: Writer,
    name: String,
    mut rng: XorShift,
    tally: Arc<Tally>,
) -> Writer {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    for n in 0.. {
        let value = format!("{name}-{n}");
        let live: Vec<String> = writer
            .tokens
            .iter()
            .filter(|(_, known)| known.acked.is_some() && known.in_flight.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        let roll = rng.next(10);
        let sent = if live.len() < 3 || roll < 4 {
            let response = client
                .post(&server_url)
                .bearer_auth("crash")
                .json(&body(&value))
                .send()
                .await;
            match response {
                Ok(r) if r.status() == 201 => match r.json::<Value>().await {
                    Ok(created) => {
                        let id = created["id"].as_str().expect("id").to_owned();
                        writer.tokens.insert(
                            id,
                            Known {
                                acked: Some(value),
                                in_flight: Vec::new(),
                            },
                        );
                        tally.creates.fetch_add(1, Ordering::Relaxed);
                        true
                    }
                    Err(_) => {
                        writer.unacked_creates.insert(value);
                        false
                    }
                },
                Ok(r) => panic!("create answered {}", r.status()),
                Err(_) => {
                    writer.unacked_creates.insert(value);
                    false
                }
            }
        } else {
            let id = &live[rng.next(live.len() as u64) as usize];
            let delete = roll >= 8;
            let url = format!("{server_url}/{id}");
            let request = if delete {
                client.delete(&url)
            } else {
                client.patch(&url).json(&body(&value))
            };
            let change = (!delete).then(|| value.clone());
            let known = writer.tokens.get_mut(id).expect("own token");
            known.in_flight.push(change.clone());
            match request.bearer_auth("crash").send().await {
                Ok(r) if r.status() == 204 => {
                    known.in_flight.clear();
                    known.acked = change;
                    let counter = if delete {
                        &tally.deletes
                    } else {
                        &tally.updates
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Ok(r) => panic!(
                    "{} answered {}",
                    if delete { "DELETE" } else { "PATCH" },
                    r.status()
                ),
                Err(_) => false,
            }
        };
        if !sent {
            tally.in_flight.fetch_add(1, Ordering::Relaxed);
            break;
        }
    }
    writer
}

/// Every stored token, by id, read through the API.
async fn stored_tokens(server: &Server) -> HashMap<String, Value> {
    let client = reqwest::Client::new();
    let mut tokens = HashMap::new();
    let mut next = Some(server.url(&format!("{BETA}?$top=999")));
    while let Some(url) = next {
        let page: Value = client
            .get(&url)
            .bearer_auth("crash")
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("page");
        for token in page["value"].as_array().expect("value") {
            tokens.insert(token["id"].as_str().expect("id").to_owned(), token.clone());
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    tokens
}

/// Checks the restarted server against what the writers know; returns the writers with their
/// knowledge reset to what is stored.
async fn verify(server: &Server, writers: Vec<Writer>, db: &std::path::Path) -> Vec<Writer> {
    let mut stored = stored_tokens(server).await;
    let mut checked = Vec::with_capacity(writers.len());
    for mut writer in writers {
        let mut survivors = HashMap::new();
        for (id, known) in writer.tokens.drain() {
            let found = stored.remove(&id).map(|token| value_of(&token));
            let state = match found {
                Some(Err(partial)) => panic!("{partial}"),
                Some(Ok(value)) => Some(value),
                None => None,
            };
            let allowed = known.acked.as_ref() == state.as_ref()
                || known.in_flight.iter().any(|change| change == &state);
            assert!(
                allowed,
                "token {id}: stored {state:?}, acknowledged {:?}, in flight {:?}",
                known.acked, known.in_flight
            );
            if let Some(value) = state {
                survivors.insert(
                    id,
                    Known {
                        acked: Some(value),
                        in_flight: Vec::new(),
                    },
                );
            }
        }
        writer.tokens = survivors;
        checked.push(writer);
    }
    // What is left was created by a request whose answer never arrived.
    for (id, token) in stored {
        let value = value_of(&token).unwrap_or_else(|partial| panic!("{partial}"));
        let owner = checked
            .iter_mut()
            .find(|w| w.unacked_creates.contains(&value))
            .unwrap_or_else(|| panic!("token {id} with value {value} was never sent"));
        owner.tokens.insert(
            id,
            Known {
                acked: Some(value),
                in_flight: Vec::new(),
            },
        );
    }
    for writer in &mut checked {
        writer.unacked_creates.clear();
    }

    let pool = open_db(db).await;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM vpp_token_action_results WHERE token_seq NOT IN (SELECT seq FROM vpp_tokens)) \
         + (SELECT count(*) FROM vpp_token_role_scope_tag_ids WHERE token_seq NOT IN (SELECT seq FROM vpp_tokens))",
    )
    .fetch_one(&pool)
    .await
    .expect("orphans");
    assert_eq!(orphans, 0, "child rows without their token");
    pool.close().await;
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_random_sigkills_and_nothing_is_half_written() {
    let dir = temp_dir();
    let db = dir.path().join("crash.db");
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let mut rng = XorShift(seed);
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let mut writers: Vec<Writer> = (0..WRITERS)
        .map(|_| Writer {
            tokens: HashMap::new(),
            unacked_creates: HashSet::new(),
        })
        .collect();
    for cycle in 0..CYCLES {
        let server = binary::start(&db, &[]);
        writers = verify(&server, writers, &db).await;
        let url = server.url(BETA);
        let tasks: Vec<_> = writers
            .into_iter()
            .enumerate()
            .map(|(index, writer)| {
                tokio::spawn(write_until_killed(
                    url.clone(),
                    writer,
                    format!("c{cycle}w{index}"),
                    XorShift(rng.next(u64::MAX) | 1),
                    tally.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300 + rng.next(1200))).await;
        server.kill();
        writers = Vec::with_capacity(WRITERS);
        for task in tasks {
            writers.push(task.await.expect("writer"));
        }
    }
    let server = binary::start(&db, &[]);
    writers = verify(&server, writers, &db).await;
    let stored: usize = writers.iter().map(|w| w.tokens.len()).sum();
    server.kill();

    let acknowledged = tally.creates.load(Ordering::Relaxed)
        + tally.updates.load(Ordering::Relaxed)
        + tally.deletes.load(Ordering::Relaxed);
    assert!(acknowledged > 100, "the load barely ran: {acknowledged}");
    println!(
        "crash harness: {CYCLES} SIGKILL cycles, {WRITERS} writers, {acknowledged} acknowledged writes \
         ({} creates, {} updates, {} deletes), {} in flight at the kills, 0 lost, 0 partial, \
         integrity ok, {stored} tokens stored, {:.1} s, seed {seed}",
        tally.creates.load(Ordering::Relaxed),
        tally.updates.load(Ordering::Relaxed),
        tally.deletes.load(Ordering::Relaxed),
        tally.in_flight.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
}
