//! Every route and every error status, as one scenario run through the router and through a
//! real socket (see `server.rs`).

use serde_json::json;

use crate::{router, state, test_config, tiny_documents, Call, Client, KEY};

/// Walks every route: the successes, then each error it documents.
pub(crate) async fn exercise_every_route(client: &Client) {
    // Public routes.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let answer = client.send(Call::new("GET", path)).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
    }
    let metrics = client.send(Call::new("GET", "/metrics")).await;
    assert_eq!(metrics.status, 200);

    // Collections: auth, create, conflicts, bad input.
    let create = json!({"name": "docs", "index": {"type": "hnsw", "m": 8}});
    let no_key = client
        .send(Call::new("POST", "/v1/collections").json(&create))
        .await;
    assert_eq!((no_key.status, no_key.code()), (401, "unauthorized"));
    let wrong_key = client
        .send(
            Call::new("POST", "/v1/collections")
                .json(&create)
                .with_key("nope"),
        )
        .await;
    assert_eq!((wrong_key.status, wrong_key.code()), (403, "forbidden"));
    let created = client.post("POST", "/v1/collections", &create).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["count"], 0);
    assert_eq!(created.body["dim"], 384);
    let again = client.post("POST", "/v1/collections", &create).await;
    assert_eq!((again.status, again.code()), (409, "conflict"));
    for (body, status) in [
        (json!({"name": "../escape"}), 422),
        (json!({"name": ""}), 422),
        (json!({"name": 5}), 422),
        (json!({"name": "x", "model": "nonexistent"}), 422),
        (json!({"name": "x", "dim": 7}), 422),
        (json!({"name": "x", "distance": "manhattan"}), 422),
        (
            json!({"name": "x", "index": {"type": "hnsw", "m": 100000}}),
            422,
        ),
        (json!({"name": "x", "surprise": true}), 422),
        (json!([1, 2]), 422),
    ] {
        let answer = client.post("POST", "/v1/collections", &body).await;
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
    }
    let malformed = client
        .send(
            Call::new("POST", "/v1/collections")
                .raw(b"{\"name\": ")
                .key(),
        )
        .await;
    assert_eq!((malformed.status, malformed.code()), (400, "bad_request"));
    let mut no_type = Call::new("POST", "/v1/collections").key();
    no_type.body = br#"{"name": "x"}"#.to_vec();
    let no_type = client.send(no_type).await;
    assert_eq!(no_type.status, 415);

    let list = client.get("/v1/collections").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["collections"][0]["name"], "docs");
    let missing = client.get("/v1/collections/nope").await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));

    // Documents: upsert (embedded by the server), then every way to get it wrong.
    let put = "/v1/collections/docs/documents";
    let upserted = client.post("PUT", put, &tiny_documents()).await;
    assert_eq!(upserted.status, 200, "{:?}", upserted.body);
    assert_eq!(upserted.body["count"], 4);
    let no_key = client
        .send(Call::new("PUT", put).json(&tiny_documents()))
        .await;
    assert_eq!(no_key.status, 401);
    let embedded = client
        .post(
            "POST",
            "/v1/embed",
            &json!({"texts": ["Penguins are flightless birds."]}),
        )
        .await;
    assert_eq!(embedded.status, 200, "{:?}", embedded.body);
    let vector = embedded.body["vectors"][0].clone();
    assert_eq!(vector.as_array().unwrap().len(), 384);
    let with_vector = json!({"documents": [{"id": "penguin", "text": "Penguins are flightless birds.", "vector": vector, "metadata": {"year": 2020}}]});
    assert_eq!(client.post("PUT", put, &with_vector).await.status, 200);
    let too_many: Vec<_> = (0..9)
        .map(|i| json!({"id": format!("d{i}"), "text": "t"}))
        .collect();
    let huge_text = "word ".repeat(20_000);
    for (body, status) in [
        (
            json!({"documents": [{"id": "a", "text": "t", "vector": [1.0, 2.0]}]}),
            422,
        ),
        (
            // An f32 overflow is a parse error (400), like NaN below.
            json!({"documents": [{"id": "a", "text": "t", "vector": vec![1e39; 384]}]}),
            400,
        ),
        (json!({"documents": [{"id": "a", "text": "   "}]}), 422),
        (
            json!({"documents": [{"id": "", "text": "t", "vector": vec![0.1; 384]}]}),
            422,
        ),
        (
            json!({"documents": [{"id": "a", "text": "t", "metadata": [1]}]}),
            422,
        ),
        (
            json!({"documents": [{"id": "a", "text": "t"}, {"id": "a", "text": "u"}]}),
            422,
        ),
        (json!({"documents": [{"id": "a", "text": 3}]}), 422),
        (json!({"documents": "all of them"}), 422),
        (json!({"documents": too_many}), 413),
        (json!({"documents": [{"id": "a", "text": huge_text}]}), 413),
    ] {
        let answer = client.post("PUT", put, &body).await;
        assert_eq!(answer.status, status, "{:?}", answer.body);
    }
    let nan = client
        .send(
            Call::new("PUT", put)
                .raw(br#"{"documents": [{"id": "a", "text": "t", "vector": [NaN]}]}"#)
                .key(),
        )
        .await;
    assert_eq!(nan.status, 400);
    let unknown = client
        .post("PUT", "/v1/collections/nope/documents", &tiny_documents())
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(client.get("/v1/collections/docs").await.body["count"], 5);

    let got = client.get("/v1/collections/docs/documents/cat").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["title"], "Cats");
    assert!(got.body.get("vector").is_none());
    let got = client
        .get("/v1/collections/docs/documents/cat?vector=true")
        .await;
    assert_eq!(got.body["vector"].as_array().unwrap().len(), 384);
    assert_eq!(
        client
            .get("/v1/collections/docs/documents/nope")
            .await
            .status,
        404
    );
    assert_eq!(
        client
            .get("/v1/collections/docs/documents/cat?vector=maybe")
            .await
            .status,
        400
    );

    // Search: each mode, a filter, by vector, with documents; then the bad requests.
    let search = "/v1/collections/docs/search";
    for mode in ["dense", "bm25", "hybrid"] {
        let body = json!({"query": "which pet purrs, a cat?", "mode": mode, "k": 2});
        let answer = client.post("POST", search, &body).await;
        assert_eq!(answer.status, 200, "{mode}: {:?}", answer.body);
        assert_eq!(
            answer.body["hits"][0]["id"], "cat",
            "{mode}: {:?}",
            answer.body
        );
        assert!(answer.body["hits"].as_array().unwrap().len() <= 2);
    }
    let filtered = client
        .post("POST", search, &json!({"query": "animals", "mode": "dense", "k": 10, "filter": {"tag": "animal", "year": {"$gte": 2022}}}))
        .await;
    assert_eq!(filtered.status, 200);
    let ids: Vec<&str> = filtered.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["dog"]);
    let by_vector = client
        .post(
            "POST",
            search,
            &json!({"vector": embedded.body["vectors"][0], "k": 1, "include_documents": true}),
        )
        .await;
    assert_eq!(by_vector.status, 200, "{:?}", by_vector.body);
    assert_eq!(by_vector.body["hits"][0]["id"], "penguin");
    assert_eq!(
        by_vector.body["hits"][0]["document"]["text"],
        "Penguins are flightless birds."
    );
    for body in [
        json!({"query": ""}),
        json!({"query": "   "}),
        json!({}),
        json!({"query": "cat", "k": 0}),
        json!({"query": "cat", "k": 1_000_000}),
        json!({"query": "cat", "k": -1}),
        json!({"query": "cat", "k": "ten"}),
        json!({"query": "cat", "mode": "fancy"}),
        json!({"query": "cat", "filter": {"year": {"$bogus": 1}}}),
        json!({"query": "cat", "filter": "year > 3"}),
        json!({"vector": [1.0, 0.0]}),
        json!({"vector": vec![0.1; 384], "mode": "bm25"}),
        json!({"query": 42}),
        json!({"query": "cat", "fusion": {"type": "weighted", "dense_weight": 3.0}}),
    ] {
        let answer = client.post("POST", search, &body).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
        assert_eq!(answer.code(), "invalid_input");
    }
    let answer = client
        .post(
            "POST",
            "/v1/collections/nope/search",
            &json!({"query": "cat"}),
        )
        .await;
    assert_eq!(answer.status, 404);
    let reads_are_open = client
        .send(Call::new("POST", search).json(&json!({"query": "cat", "mode": "bm25"})))
        .await;
    assert_eq!(reads_are_open.status, 200);

    let overflow = client
        .post("POST", search, &json!({"vector": vec![1e39; 384]}))
        .await;
    assert_eq!(overflow.status, 400);

    // Embed errors.
    for (body, status) in [
        (json!({"texts": []}), 422),
        (json!({"texts": [""]}), 422),
        (json!({"texts": ["a"], "model": "nonexistent"}), 422),
        (json!({"texts": "a"}), 422),
        (json!({"texts": vec!["a"; 9]}), 413),
    ] {
        let answer = client.post("POST", "/v1/embed", &body).await;
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
    }

    // ROC evaluation, saved as a report.
    let roc = client
        .post("POST", "/v1/eval/roc", &json!({"labels": [1, 1, 0, 0], "scores": [0.8, 0.35, 0.4, 0.1], "save": true, "title": "Four pairs", "options": {"bootstrap_resamples": 200, "seed": 3}}))
        .await;
    assert_eq!(roc.status, 200, "{:?}", roc.body);
    assert_eq!(roc.body["auc"], 0.75);
    assert!(roc.body["auc_ci95"]["lower"].as_f64().unwrap() <= 0.75);
    assert!(!roc.body["roc"].as_array().unwrap().is_empty());
    assert!(roc.body["best_threshold"]["threshold"].is_number());
    let html_path = roc.body["report"]["html"].as_str().unwrap().to_owned();
    let json_path = roc.body["report"]["json"].as_str().unwrap().to_owned();
    let page = client.get(&html_path).await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains("<svg") && html.contains("class=\"roc-curve\""),
        "{html}"
    );
    assert!(html.contains("Four pairs") && !html.contains("<script"));
    let saved = client.get(&json_path).await;
    assert_eq!(saved.status, 200);
    assert_eq!(saved.body["title"], "Four pairs");
    for path in [
        "/reports/nope",
        "/v1/reports/nope",
        "/reports/..%2F..%2Fetc",
    ] {
        assert_eq!(client.get(path).await.status, 404, "{path}");
    }
    for body in [
        json!({"labels": [1, 1], "scores": [0.1, 0.2]}),
        json!({"labels": [1, 0], "scores": [0.1]}),
        json!({"labels": [2, 0], "scores": [0.1, 0.2]}),
        json!({"labels": [1, 0], "scores": [0.1, "x"]}),
        json!({"labels": [], "scores": []}),
        json!({"labels": [1, 0], "scores": [0.1, 0.2], "options": {"histogram_bins": 0}}),
        json!({"labels": [1, 0], "scores": [0.1, 0.2], "options": {"typo": 1}}),
    ] {
        let answer = client.post("POST", "/v1/eval/roc", &body).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
    }

    // Diagnostics of the collection, saved as a report.
    let diagnostics = "/v1/collections/docs/diagnostics";
    let judged = json!({"queries": [
        {"query": "Which animal purrs?", "relevant": ["cat"]},
        {"query": "How do rockets reach orbit?", "relevant": ["rocket"]},
        {"id": "q3", "query": "baking bread with yeast", "relevant": ["bread"]}
    ], "k": 3, "negatives": 3, "save": true});
    let answer = client.post("POST", diagnostics, &judged).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["n_queries"], 3);
    assert_eq!(answer.body["ndcg_at_10"], 1.0);
    assert_eq!(answer.body["recall_at_k"], 1.0);
    assert!(answer.body["pooled"]["auc"].as_f64().unwrap() > 0.9);
    assert!(answer.body["pooled"]["histograms"]["positives"].is_array());
    let page = client
        .get(answer.body["report"]["html"].as_str().unwrap())
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains("nDCG@10"));
    for body in [
        json!({"queries": []}),
        json!({"queries": [{"query": "", "relevant": ["cat"]}]}),
        json!({"queries": [{"query": "cats", "relevant": []}]}),
        json!({"queries": [{"query": "cats", "relevant": ["ghost"]}]}),
        json!({"queries": [{"query": "cats", "relevant": ["cat"]}], "k": 0}),
        json!({"queries": [{"query": "cats", "relevant": ["cat"]}], "negatives": 0}),
        json!({"queries": "cats"}),
    ] {
        let answer = client.post("POST", diagnostics, &body).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
    }
    let unknown = client
        .post(
            "POST",
            "/v1/collections/nope/diagnostics",
            &json!({"queries": [{"query": "x", "relevant": ["y"]}]}),
        )
        .await;
    assert_eq!(unknown.status, 404);

    // Deletes.
    let one = client
        .send(Call::new("DELETE", "/v1/collections/docs/documents/bread").key())
        .await;
    assert_eq!((one.status, &one.body["deleted"]), (200, &json!(1)));
    let again = client
        .send(Call::new("DELETE", "/v1/collections/docs/documents/bread").key())
        .await;
    assert_eq!(again.status, 404);
    let many = client
        .post(
            "POST",
            "/v1/collections/docs/documents/delete",
            &json!({"ids": ["rocket", "ghost"]}),
        )
        .await;
    assert_eq!(many.body["deleted"], 1);
    assert_eq!(client.get("/v1/collections/docs").await.body["count"], 3);
    let hits = client
        .post(
            "POST",
            search,
            &json!({"query": "rocket orbit fuel", "mode": "bm25"}),
        )
        .await;
    assert!(hits.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["id"] != "rocket"));

    // Unknown routes and methods answer JSON too.
    let route = client.send(Call::new("GET", "/v2/everything").key()).await;
    assert_eq!((route.status, route.code()), (404, "not_found"));
    let method = client
        .send(Call::new("PATCH", "/v1/collections").key())
        .await;
    assert_eq!((method.status, method.code()), (405, "method_not_allowed"));

    // Deleting the collection removes it.
    let gone = client
        .send(Call::new("DELETE", "/v1/collections/docs").with_key(KEY))
        .await;
    assert_eq!(gone.status, 200, "{:?}", gone.body);
    assert_eq!(client.get("/v1/collections/docs").await.status, 404);
    let twice = client
        .send(Call::new("DELETE", "/v1/collections/docs").key())
        .await;
    assert_eq!(twice.status, 404);

    // The metrics saw the routes and the search stages.
    let metrics = client.send(Call::new("GET", "/metrics")).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("route=\"/v1/collections/{name}/search\""),
        "{text}"
    );
    for stage in ["encode", "vector", "bm25", "fusion"] {
        assert!(text.contains(&format!("stage=\"{stage}\"")), "{stage}");
    }
}

#[tokio::test]
async fn every_route_through_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(test_config(dir.path())).await;
    exercise_every_route(&router(&state)).await;
}

#[tokio::test]
async fn protected_reads_need_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.auth.protect_reads = true;
    let client = router(&state(config).await);
    let answer = client.send(Call::new("GET", "/v1/collections")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(client.get("/v1/collections").await.status, 200);
    assert_eq!(client.send(Call::new("GET", "/healthz")).await.status, 200);
}

#[tokio::test]
async fn without_keys_writes_are_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.auth.api_keys.clear();
    let client = router(&state(config).await);
    let answer = client
        .send(Call::new("POST", "/v1/collections").json(&json!({"name": "open"})))
        .await;
    assert_eq!(answer.status, 201);
}

#[tokio::test]
async fn a_slow_request_times_out_with_503() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.limits.request_timeout_ms = 1;
    let client = router(&state(config).await);
    let long = "a long text to embed, repeated many times. ".repeat(40);
    let answer = client
        .post("POST", "/v1/embed", &json!({"texts": vec![long; 8]}))
        .await;
    assert_eq!((answer.status, answer.code()), (503, "timeout"));
}

#[tokio::test]
async fn before_loading_the_server_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        pairwise_server::AppState::new(test_config(dir.path()), crate::minilm_dir()).unwrap();
    let client = router(&state);
    assert_eq!(client.send(Call::new("GET", "/healthz")).await.status, 200);
    let ready = client.send(Call::new("GET", "/readyz")).await;
    assert_eq!((ready.status, ready.code()), (503, "not_ready"));
    assert_eq!(client.get("/v1/collections").await.status, 503);
}

#[tokio::test]
async fn collections_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let state = state(test_config(dir.path())).await;
        let client = router(&state);
        assert_eq!(
            client
                .post("POST", "/v1/collections", &json!({"name": "keep"}))
                .await
                .status,
            201
        );
        assert_eq!(
            client
                .post("PUT", "/v1/collections/keep/documents", &tiny_documents())
                .await
                .status,
            200
        );
        state.close().await;
    }
    let state = state(test_config(dir.path())).await;
    let client = router(&state);
    assert_eq!(client.get("/v1/collections/keep").await.body["count"], 4);
    let hits = client
        .post(
            "POST",
            "/v1/collections/keep/search",
            &json!({"query": "bread and yeast", "k": 1}),
        )
        .await;
    assert_eq!(hits.body["hits"][0]["id"], "bread");
}
