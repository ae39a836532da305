//! Who is asking: the request's stack and resource as CloudFormation itself records them.
//!
//! A custom-resource request carries no signature, and every principal that deploys a stack
//! may invoke the provider with an event it wrote. So before anything else the provider asks
//! CloudFormation (`DescribeStackResource` on the request's `StackId` and
//! `LogicalResourceId`) and requires: the stack exists under exactly that id, in the
//! provider's own region; the resource has the request's type; it is in the
//! `*_IN_PROGRESS` state of the request (CloudFormation shows a custom resource so while it
//! waits for the answer); and on Update and Delete it has the request's physical id. Pure:
//! the caller makes the call.

use crate::aws::cloudformation::StackResource;
use crate::event::{CfnRequest, RequestType};

/// The parts of a stack ARN: `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackArn {
    /// The partition, e.g. `aws`.
    pub partition: String,
    /// The region.
    pub region: String,
    /// The account id.
    pub account: String,
    /// The stack's name.
    pub name: String,
}

/// Parses a stack ARN; `None` for anything else.
pub fn parse_stack_arn(stack_id: &str) -> Option<StackArn> {
    let cib_contract::ArnFields {
        partition,
        service,
        region,
        account,
        resource,
    } = cib_contract::arn_fields(stack_id)?;
    let mut path = resource.splitn(3, '/');
    let (kind, name, id) = (path.next()?, path.next()?, path.next()?);
    let well_formed = partition.starts_with("aws")
        && service == "cloudformation"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && kind == "stack"
        && !name.is_empty()
        && !id.is_empty();
    well_formed.then(|| StackArn {
        partition: partition.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        name: name.to_string(),
    })
}

/// The resource status CloudFormation shows while it waits for the answer to a request of
/// this type (an update rollback sends an Update, and shows `UPDATE_IN_PROGRESS` too).
pub fn status_while_waiting(request_type: RequestType) -> &'static str {
    match request_type {
        RequestType::Create => "CREATE_IN_PROGRESS",
        RequestType::Update => "UPDATE_IN_PROGRESS",
        RequestType::Delete => "DELETE_IN_PROGRESS",
    }
}

/// `Ok` when `found` (what `DescribeStackResource` answered; `None` when the stack or the
/// resource does not exist) confirms `request`, made to a provider in `home_region`;
/// otherwise why not.
pub fn judge(
    request: &CfnRequest,
    found: Option<&StackResource>,
    home_region: &str,
) -> Result<StackArn, String> {
    let stack = parse_stack_arn(&request.stack_id)
        .ok_or_else(|| format!("StackId `{}` is not a stack ARN", request.stack_id))?;
    if stack.region != home_region {
        return Err(format!(
            "StackId names region {}, but this provider serves {home_region} only",
            stack.region
        ));
    }
    let found = found.ok_or_else(|| {
        format!(
            "CloudFormation has no resource {} in stack {}",
            request.logical_resource_id, request.stack_id
        )
    })?;
    if found.stack_id != request.stack_id {
        return Err(format!(
            "the stack's id is {}, not {}",
            found.stack_id, request.stack_id
        ));
    }
    if found.resource_type != request.resource_type {
        return Err(format!(
            "resource {} is a {} in the stack, not a {}",
            request.logical_resource_id, found.resource_type, request.resource_type
        ));
    }
    let waiting = status_while_waiting(request.request_type);
    if found.status != waiting {
        return Err(format!(
            "resource {} is {}, not {waiting}: CloudFormation is not waiting for this answer",
            request.logical_resource_id, found.status
        ));
    }
    if request.request_type != RequestType::Create && !found.physical_id.is_empty() {
        let asked = request.physical_resource_id.as_deref().unwrap_or_default();
        if asked != found.physical_id {
            return Err(format!(
                "PhysicalResourceId `{asked}` is not the resource's ({})",
                found.physical_id
            ));
        }
    }
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_request::tests::request;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f3e8c10-1234-11ef-9d3a-0a1b2c3d4e5f";

    fn asked(request_type: RequestType) -> CfnRequest {
        let mut r = request();
        r.stack_id = STACK.into();
        r.request_type = request_type;
        if request_type != RequestType::Create {
            r.physical_resource_id = Some("Api-0123".into());
        }
        r
    }

    fn recorded(status: &str) -> StackResource {
        StackResource {
            stack_id: STACK.into(),
            resource_type: "Custom::ContainerImageBuild".into(),
            status: status.into(),
            physical_id: "Api-0123".into(),
        }
    }

    #[test]
    fn the_resource_cloudformation_waits_for_is_confirmed() {
        for (t, status) in [
            (RequestType::Create, "CREATE_IN_PROGRESS"),
            (RequestType::Update, "UPDATE_IN_PROGRESS"),
            (RequestType::Delete, "DELETE_IN_PROGRESS"),
        ] {
            let stack = judge(&asked(t), Some(&recorded(status)), "us-east-1").expect("confirmed");
            assert_eq!(stack.account, "123456789012");
            assert_eq!(stack.name, "app");
        }
    }

    #[test]
    fn anything_cloudformation_does_not_confirm_is_refused() {
        let update = asked(RequestType::Update);
        let not_waiting = judge(&update, Some(&recorded("UPDATE_COMPLETE")), "us-east-1");
        assert!(
            not_waiting
                .expect_err("done")
                .contains("not UPDATE_IN_PROGRESS")
        );
        let missing = judge(&update, None, "us-east-1");
        assert!(missing.expect_err("missing").contains("has no resource"));
        let mut other_type = recorded("UPDATE_IN_PROGRESS");
        other_type.resource_type = "AWS::ECR::Repository".into();
        assert!(judge(&update, Some(&other_type), "us-east-1").is_err());
        let mut other_physical = recorded("UPDATE_IN_PROGRESS");
        other_physical.physical_id = "Api-9999".into();
        assert!(
            judge(&update, Some(&other_physical), "us-east-1")
                .expect_err("physical")
                .contains("PhysicalResourceId")
        );
        let mut other_stack = recorded("UPDATE_IN_PROGRESS");
        other_stack.stack_id = STACK.replace("0f3e8c10", "99999999");
        assert!(judge(&update, Some(&other_stack), "us-east-1").is_err());
        assert!(
            judge(&update, Some(&recorded("UPDATE_IN_PROGRESS")), "eu-west-1")
                .expect_err("region")
                .contains("serves eu-west-1")
        );
        let mut not_arn = update.clone();
        not_arn.stack_id = "app".into();
        assert!(judge(&not_arn, Some(&recorded("UPDATE_IN_PROGRESS")), "us-east-1").is_err());
    }

    #[test]
    fn stack_arns_are_parsed_strictly() {
        assert!(parse_stack_arn(STACK).is_some());
        let cn = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/a/b";
        assert_eq!(
            parse_stack_arn(cn).map(|s| s.partition),
            Some("aws-cn".into())
        );
        for bad in [
            "arn:aws:cloudformation:us-east-1:123456789012:stackset/a/b",
            "arn:aws:s3:us-east-1:123456789012:stack/a/b",
            "arn:aws:cloudformation:us-east-1:12345:stack/a/b",
            "arn:aws:cloudformation:us-east-1:123456789012:stack/a",
            "",
        ] {
            assert_eq!(parse_stack_arn(bad), None, "{bad}");
        }
    }
}
