//! Issue 3: `$filter`, one case per operator, function and lambda, precedence, and a property
//! test comparing the emulator with an evaluator written here.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use std::collections::BTreeSet;

async fn names(app: &TestApp, filter: &str) -> BTreeSet<String> {
    let encoded = percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC);
    let response = app
        .client
        .get(format!(
            "{}{BETA}?$filter={encoded}&$top=999&$select=displayName",
            app.base
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "{filter}: {}",
        response.text().await.unwrap_or_default()
    );
    let body: Value = response.json().await.unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["displayName"].as_str().unwrap_or("<null>").to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn each_operator_function_and_lambda() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    for (name, state, auto, synced, tags, org) in [
        (
            "alpha",
            "valid",
            true,
            "2026-01-01T00:00:00Z",
            vec!["0"],
            Some("Contoso"),
        ),
        (
            "beta",
            "expired",
            false,
            "2026-06-01T12:00:00Z",
            vec!["0", "5"],
            None,
        ),
        (
            "gamma",
            "assignedToExternalMDM",
            true,
            "2027-01-01T00:00:00Z",
            vec!["7"],
            Some("Fabrikam"),
        ),
        (
            "o'neil",
            "invalid",
            false,
            "0001-01-01T00:00:00Z",
            vec![],
            Some("Contoso Ltd"),
        ),
    ] {
        app.create(
            &json!({"displayName": name, "state": state, "automaticallyUpdateApps": auto,
            "lastSyncDateTime": synced, "roleScopeTagIds": tags, "organizationName": org}),
        )
        .await;
    }
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("displayName eq 'alpha'", vec!["alpha"]),
        ("displayName ne 'alpha'", vec!["beta", "gamma", "o'neil"]),
        ("displayName gt 'beta'", vec!["gamma", "o'neil"]),
        ("displayName ge 'beta'", vec!["beta", "gamma", "o'neil"]),
        ("displayName lt 'beta'", vec!["alpha"]),
        ("displayName le 'beta'", vec!["alpha", "beta"]),
        ("displayName eq 'o''neil'", vec!["o'neil"]),
        ("state eq 'assignedToExternalMDM'", vec!["gamma"]),
        (
            "state eq microsoft.graph.vppTokenState'assignedToExternalMDM'",
            vec!["gamma"],
        ),
        ("automaticallyUpdateApps eq true", vec!["alpha", "gamma"]),
        ("automaticallyUpdateApps", vec!["alpha", "gamma"]),
        (
            "lastSyncDateTime gt 2026-03-01T00:00:00Z",
            vec!["beta", "gamma"],
        ),
        (
            "lastSyncDateTime le 2026-06-01T14:00:00+02:00",
            vec!["alpha", "beta", "o'neil"],
        ),
        ("organizationName eq null", vec!["beta"]),
        ("organizationName ne null", vec!["alpha", "gamma", "o'neil"]),
        (
            "organizationName ne 'Contoso'",
            vec!["beta", "gamma", "o'neil"],
        ),
        (
            "startswith(organizationName,'Contoso')",
            vec!["alpha", "o'neil"],
        ),
        ("endswith(displayName,'ma')", vec!["gamma"]),
        ("contains(displayName,'et')", vec!["beta"]),
        (
            "not contains(organizationName,'Contoso')",
            vec!["beta", "gamma"],
        ),
        ("roleScopeTagIds/any(t: t eq '0')", vec!["alpha", "beta"]),
        ("roleScopeTagIds/any(t: t ne '0')", vec!["beta", "gamma"]),
        ("roleScopeTagIds/all(t: t eq '0')", vec!["alpha", "o'neil"]),
        ("roleScopeTagIds/any()", vec!["alpha", "beta", "gamma"]),
        ("not roleScopeTagIds/any()", vec!["o'neil"]),
        // and binds tighter than or; not tighter than and; parentheses override.
        (
            "displayName eq 'alpha' or displayName eq 'beta' and state eq 'valid'",
            vec!["alpha"],
        ),
        (
            "(displayName eq 'alpha' or displayName eq 'beta') and state eq 'expired'",
            vec!["beta"],
        ),
        (
            "not state eq 'valid' and automaticallyUpdateApps",
            vec!["gamma"],
        ),
        (
            "not (state eq 'valid' and automaticallyUpdateApps)",
            vec!["beta", "gamma", "o'neil"],
        ),
        ("'alpha' eq displayName", vec!["alpha"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&app, filter).await, set(&expected), "{filter}");
    }
    app.stop().await;
}

// ---- property test ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Token {
    name: String,
    org: Option<String>,
    state: &'static str,
    auto: bool,
    synced: &'static str,
    tags: Vec<&'static str>,
}

const WORDS: [&str; 5] = ["a", "ab", "b", "ba", ""];
const STATES: [&str; 3] = ["valid", "expired", "unknown"];
const DATES: [&str; 3] = [
    "2026-01-01T00:00:00Z",
    "2026-06-01T00:00:00Z",
    "2027-01-01T00:00:00Z",
];
const TAGS: [&str; 3] = ["0", "1", "12"];
const OPS: [&str; 6] = ["eq", "ne", "gt", "ge", "lt", "le"];

#[derive(Debug, Clone)]
enum F {
    Org(&'static str, Option<&'static str>),
    State(&'static str, &'static str),
    Auto(&'static str, bool),
    Synced(&'static str, &'static str),
    Text(&'static str, &'static str),
    Tags(bool, &'static str),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Not(Box<F>),
}

fn leaf() -> impl Strategy<Value = F> {
    let op = proptest::sample::select(&OPS[..]);
    let eq = proptest::sample::select(&OPS[..2]);
    prop_oneof![
        (eq.clone()).prop_map(|op| F::Org(op, None)),
        (op.clone(), proptest::sample::select(&WORDS[..])).prop_map(|(op, w)| F::Org(op, Some(w))),
        (eq.clone(), proptest::sample::select(&STATES[..])).prop_map(|(op, s)| F::State(op, s)),
        (eq, any::<bool>()).prop_map(|(op, b)| F::Auto(op, b)),
        (op, proptest::sample::select(&DATES[..])).prop_map(|(op, d)| F::Synced(op, d)),
        (
            proptest::sample::select(&["startswith", "endswith", "contains"][..]),
            proptest::sample::select(&WORDS[..])
        )
            .prop_map(|(f, w)| F::Text(f, w)),
        (any::<bool>(), proptest::sample::select(&TAGS[..])).prop_map(|(all, t)| F::Tags(all, t)),
    ]
}

fn filter_strategy() -> impl Strategy<Value = F> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| F::Not(Box::new(a))),
        ]
    })
}

fn render(f: &F) -> String {
    match f {
        F::Org(op, None) => format!("organizationName {op} null"),
        F::Org(op, Some(w)) => format!("organizationName {op} '{w}'"),
        F::State(op, s) => format!("state {op} '{s}'"),
        F::Auto(op, b) => format!("automaticallyUpdateApps {op} {b}"),
        F::Synced(op, d) => format!("lastSyncDateTime {op} {d}"),
        F::Text(func, w) => format!("{func}(organizationName,'{w}')"),
        F::Tags(all, t) => format!(
            "roleScopeTagIds/{}(x: x eq '{t}')",
            if *all { "all" } else { "any" }
        ),
        F::And(a, b) => format!("({}) and ({})", render(a), render(b)),
        F::Or(a, b) => format!("({}) or ({})", render(a), render(b)),
        F::Not(a) => format!("not ({})", render(a)),
    }
}

fn compare<T: Ord>(op: &str, left: T, right: T) -> bool {
    match op {
        "eq" => left == right,
        "ne" => left != right,
        "gt" => left > right,
        "ge" => left >= right,
        "lt" => left < right,
        _ => left <= right,
    }
}

/// OData semantics: a comparison or function on null is false, except eq/ne null.
fn eval(f: &F, t: &Token) -> bool {
    match f {
        F::Org(op, None) => (*op == "eq") == t.org.is_none(),
        F::Org(op, Some(w)) => match &t.org {
            Some(org) => compare(op, org.as_str(), w),
            None => *op == "ne",
        },
        F::State(op, s) => compare(op, t.state, s),
        F::Auto(op, b) => compare(op, t.auto, *b),
        F::Synced(op, d) => compare(op, t.synced, d),
        F::Text(func, w) => t.org.as_deref().is_some_and(|org| match *func {
            "startswith" => org.starts_with(w),
            "endswith" => org.ends_with(w),
            _ => org.contains(w),
        }),
        F::Tags(true, tag) => t.tags.iter().all(|x| x == tag),
        F::Tags(false, tag) => t.tags.iter().any(|x| x == tag),
        F::And(a, b) => eval(a, t) && eval(b, t),
        F::Or(a, b) => eval(a, t) || eval(b, t),
        F::Not(a) => !eval(a, t),
    }
}

fn token_strategy() -> impl Strategy<Value = Token> {
    (
        proptest::option::of(proptest::sample::select(&WORDS[..])),
        proptest::sample::select(&STATES[..]),
        any::<bool>(),
        proptest::sample::select(&DATES[..]),
        proptest::sample::subsequence(&TAGS[..], 0..=3),
    )
        .prop_map(|(org, state, auto, synced, tags)| Token {
            name: String::new(),
            org: org.map(str::to_owned),
            state,
            auto,
            synced,
            tags,
        })
}

#[test]
fn random_filters_agree_with_an_independent_evaluator() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = temp_dir();
    let app = runtime.block_on(spawn_app(&dir));
    let mut runner = TestRunner::new(Config {
        cases: 1,
        ..Config::default()
    });
    let tokens = proptest::collection::vec(token_strategy(), 40)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let tokens: Vec<Token> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| Token {
            name: format!("t{i:02}"),
            ..t
        })
        .collect();
    runtime.block_on(async {
        for t in &tokens {
            app.create(&json!({"displayName": t.name, "organizationName": t.org, "state": t.state,
                "automaticallyUpdateApps": t.auto, "lastSyncDateTime": t.synced, "roleScopeTagIds": t.tags})).await;
        }
    });
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&filter_strategy(), |f| {
        let text = render(&f);
        let got = runtime.block_on(names(&app, &text));
        let expected: BTreeSet<String> = tokens
            .iter()
            .filter(|t| eval(&f, t))
            .map(|t| t.name.clone())
            .collect();
        prop_assert_eq!(got, expected, "{}", text);
        Ok(())
    });
    runtime.block_on(app.stop());
    result.unwrap();
}
