use super::*;

fn uri(text: &str) -> Uri {
    text.parse().unwrap()
}

#[test]
fn locations_resolve_against_the_url_called() {
    let base = uri("https://api.example.com:8443/v1/chat/completions?x=1");
    let resolved = |l: &str| resolve(&base, l).map(|u| u.to_string());
    assert_eq!(
        resolved("https://other.example/a").as_deref(),
        Some("https://other.example/a")
    );
    assert_eq!(
        resolved("//cdn.example/b").as_deref(),
        Some("https://cdn.example/b")
    );
    assert_eq!(
        resolved("/v2/chat").as_deref(),
        Some("https://api.example.com:8443/v2/chat")
    );
    assert_eq!(
        resolved("completions2?y=2").as_deref(),
        Some("https://api.example.com:8443/v1/chat/completions2?y=2")
    );
}

#[test]
fn origins_compare_scheme_host_and_effective_port() {
    assert_eq!(
        Origin::of(&uri("https://A.example:443/x")),
        Origin::of(&uri("https://a.example/y"))
    );
    assert_ne!(
        Origin::of(&uri("http://a.example/")),
        Origin::of(&uri("https://a.example/"))
    );
    assert_ne!(
        Origin::of(&uri("http://a.example:8080/")),
        Origin::of(&uri("http://a.example/"))
    );
    assert_eq!(
        Origin::of(&uri("http://a.example:8080/")).shown(),
        "http://a.example:8080"
    );
}

#[test]
fn user_info_becomes_basic_authentication_and_leaves_the_url() {
    let (url, value) = split_user_info(&uri("https://me:p%40ss@api.example/v1")).unwrap();
    assert_eq!(url.to_string(), "https://api.example/v1");
    // base64("me:p@ss")
    assert_eq!(value.to_str().unwrap(), "Basic bWU6cEBzcw==");
    assert!(split_user_info(&uri("https://api.example/v1")).is_none());
}

#[test]
fn base64_is_the_standard_alphabet_with_padding() {
    assert_eq!(base64(b"alice:pa@ss w0rd"), "YWxpY2U6cGFAc3MgdzByZA==");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
    assert_eq!(percent_decoded("pa%40ss%20w0rd%zz"), "pa@ss w0rd%zz");
}

#[test]
fn only_absolute_http_urls_with_a_host() {
    assert!(parse_url("http://127.0.0.1:8080/agent").is_ok());
    assert!(parse_url("https://api.example/v1?key=1").is_ok());
    for bad in [
        "ftp://x/",
        "/relative",
        "http://h/a#frag",
        "http://h/a b",
        "not a url",
    ] {
        assert!(parse_url(bad).is_err(), "{bad}");
    }
}
