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
use subtle::ConstantTimeEq as _;

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

/// A fresh 128-bit random id in unpadded base64url (22 characters): code ids and card ids.
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
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
        format!("{expires_ms}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
    }

    /// Whether `token` was signed for this code, has not expired at `now_ms`, and expires no
    /// later than `now_ms + max_lifetime_ms` (plus [`CLOCK_SKEW_MS`] between instances).
    ///
    /// The tag must be exactly the [`TAG_BYTES`] issued, compared in constant time: a shorter
    /// tag would be a shorter secret (a 1-byte tag falls to 256 guesses), and an expiry further
    /// out than any token is issued for can only be forged.
    pub fn verify(
        &self,
        token: &str,
        public_id: &str,
        set_no: u32,
        now_ms: i64,
        max_lifetime_ms: i64,
    ) -> bool {
        let Some((expires, tag)) = token.split_once('.') else {
            return false;
        };
        // Digits only, as issued: no sign, no leading '+', at most 15 digits.
        if expires.is_empty() || expires.len() > 15 || !expires.bytes().all(|b| b.is_ascii_digit())
        {
            return false;
        }
        let Ok(expires_ms) = expires.parse::<i64>() else {
            return false;
        };
        if expires_ms < now_ms || expires_ms > now_ms + max_lifetime_ms + CLOCK_SKEW_MS {
            return false;
        }
        if tag.len() != TAG_CHARS {
            return false;
        }
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        let expected = self
            .mac(public_id, set_no, expires_ms)
            .finalize()
            .into_bytes();
        tag.len() == TAG_BYTES && bool::from(expected[..TAG_BYTES].ct_eq(&tag))
    }
}

/// Bytes of HMAC-SHA256 a live token carries: 128 bits.
pub const TAG_BYTES: usize = 16;
/// The tag in unpadded base64url.
const TAG_CHARS: usize = 22;
/// How far another instance's clock may run ahead of this one's.
pub const CLOCK_SKEW_MS: i64 = 30_000;

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
        const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
        const LIFE: i64 = 300_000;
        let token = key.sign(ID, 1, 10_000);
        assert!(key.verify(&token, ID, 1, 9_999, LIFE));
        assert!(!key.verify(&token, ID, 1, 10_001, LIFE), "expired");
        assert!(!key.verify(&token, ID, 2, 9_999, LIFE), "other set");
        assert!(
            !key.verify(&token, "BAAAAAAAAAAAAAAAAAAAAA", 1, 9_999, LIFE),
            "other code"
        );
        assert!(
            !LiveKey::new(b"other").verify(&token, ID, 1, 9_999, LIFE),
            "other server key"
        );
        let forged = token.replace("10000.", "99999.");
        assert!(
            !key.verify(&forged, ID, 1, 9_999, LIFE),
            "expiry cannot be extended"
        );
    }

    #[test]
    fn short_tags_and_far_expiries_are_refused() {
        let key = LiveKey::new(b"k");
        const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
        const LIFE: i64 = 300_000;
        let now = 1_000_000;
        let token = key.sign(ID, 1, now + LIFE);
        let (expires, tag) = token.split_once('.').expect("expiry.tag");
        assert_eq!(tag.len(), 22, "16 bytes of tag");
        let tag_bytes = URL_SAFE_NO_PAD.decode(tag).expect("base64url");
        for n in [1, 8, 15] {
            let short = format!("{expires}.{}", URL_SAFE_NO_PAD.encode(&tag_bytes[..n]));
            assert!(
                !key.verify(&short, ID, 1, now, LIFE),
                "a true {n}-byte prefix of the tag is still refused"
            );
        }
        let far = now + 10 * LIFE;
        let far_token = key.sign(ID, 1, far);
        assert!(
            !key.verify(&far_token, ID, 1, now, LIFE),
            "even a correctly signed token may not outlive the configured lifetime"
        );
        assert!(!key.verify("+1000.AAAA", ID, 1, now, LIFE));
        assert!(!key.verify(&format!("{expires}.{tag}="), ID, 1, now, LIFE));
    }

    #[test]
    fn device_tokens_are_stored_hashed() {
        let (token, hash) = new_device_token();
        assert_eq!(token.len(), 43, "256 bits in base64url");
        assert_eq!(hash, token_hash(&token));
        assert_ne!(hash, token);
    }
}
