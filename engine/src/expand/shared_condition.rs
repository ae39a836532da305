//! Shared resources follow the conditions of the images that use them.
//!
//! A project, the build role, the template's log group, the cache repository and the
//! replication resource serve several images. When every image that uses one of them is
//! behind a `Condition`, the shared resource is too: the image's condition when they all
//! share one, else a condition of our own (`<resource id>Used`) that is the `Fn::Or` of
//! theirs. `Fn::Or` takes two to ten conditions (CloudFormation user guide, condition
//! functions), so more are nested in groups of ten. A stack whose images are all switched
//! off then creates none of them. One image without a condition keeps the resource
//! unconditional.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::spec::ImageSpec;

/// Most conditions one `Fn::Or` takes.
pub const FN_OR_MAX: usize = 10;

/// The conditions of the template's shared resources, collected while they are written.
#[derive(Debug, Default)]
pub struct SharedConditions {
    /// Conditions of our own, by name.
    added: Map<String, Value>,
    /// The name already given to a set of image conditions.
    by_set: BTreeMap<Vec<String>, String>,
    /// The template's own condition names, which ours never take.
    taken: BTreeSet<String>,
}

impl SharedConditions {
    /// Conditions for a template whose `Conditions` section is `existing` (their names are
    /// never reused).
    pub fn new(existing: Option<&Value>) -> SharedConditions {
        SharedConditions {
            taken: existing
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            ..SharedConditions::default()
        }
    }

    /// The condition the shared resource `id` takes when `users` use it: `None` when one
    /// of them has no condition (or a condition that is not a name) or nothing uses it.
    pub fn for_users<'a>(
        &mut self,
        id: &str,
        users: impl IntoIterator<Item = &'a ImageSpec>,
    ) -> Option<String> {
        let mut names = Vec::new();
        for image in users {
            names.push(image.condition_name()?.to_owned());
        }
        names.sort();
        names.dedup();
        match names.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            _ => {
                if let Some(name) = self.by_set.get(&names) {
                    return Some(name.clone());
                }
                let mut name = format!("{id}Used");
                while self.taken.contains(&name) {
                    name.push('X');
                }
                self.added.insert(name.clone(), any_of(&names));
                self.by_set.insert(names, name.clone());
                Some(name)
            }
        }
    }

    /// Adds the conditions of our own to `template`'s `Conditions` section.
    pub fn write(self, template: &mut Map<String, Value>) {
        if self.added.is_empty() {
            return;
        }
        let section = template
            .entry("Conditions")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(conditions) = section.as_object_mut() {
            conditions.extend(self.added);
        }
    }
}

/// Sets `resource`'s `Condition` when it has one.
pub fn apply(resource: &mut Map<String, Value>, condition: Option<&String>) {
    if let Some(name) = condition {
        resource.insert("Condition".into(), json!(name));
    }
}

/// A condition true when any of `names` is (at least two names), as nested `Fn::Or`s of at
/// most [`FN_OR_MAX`] items each.
fn any_of(names: &[String]) -> Value {
    let mut items: Vec<Value> = names.iter().map(|n| json!({"Condition": n})).collect();
    while items.len() > FN_OR_MAX {
        items = items
            .chunks(FN_OR_MAX)
            .map(|chunk| match chunk {
                [one] => one.clone(),
                many => json!({"Fn::Or": many}),
            })
            .collect();
    }
    json!({"Fn::Or": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("C{i}")).collect()
    }

    fn depth_and_widths(v: &Value, out: &mut Vec<usize>) {
        if let Some(items) = v.get("Fn::Or").and_then(Value::as_array) {
            out.push(items.len());
            for item in items {
                depth_and_widths(item, out);
            }
        }
    }

    #[test]
    fn every_or_takes_two_to_ten_conditions() {
        for n in [2, 10, 11, 21, 100, 101, 1000] {
            let mut widths = Vec::new();
            depth_and_widths(&any_of(&names(n)), &mut widths);
            assert!(
                widths.iter().all(|w| (2..=FN_OR_MAX).contains(w)),
                "{n}: {widths:?}"
            );
            let text = any_of(&names(n)).to_string();
            let leaves = text.matches("\"Condition\"").count();
            assert_eq!(leaves, n, "every condition appears once");
        }
    }
}
