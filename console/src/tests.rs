//! The files and how they are served: types, compression, revalidation, the security headers,
//! and what the pages may not contain (HTML built from text, inline script, the network).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};

use super::*;

fn get(path: &str, headers: &[(&str, &str)]) -> Request {
    let mut req = Request::new(Body::Empty);
    *req.uri_mut() = path.parse().unwrap();
    for (name, value) in headers {
        req.headers_mut().insert(
            lambda_http::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    req
}

fn run(req: Request) -> Response<Body> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(respond(req))
}

#[test]
fn the_pages_and_their_files_are_embedded() {
    for name in [
        "index.html",
        "console.js",
        "console.css",
        "docs.html",
        "favicon.svg",
    ] {
        assert!(ASSETS.iter().any(|a| a.name == name), "{name}");
    }
    assert_eq!(asset_at("/console").unwrap().name, "index.html");
    assert_eq!(asset_at("/console/").unwrap().name, "index.html");
    assert_eq!(asset_at("/docs").unwrap().name, "docs.html");
    assert_eq!(asset_at("/console/console.js").unwrap().name, "console.js");
    for path in [
        "/console/../Cargo.toml",
        "/console/%2e%2e/build.rs",
        "/console/assets/console.js",
        "/console/console.js/",
        "/console/",
        "/consolex",
        "/docs/x",
        "/console/.hidden",
    ] {
        let found = asset_at(path).map(|a| a.name);
        assert!(
            found.is_none() || (path == "/console/" && found == Some("index.html")),
            "{path}: {found:?}"
        );
    }
    assert!(serves("/console/anything") && serves("/docs") && !serves("/consoles"));
}

#[test]
fn a_file_is_served_with_its_type_tag_and_the_security_headers() {
    let r = run(get("/console/console.js", &[]));
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert!(h.get("content-encoding").is_none());
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["vary"], "accept-encoding");
    let etag = h["etag"].to_str().unwrap();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 26,
        "{etag}"
    );
    let Body::Text(body) = r.body() else {
        panic!("text")
    };
    assert_eq!(
        body.as_bytes(),
        asset_at("/console/console.js").unwrap().body
    );
}

#[test]
fn gzip_only_for_a_client_that_takes_it() {
    let asset = asset_at("/console").unwrap();
    let gz = asset.gzip.expect("the page compresses");
    for (accept, gzipped) in [
        ("gzip", true),
        ("gzip, deflate, br", true),
        ("br;q=1.0, gzip;q=0.8", true),
        ("*", true),
        ("GZIP", true),
        ("gzip;q=0", false),
        ("gzip; q=0.0", false),
        ("deflate, br", false),
        ("gzip;q=0, *", false),
        ("*;q=0", false),
        ("*;q=0, gzip", true),
        ("identity", false),
        ("gzipx", false),
    ] {
        let r = run(get("/console", &[("accept-encoding", accept)]));
        assert_eq!(
            r.headers().get("content-encoding").is_some(),
            gzipped,
            "{accept}"
        );
        match r.body() {
            Body::Binary(b) if gzipped => assert_eq!(&b[..], gz),
            Body::Text(t) if !gzipped => assert_eq!(t.as_bytes(), asset.body),
            other => panic!("{accept}: {other:?}"),
        }
    }
}

#[test]
fn a_current_copy_is_not_sent_again() {
    let first = run(get("/console", &[("accept-encoding", "gzip")]));
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let plain = run(get("/console", &[]));
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(tag, plain_tag, "each encoding has its own tag");
    for (header, fresh) in [
        (tag.clone(), true),
        // The identity copy's tag, asked by a client that takes gzip: the gzip copy is sent.
        (plain_tag.clone(), false),
        (format!("W/{tag}"), true),
        (format!("\"nope\", {tag}"), true),
        ("*".to_owned(), true),
        ("\"nope\"".to_owned(), false),
        (tag.trim_matches('"').to_owned(), false),
        (format!("{}x\"", &tag[..tag.len() - 1]), false),
    ] {
        let r = run(get(
            "/console",
            &[("accept-encoding", "gzip"), ("if-none-match", &header)],
        ));
        let status = if fresh {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status(), status, "{header}");
        if fresh {
            assert!(matches!(r.body(), Body::Empty));
            assert_eq!(r.headers()["etag"], tag.as_str());
        }
    }
}

#[test]
fn head_gets_the_headers_and_no_body() {
    let mut req = get("/docs", &[]);
    *req.method_mut() = Method::HEAD;
    let r = run(req);
    assert_eq!(r.status(), StatusCode::OK);
    assert!(matches!(r.body(), Body::Empty));
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
}

#[test]
fn another_method_or_an_unknown_file_gets_the_error_body() {
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let mut req = get("/console", &[]);
        *req.method_mut() = method.clone();
        let r = run(req);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(r.headers()["allow"], "GET, HEAD");
    }
    for path in [
        "/console/nope.js",
        "/console/../Cargo.toml",
        "/docs/openapi",
    ] {
        let r = run(get(path, &[]));
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{path}");
        let Body::Text(body) = r.body() else {
            panic!("{path}: a JSON body")
        };
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["reason"], "RouteNotFound", "{path}");
        assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
}

/// What the pages are made of: text is never parsed as HTML, no script runs from a string, no
/// inline script or style (the CSP would refuse them anyway), nothing from another origin.
#[test]
fn the_pages_build_no_html_from_text_and_load_nothing_from_elsewhere() {
    for asset in ASSETS {
        let Ok(text) = std::str::from_utf8(asset.body) else {
            continue;
        };
        if asset.name.ends_with(".js") {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "setTimeout(\"",
                "setInterval(\"",
                "localStorage",
                "document.cookie",
                "createContextualFragment",
                "srcdoc",
            ] {
                assert!(!text.contains(sink), "{}: {sink}", asset.name);
            }
        }
        if asset.name.ends_with(".html") {
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains(" style="),
                "{}: an inline style",
                asset.name
            );
            let handler = lower.match_indices(" on").any(|(i, _)| {
                let rest = &lower[i + 3..];
                let name = rest.bytes().take_while(u8::is_ascii_lowercase).count();
                name > 0 && rest[name..].trim_start().starts_with('=')
            });
            assert!(!handler, "{}: an inline event handler", asset.name);
            for script in lower.split("<script").skip(1) {
                let tag = script.split('>').next().unwrap_or_default();
                assert!(
                    tag.contains("src=\"/console/"),
                    "{}: an inline script",
                    asset.name
                );
            }
        }
        for scheme in ["http://", "https://", "//cdn", "url(http"] {
            let found = text
                .match_indices(scheme)
                .map(|(i, _)| &text[i.saturating_sub(20)..(i + 40).min(text.len())])
                .filter(|around| !around.contains("www.w3.org/2000/svg"))
                .collect::<Vec<_>>();
            assert!(found.is_empty(), "{}: {found:?}", asset.name);
        }
    }
}

// ---- from the issue 25 attack review: each failed on the code as reviewed -------------------

/// A cache that holds the identity copy (tag `"X"`) and revalidates it with a request that
/// takes gzip gets `304` with `ETag: "X-gzip"` and `Content-Encoding: gzip`: a cache that
/// updates its stored headers from the 304 (RFC 9111 §4.3.4) now serves the plain bytes
/// labelled gzip. A 304 must describe the copy the client named, or the answer be a 200.
#[test]
fn attack_a_304_never_relabels_the_copy_the_client_holds() {
    let plain_tag = run(get("/console/console.js", &[])).headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = run(get(
        "/console/console.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &plain_tag)],
    ));
    if r.status() == StatusCode::NOT_MODIFIED {
        assert_eq!(
            r.headers()["etag"],
            plain_tag.as_str(),
            "the 304 names another copy"
        );
        assert!(
            r.headers().get("content-encoding").is_none(),
            "the 304 relabels an identity copy as gzip"
        );
    }
}

/// `gzip;q=0, *` refuses gzip explicitly (the `*` is for codings not named, RFC 9110 §12.5.3).
#[test]
fn attack_an_explicit_gzip_refusal_wins_over_a_star() {
    let r = run(get("/console", &[("accept-encoding", "gzip;q=0, *")]));
    assert!(r.headers().get("content-encoding").is_none());
}
