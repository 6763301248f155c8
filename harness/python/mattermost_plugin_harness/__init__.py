"""Test Mattermost plugins from Python with mm-plugin-harness.

`Harness` drives a live plugin through `harness serve --control stdio`; the pytest plugin
(`mattermost_plugin_harness.pytest_plugin`, registered through the `pytest11` entry point)
collects harness suites as test items and provides the `mm_plugin` fixture.
"""

from .client import PROTOCOL, PROTOCOL_VERSION, Answer, Harness, HarnessError, find_harness

__all__ = ["PROTOCOL", "PROTOCOL_VERSION", "Answer", "Harness", "HarnessError", "find_harness"]
