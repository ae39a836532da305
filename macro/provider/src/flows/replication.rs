//! The replication resource (`Custom::ContainerImageBuildReplication`): read the registry's
//! replication configuration, merge this resource's filters, check, write, verify.
//!
//! With the support stack's state table (production), the read-merge-write runs under the
//! registry's lock ([`crate::lock`]) and the resource removes only the filters it added
//! ([`crate::filter_record`]). Without one (local use), writes are neither serialized nor
//! recorded, and a Delete removes every filter the properties name.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::aws::{ecr, state};
use crate::error::ProviderError;
use crate::event::{CfnRequest, RequestType};
use crate::filter_record;
use crate::ids;
use crate::lock::{self, LockRequest};
use crate::log::LogContext;
use crate::provider::Provider;
use crate::replication::{self, Desired};
use crate::response::Status;
use crate::response::answer_for;

/// Time kept out of the invocation, beyond the lease (the work under the lock), to answer.
const ANSWER_RESERVE: Duration = Duration::from_secs(30);

/// Whether writing `merged` over `live` needs ECR's limits checked: only when it adds a
/// filter. A change that only removes filters (every Delete) is never refused.
pub fn adds_filters(live: &replication::ReplicationConfig, want: &Desired) -> bool {
    !replication::includes(live, want)
}

impl Provider {
    /// Handles one replication request and answers it.
    pub(crate) async fn handle_replication(
        &self,
        request: &CfnRequest,
        physical_id: &str,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<Value, ProviderError> {
        // Writes follow the stack's template; a Delete removes only the resource's own
        // record, so the request's identity (checked before) is enough for it.
        if request.request_type != RequestType::Delete
            && let Err(refusal) = self.verify_content(request).await
        {
            return refusal.outcome(log);
        }
        let account = ids::account_of(&request.stack_id)
            .unwrap_or_default()
            .to_string();
        let current = Desired::parse(&request.resource_properties, &account);
        let result = match (&self.settings.state_table, request.request_type, current) {
            (Some(table), RequestType::Delete, _) => {
                // The record, not the properties, says what to remove.
                self.replicate_recorded(
                    table,
                    request,
                    &Desired::default(),
                    &account,
                    log,
                    deadline,
                )
                .await
            }
            (Some(table), _, Ok(want)) => {
                self.replicate_recorded(table, request, &want, &account, log, deadline)
                    .await
            }
            (None, _, current) => {
                log.warn(
                    "no state table (CIB_STATE_TABLE): replication writes are not serialized \
                     and not recorded",
                    json!({}),
                );
                match self.unrecorded_change(request, current, log) {
                    Ok((remove, add)) => self.apply_replication(&remove, &add, &account, log).await,
                    Err(e) => Err(e),
                }
            }
            (Some(_), _, Err(e)) => Err(e),
        };
        let response = match result {
            Ok(rules) => {
                let mut ok = answer_for(request, physical_id, Status::Success, String::new());
                ok.data.insert("RuleCount".into(), rules.to_string());
                ok
            }
            Err(e) if request.request_type == RequestType::Delete => {
                // A stack must be able to go away; say what was left behind.
                log.error(
                    "could not remove our replication filters",
                    json!({"error": e.to_string()}),
                );
                let mut ok = answer_for(request, physical_id, Status::Success, String::new());
                ok.reason = format!("replication filters may remain: {e}");
                ok
            }
            Err(e) => answer_for(request, physical_id, Status::Failed, e.to_string()),
        };
        self.answer(log, &request.response_url, response).await
    }

    /// What to remove and add without a record: the previous properties' filters on
    /// Update, the current ones on Delete.
    fn unrecorded_change(
        &self,
        request: &CfnRequest,
        current: Result<Desired, ProviderError>,
        log: &LogContext,
    ) -> Result<(Desired, Desired), ProviderError> {
        let account = ids::account_of(&request.stack_id).unwrap_or_default();
        let old = request
            .old_resource_properties
            .as_ref()
            .map(|p| Desired::parse(p, account))
            .transpose()
            .unwrap_or_else(|e| {
                log.warn(
                    "previous properties unreadable; treating as empty",
                    json!({"error": e.to_string()}),
                );
                None
            })
            .unwrap_or_default();
        match (request.request_type, current) {
            (RequestType::Delete, Ok(current)) => Ok((current, Desired::default())),
            (RequestType::Delete, Err(e)) => {
                // Nothing of ours can have been written from properties that do not parse.
                log.warn(
                    "properties unreadable on delete; nothing to remove",
                    json!({"error": e.to_string()}),
                );
                Ok((Desired::default(), Desired::default()))
            }
            (RequestType::Create, Ok(current)) => Ok((Desired::default(), current)),
            (RequestType::Update, Ok(current)) => Ok((old, current)),
            (_, Err(e)) => Err(e),
        }
    }

    /// Under the registry's lock: merge `want`, removing only what this resource added
    /// before and no longer wants, and record what it owns now.
    async fn replicate_recorded(
        &self,
        table: &str,
        request: &CfnRequest,
        want: &Desired,
        account: &str,
        log: &LogContext,
        deadline: Instant,
    ) -> Result<usize, ProviderError> {
        let ddb = &self.clients.dynamodb;
        let lock_request = LockRequest {
            table,
            key: lock::lock_key(account, &self.clients.home_region),
            holder: format!(
                "stack {} resource {}",
                request.stack_id, request.logical_resource_id
            ),
            owner: lock::owner_token(&request.request_id),
            lease: self.settings.lock_lease,
            give_up_at: lock::wait_until(
                Instant::now(),
                self.settings.lock_wait,
                deadline,
                self.settings.lock_lease + ANSWER_RESERVE,
            ),
            poll: self.settings.lock_poll,
        };
        let lease = lock::acquire(ddb, &lock_request, log).await?;
        let result = self
            .merge_owned(table, request, want, account, &lease, log)
            .await;
        lock::release(ddb, table, &lease, log).await;
        result
    }

    async fn merge_owned(
        &self,
        table: &str,
        request: &CfnRequest,
        want: &Desired,
        account: &str,
        lease: &lock::Lease,
        log: &LogContext,
    ) -> Result<usize, ProviderError> {
        let (ddb, ecr) = (&self.clients.dynamodb, &self.clients.ecr);
        let key = filter_record::record_key(&request.stack_id, &request.logical_resource_id);
        let mut stored = state::get_text(ddb, table, &key).await?;
        let mut owned = match &stored {
            Some(text) => filter_record::decode(&key, text)?,
            None => Desired::default(),
        };
        if stored.is_none() && request.request_type != RequestType::Create {
            log.warn(
                "no record of the filters this resource added; removing none",
                json!({"record": key}),
            );
        }
        let remove = filter_record::minus(&owned, want);
        for attempt in 1..=self.settings.replication_attempts {
            let live = ecr::replication(ecr).await?;
            let merged = replication::merge(&live, &remove, want);
            let next = filter_record::next_owned(&owned, want, &live);
            if merged != live {
                if adds_filters(&live, want) {
                    replication::check_limits(&merged, &self.clients.home_region, account)?;
                }
                // Recorded before writing: a retried event must know what this one added.
                let text = filter_record::encode(&next);
                if stored.as_deref() != Some(text.as_str()) {
                    state::put_text(ddb, table, &key, &text).await?;
                    stored = Some(text);
                }
                if !lease.has_left(lease.length / 5) {
                    return Err(ProviderError::LockTimeout(format!(
                        "the lock's {} s lease is almost over; not writing without it",
                        lease.length.as_secs()
                    )));
                }
                self.write_replication(&merged, attempt, log).await?;
            }
            owned = next;
            let now = ecr::replication(ecr).await?;
            if replication::includes(&now, want) && replication::excludes(&now, &remove, want) {
                if request.request_type == RequestType::Delete {
                    state::delete(ddb, table, &key).await?;
                } else {
                    let text = filter_record::encode(&owned);
                    if stored.as_deref() != Some(text.as_str()) {
                        state::put_text(ddb, table, &key, &text).await?;
                    }
                }
                return Ok(now.rules.len());
            }
            log.warn(
                "replication configuration changed by a writer outside the lock; merging again",
                json!({"attempt": attempt}),
            );
            tokio::time::sleep(self.settings.replication_settle * attempt).await;
        }
        Err(conflict(self.settings.replication_attempts))
    }

    /// Writes `merged` (after the test-only delay), logs it, and waits for it to settle.
    async fn write_replication(
        &self,
        merged: &replication::ReplicationConfig,
        attempt: u32,
        log: &LogContext,
    ) -> Result<(), ProviderError> {
        if !self.settings.replication_write_delay.is_zero() {
            tokio::time::sleep(self.settings.replication_write_delay).await;
        }
        ecr::put_replication(&self.clients.ecr, merged).await?;
        log.info(
            "replication configuration written",
            json!({"rules": merged.rules.len(), "attempt": attempt}),
        );
        tokio::time::sleep(self.settings.replication_settle).await;
        Ok(())
    }

    /// Read, merge, check, write, then read back and verify; retried when another writer
    /// changed the configuration in between. Returns the number of rules in the end.
    async fn apply_replication(
        &self,
        remove: &Desired,
        add: &Desired,
        account: &str,
        log: &LogContext,
    ) -> Result<usize, ProviderError> {
        let ecr = &self.clients.ecr;
        for attempt in 1..=self.settings.replication_attempts {
            let live = ecr::replication(ecr).await?;
            let merged = replication::merge(&live, remove, add);
            if merged != live {
                if adds_filters(&live, add) {
                    replication::check_limits(&merged, &self.clients.home_region, account)?;
                }
                self.write_replication(&merged, attempt, log).await?;
            }
            let now = ecr::replication(ecr).await?;
            if replication::includes(&now, add) && replication::excludes(&now, remove, add) {
                return Ok(now.rules.len());
            }
            log.warn(
                "replication configuration changed by another writer; merging again",
                json!({"attempt": attempt}),
            );
            tokio::time::sleep(self.settings.replication_settle * attempt).await;
        }
        Err(conflict(self.settings.replication_attempts))
    }
}

fn conflict(attempts: u32) -> ProviderError {
    ProviderError::ReplicationConflict(format!(
        "other writers kept changing the registry's replication configuration; gave up after \
         {attempts} attempts"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::{Filter, PREFIX_MATCH, ReplicationConfig, Rule};
    use serde_json::Map;

    #[test]
    fn only_a_change_that_adds_filters_is_checked_against_limits() {
        // A live configuration already over ECR's limits (101 filters in one rule).
        let live = ReplicationConfig {
            rules: vec![Rule {
                destinations: vec![replication::Destination {
                    region: "us-west-2".into(),
                    registry_id: "123456789012".into(),
                }],
                filters: (0..101)
                    .map(|i| Filter {
                        filter: format!("r{i}"),
                        filter_type: PREFIX_MATCH.into(),
                    })
                    .collect(),
            }],
        };
        assert!(!adds_filters(&live, &Desired::default()), "a Delete");
        let Value::Object(props) = json!({"Rules": [{"Destinations": [{"Region": "us-west-2"}], "RepositoryFilters": [{"Filter": "r7"}]}]})
        else {
            unreachable!()
        };
        let present = Desired::parse(&props, "123456789012").expect("parse");
        assert!(!adds_filters(&live, &present), "already there");
        let mut m = Map::new();
        m.insert(
            "Rules".into(),
            json!([{"Destinations": [{"Region": "us-west-2"}], "RepositoryFilters": [{"Filter": "new"}]}]),
        );
        let new = Desired::parse(&m, "123456789012").expect("parse");
        assert!(adds_filters(&live, &new));
    }
}
