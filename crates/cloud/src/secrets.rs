//! Passwords, device tokens and live-code tokens.
//!
//! - Passwords: argon2id (PHC strings).
//! - Device tokens: 256 random bits shown once; the database keeps only their SHA-256, so a
//!   leaked database holds no usable token.
//! - Live-code tokens: `{expiry}.{mac}` where mac = HMAC-SHA256(server key, public_id/set/expiry),
//!   checked in constant time. Stateless, so any instance can check any token.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash to verify against when the account does not exist, so that the answer takes as long
/// as for a wrong password and does not reveal whether the account exists.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A new device token and the hash to store.
pub fn new_device_token() -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs and checks live-code tokens.
#[derive(Clone)]
pub struct LiveKey(Vec<u8>);

impl std::fmt::Debug for LiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveKey(…)")
    }
}

impl LiveKey {
    pub fn new(secret: &[u8]) -> Self {
        LiveKey(secret.to_vec())
    }

    fn mac(&self, public_id: &str, set_no: u32, expires_ms: i64) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{public_id}/{set_no}/{expires_ms}").as_bytes());
        mac
    }

    pub fn sign(&self, public_id: &str, set_no: u32, expires_ms: i64) -> String {
        let tag = self
            .mac(public_id, set_no, expires_ms)
            .finalize()
            .into_bytes();
        format!("{expires_ms}.{}", URL_SAFE_NO_PAD.encode(&tag[..16]))
    }

    /// Whether `token` was signed for this code and has not expired at `now_ms`.
    pub fn verify(&self, token: &str, public_id: &str, set_no: u32, now_ms: i64) -> bool {
        let Some((expires, tag)) = token.split_once('.') else {
            return false;
        };
        let Ok(expires_ms) = expires.parse::<i64>() else {
            return false;
        };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        expires_ms >= now_ms
            && self
                .mac(public_id, set_no, expires_ms)
                .verify_truncated_left(&tag)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse").expect("hashes");
        assert!(hash.starts_with("$argon2id$"), "argon2id: {hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("Correct horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn live_tokens_bind_code_and_expiry() {
        let key = LiveKey::new(b"k");
        let token = key.sign("AAAAAAAAAAAAAAAAAAAAAA", 1, 10_000);
        assert!(key.verify(&token, "AAAAAAAAAAAAAAAAAAAAAA", 1, 9_999));
        assert!(
            !key.verify(&token, "AAAAAAAAAAAAAAAAAAAAAA", 1, 10_001),
            "expired"
        );
        assert!(
            !key.verify(&token, "AAAAAAAAAAAAAAAAAAAAAA", 2, 9_999),
            "other set"
        );
        assert!(
            !key.verify(&token, "BAAAAAAAAAAAAAAAAAAAAA", 1, 9_999),
            "other code"
        );
        assert!(
            !LiveKey::new(b"other").verify(&token, "AAAAAAAAAAAAAAAAAAAAAA", 1, 9_999),
            "other server key"
        );
        let forged = token.replace("10000.", "99999.");
        assert!(
            !key.verify(&forged, "AAAAAAAAAAAAAAAAAAAAAA", 1, 9_999),
            "expiry cannot be extended"
        );
    }

    #[test]
    fn device_tokens_are_stored_hashed() {
        let (token, hash) = new_device_token();
        assert_eq!(token.len(), 43, "256 bits in base64url");
        assert_eq!(hash, token_hash(&token));
        assert_ne!(hash, token);
    }
}
