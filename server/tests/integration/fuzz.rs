//! Random bodies to every route: only 2xx or 4xx may come back, and the server stays up.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::{router, state, test_config, with_docs, Call, Client, Running};

/// Field names and values the routes know, so random bodies get past the first checks.
const KEYS: &[&str] = &[
    "name",
    "query",
    "vector",
    "mode",
    "k",
    "filter",
    "documents",
    "id",
    "text",
    "title",
    "metadata",
    "texts",
    "labels",
    "scores",
    "fars",
    "ids",
    "model",
    "distance",
    "index",
    "type",
    "m",
    "dim",
    "fusion",
    "include_documents",
    "$and",
    "$or",
    "$not",
    "$gte",
    "$in",
    "year",
];

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    let choice = if depth > 3 {
        rng.gen_range(0..6)
    } else {
        rng.gen_range(0..9)
    };
    match choice {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen_range(-5i64..2000)),
        3 => json!(rng.gen::<f64>() * 10f64.powi(rng.gen_range(-3..40))),
        4 => json!(KEYS[rng.gen_range(0..KEYS.len())]),
        5 => {
            let len = rng.gen_range(0..12);
            json!((0..len)
                .map(|_| rng.gen_range(' '..'\u{3000}'))
                .collect::<String>())
        }
        6 | 7 => {
            let len = rng.gen_range(0..6);
            Value::Array((0..len).map(|_| random_value(rng, depth + 1)).collect())
        }
        _ => {
            let len = rng.gen_range(0..5);
            Value::Object(
                (0..len)
                    .map(|_| {
                        let key = KEYS[rng.gen_range(0..KEYS.len())].to_owned();
                        (key, random_value(rng, depth + 1))
                    })
                    .collect(),
            )
        }
    }
}

fn random_body(rng: &mut StdRng) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0 => (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect(),
        1 => {
            let mut text = serde_json::to_vec(&random_value(rng, 0)).unwrap();
            let cut = rng.gen_range(0..=text.len());
            text.truncate(cut);
            text
        }
        _ => serde_json::to_vec(&random_value(rng, 0)).unwrap(),
    }
}

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/collections"),
    ("GET", "/v1/collections/docs"),
    ("PUT", "/v1/collections/docs/documents"),
    ("GET", "/v1/collections/docs/documents/cat"),
    ("POST", "/v1/collections/docs/documents/delete"),
    ("POST", "/v1/collections/docs/search"),
    ("POST", "/v1/embed"),
    ("POST", "/v1/eval/roc"),
    ("POST", "/v1/collections/docs/diagnostics"),
    ("GET", "/reports/x"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
];

async fn fuzz(client: &Client, rng: &mut StdRng, per_route: usize) {
    for (method, path) in ROUTES {
        for _ in 0..per_route {
            let body = random_body(rng);
            let mut call = Call::new(method, path).raw(&body).key();
            if rng.gen_range(0..20) == 0 {
                call.content_type = Some("text/plain");
            }
            let answer = client.send(call).await;
            assert!(
                (200..500).contains(&answer.status),
                "{method} {path} {:?} -> {} {:?}",
                String::from_utf8_lossy(&body),
                answer.status,
                answer.body
            );
        }
    }
    // Random path segments too.
    for _ in 0..per_route {
        const CHARS: &[u8] = b"abcXYZ019-_.%~!$&'()*+,;=:@";
        let segment: String = (0..rng.gen_range(1..20))
            .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
            .collect();
        let path = format!("/v1/collections/{segment}/search");
        let call = Call::new("POST", &path)
            .json(&json!({"query": "cat"}))
            .key();
        let answer = client.send(call).await;
        assert!(
            (200..500).contains(&answer.status),
            "{path} -> {}",
            answer.status
        );
    }
}

#[tokio::test]
async fn thousands_of_random_bodies_through_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let client = router(&state(test_config(dir.path())).await);
    with_docs(&client).await;
    fuzz(&client, &mut StdRng::seed_from_u64(7), 2000).await;
    assert_eq!(client.send(Call::new("GET", "/healthz")).await.status, 200);
    let hits = client
        .post(
            "POST",
            "/v1/collections/docs/search",
            &json!({"query": "bread", "mode": "bm25"}),
        )
        .await;
    assert_eq!(hits.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bodies_over_a_socket_leave_the_server_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(state(test_config(dir.path())).await).await;
    let client = server.client();
    with_docs(&client).await;
    fuzz(&client, &mut StdRng::seed_from_u64(11), 150).await;
    assert_eq!(client.send(Call::new("GET", "/healthz")).await.status, 200);
    server.stop().await;
}
