#!/usr/bin/env python3
"""Count tests, failures, errors and skipped with junitparser: the Python
equivalent of `testbridge parse`'s summary, for the benchmark.

  junitparser_count.py FILE_OR_DIR...

Each file is loaded whole with junitparser (`JUnitXml.fromfile`, which builds
an lxml or xml.etree tree) and every testcase, nested suites included, is
counted. Directories are searched for *.xml recursively. Prints one JSON line:
{"files": N, "testcases": N, "failures": N, "errors": N, "skipped": N,
 "backend": "lxml" | "xml.etree"}. A testcase with several result elements
counts once in each matching column, as junitparser reports it.
"""

import json
import os
import sys

from junitparser import JUnitXml, TestSuite, junitparser as jp


def report_paths(arguments):
    for argument in arguments:
        if os.path.isdir(argument):
            found = []
            for root, _dirs, files in os.walk(argument):
                found.extend(os.path.join(root, name) for name in files if name.endswith(".xml"))
            yield from sorted(found)
        else:
            yield argument


def main(arguments):
    counts = {"files": 0, "testcases": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in report_paths(arguments):
        xml = JUnitXml.fromfile(path)
        counts["files"] += 1
        # A <testsuite> root is wrapped in a <testsuites>; iterating a suite
        # yields its own testcases and those of nested suites.
        suites = [xml] if isinstance(xml, TestSuite) else list(xml)
        for suite in suites:
            for case in suite:
                counts["testcases"] += 1
                results = case.result
                if results:
                    kinds = {type(result).__name__ for result in results}
                    counts["failures"] += "Failure" in kinds
                    counts["errors"] += "Error" in kinds
                    counts["skipped"] += "Skipped" in kinds
    counts["backend"] = "lxml" if jp.etree.__name__.startswith("lxml") else "xml.etree"
    print(json.dumps(counts, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
