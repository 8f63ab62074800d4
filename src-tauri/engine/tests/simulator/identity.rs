//! The login host: client credentials with Entra's error shapes, the device-code flow with its polling
//! answers, refresh tokens, and OIDC metadata whose keys verify the tokens it issues.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::support::Sim;

async fn post_form(sim: &Sim, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = sim
        .http
        .post(sim.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn token_path(sim: &Sim) -> String {
    format!("/{}/oauth2/v2.0/token", sim.running.options().app.tenant_id)
}

/// Verifies a JWT with the key published under the v2 metadata's `jwks_uri`, as a receiver would.
async fn verify_with_published_keys(sim: &Sim, token: &str) -> Value {
    let metadata: Value = sim
        .http
        .get(sim.url("/common/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: Value = sim
        .http
        .get(metadata["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| Some(k["kid"].as_str().unwrap()) == header.kid.as_deref())
        .expect("the token's kid is published");
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("signature and lifetime verify")
        .claims
}

#[tokio::test]
async fn client_credentials_issue_a_verifiable_app_token() {
    let sim = Sim::start().await;
    let app = sim.running.options().app.clone();
    let (status, body) = post_form(
        &sim,
        &token_path(&sim),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let claims = verify_with_published_keys(&sim, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["appid"], app.client_id);
    assert_eq!(claims["tid"], app.tenant_id);
    assert_eq!(claims["idtyp"], "app");
    assert!(claims["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "Mail.Read"));

    // HTTP Basic client authentication works too.
    let response = sim
        .http
        .post(sim.url(&token_path(&sim)))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn token_errors_have_entra_shape_and_codes() {
    let sim = Sim::start().await;
    let app = sim.running.options().app.clone();
    let scope = "https://graph.microsoft.com/.default";
    // (path, form, status, error, AADSTS code)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, u16, &'a str, u64);
    let cases: Vec<Case> = vec![
        (
            token_path(&sim),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", "wrong"),
                ("scope", scope),
            ],
            401,
            "invalid_client",
            7000215,
        ),
        (
            token_path(&sim),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "00000000-0000-0000-0000-000000000001"),
                ("client_secret", "x"),
                ("scope", scope),
            ],
            400,
            "unauthorized_client",
            700016,
        ),
        (
            "/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token".to_string(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("scope", scope),
            ],
            400,
            "invalid_request",
            90002,
        ),
        (
            token_path(&sim),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("scope", "Mail.Read"),
            ],
            400,
            "invalid_scope",
            1002012,
        ),
        (
            token_path(&sim),
            vec![("client_id", &app.client_id)],
            400,
            "invalid_request",
            900144,
        ),
    ];
    for (path, form, status, error, code) in cases {
        let (got, body) = post_form(&sim, &path, &form).await;
        assert_eq!(got, status, "{error}: {body}");
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"][0], code);
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!("AADSTS{code}: ")),
            "{description}"
        );
        assert!(description.contains("Trace ID: "), "{description}");
        for field in ["timestamp", "trace_id", "correlation_id"] {
            assert!(body[field].is_string(), "{field} missing: {body}");
        }
        assert!(
            !description.contains(&app.client_secret),
            "the secret never echoes"
        );
    }
}

#[tokio::test]
async fn device_code_flow_polls_pending_slow_down_then_tokens_and_refresh() {
    let sim = Sim::start().await;
    let client_id = sim.running.options().app.client_id.clone();
    let (status, code) = post_form(
        &sim,
        "/organizations/oauth2/v2.0/devicecode",
        &[
            ("client_id", &client_id),
            ("scope", "Mail.Read offline_access"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{code}");
    let device_code = code["device_code"].as_str().unwrap().to_string();
    let user_code = code["user_code"].as_str().unwrap().to_string();
    assert_eq!(code["expires_in"], 900);
    assert!(code["message"].as_str().unwrap().contains(&user_code));
    let interval = code["interval"].as_u64().unwrap();
    let page = sim
        .http
        .get(code["verification_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client_id.as_str()),
        ("device_code", device_code.as_str()),
    ];
    let (status, body) = post_form(&sim, "/organizations/oauth2/v2.0/token", &poll).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    // Polling again at once is too fast.
    let (_, body) = post_form(&sim, "/organizations/oauth2/v2.0/token", &poll).await;
    assert_eq!(body["error"], "slow_down");

    // The user signs in on the page (its form posts the code).
    let approved = sim
        .http
        .post(sim.url("/_simulator/devicelogin"))
        .form(&[("user_code", user_code.as_str()), ("action", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    // Waiting out the (slowed-down) interval on the simulator's clock.
    sim.running.advance_clock(Duration::from_secs(interval + 5));
    let (status, tokens) = post_form(&sim, "/organizations/oauth2/v2.0/token", &poll).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = verify_with_published_keys(&sim, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["idtyp"], "user");
    assert_eq!(claims["scp"], "Mail.Read");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    let refreshing = [
        ("grant_type", "refresh_token"),
        ("client_id", client_id.as_str()),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, renewed) = post_form(&sim, "/organizations/oauth2/v2.0/token", &refreshing).await;
    assert_eq!(status, 200);
    assert_ne!(
        renewed["refresh_token"], tokens["refresh_token"],
        "refresh tokens rotate"
    );
    let (status, spent) = post_form(&sim, "/organizations/oauth2/v2.0/token", &refreshing).await;
    assert_eq!(
        (status, spent["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn device_codes_expire_and_can_be_declined() {
    let sim = Sim::start().await;
    let client_id = sim.running.options().app.client_id.clone();
    let start = || async {
        let (_, code) = post_form(
            &sim,
            "/common/oauth2/v2.0/devicecode",
            &[("client_id", client_id.as_str()), ("scope", "Mail.Read")],
        )
        .await;
        code
    };
    let poll = |device_code: String| {
        let client_id = client_id.clone();
        let sim = &sim;
        async move {
            post_form(
                sim,
                "/common/oauth2/v2.0/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", &client_id),
                    ("device_code", &device_code),
                ],
            )
            .await
        }
    };
    let declined = start().await;
    sim.running
        .decide_device_code(declined["user_code"].as_str().unwrap(), false)
        .unwrap();
    let (_, body) = poll(declined["device_code"].as_str().unwrap().into()).await;
    assert_eq!(body["error"], "authorization_declined");

    let expiring = start().await;
    sim.running.advance_clock(Duration::from_secs(901));
    let (_, body) = poll(expiring["device_code"].as_str().unwrap().into()).await;
    assert_eq!(body["error"], "expired_token");

    let (_, body) = poll("made-up".into()).await;
    assert_eq!(body["error"], "bad_verification_code");
    assert!(sim.running.decide_device_code("NOPE", true).is_err());
}

#[tokio::test]
async fn oidc_metadata_v1_and_v2_point_at_the_same_keys() {
    let sim = Sim::start().await;
    let tenant = sim.running.options().app.tenant_id.clone();
    for (path, issuer) in [
        (
            "/common/.well-known/openid-configuration".to_string(),
            "https://sts.windows.net/{tenantid}/".to_string(),
        ),
        (
            format!("/{tenant}/v2.0/.well-known/openid-configuration"),
            sim.url(&format!("/{tenant}/v2.0")),
        ),
    ] {
        let metadata: Value = sim
            .http
            .get(sim.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(metadata["issuer"], issuer.as_str());
        let keys: Value = sim
            .http
            .get(metadata["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(keys["keys"][0]["kty"], "RSA");
        assert_eq!(keys["keys"][0]["use"], "sig");
    }
}
