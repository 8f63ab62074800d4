//! A paged Graph answer is followed only on the Graph host the client was configured with: a
//! `@odata.nextLink` that points anywhere else stops the listing with a sentence, and that host never
//! gets a request, let alone the bearer token.

mod common;

use axum::extract::{Path, Query};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::recorder::client as graph_client;
use common::recorder::recorder;
use serde_json::json;

/// A Graph that hands out a token and answers the subscription list in two pages; its first page's
/// `@odata.nextLink` is whatever the test says.
async fn paged_graph(next_link: impl Fn(&str) -> String + Send + Sync + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let next = next_link(&base);
    let app = Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|Path(_tenant): Path<String>| async {
                Json(json!({"access_token": "graph-bearer-token", "expires_in": 3600, "token_type": "Bearer"}))
            }),
        )
        .route(
            "/v1.0/subscriptions",
            get(
                move |Query(query): Query<std::collections::HashMap<String, String>>| {
                    let next = next.clone();
                    async move {
                        let item = |id: &str| json!({"id": id, "resource": "me/messages", "changeType": "created"});
                        match query.get("$skiptoken").map(String::as_str) {
                            Some("2") => Json(json!({"value": [item("second-page")]})),
                            _ => Json(
                                json!({"value": [item("first-page")], "@odata.nextLink": next}),
                            ),
                        }
                    }
                },
            ),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

#[tokio::test]
async fn a_next_link_on_the_graph_host_is_followed() {
    let graph = paged_graph(|base| format!("{base}/v1.0/subscriptions?$skiptoken=2")).await;
    let listed = graph_client(&graph).list_subscriptions().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["first-page", "second-page"]);
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed_and_gets_no_token() {
    let (elsewhere, log) = recorder().await;
    let target = format!("{elsewhere}/v1.0/subscriptions?$skiptoken=2");
    let graph = paged_graph(move |_| target.clone()).await;
    let error = graph_client(&graph).list_subscriptions().await.unwrap_err();
    assert_eq!(
        error.message,
        format!("Listing subscriptions stopped: Graph's answer points the next page at {elsewhere}, not at the Graph host {graph}, so Hookscope did not send your token there; check --graph-url or the proxy in front of Graph.")
    );
    assert_eq!(error.status, 0);
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());

    // Same host, another port or scheme: still another origin.
    let other_port = graph.rsplit_once(':').unwrap().0.to_owned() + ":1";
    let target = format!("{other_port}/v1.0/subscriptions?$skiptoken=2");
    let graph = paged_graph(move |_| target.clone()).await;
    let error = graph_client(&graph).list_subscriptions().await.unwrap_err();
    assert_eq!(
        error.message,
        format!("Listing subscriptions stopped: Graph's answer points the next page at {other_port}, not at the Graph host {graph}, so Hookscope did not send your token there; check --graph-url or the proxy in front of Graph.")
    );
}
