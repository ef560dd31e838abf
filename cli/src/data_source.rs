//! Where models and data sets are found, and the fetch of public BEIR archives.
//!
//! Data sets are looked up in order: `$PAIRWISE_DATA/<name>`, `../shared/data/<name>` (where the
//! tests and CI read them), the cache folder, and last the public BEIR archive, downloaded once
//! and checked against its SHA-256 before it is unpacked into the cache.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// Where `scripts/setup.sh` puts the default model, relative to the repository root.
const DEFAULT_MODEL: &str = "models/all-MiniLM-L6-v2";

/// A public BEIR archive with its published size and checksum.
struct BeirArchive {
    name: &'static str,
    url: &'static str,
    sha256: &'static str,
}

/// The archives we know checksums for (the sha256 of the file whose published md5 is
/// `5f7d1de60b170fc8027bb7898e2efca1`, 2,816,079 bytes).
const BEIR_ARCHIVES: [BeirArchive; 1] = [BeirArchive {
    name: "scifact",
    url: "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip",
    sha256: "536e14446a0ba56ed1398ab1055f39fe852686ecad24a6306c80c490fa8e0165",
}];

/// Largest archive we accept, to bound memory when a server misbehaves.
const MAX_ARCHIVE_BYTES: u64 = 512 * 1024 * 1024;

/// Places that may hold the repository's files: the working directory and the repository that
/// built this binary (`target/<profile>/pairwise` → two levels up).
fn roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from(".")];
    if let Some(repo) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
    {
        roots.push(repo);
    }
    roots
}

/// The default model folder: `$PAIRWISE_MODEL`, else the one the set-up fetched.
pub(crate) fn default_model_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PAIRWISE_MODEL") {
        return Ok(PathBuf::from(dir));
    }
    roots()
        .into_iter()
        .map(|root| root.join(DEFAULT_MODEL))
        .find(|dir| dir.join("model.safetensors").is_file())
        .context("no --model given and the default model is missing: run `make setup` (scripts/setup.sh) first")
}

/// Candidate folders for the shared data sets, most specific first.
fn data_roots() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("PAIRWISE_DATA") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.extend(roots().into_iter().map(|root| root.join("../shared/data")));
    dirs.push(cache_dir().join("datasets"));
    dirs
}

/// A file or folder of the shared data sets, e.g. `stsb/sts-test.csv`.
pub(crate) fn shared_data(relative: &str) -> anyhow::Result<PathBuf> {
    data_roots()
        .into_iter()
        .map(|root| root.join(relative))
        .find(|p| p.exists())
        .with_context(|| {
            format!("cannot find {relative}: set PAIRWISE_DATA to the folder holding the data sets")
        })
}

/// A BEIR data set by name, fetched from the public archive when no local copy exists.
pub(crate) fn beir_dataset(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(found) = data_roots()
        .into_iter()
        .map(|r| r.join(name))
        .find(|p| p.join("corpus.jsonl").is_file())
    {
        return Ok(found);
    }
    let Some(archive) = BEIR_ARCHIVES.iter().find(|a| a.name == name) else {
        bail!("no local copy of BEIR data set {name:?} (set PAIRWISE_DATA) and no known archive for it");
    };
    download_beir(archive, &cache_dir().join("datasets"))
}

fn cache_dir() -> PathBuf {
    std::env::var_os("PAIRWISE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("pairwise")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/pairwise")))
        .unwrap_or_else(|| PathBuf::from(".cache/pairwise"))
}

fn download_beir(archive: &BeirArchive, into: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("downloading {} from {}", archive.name, archive.url);
    let response = ureq::get(archive.url).call().with_context(|| {
        format!(
            "cannot download {} (no network?); put the data set under $PAIRWISE_DATA/{} instead",
            archive.url, archive.name
        )
    })?;
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(MAX_ARCHIVE_BYTES)
        .read_to_end(&mut bytes)
        .context("download interrupted")?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != archive.sha256 {
        bail!(
            "{}: checksum mismatch (sha256 {digest}, expected {})",
            archive.url,
            archive.sha256
        );
    }
    fs_err::create_dir_all(into)?;
    let staging = tempfile::tempdir_in(into)?;
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .and_then(|mut zip| zip.extract(staging.path()))
        .with_context(|| format!("cannot unpack {}", archive.url))?;
    let target = into.join(archive.name);
    fs_err::rename(staging.path().join(archive.name), &target)?;
    Ok(target)
}
