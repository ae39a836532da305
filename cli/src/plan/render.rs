//! A plan as people read it (one line per image, then totals) and as JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::decide::{Action, Decision};

/// One image's line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The decision.
    pub decision: Decision,
    /// The CodeBuild compute type of its project, when known.
    pub compute_type: Option<String>,
    /// How long its previous build ran, in seconds, when there was one.
    pub last_build_seconds: Option<u64>,
}

/// The plan of one deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The stack.
    pub stack_name: String,
    /// Whether the stack exists already.
    pub stack_exists: bool,
    /// One entry per deployed image, in template order.
    pub images: Vec<Planned>,
}

impl Plan {
    /// How many images take `action`.
    pub fn count(&self, action: Action) -> usize {
        self.images
            .iter()
            .filter(|p| p.decision.action == action)
            .count()
    }

    /// Whether the deploy builds, or may build, an image (`--detailed-exitcode` 2).
    pub fn builds(&self) -> bool {
        self.count(Action::Build) + self.count(Action::Unknown) > 0
    }

    /// Images to build, by compute type (`unknown` when the project's is not known).
    pub fn builds_by_compute_type(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for p in self
            .images
            .iter()
            .filter(|p| p.decision.action == Action::Build)
        {
            let key = p
                .compute_type
                .clone()
                .unwrap_or_else(|| "unknown".to_owned());
            *m.entry(key).or_insert(0) += 1;
        }
        m
    }
}

/// The first 12 characters of a content-hash tag, the whole of a short one.
fn short(tag: &str) -> String {
    if tag.len() > 20 {
        format!(
            "{}…",
            &tag[..tag.char_indices().nth(12).map_or(tag.len(), |(i, _)| i)]
        )
    } else {
        tag.to_owned()
    }
}

/// `754` → `12m 34s`.
pub fn duration(seconds: u64) -> String {
    match (seconds / 3600, seconds / 60 % 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

/// The sum of the previous build times of the images to build, when any is known.
fn known_build_seconds(plan: &Plan) -> Option<u64> {
    let times: Vec<u64> = plan
        .images
        .iter()
        .filter(|p| p.decision.action == Action::Build)
        .filter_map(|p| p.last_build_seconds)
        .collect();
    (!times.is_empty()).then(|| times.iter().sum())
}

/// The plan as text.
pub fn text(plan: &Plan) -> String {
    let mut out = format!(
        "Image plan for stack {}{}: {} image(s)\n",
        plan.stack_name,
        if plan.stack_exists {
            ""
        } else {
            " (new stack)"
        },
        plan.images.len()
    );
    let width = plan
        .images
        .iter()
        .map(|p| p.decision.logical_id.len())
        .max()
        .unwrap_or(0);
    for p in &plan.images {
        let d = &p.decision;
        let tag = d
            .tag
            .as_deref()
            .map(short)
            .unwrap_or_else(|| "-".to_owned());
        let last = match (d.action, p.last_build_seconds) {
            (Action::Build, Some(s)) => format!(" (last build {})", duration(s)),
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {:<7} {:<width$}  {:<13} {}{last}\n",
            d.action.as_str(),
            d.logical_id,
            tag,
            d.reason
        ));
    }
    let by_type: Vec<String> = plan
        .builds_by_compute_type()
        .iter()
        .map(|(t, n)| format!("{n} on {t}"))
        .collect();
    out.push_str(&format!(
        "{} to build{}, {} to copy, {} to skip, {} unknown until deploy\n",
        plan.count(Action::Build),
        if by_type.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_type.join(", "))
        },
        plan.count(Action::Copy),
        plan.count(Action::Skip),
        plan.count(Action::Unknown),
    ));
    if let Some(total) = known_build_seconds(plan) {
        out.push_str(&format!(
            "previous builds of the images to build took {} in all\n",
            duration(total)
        ));
    }
    out
}

/// The plan as JSON: one object per image with `action`, `reason`, `tag`, `paths`.
pub fn json(plan: &Plan) -> Value {
    let images: Vec<Value> = plan
        .images
        .iter()
        .map(|p| {
            let d = &p.decision;
            json!({
                "logicalId": d.logical_id,
                "action": d.action.as_str(),
                "reason": d.reason,
                "tag": d.tag,
                "paths": d.paths,
                "computeType": p.compute_type,
                "lastBuildSeconds": p.last_build_seconds,
            })
        })
        .collect();
    json!({
        "stackName": plan.stack_name,
        "stackExists": plan.stack_exists,
        "images": images,
        "totals": {
            "build": plan.count(Action::Build),
            "copy": plan.count(Action::Copy),
            "skip": plan.count(Action::Skip),
            "unknown": plan.count(Action::Unknown),
            "buildByComputeType": plan.builds_by_compute_type(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(id: &str, action: Action, compute: &str) -> Planned {
        Planned {
            decision: Decision {
                logical_id: id.into(),
                action,
                reason: "why".into(),
                tag: Some("a".repeat(64)),
                paths: vec![],
            },
            compute_type: Some(compute.into()),
            last_build_seconds: Some(754),
        }
    }

    #[test]
    fn totals_count_builds_by_compute_type() {
        let plan = Plan {
            stack_name: "app".into(),
            stack_exists: true,
            images: vec![
                planned("A", Action::Build, "BUILD_GENERAL1_SMALL"),
                planned("B", Action::Build, "BUILD_GENERAL1_SMALL"),
                planned("C", Action::Skip, "BUILD_GENERAL1_LARGE"),
            ],
        };
        let t = text(&plan);
        assert!(
            t.contains("2 to build (2 on BUILD_GENERAL1_SMALL), 0 to copy, 1 to skip, 0 unknown until deploy\n"),
            "{t}"
        );
        assert!(
            t.contains("  build   A  aaaaaaaaaaaa… why (last build 12m 34s)"),
            "{t}"
        );
        assert!(t.ends_with("took 25m 08s in all\n"), "{t}");
        assert_eq!(duration(3 * 3600 + 120), "3h 02m");
        assert_eq!(duration(9), "9s");
        assert_eq!(
            json(&plan)["totals"]["buildByComputeType"]["BUILD_GENERAL1_SMALL"],
            2
        );
        assert!(plan.builds());
    }
}
