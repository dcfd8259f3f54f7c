//! build.rs: links libbootstrap.a and its dependencies -lbpf -ldw -lelf -lz -llzma (libbpf,
//! the system's, beside the archive, not inside it: an agent calling libbpf too, on
//! libbpf-sys with its `novendor` feature, has one libbpf in the process),
//! and points the crate at the types.gen.rs that typegen made from the same events.toml.
//! Both come from `make` in the repository root, which sets BOOTSTRAP_LIB and
//! BOOTSTRAP_GEN_DIR; without them the crate looks where a plain `make` puts them.

use std::env;
use std::path::{Path, PathBuf};
use std::process;

/// The path in `var`, or `default`; a relative one is taken from the crate's directory
/// (and made absolute, as include!() would otherwise take it from the including file).
fn setting(var: &str, default: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={}", var);
    let path = env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    Path::new(&env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join(path)
}

fn require(path: &Path, var: &str) {
    if !path.is_file() {
        eprintln!(
            "error: {} is missing: run `make` in the repository root first (it builds \
             libbootstrap.a and build/gen/types.gen.rs), or set {} to where they are",
            path.display(),
            var
        );
        process::exit(1);
    }
    // A rebuilt archive or a regenerated schema relinks or recompiles the crate.
    println!("cargo:rerun-if-changed={}", path.display());
}

fn main() {
    let lib = setting("BOOTSTRAP_LIB", "../libbootstrap.a");
    let types = setting("BOOTSTRAP_GEN_DIR", "../build/gen").join("types.gen.rs");
    require(&lib, "BOOTSTRAP_LIB");
    require(&types, "BOOTSTRAP_GEN_DIR");

    let name = lib.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = match name.strip_prefix("lib").and_then(|n| n.strip_suffix(".a")) {
        Some(name) => name,
        None => {
            eprintln!("error: BOOTSTRAP_LIB must name a static archive libNAME.a, not {}", lib.display());
            process::exit(1);
        }
    };
    let dir = lib.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static={}", name);
    println!("cargo:rustc-link-lib=bpf");
    println!("cargo:rustc-link-lib=dw");
    println!("cargo:rustc-link-lib=elf");
    println!("cargo:rustc-link-lib=z");
    println!("cargo:rustc-link-lib=lzma");
    println!("cargo:rustc-env=BOOTSTRAP_TYPES_RS={}", types.display());
}
