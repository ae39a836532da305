//! Hostile input gets a clear error, never a crash, a hang or unbounded memory: the bounds
//! are the template reader's (`MAX_INPUT_BYTES`, `MAX_DEPTH`, `NODE_BUDGET`). Each case
//! checks the error; `fuzz/` runs the whole path on generated input.

use cib_engine::template::{MAX_DEPTH, MAX_INPUT_BYTES, NODE_BUDGET, ParseError, parse};

fn refuse(bytes: &[u8]) -> ParseError {
    match parse(bytes) {
        Ok((value, _)) => panic!(
            "accepted: {}",
            value.to_string().chars().take(200).collect::<String>()
        ),
        Err(error) => error,
    }
}

fn assert_message(error: &ParseError, text: &str) {
    assert!(error.message.contains(text), "{error}");
}

#[test]
fn a_50_mb_template_is_refused_by_its_size() {
    let mut template = b"Resources:\n".to_vec();
    let line = b"  R0000000: {Type: AWS::CloudFormation::WaitConditionHandle}\n";
    while template.len() < 50 * 1024 * 1024 {
        template.extend_from_slice(line);
    }
    let error = refuse(&template);
    assert_eq!((error.line, error.column), (1, 1));
    assert_message(&error, "more than 10485760 bytes (10 MiB), the most read");
}

#[test]
fn a_template_just_under_the_size_limit_is_read() {
    let mut template = b"{\"Resources\": {\"R\": {\"Type\": \"AWS::CloudFormation::WaitConditionHandle\"}}, \"Description\": \"".to_vec();
    template.resize(MAX_INPUT_BYTES - 2, b'x');
    template.extend_from_slice(b"\"}");
    assert_eq!(template.len(), MAX_INPUT_BYTES);
    assert!(parse(&template).is_ok());
}

#[test]
fn an_alias_bomb_stops_at_the_node_budget() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        yaml.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let error = refuse(yaml.as_bytes());
    assert_message(&error, &format!("more than {NODE_BUDGET} nodes"));
}

#[test]
fn ten_thousand_levels_of_nesting_stop_at_the_depth_limit() {
    let depth = 10_000;
    let yaml_flow = format!("a: {}{}", "[".repeat(depth), "]".repeat(depth));
    // Block nesting needs one more space per level: 10,000 levels would be 50 MB (refused by
    // size), so the block case nests 1,000 deep.
    let yaml_block: String = (0..1_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let json = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    for input in [yaml_flow, yaml_block, json] {
        let error = refuse(input.as_bytes());
        assert_message(&error, &MAX_DEPTH.to_string());
    }
}

#[test]
fn invalid_utf8_nul_bytes_and_duplicate_keys_are_errors_at_their_position() {
    let error = refuse(b"Resources:\n  A: \xff\xfe\n");
    assert_eq!(error.line, 2);
    assert_message(&error, "invalid UTF-8");

    let error = refuse(b"Resources:\n  A: a\0b\n");
    assert_eq!(error.line, 2);
    assert_message(&error, "NUL byte");

    let error = refuse(b"Resources:\n  A: {Type: X}\n  A: {Type: Y}\n");
    assert_eq!(error.line, 3);
    assert_message(&error, "duplicate");

    let error = refuse(br#"{"Resources": {"A": {}, "A": {}}}"#);
    assert_message(&error, "duplicate");
}
