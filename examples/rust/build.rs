// Links libinkling: from INKLING_LIB_DIR (the build tree or an install prefix's lib/),
// otherwise from the system library path.
fn main() {
    println!("cargo:rerun-if-env-changed=INKLING_LIB_DIR");
    if let Ok(dir) = std::env::var("INKLING_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rustc-link-lib=dylib=inkling");
}
