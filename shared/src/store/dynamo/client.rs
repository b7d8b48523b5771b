//! The DynamoDB client, configured from the environment the way Lambda provides it.
//!
//! `aws_config`'s default loader and the SDK's default HTTPS client cost a Lambda cold start
//! several milliseconds for nothing: profile files, provider chains with HTTP clients of their
//! own, and the machine's whole root store read from the file system (a bundle file and every
//! file of the certificates directory) while the client is built. On Lambda the environment is
//! the whole configuration and every AWS endpoint's certificate chains to Amazon Trust
//! Services, so the client here reads the environment, trusts five embedded roots, and is
//! built on first use.

use std::sync::OnceLock;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

use crate::env::ConfigError;

/// The roots trusted by default: Amazon Trust Services' (see the file).
const AMAZON_ROOTS: &str = include_str!("amazon-roots.pem");

/// What the client is built from, read and validated from the environment.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: String,
    /// `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`): a local DynamoDB-compatible server.
    pub endpoint: Option<String>,
    /// The HTTPS client (its connector, and the roots with it, is made at the first request).
    http: SharedHttpClient,
}

impl ClientSettings {
    /// Reads the region, the endpoint (`endpoint` overrides the environment's) and the roots.
    /// Credentials are read from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN` at the first request (Lambda sets them).
    pub fn from_env(endpoint: Option<&str>) -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or_else(|| ConfigError::new("AWS_REGION", "is required (Lambda sets it)"))?;
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| var("AWS_ENDPOINT_URL_DYNAMODB"))
            .or_else(|| var("AWS_ENDPOINT_URL"));
        let http = https_from_env()?;
        Ok(Self {
            region,
            endpoint,
            http,
        })
    }

    /// The client of these settings.
    pub fn client(&self) -> Client {
        let mut config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            )
            .http_client(self.http.clone());
        if let Some(url) = &self.endpoint {
            config = config.endpoint_url(url);
        }
        Client::from_conf(config.build())
    }
}

/// The production HTTPS client (tests and tools use it too): rustls on ring, trusting the
/// embedded Amazon roots, or the PEM file named by `AWS_CA_BUNDLE` instead. Its connector, and
/// the roots with it, is made at the first request.
pub fn http_client() -> Result<SharedHttpClient, ConfigError> {
    https_from_env()
}

fn https_from_env() -> Result<SharedHttpClient, ConfigError> {
    let roots = match std::env::var("AWS_CA_BUNDLE")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(path) => std::fs::read(&path)
            .ok()
            .filter(|pem| pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----"))
            .ok_or_else(|| {
                ConfigError::new(
                    "AWS_CA_BUNDLE",
                    "is not a readable file of PEM certificates",
                )
            })?,
        None => AMAZON_ROOTS.as_bytes().to_vec(),
    };
    let tls = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(roots))
        .build()
        .map_err(|e| ConfigError::new("AWS_CA_BUNDLE", e.to_string()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(tls)
        .build_https())
}

/// A client from the environment, built now; `endpoint` overrides the environment's.
pub fn client_from_env(endpoint: Option<&str>) -> Result<Client, ConfigError> {
    ClientSettings::from_env(endpoint).map(|s| s.client())
}

/// A client built on first use (or given ready-made).
pub(super) enum LazyClient {
    Ready(Client),
    OnFirstUse {
        cell: OnceLock<Client>,
        settings: ClientSettings,
    },
}

impl LazyClient {
    pub(super) fn new(settings: ClientSettings) -> Self {
        Self::OnFirstUse {
            cell: OnceLock::new(),
            settings,
        }
    }

    pub(super) fn ready(client: Client) -> Self {
        Self::Ready(client)
    }

    pub(super) fn get(&self) -> &Client {
        match self {
            Self::Ready(client) => client,
            Self::OnFirstUse { cell, settings } => cell.get_or_init(|| settings.client()),
        }
    }
}
