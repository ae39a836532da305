//! The replication lock: one read-merge-write of a registry's replication configuration at
//! a time, per account and region, across every stack and invocation.
//!
//! A lease item in the support stack's state table: taken with a conditional `PutItem`
//! (no item, or the one there has expired), given back with a conditional `DeleteItem`
//! (only by its owner). The lease is longer than one merge; the holder checks it still has
//! time before each write ([`Lease::has_left`]), so a write never happens after the lease
//! could have passed to someone else. A holder that crashed frees it when the lease ends.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::aws::state;
use crate::error::ProviderError;
use crate::ids;
use crate::log::LogContext;

/// The lock item of one registry (account and region).
pub fn lock_key(account: &str, region: &str) -> String {
    format!("lock#ecr-replication#{account}#{region}")
}

/// Seconds since the epoch.
pub fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A token unique to this attempt (request id, clock, process), so a later delivery of the
/// same request never releases a lease an earlier one holds.
pub fn owner_token(request_id: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .to_string();
    let pid = std::process::id().to_string();
    ids::short_hash(&[request_id, &nanos, &pid])
}

/// A held lease.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The lock item.
    pub key: String,
    /// Our token.
    pub owner: String,
    /// When it was taken (on this host's monotonic clock).
    pub taken: Instant,
    /// How long it lasts.
    pub length: Duration,
}

impl Lease {
    /// Whether at least `needed` of the lease is left.
    pub fn has_left(&self, needed: Duration) -> bool {
        self.taken.elapsed() + needed <= self.length
    }
}

/// How long to keep trying: `wait`, but never past `deadline` minus `reserve` (the time
/// the work under the lock and the answer need).
pub fn wait_until(now: Instant, wait: Duration, deadline: Instant, reserve: Duration) -> Instant {
    let by_deadline = deadline.checked_sub(reserve).unwrap_or(now).max(now);
    (now + wait).min(by_deadline)
}

/// Everything [`acquire`] needs.
#[derive(Debug, Clone)]
pub struct LockRequest<'a> {
    /// The state table.
    pub table: &'a str,
    /// The lock item.
    pub key: String,
    /// A readable name of who asks (stack and logical id), stored for others' messages.
    pub holder: String,
    /// Our token.
    pub owner: String,
    /// Lease length.
    pub lease: Duration,
    /// Give up at this instant.
    pub give_up_at: Instant,
    /// Pause between attempts.
    pub poll: Duration,
}

/// Takes the lock, waiting while someone else holds it; [`ProviderError::LockTimeout`]
/// when it cannot be had before `give_up_at`.
pub async fn acquire(
    client: &aws_sdk_dynamodb::Client,
    req: &LockRequest<'_>,
    log: &LogContext,
) -> Result<Lease, ProviderError> {
    let started = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let now = epoch_seconds();
        // Whole seconds, rounded up: a lease never ends earlier than promised.
        let expires = now + req.lease.as_secs() + u64::from(req.lease.subsec_nanos() > 0);
        let taken = Instant::now();
        if state::put_lease(
            client,
            req.table,
            &req.key,
            &req.owner,
            &req.holder,
            now,
            expires,
        )
        .await?
        {
            log.info(
                "replication lock taken",
                json!({"lock": req.key, "waitedMs": started.elapsed().as_millis() as u64}),
            );
            return Ok(Lease {
                key: req.key.clone(),
                owner: req.owner.clone(),
                taken,
                length: req.lease,
            });
        }
        attempt += 1;
        // Jitter from the token so concurrent waiters do not poll in step.
        let jitter = Duration::from_millis(
            u64::from_str_radix(req.owner.get(..4).unwrap_or("0"), 16).unwrap_or(0) % 250,
        );
        let pause = req.poll + jitter;
        if Instant::now() + pause > req.give_up_at {
            let holder = state::lease_holder(client, req.table, &req.key)
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| "another replication change".into());
            return Err(ProviderError::LockTimeout(format!(
                "the registry's replication configuration is being changed by {holder}; waited \
                 {} s ({attempt} attempts) for the lock `{}` in the state table and gave up. \
                 Retry the deployment once that change is done (a holder that crashed frees \
                 the lock after {} s)",
                started.elapsed().as_secs(),
                req.key,
                req.lease.as_secs()
            )));
        }
        if attempt == 1 {
            log.info("replication lock busy; waiting", json!({"lock": req.key}));
        }
        tokio::time::sleep(pause).await;
    }
}

/// Gives the lock back (only if it is still ours); failures are logged, not returned: the
/// lease runs out on its own.
pub async fn release(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    lease: &Lease,
    log: &LogContext,
) {
    match state::delete_lease(client, table, &lease.key, &lease.owner).await {
        Ok(true) => log.info("replication lock released", json!({"lock": lease.key})),
        Ok(false) => log.warn(
            "replication lock was no longer ours when releasing it (lease ran out)",
            json!({"lock": lease.key, "heldMs": lease.taken.elapsed().as_millis() as u64}),
        ),
        Err(e) => log.warn(
            "cannot release the replication lock; it frees itself when the lease ends",
            json!({"lock": lease.key, "error": e.to_string()}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_never_runs_past_the_deadline_reserve() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(900);
        let reserve = Duration::from_secs(120);
        assert_eq!(
            wait_until(now, Duration::from_secs(60), deadline, reserve),
            now + Duration::from_secs(60)
        );
        assert_eq!(
            wait_until(now, Duration::from_secs(6000), deadline, reserve),
            deadline - reserve
        );
        assert_eq!(
            wait_until(
                now,
                Duration::from_secs(60),
                now + Duration::from_secs(5),
                reserve
            ),
            now,
            "no time left: one attempt only"
        );
    }

    #[test]
    fn a_lease_knows_how_much_is_left() {
        let lease = Lease {
            key: lock_key("123456789012", "us-east-1"),
            owner: owner_token("r-1"),
            taken: Instant::now(),
            length: Duration::from_secs(300),
        };
        assert!(lease.has_left(Duration::from_secs(200)));
        assert!(!lease.has_left(Duration::from_secs(301)));
        assert_eq!(lease.key, "lock#ecr-replication#123456789012#us-east-1");
        assert_ne!(
            owner_token("r-1"),
            lease.owner,
            "every attempt has its own token"
        );
    }
}
