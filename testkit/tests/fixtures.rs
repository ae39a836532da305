//! The fixtures work on their own, before anyone builds on them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use cib_testkit::{MotoServer, Outcome, ResponseRecorder, RuntimeApi};

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn recorder_keeps_every_put_and_can_fail_them() {
    let recorder = ResponseRecorder::start();
    let url = recorder.url("/cfn/response?sig=1");
    let status = Command::new("curl")
        .args(["-sS", "--fail", "-X", "PUT", "-H", "Content-Type:"])
        .args(["--data-binary", r#"{"Status":"SUCCESS"}"#])
        .arg(&url)
        .status()
        .expect("curl runs");
    assert!(status.success());
    recorder.set_status(500);
    let status = Command::new("curl")
        .args(["-sS", "--fail", "-X", "PUT", "--data-binary", "x"])
        .arg(&url)
        .status()
        .expect("curl runs");
    assert!(!status.success(), "a 500 answer must fail curl --fail");
    let puts = recorder.puts_to("/cfn/response?sig=1");
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].json()["Status"], "SUCCESS");
    assert_eq!(puts[1].body, b"x");
}

#[test]
fn runtime_api_hands_out_an_event_and_takes_the_answer() {
    let api = RuntimeApi::start();
    let addr = api.address();
    let client = std::thread::spawn(move || {
        let next = http(
            &addr,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        let id = next
            .lines()
            .find_map(|l| l.strip_prefix("Lambda-Runtime-Aws-Request-Id: "))
            .expect("request id header")
            .trim()
            .to_string();
        assert!(next.ends_with(r#"{"hello":"world"}"#), "{next}");
        let body = r#"{"answer":42}"#;
        let reply = http(
            &addr,
            &format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");
    });
    let outcome = api
        .invoke(
            &serde_json::json!({"hello": "world"}),
            Duration::from_secs(10),
        )
        .expect("answer");
    client.join().expect("client thread");
    assert_eq!(outcome, Outcome::Response(br#"{"answer":42}"#.to_vec()));
}

#[test]
fn moto_server_starts_and_answers() {
    let moto = MotoServer::start();
    let reply = http(
        &format!("127.0.0.1:{}", moto.port()),
        "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "{}",
        &reply[..reply.len().min(200)]
    );
}
