//! Template reading and writing: short-form intrinsics, scalars, quoting, limits, and round
//! trips over the repository's template corpus (`tests/corpus`, and `CIB_EXTRA_CORPUS`).

use cib_engine::template::{
    Format, MAX_DEPTH, ParseError, parse, parse_json, parse_with_source, parse_yaml, to_json,
    to_yaml, to_yaml_with_source,
};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Parses YAML that the test expects to be valid.
fn yaml(text: &str) -> Value {
    match parse_yaml(text) {
        Ok(value) => value,
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

/// Parses YAML that the test expects to be refused.
fn yaml_err(text: &str) -> ParseError {
    match parse_yaml(text) {
        Ok(value) => panic!("{text:?} should be refused, got {value}"),
        Err(e) => e,
    }
}

/// The value of key `v` in a one-key YAML document.
fn v(text: &str) -> Value {
    let doc = yaml(&format!("v: {text}\n"));
    doc.get("v").cloned().unwrap_or(Value::Null)
}

#[test]
fn every_short_form_tag_gives_its_long_form() {
    let cases: &[(&str, Value)] = &[
        ("!Ref X", json!({"Ref": "X"})),
        ("!Ref AWS::Region", json!({"Ref": "AWS::Region"})),
        ("!Condition IsProd", json!({"Condition": "IsProd"})),
        ("!GetAtt A.B", json!({"Fn::GetAtt": ["A", "B"]})),
        ("!GetAtt A.B.C", json!({"Fn::GetAtt": ["A", "B.C"]})),
        ("!GetAtt [A, B]", json!({"Fn::GetAtt": ["A", "B"]})),
        (
            "!GetAtt [A, !Ref Attr]",
            json!({"Fn::GetAtt": ["A", {"Ref": "Attr"}]}),
        ),
        (
            "!Sub 'arn:${AWS::Partition}:s3:::${B}'",
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${B}"}),
        ),
        (
            "!Sub ['${A}-x', {A: !Ref B}]",
            json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]}),
        ),
        (
            "!Join ['', [a, !Ref B]]",
            json!({"Fn::Join": ["", ["a", {"Ref": "B"}]]}),
        ),
        (
            "!Select [0, !GetAZs '']",
            json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ),
        (
            "!Split [',', !ImportValue Out]",
            json!({"Fn::Split": [",", {"Fn::ImportValue": "Out"}]}),
        ),
        (
            "!If [C, a, !Ref AWS::NoValue]",
            json!({"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]}),
        ),
        (
            "!Equals [!Ref Env, prod]",
            json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]}),
        ),
        (
            "!Not [!Condition C]",
            json!({"Fn::Not": [{"Condition": "C"}]}),
        ),
        (
            "!And [!Condition A, !Condition B]",
            json!({"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
        ),
        (
            "!Or [!Condition A, !Equals [a, b]]",
            json!({"Fn::Or": [{"Condition": "A"}, {"Fn::Equals": ["a", "b"]}]}),
        ),
        (
            "!FindInMap [M, !Ref AWS::Region, K]",
            json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "K"]}),
        ),
        ("!GetAZs ''", json!({"Fn::GetAZs": ""})),
        ("!GetAZs", json!({"Fn::GetAZs": ""})),
        ("!GetAZs us-east-1", json!({"Fn::GetAZs": "us-east-1"})),
        (
            "!GetAZs {Ref: AWS::Region}",
            json!({"Fn::GetAZs": {"Ref": "AWS::Region"}}),
        ),
        (
            "!ImportValue {'Fn::Sub': '${S}-Vpc'}",
            json!({"Fn::ImportValue": {"Fn::Sub": "${S}-Vpc"}}),
        ),
        (
            "!Base64 {'Fn::Sub': \"#!/bin/sh\\necho ${X}\\n\"}",
            json!({"Fn::Base64": {"Fn::Sub": "#!/bin/sh\necho ${X}\n"}}),
        ),
        (
            "!Cidr [!GetAtt V.CidrBlock, 6, 8]",
            json!({"Fn::Cidr": [{"Fn::GetAtt": ["V", "CidrBlock"]}, 6, 8]}),
        ),
        (
            "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
            json!({"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}),
        ),
        ("!Length [a, b]", json!({"Fn::Length": ["a", "b"]})),
        (
            "!ToJsonString {a: 1}",
            json!({"Fn::ToJsonString": {"a": 1}}),
        ),
        // A tagged scalar keeps its text, as in CloudFormation and cfn-lint.
        ("!Ref 1", json!({"Ref": "1"})),
        ("!Sub 0755", json!({"Fn::Sub": "0755"})),
    ];
    for (short, long) in cases {
        assert_eq!(&v(short), long, "{short}");
    }
    // Two tags on one node is not YAML (CloudFormation's docs say to use a long form).
    assert!(parse_yaml("v: !Base64 !Sub x\n").is_err());
}

#[test]
fn tags_nest_and_wrap_block_collections() {
    let text = "\
Resources:
  Fn:
    Properties:
      Name: !Join
        - '-'
        - - !Ref AWS::StackName
          - !Select [1, !Split ['/', !Sub '${AWS::StackId}']]
      Code:
        ZipFile: !Sub |
          echo ${Bucket}
          exit 0
      Env: !If
        - IsProd
        - {A: !GetAtt Db.Endpoint.Address}
        - !Ref AWS::NoValue
      Tr: !Transform
        Name: AWS::Include
        Parameters:
          Location: !Sub s3://${B}/x.yaml
";
    let expected = json!({"Resources": {"Fn": {"Properties": {
        "Name": {"Fn::Join": ["-", [
            {"Ref": "AWS::StackName"},
            {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::Sub": "${AWS::StackId}"}]}]}
        ]]},
        "Code": {"ZipFile": {"Fn::Sub": "echo ${Bucket}\nexit 0\n"}},
        "Env": {"Fn::If": ["IsProd", {"A": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}, {"Ref": "AWS::NoValue"}]},
        "Tr": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": {"Fn::Sub": "s3://${B}/x.yaml"}}}}
    }}}});
    assert_eq!(yaml(text), expected);
}

#[test]
fn unknown_tags_are_kept_and_written_back() {
    let text = "a: 1\nb: !Rain::Embed file.js\nc: !Rain::Module\n  Source: \"./m.yaml\"\nd:\n  - !Sub2 [x, 1]\n  - !!binary aGVsbG8=\n";
    let value = yaml(text);
    assert_eq!(
        value,
        json!({
            "a": 1,
            "b": {"\u{0}!Rain::Embed": "file.js"},
            "c": {"\u{0}!Rain::Module": {"Source": "./m.yaml"}},
            "d": [{"\u{0}!Sub2": ["x", 1]}, {"\u{0}!!binary": "aGVsbG8="}],
        })
    );
    assert_eq!(
        cib_engine::template::unknown_tags(&value),
        vec![
            ("b".to_owned(), "!Rain::Embed".to_owned()),
            ("c".to_owned(), "!Rain::Module".to_owned()),
            ("d[0]".to_owned(), "!Sub2".to_owned()),
            ("d[1]".to_owned(), "!!binary".to_owned()),
        ]
    );
    let out = to_yaml(&value);
    assert_eq!(
        out,
        "a: 1\nb: !Rain::Embed file.js\nc: !Rain::Module\n  Source: \"./m.yaml\"\nd:\n  - !Sub2\n    - x\n    - 1\n  - !!binary aGVsbG8=\n"
    );
    assert_eq!(parse_yaml(&out), Ok(value));
    // A tag on a key is still refused, and JSON cannot smuggle the marker in.
    let e = yaml_err("!Ref k: v\n");
    assert!(e.message.contains("!Ref"), "{e}");
    assert!(parse_json("{\"\\u0000!Sub\": 1}").is_err());
}

#[test]
fn core_tags() {
    assert_eq!(v("!!str 0755"), json!("0755"));
    assert_eq!(v("!!str true"), json!("true"));
    assert_eq!(v("!!int 12"), json!(12));
    assert_eq!(v("!!float 1"), json!(1.0));
    assert_eq!(v("!!bool true"), json!(true));
    assert!(parse_yaml("v: !!int abc\n").is_err());
    assert!(parse_yaml("v: !!seq {a: 1}\n").is_err());
}

#[test]
fn plain_scalars_follow_the_documented_choice() {
    let cases: &[(&str, Value)] = &[
        ("true", json!(true)),
        ("True", json!(true)),
        ("TRUE", json!(true)),
        ("false", json!(false)),
        ("False", json!(false)),
        ("null", json!(null)),
        ("Null", json!(null)),
        ("~", json!(null)),
        ("", json!(null)),
        ("0", json!(0)),
        ("42", json!(42)),
        ("-7", json!(-7)),
        ("123456789012", json!(123_456_789_012_i64)),
        ("18446744073709551615", json!(u64::MAX)),
        ("1.5", json!(1.5)),
        ("-0.25", json!(-0.25)),
        ("1.5e+3", json!(1500.0)),
        // YAML 1.1, as CloudFormation reads it.
        ("yes", json!(true)),
        ("Yes", json!(true)),
        ("YES", json!(true)),
        ("no", json!(false)),
        ("No", json!(false)),
        ("NO", json!(false)),
        ("on", json!(true)),
        ("On", json!(true)),
        ("ON", json!(true)),
        ("off", json!(false)),
        ("Off", json!(false)),
        ("OFF", json!(false)),
        ("0755", json!(493)),
        ("00", json!(0)),
        ("-010", json!(-8)),
        ("0x1F", json!(31)),
        ("0b101", json!(5)),
        ("+1", json!(1)),
        ("1_000", json!(1000)),
        ("12:30", json!(750)),
        ("1:30", json!(90)),
        ("190:20:30", json!(685_230)),
        (".5", json!(0.5)),
        ("1.", json!(1.0)),
        ("1_000.5", json!(1000.5)),
        ("1:30.5", json!(90.5)),
        // Neither YAML 1.1 booleans nor numbers, or not representable: strings.
        ("y", json!("y")),
        ("Y", json!("Y")),
        ("n", json!("n")),
        ("N", json!("N")),
        ("yES", json!("yES")),
        ("oN", json!("oN")),
        ("2010-09-09", json!("2010-09-09")),
        (
            "2001-12-14t21:59:43.10-05:00",
            json!("2001-12-14t21:59:43.10-05:00"),
        ),
        ("1e3", json!("1e3")),
        ("1.5e3", json!("1.5e3")),
        ("0o17", json!("0o17")),
        ("09", json!("09")),
        (".inf", json!(".inf")),
        ("-.inf", json!("-.inf")),
        (".nan", json!(".nan")),
        ("inf", json!("inf")),
        ("NaN", json!("NaN")),
        ("1:60", json!("1:60")),
        ("99999999999999999999", json!("99999999999999999999")),
        ("1.0e+999", json!("1.0e+999")),
        ("t3.micro", json!("t3.micro")),
        ("10.0.0.0/16", json!("10.0.0.0/16")),
        // Quoted scalars are always strings.
        ("'true'", json!("true")),
        ("\"42\"", json!("42")),
        ("''", json!("")),
        ("'null'", json!("null")),
    ];
    for (text, expected) in cases {
        assert_eq!(&v(text), expected, "{text}");
    }
}

#[test]
fn plain_scalars_are_written_back_as_they_were() {
    let text = "\
A: yes
B: 0755
C: 1:30
D: 1_000
E: 2010-09-09
F: .inf
G: y
H: 0x1F
I: ~
J: Off
yes: a boolean key
0755: an octal key
2010-09-09: a date key
L:
  - on
  - n
  - 1.
  - 1e3
M: plain text
N:
  Fn::Equals:
    - Ref: A
    - Yes
O: !Rain::Thing
  - on
  - 0755
";
    let (value, format, source) = match parse_with_source(text.as_bytes()) {
        Ok(read) => read,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(format, Format::Yaml);
    assert_eq!(to_yaml_with_source(&value, &source), text);
    // Without the source, the same values are written in the writer's own way.
    let canonical = to_yaml(&value);
    assert!(
        canonical.starts_with("A: true\nB: 493\nC: 90\nD: 1000\nE: \"2010-09-09\"\n"),
        "{canonical}"
    );
    assert_eq!(parse_yaml(&canonical), Ok(value.clone()));
    // JSON carries the value CloudFormation reads.
    assert_eq!(value["A"], json!(true));
    assert_eq!(value["N"]["Fn::Equals"][1], json!(true));
    assert_eq!(value["B"], json!(493));
    assert_eq!(value["G"], json!("y"));
    // A changed value is written in the writer's own way; the rest stays as it was.
    let mut changed = value.clone();
    changed["A"] = json!("yes");
    changed["B"] = json!(8);
    let out = to_yaml_with_source(&changed, &source);
    assert!(out.starts_with("A: \"yes\"\nB: 8\nC: 1:30\n"), "{out}");
}

/// Strings that a YAML 1.1 reader would take for something else, or that need quoting for
/// YAML syntax.
const TRICKY: &[&str] = &[
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "true",
    "True",
    "TRUE",
    "false",
    "False",
    "FALSE",
    "null",
    "Null",
    "NULL",
    "~",
    "0755",
    "0",
    "12",
    "-1",
    "+1",
    "1.5",
    "1e3",
    "1E3",
    "1.5e3",
    "1_000",
    "0b101",
    "0o17",
    "0x1F",
    "2010-09-09",
    "2001-12-14t21:59:43.10-05:00",
    ".inf",
    "-.inf",
    ".Inf",
    ".nan",
    ".NaN",
    "inf",
    "nan",
    "NaN",
    "12:30",
    "190:20:30",
    "1:30.5",
    "",
    " ",
    " lead",
    "trail ",
    "a: b",
    "a #b",
    "a:",
    "#x",
    "&a",
    "*a",
    "!Ref x",
    "!",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "-",
    "- x",
    "?",
    "? x",
    ":",
    "[a]",
    "{a: 1}",
    "a, b",
    "'q'",
    "\"q\"",
    "<<",
    "=",
    "---",
    "...",
    "a\tb",
    "tab\t",
    "line\nbreak",
    "\ttab",
    "trailing\n",
    "two\n\n",
    "\nlead",
    " x\ny",
    "x \ny",
    "cr\r\nlf",
    "nel\u{85}x",
    "ls\u{2028}x",
    "bom\u{feff}",
    "del\u{7f}",
    "nbsp\u{a0}x",
    "ctl\u{1}x",
    "nul\0x",
    "quote\"back\\slash",
    "é",
    "日本語",
    "emoji 😀",
    "a'b",
    "x y",
];

#[test]
fn tricky_strings_are_quoted_and_round_trip() {
    let mut map = serde_json::Map::new();
    for (i, s) in TRICKY.iter().enumerate() {
        map.insert(format!("k{i}"), json!(s));
        map.insert((*s).to_owned(), json!(i));
    }
    map.insert("list".into(), json!(TRICKY));
    let value = Value::Object(map);
    let out = to_yaml(&value);
    assert_eq!(parse_yaml(&out), Ok(value.clone()), "output:\n{out}");
    // Strings a YAML 1.1 reader would not read as strings are never plain.
    let plain_ok = [
        "a, b",
        "a'b",
        "x y",
        "é",
        "日本語",
        "emoji 😀",
        "quote\"back\\slash",
    ];
    for s in TRICKY
        .iter()
        .filter(|s| !s.contains('\n') && !plain_ok.contains(s))
    {
        let line = to_yaml(&json!({ "k": s }));
        assert!(
            line.starts_with("k: \""),
            "{s:?} should be double-quoted: {line}"
        );
    }
    assert_eq!(to_yaml(&json!({"k": "2010-09-09"})), "k: \"2010-09-09\"\n");
    pyyaml_reads_back(&out, &value, "the tricky strings");
}

#[test]
fn writer_layout() {
    let value = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "A template: with colon",
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": {"Fn::Sub": "${AWS::StackName}-data"},
                    "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": 1}],
                    "Empty": {},
                    "None": [],
                    "Nested": [["a", "b"], []],
                    "Ratio": 0.5,
                    "Big": 1.5e300,
                    "Flag": true,
                    "Nothing": null,
                    "Script": "#!/bin/sh\nset -e\n\n  indented\necho done\n",
                }
            }
        }
    });
    let expected = "\
AWSTemplateFormatVersion: \"2010-09-09\"
Description: \"A template: with colon\"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName:
        Fn::Sub: ${AWS::StackName}-data
      Tags:
        - Key: a
          Value: b
        - Key: c
          Value: 1
      Empty: {}
      None: []
      Nested:
        - - a
          - b
        - []
      Ratio: 0.5
      Big: 1.5e+300
      Flag: true
      Nothing: null
      Script: |
        #!/bin/sh
        set -e

          indented
        echo done
";
    let out = to_yaml(&value);
    assert_eq!(out, expected);
    assert_eq!(parse_yaml(&out), Ok(value));
}

#[test]
fn multi_line_strings_round_trip() {
    let strings = [
        "a\nb",
        "a\nb\n",
        "a\nb\n\n\n",
        "\n\na\n",
        "a\n\n  b\n",
        " a\nb",
        "a \nb",
        "a\n\t b",
        "a\r\nb",
        "\n",
        "\n\n",
        "a\n#not a comment\n- not a list\n---\n...\n",
        "FROM alpine:3.20\nRUN echo \"hi\" && \\\n    echo 'there'\nCMD [\"sh\"]\n",
    ];
    let value = json!({
        "map": strings.iter().enumerate().map(|(i, s)| (format!("k{i}"), json!(s))).collect::<serde_json::Map<_, _>>(),
        "seq": strings,
        "nested": [{"k": strings}],
    });
    let out = to_yaml(&value);
    assert_eq!(parse_yaml(&out), Ok(value.clone()), "output:\n{out}");
    assert!(out.contains("k0: |-\n    a\n    b\n"), "{out}");
    pyyaml_reads_back(&out, &value, "the multi-line strings");
}

#[test]
fn numbers_and_long_keys_round_trip() {
    let long_key = "K".repeat(2000);
    let value = json!({
        "i": i64::MIN, "u": u64::MAX, "f": 0.1, "g": 1e-7, "h": 123456789.0, "z": -0.0,
        "e": 1e21, long_key: "long",
        "s": "x".repeat(5000),
    });
    let out = to_yaml(&value);
    assert_eq!(parse_yaml(&out), Ok(value.clone()), "output:\n{out}");
    assert_eq!(parse_json(&to_json(&value)), Ok(value.clone()));
    pyyaml_reads_back(&out, &value, "numbers and long keys");
}

#[test]
fn top_level_scalars_and_empties() {
    for value in [
        json!({}),
        json!([]),
        json!("x\ny"),
        json!("yes"),
        json!(3),
        json!(null),
    ] {
        assert_eq!(parse_yaml(&to_yaml(&value)), Ok(value.clone()), "{value}");
    }
}

#[test]
fn duplicate_keys_are_refused() {
    let e = yaml_err("A: 1\nB:\n  Foo: 1\n  Foo: 2\n");
    assert_eq!(e.to_string(), "line 4, column 3: duplicate key `Foo`");
    let e = yaml_err("{a: 1, a: 2}\n");
    assert!(e.message.contains("duplicate key `a`"), "{e}");
    // The same key quoted and unquoted is still the same key.
    let e = yaml_err("a: 1\n'a': 2\n");
    assert_eq!(e.line, 2);
    let e = match parse_json("{\n  \"a\": 1,\n  \"b\": {\"x\": 1,\n \"x\": 2}\n}") {
        Ok(value) => panic!("duplicate JSON keys accepted: {value}"),
        Err(e) => e,
    };
    assert_eq!(e.line, 4);
    assert!(e.message.contains("duplicate key `x`"), "{e}");
    assert!(parse(b"{\"a\": 1, \"a\": 1}").is_err());
}

#[test]
fn merge_keys_are_refused_and_aliases_expanded() {
    let e = yaml_err("base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("merge keys"), "{e}");
    assert_eq!(
        yaml("a: &x [1, {b: !Ref c}]\nb: *x\n'<<': 3\n"),
        json!({"a": [1, {"b": {"Ref": "c"}}], "b": [1, {"b": {"Ref": "c"}}], "<<": 3})
    );
    assert_eq!(yaml("k: &k key\n*k : v\n"), json!({"k": "key", "key": "v"}));
    assert!(parse_yaml("a: &x [*x]\n").is_err());
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let start = Instant::now();
    let e = yaml_err(&text);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(e.message.contains("nodes"), "{e}");
}

#[test]
fn deep_nesting_is_refused_without_crashing() {
    for text in [
        "[".repeat(10_000) + &"]".repeat(10_000),
        "{a: ".repeat(10_000) + &"}".repeat(10_000),
        "- ".repeat(10_000) + "x\n",
        (0..10_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>(),
    ] {
        let e = yaml_err(&text);
        assert!(e.message.contains("deeper than"), "{e}");
    }
    let e = match parse_json(&("[".repeat(10_000) + &"]".repeat(10_000))) {
        Ok(_) => panic!("deep JSON accepted"),
        Err(e) => e,
    };
    assert!(e.message.contains("deeper than"), "{e}");
    // Exactly MAX_DEPTH levels are fine, in both formats.
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse_yaml(&ok).is_ok());
    assert!(parse_json(&ok).is_ok());
    let over = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert!(parse_yaml(&over).is_err());
    assert!(parse_json(&over).is_err());
}

#[test]
fn bad_bytes_are_refused_with_their_line() {
    let e = match parse(b"a: 1\nb: \xff\xfe\n") {
        Ok(_) => panic!("invalid UTF-8 accepted"),
        Err(e) => e,
    };
    assert_eq!((e.line, e.column), (2, 4));
    assert!(
        e.message.contains("UTF-8") && e.message.contains("8"),
        "{e}"
    );
    let e = match parse(b"a: 1\nbb: x\0y\n") {
        Ok(_) => panic!("NUL accepted"),
        Err(e) => e,
    };
    assert_eq!((e.line, e.column), (2, 6));
    assert!(e.message.contains("NUL"), "{e}");
    assert!(parse(b"{\"a\": \"\0\"}").is_err());
}

#[test]
fn parse_detects_the_format() {
    assert_eq!(
        parse(b"  \n{\"a\": [1]}"),
        Ok((json!({"a": [1]}), Format::Json))
    );
    assert_eq!(parse(b"a: [1]\n"), Ok((json!({"a": [1]}), Format::Yaml)));
    assert_eq!(
        parse(b"\xEF\xBB\xBFa: 1\n"),
        Ok((json!({"a": 1}), Format::Yaml))
    );
    assert_eq!(
        parse(b"a: 1\r\nb: |\r\n  x\r\n  y\r\n"),
        Ok((json!({"a": 1, "b": "x\ny\n"}), Format::Yaml))
    );
    assert!(parse(b"").is_err());
    assert!(parse(b"# only a comment\n").is_err());
    assert!(parse(b"a: 1\n---\nb: 2\n").is_err());
    // YAML in flow style, with unquoted keys, is YAML.
    assert_eq!(
        parse(b"{a: [1, !Ref b]}"),
        Ok((json!({"a": [1, {"Ref": "b"}]}), Format::Yaml))
    );
    let e = match parse(b"{\"a\": 1,}") {
        Ok(_) => panic!("bad JSON accepted"),
        Err(e) => e,
    };
    assert_eq!(e.line, 1);
    assert!(!e.message.contains("at line"), "{e}");
}

#[test]
fn json_round_trip_keeps_order_and_types() {
    let text = "{\n  \"Z\": 1,\n  \"A\": [\n    true,\n    null,\n    1.5,\n    \"s\"\n  ],\n  \"M\": {}\n}\n";
    let value = match parse_json(text) {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    };
    let keys: Vec<&String> = value
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["Z", "A", "M"]);
    assert_eq!(to_json(&value), text);
    assert_eq!(parse_json(&to_json(&value)), Ok(value.clone()));
    assert_eq!(parse_yaml(&to_yaml(&value)), Ok(value));
}

/// Every template of the repository's corpus (`tests/corpus`), and of the corpus that
/// `CIB_EXTRA_CORPUS` names when it is set.
fn corpus() -> Vec<(PathBuf, Value)> {
    let own = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus")).to_path_buf();
    let mut roots = vec![(own, 10)];
    if let Some(extra) = std::env::var_os("CIB_EXTRA_CORPUS").filter(|d| !d.is_empty()) {
        roots.push((PathBuf::from(extra), 1));
    }
    let mut all = Vec::new();
    for (root, minimum) in roots {
        let files = corpus_files(&root);
        assert!(
            files.len() >= minimum,
            "only {} corpus templates found under {}",
            files.len(),
            root.display()
        );
        all.extend(files);
    }
    all.into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            match parse(&bytes) {
                Ok((value, _)) => (path, value),
                Err(e) => panic!("{}: {e}", path.display()),
            }
        })
        .collect()
}

/// The template files under `root`, sorted.
fn corpus_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read corpus dir {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json" | "template")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn corpus_round_trips_through_yaml_and_json() {
    for (path, value) in corpus() {
        let out = to_yaml(&value);
        assert_eq!(
            parse_yaml(&out).as_ref(),
            Ok(&value),
            "{} through to_yaml:\n{out}",
            path.display()
        );
        // JSON cannot hold other pre-processors' tags (the CLI refuses to write them).
        if cib_engine::template::unknown_tags(&value).is_empty() {
            assert_eq!(
                parse_json(&to_json(&value)).as_ref(),
                Ok(&value),
                "{} through to_json",
                path.display()
            );
        }
        // Writing is stable.
        assert_eq!(
            parse_yaml(&out).map(|v| to_yaml(&v)).as_deref(),
            Ok(out.as_str())
        );
    }
}

#[test]
fn corpus_yaml_output_reads_back_equal_in_pyyaml() {
    // PyYAML's safe loader refuses other pre-processors' tags; those templates are compared
    // with cfn-lint's loader in cli/tests/passthrough.rs.
    for (path, value) in corpus() {
        if cib_engine::template::unknown_tags(&value).is_empty() {
            pyyaml_reads_back(&to_yaml(&value), &value, &path.display().to_string());
        }
    }
}

/// The Python with PyYAML: `CIB_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("CIB_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Loads `yaml_text` with PyYAML's safe loader, dumps it as JSON, and asserts it equals
/// `expected`. Fails (never skips) when Python or PyYAML is missing.
fn pyyaml_reads_back(yaml_text: &str, expected: &Value, what: &str) {
    const SCRIPT: &str = "import sys, json, yaml\n\
        data = yaml.safe_load(sys.stdin.buffer.read().decode('utf-8'))\n\
        sys.stdout.write(json.dumps(data))\n";
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (set CIB_PYTHON to a Python with PyYAML): {e}",
                python()
            )
        });
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(yaml_text.as_bytes())
            .unwrap_or_else(|e| panic!("writing to python: {e}"));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for python: {e}"));
    assert!(
        output.status.success(),
        "PyYAML could not read our YAML for {what} (is PyYAML installed? set CIB_PYTHON): {}\n{yaml_text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let read: Value = match parse_json(&text) {
        Ok(value) => value,
        Err(e) => panic!("python printed bad JSON for {what}: {e}"),
    };
    assert_eq!(
        &read, expected,
        "PyYAML reads {what} differently:\n{yaml_text}"
    );
}
