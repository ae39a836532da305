//! Bytes in, the whole path out: parse, expand, the policy pack, emit YAML and JSON.
//! A panic anywhere is a crash; refusing the input is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((template, _)) = cib_engine::template::parse(data) else {
        return;
    };
    let options = cib_engine::ExpandOptions {
        region: Some("us-east-1".into()),
        ..Default::default()
    };
    let outcome = cib_engine::expand(&template, &options);
    let Some(expanded) = outcome.template else {
        return;
    };
    let _ = cib_policy::check(&expanded, &[]);
    let _ = cib_engine::template::to_yaml(&expanded);
    let _ = cib_engine::template::to_json(&expanded);
});
