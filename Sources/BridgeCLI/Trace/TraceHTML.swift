import Foundation

/// `trace --format html`: one self-contained page (inline CSS and JavaScript, nothing loaded
/// from the network). The rows are plain HTML, so the page reads without JavaScript; with it,
/// the page recomputes the figures from the rows, sorts by a click on a column header and
/// filters by state; both are kept in the address (`#filter=failing&sort=tests-desc`), so a
/// view can be shared as a link.
enum TraceHTML {
  static func render(_ matrix: TraceMatrix, generatedAt: String) -> String {
    let figures = matrix.figures
    let history = matrix.source == .history
    var html = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
      <title>Traceability: \(escape(matrix.scope))</title>
      <style>
      body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}
      h1{font-size:20px;margin:0 0 4px}
      .meta{color:#59636e;margin:0 0 16px}
      .figures{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px;padding:0;list-style:none}
      .figures li{border:1px solid #d1d9e0;border-radius:6px;padding:8px 12px;min-width:110px}
      .figures b{display:block;font-size:22px}
      .controls{margin:0 0 12px}
      table{border-collapse:collapse;width:100%}
      th,td{border-bottom:1px solid #d1d9e0;padding:6px 8px;text-align:left;vertical-align:top}
      th{cursor:pointer;user-select:none;background:#f6f8fa;white-space:nowrap}
      th[aria-sort=ascending]::after{content:" \\25B2"}
      th[aria-sort=descending]::after{content:" \\25BC"}
      td.num{text-align:right}
      ul.tests{margin:0;padding:0;list-style:none}
      .state,.outcome{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px}
      .passing,.passed{background:#dafbe1}
      .flaky{background:#fff8c5}
      .failing,.failed,.error{background:#ffebe9}
      .incomplete,.skipped{background:#fff8c5}
      .untested,.never_run{background:#eff2f5}
      code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
      </style>
      </head>
      <body data-figures="static">
      <h1>Traceability matrix</h1>
      <p class="meta">Scope: <code>\(escape(matrix.scope))</code> · outcomes \(escape(TraceRenderer.sourceLine(matrix.source))) · generated \(escape(generatedAt))</p>
      <ul class="figures">

      """
    let items: [(String, String, String)] = [
      ("issues", "Issues in scope", String(figures.issues)),
      ("issues_with_tests", "Issues with tests", String(figures.issuesWithTests)),
      ("coverage_percent", "Coverage %", TraceFigures.format(figures.coveragePercent)),
      ("issues_passing", "All tests passing", String(figures.issuesPassing)),
      ("passing_percent", "Passing %", TraceFigures.format(figures.passingPercent)),
      ("issues_failing", "Issues failing", String(figures.issuesFailing)),
      ("issues_untested", "Issues untested", String(figures.issuesUntested)),
      ("tests", "Linked tests", String(figures.tests)),
      ("tests_failing", "Failing tests", String(figures.testsFailing)),
      ("tests_never_run", "Tests never run", String(figures.testsNeverRun)),
    ]
    for (id, label, value) in items {
      html += "<li>\(label)<b id=\"fig-\(id)\" data-figure=\"\(id)\">\(value)</b></li>\n"
    }
    html += """
      </ul>
      <p class="controls"><label for="filter">Show </label><select id="filter">
      <option value="all">all issues</option><option value="passing">passing</option><option value="failing">failing</option>
      <option value="incomplete">incomplete</option><option value="untested">untested</option></select>
      <span id="shown"></span></p>
      <table id="matrix">
      <thead><tr><th data-type="key">Issue</th><th data-type="text">Summary</th><th data-type="text">Status</th>
      <th data-type="text">State</th><th data-type="num">Tests</th><th data-type="num">Failing</th><th data-type="text">Linked tests</th>
      """
    if history { html += "<th data-type=\"text\">Latest run</th>" }
    html += "</tr></thead>\n<tbody>\n"
    for row in matrix.rows {
      html += "<tr data-key=\"\(escape(row.key))\" data-state=\"\(row.state.rawValue)\">"
      html += "<td><b>\(escape(row.key))</b></td><td>\(escape(row.summary))</td><td>\(escape(row.status))</td>"
      html += "<td><span class=\"state \(row.state.rawValue)\">\(row.state.rawValue)</span></td>"
      html += "<td class=\"num\">\(row.tests.count)</td><td class=\"num\">\(row.failingCount)</td><td><ul class=\"tests\">"
      for test in row.tests {
        let identity = test.id.map { "id:\($0)" } ?? "name:\(test.name ?? "")"
        html += "<li data-test=\"\(escape(identity))\" data-outcome=\"\(test.outcome.rawValue)\"><code>\(escape(test.label))</code> "
        html += "<span class=\"outcome \(test.outcome.rawValue)\">\(test.outcome.label)</span></li>"
      }
      html += "</ul></td>"
      if history {
        if let run = row.latestRun {
          let text = escape(TraceRenderer.runLine(run))
          if let url = run.url, url.hasPrefix("https://") || url.hasPrefix("http://") {
            html += "<td><a href=\"\(escape(url))\">\(text)</a></td>"
          } else {
            html += "<td>\(text)</td>"
          }
        } else {
          html += "<td>none</td>"
        }
      }
      html += "</tr>\n"
    }
    html += "</tbody>\n</table>\n<script>\n" + script + "</script>\n</body>\n</html>\n"
    return html
  }

  /// Figures from the rows (as the command computes them), sorting and the state filter.
  static let script = #"""
    (function () {
      "use strict";
      var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr"));
      var rank = { never_run: 0, skipped: 1, passed: 2, flaky: 3, error: 4, failed: 5 };
      function percent(part, whole) { return whole === 0 ? 100 : Math.round(part * 1000 / whole) / 10; }
      function figures() {
        var f = { issues: rows.length, issues_with_tests: 0, issues_passing: 0, issues_failing: 0, issues_untested: 0,
                  tests: 0, tests_failing: 0, tests_never_run: 0 };
        var tests = {};
        rows.forEach(function (row) {
          var state = row.getAttribute("data-state");
          if (state === "passing") f.issues_passing++;
          if (state === "failing") f.issues_failing++;
          if (state === "untested") f.issues_untested++;
          var items = row.querySelectorAll("li[data-test]");
          if (items.length > 0) f.issues_with_tests++;
          Array.prototype.forEach.call(items, function (item) {
            var id = item.getAttribute("data-test"), outcome = item.getAttribute("data-outcome");
            if (!(id in tests) || rank[outcome] > rank[tests[id]]) tests[id] = outcome;
          });
        });
        Object.keys(tests).forEach(function (id) {
          f.tests++;
          if (tests[id] === "failed" || tests[id] === "error") f.tests_failing++;
          if (tests[id] === "never_run") f.tests_never_run++;
        });
        f.coverage_percent = percent(f.issues_with_tests, f.issues);
        f.passing_percent = percent(f.issues_passing, f.issues);
        Object.keys(f).forEach(function (name) {
          var element = document.getElementById("fig-" + name);
          if (element) element.textContent = String(f[name]);
        });
        document.body.setAttribute("data-figures", "computed");
      }
      var columns = ["issue", "summary", "status", "state", "tests", "failing", "linked", "run"];
      var headers = Array.prototype.slice.call(document.querySelectorAll("#matrix thead th"));
      function readHash() {
        var filter = /(?:^#|&)filter=([a-z_]+)/.exec(window.location.hash);
        var sort = /(?:^#|&)sort=([a-z]+)-(asc|desc)/.exec(window.location.hash);
        var value = filter ? filter[1] : "all";
        return {
          filter: ["all", "passing", "failing", "incomplete", "untested"].indexOf(value) >= 0 ? value : "all",
          sort: sort && columns.indexOf(sort[1]) >= 0 && columns.indexOf(sort[1]) < headers.length
            ? { column: sort[1], ascending: sort[2] === "asc" } : null
        };
      }
      function writeHash(state) {
        var hash = "filter=" + state.filter;
        if (state.sort) hash += "&sort=" + state.sort.column + "-" + (state.sort.ascending ? "asc" : "desc");
        window.location.hash = hash;
      }
      function applyFilter(value) {
        var shown = 0;
        rows.forEach(function (row) {
          var visible = value === "all" || row.getAttribute("data-state") === value;
          row.hidden = !visible;
          if (visible) shown++;
        });
        document.getElementById("filter").value = value;
        document.getElementById("shown").textContent = shown + " of " + rows.length + " shown";
        document.body.setAttribute("data-filter", value);
      }
      function keyParts(text) {
        var match = /^(.*?)-(\d+)$/.exec(text);
        return match ? [match[1], parseInt(match[2], 10)] : [text, 0];
      }
      function applySort(sort) {
        headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
        if (!sort) return;
        var index = columns.indexOf(sort.column), header = headers[index];
        var type = header.getAttribute("data-type");
        header.setAttribute("aria-sort", sort.ascending ? "ascending" : "descending");
        var body = document.querySelector("#matrix tbody");
        rows.map(function (row, position) { return { row: row, position: position }; }).sort(function (a, b) {
          var x = a.row.children[index].textContent.trim(), y = b.row.children[index].textContent.trim(), order;
          if (type === "num") { order = parseFloat(x) - parseFloat(y); }
          else if (type === "key") {
            var p = keyParts(x), q = keyParts(y);
            order = p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : p[1] - q[1];
          } else { order = x.localeCompare(y); }
          return (sort.ascending ? order : -order) || a.position - b.position;
        }).forEach(function (item) { body.appendChild(item.row); });
        document.body.setAttribute("data-sort", sort.column + "-" + (sort.ascending ? "asc" : "desc"));
      }
      function apply() {
        var state = readHash();
        applyFilter(state.filter);
        applySort(state.sort);
      }
      headers.forEach(function (header, index) {
        header.addEventListener("click", function () {
          var state = readHash();
          var same = state.sort && state.sort.column === columns[index];
          state.sort = { column: columns[index], ascending: !(same && state.sort.ascending) };
          writeHash(state);
        });
      });
      document.getElementById("filter").addEventListener("change", function (event) {
        var state = readHash();
        state.filter = event.target.value;
        writeHash(state);
      });
      window.addEventListener("hashchange", apply);
      figures();
      apply();
    })();

    """#

  /// Text for HTML content and attribute values.
  static func escape(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&#39;"
      default: result.append(character)
      }
    }
    return result
  }
}
