"""The contract checks' tools, fetched once per machine into the cache (like the deploy tools).

    /usr/bin/python3 scripts/contracts/tools.py fetch   # scripts/test runs this
    import tools; tools.load()                          # the checks: sys.path + the specs dir

Everything comes from the package registries through their own clients and lands outside the
repository in $JILAF_CACHE_DIR/contract-tools (default ~/.cache/jilaf/contract-tools):
  python/         jsonschema (draft 2020-12 validation with format checks, date-time through
                  rfc3339-validator) and
                  openapi-spec-validator (OpenAPI 3.1), `pip install --target` from PyPI
  asyncapi-specs/ the official AsyncAPI JSON Schemas, the npm package @asyncapi/specs
"""

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

# Pinned versions: changing one re-fetches on the next run.
# rfc3339-validator: jsonschema checks "date-time" (every ce_time, created_at, ...) only with it.
PYTHON_PACKAGES = ["jsonschema==4.23.0", "openapi-spec-validator==0.7.1", "rfc3339-validator==0.1.4"]
ASYNCAPI_SPECS = "@asyncapi/specs@6.8.1"


def cache_dir():
    base = os.environ.get("JILAF_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jilaf")
    return os.path.join(base, "contract-tools")


def _stamp():
    return hashlib.sha256("\n".join(PYTHON_PACKAGES + [ASYNCAPI_SPECS]).encode()).hexdigest()


def complete():
    try:
        with open(os.path.join(cache_dir(), ".jilaf-complete"), encoding="utf-8") as f:
            return f.read().strip() == _stamp()
    except OSError:
        return False


def fetch():
    """Makes sure the tools are in the cache; safe to run concurrently."""
    if complete():
        return
    root = cache_dir()
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".fetch.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if complete():
            return
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            print(f"fetching {' '.join(PYTHON_PACKAGES)} (pip, into {root}/python)", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--root-user-action=ignore",
                            "--no-warn-script-location", "--target", os.path.join(tmp, "python")]
                           + PYTHON_PACKAGES, check=True)
            npm = shutil.which("npm")
            if npm is None:
                sys.exit("npm not found: install Debian's npm (scripts/test does)")
            print(f"fetching {ASYNCAPI_SPECS} (npm pack)", file=sys.stderr)
            subprocess.run([npm, "pack", "--silent", ASYNCAPI_SPECS], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
            (tarball,) = glob.glob(os.path.join(tmp, "*.tgz"))
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            with tarfile.open(tarball) as tar:
                tar.extractall(os.path.join(tmp, "npm"), **safe)
            for name, source in (("python", os.path.join(tmp, "python")),
                                 ("asyncapi-specs", os.path.join(tmp, "npm", "package"))):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                os.rename(source, os.path.join(root, name))
        with open(os.path.join(root, ".jilaf-complete"), "w", encoding="utf-8") as f:
            f.write(_stamp() + "\n")


def load():
    """Fetches if needed and puts the cached Python packages first on sys.path."""
    fetch()
    path = os.path.join(cache_dir(), "python")
    if path not in sys.path:
        sys.path.insert(0, path)


def asyncapi_schema(version="3.0.0"):
    return os.path.join(cache_dir(), "asyncapi-specs", "schemas", f"{version}.json")


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: tools.py fetch")
    fetch()
    print(cache_dir())
