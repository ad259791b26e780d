//! The release `evalgate` binary the benches run as child processes, built on demand.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo build --release --bin evalgate`, and the path of the binary.
pub fn release_binary() -> Result<PathBuf, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building: cargo build --release --bin evalgate");
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--bin", "evalgate"])
        .current_dir(manifest);
    // The variables cargo sets for this bench would leak into the nested build and change
    // build-script fingerprints (ring reruns on CARGO_MANIFEST_DIR), so every bench run
    // and every later plain `cargo build --release` would rebuild half the tree.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref())
        {
            cmd.env_remove(name.as_ref());
        }
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release failed: {status}"));
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => manifest.join(dir),
        _ => manifest.join("target"),
    };
    let bin = target
        .join("release")
        .join(format!("evalgate{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        return Err(format!("{} not found after the build", bin.display()));
    }
    Ok(bin)
}
