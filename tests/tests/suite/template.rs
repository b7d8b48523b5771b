//! `template.yaml` deploys exactly the router's routes, one function per `functions/` crate.

use std::collections::BTreeSet;
use std::path::PathBuf;

use liveroom::http::Endpoint;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> String {
    std::fs::read_to_string(root().join("template.yaml")).unwrap()
}

/// The value after `key:` on a trimmed line.
fn value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix(key)?
        .strip_prefix(':')
        .map(str::trim)
}

#[test]
fn the_template_routes_are_the_router_routes() {
    let text = template();
    let lines: Vec<&str> = text.lines().collect();
    let mut deployed = BTreeSet::new();
    for pair in lines.windows(2) {
        if let (Some(method), Some(path)) = (value(pair[0], "Method"), value(pair[1], "Path")) {
            deployed.insert((method.to_owned(), path.to_owned()));
        }
    }
    assert_eq!(deployed, crate::common::routed());
}

#[test]
fn every_function_crate_is_one_endpoint_with_a_template_entry() {
    let text = template();
    let binaries: BTreeSet<String> = text
        .lines()
        .filter_map(|l| value(l, "Binary"))
        .map(str::to_owned)
        .collect();
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut functions: BTreeSet<String> =
        Endpoint::ALL.iter().map(|e| e.name().to_owned()).collect();
    // The one function that is not an HTTP endpoint: the scheduled sweeper.
    functions.insert("sweeper".to_owned());
    assert_eq!(binaries, crates);
    assert_eq!(crates, functions);
    assert!(
        template().contains("rate(1 minute)"),
        "the sweeper runs every minute"
    );
}

#[test]
fn the_template_keeps_the_secret_out_of_the_template() {
    let text = template();
    assert!(text.contains("NoEcho: true"));
    assert!(text.contains("JWT_SECRET: !Ref JwtSecret"));
    let secret_param = text.split("JwtSecret:").nth(1).unwrap();
    let block: String = secret_param.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(
        !block.contains("Default:"),
        "the JWT secret must have no default"
    );
}
