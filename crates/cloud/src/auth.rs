//! Who is calling: the bearer token of a logged-in device.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::store::{DeviceKind, StoreError};

/// An authenticated request's account and device.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: i64,
    pub device_id: i64,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized(
                "log in first: this needs a bearer token",
            ))?;
        // Only the token's hash is stored and looked up, so comparing it leaks nothing useful.
        let hash = token_hash(token);
        let tokens = state.hub.tokens();
        if let Some(caller) = tokens.get(&hash) {
            state.limiter.check_account(caller.user_id).await?;
            return Ok(caller);
        }
        let generation = tokens.generation();
        match state.store.device_by_token(&hash).await {
            // An app password opens the address book only (see `crate::dav`).
            Ok(device) if device.kind == DeviceKind::CardDav => Err(ApiError::Unauthorized(
                "an app password opens the CardDAV address book only",
            )),
            Ok(device) => {
                // Per account, across all its devices and addresses.
                let caller = Caller {
                    user_id: device.user_id,
                    device_id: device.id,
                };
                tokens.put(hash, caller, generation);
                state.limiter.check_account(device.user_id).await?;
                Ok(caller)
            }
            Err(StoreError::NotFound) => Err(ApiError::Unauthorized(
                "this device is logged out; log in again",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// App devices recently found by their token's hash, so that most requests skip that lookup
/// (one of an exchange's three round trips).
///
/// A logged-out device must lose access at once on every instance. Its entry is dropped on this
/// instance before the logout is answered ([`crate::live::Hub::device_gone`]), and on the others
/// when the wake-up that the deleting statement itself sends arrives (on PostgreSQL, at its
/// commit). When an instance's listener loses its connection, wake-ups may be missed, so the
/// whole cache is dropped once it listens again. As a last bound, an entry is trusted for
/// [`DeviceCache::FRESH`] only. A lookup that started before a drop is not cached, so a logout
/// that lands while a request is reading the device cannot be undone by that request.
#[derive(Debug, Default)]
pub struct DeviceCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_hash: HashMap<String, (Caller, Instant)>,
    /// Raised by every drop: a lookup that saw an older generation is not cached.
    generation: u64,
}

impl DeviceCache {
    /// How long an entry is trusted without asking the database.
    pub const FRESH: Duration = Duration::from_secs(30);
    /// Entries kept at most; when full, the stale ones go, then all.
    const MAX: usize = 50_000;

    fn get(&self, hash: &str) -> Option<Caller> {
        let entries = self.lock();
        let (caller, at) = entries.by_hash.get(hash)?;
        (at.elapsed() < Self::FRESH).then_some(*caller)
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn put(&self, hash: String, caller: Caller, generation: u64) {
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        if entries.by_hash.len() >= Self::MAX {
            entries
                .by_hash
                .retain(|_, (_, at)| at.elapsed() < Self::FRESH);
            if entries.by_hash.len() >= Self::MAX {
                entries.by_hash.clear();
            }
        }
        entries.by_hash.insert(hash, (caller, Instant::now()));
    }

    /// Forgets a logged-out device.
    pub fn forget_device(&self, device_id: i64) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries
            .by_hash
            .retain(|_, (caller, _)| caller.device_id != device_id);
    }

    /// Forgets every device (wake-ups may have been missed).
    pub fn clear(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.by_hash.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves only a cache behind; keep using it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::{Caller, DeviceCache};

    fn caller(device_id: i64) -> Caller {
        Caller {
            user_id: 7,
            device_id,
        }
    }

    #[test]
    fn a_forgotten_device_is_not_served_and_a_lookup_across_a_drop_is_not_kept() {
        let cache = DeviceCache::default();
        let g = cache.generation();
        cache.put("a".into(), caller(1), g);
        cache.put("b".into(), caller(2), g);
        assert_eq!(cache.get("a").map(|c| c.device_id), Some(1));
        cache.forget_device(1);
        assert!(cache.get("a").is_none(), "logged out");
        assert_eq!(cache.get("b").map(|c| c.device_id), Some(2));
        // A lookup that began before a logout does not put the device back.
        let before = cache.generation();
        cache.forget_device(3);
        cache.put("c".into(), caller(3), before);
        assert!(cache.get("c").is_none());
        cache.clear();
        assert!(cache.get("b").is_none(), "cleared");
    }
}
