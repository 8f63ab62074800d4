//! Graph's validation handshake: find `validationToken` in the raw query and form-decode it to bytes
//! (`+` is a space, `%3a` a colon), so the echo is byte for byte what Graph generated.

use percent_encoding::percent_decode;

pub const TOKEN_PARAMETER: &str = "validationToken";

/// The decoded token when the query carries one (even empty), else `None`.
pub fn token(query: Option<&str>) -> Option<Vec<u8>> {
    let query = query?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(name) == TOKEN_PARAMETER.as_bytes()).then(|| form_decode(value))
    })
}

/// application/x-www-form-urlencoded decoding to raw bytes (no lossy UTF-8 step).
fn form_decode(text: &str) -> Vec<u8> {
    let spaced = text.replace('+', " ");
    percent_decode(spaced.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_real_world_form_encoded_token() {
        let query = "validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+25460109-0e8b-4521-8090-dd691b407ed8";
        assert_eq!(
            token(Some(query)).unwrap(),
            b"Validation: Testing client application reachability for subscription Request-Id: 25460109-0e8b-4521-8090-dd691b407ed8"
        );
    }

    #[test]
    fn finds_the_token_among_other_parameters_and_ignores_lookalikes() {
        assert_eq!(
            token(Some("a=1&validationToken=x%2By&b=2")).unwrap(),
            b"x+y"
        );
        assert_eq!(
            token(Some("validationtoken=abc")),
            None,
            "SharePoint's lower-case form is a different protocol"
        );
        assert_eq!(token(Some("validationToken")).unwrap(), b"");
        assert_eq!(token(None), None);
    }
}
