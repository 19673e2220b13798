"""clients/typescript: the typed client of the API compiles under `tsc --strict` with types
generated from schema.graphql, and runs its dashboard operations (the fleet page from
`fleet`, walked by cursor) against a live server
(the web server and a `qcluster` worker on the test database), live updates included:
subscribed with the `graphql-ws` package, it hears a STORE_DOWN within a second of the
poll. A schema change that breaks a typed client fails here. Needs `node` and `npm`
(.ci/run installs them)."""

import os
import re
import shutil
import subprocess

import pytest
from monitoring.models import Owner
from monitoring.stores.access import token_create

from tests.factories import make_store, worked_example_store
from tests.processes import ROOT, free_port, running_web_server, running_worker

CLIENT = ROOT / "clients" / "typescript"
NODE_MISSING = shutil.which("node") is None or shutil.which("npm") is None
needs_node = pytest.mark.skipif(
    NODE_MISSING, reason="node and npm are not on the PATH: install Node.js ≥ 20 (apt-get install nodejs npm; .ci/run does)"
)
# A non-null assertion: `x!.y`, `x![0]`, `x!)`, `x!;` (not `!=` or a leading `!x`).
NON_NULL_ASSERTION = re.compile(r"[\w\)\]]!(?=[.\[\),;\s])")


def npm(*args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        ["npm", *args], cwd=CLIENT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"},
    )
    assert result.returncode == 0, f"npm {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def compiled_client():
    """npm ci (node_modules kept between runs when the lock file has not changed), the
    codegen from schema.graphql, `tsc --strict --noEmit`, then the build to dist/."""
    lock = (CLIENT / "package-lock.json").read_bytes()
    stamp = CLIENT / "node_modules" / ".lock-of-this-install"
    if not stamp.exists() or stamp.read_bytes() != lock:
        npm("ci", "--no-audit", "--no-fund")
        stamp.write_bytes(lock)
    npm("run", "codegen")
    npm("run", "typecheck")
    npm("run", "build")
    return CLIENT / "dist" / "run.js"


def test_the_client_uses_no_non_null_assertions():
    """COMPLETE reports are narrowed on `completed`, nulls checked: nothing is asserted away."""
    for path in (CLIENT / "src").glob("*.ts"):
        text = path.read_text()
        code = re.sub(r"//.*|/\*.*?\*/|`[^`]*`|\"[^\"\n]*\"|'[^'\n]*'", "", text, flags=re.S)
        assert not NON_NULL_ASSERTION.search(code), f"{path.name}: {NON_NULL_ASSERTION.search(code).group(0)}"
    assert NON_NULL_ASSERTION.search("report.completed!.downloadUrl") and not NON_NULL_ASSERTION.search("a !== b")


@needs_node
def test_generated_types_follow_the_schema(compiled_client):
    generated = (CLIENT / "src" / "generated" / "graphql.ts").read_text()
    # The narrowing the dashboard relies on: `completed` is nullable, its fields are not.
    assert re.search(r"completed: \{ __typename\?: 'CompletedReport', asOf: string, storeCount: number,", generated)
    assert "export type ErrorCode =" in generated and "'NOT_FOUND'" in generated


@needs_node
@pytest.mark.django_db(transaction=True)
def test_the_typed_client_runs_against_a_live_server(compiled_client, tmp_path):
    owner = Owner.objects.create(name="dashboard")
    store, noon = worked_example_store("ts-store")
    store.owner = owner
    store.save()
    worked_example_store("someone-elses")  # not the owner's: must stay invisible
    live = make_store("ts-live")  # open 24×7, no polls yet: its first live inactive poll is STORE_DOWN
    live.owner = owner
    live.save()
    token = token_create(name="ts", owner=owner)[1]
    env = {"API_ANONYMOUS_ACCESS": "0"}
    with running_web_server(tmp_path / "web.log", free_port(), **env) as base, running_worker(tmp_path / "q.log", **env):
        result = subprocess.run(
            ["node", str(compiled_client)], cwd=CLIENT, capture_output=True, text=True, timeout=180,
            env={
                **os.environ, "API_URL": base, "API_TOKEN": token, "STORE_ID": "ts-store", "AS_OF": noon.isoformat(),
                "LIVE_STORE_ID": "ts-live",
            },
        )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:] + (tmp_path / "web.log").read_text()[-2000:]
    assert '"done":true' in result.stdout
    checks = [line for line in result.stdout.splitlines() if '"check"' in line]
    assert len(checks) >= 12 and all('"ok":true' in line for line in checks), log
    # The owner's fleet holds their stores only, walked by cursor, each with its state now.
    assert any('"fleet ts-store: day adds up"' in line for line in checks)
    assert any('"fleet walked by cursor, each store once"' in line and '"ts-store"' in line for line in checks)
    assert any('"fleet ts-store: outage in progress when down"' in line for line in checks)
    assert any('"fleet down now first"' in line for line in checks)
    live = [line for line in checks if '"check":"live: ' in line]
    assert len(live) == 3 and any("STORE_DOWN within a second" in line for line in live), log
    assert not any("someone-elses" in line for line in checks)
