//! `pairwise serve`: the HTTP search service.
//!
//! Settings are layered: defaults < the TOML file (`--config`) < environment variables
//! `PAIRWISE_SERVER__<KEY>` or `PAIRWISE_SERVER__<SECTION>__<KEY>` (e.g.
//! `PAIRWISE_SERVER__ENCODER__MAX_BATCH=1`) < command-line flags.

use std::net::ToSocketAddrs;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pairwise_server::ServerConfig;

use crate::data_source;

/// Prefix of the environment variables that override the config file.
const ENV_PREFIX: &str = "PAIRWISE_SERVER__";

/// Arguments of `pairwise serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Folder holding one sub-folder per collection [default: data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on, HOST:PORT [default: 127.0.0.1:8080]
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Default model folder [default: the embedded all-MiniLM-L6-v2]
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// API key required for writes (repeatable; adds to the config file's keys)
    #[arg(long, value_name = "KEY")]
    api_key: Vec<String>,
    /// TOML config file (see configs/server.toml)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Most texts per encoder forward pass (1 turns dynamic batching off)
    #[arg(long, value_name = "N")]
    max_batch: Option<usize>,
}

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = resolve(args, std::env::vars())?;
    let default_model = match &config.model {
        Some(dir) => dir.clone(),
        None => data_source::default_model_dir()?,
    };
    let default_model = fs_err::canonicalize(&default_model)
        .with_context(|| format!("the model folder {}", default_model.display()))?;
    eprintln!(
        "pairwise serve: listening on http://{} (data: {}, model: {})",
        config.addr,
        config.data_dir.display(),
        default_model.display()
    );
    pairwise_server::run(config, default_model)?;
    eprintln!("pairwise serve: stopped cleanly");
    Ok(())
}

/// Layers defaults, the config file, the environment and the flags.
fn resolve(
    args: &ServeArgs,
    env: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<ServerConfig> {
    let mut table = match &args.config {
        Some(path) => {
            let text = fs_err::read_to_string(path)?;
            toml::from_str::<toml::Table>(&text)
                .with_context(|| format!("{} is not valid TOML", path.display()))?
        }
        None => toml::Table::new(),
    };
    for (key, raw) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        set(&mut table, &path, parse_scalar(&raw))
            .with_context(|| format!("environment variable {key}"))?;
    }
    let mut config: ServerConfig = toml::Value::Table(table)
        .try_into()
        .context("invalid server config")?;
    if let Some(dir) = &args.data_dir {
        config.data_dir.clone_from(dir);
    }
    if let Some(addr) = &args.addr {
        config.addr = addr
            .to_socket_addrs()
            .with_context(|| format!("--addr {addr}: expected HOST:PORT"))?
            .next()
            .with_context(|| format!("--addr {addr} resolves to no address"))?;
    }
    if let Some(model) = &args.model {
        config.model = Some(model.clone());
    }
    config.auth.api_keys.extend(args.api_key.iter().cloned());
    if let Some(max_batch) = args.max_batch {
        config.encoder.max_batch = max_batch;
    }
    config.validate()?;
    Ok(config)
}

/// An environment value as TOML (`1`, `true`, `["a"]`), else as a plain string.
fn parse_scalar(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set(table: &mut toml::Table, path: &[String], value: toml::Value) -> anyhow::Result<()> {
    match path {
        [] => anyhow::bail!("empty key"),
        [key] => {
            table.insert(key.clone(), value);
            Ok(())
        }
        [section, rest @ ..] => {
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(inner) = entry else {
                anyhow::bail!("{section} is not a section");
            };
            set(inner, rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(config: Option<PathBuf>) -> ServeArgs {
        ServeArgs {
            data_dir: None,
            addr: None,
            model: None,
            api_key: Vec::new(),
            config,
            max_batch: None,
        }
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        fs_err::write(
            &file,
            "data_dir = \"from-file\"\n[encoder]\nmax_batch = 8\nmax_wait_us = 500\n",
        )
        .unwrap();
        let mut args = args(Some(file));
        let env = [
            ("PAIRWISE_SERVER__ENCODER__MAX_BATCH", "16"),
            ("PAIRWISE_SERVER__AUTH__PROTECT_READS", "true"),
            ("PAIRWISE_SERVER__DATA_DIR", "from-env"),
            ("UNRELATED", "x"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config = resolve(&args, env.clone().into_iter()).unwrap();
        assert_eq!(config.encoder.max_batch, 16);
        assert_eq!(config.encoder.max_wait_us, 500);
        assert!(config.auth.protect_reads);
        assert_eq!(config.data_dir, PathBuf::from("from-env"));

        args.max_batch = Some(1);
        args.addr = Some("127.0.0.1:0".to_owned());
        args.api_key = vec!["k".to_owned()];
        let config = resolve(&args, env.into_iter()).unwrap();
        assert_eq!(config.encoder.max_batch, 1);
        assert_eq!(config.addr.port(), 0);
        assert_eq!(config.auth.api_keys, ["k"]);
    }

    #[test]
    fn the_example_config_parses_to_the_defaults() {
        let example = include_str!("../../../configs/server.toml");
        let config = ServerConfig::from_toml(example).unwrap();
        assert_eq!(config, ServerConfig::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let typo = [(
            "PAIRWISE_SERVER__ENCODER__MAX_BACH".to_owned(),
            "2".to_owned(),
        )];
        assert!(resolve(&args(None), typo.into_iter()).is_err());
        let zero = [(
            "PAIRWISE_SERVER__ENCODER__MAX_BATCH".to_owned(),
            "0".to_owned(),
        )];
        assert!(resolve(&args(None), zero.into_iter()).is_err());
    }
}
