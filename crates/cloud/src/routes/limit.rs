//! Rate limits per client address and per account: a token bucket per (who, purpose), refilled
//! continuously.
//!
//! Buckets live in Redis when a `redis_url` is configured, so every instance behind a load
//! balancer draws from the same bucket (one limit, not one per instance); the bucket arithmetic
//! runs as one Lua script, atomically, on Redis' clock. Without Redis, or while it cannot be
//! reached, each instance keeps its own buckets in memory.
//!
//! In memory, buckets sit in two generations: a lookup moves a bucket from the old generation
//! to the current one, and every minute the old generation is dropped whole. A bucket untouched
//! for a minute has refilled completely anyway, so forgetting it changes nothing, and no request
//! ever scans the map: eviction is O(1) amortised however many addresses call.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::client_ip::{TrustedProxies, bucket_of};
use crate::config::RateLimits;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Api,
    /// Authenticated calls of one account, from all its devices and addresses.
    Account,
    Auth,
    WebReply,
    /// Web card pages.
    WebCard,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Api => "api",
            Purpose::Account => "account",
            Purpose::Auth => "auth",
            Purpose::WebReply => "reply",
            Purpose::WebCard => "card",
        }
    }
}

/// Whose bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A client address (IPv6 reduced to its /64).
    Ip(IpAddr),
    Account(i64),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Ip(ip) => write!(f, "ip:{ip}"),
            Subject::Account(id) => write!(f, "account:{id}"),
        }
    }
}

type Key = (Subject, Purpose);

/// A generation lives this long; a bucket idle for it has refilled completely.
const GENERATION: Duration = Duration::from_secs(60);
/// A generation holding this many buckets ends early (an address-spraying client), bounding
/// memory at about twice this many buckets.
const GENERATION_CAP: usize = 200_000;

#[derive(Debug)]
struct Generations {
    current: HashMap<Key, (f64, Instant)>,
    previous: HashMap<Key, (f64, Instant)>,
    started: Instant,
}

#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    proxies: TrustedProxies,
    local: Mutex<Generations>,
    redis: Option<redis::aio::ConnectionManager>,
}

/// Takes one token from `KEYS[1]`'s bucket of `ARGV[1]` tokens refilled over 60 s; 1 if taken.
const BUCKET_SCRIPT: &str = r#"
local capacity = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + (now - at) * capacity / 60000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 120000)
return allowed
"#;

impl Limiter {
    /// A limiter keeping its buckets in memory.
    pub fn new(limits: RateLimits, proxies: TrustedProxies) -> Self {
        Limiter {
            limits,
            proxies,
            local: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
                started: Instant::now(),
            }),
            redis: None,
        }
    }

    /// A limiter sharing its buckets through Redis at `url`.
    #[tracing::instrument(skip_all)]
    pub async fn with_redis(
        limits: RateLimits,
        proxies: TrustedProxies,
        url: &str,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        // A slow Redis must not stall requests: past these, the limit is counted locally.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(250)));
        let manager = redis::aio::ConnectionManager::new_with_config(client, config).await?;
        Ok(Limiter {
            redis: Some(manager),
            ..Limiter::new(limits, proxies)
        })
    }

    fn per_minute(&self, purpose: Purpose) -> u32 {
        match purpose {
            Purpose::Api => self.limits.api_per_ip,
            Purpose::Account => self.limits.api_per_account,
            Purpose::Auth => self.limits.auth_per_ip,
            Purpose::WebReply => self.limits.web_reply_per_ip,
            Purpose::WebCard => self.limits.web_card_per_ip,
        }
    }

    /// Takes one request from the bucket; false when it is empty.
    #[tracing::instrument(skip_all)]
    pub async fn allow(&self, who: Subject, purpose: Purpose) -> bool {
        let per_minute = self.per_minute(purpose);
        if per_minute == 0 {
            return true;
        }
        if let Some(redis) = &self.redis {
            let mut conn = redis.clone();
            let taken: redis::RedisResult<i64> = redis::Script::new(BUCKET_SCRIPT)
                .key(format!("mingpian:rl:{}:{who}", purpose.name()))
                .arg(per_minute)
                .invoke_async(&mut conn)
                .await;
            match taken {
                Ok(taken) => return taken == 1,
                Err(e) => {
                    // Redis is down: limit locally rather than not at all, and say so.
                    tracing::warn!(error = %e, "rate limits: redis unreachable, counting locally");
                }
            }
        }
        self.allow_local((who, purpose), per_minute, Instant::now())
    }

    fn allow_local(&self, key: Key, per_minute: u32, now: Instant) -> bool {
        let capacity = f64::from(per_minute);
        let mut g = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if now.duration_since(g.started) >= GENERATION || g.current.len() >= GENERATION_CAP {
            g.previous = std::mem::take(&mut g.current);
            g.started = now;
        }
        let bucket = match g.previous.remove(&key) {
            Some(moved) => g.current.entry(key).or_insert(moved),
            None => g.current.entry(key).or_insert((capacity, now)),
        };
        let (tokens, last) = bucket;
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

    /// The client address a request counts against (see [`crate::client_ip`]).
    pub fn client(&self, peer: SocketAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        self.proxies.client(peer, headers)
    }

    #[tracing::instrument(skip_all)]
    pub async fn check(
        &self,
        peer: SocketAddr,
        headers: &axum::http::HeaderMap,
        purpose: Purpose,
    ) -> Result<(), ApiError> {
        let ip = bucket_of(self.client(peer, headers));
        if self.allow(Subject::Ip(ip), purpose).await {
            Ok(())
        } else {
            Err(self.limited(purpose))
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn check_account(&self, user_id: i64) -> Result<(), ApiError> {
        if self
            .allow(Subject::Account(user_id), Purpose::Account)
            .await
        {
            Ok(())
        } else {
            Err(self.limited(Purpose::Account))
        }
    }

    /// A refusal saying when to come back: an empty bucket holds its next request within a
    /// minute's share of the limit (buckets refill continuously).
    fn limited(&self, purpose: Purpose) -> ApiError {
        ApiError::RateLimited {
            retry_after: 60u32.div_ceil(self.per_minute(purpose).max(1)),
        }
    }
}

/// Middleware: the general per-address limit on every API call.
#[tracing::instrument(skip_all)]
pub async fn per_ip_api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Some(peer) = peer
        && let Err(e) = state
            .limiter
            .check(peer, request.headers(), Purpose::Api)
            .await
    {
        return e.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Limiter {
        Limiter::new(
            RateLimits {
                api_per_account: 2,
                api_per_ip: 3,
                auth_per_ip: 0,
                web_reply_per_ip: 1,
                web_card_per_ip: 1,
            },
            TrustedProxies::default(),
        )
    }

    #[tokio::test]
    #[tracing::instrument(skip_all)]
    async fn bucket_empties_and_zero_means_unlimited() {
        let limiter = limiter();
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let mut allowed = 0;
        for _ in 0..10 {
            allowed += usize::from(limiter.allow(Subject::Ip(ip), Purpose::Api).await);
        }
        assert_eq!(allowed, 3, "a full bucket of 3 then nothing");
        for _ in 0..100 {
            assert!(
                limiter.allow(Subject::Ip(ip), Purpose::Auth).await,
                "0 turns the limit off"
            );
        }
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        assert!(
            limiter.allow(Subject::Ip(other), Purpose::Api).await,
            "each IP has its own bucket"
        );
    }

    #[test]
    fn generations_forget_idle_buckets_but_keep_busy_ones() {
        let limiter = limiter();
        let start = Instant::now();
        let busy = (Subject::Account(1), Purpose::Account);
        assert!(limiter.allow_local(busy, 2, start));
        assert!(limiter.allow_local(busy, 2, start));
        assert!(!limiter.allow_local(busy, 2, start), "empty");
        // Many other clients come and go; the busy one keeps calling within each generation.
        for i in 0..1000 {
            let key = (Subject::Account(1000 + i), Purpose::Account);
            limiter.allow_local(key, 2, start + Duration::from_millis(i as u64));
        }
        let later = start + GENERATION + Duration::from_millis(1);
        assert!(
            !limiter.allow_local(busy, 2, start + Duration::from_millis(1)),
            "still empty within the minute"
        );
        assert!(
            limiter.allow_local(busy, 2, later),
            "refilled after a minute"
        );
        let g = limiter.local.lock().expect("lock");
        assert!(
            g.current.len() < 10,
            "the 1,000 idle buckets were dropped with their generation, not scanned: {}",
            g.current.len()
        );
    }
}
