//! Every limit answers a Graph error and stores nothing; a value just inside it is accepted.

mod common;

use common::{BETA, assert_graph_error, full_body, spawn_app, spawn_app_with, temp_dir};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_body_over_max_body_bytes_is_413() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_SERVER__MAX_BODY_BYTES", "2048")]).await;
    let padding = "x".repeat(2100);
    let response = app
        .post_json(BETA, &json!({ "displayName": padding }))
        .await;
    let message = assert_graph_error(response, 413, "RequestEntityTooLarge").await;
    assert!(message.contains("2048"), "{message}");
    assert_eq!(app.count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_url_over_max_url_bytes_is_414() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_LIMITS__MAX_URL_BYTES", "1024")]).await;
    // Already percent-encoded, so the server sees exactly these bytes.
    let url_of_length = |length: usize| {
        let head = format!("{BETA}?$filter=startswith(displayName,%27");
        let padding = "a".repeat(length - head.len() - "%27)".len());
        format!("{head}{padding}%27)")
    };
    assert_eq!(app.get(&url_of_length(1024)).await.status(), 200);
    let message = assert_graph_error(
        app.get(&url_of_length(1025)).await,
        414,
        "RequestUriTooLong",
    )
    .await;
    assert!(message.contains("1024"), "{message}");
    // The admin API is behind the same limit.
    let admin = format!("/_emulator/export?tenant={}", "t".repeat(1100));
    assert_graph_error(app.get(&admin).await, 414, "RequestUriTooLong").await;
    app.stop().await;
}

#[tokio::test]
async fn filter_length_terms_and_depth_are_bounded() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let cases = [
        // Over 4096 bytes.
        (
            format!("displayName eq '{}'", "a".repeat(4100)),
            "longer than 4096 bytes",
        ),
        // Over 100 terms.
        (
            ["state eq 'valid'"; 101].join(" or "),
            "more than 100 terms",
        ),
        // Nested deeper than 20.
        (
            format!("{}state eq 'valid'{}", "(".repeat(21), ")".repeat(21)),
            "deeper than 20",
        ),
    ];
    for (filter, expected) in cases {
        let response = app.get(&format!("{BETA}?$filter={filter}")).await;
        let message = assert_graph_error(response, 400, "BadRequest").await;
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // 50 comparisons and 49 `or`s: 99 terms.
    let just_inside = ["state eq 'valid'"; 50].join(" or ");
    let response = app.get(&format!("{BETA}?$filter={just_inside}")).await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn select_and_orderby_lists_are_bounded() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    let select = ["displayName"; 65].join(",");
    let message = assert_graph_error(
        app.get(&format!("{BETA}?$select={select}")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(message.contains("at most 64"), "{message}");
    let order = ["displayName"; 9].join(",");
    let message = assert_graph_error(
        app.get(&format!("{BETA}?$orderby={order}")).await,
        400,
        "BadRequest",
    )
    .await;
    assert!(message.contains("at most 8"), "{message}");
    let order = ["displayName"; 8].join(",");
    assert_eq!(
        app.get(&format!("{BETA}?$orderby={order}")).await.status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn json_nested_deeper_than_32_levels_is_400() {
    let dir = temp_dir();
    let app = spawn_app(&dir).await;
    // Deep nesting inside an annotation, which is otherwise ignored: the depth check comes first.
    let deep = format!(
        r#"{{"displayName": "x", "x@odata.nested": {}1{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    let response = app
        .request(Method::POST, BETA)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    let message = assert_graph_error(response, 400, "BadRequest").await;
    assert!(message.contains("32"), "{message}");
    assert_eq!(app.count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn string_properties_longer_than_max_string_bytes_are_400() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_LIMITS__MAX_STRING_BYTES", "100")]).await;
    // Bytes, not characters: 34 three-byte characters are 102 bytes.
    let cases: [(&str, Value); 4] = [
        ("displayName", json!({ "displayName": "d".repeat(101) })),
        ("token", json!({ "token": "€".repeat(34) })),
        (
            "roleScopeTagIds[1]",
            json!({ "roleScopeTagIds": ["0", "t".repeat(101)] }),
        ),
        (
            "tokenActionResults[0].actionName",
            json!({ "tokenActionResults": [{ "actionName": "a".repeat(101), "actionState": "done" }] }),
        ),
    ];
    for (path, body) in cases {
        let message = assert_graph_error(app.post_json(BETA, &body).await, 400, "BadRequest").await;
        assert!(
            message.contains(&format!("'{path}'")) && message.contains("at most 100 bytes"),
            "{path}: {message}"
        );
    }
    assert_eq!(app.count().await, 0);
    let created = app
        .create(&json!({ "displayName": "d".repeat(100), "token": "€".repeat(33) }))
        .await;
    assert_eq!(created["displayName"].as_str().unwrap().len(), 100);

    // PATCH is held to the same limit and changes nothing.
    let id = created["id"].as_str().unwrap();
    let response = app
        .patch_json(
            &format!("{BETA}/{id}"),
            &json!({ "displayName": "e".repeat(101) }),
        )
        .await;
    assert_graph_error(response, 400, "BadRequest").await;
    let stored = app.get_json(&format!("{BETA}/{id}")).await;
    assert_eq!(stored["displayName"], "d".repeat(100));
    app.stop().await;
}

#[tokio::test]
async fn collections_over_max_collection_items_are_400() {
    let dir = temp_dir();
    let app = spawn_app_with(&dir, &[("VPP_LIMITS__MAX_COLLECTION_ITEMS", "5")]).await;
    let result = json!({ "actionName": "syncLicenses", "actionState": "done" });
    let cases = [
        (
            "roleScopeTagIds",
            json!({ "roleScopeTagIds": vec!["0"; 6] }),
        ),
        (
            "tokenActionResults",
            json!({ "tokenActionResults": vec![result.clone(); 6] }),
        ),
    ];
    for (property, body) in cases {
        let message = assert_graph_error(app.post_json(BETA, &body).await, 400, "BadRequest").await;
        assert!(
            message.contains(&format!("'{property}'")) && message.contains("at most 5 items"),
            "{property}: {message}"
        );
    }
    assert_eq!(app.count().await, 0);
    let mut body = full_body();
    body["roleScopeTagIds"] = json!(vec!["0"; 5]);
    body["tokenActionResults"] = json!(vec![result; 5]);
    let created = app.create(&body).await;
    assert_eq!(created["roleScopeTagIds"].as_array().unwrap().len(), 5);
    app.stop().await;
}
