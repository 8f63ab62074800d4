//! Graph's validation handshake, over real HTTP: every token comes back byte for byte, `text/plain`,
//! `nosniff`, on every path, whatever the body, and each handshake is recorded.

mod common;

use common::Harness;

/// (token as Graph's form-encoding puts it in the query, the bytes that must come back)
fn table() -> Vec<(String, Vec<u8>)> {
    let real = "Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+25460109-0e8b-4521-8090-dd691b407ed8";
    let mut rows: Vec<(String, Vec<u8>)> = vec![
        (
            real.to_owned(),
            b"Validation: Testing client application reachability for subscription Request-Id: 25460109-0e8b-4521-8090-dd691b407ed8".to_vec(),
        ),
        ("simple".into(), b"simple".to_vec()),
        ("".into(), b"".to_vec()),
        ("a+b".into(), b"a b".to_vec()),
        ("a%2Bb".into(), b"a+b".to_vec()),
        ("%3A%3a".into(), b"::".to_vec()),
        ("100%25".into(), b"100%".to_vec()),
        ("caf%C3%A9+%E2%9C%93".into(), "café ✓".as_bytes().to_vec()),
        ("%F0%9F%98%80".into(), "😀".as_bytes().to_vec()),
        ("%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(), b"<script>alert(1)</script>".to_vec()),
        ("a%26b%3Dc".into(), b"a&b=c".to_vec()),
        ("line%0D%0Abreak".into(), b"line\r\nbreak".to_vec()),
        ("tab%09in".into(), b"tab\tin".to_vec()),
        ("quote%22and%27".into(), b"quote\"and'".to_vec()),
        ("%2F%3F%23".into(), b"/?#".to_vec()),
        ("nul%00byte".into(), b"nul\0byte".to_vec()),
        ("%FF%FE".into(), vec![0xFF, 0xFE]),
        ("Request-Id%3a+00000000-0000-0000-0000-000000000000".into(), b"Request-Id: 00000000-0000-0000-0000-000000000000".to_vec()),
    ];
    // A 2 KB token, form-encoded the way Graph does it.
    let long: String = (0..2048)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect::<String>()
        .replacen('a', " ", 100);
    let encoded: String = form_urlencoded::byte_serialize(long.as_bytes()).collect();
    rows.push((encoded, long.into_bytes()));
    rows
}

#[tokio::test]
async fn every_token_is_echoed_byte_for_byte() {
    let h = Harness::start().await;
    let tokens = table();
    assert!(tokens.len() >= 15);
    for (encoded, expected) in &tokens {
        let response = h
            .http
            .post(h.url(&format!("/notifications?validationToken={encoded}")))
            .header("content-type", "text/plain; charset=utf-8")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "token {encoded:?}");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body = response.bytes().await.unwrap();
        assert_eq!(
            &body[..],
            &expected[..],
            "token {encoded:?} must come back decoded, byte for byte"
        );
    }
    let recorded = h.requests_eventually(tokens.len()).await;
    assert!(recorded
        .iter()
        .all(|r| r.kind == hookscope_engine::model::RequestKind::Handshake && r.status == 200));
    h.stop().await;
}

#[tokio::test]
async fn handshake_is_answered_on_every_path_before_the_body_is_looked_at() {
    let h = Harness::start().await;
    for path in [
        "/notifications",
        "/lifecycle",
        "/some/proxy/prefix/notifications",
        "/",
    ] {
        let response = h
            .http
            .post(h.url(&format!(
                "{path}?validationToken=Validation%3a+hello&other=1"
            )))
            .header("content-type", "application/json")
            .body("{ this is not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "path {path}");
        assert_eq!(
            response.text().await.unwrap(),
            "Validation: hello",
            "path {path}"
        );
    }
    let recorded = h.requests_eventually(4).await;
    let paths: Vec<&str> = recorded.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(&"/lifecycle") && paths.contains(&"/"),
        "handshakes on every path are recorded: {paths:?}"
    );
    assert!(recorded.iter().all(|r| r.response == "Validation: hello"));
    h.stop().await;
}
