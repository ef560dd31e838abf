//! The same scenario over a real socket, concurrency on the wire, and graceful shutdown.

use serde_json::json;

use crate::api::exercise_every_route;
use crate::{state, test_config, with_docs, Call, Running};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_over_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(state(test_config(dir.path())).await).await;
    exercise_every_route(&server.client()).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_searches_are_batched_and_all_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.encoder.max_wait_us = 20_000;
    let server = Running::start(state(config).await).await;
    let client = server.client();
    with_docs(&client).await;
    let queries = [
        "Which animal purrs?",
        "How do spacecraft get into orbit?",
        "baking with yeast",
        "a barking dog",
    ];
    let expected = ["cat", "rocket", "bread", "dog"];
    let mut tasks = Vec::new();
    for i in 0..32 {
        let client = client.clone();
        let query = queries[i % 4];
        tasks.push(tokio::spawn(async move {
            client
                .post(
                    "POST",
                    "/v1/collections/docs/search",
                    &json!({"query": query, "mode": "dense", "k": 1}),
                )
                .await
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["hits"][0]["id"], expected[i % 4]);
    }
    let metrics = client.send(Call::new("GET", "/metrics")).await;
    let text = metrics.body.as_str().unwrap().to_owned();
    let batches = metric(&text, "encoder_batch_texts_count");
    let texts = metric(&text, "encoder_batch_texts_sum");
    assert!(
        batches < texts,
        "no request was batched: {batches} batches for {texts} texts"
    );
    server.stop().await;
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_snapshots_and_releases_the_collections() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(state(test_config(dir.path())).await).await;
    let client = server.client();
    with_docs(&client).await;
    server.stop().await;
    // The lock is released and the log was folded into a snapshot: nothing left to replay.
    let (collection, report) = pairwise_index::Collection::open(&dir.path().join("docs")).unwrap();
    assert_eq!(collection.count(), 4);
    assert_eq!(report.replayed_batches, 0);
    // And the port is closed.
    assert!(std::net::TcpStream::connect(client_addr(&client)).is_err());
}

fn client_addr(client: &crate::Client) -> std::net::SocketAddr {
    match client {
        crate::Client::Socket(addr) => *addr,
        crate::Client::Router(_) => unreachable!(),
    }
}
