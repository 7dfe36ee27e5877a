//! Rate limits per client IP and per account: a token bucket per (who, purpose), refilled
//! continuously.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::config::RateLimits;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Api,
    /// Authenticated calls of one account, from all its devices and addresses.
    Account,
    Auth,
    WebReply,
}

/// Whose bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Ip(IpAddr),
    Account(i64),
}

#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(Subject, Purpose), (f64, Instant)>>,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the bucket; false when it is empty.
    pub fn allow(&self, who: Subject, purpose: Purpose) -> bool {
        let per_minute = match purpose {
            Purpose::Api => self.limits.api_per_ip,
            Purpose::Account => self.limits.api_per_account,
            Purpose::Auth => self.limits.auth_per_ip,
            Purpose::WebReply => self.limits.web_reply_per_ip,
        };
        if per_minute == 0 {
            return true;
        }
        let capacity = f64::from(per_minute);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget idle clients rather than grow without bound.
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 120);
        }
        let (tokens, last) = buckets.entry((who, purpose)).or_insert((capacity, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * capacity / 60.0).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn check(&self, addr: Option<SocketAddr>, purpose: Purpose) -> Result<(), ApiError> {
        match addr {
            Some(addr) if !self.allow(Subject::Ip(addr.ip()), purpose) => {
                Err(ApiError::RateLimited)
            }
            _ => Ok(()),
        }
    }

    pub fn check_account(&self, user_id: i64) -> Result<(), ApiError> {
        if self.allow(Subject::Account(user_id), Purpose::Account) {
            Ok(())
        } else {
            Err(ApiError::RateLimited)
        }
    }
}

/// Middleware: the general per-IP limit on every API call.
pub async fn per_ip_api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    match state.limiter.check(addr, Purpose::Api) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_zero_means_unlimited() {
        let limiter = Limiter::new(RateLimits {
            api_per_account: 2,
            api_per_ip: 3,
            auth_per_ip: 0,
            web_reply_per_ip: 1,
        });
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let allowed = (0..10)
            .filter(|_| limiter.allow(Subject::Ip(ip), Purpose::Api))
            .count();
        assert_eq!(allowed, 3, "a full bucket of 3 then nothing");
        assert!(
            (0..100).all(|_| limiter.allow(Subject::Ip(ip), Purpose::Auth)),
            "0 turns the limit off"
        );
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        assert!(
            limiter.allow(Subject::Ip(other), Purpose::Api),
            "each IP has its own bucket"
        );
    }
}
