//! Login throttling, in memory: failed attempts per account and per
//! client address within a sliding window. In memory is enough for one
//! server process; behind several servers each keeps its own count, so the
//! effective limit multiplies by the number of servers (documented in the
//! README). A restart forgets the counts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per account in [`WINDOW`].
pub const PER_ACCOUNT: usize = 5;
/// Failed logins allowed per client address in [`WINDOW`].
pub const PER_ADDRESS: usize = 20;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts of recent failures by key (`user:NAME`, `addr:IP`).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    fn keys(username: &str, addr: Option<&str>) -> [(String, usize); 2] {
        [
            (format!("user:{}", username.to_lowercase()), PER_ACCOUNT),
            (format!("addr:{}", addr.unwrap_or("unknown")), PER_ADDRESS),
        ]
    }

    /// `Some(seconds to wait)` when either the account or the address has
    /// used up its attempts.
    pub fn blocked(&self, username: &str, addr: Option<&str>) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(username, addr)
            .into_iter()
            .filter_map(|(key, limit)| {
                let q = map.get_mut(&key)?;
                while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    q.pop_front();
                }
                (q.len() >= limit).then(|| {
                    let oldest = *q.front().expect("non-empty");
                    WINDOW.saturating_sub(now.duration_since(oldest)).as_secs() + 1
                })
            })
            .max()
    }

    /// Records a failed attempt against the account and the address.
    pub fn failed(&self, username: &str, addr: Option<&str>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // A flood of made-up names: drop what has aged out.
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= WINDOW));
        }
        for (key, _) in Self::keys(username, addr) {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// A successful login clears the account's count (not the address's).
    pub fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("user:{}", username.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_account_and_per_address() {
        let l = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT {
            assert!(l.blocked("a", Some("1.1.1.1")).is_none());
            l.failed("a", Some("1.1.1.1"));
        }
        assert!(
            l.blocked("a", Some("2.2.2.2")).is_some(),
            "account is locked everywhere"
        );
        assert!(l.blocked("b", Some("1.1.1.1")).is_none());
        for i in 0..PER_ADDRESS {
            l.failed(&format!("u{i}"), Some("3.3.3.3"));
        }
        assert!(
            l.blocked("fresh", Some("3.3.3.3")).is_some(),
            "address is locked"
        );
        l.succeeded("a");
        assert!(l.blocked("a", Some("2.2.2.2")).is_none());
    }
}
