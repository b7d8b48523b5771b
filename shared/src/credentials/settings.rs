//! The providers' settings, read from the environment: which vendor serves each role, and the
//! values each vendor needs, each validated once (a missing or bad one names its variable).

use crate::config::{ConfigError, Secret};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vendor {
    None,
    Aliyun,
    Tencent,
    Livekit,
}

pub(crate) fn vendor(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Vendor, ConfigError> {
    match lookup(variable).as_deref().map(str::trim) {
        None | Some("") | Some("none") => Ok(Vendor::None),
        Some("aliyun") => Ok(Vendor::Aliyun),
        Some("tencent") => Ok(Vendor::Tencent),
        Some("livekit") => Ok(Vendor::Livekit),
        Some(other) => Err(ConfigError::new(
            variable,
            format!("must be aliyun, tencent, livekit or none (got {other:?})"),
        )),
    }
}

/// Reads settings for the providers; each vendor reads only what its roles need.
pub(crate) struct Settings<'a, F: Fn(&str) -> Option<String>>(pub(crate) &'a F);

impl<F: Fn(&str) -> Option<String>> Settings<'_, F> {
    pub(crate) fn text(&self, variable: &'static str) -> Result<String, ConfigError> {
        match (self.0)(variable) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            _ => Err(ConfigError::new(
                variable,
                "is required by the configured provider",
            )),
        }
    }

    pub(crate) fn secret(&self, variable: &'static str) -> Result<Secret, ConfigError> {
        let value = self.text(variable)?;
        Secret::parse_min(variable, &value, 6)
    }

    pub(crate) fn optional_secret(
        &self,
        variable: &'static str,
    ) -> Result<Option<Secret>, ConfigError> {
        match (self.0)(variable) {
            Some(v) if !v.trim().is_empty() => Secret::parse_min(variable, v.trim(), 6).map(Some),
            _ => Ok(None),
        }
    }

    /// A host name (optionally with a port): what a stream URL is built on.
    pub(crate) fn domain(&self, variable: &'static str) -> Result<String, ConfigError> {
        let value = self.text(variable)?;
        let ok = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            && !value.starts_with(['.', '-', ':']);
        if ok {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(ConfigError::new(
                variable,
                format!("must be a host name (got {value:?})"),
            ))
        }
    }

    /// An id that goes into URLs and signed strings verbatim.
    pub(crate) fn id(&self, variable: &'static str) -> Result<String, ConfigError> {
        let value = self.text(variable)?;
        if value.len() <= 128
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Ok(value)
        } else {
            Err(ConfigError::new(
                variable,
                "must be letters, digits, _ - . (at most 128)",
            ))
        }
    }
}

/// The inbound callbacks' keys (each callback is on when its key is set, whatever the
/// providers are): `ALIYUN_LIVE_CALLBACK_KEY` (signing `ALIYUN_LIVE_PUSH_DOMAIN`, then
/// required), `TENCENT_LIVE_CALLBACK_KEY`, and `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`.
pub fn callback_keys(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<crate::callbacks::CallbackKeys, ConfigError> {
    let s = Settings(lookup);
    let set = |name: &str| lookup(name).is_some_and(|v| !v.trim().is_empty());
    let aliyun = if set("ALIYUN_LIVE_CALLBACK_KEY") {
        Some((
            s.domain("ALIYUN_LIVE_PUSH_DOMAIN")?,
            s.secret("ALIYUN_LIVE_CALLBACK_KEY")?,
        ))
    } else {
        None
    };
    let tencent = if set("TENCENT_LIVE_CALLBACK_KEY") {
        Some(s.secret("TENCENT_LIVE_CALLBACK_KEY")?)
    } else {
        None
    };
    let livekit = if set("LIVEKIT_API_KEY") && set("LIVEKIT_API_SECRET") {
        Some((
            s.id("LIVEKIT_API_KEY")?,
            Secret::parse("LIVEKIT_API_SECRET", &s.text("LIVEKIT_API_SECRET")?)?,
        ))
    } else {
        None
    };
    Ok(crate::callbacks::CallbackKeys {
        aliyun,
        tencent,
        livekit,
    })
}
