//! Work too heavy for the async workers: password hashing (argon2id, ~19 MB and tens of
//! milliseconds each) and image decoding (up to hundreds of megabytes). Each runs on the blocking
//! pool behind a semaphore, so a burst of logins or uploads waits its turn instead of stalling
//! every other request, and the memory it may take at once is bounded.
//!
//! Images are weighed by their pixels: decoding takes one permit per megapixel from a budget, so
//! many small avatars run side by side while two 48-megapixel photos take turns.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// How long a request waits for its turn before the server says it is busy (503).
const QUEUE_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Heavy {
    passwords: Arc<Semaphore>,
    pixels: Arc<Semaphore>,
    megapixel_budget: u32,
}

impl Heavy {
    /// `workers` password hashes at once; `megapixel_budget` megapixels of images being decoded
    /// at once.
    pub fn new(workers: usize, megapixel_budget: u32) -> Heavy {
        Heavy {
            passwords: Arc::new(Semaphore::new(workers.max(1))),
            pixels: Arc::new(Semaphore::new(megapixel_budget.max(1) as usize)),
            megapixel_budget: megapixel_budget.max(1),
        }
    }

    /// Runs a password hash or check off the async workers.
    pub async fn password<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        run(&self.passwords, 1, f).await
    }

    /// Runs an image decode of `pixels` pixels off the async workers.
    pub async fn image<T: Send + 'static>(
        &self,
        pixels: u64,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let megapixels = pixels
            .div_ceil(1_000_000)
            .clamp(1, u64::from(self.megapixel_budget));
        run(&self.pixels, megapixels as u32, f).await
    }
}

async fn run<T: Send + 'static>(
    semaphore: &Arc<Semaphore>,
    permits: u32,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = tokio::time::timeout(QUEUE_WAIT, semaphore.clone().acquire_many_owned(permits))
        .await
        .map_err(|_| ApiError::Busy)?
        .map_err(|e| ApiError::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || {
        let out = f();
        drop(permit);
        out
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))
}
