//! Structured logs: one JSON object per line on stdout, always naming the stack, the logical
//! id and the request id of the event being handled.

use serde_json::{Map, Value, json};

/// The identity of the event being handled, carried by every log line.
#[derive(Debug, Clone, Default)]
pub struct LogContext {
    /// The CloudFormation stack id (or empty when the event has none).
    pub stack_id: String,
    /// The logical id of the resource.
    pub logical_id: String,
    /// The CloudFormation request id.
    pub request_id: String,
}

impl LogContext {
    /// Logs an informational line with extra fields.
    pub fn info(&self, message: &str, fields: Value) {
        self.emit("INFO", message, fields);
    }

    /// Logs a warning with extra fields.
    pub fn warn(&self, message: &str, fields: Value) {
        self.emit("WARN", message, fields);
    }

    /// Logs an error with extra fields.
    pub fn error(&self, message: &str, fields: Value) {
        self.emit("ERROR", message, fields);
    }

    /// Logs a request the provider refused to act on (`"refused": check`, the field a
    /// metric filter counts) and returns the invocation's summary of it. Nothing was started,
    /// written or answered for it.
    pub fn refused(&self, check: &str, reason: &str) -> Value {
        self.emit(
            "WARN",
            "request refused",
            json!({"refused": check, "reason": reason}),
        );
        json!({"action": "refused", "check": check, "reason": reason})
    }

    fn emit(&self, level: &str, message: &str, fields: Value) {
        println!("{}", self.line(level, message, fields));
    }

    /// The JSON text of one log line (exposed for tests).
    pub fn line(&self, level: &str, message: &str, fields: Value) -> String {
        let mut out = Map::new();
        out.insert("level".into(), json!(level));
        out.insert("message".into(), json!(message));
        out.insert("stackId".into(), json!(self.stack_id));
        out.insert("logicalResourceId".into(), json!(self.logical_id));
        out.insert("requestId".into(), json!(self.request_id));
        if let Value::Object(extra) = fields {
            for (k, v) in extra {
                out.entry(k).or_insert(v);
            }
        }
        Value::Object(out).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_json_with_the_event_identity() {
        let ctx = LogContext {
            stack_id: "arn:stack".into(),
            logical_id: "Api".into(),
            request_id: "r-1".into(),
        };
        let line = ctx.line("INFO", "build started", json!({"buildId": "p:1"}));
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["stackId"], "arn:stack");
        assert_eq!(v["logicalResourceId"], "Api");
        assert_eq!(v["requestId"], "r-1");
        assert_eq!(v["buildId"], "p:1");
    }
}
