//! Bearer-token API keys: required for writes and admin routes when keys are configured, and
//! for reads when `auth.protect_reads` is set.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;
use crate::state::AppState;

/// Middleware for write and admin routes.
pub(crate) async fn require_write_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check(&state, &request)?;
    Ok(next.run(request).await)
}

/// Middleware for read routes: checks the key only when reads are protected.
pub(crate) async fn require_read_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if state.config().auth.protect_reads {
        check(&state, &request)?;
    }
    Ok(next.run(request).await)
}

/// 401 without a bearer token, 403 with one that is not configured; Ok when no keys are.
fn check(state: &AppState, request: &Request) -> Result<(), ApiError> {
    let keys = &state.config().auth.api_keys;
    if keys.is_empty() {
        return Ok(());
    }
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    if keys
        .iter()
        .any(|key| constant_time_eq(key.as_bytes(), token.as_bytes()))
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Compares without an early exit, so response time does not reveal a matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_bytes() {
        assert!(constant_time_eq(b"key", b"key"));
        assert!(!constant_time_eq(b"key", b"kex"));
        assert!(!constant_time_eq(b"key", b"keys"));
    }
}
