"""pytest plugin: harness suites as test items, and the `mm_plugin` fixture.

Settings, from the first place that has them: command-line options (`--mm-plugin`,
`--mm-suites`, `--mm-harness`), `[tool.mattermost-harness]` in the rootdir's pyproject.toml
(`plugin`, `suites`, `harness`, `harness_args`), or pytest ini options (`mm_plugin`,
`mm_suites`, `mm_harness`). Paths given are relative to the rootdir. The plugin defaults to the
rootdir when it holds a manifest; suites default to `suites/*.json` beside the manifest.

Suite files are collected by reading them only (no plugin is launched): one item per case,
named `suite/case`. Each item runs
`harness run PLUGIN --no-builtin --suite FILE --filter suite/case --json REPORT`, and a failure
shows the harness's own text.
"""

import fnmatch
import json
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from .client import Harness, HarnessError, find_harness

MANIFESTS = ("plugin.json", "plugin.yaml", "plugin.yml")
DEFAULT_SUITES = "suites/*.json"


def pytest_addoption(parser):
    group = parser.getgroup("mattermost-harness", "Mattermost plugin harness")
    group.addoption("--mm-plugin", help="the plugin directory, manifest or executable")
    group.addoption("--mm-suites", help=f"glob of suite files (default: {DEFAULT_SUITES} beside the manifest)")
    group.addoption("--mm-harness", help="the harness binary (default: the installed one)")
    parser.addini("mm_plugin", "the plugin directory, manifest or executable")
    parser.addini("mm_suites", "glob of suite files")
    parser.addini("mm_harness", "the harness binary")
    parser.addini("mm_harness_args", "extra flags for `harness run` and `harness serve`", type="args")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "mm_plugin(reset=True, fresh_process=False): how the mm_plugin fixture prepares the "
        "plugin for this test",
    )
    config._mm_settings = Settings(config)


def _read_pyproject(rootdir):
    path = Path(rootdir) / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        import tomllib  # Python >= 3.11
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return _minimal_table(path.read_text(), "tool.mattermost-harness")
    with path.open("rb") as file:
        return tomllib.load(file).get("tool", {}).get("mattermost-harness", {})


def _minimal_table(text, name):
    """`key = "value"` and `key = ["a", "b"]` lines of one TOML table, for Pythons without
    tomllib or tomli."""
    table, inside = {}, False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            inside = line == f"[{name}]"
            continue
        match = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*(.+)$', line) if inside else None
        if match:
            try:
                table[match.group(1)] = json.loads(match.group(2))
            except ValueError:
                pass
    return table


class Settings:
    """Where the plugin, its suites and the harness are."""

    def __init__(self, config):
        root = Path(str(config.rootpath)).resolve()
        table = _read_pyproject(root)

        def setting(option, key, ini):
            value = config.getoption(option) or table.get(key) or config.getini(ini)
            return value or None

        plugin = setting("--mm-plugin", "plugin", "mm_plugin")
        self.plugin = (root / plugin).resolve() if plugin else self._find_plugin(root)
        suites = setting("--mm-suites", "suites", "mm_suites")
        if suites:
            self.suites_glob = str(root / suites)
        else:
            self.suites_glob = str((self._manifest_dir() or root) / DEFAULT_SUITES)
        harness = setting("--mm-harness", "harness", "mm_harness")
        self.harness = str((root / harness).resolve()) if harness and "/" in harness else harness
        self.harness_args = list(table.get("harness_args") or config.getini("mm_harness_args") or [])

    @staticmethod
    def _find_plugin(root):
        return root if any((root / name).is_file() for name in MANIFESTS) else None

    def _manifest_dir(self):
        if self.plugin is None:
            return None
        return self.plugin if self.plugin.is_dir() else self.plugin.parent

    def require_plugin(self):
        if self.plugin is None:
            raise pytest.UsageError(
                "mattermost-harness: no plugin found; set `plugin` in [tool.mattermost-harness] "
                "of pyproject.toml, `mm_plugin` in pytest.ini, or pass --mm-plugin"
            )
        return self.plugin

    def is_suite(self, path):
        return fnmatch.fnmatch(str(Path(path).resolve()), self.suites_glob)


def pytest_collect_file(file_path, parent):
    settings = parent.config._mm_settings
    if file_path.suffix == ".json" and settings.is_suite(file_path):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


class SuiteFile(pytest.File):
    """A suite file: its cases, read from the file alone."""

    def collect(self):
        try:
            suite = json.loads(self.path.read_text())
            name = suite["name"]
            cases = [case["name"] for case in suite.get("cases", [])]
        except (ValueError, KeyError, TypeError) as err:
            raise SuiteCollectError(
                f"{self.path}: not a suite file the harness can read "
                f"(a JSON object with a name and cases): {err!r}"
            ) from None
        for case in cases:
            yield SuiteCase.from_parent(self, name=f"{name}/{case}", suite=name, case=case)


class SuiteCollectError(Exception):
    pass


class SuiteCaseFailed(Exception):
    """The harness failed the case; the message is its own report."""


def _glob_literal(text):
    """`text` as a glob matching only itself (the harness's --filter takes globs)."""
    return re.sub(r"([*?\[\]{}])", r"[\1]", text)


class SuiteCase(pytest.Item):
    def __init__(self, *, suite, case, **kwargs):
        super().__init__(**kwargs)
        self.suite = suite
        self.case = case

    def runtest(self):
        settings = self.config._mm_settings
        plugin = settings.require_plugin()
        with tempfile.TemporaryDirectory(prefix="mm-harness-") as scratch:
            report_path = Path(scratch) / "report.json"
            command = [
                find_harness(settings.harness),
                "run",
                str(plugin),
                "--no-builtin",
                "--suite",
                str(self.path),
                "--filter",
                f"{_glob_literal(self.suite)}/{_glob_literal(self.case)}",
                "--json",
                str(report_path),
                *settings.harness_args,
            ]
            run = subprocess.run(command, capture_output=True, text=True, check=False)
            text = run.stdout + (("\n" + run.stderr) if run.stderr.strip() else "")
            if not report_path.is_file():
                raise SuiteCaseFailed(
                    f"the harness exited ({run.returncode}) without a report:\n{text}"
                )
            report = json.loads(report_path.read_text())
        outcome = self._outcome(report)
        if outcome in ("passed", "known_failing"):
            return
        if outcome == "skipped":
            pytest.skip(f"{self.name}: skipped by the harness")
        raise SuiteCaseFailed(text)

    def _outcome(self, report):
        """The case's outcome kind in the harness's JSON report."""
        for suite in report.get("suites", []):
            for case in suite.get("cases", []):
                if case.get("suite", suite.get("name")) == self.suite and case.get("name") == self.case:
                    outcome = case.get("outcome")
                    return outcome.get("status") if isinstance(outcome, dict) else outcome
        return "not_run"

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (SuiteCaseFailed, HarnessError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"suite case {self.name}"


# --- the live-plugin fixture ------------------------------------------------------------------


@pytest.fixture(scope="module")
def mm_plugin_process(request):
    """The harness and plugin for a module's tests; stopped when the module is done."""
    settings = request.config._mm_settings
    harness = Harness(
        settings.require_plugin(), harness=settings.harness, harness_args=settings.harness_args
    )
    harness._used = False
    yield harness
    harness.close()


@pytest.fixture
def mm_plugin(request):
    """A live plugin under `harness serve --control stdio`, with a fresh world.

    Module-scoped process; each test gets a fresh plugin and world (`reset`) unless marked
    `@pytest.mark.mm_plugin(reset=False)`; `fresh_process=True` gives the test its own harness.
    """
    marker = request.node.get_closest_marker("mm_plugin")
    options = dict(marker.kwargs) if marker else {}
    if options.get("fresh_process"):
        settings = request.config._mm_settings
        harness = Harness(
            settings.require_plugin(), harness=settings.harness, harness_args=settings.harness_args
        )
        try:
            yield harness
        finally:
            harness.close()
        return
    harness = request.getfixturevalue("mm_plugin_process")
    if harness._used and options.get("reset", True):
        harness.reset()
    elif not harness.info.get("running", False):
        # A plugin that died or never started gets another chance, whatever the marker says.
        harness.reset()
    harness._used = True
    harness.mark()
    yield harness


def pytest_report_header(config):
    settings = getattr(config, "_mm_settings", None)
    if settings is None or settings.plugin is None:
        return None
    try:
        binary = find_harness(settings.harness)
    except HarnessError:
        binary = "(not found)"
    return f"mattermost-harness: plugin {settings.plugin}, suites {settings.suites_glob}, harness {binary}"

