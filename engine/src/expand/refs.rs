//! Points `Ref <image>` and `${<image>}` at the image's `ImageUri`.
//!
//! The trigger's physical ID stays the same for its whole life, so a plain `Ref` to it
//! would never change with the image; users mean the image URI.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// Rewrites every `Ref` to an image and every `${image}` inside `Fn::Sub` in `value`.
pub fn rewrite(value: &mut Value, images: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(target)) = map.get("Ref")
                    && images.contains(target)
                {
                    *value = json!({"Fn::GetAtt": [target.clone(), "ImageUri"]});
                    return;
                }
                if let Some(sub) = map.get_mut("Fn::Sub") {
                    rewrite_sub(sub, images);
                    return;
                }
            }
            for child in map.values_mut() {
                rewrite(child, images);
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite(item, images);
            }
        }
        _ => {}
    }
}

fn rewrite_sub(sub: &mut Value, images: &BTreeSet<String>) {
    match sub {
        Value::String(text) => *text = rewrite_sub_text(text, images, &Map::new()),
        Value::Array(items) => {
            let variables = match items.get(1) {
                Some(Value::Object(vars)) => vars.clone(),
                _ => Map::new(),
            };
            if let Some(Value::String(text)) = items.first_mut() {
                *text = rewrite_sub_text(text, images, &variables);
            }
            if let Some(vars) = items.get_mut(1) {
                rewrite(vars, images);
            }
        }
        other => rewrite(other, images),
    }
}

/// Replaces `${X}` by `${X.ImageUri}` for each image `X` that is not a local variable;
/// `${!X}` (a literal) is left alone.
fn rewrite_sub_text(
    text: &str,
    images: &BTreeSet<String>,
    variables: &Map<String, Value>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let body_start = &after[2..];
        match body_start.find('}') {
            Some(end) => {
                let name = &body_start[..end];
                if images.contains(name) && !variables.contains_key(name) {
                    out.push_str("${");
                    out.push_str(name);
                    out.push_str(".ImageUri}");
                } else {
                    out.push_str(&after[..end + 3]);
                }
                rest = &body_start[end + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> BTreeSet<String> {
        ["Api".to_owned()].into_iter().collect()
    }

    #[test]
    fn ref_to_an_image_becomes_its_image_uri() {
        let mut v = json!({"Image": {"Ref": "Api"}, "Other": {"Ref": "Bucket"}});
        rewrite(&mut v, &images());
        assert_eq!(
            v,
            json!({"Image": {"Fn::GetAtt": ["Api", "ImageUri"]}, "Other": {"Ref": "Bucket"}})
        );
    }

    #[test]
    fn sub_placeholders_are_rewritten_but_literals_and_locals_are_not() {
        let mut v = json!({"Fn::Sub": "${Api}|${!Api}|${Api.ImageDigest}|${Apix}"});
        rewrite(&mut v, &images());
        assert_eq!(
            v,
            json!({"Fn::Sub": "${Api.ImageUri}|${!Api}|${Api.ImageDigest}|${Apix}"})
        );
        let mut v = json!({"Fn::Sub": ["${Api}-${X}", {"Api": "local", "X": {"Ref": "Api"}}]});
        rewrite(&mut v, &images());
        assert_eq!(
            v,
            json!({"Fn::Sub": ["${Api}-${X}", {"Api": "local", "X": {"Fn::GetAtt": ["Api", "ImageUri"]}}]})
        );
    }

    #[test]
    fn unterminated_placeholder_is_kept() {
        let mut v = json!({"Fn::Sub": "a ${Api"});
        rewrite(&mut v, &images());
        assert_eq!(v, json!({"Fn::Sub": "a ${Api"}));
    }
}
