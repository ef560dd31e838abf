//! Lets this crate's test binaries find libtorch at run time without `LD_LIBRARY_PATH`.

fn main() {
    // Set by torch-sys (`links = "tch"`) for crates that depend on it directly.
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
}
