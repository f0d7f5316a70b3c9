"""A headless chromium for the dashboard's tests: tests/browser/driver.mjs
(playwright-core from npm, installed by scripts/deps.sh) runs Debian's
chromium and takes one request a line. A test skips, saying why, only when
node, playwright-core or chromium cannot start."""
import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRIVER = os.path.join(ROOT, "tests", "browser", "driver.mjs")


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self):
        if not shutil.which("node"):
            pytest.skip("no node: run scripts/deps.sh")
        if not os.path.isdir(os.path.join(ROOT, "node_modules", "playwright-core")):
            pytest.skip("no playwright-core in node_modules: run scripts/deps.sh")
        if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
            pytest.skip("no /usr/bin/chromium: run scripts/deps.sh")
        self.proc = subprocess.Popen(["node", DRIVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        first = self.proc.stdout.readline()
        hello = json.loads(first) if first else {"ready": False, "error": "driver died"}
        if not hello.get("ready"):
            self.close()
            pytest.skip(f"chromium cannot start: {hello.get('error')}")

    def _do(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BrowserError(f"the browser driver died during {req}")
        ans = json.loads(line)
        if not ans["ok"]:
            raise BrowserError(f"{req['op']}: {ans['error']}")
        return ans["value"]

    def goto(self, url):
        return self._do(op="goto", url=url)

    def eval(self, js):
        return self._do(op="eval", js=js)

    def wait(self, js, timeout=5.0):
        """Waits until the expression <js> is truthy; returns its value."""
        return self._do(op="wait", js=js, timeout=int(timeout * 1000))

    def click(self, selector):
        return self._do(op="click", selector=selector)

    def fill(self, selector, value):
        return self._do(op="fill", selector=selector, value=value)

    def screenshot(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return self._do(op="screenshot", path=path)

    def console_errors(self):
        """The console errors and page errors since the last call."""
        return self._do(op="console")

    def close(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "close"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()
