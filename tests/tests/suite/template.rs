//! `template.yaml` deploys exactly the router's routes, one function per `functions/` crate,
//! each with an IAM policy that allows exactly what its handler may ask of the store.

use liveroom::endpoint::Handler;
use liveroom::{rooms, service};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use liveroom::store::On;

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
    let mut routed = crate::common::routed();
    // The console's files: not API routes, one function of their own.
    routed.extend(
        liveroom_console::ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned())),
    );
    assert_eq!(deployed, routed);
}

/// One hop from a function to its handler: `functions/<name>/src/main.rs` imports one endpoint
/// type, named as its folder (`rtc-token` → `RtcToken`), and serves it. A main that served
/// another endpoint's type would deploy that endpoint under this one's routes, policy and keys.
#[test]
fn every_function_main_serves_the_endpoint_type_its_folder_names() {
    let squash = |s: &str| s.replace('-', "").to_ascii_lowercase();
    for endpoint in liveroom::http::endpoints() {
        let name = endpoint.name();
        let main = std::fs::read_to_string(root().join(format!("functions/{name}/src/main.rs")))
            .unwrap_or_else(|e| panic!("functions/{name}: {e}"));
        let types: Vec<&str> = main
            .lines()
            .filter_map(|l| l.strip_prefix("use liveroom::")?.strip_suffix(';'))
            .filter_map(|path| path.rsplit("::").next())
            .collect();
        let [ty] = types[..] else {
            panic!("functions/{name}: one `use liveroom::…::Type;` expected, found {types:?}");
        };
        assert_eq!(squash(ty), squash(name), "functions/{name} imports `{ty}`");
        // Its configuration (the secrets) is read for the same type it serves.
        let served = (main.contains(&format!("app_for::<{ty}>("))
            && main.contains(&format!("serve::<{ty}>(")))
            || main.contains(&format!("serve_static::<{ty}>("));
        assert!(served, "functions/{name} does not set up and serve `{ty}`");
    }
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
    let mut functions: BTreeSet<String> = liveroom::http::endpoints()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    // The functions that are not API endpoints: the scheduled sweeper, the stream's outbox, the
    // console's files.
    functions.insert("sweeper".to_owned());
    functions.insert("outbox".to_owned());
    functions.insert("console".to_owned());
    assert_eq!(binaries, crates);
    assert_eq!(crates, functions);
    assert!(
        template().contains("rate(1 minute)"),
        "the sweeper runs every minute"
    );
}

#[test]
fn the_template_keeps_the_private_key_out_of_the_template() {
    let text = template();
    assert!(text.contains("NoEcho: true"));
    assert!(text.contains("JWT_PRIVATE_KEY: !Ref JwtPrivateKey"));
    assert!(text.contains("JWT_PUBLIC_KEY: !Ref JwtPublicKey"));
    assert!(
        !text.contains("JWT_SECRET"),
        "no HS256 secret is deployed any more"
    );
    let param = text.split("\n  JwtPrivateKey:").nth(1).unwrap();
    let block: String = param.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(block.contains("NoEcho: true"), "{block}");
    assert!(
        !block.contains("Default:"),
        "the JWT private key must have no default"
    );
}

/// The DynamoDB actions a function's policy must allow: the union of its handler's
/// capabilities, split by where they act (the table, or its indexes).
fn needed(needs: &[liveroom::store::Capability]) -> BTreeSet<(String, On)> {
    needs
        .iter()
        .flat_map(|c| c.dynamodb_actions())
        .map(|(action, on)| (format!("dynamodb:{action}"), *on))
        .collect()
}

/// The (action, resource kind) pairs each function's policy in the template allows, by binary.
fn granted(text: &str) -> BTreeMap<String, BTreeSet<(String, On)>> {
    let mut out: BTreeMap<String, BTreeSet<(String, On)>> = BTreeMap::new();
    let mut binary: Option<String> = None;
    let mut actions: Vec<String> = Vec::new();
    let mut in_resources = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with(':') {
            binary = None; // a new resource
        }
        if let Some(b) = value(line, "Binary") {
            binary = Some(b.to_owned());
            out.entry(b.to_owned()).or_default();
        }
        let Some(b) = binary.clone() else { continue };
        if trimmed.starts_with("- Effect:") {
            actions.clear();
            in_resources = false;
        }
        if let Some(action) = trimmed.strip_prefix("- dynamodb:") {
            actions.push(format!("dynamodb:{action}"));
        }
        let resource = if let Some(r) = value(line, "Resource") {
            in_resources = r.is_empty();
            (!r.is_empty()).then(|| r.to_owned())
        } else if in_resources && trimmed.starts_with("- !") {
            trimmed.strip_prefix("- ").map(str::to_owned)
        } else {
            in_resources = false;
            None
        };
        if let Some(r) = resource {
            let on = match r.as_str() {
                "!GetAtt Table.Arn" => On::Table,
                r#"!Sub "${Table.Arn}/index/*""# => On::Index,
                other => panic!("{b}: unexpected resource {other}"),
            };
            let entry = out.entry(b).or_default();
            entry.extend(actions.iter().map(|a| (a.clone(), on)));
        }
    }
    out
}

/// The policy block the template should have for `needs` (printed when the test fails).
fn policy_yaml(needs: &BTreeSet<(String, On)>) -> String {
    let mut out =
        String::from("      Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n");
    for (on, resource) in [
        (On::Table, "!GetAtt Table.Arn"),
        (On::Index, r#"!Sub "${Table.Arn}/index/*""#),
    ] {
        let actions: Vec<&String> = needs
            .iter()
            .filter(|(_, o)| *o == on)
            .map(|(a, _)| a)
            .collect();
        if actions.is_empty() {
            continue;
        }
        out.push_str("            - Effect: Allow\n              Action:\n");
        for a in actions {
            out.push_str(&format!("                - {a}\n"));
        }
        out.push_str(&format!("              Resource: {resource}\n"));
    }
    out
}

#[test]
fn every_function_policy_allows_exactly_the_dynamodb_actions_of_its_capabilities() {
    let granted = granted(&template());
    let mut expected: BTreeMap<String, BTreeSet<(String, On)>> = liveroom::http::endpoints()
        .iter()
        .map(|e| (e.name().to_owned(), needed(e.needs())))
        .collect();
    let deliver = needed(liveroom::delivery::DELIVER_NEEDS);
    let mut sweeper = needed(liveroom::reclaim::SWEEP_NEEDS);
    sweeper.extend(deliver.iter().cloned());
    expected.insert("sweeper".to_owned(), sweeper);
    expected.insert("outbox".to_owned(), deliver);
    // The console serves files: no table access at all.
    expected.insert("console".to_owned(), BTreeSet::new());
    let mut wrong = Vec::new();
    for (function, needs) in &expected {
        let has = granted.get(function).cloned().unwrap_or_default();
        if &has != needs {
            wrong.push(format!(
                "{function}: the template grants {has:?}\nbut the handler needs {needs:?}; the policy should be:\n{}",
                policy_yaml(needs)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        granted.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>()
    );
}

#[test]
fn the_policy_check_would_catch_a_lost_or_an_extra_action() {
    let text = template();
    let before = granted(&text);
    // Lose an action: the `get` function's BatchGetItem.
    let get_block = text.find("Binary: get\n").expect("the get function");
    let lost = format!(
        "{}{}",
        &text[..get_block],
        text[get_block..].replacen("                - dynamodb:BatchGetItem\n", "", 1)
    );
    let after = granted(&lost);
    assert!(!after["get"].contains(&("dynamodb:BatchGetItem".to_owned(), On::Table)));
    assert_ne!(after["get"], needed(rooms::Get::ENDPOINT.needs()));
    // Gain one: PutItem for `list`.
    let list_block = text.find("Binary: list\n").expect("the list function");
    let gained = format!(
        "{}{}",
        &text[..list_block],
        text[list_block..].replacen(
            "                - dynamodb:Query\n",
            "                - dynamodb:Query\n                - dynamodb:PutItem\n",
            1
        )
    );
    assert_ne!(granted(&gained)["list"], before["list"]);
    assert_eq!(before["list"], needed(liveroom::rooms::LIST_NEEDS));
    assert_eq!(
        needed(liveroom::rooms::LIST_NEEDS).len(),
        2,
        "list: one Query on an index, the caller's bans in one BatchGetItem"
    );
}

/// The fast deploy path (`scripts/package`): the rewritten template points every function at
/// its prebuilt `bootstrap` and keeps everything else.
#[test]
fn the_fast_path_template_deploys_the_prebuilt_binaries_and_nothing_else_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("template.yaml");
    let lambda = root().join("target/lambda");
    let status = std::process::Command::new("python3")
        .arg(root().join("scripts/fast-template.py"))
        .arg(root().join("template.yaml"))
        .arg(&lambda)
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let fast = std::fs::read_to_string(&out).unwrap();
    assert!(!fast.contains("BuildMethod"));
    assert!(
        !fast.lines().any(|l| l == "    CodeUri: ."),
        "the shared CodeUri is gone"
    );
    let code_uris: BTreeSet<String> = fast
        .lines()
        .filter_map(|l| value(l, "CodeUri"))
        .map(|v| {
            let path = normalize(&dir.path().join(v));
            assert_eq!(path.parent(), Some(normalize(&lambda).as_path()), "{v}");
            path.file_name().unwrap().to_str().unwrap().to_owned()
        })
        .collect();
    let binaries: BTreeSet<String> = template()
        .lines()
        .filter_map(|l| value(l, "Binary"))
        .map(str::to_owned)
        .collect();
    assert_eq!(code_uris, binaries);
    // Only the build metadata changed: routes and policies are the same lines.
    let kept = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| {
                !l.contains("CodeUri")
                    && !l.contains("Metadata")
                    && !l.contains("Build")
                    && !l.contains("Binary")
            })
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(kept(&fast), kept(&template()));
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &std::path::Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap();
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The variables a function of `reads` reads, over every provider choice (Alibaba, Tencent,
/// LiveKit in each role it can serve) with every variable set; the sweeper and the outbox
/// (`delivery`) read their delivery settings too.
fn read_variables(reads: liveroom::env::SecretGroups, delivery: bool) -> BTreeSet<String> {
    use crate::credentials::{aliyun_vars, livekit_vars, tencent_vars};
    let common = [
        ("JWT_PRIVATE_KEY", crate::common::EVENTS_SECRET),
        ("JWT_PUBLIC_KEY", crate::common::EVENTS_PUBLIC_KEY),
        ("WEBHOOK_URL", "https://hooks.example.com/liveroom"),
        (
            "WEBHOOK_SECRET",
            "webhook-secret-for-the-tests-only-0123456789",
        ),
        ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com"),
        ("ALIYUN_LIVE_CALLBACK_KEY", "aliyun-callback-key"),
        ("TENCENT_LIVE_CALLBACK_KEY", "tencent-callback-key"),
        ("LIVEKIT_API_KEY", "lk_key"),
        (
            "LIVEKIT_API_SECRET",
            "livekit-secret-for-the-tests-0123456789",
        ),
    ];
    let mut livekit_rtc = livekit_vars();
    livekit_rtc.extend(
        tencent_vars()
            .into_iter()
            .filter(|(k, _)| *k != "RTC_PROVIDER"),
    );
    let mut read = BTreeSet::new();
    for vendor in [aliyun_vars(), tencent_vars(), livekit_rtc] {
        let env: BTreeMap<&str, &str> = common.iter().copied().chain(vendor).collect();
        let seen = std::cell::RefCell::new(BTreeSet::new());
        let lookup = |name: &str| {
            seen.borrow_mut().insert(name.to_owned());
            env.get(name).map(|v| (*v).to_owned())
        };
        let config = liveroom::Config::reading(reads, lookup).expect("a valid configuration");
        if delivery {
            liveroom::delivery::Delivery::from_lookup(lookup, &config).expect("valid delivery");
        }
        read.extend(seen.into_inner());
    }
    read
}

/// The environment variables the template gives each function (`Globals` and its own), by
/// binary.
fn given(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut globals = BTreeSet::new();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let (mut in_globals, mut binary, mut in_variables) = (false, None::<String>, false);
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_globals = line == "Globals:";
        }
        if line.starts_with("  ") && !line.starts_with("   ") && line.trim().ends_with(':') {
            binary = None;
        }
        if let Some(b) = value(line, "Binary") {
            binary = Some(b.to_owned());
            out.entry(b.to_owned()).or_default();
        }
        if line.trim() == "Variables:" {
            in_variables = true;
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let variable_line = indent == 8 && in_globals || indent == 10 && binary.is_some();
        if in_variables
            && variable_line
            && let Some((name, _)) = line.trim().split_once(':')
        {
            let set = match &binary {
                Some(b) if !in_globals => out.entry(b.clone()).or_default(),
                _ => &mut globals,
            };
            set.insert(name.to_owned());
            continue;
        }
        in_variables = false;
    }
    for vars in out.values_mut() {
        vars.extend(globals.iter().cloned());
    }
    out
}

/// The keys (every secret, and `JWT_PUBLIC_KEY`) each function reads, derived from the code:
/// its endpoint's [`Endpoint::secrets`] (the sweeper's and the outbox's
/// [`liveroom::env::SecretGroups::DELIVERY`] and delivery settings) as [`liveroom::Config::reading`] reads
/// them, over every vendor choice. By binary.
fn read_keys() -> BTreeMap<String, BTreeSet<String>> {
    let keys: BTreeSet<String> = liveroom::config::SECRET_VARIABLES
        .iter()
        .chain(liveroom::config::KEY_VARIABLES)
        .map(|s| (*s).to_owned())
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = liveroom::http::endpoints()
        .iter()
        .filter(|e| !matches!(**e, service::Health::ENDPOINT | service::OpenApi::ENDPOINT))
        .map(|e| (e.name().to_owned(), read_variables(e.secrets(), false)))
        .collect();
    // `health`, `openapi` and `console` read no configuration at all.
    out.insert("health".to_owned(), BTreeSet::new());
    out.insert("openapi".to_owned(), BTreeSet::new());
    out.insert("console".to_owned(), BTreeSet::new());
    for function in ["sweeper", "outbox"] {
        out.insert(
            function.to_owned(),
            read_variables(liveroom::env::SecretGroups::DELIVERY, true),
        );
    }
    for vars in out.values_mut() {
        vars.retain(|v| keys.contains(v));
    }
    out
}

/// The keys the template gives each function, by binary.
fn given_keys(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let keys: BTreeSet<&str> = liveroom::config::SECRET_VARIABLES
        .iter()
        .chain(liveroom::config::KEY_VARIABLES)
        .copied()
        .collect();
    let mut given = given(text);
    for vars in given.values_mut() {
        vars.retain(|v| keys.contains(v.as_str()));
    }
    given
}

/// Where the template gives a function a key its code does not read, or lacks one it reads.
fn wrong_keys(text: &str) -> Vec<String> {
    let (given, read) = (given_keys(text), read_keys());
    let mut wrong = Vec::new();
    for binary in given.keys().chain(read.keys()).collect::<BTreeSet<_>>() {
        let (has, reads) = (
            given.get(binary).cloned().unwrap_or_default(),
            read.get(binary).cloned().unwrap_or_default(),
        );
        if has != reads {
            wrong.push(format!("{binary}: given {has:?}, reads {reads:?}"));
        }
    }
    wrong
}

/// Issue 16, 11 and issue 21, 8: every function is given exactly the keys its code reads, key
/// by key (not by group): `health`, `openapi`, `console` and `register` none, the callbacks
/// their own key only, the sweeper and the outbox the IM administrator's key and the webhooks'
/// only, and so on.
#[test]
fn every_function_is_given_exactly_the_keys_it_reads() {
    // Every endpoint's function, the sweeper, the outbox and the console.
    assert_eq!(
        given(&template()).len(),
        liveroom::http::endpoints().len() + 3
    );
    let wrong = wrong_keys(&template());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The key check would catch a key given to a function that does not read it, and a key
/// missing from one that does.
#[test]
fn the_key_check_would_catch_an_extra_or_a_missing_key() {
    let text = template();
    assert!(wrong_keys(&text).is_empty());
    let block = |binary: &str| text.find(&format!("Binary: {binary}\n")).unwrap();
    // An extra: the sweeper given the RTC app's key.
    let sweeper = block("sweeper");
    let extra = format!(
        "{}{}",
        &text[..sweeper],
        text[sweeper..].replacen(
            "          TENCENT_SECRET_KEY: !Ref TencentSecretKey\n",
            "          TENCENT_SECRET_KEY: !Ref TencentSecretKey\n          ALIYUN_RTC_APP_KEY: !Ref AliyunRtcAppKey\n",
            1
        )
    );
    assert!(
        wrong_keys(&extra).iter().any(|w| w.starts_with("sweeper:")),
        "an extra key must be caught"
    );
    // A missing one: login without its private key.
    let login = block("login");
    let missing = format!(
        "{}{}",
        &text[..login],
        text[login..].replacen("          JWT_PRIVATE_KEY: !Ref JwtPrivateKey\n", "", 1)
    );
    assert!(
        wrong_keys(&missing).iter().any(|w| w.starts_with("login:")),
        "a missing key must be caught"
    );
}

/// The functions the template gives `key`.
fn holders(key: &str) -> BTreeSet<String> {
    given_keys(&template())
        .into_iter()
        .filter(|(_, vars)| vars.contains(key))
        .map(|(binary, _)| binary)
        .collect()
}

fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// Issue 21, 8: the sweeper and the outbox hold what delivering IM notices and webhooks needs
/// (the IM administrator's UserSig key, the webhooks' secret) and, issue 24, the vendors' API
/// credentials for the moderation calls (LiveKit's secret among them), and no push, pull or
/// IM user key; no other function holds the vendors' API credentials (the functions that
/// write the calls, a stop or a kick, do not make them); `ALIYUN_IM_APP_KEY` is held by
/// `token` alone, the RTC keys by the functions that sign room credentials (and LiveKit's
/// callback its secret, as its webhooks' key).
#[test]
fn delivery_holds_only_the_im_admin_key_and_im_app_keys_stay_with_token() {
    let keys = given_keys(&template());
    for function in ["sweeper", "outbox"] {
        assert_eq!(
            keys[function],
            names(&[
                "TENCENT_SECRET_KEY",
                "WEBHOOK_SECRET",
                "ALIYUN_ACCESS_KEY_ID",
                "ALIYUN_ACCESS_KEY_SECRET",
                "TENCENT_API_SECRET_ID",
                "TENCENT_API_SECRET_KEY",
                "LIVEKIT_API_SECRET",
            ]),
            "{function}"
        );
    }
    for key in [
        "ALIYUN_ACCESS_KEY_ID",
        "ALIYUN_ACCESS_KEY_SECRET",
        "TENCENT_API_SECRET_ID",
        "TENCENT_API_SECRET_KEY",
    ] {
        assert_eq!(holders(key), names(&["outbox", "sweeper"]), "{key}");
    }
    assert_eq!(holders("ALIYUN_IM_APP_KEY"), names(&["token"]));
    let room_info = [
        "create", "get", "join", "leave", "list", "pause", "start", "update",
    ];
    assert_eq!(holders("ALIYUN_LIVE_PUSH_AUTH_KEY"), names(&room_info));
    let mut rtc = names(&room_info);
    rtc.insert("rtc-token".to_owned());
    let mut livekit = rtc.clone();
    livekit.extend(names(&["livekit-callback", "outbox", "sweeper"]));
    assert_eq!(holders("LIVEKIT_API_SECRET"), livekit);
    rtc.insert("aliyun-call".to_owned());
    assert_eq!(holders("ALIYUN_RTC_APP_KEY"), rtc);
}

/// Issue 21, 8: only the functions that issue tokens hold the private key; every other function
/// that reads a token holds the public key alone. (Issue 26: `live-jump` issues the desktop
/// pusher's pair, and derives its link key from the private key.)
#[test]
fn only_the_functions_that_issue_tokens_hold_the_private_key() {
    assert_eq!(
        holders("JWT_PRIVATE_KEY"),
        names(&[
            "login",
            "refresh",
            "live-jump",
            "signature-login",
            "tencent-users",
            "token"
        ])
    );
    let public = holders("JWT_PUBLIC_KEY");
    assert!(public.is_disjoint(&holders("JWT_PRIVATE_KEY")));
    for verifier in [
        "get",
        "create",
        "logout",
        "tencent-rooms",
        "aliyun-call",
        "kick",
    ] {
        assert!(public.contains(verifier), "{verifier}");
    }
    for none in [
        "health",
        "openapi",
        "console",
        "register",
        "sweeper",
        "outbox",
        "alibaba-callback",
    ] {
        assert!(!public.contains(none), "{none}");
    }
}

/// The template's `CorsConfiguration` (API Gateway's, in AWS) is the policy the local server
/// applies (`liveroom::http::CORS`).
#[test]
fn the_template_cors_configuration_is_the_local_server_policy() {
    let params = liveroom_host::template::parameters(
        &std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap(),
    )
    .unwrap();
    let template =
        liveroom_host::template::Template::parse(&template(), &params, "liveroom").unwrap();
    let cors = template.cors.expect("the HTTP API has a CorsConfiguration");
    let policy = &liveroom::http::CORS;
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(cors.allow_origins, owned(policy.allow_origins));
    assert_eq!(cors.allow_methods, owned(policy.allow_methods));
    assert_eq!(cors.allow_headers, owned(policy.allow_headers));
    assert_eq!(cors.max_age, Some(u64::from(policy.max_age_seconds)));
    assert!(cors.expose_headers.is_empty() && !cors.allow_credentials);
}

/// Every setting a function's code reads is one the template can give it (a variable of its
/// environment, from a parameter): none a deployment could never change. Found by the
/// two-shapes suite (`MAX_BODY_BYTES`, `REFRESH_TOKEN_TTL_SECONDS` were read but never given).
#[test]
fn every_variable_a_function_reads_is_in_its_template_environment() {
    let given = given(&template());
    let mut missing = Vec::new();
    let mut reads: BTreeMap<String, BTreeSet<String>> = liveroom::http::endpoints()
        .iter()
        .filter(|e| !matches!(**e, service::Health::ENDPOINT | service::OpenApi::ENDPOINT))
        .map(|e| (e.name().to_owned(), read_variables(e.secrets(), false)))
        .collect();
    for function in ["sweeper", "outbox"] {
        reads.insert(
            function.to_owned(),
            read_variables(liveroom::env::SecretGroups::DELIVERY, true),
        );
    }
    for (binary, vars) in &reads {
        let has = given.get(binary).cloned().unwrap_or_default();
        for v in vars.difference(&has) {
            missing.push(format!("{binary}: {v}"));
        }
    }
    assert!(
        missing.is_empty(),
        "read but never given:\n{}",
        missing.join("\n")
    );
}

/// What `cargo tree` says `function` links (one crate a line), resolved as it is built.
fn linked(function: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .current_dir(root())
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
        ])
        .arg(function)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree -p {function}");
    String::from_utf8(out.stdout).unwrap()
}

/// The functions that need no state link no AWS SDK (and so no client or credentials code):
/// `health`, `openapi` and the console's files.
#[test]
fn the_stateless_functions_link_no_aws_sdk() {
    let sdk = |tree: &str| -> Vec<String> {
        tree.lines()
            .filter(|l| l.starts_with("aws-sdk-") || l.starts_with("aws-config"))
            .map(str::to_owned)
            .collect()
    };
    for function in ["console", "health", "openapi"] {
        let tree = linked(function);
        assert!(tree.contains("lambda_http"), "{function}: {tree}");
        assert!(sdk(&tree).is_empty(), "{function} links {:?}", sdk(&tree));
    }
    // The check would see one: `get` links the DynamoDB client.
    assert!(!sdk(&linked("get")).is_empty());
}
