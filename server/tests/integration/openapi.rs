//! The hand-written OpenAPI document against the router.

use pairwise_server::routes::openapi::{openapi, ROUTES};

use crate::{router, state, test_config, Call};

#[tokio::test]
async fn every_documented_route_exists_on_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let client = router(&state(test_config(dir.path())).await);
    for route in ROUTES {
        let path = route
            .path
            .replace("{name}", "absent")
            .replace("{id}", "absent");
        let method = route.method.to_uppercase();
        let answer = client.send(Call::new(&method, &path).key()).await;
        assert_ne!(answer.status, 405, "{method} {path}");
        assert!(
            !(answer.status == 404 && answer.body["error"]["message"] == "no such route"),
            "{method} {path} is documented but not routed"
        );
    }
    let doc = client.send(Call::new("GET", "/openapi.json")).await.body;
    assert_eq!(doc, openapi());
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, ROUTES.len());
}

#[tokio::test]
async fn undocumented_paths_are_not_routed() {
    let dir = tempfile::tempdir().unwrap();
    let client = router(&state(test_config(dir.path())).await);
    for (method, path) in [
        ("GET", "/v1"),
        ("GET", "/v1/collections/a/b"),
        ("POST", "/v1/search"),
    ] {
        let answer = client.send(Call::new(method, path).key()).await;
        assert_eq!(answer.status, 404, "{method} {path}");
    }
}
