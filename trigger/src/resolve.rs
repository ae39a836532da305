//! CloudFormation's intrinsic functions, evaluated with what is known outside
//! CloudFormation: parameter values, pseudo parameters, the physical IDs of the stack's
//! resources and the attributes the caller can derive. `cib plan` resolves a template before
//! a deploy with it; the provider resolves the stack's own template during one, to confirm
//! what a request says.
//!
//! A value only CloudFormation knows (an attribute of a resource, a resource a deploy
//! creates, an SSM parameter, an import) becomes an *unknown*: a placeholder string standing
//! for it, with its [`Cause`]. A function applied to an unknown is unknown with the same
//! cause, so the placeholder is always a whole value, never part of a string. Pure: no I/O.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Why a value is known only during the deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The intrinsic as written, e.g. `Fn::GetAtt Queue.Arn`.
    pub intrinsic: String,
    /// Why it cannot be known before the deploy.
    pub why: String,
}

/// What a template is resolved against.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Parameter values: a string, or a list for list-typed parameters. A parameter missing
    /// here is unknown (its cause in `unknown_parameters`, else "no value").
    pub parameters: BTreeMap<String, Value>,
    /// Why some parameters have no value before the deploy (NoEcho, SSM types).
    pub unknown_parameters: BTreeMap<String, String>,
    /// Pseudo parameters (`AWS::Region`, ...) known before the deploy.
    pub pseudo: BTreeMap<String, String>,
    /// Physical IDs of the deployed stack's resources.
    pub physical_ids: BTreeMap<String, String>,
    /// Predicted attributes: (logical id, attribute) to value.
    pub attributes: BTreeMap<(String, String), Value>,
}

/// The prefix of a placeholder string; no template value starts with a NUL character.
const MARK: &str = "\u{0}cib-unknown:";

/// Evaluates intrinsics of one template; collects the causes of the unknowns it makes.
#[derive(Debug)]
pub struct Resolver<'a> {
    ctx: &'a Context,
    template: &'a Value,
    causes: Vec<Cause>,
}

/// The placeholder's index, when `v` is one.
pub fn placeholder(v: &Value) -> Option<usize> {
    v.as_str()?.strip_prefix(MARK)?.parse().ok()
}

impl<'a> Resolver<'a> {
    /// A resolver for `template` (long-form JSON) under `ctx`.
    pub fn new(template: &'a Value, ctx: &'a Context) -> Self {
        Resolver {
            ctx,
            template,
            causes: Vec::new(),
        }
    }

    /// The cause of placeholder `index`.
    pub fn cause(&self, index: usize) -> Option<&Cause> {
        self.causes.get(index)
    }

    fn unknown(&mut self, intrinsic: impl Into<String>, why: impl Into<String>) -> Value {
        self.causes.push(Cause {
            intrinsic: intrinsic.into(),
            why: why.into(),
        });
        Value::String(format!("{MARK}{}", self.causes.len() - 1))
    }

    /// Resolves `v`; `None` is `AWS::NoValue` (the key or item disappears).
    pub fn resolve(&mut self, v: &Value) -> Option<Value> {
        match v {
            Value::Object(m) if m.len() == 1 => {
                let (key, arg) = m.iter().next()?;
                if key == "Ref" || key.starts_with("Fn::") {
                    return self.intrinsic(key, arg);
                }
                self.object(m)
            }
            Value::Object(m) => self.object(m),
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|i| self.resolve(i)).collect(),
            )),
            other => Some(other.clone()),
        }
    }

    fn object(&mut self, m: &Map<String, Value>) -> Option<Value> {
        let mut out = Map::new();
        for (k, v) in m {
            if let Some(r) = self.resolve(v) {
                out.insert(k.clone(), r);
            }
        }
        Some(Value::Object(out))
    }

    fn intrinsic(&mut self, key: &str, arg: &Value) -> Option<Value> {
        match key {
            "Ref" => self.reference(arg),
            "Fn::GetAtt" => Some(self.get_att(arg)),
            "Fn::Sub" => Some(self.sub(arg)),
            "Fn::Join" => Some(self.join(arg)),
            "Fn::Select" => Some(self.select(arg)),
            "Fn::Split" => Some(self.split(arg)),
            "Fn::If" => self.fn_if(arg),
            "Fn::FindInMap" => Some(self.find_in_map(arg)),
            other => Some(self.unknown(other.to_owned(), "not evaluated before the deploy")),
        }
    }

    fn reference(&mut self, arg: &Value) -> Option<Value> {
        let name = match self.resolve(arg) {
            Some(Value::String(s)) if placeholder(&Value::String(s.clone())).is_none() => s,
            Some(p) if placeholder(&p).is_some() => return Some(p),
            _ => return Some(self.unknown("Ref", "its argument is not a name")),
        };
        if name == "AWS::NoValue" {
            return None;
        }
        let intrinsic = format!("Ref {name}");
        if let Some(v) = self.ctx.parameters.get(&name) {
            return Some(v.clone());
        }
        if self.declared("Parameters", &name) {
            let why = self
                .ctx
                .unknown_parameters
                .get(&name)
                .cloned()
                .unwrap_or_else(|| "the parameter has no value before the deploy".to_owned());
            return Some(self.unknown(intrinsic, why));
        }
        if let Some(v) = self.ctx.pseudo.get(&name) {
            return Some(Value::String(v.clone()));
        }
        if name.starts_with("AWS::") {
            return Some(self.unknown(intrinsic, "the stack does not exist yet"));
        }
        if let Some(id) = self.ctx.physical_ids.get(&name) {
            return Some(Value::String(id.clone()));
        }
        if self.declared("Resources", &name) {
            return Some(self.unknown(intrinsic, format!("{name} is created by this deploy")));
        }
        Some(self.unknown(intrinsic, "names no parameter or resource"))
    }

    fn declared(&self, section: &str, name: &str) -> bool {
        self.template
            .get(section)
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(name))
    }

    fn get_att(&mut self, arg: &Value) -> Value {
        let (resource, attribute) = match arg {
            Value::String(s) => match s.split_once('.') {
                Some((r, a)) => (r.to_owned(), Value::String(a.to_owned())),
                None => return self.unknown(format!("Fn::GetAtt {s}"), "malformed"),
            },
            Value::Array(items) if items.len() == 2 => match (&items[0], &items[1]) {
                (Value::String(r), a) => (r.clone(), a.clone()),
                _ => return self.unknown("Fn::GetAtt", "malformed"),
            },
            _ => return self.unknown("Fn::GetAtt", "malformed"),
        };
        let attribute = match self.resolve(&attribute) {
            Some(Value::String(a)) if placeholder(&Value::String(a.clone())).is_none() => a,
            _ => {
                return self.unknown(
                    format!("Fn::GetAtt {resource}"),
                    "its attribute name is not known before the deploy",
                );
            }
        };
        self.attribute(&resource, &attribute)
    }

    fn attribute(&mut self, resource: &str, attribute: &str) -> Value {
        let key = (resource.to_owned(), attribute.to_owned());
        if let Some(v) = self.ctx.attributes.get(&key) {
            return v.clone();
        }
        let why = if self.ctx.physical_ids.contains_key(resource) {
            "an attribute CloudFormation reports only during the deploy"
        } else {
            "an attribute of a resource this deploy creates"
        };
        self.unknown(format!("Fn::GetAtt {resource}.{attribute}"), why)
    }

    fn text(&mut self, v: &Value, what: &str) -> Result<String, Value> {
        match self.resolve(v) {
            Some(r) if placeholder(&r).is_some() => Err(r),
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            _ => Err(self.unknown(what.to_owned(), "an argument is not a string")),
        }
    }

    fn list(&mut self, v: &Value, what: &str) -> Result<Vec<Value>, Value> {
        match self.resolve(v) {
            Some(r) if placeholder(&r).is_some() => Err(r),
            Some(Value::Array(items)) => Ok(items),
            _ => Err(self.unknown(what.to_owned(), "an argument is not a list")),
        }
    }

    fn sub(&mut self, arg: &Value) -> Value {
        let (text, vars) = match arg {
            Value::String(s) => (s.clone(), Map::new()),
            Value::Array(items) if items.len() == 2 => match (&items[0], &items[1]) {
                (Value::String(s), Value::Object(vars)) => (s.clone(), vars.clone()),
                _ => return self.unknown("Fn::Sub", "malformed"),
            },
            _ => return self.unknown("Fn::Sub", "malformed"),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match vars.get(name) {
                Some(v) => self.text(v, &format!("Fn::Sub ${{{name}}}")),
                None => match name.split_once('.') {
                    Some((r, a)) if !name.starts_with("AWS::") => {
                        let v = self.attribute(r, a);
                        self.text(&v, &format!("Fn::Sub ${{{name}}}"))
                    }
                    _ => self.text(
                        &serde_json::json!({"Ref": name}),
                        &format!("Fn::Sub ${{{name}}}"),
                    ),
                },
            };
            match value {
                Ok(s) => out.push_str(&s),
                Err(unknown) => return unknown,
            }
        }
        out.push_str(rest);
        Value::String(out)
    }

    fn join(&mut self, arg: &Value) -> Value {
        let Some([delimiter, items]) = arg.as_array().map(Vec::as_slice).and_then(pair) else {
            return self.unknown("Fn::Join", "malformed");
        };
        let delimiter = match self.text(delimiter, "Fn::Join") {
            Ok(d) => d,
            Err(u) => return u,
        };
        let items = match self.list(items, "Fn::Join") {
            Ok(i) => i,
            Err(u) => return u,
        };
        let mut parts = Vec::new();
        for item in &items {
            match self.text(item, "Fn::Join") {
                Ok(s) => parts.push(s),
                Err(u) => return u,
            }
        }
        Value::String(parts.join(&delimiter))
    }

    fn select(&mut self, arg: &Value) -> Value {
        let Some([index, items]) = arg.as_array().map(Vec::as_slice).and_then(pair) else {
            return self.unknown("Fn::Select", "malformed");
        };
        let index = match self.text(index, "Fn::Select") {
            Ok(i) => i,
            Err(u) => return u,
        };
        let items = match self.list(items, "Fn::Select") {
            Ok(i) => i,
            Err(u) => return u,
        };
        match index
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|i| items.get(i))
        {
            Some(v) => v.clone(),
            None => self.unknown("Fn::Select", format!("index {index} is out of range")),
        }
    }

    fn split(&mut self, arg: &Value) -> Value {
        let Some([delimiter, source]) = arg.as_array().map(Vec::as_slice).and_then(pair) else {
            return self.unknown("Fn::Split", "malformed");
        };
        let delimiter = match self.text(delimiter, "Fn::Split") {
            Ok(d) if !d.is_empty() => d,
            Ok(_) => return self.unknown("Fn::Split", "empty delimiter"),
            Err(u) => return u,
        };
        match self.text(source, "Fn::Split") {
            Ok(s) => Value::Array(
                s.split(delimiter.as_str())
                    .map(|p| Value::String(p.to_owned()))
                    .collect(),
            ),
            Err(u) => u,
        }
    }

    fn fn_if(&mut self, arg: &Value) -> Option<Value> {
        let items = arg.as_array().filter(|a| a.len() == 3);
        let Some(items) = items else {
            return Some(self.unknown("Fn::If", "malformed"));
        };
        let Some(name) = items[0].as_str() else {
            return Some(self.unknown("Fn::If", "malformed"));
        };
        match self.condition(name, 0) {
            Ok(true) => self.resolve(&items[1]),
            Ok(false) => self.resolve(&items[2]),
            Err(cause) => Some(self.unknown(
                format!("Fn::If {name}"),
                format!("the condition depends on {}", cause.intrinsic),
            )),
        }
    }

    /// Evaluates the template's condition `name`; an error carries the cause of an
    /// unknown it depends on.
    pub fn condition(&mut self, name: &str, depth: usize) -> Result<bool, Cause> {
        let body = self
            .template
            .get("Conditions")
            .and_then(|c| c.get(name))
            .cloned();
        match body {
            Some(b) if depth < 32 => self.truth(&b, depth + 1),
            _ => Err(Cause {
                intrinsic: format!("Condition {name}"),
                why: "not a condition of the template".to_owned(),
            }),
        }
    }

    fn truth(&mut self, v: &Value, depth: usize) -> Result<bool, Cause> {
        let malformed = || Cause {
            intrinsic: "a condition".to_owned(),
            why: "malformed".to_owned(),
        };
        let Some((key, arg)) = v
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next())
        else {
            return match v {
                Value::Bool(b) => Ok(*b),
                _ => Err(malformed()),
            };
        };
        let args = || arg.as_array().cloned().unwrap_or_default();
        match key.as_str() {
            "Condition" => self.condition(arg.as_str().ok_or_else(malformed)?, depth),
            "Fn::Not" => Ok(!self.truth(args().first().ok_or_else(malformed)?, depth)?),
            "Fn::And" => {
                for a in args() {
                    if !self.truth(&a, depth)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for a in args() {
                    if self.truth(&a, depth)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            "Fn::Equals" => {
                let a = args();
                let [x, y] = a.as_slice() else {
                    return Err(malformed());
                };
                let x = self.resolve(x).unwrap_or(Value::Null);
                let y = self.resolve(y).unwrap_or(Value::Null);
                for side in [&x, &y] {
                    if let Some(i) = placeholder(side) {
                        return Err(self.causes.get(i).cloned().unwrap_or_else(malformed));
                    }
                }
                Ok(scalar_text(&x) == scalar_text(&y))
            }
            _ => Err(malformed()),
        }
    }

    fn find_in_map(&mut self, arg: &Value) -> Value {
        let Some(items) = arg.as_array().filter(|a| a.len() >= 3) else {
            return self.unknown("Fn::FindInMap", "malformed");
        };
        let mut keys = Vec::new();
        for item in items.iter().take(3) {
            match self.text(item, "Fn::FindInMap") {
                Ok(k) => keys.push(k),
                Err(u) => return u,
            }
        }
        let found = self
            .template
            .get("Mappings")
            .and_then(|m| m.get(&keys[0]))
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]))
            .cloned();
        match (found, items.get(3).and_then(|d| d.get("DefaultValue"))) {
            (Some(v), _) => self.resolve(&v).unwrap_or(Value::Null),
            (None, Some(default)) => {
                let default = default.clone();
                self.resolve(&default).unwrap_or(Value::Null)
            }
            (None, None) => self.unknown(
                format!("Fn::FindInMap {}.{}.{}", keys[0], keys[1], keys[2]),
                "no such entry in Mappings",
            ),
        }
    }
}

fn pair(items: &[Value]) -> Option<&[Value; 2]> {
    items.try_into().ok()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every placeholder inside `v`, with its property path (`BuildArgs.VERSION`,
/// `ReplicaRegions[1]`), in document order.
pub fn placeholders(v: &Value, path: &str, out: &mut Vec<(String, usize)>) {
    if let Some(i) = placeholder(v) {
        out.push((path.to_owned(), i));
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| placeholders(c, &join(k), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, c)| placeholders(c, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

/// `v` with every placeholder replaced by `with(index)`.
pub fn substitute(v: &Value, with: &dyn Fn(usize) -> String) -> Value {
    if let Some(i) = placeholder(v) {
        return Value::String(with(i));
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, c)| (k.clone(), substitute(c, with)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|c| substitute(c, with)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        let mut c = Context::default();
        c.parameters.insert("Version".into(), json!("1.3"));
        c.parameters
            .insert("Regions".into(), json!(["us-west-2", "eu-west-1"]));
        c.unknown_parameters
            .insert("Secret".into(), "a NoEcho parameter".into());
        c.pseudo.insert("AWS::Region".into(), "us-east-1".into());
        c.pseudo.insert(
            "AWS::StackId".into(),
            "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1111-2222".into(),
        );
        c.physical_ids.insert("Queue".into(), "https://q".into());
        c
    }

    fn template() -> Value {
        json!({
            "Parameters": {"Version": {}, "Regions": {}, "Secret": {}, "Stage": {}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Version"}, "1.3"]},
                            "ByStage": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
            "Mappings": {"M": {"us-east-1": {"Size": "large"}}},
            "Resources": {"Queue": {}, "Topic": {}}
        })
    }

    fn run(v: Value) -> (Option<Value>, Vec<Cause>) {
        let (t, c) = (template(), ctx());
        let mut r = Resolver::new(&t, &c);
        let out = r.resolve(&v);
        (out, r.causes)
    }

    #[test]
    fn known_values_resolve_like_cloudformation() {
        let (out, causes) = run(json!({
            "A": {"Fn::Sub": "v${Version}-${AWS::Region}-${!Literal}"},
            "B": {"Fn::Join": [",", {"Ref": "Regions"}]},
            "C": {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]},
            "D": {"Fn::If": ["IsProd", "p", "d"]},
            "E": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Size"]},
            "F": {"Ref": "AWS::NoValue"},
            "G": {"Ref": "Queue"},
            "H": {"Fn::Sub": ["${X}!", {"X": {"Ref": "Version"}}]}
        }));
        assert!(causes.is_empty(), "{causes:?}");
        assert_eq!(
            out,
            Some(
                json!({"A": "v1.3-us-east-1-${Literal}", "B": "us-west-2,eu-west-1",
                         "C": "1111-2222", "D": "p", "E": "large", "G": "https://q", "H": "1.3!"})
            )
        );
    }

    #[test]
    fn deploy_time_values_become_placeholders_with_their_cause() {
        let (out, causes) = run(json!({
            "A": {"Fn::Join": ["", ["x", {"Fn::GetAtt": ["Queue", "Arn"]}]]},
            "B": {"Ref": "Topic"},
            "C": {"Ref": "Secret"},
            "D": {"Fn::If": ["ByStage", "p", "d"]},
            "E": {"Fn::Sub": "${Topic.TopicName}"}
        }));
        let out = out.unwrap_or_default();
        let mut found = Vec::new();
        placeholders(&out, "", &mut found);
        let described: Vec<(String, String)> = found
            .iter()
            .map(|(p, i)| (p.clone(), causes[*i].intrinsic.clone()))
            .collect();
        assert_eq!(
            described,
            vec![
                ("A".to_owned(), "Fn::GetAtt Queue.Arn".to_owned()),
                ("B".to_owned(), "Ref Topic".to_owned()),
                ("C".to_owned(), "Ref Secret".to_owned()),
                ("D".to_owned(), "Fn::If ByStage".to_owned()),
                ("E".to_owned(), "Fn::GetAtt Topic.TopicName".to_owned()),
            ]
        );
        assert!(causes[found[1].1].why.contains("created by this deploy"));
        assert_eq!(causes[found[2].1].why, "a NoEcho parameter");
    }

    #[test]
    fn substitution_replaces_every_placeholder() {
        let (out, _) = run(json!({"L": [{"Ref": "Topic"}, "k"]}));
        let v = substitute(&out.unwrap_or_default(), &|i| format!("u{i}"));
        assert_eq!(v, json!({"L": ["u0", "k"]}));
    }
}
