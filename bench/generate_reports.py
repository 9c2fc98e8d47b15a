#!/usr/bin/env python3
"""Deterministic generator of realistic JUnit XML reports for benchmarks.

Two modes:

  generate_reports.py large --size-mb 1024 --out bench-data/large-1024mb.xml
      One report of (at least) the requested size: <testsuites> holding
      package suites that hold module suites that hold testcases.

  generate_reports.py many --files 10000 --out bench-data/many-10000
      N small reports of 5-40 testcases each, written as
      OUT/reports/shard-NN/TEST-<classname>-<n>.xml (100 shards).

The mix per logical test: ~90% passed (some with a short <system-out>), ~3%
failed with a multi-line stack trace of 200-2000 bytes (a third in CDATA), ~1%
error, ~4% skipped with a message, ~2% retried (a failed attempt, then a passed
one with the same classname and name). Half the testcases carry file/line
attributes, a few carry properties (jira, test_id = @T + 8 hex), and messages
contain entities (&amp;, &lt;, &gt;, &quot;).

Output is streamed suite by suite: memory stays small whatever the size. The
same seed and arguments always give byte-identical files. Next to the output a
manifest (`<out>.counts.json`) records what was written, so a reader's counts
can be checked:

  testcases        every <testcase> element (each retry attempt counts)
  tests            logical tests (retried ones counted once)
  passed/failed/errors/skipped/flaky   partition `tests` (a retried test is flaky)
  failure_elements testcases with a <failure> (failed tests + failed attempts)
  with_test_id     logical tests with a Testomat.io id (test_id property or a
                   tid://@T... line in an attempt's <system-out>)
  with_jira        logical tests with a jira property
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from xml.sax.saxutils import escape as xml_escape

# --- vocabulary -------------------------------------------------------------

LAYERS = ["unit", "unit", "unit", "integration", "integration", "e2e", "contract"]
AREAS = [
    "payments", "checkout", "auth", "search", "inventory", "orders", "shipping",
    "users", "notifications", "reports", "billing", "catalog", "cart", "api",
    "admin", "pricing", "webhooks", "sessions", "exports", "imports",
]
MODULE_NOUNS = [
    "refunds", "discounts", "login", "tokens", "invoices", "coupons", "stock",
    "addresses", "emails", "permissions", "filters", "pagination", "currency",
    "taxes", "receipts", "subscriptions", "retries", "rate_limits", "audit",
    "profiles", "passwords", "carts", "shipments", "labels", "sync", "cache",
]
SUBJECTS = [
    "checkout", "refund", "discount", "invoice", "order", "cart", "user",
    "session", "token", "coupon", "payment", "shipment", "report", "webhook",
    "search", "profile", "price", "tax", "export", "queue",
]
VERBS = [
    "applies", "rejects", "creates", "updates", "deletes", "returns", "handles",
    "validates", "retries", "caches", "rounds", "sends", "skips", "merges",
    "expires", "locks", "renders", "parses", "paginates", "filters",
]
OBJECTS = [
    "discount", "partial_amount", "expired_token", "empty_cart", "unicode_name",
    "large_payload", "negative_total", "duplicate_request", "missing_field",
    "zero_quantity", "currency_rounding", "concurrent_update", "timeout",
    "invalid_signature", "rate_limit", "null_address", "long_description",
    "gift_card", "tax_exempt_user", "multiple_items",
]
JIRA_PROJECTS = ["PAY", "CHK", "AUTH", "SRCH", "INV", "ORD", "SHIP", "QA"]
HOSTS = ["ci-runner-1", "ci-runner-2", "ci-runner-7", "gha-ubuntu-22", "gitlab-shared-3"]

FAIL_MESSAGES = [
    "AssertionError: assert 200 == 503",
    "AssertionError: expected <200> but got <500> for /api/v1/refunds?order=1&dry_run=true",
    "assert response.json()[\"total\"] == Decimal('19.99')",
    "AssertionError: 'PAID' != 'PENDING' & retry scheduled",
    "expected: <[apples, pears]> but was: <[apples]>",
    "Expected \"<b>Welcome</b>\" to contain \"Welcome & thanks\"",
    "KeyError: 'discount_code' not in <Order id=4821>",
    "ValueError: amount must be >= 0, got -12.50",
]
ERROR_MESSAGES = [
    "ConnectionError: HTTPConnectionPool(host='db', port=5432): Max retries exceeded",
    "TimeoutError: operation timed out after 30.0s waiting for <queue 'payments'>",
    "fixture 'stripe_client' not found & no fallback configured",
    "psycopg2.OperationalError: could not connect to server: Connection refused",
    "java.lang.NullPointerException: Cannot invoke \"Order.getTotal()\" because <order> is null",
]
ERROR_TYPES = [
    "requests.exceptions.ConnectionError", "TimeoutError", "pytest.FixtureLookupError",
    "psycopg2.OperationalError", "java.lang.NullPointerException",
]
SKIP_MESSAGES = [
    "requires staging database & feature flag",
    "skipped: flaky on CI, see <https://example.invalid/issues/4821>",
    "not supported on Linux < 5.10",
    "needs STRIPE_API_KEY & network access",
    "@pytest.mark.skip(reason=\"waiting for backend deploy\")",
    "conditional skip: sys.platform == 'win32'",
]
OUT_LINES = [
    "INFO  connecting to postgres://localhost:5432/test_{n}",
    "DEBUG request POST /api/v1/orders -> 201 in {ms}ms",
    "seeded {n} rows into fixtures & warmed cache",
    "WARN  slow query ({ms}ms): SELECT * FROM orders WHERE id < {n}",
    "tid://@T{hex8}",
    "created user test+{n}@example.invalid",
    "retrying request after <503 Service Unavailable> ({ms}ms)",
]


class Vocab:
    """Pools built once from the seed, so the per-testcase work stays cheap."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.traces = [self._trace() for _ in range(600)]
        self.outputs = [self._output() for _ in range(800)]

    def _trace(self) -> str:
        rng = self.rng
        target = rng.randint(200, 2000)
        python = rng.random() < 0.6
        lines: list[str] = []
        if python:
            lines.append("Traceback (most recent call last):")
            while sum(len(l) + 1 for l in lines) < target - 80:
                path = f"tests/{rng.choice(LAYERS)}/{rng.choice(AREAS)}/test_{rng.choice(MODULE_NOUNS)}.py"
                func = f"test_{rng.choice(SUBJECTS)}_{rng.choice(VERBS)}_{rng.choice(OBJECTS)}"
                lines.append(f'  File "/home/runner/work/shop/shop/{path}", line {rng.randint(5, 900)}, in {func}')
                lines.append(f"    assert client.post(url, json=payload).status_code == {rng.choice([200, 201, 204])}")
            lines.append(rng.choice(FAIL_MESSAGES))
        else:
            lines.append(f"org.opentest4j.AssertionFailedError: {rng.choice(FAIL_MESSAGES)}")
            while sum(len(l) + 1 for l in lines) < target - 60:
                cls = f"com.shop.{rng.choice(AREAS)}.{rng.choice(MODULE_NOUNS).title().replace('_', '')}Test"
                lines.append(f"\tat {cls}.{rng.choice(VERBS)}{rng.choice(OBJECTS).title().replace('_', '')}({cls.rsplit('.', 1)[1]}.java:{rng.randint(10, 700)})")
                if rng.random() < 0.15:
                    lines.append("\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)")
            lines.append(f"\t... {rng.randint(20, 80)} more")
        return "\n".join(lines)[:2000]

    def _output(self) -> str:
        rng = self.rng
        lines = []
        for _ in range(rng.randint(1, 3)):
            lines.append(rng.choice(OUT_LINES).format(
                n=rng.randint(1, 99999), ms=rng.randint(1, 4000), hex8=f"{rng.getrandbits(32):08x}"))
        return "\n".join(lines)


class Counts:
    FIELDS = ("testcases", "tests", "passed", "failed", "errors", "skipped", "flaky",
              "failure_elements", "with_test_id", "with_jira", "files")

    def __init__(self) -> None:
        for field in self.FIELDS:
            setattr(self, field, 0)

    def as_dict(self) -> dict[str, int]:
        return {field: getattr(self, field) for field in self.FIELDS}


def attr(value: str) -> str:
    return xml_escape(value, {'"': "&quot;"})


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocab = Vocab(self.rng)
        self.counts = Counts()
        self.serial = 0  # makes every logical test name unique in a dataset

    # One logical test -> one or two <testcase> strings, plus per-suite tallies.
    def testcases(self, classname: str, path: str, tally: list[int]) -> list[str]:
        rng = self.rng
        counts = self.counts
        self.serial += 1
        name = f"test_{rng.choice(SUBJECTS)}_{rng.choice(VERBS)}_{rng.choice(OBJECTS)}_{self.serial}"
        where = f' file="{path}" line="{rng.randint(3, 1200)}"' if rng.random() < 0.5 else ""
        props = ""
        has_id = False
        self.tid_in_output = False
        if rng.random() < 0.03:
            items = []
            if rng.random() < 0.7:
                items.append(f'<property name="jira" value="{rng.choice(JIRA_PROJECTS)}-{rng.randint(1, 9999)}"/>')
                counts.with_jira += 1
            if not items or rng.random() < 0.6:
                items.append(f'<property name="test_id" value="@T{rng.getrandbits(32):08x}"/>')
                has_id = True
            props = "\n        <properties>" + "".join(items) + "</properties>"
        head = f'      <testcase classname="{classname}" name="{name}"{where}'
        roll = rng.random()
        counts.tests += 1
        out: list[str] = []
        if roll < 0.90:
            counts.passed += 1
            out.append(self._passed(head, props))
        elif roll < 0.93:
            counts.failed += 1
            counts.failure_elements += 1
            tally[1] += 1
            out.append(self._failed(head, props))
        elif roll < 0.94:
            counts.errors += 1
            tally[2] += 1
            msg = rng.randrange(len(ERROR_MESSAGES))
            trace = rng.choice(self.vocab.traces)
            out.append(
                f'{head} time="{rng.uniform(0.5, 30.0):.3f}">{props}\n'
                f'        <error message="{attr(ERROR_MESSAGES[msg])}" type="{ERROR_TYPES[msg]}">{xml_escape(trace)}</error>\n'
                f"      </testcase>\n")
        elif roll < 0.98:
            counts.skipped += 1
            tally[3] += 1
            out.append(
                f'{head} time="0.000">{props}\n'
                f'        <skipped message="{attr(rng.choice(SKIP_MESSAGES))}" type="pytest.skip"/>\n'
                f"      </testcase>\n")
        else:
            # Retried: a failed attempt, then a passing one (flaky).
            counts.flaky += 1
            counts.failure_elements += 1
            tally[1] += 1
            out.append(self._failed(head, props))
            out.append(self._passed(head, props))
        counts.with_test_id += has_id or self.tid_in_output
        counts.testcases += len(out)
        tally[0] += len(out)
        return out

    def _passed(self, head: str, props: str) -> str:
        rng = self.rng
        time = f'time="{rng.expovariate(1 / 0.08):.3f}"'
        if rng.random() < 0.2:
            output = rng.choice(self.vocab.outputs)
            self.tid_in_output = self.tid_in_output or "tid://" in output
            text = xml_escape(output)
            return f"{head} {time}>{props}\n        <system-out>{text}</system-out>\n      </testcase>\n"
        if props:
            return f"{head} {time}>{props}\n      </testcase>\n"
        return f"{head} {time}/>\n"

    def _failed(self, head: str, props: str) -> str:
        rng = self.rng
        trace = rng.choice(self.vocab.traces)
        body = f"<![CDATA[{trace}]]>" if rng.random() < 0.33 else xml_escape(trace)
        return (
            f'{head} time="{rng.uniform(0.01, 12.0):.3f}">{props}\n'
            f'        <failure message="{attr(rng.choice(FAIL_MESSAGES))}" type="AssertionError">{body}</failure>\n'
            f"      </testcase>\n")

    def module(self) -> tuple[str, str]:
        rng = self.rng
        layer, area, noun = rng.choice(LAYERS), rng.choice(AREAS), rng.choice(MODULE_NOUNS)
        return f"tests.{layer}.{area}.test_{noun}", f"tests/{layer}/{area}/test_{noun}.py"

    def suite(self, indent: str, classname: str, path: str, n_tests: int) -> tuple[str, list[int]]:
        """One <testsuite> of testcases; returns its text and [tests, failures, errors, skipped]."""
        tally = [0, 0, 0, 0]
        body: list[str] = []
        for _ in range(n_tests):
            body.extend(self.testcases(classname, path, tally))
        time = self.rng.uniform(0.5, 60.0)
        head = (f'{indent}<testsuite name="{classname}" tests="{tally[0]}" failures="{tally[1]}" '
                f'errors="{tally[2]}" skipped="{tally[3]}" time="{time:.3f}" file="{path}">\n')
        return head + "".join(body) + f"{indent}</testsuite>\n", tally


def write_large(args: argparse.Namespace) -> Counts:
    gen = Generator(args.seed)
    rng = gen.rng
    target = int(args.size_mb * 1024 * 1024)
    written = 0
    with open(args.out, "w", encoding="utf-8", buffering=1 << 20) as f:
        head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<testsuites name="shop test run" timestamp="2025-06-01T12:00:00">\n')
        f.write(head)
        written += len(head)
        package_no = 0
        while written < target:
            package_no += 1
            layer, area = rng.choice(LAYERS), rng.choice(AREAS)
            package = f"tests.{layer}.{area}"
            inner: list[str] = []
            totals = [0, 0, 0, 0]
            for _ in range(rng.randint(3, 12)):
                noun = rng.choice(MODULE_NOUNS)
                text, tally = gen.suite(
                    "    ", f"{package}.test_{noun}", f"tests/{layer}/{area}/test_{noun}.py", rng.randint(5, 120))
                inner.append(text)
                totals = [a + b for a, b in zip(totals, tally)]
            chunk = (f'  <testsuite name="{package}" tests="{totals[0]}" failures="{totals[1]}" '
                     f'errors="{totals[2]}" skipped="{totals[3]}" hostname="{rng.choice(HOSTS)}" '
                     f'timestamp="2025-06-01T12:{package_no // 60 % 60:02d}:{package_no % 60:02d}">\n'
                     + "".join(inner) + "  </testsuite>\n")
            f.write(chunk)
            written += len(chunk.encode("utf-8")) if not chunk.isascii() else len(chunk)
        f.write("</testsuites>\n")
    gen.counts.files = 1
    return gen.counts


def write_many(args: argparse.Namespace) -> Counts:
    gen = Generator(args.seed)
    rng = gen.rng
    for index in range(args.files):
        shard = os.path.join(args.out, "reports", f"shard-{index % 100:02d}")
        if index < 100:
            os.makedirs(shard, exist_ok=True)
        classname, path = gen.module()
        text, tally = gen.suite("  ", classname, path, rng.randint(args.min_cases, args.max_cases))
        if rng.random() < 0.5:
            # Surefire/Gradle style: one <testsuite> root per file.
            doc = '<?xml version="1.0" encoding="UTF-8"?>\n' + text.lstrip()
        else:
            doc = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="pytest" tests="{tally[0]}" '
                   f'failures="{tally[1]}" errors="{tally[2]}" skipped="{tally[3]}">\n{text}</testsuites>\n')
        with open(os.path.join(shard, f"TEST-{classname}-{index:05d}.xml"), "w", encoding="utf-8") as f:
            f.write(doc)
    gen.counts.files = args.files
    return gen.counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    large = sub.add_parser("large", help="one large report")
    large.add_argument("--size-mb", type=float, required=True, help="target size in MiB (the file ends a little past it)")
    large.add_argument("--out", required=True, help="output file")
    many = sub.add_parser("many", help="many small reports in a directory tree")
    many.add_argument("--files", type=int, required=True)
    many.add_argument("--min-cases", type=int, default=5)
    many.add_argument("--max-cases", type=int, default=40)
    many.add_argument("--out", required=True, help="output directory")
    for p in (large, many):
        p.add_argument("--seed", type=int, default=20250601)
        p.add_argument("--manifest", help="where to write the counts (default: OUT.counts.json)")
    args = parser.parse_args(argv)

    if args.mode == "large":
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        counts = write_large(args)
    else:
        counts = write_many(args)
    manifest = dict(counts.as_dict(), mode=args.mode, seed=args.seed)
    if args.mode == "large":
        manifest.update(size_mb=args.size_mb, bytes=os.path.getsize(args.out))
    else:
        manifest.update(min_cases=args.min_cases, max_cases=args.max_cases)
    with open(args.manifest or args.out.rstrip("/") + ".counts.json", "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(manifest, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
