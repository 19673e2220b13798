"""The README's examples run as written against `make run`'s demo data (csv_data/).

Read from README.md itself, in its order: the ```graphql blocks are POSTed to a real
server (pytest-django's live_server); the curl lines of the ``` blocks run with the
real `curl` binary; the `manage.py` lines run on the test database. `…`
stands for the id of the report triggered last. Where the README shows an output
(`# {"report_id": "…"}`), the answer must have that shape. The worker is this test:
queued reports are computed in-process where the README's flow has waited for them.
The `manage.py` lines run in-process too (`call_command` with the line's arguments, so
the commands' own parsers read them), with the files they write put in a temporary
folder; `export_schema` writes there too, never over the repository's schema.graphql.

A line this test can neither run nor skip by a rule below fails it, so a new example
cannot go untested by accident; the skipped ones are listed as skipped tests, reason
included."""

import contextlib
import csv
import io
import json
import re
import shlex
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from monitoring.ingest import find_input_files, load_files
from monitoring.models import Report
from monitoring.reports import report_run

from tests.processes import ROOT

README = ROOT / "README.md"
DEMO_DATA = ROOT / "csv_data"
README_ORIGIN = "http://127.0.0.1:8000"
PLACEHOLDER = "…"
CSV_HEADER = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week"
)

# Lines of the README's code blocks that are not run here, and why.
NOT_RUN = [
    (re.compile(r"^(\w+=\S+\s+)*make\b"),
     "a make target: it installs, serves until stopped, or runs the whole suite "
     "(make run / make stop's processes: tests/tools/test_make_run.py)"),
    (re.compile(r"-m pytest\b"), "runs the test suite from inside the test suite"),
    (re.compile(r"path/to/"), "a placeholder path, not a file"),
    (re.compile(r"\.\./shared/"), "needs the public data files in ../shared/, outside the repository"),
]
# Files that the commands (and curl, its ETag file) write, written into the test's
# temporary folder instead.
OUTPUTS = {"/tmp/report.csv", "/tmp/generated", "/tmp/stores.etag"}


@dataclass
class Example:
    kind: str  # "graphql", "curl", "command" or "skip"
    text: str
    comment: str = ""
    reason: str = ""

    def __str__(self) -> str:
        return self.text.splitlines()[0][:100]


def readme_examples() -> list[Example]:
    examples = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", README.read_text(), flags=re.M | re.S):
        if lang == "graphql":
            examples.append(Example("graphql", body.strip()))
            continue
        for line in body.replace("\\\n", " ").splitlines():
            command, _, comment = line.partition(" # ")
            command, comment = command.strip(), comment.strip()
            if not command:
                continue
            reason = next((why for pattern, why in NOT_RUN if pattern.search(command)), "")
            if reason:
                examples.append(Example("skip", command, comment, reason))
            elif command.startswith("curl "):
                examples.append(Example("curl", command, comment))
            elif re.match(r"^(\.venv/bin/)?python manage\.py ", command):
                examples.append(Example("command", command, comment))
            else:
                examples.append(Example("unknown", command, comment))
    return examples


def table_urls() -> list[str]:
    """The addresses of "Using it"'s table."""
    return re.findall(r"^\|.*?(http://127\.0\.0\.1:8000/\S*?)[\s|]", README.read_text(), flags=re.M)


EXAMPLES = readme_examples()


def test_every_readme_example_is_known():
    unknown = [str(example) for example in EXAMPLES if example.kind == "unknown"]
    assert not unknown, f"README lines this test neither runs nor skips (add a rule): {unknown}"
    counts = {kind: sum(example.kind == kind for example in EXAMPLES) for kind in ("graphql", "curl", "command")}
    assert counts["graphql"] >= 4 and counts["curl"] >= 6 and counts["command"] >= 7, counts
    assert len(table_urls()) >= 6, table_urls()


def test_readme_lines_not_run_say_why():
    """The few README lines this test does not run (make targets, placeholders, files
    outside the repository) are listed by rule, each with its reason: a new line that
    fits no rule fails test_every_readme_example_is_known instead of passing unseen."""
    not_run = [example for example in EXAMPLES if example.kind == "skip"]
    assert all(example.reason for example in not_run)
    assert len(not_run) <= 10, [str(example) for example in not_run]


class Run:
    """One pass through the README against a live server."""

    def __init__(self, base_url: str, tmp_path: Path):
        self.base_url = base_url
        self.tmp_path = tmp_path
        self.report_id: str | None = None

    # The worker's part.
    def finish_queued_reports(self) -> None:
        for report_id in Report.objects.filter(status=Report.Status.PENDING).values_list("id", flat=True):
            report_run(report_id=report_id)

    # GraphQL
    def graphql(self, example: Example) -> None:
        document = example.text
        if PLACEHOLDER in document:
            assert self.report_id, f"no report triggered before {example}"
            document = document.replace(PLACEHOLDER, self.report_id)
        if re.search(r"\breport\(", document):
            self.finish_queued_reports()  # the README's reader waited for it
        request = urllib.request.Request(
            f"{self.base_url}/graphql/", data=json.dumps({"query": document}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert "errors" not in body, (example.text, body["errors"])
        data = body["data"]
        assert data and all(value is not None for value in data.values()), (example.text, data)
        if "triggerReport" in data:
            self.report_id = data["triggerReport"]["id"]
            assert data["triggerReport"]["status"] == "PENDING"
        if "report" in data:
            report = data["report"]
            completed = report["completed"]  # set exactly when COMPLETE
            assert report["status"] == "COMPLETE" and completed, report
            with urllib.request.urlopen(completed["downloadUrl"], timeout=30) as response:
                rows = list(csv.reader(io.StringIO(response.read().decode())))
            assert ",".join(rows[0]) == CSV_HEADER and len(rows) == 1 + completed["storeCount"]
        if "store" in data and "timeline" in data["store"]:
            store = data["store"]
            assert store["timeline"] and store["polls"]["nodes"], store
            assert [w["kind"] for w in store["uptime"]["windows"]] == ["HOUR", "DAY", "WEEK"], store
        if "fleetLostRevenue" in data:  # the demo data has revenue profiles, in USD and EUR
            assert {total["currency"] for total in data["fleetLostRevenue"]} == {"USD", "EUR"}, data
            assert "lostRevenue" in data["store"]["uptime"]["week"], data
        if "setStoreRevenue" in data:
            assert data["setStoreRevenue"]["userErrors"] == [], data
        if "stores" in data:
            assert data["stores"]["totalCount"] > 0
        if "recordPolls" in data:
            result = data["recordPolls"]
            assert result["rejected"] == 0 and result["loaded"] + result["replaced"] + result["unchanged"] == 1, result

    # curl
    def curl(self, example: Example) -> None:
        args = [self._substitute(arg) for arg in shlex.split(example.text)]
        shown = self._shown_output(example.comment)
        body, content_type, status = self._curl(args)
        if example.comment.startswith("304"):  # an ETag sent back while nothing changed
            assert (status, body) == (304, ""), (example.text, status, body[:300])
            return
        if "--etag-save" in args:
            etag = (self.tmp_path / "stores.etag").read_text().strip()
            assert status == 200 and etag.startswith('"'), (example.text, status, etag)
        if shown is not None:
            self._assert_shape(json.loads(body), shown, example)
        if "then the CSV" in example.comment:
            self.finish_queued_reports()
            body, content_type, _ = self._curl(args)
            assert content_type.startswith("text/csv") and body.splitlines()[0] == CSV_HEADER, body[:300]
        if content_type.startswith("application/json"):
            answer = json.loads(body)
            if isinstance(answer, dict) and "report_id" in answer:
                self.report_id = answer["report_id"]

    def _curl(self, args: list[str]) -> tuple[str, str, int]:
        result = subprocess.run(
            [*args, "--silent", "--show-error", "--max-time", "30", "--write-out", "\n%{http_code} %{content_type}"],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, (args, result.stderr)
        body, _, status_line = result.stdout.rpartition("\n")
        status, _, content_type = status_line.partition(" ")
        assert int(status) < 400, (args, status, body)
        return body, content_type, int(status)

    def _substitute(self, arg: str) -> str:
        if arg in OUTPUTS:
            return str(self.tmp_path / Path(arg).name)
        arg = arg.replace(README_ORIGIN, self.base_url)
        if PLACEHOLDER in arg:
            assert self.report_id, f"no report triggered before {arg}"
            arg = arg.replace(PLACEHOLDER, self.report_id)
        return arg

    @staticmethod
    def _shown_output(comment: str):
        if not comment.startswith("{"):
            return None
        shown, _ = json.JSONDecoder().raw_decode(comment)
        return shown

    @staticmethod
    def _assert_shape(answer, shown, example) -> None:
        assert isinstance(answer, dict) and answer.keys() == shown.keys(), (example.text, answer, shown)
        for key, value in shown.items():
            if value == PLACEHOLDER:
                assert isinstance(answer[key], str) and answer[key], (example.text, answer)
            else:
                assert answer[key] == value, (example.text, answer, shown)

    # manage.py (`python manage.py NAME ARGS` is `call_command(NAME, *ARGS)`)
    def command(self, example: Example) -> None:
        words = shlex.split(example.text)
        assert words[1] == "manage.py", example.text
        name, options = words[2], words[3:]
        outputs = {}
        for index, option in enumerate(options):
            if option in OUTPUTS:
                outputs[option] = options[index] = str(self.tmp_path / Path(option).name)
        if name == "export_schema" and "--path" not in options:  # never rewrite the repository's file
            outputs["schema.graphql"] = str(self.tmp_path / "schema.graphql")
            options += ["--path", outputs["schema.graphql"]]
        stdout, stderr = io.StringIO(), io.StringIO()
        # In this process (a new one would spend seconds importing the GraphQL schema for
        # the system checks): the same argument parser, the same code, the test database.
        with contextlib.chdir(ROOT):
            try:
                call_command(name, *options, stdout=stdout, stderr=stderr)
            except CommandError as error:
                pytest.fail(f"{example.text}: {error}\n{stderr.getvalue()[-2000:]}")
        for written in outputs.values():
            assert Path(written).exists(), (example.text, written)
        if "/tmp/report.csv" in outputs:
            rows = list(csv.reader(open(outputs["/tmp/report.csv"])))
            assert ",".join(rows[0]) == CSV_HEADER and len(rows) > 1
            if "--store" in options:
                after = options[options.index("--store") + 1:]
                stores = after[: next((i for i, a in enumerate(after) if a.startswith("--")), len(after))]
                assert [row[0] for row in rows[1:]] == sorted(set(stores))
        if "/tmp/generated" in outputs:
            assert sorted(p.name for p in Path(outputs["/tmp/generated"]).iterdir()) == [
                "menu_hours.csv", "store_revenue.csv", "store_status.csv", "timezones.csv"]
            shutil.rmtree(outputs["/tmp/generated"])  # 135 MB
        if name == "create_api_token":
            assert len(stdout.getvalue().strip()) >= 20  # the token, printed once

    def page(self, url: str, store_id: str) -> None:
        url = url.replace(README_ORIGIN, self.base_url).replace("<store_id>", store_id)
        url = url.replace("<report_id>", self.report_id)
        request = urllib.request.Request(url, headers={"Accept": "text/html"})  # as a browser asks
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200, url


@pytest.mark.django_db(transaction=True)
@override_settings(API_ANONYMOUS_ACCESS=True)
def test_readme_examples_run_as_written(live_server, tmp_path):
    load_files(files=find_input_files(directory=DEMO_DATA))  # what `make run` loads
    run = Run(live_server.url, tmp_path)
    have_curl = shutil.which("curl") is not None
    for example in EXAMPLES:
        if example.kind in ("graphql", "command") or (example.kind == "curl" and have_curl):
            getattr(run, example.kind)(example)
    store_id = re.search(r'store\(id: "([^"]+)"\)', README.read_text()).group(1)
    for url in table_urls():
        run.page(url, store_id)
    if not have_curl:
        pytest.skip("curl is not installed: the README's curl examples did not run (apt-get install curl); the rest passed")
