//! CloudFormation's side of a request, played with moto's real stacks.
//!
//! moto keeps real stacks (templates, parameters, physical IDs, `DescribeStackResource`),
//! but not the state a stack is in while CloudFormation waits for a custom resource: it
//! reports the stack's status as every resource's, a custom resource it created stays
//! `CREATE_IN_PROGRESS` (its Lambda never runs, so it never records the physical id the
//! provider answered), and a stack update that changes a custom resource loses the resource.
//!
//! So a test plays each request CloudFormation would send with a fresh moto stack whose
//! template holds the resource as the request's stack would, and declares two things moto
//! cannot know ([`super::StrictProxy::play_stack`], [`super::StrictProxy::set_resource_state`]):
//! which moto stack stands for the request's stack id (so a stack keeps its id across its
//! requests, as in AWS), the resource's status and physical id while CloudFormation waits,
//! and the stack's own status (an update rollback). The proxy sends the stack's CloudFormation calls to that moto stack and writes the
//! request's stack id, the declared status and physical id into moto's answers. Everything
//! else comes from moto unchanged.

use std::collections::BTreeMap;

/// What a test declared about the stacks it plays.
#[derive(Debug, Clone, Default)]
pub struct Played {
    /// A stack id as requests name it, to the moto stack that plays it.
    pub stacks: BTreeMap<String, String>,
    /// (stack id, logical id) to (status, physical id).
    pub resources: BTreeMap<(String, String), (String, Option<String>)>,
    /// A stack id to the stack's status (`UPDATE_ROLLBACK_IN_PROGRESS`, ...).
    pub stack_status: BTreeMap<String, String>,
}

/// The form fields of a Query-protocol request body.
pub fn form(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The stack name in a stack ARN (`arn:...:stack/<name>/<id>`).
fn stack_name(stack_id: &str) -> Option<&str> {
    stack_id.split('/').nth(1)
}

/// The request body to forward: `StackName` pointed at the moto stack that plays it, when a
/// test declared one.
pub fn request_body(fields: &BTreeMap<String, String>, played: &Played) -> Option<Vec<u8>> {
    let moto = played.stacks.get(fields.get("StackName")?)?;
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        out.append_pair(k, if k == "StackName" { moto } else { v });
    }
    Some(out.finish().into_bytes())
}

/// moto's answer as CloudFormation would give it for the played stack: its id and name
/// instead of the moto stack's, and for `DescribeStackResource` the declared status and
/// physical id. `None` when nothing was declared for the request's stack.
pub fn answer(fields: &BTreeMap<String, String>, text: &str, played: &Played) -> Option<String> {
    let asked = fields.get("StackName")?;
    let moto = played.stacks.get(asked)?;
    let mut text = text.replace(moto.as_str(), asked);
    if let (Some(m), Some(a)) = (stack_name(moto), stack_name(asked)) {
        text = text.replace(
            &format!("<StackName>{m}</StackName>"),
            &format!("<StackName>{a}</StackName>"),
        );
    }
    if fields.get("Action").map(String::as_str) == Some("DescribeStacks")
        && let Some(status) = played.stack_status.get(asked)
    {
        text = replace_element(&text, "StackStatus", status);
    }
    if fields.get("Action").map(String::as_str) == Some("DescribeStackResource") {
        let key = (asked.clone(), fields.get("LogicalResourceId")?.clone());
        if let Some((status, physical)) = played.resources.get(&key) {
            text = replace_element(&text, "ResourceStatus", status);
            if let Some(physical) = physical {
                text = replace_element(&text, "PhysicalResourceId", physical);
            }
        }
    }
    Some(text)
}

fn replace_element(text: &str, name: &str, value: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let Some(start) = text.find(&open).map(|i| i + open.len()) else {
        return text.to_string();
    };
    let Some(end) = text[start..].find(&close).map(|i| start + i) else {
        return text.to_string();
    };
    format!("{}{value}{}", &text[..start], &text[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKED: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111";
    const MOTO: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/cib-play-3/abcd";

    fn played() -> Played {
        Played {
            stacks: BTreeMap::from([(ASKED.to_string(), MOTO.to_string())]),
            resources: BTreeMap::from([(
                (ASKED.to_string(), "Api".to_string()),
                (
                    "UPDATE_IN_PROGRESS".to_string(),
                    Some("Api-0123".to_string()),
                ),
            )]),
            stack_status: BTreeMap::from([(
                ASKED.to_string(),
                "UPDATE_ROLLBACK_IN_PROGRESS".to_string(),
            )]),
        }
    }

    #[test]
    fn the_played_stack_answers_under_the_requested_id() {
        let fields = form(
            format!(
                "Action=DescribeStackResource&StackName={}&LogicalResourceId=Api",
                ASKED.replace(':', "%3A").replace('/', "%2F")
            )
            .as_bytes(),
        );
        let forwarded = form(&request_body(&fields, &played()).expect("played"));
        assert_eq!(forwarded["StackName"], MOTO);
        let moto_answer = format!(
            "<R><StackId>{MOTO}</StackId><StackName>cib-play-3</StackName>\
             <PhysicalResourceId>cib-play-3-Api-XYZ</PhysicalResourceId>\
             <ResourceStatus>CREATE_IN_PROGRESS</ResourceStatus></R>"
        );
        let text = answer(&fields, &moto_answer, &played()).expect("rewritten");
        assert!(
            text.contains(&format!("<StackId>{ASKED}</StackId>")),
            "{text}"
        );
        assert!(text.contains("<StackName>app</StackName>"), "{text}");
        assert!(text.contains("<ResourceStatus>UPDATE_IN_PROGRESS</ResourceStatus>"));
        assert!(text.contains("<PhysicalResourceId>Api-0123</PhysicalResourceId>"));
    }

    #[test]
    fn a_declared_stack_status_is_what_describe_stacks_says() {
        let fields = form(
            format!(
                "Action=DescribeStacks&StackName={}",
                ASKED.replace(':', "%3A").replace('/', "%2F")
            )
            .as_bytes(),
        );
        let text = answer(
            &fields,
            "<S><StackStatus>CREATE_IN_PROGRESS</StackStatus></S>",
            &played(),
        )
        .expect("rewritten");
        assert!(text.contains("<StackStatus>UPDATE_ROLLBACK_IN_PROGRESS</StackStatus>"));
    }

    #[test]
    fn undeclared_stacks_pass_unchanged() {
        let fields = form(b"Action=DescribeStacks&StackName=other");
        assert_eq!(request_body(&fields, &played()), None);
        assert_eq!(answer(&fields, "<x/>", &played()), None);
    }
}
