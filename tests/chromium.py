"""Headless Chromium as every browser test runs it (tests/e2e/test_pages_in_chromium.py,
tests/graphql/test_graphiql_offline.py): where the binary is looked for, and its flags."""

import os
import shutil

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_binary() -> str | None:
    """$CHROMIUM, else the usual places, else `chromium` on the PATH; None when absent."""
    for candidate in (os.environ.get("CHROMIUM", ""), *CHROMIUM_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")
