//! What a harness user builds: a fresh crate with `evalgate` as a dev-dependency and a
//! `harness = false` test target, as the README shows. Run with `cargo bench --bench
//! footprint`.
//!
//! It prints the packages cargo resolves for that crate (`cargo tree -e normal,build,dev
//! --prefix none`, each package once), the raw line count of the same command (with its
//! `(*)` repeats), and the packages each direct dependency of `evalgate` brings alone.
//! With `EVALGATE_BENCH_COLD_BUILD=1` it also cold-builds the crate's tests in a fresh
//! target folder and reports the CPU seconds (user + system of every process cargo
//! started), the wall time and the size of the debug test binary.
//!
//! `EVALGATE_BENCH_FEATURES=json-schema,snapshots` turns on those features of `evalgate`
//! (default: none beyond its defaults, as the README shows);
//! `EVALGATE_BENCH_NO_DEFAULT_FEATURES=1` turns its default features (the run history) off.
//!
//! `EVALGATE_BENCH_EVALGATE=<folder>` measures another checkout's `evalgate` crate (the
//! folder holding its Cargo.toml, e.g. a `git worktree` of an older commit) for a side by
//! side comparison; its Cargo.lock is used when it has one next to it or at its workspace
//! root two levels up.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[path = "../tests/support/user_crate.rs"]
mod user_crate;

fn main() {
    let evalgate = std::env::var_os("EVALGATE_BENCH_EVALGATE")
        .map(PathBuf::from)
        .unwrap_or_else(user_crate::evalgate_crate);
    let project = tempfile::tempdir().expect("a temporary folder");
    let root = project.path();
    // The same versions as the checkout measured, so the counts compare like with like.
    let lock = [
        evalgate.join("Cargo.lock"),
        evalgate.join("../../Cargo.lock"),
    ]
    .into_iter()
    .find(|p| p.exists());
    let features = std::env::var("EVALGATE_BENCH_FEATURES").unwrap_or_default();
    let features: Vec<&str> = features.split(',').filter(|f| !f.is_empty()).collect();
    user_crate::write(
        root,
        &user_crate::UserCrate {
            name: "user-agent",
            evalgate: &evalgate,
            features: &features,
            default_features: std::env::var("EVALGATE_BENCH_NO_DEFAULT_FEATURES").is_err(),
            lock: lock.as_deref(),
        },
        "fn main() -> std::process::ExitCode {\n    evalgate::main()\n}\n",
    );

    let tree = cargo(
        root,
        &["tree", "-e", "normal,build,dev", "--prefix", "none"],
    );
    let mut lines: Vec<&str> = tree.lines().collect();
    lines.sort_unstable();
    lines.dedup();
    let raw = lines.len();
    let mut packages: Vec<&str> = lines.iter().map(|l| l.trim_end_matches(" (*)")).collect();
    packages.sort_unstable();
    packages.dedup();
    println!(
        "evalgate at {}, features: {}",
        evalgate.display(),
        match (
            features.is_empty(),
            std::env::var("EVALGATE_BENCH_NO_DEFAULT_FEATURES").is_ok()
        ) {
            (true, false) => "the defaults".to_string(),
            (true, true) => "none (default-features = false)".to_string(),
            (false, false) => format!("the defaults and {}", features.join(", ")),
            (false, true) => format!("only {}", features.join(", ")),
        }
    );
    println!(
        "packages resolved: {} (the crate itself included; {raw} lines with `(*)` repeats)",
        packages.len()
    );

    // What each direct dependency brings alone (shared packages count for each).
    let direct = cargo(
        root,
        &[
            "tree",
            "-e",
            "normal,dev",
            "--prefix",
            "depth",
            "-p",
            "evalgate",
        ],
    );
    let mut alone = Vec::new();
    // Depth 1 only: `1name v1.2.3`, not `12name …`.
    let depth_one =
        |l: &&str| l.starts_with('1') && !l[1..].starts_with(|c: char| c.is_ascii_digit());
    for line in direct.lines().filter(depth_one) {
        let spec = line[1..].split(' ').take(2).collect::<Vec<_>>().join("@");
        let spec = spec.replacen("@v", "@", 1);
        let own = cargo(
            root,
            &[
                "tree",
                "-e",
                "normal,build,dev",
                "--prefix",
                "none",
                "-p",
                &spec,
            ],
        );
        let mut own: Vec<&str> = own.lines().map(|l| l.trim_end_matches(" (*)")).collect();
        own.sort_unstable();
        own.dedup();
        alone.push((own.len(), spec));
    }
    alone.sort_by(|a, b| b.cmp(a));
    println!("packages each direct dependency brings (itself included):");
    for (n, spec) in alone.iter().filter(|(n, _)| *n > 3) {
        println!("  {n:>4}  {spec}");
    }

    if std::env::var("EVALGATE_BENCH_COLD_BUILD").as_deref() == Ok("1") {
        let target = root.join("target");
        let before = children_cpu_seconds();
        let start = Instant::now();
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--tests", "--quiet"])
            .current_dir(root)
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the user crate does not build");
        let wall = start.elapsed().as_secs_f64();
        let cpu = children_cpu_seconds() - before;
        let binary = std::fs::read_dir(target.join("debug/deps"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("evals-") && !name.contains('.')
            })
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        println!(
            "cold build of the tests: {cpu:.0} CPU-seconds, {wall:.0} s wall, debug test \
             binary {:.0} MB",
            binary as f64 / 1e6
        );
    }
}

/// `cargo <args>` in `dir`, its stdout.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// User + system CPU seconds of every finished child process (and theirs) so far.
fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
