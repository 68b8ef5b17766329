//! Login throttling, in memory: exponential back-off after failed logins,
//! so guessing gets slow while the owner is never locked out.
//!
//! Three counts are kept. Per account *and* address the back-off starts
//! after [`PAIR_FREE`] failures and doubles up to [`MAX_WAIT`]: a guesser
//! at one address soon waits minutes per try. Per address across accounts
//! (spraying one password over many names) it starts after
//! [`ADDRESS_FREE`]. Per account across all addresses it starts after
//! [`ACCOUNT_FREE`] and never exceeds [`ACCOUNT_MAX_WAIT`]: the trade-off
//! is that an attacker with many addresses gets one guess per
//! `ACCOUNT_MAX_WAIT` at one account, but cannot keep its owner (who signs
//! in from another address) out for longer than that. A success clears the
//! account's counts. The counts live in one process: behind several
//! servers each keeps its own, and a restart forgets them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of one account from one address before any wait.
pub const PAIR_FREE: u32 = 3;
/// Failures from one address (any accounts) before any wait.
pub const ADDRESS_FREE: u32 = 20;
/// Failures of one account (any addresses) before any wait.
pub const ACCOUNT_FREE: u32 = 10;
/// Longest wait for one address (alone or with one account).
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Longest wait one account can be put under from elsewhere.
pub const ACCOUNT_MAX_WAIT: Duration = Duration::from_secs(30);
/// A count untouched this long is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    last: Instant,
}

/// Failure counts by key (`pair:NAME@IP`, `addr:IP`, `user:NAME`).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    counts: Mutex<HashMap<String, Count>>,
}

/// The wait after `failures` failures with `free` free ones, capped.
fn backoff(failures: u32, free: u32, cap: Duration) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(20);
    Duration::from_secs(1u64 << doublings).min(cap)
}

impl LoginLimiter {
    fn keys(username: &str, addr: Option<&str>) -> [(String, u32, Duration); 3] {
        let user = username.to_lowercase();
        let addr = addr.unwrap_or("unknown");
        [
            (format!("pair:{user}@{addr}"), PAIR_FREE, MAX_WAIT),
            (format!("addr:{addr}"), ADDRESS_FREE, MAX_WAIT),
            (format!("user:{user}"), ACCOUNT_FREE, ACCOUNT_MAX_WAIT),
        ]
    }

    /// `Some(seconds to wait)` while any of the three back-offs runs.
    pub fn blocked(&self, username: &str, addr: Option<&str>) -> Option<u64> {
        self.blocked_at(username, addr, Instant::now())
    }

    /// [`Self::blocked`] at a given instant (for tests).
    pub fn blocked_at(&self, username: &str, addr: Option<&str>, now: Instant) -> Option<u64> {
        let map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(username, addr)
            .into_iter()
            .filter_map(|(key, free, cap)| {
                let c = map.get(&key)?;
                let until = c.last + backoff(c.failures, free, cap);
                (until > now).then(|| until.duration_since(now).as_secs().max(1))
            })
            .max()
    }

    /// Records a failed attempt.
    pub fn failed(&self, username: &str, addr: Option<&str>) {
        self.failed_at(username, addr, Instant::now());
    }

    /// [`Self::failed`] at a given instant (for tests).
    pub fn failed_at(&self, username: &str, addr: Option<&str>, now: Instant) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // A flood of made-up names: drop what has aged out.
            map.retain(|_, c| now.duration_since(c.last) <= FORGET_AFTER);
        }
        for (key, _, _) in Self::keys(username, addr) {
            let c = map.entry(key).or_insert(Count {
                failures: 0,
                last: now,
            });
            if now.duration_since(c.last) > FORGET_AFTER {
                c.failures = 0;
            }
            c.failures += 1;
            c.last = now;
        }
    }

    /// A successful login clears the account's counts (not the address's).
    pub fn succeeded(&self, username: &str, addr: Option<&str>) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let [pair, _, user] = Self::keys(username, addr);
        map.remove(&pair.0);
        map.remove(&user.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guessing_slows_down_exponentially() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..PAIR_FREE - 1 {
            l.failed_at("a", Some("1.1.1.1"), t0);
            assert!(l.blocked_at("a", Some("1.1.1.1"), t0).is_none());
        }
        let mut waits = Vec::new();
        for _ in 0..6 {
            l.failed_at("a", Some("1.1.1.1"), t0);
            waits.push(l.blocked_at("a", Some("1.1.1.1"), t0).unwrap());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32]);
        // Waiting it out opens the door again.
        assert!(
            l.blocked_at("a", Some("1.1.1.1"), t0 + Duration::from_secs(33))
                .is_none()
        );
    }

    #[test]
    fn the_owner_elsewhere_is_slowed_at_most_a_little() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        // A thousand guesses at one account from a hundred addresses.
        for i in 0..1000 {
            l.failed_at("cdc", Some(&format!("10.0.{}.{}", i % 100, i / 100)), t0);
        }
        let owner = l.blocked_at("cdc", Some("192.0.2.7"), t0).unwrap_or(0);
        assert!(owner <= ACCOUNT_MAX_WAIT.as_secs(), "owner waits {owner}s");
        assert!(
            l.blocked_at("cdc", Some("192.0.2.7"), t0 + ACCOUNT_MAX_WAIT)
                .is_none()
        );
        // The guessing address itself waits far longer.
        l.failed_at("cdc", Some("10.9.9.9"), t0);
        for _ in 0..12 {
            l.failed_at("cdc", Some("10.9.9.9"), t0);
        }
        assert!(l.blocked_at("cdc", Some("10.9.9.9"), t0).unwrap() > 60);
    }

    #[test]
    fn spraying_many_accounts_from_one_address_slows_that_address() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..ADDRESS_FREE + 4 {
            l.failed_at(&format!("u{i}"), Some("3.3.3.3"), t0);
        }
        assert!(l.blocked_at("fresh", Some("3.3.3.3"), t0).unwrap() >= 16);
        assert!(l.blocked_at("fresh", Some("4.4.4.4"), t0).is_none());
    }

    #[test]
    fn success_clears_the_account() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..6 {
            l.failed_at("a", Some("1.1.1.1"), t0);
        }
        l.succeeded("a", Some("1.1.1.1"));
        assert!(l.blocked_at("a", Some("1.1.1.1"), t0).is_none());
    }

    #[test]
    fn old_failures_are_forgotten() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..10 {
            l.failed_at("a", Some("1.1.1.1"), t0);
        }
        let later = t0 + FORGET_AFTER + Duration::from_secs(1);
        l.failed_at("a", Some("1.1.1.1"), later);
        assert!(l.blocked_at("a", Some("1.1.1.1"), later).is_none());
    }
}
