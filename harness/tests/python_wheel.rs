//! The Python wheel, end to end: built with maturin (kept in a venv cached
//! under the target directory), installed with pytest and the plugins'
//! runtime into a fresh venv, and used from there with the cargo target
//! directory off PATH: `harness --version`, `harness run` on a Python
//! fixture, and pytest on the example project (suites as test items, the
//! `mm_plugin` fixture, a deliberately failing variant).

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

/// Stops a command that hangs; far past what any of these needs.
const HANG_LIMIT: Duration = Duration::from_secs(600);

/// Pinned so a cached venv and a fresh machine build the same wheel.
const MATURIN: &str = "maturin==1.16.0";

/// The cargo target directory this test binary was built into.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_harness"))
        .parent()
        .and_then(Path::parent)
        .expect("the harness binary is in <target>/<profile>/")
        .to_owned()
}

fn run(mut command: Command, what: &str) -> Output {
    let output = common::run_bounded(
        {
            command.env("PYTHONDONTWRITEBYTECODE", "1");
            command
        },
        HANG_LIMIT,
    );
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// maturin in its own venv under the target directory; made once.
fn maturin() -> PathBuf {
    let venv = target_dir().join("python-tools/maturin-venv");
    let maturin = venv.join("bin/maturin");
    let lock_path = target_dir().join("python-tools.lock");
    std::fs::create_dir_all(target_dir().join("python-tools")).unwrap();
    let lock = std::fs::File::create(&lock_path).expect("the lock file can be made");
    lock.lock().expect("locking the tools venv works");
    let works = Command::new(&maturin)
        .arg("--version")
        .output()
        .is_ok_and(|out| {
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1.16.0")
        });
    if !works {
        let _ = std::fs::remove_dir_all(&venv);
        let mut make = Command::new("python3");
        make.args(["-m", "venv"]).arg(&venv);
        run(make, "python3 -m venv (for maturin)");
        let mut install = Command::new(venv.join("bin/python"));
        install.args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            MATURIN,
        ]);
        run(install, "pip install maturin");
    }
    drop(lock);
    maturin
}

/// A fresh venv with only the wheel, pytest and the Python plugins' runtime.
struct Venv {
    dir: tempfile::TempDir,
}

impl Venv {
    fn bin(&self) -> PathBuf {
        self.dir.path().join("venv/bin")
    }

    /// A command from the venv, with PATH holding the venv and the system
    /// directories only: no cargo target directory, no toolchain.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin().join(program));
        command
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin().display()),
            )
            .env("VIRTUAL_ENV", self.dir.path().join("venv"))
            .env_remove("MM_HARNESS")
            .env_remove("CARGO_TARGET_DIR");
        command
    }

    fn pytest(&self, project: &Path, args: &[&str]) -> (i32, String) {
        let mut command = self.command("python");
        command
            .args(["-m", "pytest", "-o"])
            .arg(format!(
                "cache_dir={}",
                self.dir.path().join("pytest-cache").display()
            ))
            .args(args)
            .current_dir(project);
        let output = common::run_bounded(
            {
                command.env("PYTHONDONTWRITEBYTECODE", "1");
                command
            },
            HANG_LIMIT,
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    }
}

fn build_and_install() -> Venv {
    common::python_fixtures();
    let root = common::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    // A debug build: the same profile as the tests', so cargo has little to redo.
    let mut build = Command::new(maturin());
    build
        .args(["build", "--quiet", "--out"])
        .arg(&wheels)
        // maturin reads harness/python/pyproject.toml, which points at the crate.
        .current_dir(root.join("harness/python"))
        .env("CARGO_TARGET_DIR", target_dir());
    run(build, "maturin build");
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .expect("maturin wrote a wheel");

    let mut make = Command::new("python3");
    make.args(["-m", "venv"]).arg(dir.path().join("venv"));
    run(make, "python3 -m venv");
    let venv = Venv { dir };
    let mut install = venv.command("python");
    install
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "pytest",
            "-r",
        ])
        .arg(root.join("fixtures/python/requirements.txt"))
        .arg(&wheel);
    run(
        install,
        "pip install the wheel, pytest and the plugins' runtime",
    );
    // The example plugin runs on the fixtures' library and generated
    // stubs, wired onto sys.path as setup.sh wires its own venv.
    let mut site = venv.command("python");
    site.args([
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ]);
    let site = String::from_utf8(run(site, "finding site-packages").stdout).unwrap();
    let python_dir = root.join("fixtures/python");
    std::fs::write(
        Path::new(site.trim()).join("mmfixture.pth"),
        format!(
            "{}\n{}\n",
            python_dir.display(),
            python_dir.join(".gen").display()
        ),
    )
    .unwrap();
    venv
}

/// pytest's own summary count of `what` ("passed", "failed"...), 0 when absent.
fn count(output: &str, what: &str) -> usize {
    let summary = output
        .lines()
        .rev()
        .find(|line| {
            line.contains(" in ")
                && ["passed", "failed", "deselected", "error"]
                    .iter()
                    .any(|word| line.contains(word))
        })
        .unwrap_or_else(|| panic!("no pytest summary line in:\n{output}"));
    summary
        .split([',', '='])
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let n = words.next()?.parse().ok()?;
            (words.next()? == what).then_some(n)
        })
        .next()
        .unwrap_or(0)
}

#[test]
fn the_wheel_installs_the_harness_and_a_pytest_plugin() {
    let venv = build_and_install();
    let root = common::repo_root();

    let mut version = venv.command("harness");
    version.arg("--version");
    let out = run(version, "harness --version from the venv");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("harness {}", env!("CARGO_PKG_VERSION"))
    );

    let mut which = venv.command("python");
    which.args(["-c", "import shutil; print(shutil.which('harness'))"]);
    let found = String::from_utf8(run(which, "which harness").stdout).unwrap();
    assert!(
        Path::new(found.trim()).starts_with(venv.dir.path()),
        "harness on PATH is {found}, not the venv's"
    );

    let mut harness_run = venv.command("harness");
    harness_run
        .arg("run")
        .arg(root.join("fixtures/plugins/hello-python"));
    let out = run(harness_run, "harness run hello-python from the venv");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" 0 failed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let example = root.join("fixtures/examples/spam-filter");
    let (code, output) = venv.pytest(&example, &["-v"]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        count(&output, "passed"),
        7,
        "2 suite cases and 5 tests:\n{output}"
    );
    assert!(
        output.contains("suites/spam.json::spam-filter/rejects-spam PASSED"),
        "node ids are file::suite/case:\n{output}"
    );

    let (code, output) = venv.pytest(&example, &["--collect-only", "-q"]);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("suites/spam.json::spam-filter/passes-hello"),
        "{output}"
    );

    let (code, output) = venv.pytest(&example, &["-k", "passes-hello"]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(count(&output, "passed"), 1, "{output}");
    assert_eq!(count(&output, "deselected"), 6, "{output}");

    let failing = example.join("failing");
    let junit = venv.dir.path().join("junit.xml");
    let junit_arg = format!("--junitxml={}", junit.display());
    let (code, output) = venv.pytest(&failing, &[&junit_arg]);
    assert_eq!(code, 1, "{output}");
    assert_eq!(count(&output, "failed"), 2, "{output}");
    assert!(
        output.contains("FAIL") && output.contains("Spam is not allowed here"),
        "the harness's mismatch text (the rejection it got):\n{output}"
    );
    assert!(
        output.contains("replay only this case"),
        "a replay command:\n{output}"
    );
    let xml = std::fs::read_to_string(&junit).expect("pytest wrote the JUnit file");
    assert!(xml.contains("spam-filter-wrong/spam-passes"), "{xml}");

    let (code, output) = venv.pytest(&failing, &["-x"]);
    assert_eq!(code, 1, "{output}");
    assert_eq!(
        count(&output, "failed"),
        1,
        "-x stops at the first failure:\n{output}"
    );

    let (code, output) = venv.pytest(&failing, &["--lf", "-q"]);
    assert_eq!(code, 1, "{output}");
    // The cache holds both failures (the full run's and -x's): --lf reruns them.
    assert_eq!(
        count(&output, "failed"),
        2,
        "--lf reruns the last failures:\n{output}"
    );
}
