//! What a template is resolved against, from the deployed stack and the command line: the
//! parameter values an update would use, the pseudo parameters, the physical IDs.

use std::collections::BTreeMap;

use serde_json::Value;

pub use cib_trigger::stack_context::Deployed;
use cib_trigger::stack_context::StackPlace;

use super::resolve::Context;

/// Where the stack is.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// The stack's name.
    pub stack_name: &'a str,
    /// Its region.
    pub region: &'a str,
    /// The account (the stack id's, else the caller's).
    pub account: &'a str,
}

/// The pseudo parameters known before the deploy.
pub fn pseudo(place: &Place<'_>, deployed: Option<&Deployed>) -> BTreeMap<String, String> {
    let partition = cib_engine::partition::partition_of(place.region)
        .map_or("aws", |p| p.id)
        .to_owned();
    let suffix = cib_contract::dns_suffix(place.region);
    cib_trigger::stack_context::pseudo_parameters(StackPlace {
        region: place.region,
        account: place.account,
        stack_name: place.stack_name,
        partition: &partition,
        url_suffix: suffix,
        stack_id: deployed
            .map(|d| d.stack_id.as_str())
            .filter(|id| !id.is_empty()),
    })
}

/// The context for `template` at `place` (see [`cib_trigger::stack_context::context`]).
pub fn context(
    template: &Value,
    overrides: &BTreeMap<String, String>,
    place: &Place<'_>,
    deployed: Option<&Deployed>,
) -> Context {
    cib_trigger::stack_context::context(template, overrides, pseudo(place, deployed), deployed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_url_suffix_is_the_partition_s_own() {
        for (region, suffix) in [
            ("us-east-1", "amazonaws.com"),
            ("cn-north-1", "amazonaws.com.cn"),
            ("us-iso-east-1", "c2s.ic.gov"),
            ("us-isob-east-1", "sc2s.sgov.gov"),
        ] {
            let place = Place {
                stack_name: "s",
                region,
                account: "123456789012",
            };
            assert_eq!(pseudo(&place, None)["AWS::URLSuffix"], suffix, "{region}");
        }
    }

    #[test]
    fn overrides_then_the_stacks_values_then_defaults() {
        let template = json!({"Parameters": {
            "A": {"Type": "String", "Default": "da"},
            "B": {"Type": "String", "Default": "db"},
            "C": {"Type": "CommaDelimitedList", "Default": "x,y"},
            "D": {"Type": "String", "NoEcho": true},
            "E": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/p"}
        }});
        let deployed = Deployed {
            stack_id: "arn:aws:cloudformation:us-east-1:1:stack/s/u".into(),
            parameters: [("B", "sb"), ("D", "****"), ("A", "sa")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            physical_ids: BTreeMap::new(),
        };
        let overrides = [("A".to_owned(), "oa".to_owned())].into_iter().collect();
        let place = Place {
            stack_name: "s",
            region: "cn-north-1",
            account: "1",
        };
        let ctx = context(&template, &overrides, &place, Some(&deployed));
        assert_eq!(ctx.parameters.get("A"), Some(&json!("oa")));
        assert_eq!(ctx.parameters.get("B"), Some(&json!("sb")));
        assert_eq!(ctx.parameters.get("C"), Some(&json!(["x", "y"])));
        assert!(ctx.unknown_parameters.contains_key("D"));
        assert!(ctx.unknown_parameters.contains_key("E"));
        assert_eq!(ctx.pseudo["AWS::Partition"], "aws-cn");
        assert_eq!(ctx.pseudo["AWS::StackId"], deployed.stack_id);
    }
}
