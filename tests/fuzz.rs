//! Fuzzing of the request-body validator and the `$filter` parser with proptest, bounded so it
//! runs in CI: random bytes, random JSON shaped like a token, random token soup for filters; then
//! the same inputs over HTTP against the real server. Nothing may panic, every rejection is a Graph
//! 400, and a filter the parser accepts must also run in SQLite (never a 500). The committed
//! corpus in `tests/fuzz-corpus/` (past crash cases and hostile shapes) runs every time.

mod common;

use common::{BETA, assert_graph_error, assert_graph_error_of, spawn_app, temp_dir};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Map, Value, json};
use vpp_emulator::config::Limits;
use vpp_emulator::domain::properties::PROPERTIES;
use vpp_emulator::domain::{ApiVersion, GraphDateTime, VppToken};
use vpp_emulator::graph::{filter, input, json as graph_json};

const LIMITS: Limits = Limits {
    max_string_bytes: 16384,
    max_collection_items: 1000,
    max_url_bytes: 8192,
};

fn corpus(name: &str) -> Vec<String> {
    let path = format!("{}/tests/fuzz-corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// The validator's whole path for a body: strict JSON, then the token rules; `Ok(false)` is a
/// clean 400 rejection.
fn validate(bytes: &[u8], version: ApiVersion) -> Result<bool, String> {
    let outcome = graph_json::parse_object(bytes)
        .and_then(|body| input::token_changes(&body, version, LIMITS));
    match outcome {
        Ok(changes) => {
            // An accepted body must also make a token that serialises.
            let mut token = VppToken::new(uuid::Uuid::new_v4(), GraphDateTime::now());
            token.apply(changes);
            let shape = vpp_emulator::graph::entity::Shape::answer(version, None);
            serde_json::to_string(&vpp_emulator::graph::entity::Item {
                token: &token,
                shape,
            })
            .map_err(|e| format!("accepted body does not serialise: {e}"))?;
            Ok(true)
        }
        Err(error) if error.status == 400 && !error.reason().is_empty() => Ok(false),
        Err(error) => Err(format!("rejection {} {:?}", error.status, error.reason())),
    }
}

fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\\",
        "\\u0000",
        "\\ud800",
        "true",
        "false",
        "null",
        "0",
        "-1",
        "1e400",
        "2147483648",
        "\"displayName\"",
        "\"state\"",
        "\"valid\"",
        "\"tokenActionResults\"",
        "\"roleScopeTagIds\"",
        "\"2026-01-01T00:00:00Z\"",
        " ",
        "\u{feff}",
        "\"@odata.type\"",
        "\"x@odata.y\"",
        "é",
        "\u{0}",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        prop::collection::vec(pieces, 0..48).prop_map(|p| p.concat().into_bytes()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "",
        "valid",
        "expired",
        "duplicateLocationId",
        "business",
        "education",
        "done",
        "failed",
        "appleFailure",
        "none",
        "2026-09-25T17:09:22Z",
        "2027-01-02T03:04:05.123456+00:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "#microsoft.graph.vppToken",
        "microsoft.graph.vppTokenRevokeLicensesActionResult",
        "syncLicenses",
        "0",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        words.prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = PROPERTIES.iter().map(|p| p.name.to_owned()).collect();
    names.extend(
        [
            "@odata.type",
            "actionName",
            "actionState",
            "startDateTime",
            "lastUpdatedDateTime",
            "actionFailureReason",
            "failedLicensesCount",
            "totalLicensesCount",
            "x@odata.type",
            "DisplayName",
            "colour",
        ]
        .map(str::to_owned),
    );
    prop_oneof![4 => prop::sample::select(names), 1 => ".{0,12}"]
}

fn token_body() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), json_value()), 0..10)
        .prop_map(|pairs| pairs.into_iter().collect())
}

fn filter_text() -> impl Strategy<Value = String> {
    let mut words: Vec<String> = PROPERTIES.iter().map(|p| p.name.to_owned()).collect();
    words.extend(
        [
            "eq",
            "ne",
            "gt",
            "ge",
            "lt",
            "le",
            "and",
            "or",
            "not",
            "(",
            ")",
            ",",
            "startswith(",
            "endswith(",
            "contains(",
            "roleScopeTagIds/any(t:",
            "roleScopeTagIds/all(t:",
            "t",
            "/",
            ":",
            "'valid'",
            "'x'",
            "'it''s'",
            "'",
            "''",
            "true",
            "false",
            "null",
            "12",
            "-3",
            "2026-01-01T00:00:00Z",
            "9999-12-31T23:00:00-05:00",
            "colour",
            "any",
            "$",
        ]
        .map(str::to_owned),
    );
    prop::collection::vec(
        (
            prop::sample::select(words),
            prop::sample::select(vec![" ", "", "  "]),
        ),
        0..24,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(w, sep)| format!("{w}{sep}"))
            .collect()
    })
}

fn versions() -> impl Strategy<Value = ApiVersion> {
    prop_oneof![Just(ApiVersion::Beta), Just(ApiVersion::V1)]
}

#[test]
fn the_validator_and_the_filter_parser_never_panic_and_reject_with_400() {
    const BYTES: u32 = 5000;
    const BODIES: u32 = 5000;
    const FILTERS: u32 = 10000;
    let mut accepted = 0;
    runner(BYTES)
        .run(&(json_bytes(), versions()), |(bytes, version)| {
            validate(&bytes, version).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
    runner(BODIES)
        .run(&(token_body(), versions()), |(body, version)| {
            let bytes = serde_json::to_vec(&body).unwrap();
            validate(&bytes, version).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
    runner(FILTERS)
        .run(&(filter_text(), versions()), |(text, version)| {
            match filter::parse(&text, version) {
                Ok(_) => {}
                Err(reason) => prop_assert!(!reason.is_empty(), "empty reason for {text:?}"),
            }
            Ok(())
        })
        .unwrap();
    for line in corpus("bodies.txt") {
        for version in [ApiVersion::Beta, ApiVersion::V1] {
            accepted += usize::from(
                validate(line.as_bytes(), version).unwrap_or_else(|e| panic!("{line}: {e}")),
            );
        }
    }
    for line in corpus("filters.txt") {
        let _ = filter::parse(&line, ApiVersion::Beta);
    }
    // Bombs far past every limit are refused quickly, without deep recursion.
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(graph_json::parse_object(deep_json.as_bytes()).is_err());
    let deep_filter = format!(
        "{}state eq 'valid'{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(filter::parse(&deep_filter, ApiVersion::Beta).is_err());
    let long_not = format!("{}state eq 'valid'", "not ".repeat(100_000));
    assert!(filter::parse(&long_not, ApiVersion::Beta).is_err());
    println!(
        "fuzz (library): {BYTES} byte strings and {BODIES} JSON bodies through the validator, \
         {FILTERS} filters through the parser, the corpus ({} bodies, {accepted} accepted; {} filters) \
         and 3 nesting bombs: 0 panics, every rejection a 400 with a reason",
        corpus("bodies.txt").len(),
        corpus("filters.txt").len(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bodies_and_filters_over_http_get_201_200_or_a_graph_400_and_never_5xx() {
    const BODIES: u32 = 300;
    const FILTERS: u32 = 400;
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    app.create(&common::full_body()).await;

    let mut strategy_runner = runner(BODIES);
    let mut bodies: Vec<Vec<u8>> = corpus("bodies.txt")
        .into_iter()
        .map(String::into_bytes)
        .collect();
    for _ in 0..BODIES {
        let tree = (token_body(), json_bytes())
            .prop_map(|(body, bytes)| {
                if bytes.len() % 3 == 0 {
                    bytes
                } else {
                    serde_json::to_vec(&body).unwrap()
                }
            })
            .new_tree(&mut strategy_runner)
            .unwrap();
        bodies.push(tree.current());
    }
    let mut created = 1;
    for body in &bodies {
        let before = app.count().await;
        let response = app
            .request(Method::POST, BETA)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        match status {
            201 => created += 1,
            400 => {
                assert_graph_error_of(response, 400, &["BadRequest", "ModelValidationFailure"])
                    .await;
                assert_eq!(
                    app.count().await,
                    before,
                    "a rejected body changed the store"
                );
            }
            other => panic!("{other} for {}", String::from_utf8_lossy(body)),
        }
    }
    assert_eq!(app.count().await, created);

    let mut filters = corpus("filters.txt");
    let mut strategy_runner = runner(FILTERS);
    for _ in 0..FILTERS {
        filters.push(
            filter_text()
                .new_tree(&mut strategy_runner)
                .unwrap()
                .current(),
        );
    }
    let mut answered = 0;
    for text in &filters {
        let encoded = utf8_percent_encode(text, NON_ALPHANUMERIC);
        let response = app.get(&format!("{BETA}?$filter={encoded}")).await;
        match response.status().as_u16() {
            200 => answered += 1,
            400 => {
                assert_graph_error(response, 400, "BadRequest").await;
            }
            other => panic!("{other} for $filter={text}"),
        }
    }
    println!(
        "fuzz (HTTP): {} bodies ({} created, the rest 400 and stored nothing) and {} filters \
         ({answered} answered 200, the rest 400): 0 5xx",
        bodies.len(),
        created - 1,
        filters.len(),
    );
    app.stop().await;
}
