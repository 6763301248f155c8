"""A client of `harness serve PLUGIN --control stdio`: a live plugin driven from Python.

The harness speaks JSON lines: one request object per line on its stdin, one response per line
on its stdout, the first line a hello naming the protocol and its version. This module owns the
harness process: it is started by `Harness(...)` and stopped (with the plugin's whole process
group) by `close()`, at the latest when the object is garbage collected or the interpreter exits.
"""

import atexit
import json
import os
import queue
import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

PROTOCOL = "mm-plugin-harness-control"
PROTOCOL_VERSION = 1

# A response slower than this means the harness hangs: the call fails instead of the test run.
DEFAULT_RESPONSE_TIMEOUT = 120.0


class HarnessError(Exception):
    """A command the harness refused or could not carry out.

    `kind` is the protocol's error kind: malformed, unknown_command, invalid, not_implemented,
    plugin_died, no_plugin; or `harness` when the harness process itself failed.
    """

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Answer(dict):
    """A response's result: a dict whose keys also read as attributes (`answer.status`)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def find_harness(explicit=None):
    """The harness binary: `explicit`, $MM_HARNESS, the one installed beside this package
    (the wheel's scripts directory), or `harness` on PATH."""
    candidates = [explicit, os.environ.get("MM_HARNESS")]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(str(Path(scripts) / "harness"))
    candidates.append(shutil.which("harness"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate
    raise HarnessError(
        "harness",
        "no harness binary found: install the mattermost-plugin-harness wheel, put `harness` "
        "on PATH, or set MM_HARNESS",
    )


class Harness:
    """A plugin running under `harness serve --control stdio`.

    `plugin` is a plugin directory, manifest or executable, as for `harness run`;
    `harness_args` are extra flags for `harness serve` (`--timeout 5s`).
    """

    def __init__(self, plugin, harness=None, harness_args=(), timeout=DEFAULT_RESPONSE_TIMEOUT):
        self.plugin = str(plugin)
        self.timeout = timeout
        self._next_id = 0
        self._calls_mark = 0
        self._stderr = []
        command = [find_harness(harness), "serve", self.plugin, "--control", "stdio"]
        command.extend(harness_args)
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # Both pipes are read on threads, so the harness never blocks on a full pipe and a
        # hung harness fails a call after `timeout` instead of hanging the tests.
        self._lines = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        atexit.register(self.close)
        hello = self._receive()
        if hello.get("protocol") != PROTOCOL or hello.get("version") != PROTOCOL_VERSION:
            self.close()
            raise HarnessError(
                "harness",
                f"expected {PROTOCOL} version {PROTOCOL_VERSION}, the harness said {hello}",
            )
        self.hello = Answer(hello)
        self.info = Answer(hello.get("plugin") or {})

    # --- the protocol -------------------------------------------------------------------------

    def _read_stdout(self):
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self):
        for line in self._process.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip("\n"))

    def _receive(self):
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            raise HarnessError(
                "harness", f"no answer from the harness within {self.timeout}s"
            ) from None
        if line is None:
            code = self._process.wait()
            raise HarnessError(
                "harness",
                f"the harness exited ({code}); its stderr:\n" + "\n".join(self._stderr[-20:]),
            )
        return json.loads(line)

    def request(self, command, **args):
        """Sends one command and returns its result; raises HarnessError for an error answer."""
        if self._process.poll() is not None and self._lines.empty():
            raise HarnessError("harness", f"the harness has exited ({self._process.returncode})")
        self._next_id += 1
        message = dict(args, command=command, id=self._next_id)
        self._process.stdin.write(json.dumps(message).encode() + b"\n")
        self._process.stdin.flush()
        answer = self._receive()
        if not answer.get("ok"):
            error = answer.get("error") or {}
            if error.get("kind") in ("plugin_died", "no_plugin"):
                self.info = Answer(self.info, running=False)
            raise HarnessError(error.get("kind", "harness"), error.get("message", str(answer)))
        return Answer(answer.get("result") or {})

    # --- commands -----------------------------------------------------------------------------

    def call_hook(self, hook, request=None, deadline=None, expect=None):
        """Calls `hook` with `request` (a dict in the proto3 JSON mapping, as in suite files).

        Returns status, response, outcome, api_calls, output, mismatches (against `expect`, or
        against "status OK, no AppError" without one) and duration_ms.
        """
        args = {"hook": hook}
        if request is not None:
            args["request"] = request
        if deadline is not None:
            args["deadline"] = deadline
        if expect is not None:
            args["expect"] = expect
        return self.request("call_hook", **args)

    def http(self, method="GET", url="/", headers=None, body=None, **step):
        """One request through ServeHTTP; `url` is the path after /plugins/{id}, with its query.
        Other keys of a suite's `http` step (body_json, deadline...) pass through."""
        args = dict(step, method=method, url=url)
        if headers:
            args["headers"] = headers
        if body is not None:
            args["body"] = body
        return self.request("http", **args)

    def api_calls(self, since=None):
        """Plugin API calls since `since`, or since the last `mark()` (or reset)."""
        answer = self.request("api_calls", since=self._calls_mark if since is None else since)
        return answer.calls

    def mark(self):
        """Makes later `api_calls()` leave out the calls made so far."""
        self._calls_mark = self.request("api_calls", since=0).next
        return self._calls_mark

    def world(self, *parts):
        """The world (users, bots, teams, channels, posts, kv, config, plugin_config, logs)."""
        args = {"parts": list(parts)} if parts else {}
        return self.request("world_get", **args)

    def seed_world(self, seed):
        """Replaces the world with one built from `seed` (a world file's content)."""
        self.request("world_seed", seed=seed)

    def stub(self, method, **answer):
        """A Plugin API stub, as in suite files: respond=, app_error=, status=, delay=, times=,
        request=. In force until `unstub()` or `reset()`."""
        return self.request("stub", method=method, **answer)

    def unstub(self):
        self.request("unstub")

    def output(self, since=0):
        """The plugin's captured output lines (stream, at, text)."""
        return self.request("output", since=since).lines

    def reset(self, seed=None):
        """A fresh plugin and world: the plugin is stopped and started again."""
        args = {"seed": seed} if seed is not None else {}
        answer = self.request("reset", **args)
        self._calls_mark = 0
        self.info = Answer(answer.plugin)
        return self.info

    def close(self):
        """Stops the plugin and the harness. Safe to call more than once."""
        process = getattr(self, "_process", None)
        if process is None or process.poll() is not None:
            return
        try:
            # End of input is the protocol's shutdown: the harness stops the plugin and exits.
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            print("mattermost_plugin_harness: the harness did not stop; killed", file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
