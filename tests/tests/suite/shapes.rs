//! The two shapes the HTTP suites (`api`, `aui`, `dialects`) run against (issue 23), one
//! black-box suite for both:
//!
//! - **Local**: `liveroom-local` in-process over the test's data dir, its `vars` as its
//!   environment;
//! - **Functions**: `template.yaml` served as AWS would (`liveroom_host::gateway::Host`): the real
//!   function debug binaries (built once per run, `functions::bin_dir`) behind API Gateway's
//!   payload 2.0, over a table of the test DynamoDB server. The test's `vars` reach the functions
//!   as they do in AWS: each as the value of the template **parameter** the variable `!Ref`s,
//!   over `host/local-parameters.json` (`JWT_PUBLIC_KEY`, which the verifying functions take,
//!   derived from `JWT_PRIVATE_KEY` with the core crate's own key types). A variable that no
//!   parameter carries fails the test's setup: a setting the local server reads but the template
//!   cannot give the functions is configuration drift, which this shape is here to catch.
//!
//! One data dir is one table: starting a Functions server again over the same data dir is a new
//! host (every instance cold) over the same table, as a restart of the local server is a new
//! process over the same store.
//!
//! Never here: the requests and what the suites assert of the answers (`api`, `aui`,
//! `dialects`); the host itself (`host/`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use liveroom_host::dynamodb::Dynamo;
use liveroom_host::gateway::{Host, Settings};
use liveroom_host::template::{Template, parameters};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which server a suite drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `liveroom-local`, in-process.
    Local,
    /// `template.yaml` through the real function binaries.
    Functions,
}

/// A function instance idle this long is stopped (between a suite's calls instances stay warm;
/// `stop` shuts the host down, every instance with it).
const IDLE: Duration = Duration::from_secs(10);

/// A running server of either shape: its base URL; stopped by [`Backend::stop`].
pub(crate) struct Backend {
    pub(crate) base: String,
    running: Running,
}

enum Running {
    Local {
        stop: Option<oneshot::Sender<()>>,
        task: Option<JoinHandle<()>>,
    },
    Functions {
        host: Arc<Host>,
        serve: JoinHandle<()>,
    },
}

impl Backend {
    /// A server of `shape` configured by `vars` (environment names and values), its state in
    /// `data_dir` (Local) or the table of `data_dir` (Functions).
    pub(crate) async fn start(shape: Shape, data_dir: &Path, vars: Vec<(String, String)>) -> Self {
        match shape {
            Shape::Local => Self::local(data_dir, vars).await,
            Shape::Functions => Self::functions(data_dir, &vars).await,
        }
    }

    async fn local(data_dir: &Path, vars: Vec<(String, String)>) -> Self {
        let (app, _) = liveroom_local::open_app(data_dir, move |k| {
            vars.iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
        })
        .expect("open app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(liveroom_local::run(listener, Arc::new(app), async {
            let _ = stopped.await;
        }));
        Self {
            base,
            running: Running::Local {
                stop: Some(stop),
                task: Some(task),
            },
        }
    }

    async fn functions(data_dir: &Path, vars: &[(String, String)]) -> Self {
        let bin_dir = tokio::task::spawn_blocking(crate::functions::bin_dir)
            .await
            .unwrap();
        let (table, new) = table_of(data_dir);
        let text = template();
        let params = parameter_values(&text, vars);
        let template = Template::parse(&text, &params, &table).unwrap();
        if new {
            // Made from the template's own definition, as `scripts/serve-functions` makes it.
            let made = Dynamo::new(&crate::common::dynamodb_endpoint())
                .create_table(template.table.as_ref().unwrap(), &table)
                .await
                .unwrap();
            assert!(made, "{table} existed");
        }
        let settings = Settings::new(bin_dir, &crate::common::dynamodb_endpoint());
        // LIVEROOM_TEST_FUNCTION_OUTPUT=1 shows the functions' lines and REPORTs (debugging).
        let settings = if std::env::var_os("LIVEROOM_TEST_FUNCTION_OUTPUT").is_some() {
            settings
        } else {
            settings.quiet()
        };
        let host = Host::new(
            template,
            Settings {
                idle: IDLE,
                ..settings
            },
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let host = Arc::new(host);
        let serve = tokio::spawn(Arc::clone(&host).serve(listener));
        Self {
            base,
            running: Running::Functions { host, serve },
        }
    }

    /// Stops accepting; the local server's task is awaited, so its store file is released.
    pub(crate) async fn stop(self) {
        match self.running {
            Running::Local { mut stop, mut task } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(task) = task.take() {
                    task.await.unwrap();
                }
            }
            Running::Functions { host, serve } => {
                // Every instance stops (a restart over the same table starts cold).
                host.shutdown();
                serve.await.unwrap();
            }
        }
    }
}

fn template() -> String {
    std::fs::read_to_string(crate::functions::root().join("template.yaml")).unwrap()
}

/// The table of a data dir, and whether it is new (to be made: the first start over it).
fn table_of(data_dir: &Path) -> (String, bool) {
    static TABLES: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut tables = TABLES.get_or_init(Default::default).lock().unwrap();
    if let Some(table) = tables.get(data_dir) {
        return (table.clone(), false);
    }
    let table = format!("liveroom-shape-{}", uuid::Uuid::new_v4().simple());
    tables.insert(data_dir.to_owned(), table.clone());
    (table, true)
}

/// The parameters the template declares (the keys of its `Parameters` section).
fn declared(text: &str) -> BTreeSet<String> {
    text.lines()
        .skip_while(|l| *l != "Parameters:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(|l| l.trim().trim_end_matches(':').to_owned())
        .collect()
}

/// Each environment variable of the template (Globals' or a function's) and the parameters it
/// is `!Ref`ed to (`JWT_PUBLIC_KEY: !Ref JwtPublicKey`).
fn carriers(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let params = declared(text);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.trim().split_once(": !Ref ") else {
            continue;
        };
        let is_variable = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if is_variable && params.contains(value.trim()) {
            out.entry(name.to_owned())
                .or_default()
                .insert(value.trim().to_owned());
        }
    }
    out
}

/// The parameter values the functions get for a test's `vars`: `host/local-parameters.json`,
/// each variable's value as the parameter it refs, and `JwtPublicKey` the public half of a
/// given `JWT_PRIVATE_KEY`. Panics on a variable no template parameter carries.
fn parameter_values(text: &str, vars: &[(String, String)]) -> BTreeMap<String, String> {
    let file = crate::functions::root().join("host/local-parameters.json");
    let mut values = parameters(&std::fs::read_to_string(file).unwrap()).unwrap();
    let carriers = carriers(text);
    for (var, value) in vars {
        let params = carriers.get(var).unwrap_or_else(|| {
            panic!(
                "test setup: `{var}` is no template parameter's variable, so no function would \
                 get it in AWS (template.yaml maps each variable to `!Ref Parameter`)"
            )
        });
        let [param] = Vec::from_iter(params).try_into().unwrap_or_else(|_| {
            panic!("test setup: `{var}` refs several parameters in template.yaml: {params:?}")
        });
        values.insert(param.clone(), value.clone());
    }
    let given = |name: &str| vars.iter().any(|(k, _)| k == name);
    // The suites never reach a real vendor: unless a test gives its own stand-in, the functions
    // that keep a room's Tencent IM group (the outbox, the sweeper) call a refused loopback port,
    // not the template's default `https://console.tim.qq.com`. (Local's suites run no outbox.)
    if !given("TENCENT_IM_API_BASE") {
        values.insert(
            "TencentImApiBase".to_owned(),
            "http://127.0.0.1:9".to_owned(),
        );
    }
    if given("JWT_PRIVATE_KEY") && !given("JWT_PUBLIC_KEY") {
        let private = &values["JwtPrivateKey"];
        // A key that does not parse stays as given: the functions that issue refuse to start.
        if let Ok(key) = liveroom::env::JwtPrivateKey::parse("JWT_PRIVATE_KEY", private) {
            values.insert("JwtPublicKey".to_owned(), key.public_key().to_base64());
        }
    }
    values
}

#[test]
fn every_variable_a_suite_gives_is_a_template_parameter_and_others_are_refused() {
    let text = template();
    let vars: Vec<(String, String)> = [
        ("JWT_PRIVATE_KEY", crate::common::EVENTS_SECRET),
        ("TENCENT_SECRET_KEY", "k"),
        ("METRICS_MAX_AGE_SECONDS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let values = parameter_values(&text, &vars);
    assert_eq!(values["TencentSecretKey"], "k");
    assert_eq!(values["MetricsMaxAgeSeconds"], "1");
    assert_eq!(values["JwtPublicKey"], crate::common::EVENTS_PUBLIC_KEY);
    assert_eq!(values["TencentImApiBase"], "http://127.0.0.1:9");
    // TABLE_NAME refs the table, not a parameter; a name no function reads refs nothing.
    for var in ["TABLE_NAME", "LIVEROOM_NO_SUCH_SETTING"] {
        let unknown = vec![(var.to_owned(), "x".to_owned())];
        let refused = std::panic::catch_unwind(|| parameter_values(&text, &unknown));
        assert!(refused.is_err(), "{var} must be refused");
    }
}
