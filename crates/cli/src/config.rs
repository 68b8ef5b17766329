//! Settings, layered: built-in defaults, then a TOML file, then
//! `GRIDSWEEP_*` environment variables, then command-line flags — each
//! layer overriding the one before, so a deployment can keep its file and
//! an operator can still override one value for one run.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The resolved settings every command reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Where `serve` listens.
    pub addr: String,
    /// A tracing filter such as `info` or `gridsweep_server=debug`.
    pub log: String,
    /// Adds `Secure` to the session cookie (serve behind TLS).
    pub secure_cookies: bool,
    /// The response playbook `serve` acts on (TOML, docs/playbook.md);
    /// none: the 6·13 defaults.
    pub playbook: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://gridsweep.db".into(),
            addr: "127.0.0.1:8080".into(),
            log: "info".into(),
            secure_cookies: false,
            playbook: None,
        }
    }
}

/// One layer: any value may be absent.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub database_url: Option<String>,
    pub addr: Option<String>,
    pub log: Option<String>,
    pub secure_cookies: Option<bool>,
    pub playbook: Option<PathBuf>,
}

impl Layer {
    /// The `GRIDSWEEP_*` variables of an environment.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            database_url: get("GRIDSWEEP_DATABASE_URL"),
            addr: get("GRIDSWEEP_ADDR"),
            log: get("GRIDSWEEP_LOG"),
            secure_cookies: get("GRIDSWEEP_SECURE_COOKIES")
                .map(|v| matches!(v.as_str(), "1" | "true" | "yes")),
            playbook: get("GRIDSWEEP_PLAYBOOK").map(PathBuf::from),
        }
    }

    /// A TOML file with the same keys.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }
}

impl Config {
    /// Applies a layer on top.
    pub fn apply(mut self, l: Layer) -> Self {
        if let Some(v) = l.database_url {
            self.database_url = v;
        }
        if let Some(v) = l.addr {
            self.addr = v;
        }
        if let Some(v) = l.log {
            self.log = v;
        }
        if let Some(v) = l.secure_cookies {
            self.secure_cookies = v;
        }
        if let Some(v) = l.playbook {
            self.playbook = Some(v);
        }
        self
    }

    /// Defaults → file (`--config`, else `gridsweep.toml` if present) →
    /// environment → flags.
    pub fn resolve(file: Option<&PathBuf>, flags: Layer) -> Result<Self> {
        let mut cfg = Config::default();
        let default_file = PathBuf::from("gridsweep.toml");
        match file {
            Some(p) => cfg = cfg.apply(Layer::from_file(p)?),
            None if default_file.exists() => cfg = cfg.apply(Layer::from_file(&default_file)?),
            None => {}
        }
        cfg = cfg.apply(Layer::from_env(|k| std::env::var(k).ok()));
        Ok(cfg.apply(flags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_override_in_order() {
        let file: Layer = toml::from_str(
            "database_url = \"postgres://file\"\naddr = \"0.0.0.0:1\"\nlog = \"debug\"",
        )
        .unwrap();
        let env = Layer::from_env(|k| (k == "GRIDSWEEP_ADDR").then(|| "0.0.0.0:2".to_string()));
        let flags = Layer {
            log: Some("warn".into()),
            ..Default::default()
        };
        let cfg = Config::default().apply(file).apply(env).apply(flags);
        assert_eq!(cfg.database_url, "postgres://file");
        assert_eq!(cfg.addr, "0.0.0.0:2");
        assert_eq!(cfg.log, "warn");
        assert!(toml::from_str::<Layer>("unknown = 1").is_err());
        assert_eq!(cfg.playbook, None);
        let file: Layer = toml::from_str("playbook = \"playbook.toml\"").unwrap();
        let env = Layer::from_env(|k| (k == "GRIDSWEEP_PLAYBOOK").then(|| "/etc/pb.toml".into()));
        let cfg = Config::default().apply(file.clone());
        assert_eq!(cfg.playbook, Some(PathBuf::from("playbook.toml")));
        let cfg = cfg.apply(env);
        assert_eq!(cfg.playbook, Some(PathBuf::from("/etc/pb.toml")));
    }
}
