//! Recognising CloudFormation intrinsic functions in long form.

use serde_json::Value;

/// The function name when `value` is an intrinsic function call (`{"Ref": ..}`,
/// `{"Fn::X": ..}` or `{"Condition": ..}` with exactly one key).
pub fn function_name(value: &Value) -> Option<&str> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let key = map.keys().next()?;
    (key == "Ref" || key == "Condition" || key.starts_with("Fn::")).then_some(key.as_str())
}

/// True when `value` is an intrinsic function call.
pub fn is_intrinsic(value: &Value) -> bool {
    function_name(value).is_some()
}

/// The target of a `{"Ref": "X"}`.
pub fn ref_target(value: &Value) -> Option<&str> {
    value
        .as_object()?
        .get("Ref")?
        .as_str()
        .filter(|_| is_intrinsic(value))
}

/// The logical ID and attribute of a `Fn::GetAtt`, in list or dotted form.
pub fn get_att_target(value: &Value) -> Option<(&str, &str)> {
    if !is_intrinsic(value) {
        return None;
    }
    match value.as_object()?.get("Fn::GetAtt")? {
        Value::Array(items) => match items.as_slice() {
            [Value::String(id), Value::String(attr)] => Some((id, attr)),
            _ => None,
        },
        Value::String(dotted) => dotted.split_once('.'),
        _ => None,
    }
}
