//! Link-time fixes so that one `pairwise` binary runs on CPU and CUDA machines alike.
//!
//! * rustc's `--as-needed` drops `libtorch_cuda.so` because no symbol of it is referenced
//!   directly; CUDA then reads as unavailable. Link it with `--no-as-needed`.
//! * Record the libtorch directory as an rpath so that neither the binary nor the tests need
//!   `LD_LIBRARY_PATH`.
//! * Record the git commit, which every result file carries.

fn main() {
    record_commit();
    // Set by torch-sys (`links = "tch"`) for crates that depend on it directly.
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    let cuda = std::path::Path::new(&lib_dir).join("libtorch_cuda.so");
    if cuda.exists() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--no-as-needed,-L{lib_dir},-ltorch_cuda,--as-needed"
        );
    }
}

/// Exposes the current commit as `PAIRWISE_COMMIT` ("unknown" outside a git checkout).
fn record_commit() {
    for path in ["../.git/HEAD", "../.git/refs/heads", "../.git/packed-refs"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
    println!("cargo:rustc-env=PAIRWISE_COMMIT={commit}");
}
