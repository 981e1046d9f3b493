//! Issue 3: listing, paging, query options and /$count.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::HashSet;

async fn page(app: &TestApp, url: &str) -> Value {
    let response = app.client.get(url).bearer_auth("t").send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn create_many(app: &TestApp, n: usize) -> Vec<String> {
    let mut created = Vec::with_capacity(n);
    for i in 0..n {
        let token = app
            .create(&json!({"displayName": format!("token {i:03}")}))
            .await;
        created.push(token["id"].as_str().unwrap().to_owned());
    }
    created
}

#[tokio::test]
async fn next_links_visit_250_tokens_exactly_once_in_3_pages() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let created = create_many(&app, 250).await;
    let mut url = format!("{}{BETA}", app.base);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body = page(&app, &url).await;
        pages += 1;
        assert!(
            body["value"][0].get("@odata.type").is_none(),
            "items carry no @odata.type"
        );
        assert_eq!(
            body["@odata.context"],
            format!("{}/beta/$metadata#deviceAppManagement/vppTokens", app.base)
        );
        seen.extend(ids(&body));
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&format!("{}{BETA}?", app.base)), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "creation order, each once");
    app.stop().await;
}

#[tokio::test]
async fn paging_neither_repeats_nor_skips_while_rows_are_inserted_and_deleted() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let created = create_many(&app, 60).await;
    let first = page(&app, &format!("{}{BETA}?$top=20", app.base)).await;
    let mut seen = ids(&first);
    // Delete a served row, an unserved row, insert new rows.
    for id in [&created[5], &created[30], &created[45]] {
        let response = app
            .request(reqwest::Method::DELETE, &format!("{BETA}/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let newer = create_many(&app, 3).await;
    let mut next = first["@odata.nextLink"].as_str().unwrap().to_owned();
    loop {
        let body = page(&app, &next).await;
        seen.extend(ids(&body));
        app.create(&json!({"displayName": "late"})).await;
        match body["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_owned(),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no token repeated");
    for id in created.iter().chain(&newer) {
        let deleted = [&created[30], &created[45]].contains(&id);
        assert_eq!(seen.contains(id), !deleted, "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_next_link_taken_before_a_restart_works_after_it() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let created = create_many(&app, 15).await;
    let first = page(
        &app,
        &format!("{}{BETA}?$top=10&$orderby=displayName desc", app.base),
    )
    .await;
    let link = first["@odata.nextLink"].as_str().unwrap().to_owned();
    let old_base = app.base.clone();
    app.stop().await;
    let app = spawn_app(&dir).await;
    let link = link.replace(&old_base, &app.base);
    let second = page(&app, &link).await;
    let mut all = ids(&first);
    all.extend(ids(&second));
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(all, expected);
    assert!(second.get("@odata.nextLink").is_none());
    app.stop().await;
}

#[tokio::test]
async fn select_orderby_top_skip_and_count() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    for (name, state, apps) in [
        ("b", "valid", true),
        ("a", "expired", false),
        ("c", "valid", false),
        ("a", "valid", true),
    ] {
        app.create(&json!({"displayName": name, "state": state, "automaticallyUpdateApps": apps}))
            .await;
    }
    let body = page(
        &app,
        &format!(
            "{}{BETA}?$select=displayName,state&$orderby=displayName,state desc",
            app.base
        ),
    )
    .await;
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceAppManagement/vppTokens(displayName,state)",
            app.base
        )
    );
    assert_eq!(
        body["value"],
        json!([
            {"displayName": "a", "state": "valid"},
            {"displayName": "a", "state": "expired"},
            {"displayName": "b", "state": "valid"},
            {"displayName": "c", "state": "valid"},
        ])
    );
    let body = page(
        &app,
        &format!(
            "{}{BETA}?$orderby=displayName desc&$top=2&$skip=1&$count=true&$select=displayName",
            app.base
        ),
    )
    .await;
    assert_eq!(body["@odata.count"], 4);
    assert_eq!(
        body["value"],
        json!([{"displayName": "b"}, {"displayName": "a"}])
    );
    let next = body["@odata.nextLink"].as_str().unwrap().to_owned();
    assert!(!next.contains("skip=1"), "{next}");
    let rest = page(&app, &next).await;
    assert_eq!(rest["value"], json!([{"displayName": "a"}]));
    assert_eq!(rest["@odata.count"], 4);

    // Beta takes options without `$`.
    let body = page(&app, &format!("{}{BETA}?top=1&select=id", app.base)).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert!(body["@odata.nextLink"].is_string());

    let count = app
        .get(&format!("{BETA}/$count?$filter=state eq 'valid'"))
        .await;
    assert_eq!(count.status(), 200);
    assert!(header(&count, "content-type").starts_with("text/plain"));
    assert_eq!(count.text().await.unwrap(), "3");
    assert_eq!(app.count().await, 4);

    let one = app.get_json(&format!("{BETA}?$select=id&$top=1")).await;
    let id = one["value"][0]["id"].as_str().unwrap();
    let item = app
        .get_json(&format!("{BETA}/{id}?$select=displayName"))
        .await;
    assert_eq!(
        item.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        ["@odata.context", "@odata.type", "displayName"]
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_query_options_are_400_envelopes_naming_the_problem() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    for (query, code, needle) in [
        ("$top=1000", "BadRequest", "$top"),
        ("$top=-1", "BadRequest", "$top"),
        ("$top=ten", "BadRequest", "$top"),
        ("$skip=-5", "BadRequest", "$skip"),
        ("$count=maybe", "BadRequest", "$count"),
        ("$select=colour", "BadRequest", "colour"),
        ("$orderby=colour", "BadRequest", "colour"),
        ("$orderby=displayName upward", "BadRequest", "upward"),
        ("$orderby=roleScopeTagIds", "BadRequest", "roleScopeTagIds"),
        ("$filter=colour eq 'red'", "BadRequest", "colour"),
        ("$filter=state eq 'Valid'", "BadRequest", "Valid"),
        ("$filter=displayName eq", "BadRequest", "$filter"),
        ("$expand=licenses", "BadRequest", "expand"),
        ("$search=contoso", "Request_UnsupportedQuery", "search"),
        ("$skiptoken=garbage", "BadRequest", "$skiptoken"),
        ("$frobnicate=1", "BadRequest", "$frobnicate"),
        ("$top=1&$top=2", "BadRequest", "$top"),
    ] {
        let message =
            assert_graph_error(app.get(&format!("{BETA}?{query}")).await, 400, code).await;
        assert!(message.contains(needle), "{query}: {message}");
    }
    let v1 = app.get(&format!("{V1}?$select=displayName")).await;
    assert_graph_error(v1, 400, "BadRequest").await;
    app.stop().await;
}
