//! Link-time fixes so that one `pairwise` binary runs on CPU and CUDA machines alike.
//!
//! * rustc's `--as-needed` drops `libtorch_cuda.so` because no symbol of it is referenced
//!   directly; CUDA then reads as unavailable. Link it with `--no-as-needed`.
//! * Record the libtorch directory as an rpath so that neither the binary nor the tests need
//!   `LD_LIBRARY_PATH`.

fn main() {
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
