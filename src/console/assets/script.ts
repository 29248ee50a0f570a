import { CSV_FORMULA_START, CSV_NEEDS_QUOTES } from "../events.ts";

/**
 * The console's page script: plain DOM, no framework, no build step. It draws the page from the
 * JSON API under /console/api/ and keeps its place (view, filter, page) in the URL's hash.
 */
export const SCRIPT = `
"use strict";
(function () {
  var API = "/console/api";
  var state = { session: null, region: null, view: "events", filter: null, query: null, tokens: [null], page: 0, rows: [], selected: [], download: null };
  var app = document.getElementById("app");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, String(attrs[k]));
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function request(method, path, body) {
    var headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (state.session && state.session.csrf) headers["x-csrf-token"] = state.session.csrf;
    return fetch(API + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" })
      .then(function (res) {
        // a proxy in front of the server may answer with a page of its own: say so, not "Unexpected token <"
        return res.json().catch(function () { return null; }).then(function (data) {
          var error = data && data.error;
          if (!res.ok || data === null) {
            var err = new Error((error && error.message) || "The server answered " + res.status + " " + res.statusText + " without an explanation.");
            err.code = error && error.code;
            err.status = res.status;
            throw err;
          }
          return data;
        });
      }, function (e) {
        throw new Error("The server could not be reached (" + e.message + ").");
      });
  }

  function pause(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // LookupEvents takes a few calls a second per account and region (AWS: 2) and refuses the rest
  // with ThrottlingException. A refused call did nothing, so the same page is asked again, later
  // and later; the pause that got through stays between the pages that follow (pace.gap), so that
  // a download of many pages goes at the rate the server allows instead of being refused at each.
  var RETRY = { firstMs: 500, mostMs: 8000, tries: 12 };
  function lookup(query, pace, onWait) {
    function attempt(n) {
      return pause(pace.gap).then(function () {
        if (pace.cancelled) throw cancelled();
        return request("GET", "/events?" + query);
      }).catch(function (err) {
        if (err.code !== "ThrottlingException" || n >= RETRY.tries || pace.cancelled) throw err;
        pace.throttled += 1;
        pace.gap = Math.min(RETRY.mostMs, pace.gap ? pace.gap * 2 : RETRY.firstMs);
        if (onWait) onWait(pace.gap);
        return attempt(n + 1);
      });
    }
    return attempt(1);
  }
  function newPace() { return { gap: 0, throttled: 0, cancelled: false }; }
  function cancelled() { var err = new Error("cancelled"); err.cancelled = true; return err; }

  function showError(container, err) {
    container.replaceChildren(el("p", { class: "message error", role: "alert", text: (err.code ? err.code + ": " : "") + err.message }));
    if (err.status === 401) start();
  }

  // ---- the time range presets of event history
  var PRESETS = [
    { id: "1h", title: "Last hour", ms: 3600e3 },
    { id: "3h", title: "Last 3 hours", ms: 3 * 3600e3 },
    { id: "12h", title: "Last 12 hours", ms: 12 * 3600e3 },
    { id: "1d", title: "Last day", ms: 24 * 3600e3 },
    { id: "7d", title: "Last 7 days", ms: 7 * 24 * 3600e3 },
    { id: "90d", title: "Last 90 days", ms: 90 * 24 * 3600e3 },
    { id: "custom", title: "Custom range", ms: 0 }
  ];

  function defaultFilter() {
    return { key: "ReadOnly", value: "false", range: "90d", start: "", end: "" };
  }

  function filterQuery(filter) {
    var q = new URLSearchParams();
    q.set("region", state.region);
    if (filter.key && filter.value !== "") { q.set("key", filter.key); q.set("value", filter.value); }
    if (filter.range === "custom") {
      if (filter.start) q.set("start", new Date(filter.start).toISOString());
      if (filter.end) q.set("end", new Date(filter.end).toISOString());
    } else {
      var preset = PRESETS.filter(function (p) { return p.id === filter.range; })[0] || PRESETS[5];
      q.set("start", new Date(Date.now() - preset.ms).toISOString());
    }
    return q.toString();
  }

  // ---- columns chosen for event history, kept in localStorage
  function shownColumns() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem("ot-columns") || "null"); } catch (e) { saved = null; }
    var all = state.session.columns;
    if (!Array.isArray(saved)) return all.filter(function (c) { return c.shown; }).map(function (c) { return c.id; });
    return all.map(function (c) { return c.id; }).filter(function (id) { return saved.indexOf(id) >= 0; });
  }
  function saveColumns(ids) { localStorage.setItem("ot-columns", JSON.stringify(ids)); }

  // ---- layout
  function header() {
    var views = [["events", "Event history"], ["trails", "Trails"], ["insights", "Insights"]];
    var region = el("select", { id: "region", "aria-label": "Region", onchange: function (e) { state.region = e.target.value; state.tokens = [null]; state.page = 0; state.query = null; render(); } },
      state.session.regions.map(function (r) { return el("option", { value: r, selected: r === state.region, text: r }); }));
    return el("header", {}, [
      el("h1", { text: "opentrail" }),
      el("nav", { "aria-label": "Pages" }, views.map(function (v) {
        return el("a", { href: "#" + v[0], "aria-current": state.view === v[0] ? "page" : null, text: v[1] });
      })),
      el("div", { class: "who" }, [
        el("label", { for: "region", class: "muted", text: "Region" }), region,
        el("span", { id: "who", text: state.session.user + " @ " + state.session.accountId }),
        el("button", { id: "sign-out", type: "button", onclick: signOut, text: "Sign out" })
      ])
    ]);
  }

  function render() {
    if (state.download) { state.download.cancelled = true; state.download = null; }
    var view = (location.hash || "#events").slice(1).split("/")[0];
    state.view = ["events", "trails", "insights"].indexOf(view) >= 0 ? view : "events";
    var main = el("main", { id: "main" });
    app.replaceChildren(header(), main);
    if (state.view === "events") renderEvents(main);
    else if (state.view === "trails") renderTrails(main);
    else renderInsights(main);
  }

  // ---- event history
  function renderEvents(main) {
    var f = state.filter || (state.filter = defaultFilter());
    var keySelect = el("select", { id: "lookup-key", name: "key" }, state.session.lookupKeys.map(function (k) {
      return el("option", { value: k.key, selected: k.key === f.key, text: k.title });
    }));
    var valueInput = el("input", { id: "lookup-value", name: "value", value: f.value, placeholder: "Enter a value" });
    var range = el("select", { id: "time-range", name: "range" }, PRESETS.map(function (p) {
      return el("option", { value: p.id, selected: p.id === f.range, text: p.title });
    }));
    var start = el("input", { id: "range-start", type: "datetime-local", name: "start", value: f.start });
    var end = el("input", { id: "range-end", type: "datetime-local", name: "end", value: f.end });
    var custom = el("span", { id: "custom-range", hidden: f.range !== "custom" }, [
      el("label", { for: "range-start", text: "From" }), start, el("label", { for: "range-end", text: "To" }), end
    ]);
    range.addEventListener("change", function () { custom.hidden = range.value !== "custom"; });
    var form = el("form", { class: "filters", role: "search", "aria-label": "Filter events", onsubmit: function (e) {
      e.preventDefault();
      state.filter = { key: keySelect.value, value: valueInput.value.trim(), range: range.value, start: start.value, end: end.value };
      state.tokens = [null]; state.page = 0; state.selected = []; state.query = null;
      loadEvents();
    } }, [
      el("label", { for: "lookup-key" }, ["Lookup attribute", keySelect]),
      el("label", { for: "lookup-value" }, ["Value", valueInput]),
      el("label", { for: "time-range" }, ["Time range", range]),
      custom,
      el("button", { id: "apply-filter", class: "primary", type: "submit", text: "Apply filter" })
    ]);

    var chooser = el("details", { id: "column-chooser" }, [el("summary", { text: "Columns" })].concat(
      state.session.columns.map(function (c) {
        var box = el("input", { type: "checkbox", id: "col-" + c.id, checked: shownColumns().indexOf(c.id) >= 0, onchange: function () {
          var ids = state.session.columns.map(function (x) { return x.id; }).filter(function (id) {
            var b = document.getElementById("col-" + id); return b && b.checked;
          });
          saveColumns(ids); drawTable();
        } });
        return el("div", {}, [box, el("label", { for: "col-" + c.id, text: " " + c.title })]);
      })));

    var toolbar = el("div", { class: "toolbar" }, [
      el("button", { id: "prev-page", type: "button", onclick: function () { if (state.page > 0) { state.page -= 1; loadEvents(); } }, text: "Previous page" }),
      el("span", { id: "page-number", "aria-live": "polite" }),
      el("button", { id: "next-page", type: "button", onclick: function () { if (state.tokens[state.page + 1]) { state.page += 1; loadEvents(); } }, text: "Next page" }),
      el("span", { class: "spacer" }),
      el("button", { id: "compare", type: "button", onclick: compare, text: "Compare selected" }),
      el("button", { id: "download-csv", type: "button", onclick: function () { downloadEvents("csv"); }, text: "Download CSV" }),
      el("button", { id: "download-json", type: "button", onclick: function () { downloadEvents("json"); }, text: "Download JSON" }),
      el("button", { id: "cancel-download", type: "button", hidden: true, onclick: cancelDownload, text: "Cancel download" }),
      chooser
    ]);
    var downloadState = el("div", { class: "download-state" }, [
      el("p", { id: "download-status", role: "status", class: "muted" }),
      el("p", { id: "download-error", role: "alert", class: "message error", hidden: true })
    ]);
    main.append(
      el("section", { class: "panel" }, [el("h2", { text: "Event history" }), form, toolbar, downloadState, el("div", { id: "events-table" })]),
      el("section", { class: "panel", id: "detail", hidden: true }),
      el("section", { class: "panel", id: "comparison", hidden: true })
    );
    loadEvents();
  }

  function loadEvents() {
    var holder = document.getElementById("events-table");
    if (!holder) return;
    // the time range is fixed when the filter is applied: a page token holds only for the query it came from
    if (!state.query) state.query = filterQuery(state.filter);
    var query = state.query + (state.tokens[state.page] ? "&next=" + encodeURIComponent(state.tokens[state.page]) : "");
    holder.setAttribute("aria-busy", "true");
    lookup(query, newPace()).then(function (data) {
      state.rows = data.events;
      state.tokens[state.page + 1] = data.nextToken;
      state.tokens.length = state.page + 2;
      var t0 = performance.now();
      drawTable();
      // how long the page took to draw the answer, for the browser test to print
      holder.setAttribute("data-draw-ms", (performance.now() - t0).toFixed(1));
    }).catch(function (err) { showError(holder, err); })
      .then(function () { holder.removeAttribute("aria-busy"); });
  }

  function drawTable() {
    var holder = document.getElementById("events-table");
    if (!holder) return;
    var ids = shownColumns();
    var columns = state.session.columns.filter(function (c) { return ids.indexOf(c.id) >= 0; });
    var head = el("tr", {}, [el("th", { scope: "col", text: "Select" })].concat(columns.map(function (c) { return el("th", { scope: "col", text: c.title }); })));
    var body = el("tbody", {}, state.rows.map(function (row, i) {
      var box = el("input", { type: "checkbox", class: "select-event", "aria-label": "Select " + row.eventName + " " + row.eventId, checked: state.selected.indexOf(row.eventId) >= 0, onchange: function (e) {
        if (e.target.checked) state.selected.push(row.eventId);
        else state.selected = state.selected.filter(function (id) { return id !== row.eventId; });
        updateButtons();
      } });
      return el("tr", { "data-event-id": row.eventId }, [el("td", {}, [box])].concat(columns.map(function (c) {
        if (c.id === "eventName") return el("td", {}, [el("button", { type: "button", class: "link open-event", onclick: function () { showDetail(i); }, text: row.eventName })]);
        return el("td", { class: c.id === "errorCode" && row.errorCode ? "error" : null, text: c.id === "eventTime" ? new Date(row.eventTime).toLocaleString() : row[c.id] });
      })));
    }));
    holder.replaceChildren(state.rows.length === 0
      ? el("p", { class: "message", id: "no-events", text: "No events match this filter." })
      : el("table", { id: "events" }, [el("thead", {}, [head]), body]));
    updateButtons();
  }

  function updateButtons() {
    var prev = document.getElementById("prev-page"), next = document.getElementById("next-page");
    if (prev) prev.disabled = state.page === 0;
    if (next) next.disabled = !state.tokens[state.page + 1];
    var label = document.getElementById("page-number");
    if (label) label.textContent = "Page " + (state.page + 1);
    var cmp = document.getElementById("compare");
    if (cmp) cmp.disabled = state.selected.length < 2 || state.selected.length > 5;
  }

  // ---- the download of the whole filter, page by page, as a file the browser saves
  var CSV_FORMULA_START = new RegExp(${JSON.stringify(CSV_FORMULA_START.source)});
  var CSV_NEEDS_QUOTES = new RegExp(${JSON.stringify(CSV_NEEDS_QUOTES.source)});
  // as the server's csvCell: a cell a spreadsheet would run as a formula gets a quote mark first
  function csvCell(value) {
    var text = value === undefined || value === null ? "" : String(value);
    var safe = CSV_FORMULA_START.test(text) ? "'" + text : text;
    return CSV_NEEDS_QUOTES.test(safe) ? '"' + safe.replace(/"/g, '""') + '"' : safe;
  }
  function toCsv(rows) {
    var columns = state.session.columns;
    var lines = [columns.map(function (c) { return csvCell(c.title); }).join(",")];
    rows.forEach(function (row) { lines.push(columns.map(function (c) { return csvCell(row[c.id]); }).join(",")); });
    return lines.join("\\r\\n") + "\\r\\n";
  }
  function toJsonExport(rows) {
    return JSON.stringify({ Records: rows.map(function (r) { return r.record; }) }, null, 2) + "\\n";
  }

  function saveFile(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var link = el("a", { href: url, download: name, hidden: true });
    document.body.appendChild(link);
    link.click();
    link.remove();
    // the browser reads the blob after this task; a minute is plenty
    setTimeout(function () { URL.revokeObjectURL(url); }, 60e3);
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function showDownloading(on) {
    ["download-csv", "download-json"].forEach(function (id) { var b = document.getElementById(id); if (b) b.disabled = on; });
    var cancel = document.getElementById("cancel-download");
    if (!cancel) return;
    // the button that goes away must not take the keyboard's place with it
    if (!on && document.activeElement === cancel) document.getElementById("download-csv").focus();
    cancel.hidden = !on;
  }

  function cancelDownload() {
    if (!state.download) return;
    state.download.cancelled = true;
    state.download = null;
    showDownloading(false);
    document.getElementById("download-status").textContent = "Download cancelled; no file was saved.";
  }

  function downloadEvents(format) {
    if (state.download || !state.query) return;
    var status = document.getElementById("download-status");
    var alert = document.getElementById("download-error");
    var job = state.download = newPace();
    var query = state.query, max = state.session.downloadMaxEvents;
    var name = "event-history-" + state.region + "." + format;
    var rows = [], pages = 0;
    alert.hidden = true;
    alert.textContent = "";
    showDownloading(true);
    function soFar() { return "Downloading " + format.toUpperCase() + ": " + plural(rows.length, "event", "events") + " so far."; }
    status.textContent = soFar();
    function page(token) {
      return lookup(query + (token ? "&next=" + encodeURIComponent(token) : ""), job, function (ms) {
        if (!job.cancelled) status.textContent = soFar() + " LookupEvents is throttled; asking again in " + (ms / 1000) + " s.";
      }).then(function (data) {
        if (job.cancelled) throw cancelled();
        pages += 1;
        var room = max - rows.length;
        rows = rows.concat(data.events.slice(0, room));
        var more = data.events.length > room || (data.nextToken && rows.length >= max);
        if (more) return true;
        if (!data.nextToken) return false;
        status.textContent = soFar();
        return page(data.nextToken);
      });
    }
    page(null).then(function (capped) {
      if (job.cancelled) return;
      saveFile(name, format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
        format === "csv" ? toCsv(rows) : toJsonExport(rows));
      status.textContent = "Downloaded " + plural(rows.length, "event", "events") + " (" + plural(pages, "page", "pages") + ") as " + name + "." +
        (job.throttled ? " LookupEvents was throttled " + plural(job.throttled, "time", "times") + "; the download waited and asked again." : "") +
        (capped ? " The file holds the newest " + max + " events of this filter, as many as a download takes: narrow the filter or the time range for the rest." : "");
    }, function (err) {
      if (job.cancelled || err.cancelled) return;
      status.textContent = "";
      alert.textContent = "The download stopped after " + plural(rows.length, "event", "events") + " and no file was saved: " +
        (err.code === "ThrottlingException" ? "LookupEvents kept refusing as throttled (" + err.message + "); try again in a minute." : err.message + (err.code ? " (" + err.code + ")" : ""));
      alert.hidden = false;
    }).then(function () {
      if (state.download === job) { state.download = null; showDownloading(false); }
    });
  }

  function rowById(id) { return state.rows.filter(function (r) { return r.eventId === id; })[0]; }

  function showDetail(i) {
    var row = state.rows[i];
    var panel = document.getElementById("detail");
    var resources = (row.record.resources || []);
    panel.replaceChildren(
      el("h2", { text: row.eventName }),
      el("dl", { class: "kv", id: "detail-summary" }, [
        ["Event time", row.eventTime], ["User name", row.userName], ["Event source", row.eventSource],
        ["AWS region", row.awsRegion], ["Source IP address", row.sourceIPAddress], ["AWS access key", row.accessKeyId],
        ["Event ID", row.eventId], ["Read-only", row.readOnly], ["Error code", row.errorCode]
      ].reduce(function (acc, kv) { return acc.concat([el("dt", { text: kv[0] }), el("dd", { text: kv[1] || "-" })]); }, [])),
      el("h3", { text: "Resources referenced" }),
      resources.length === 0 && !row.resourceName ? el("p", { class: "muted", text: "None" }) :
        el("table", {}, [el("thead", {}, [el("tr", {}, [el("th", { text: "Resource type" }), el("th", { text: "Resource name" })])]),
          el("tbody", {}, (resources.length ? resources.map(function (r) { return [r.type || "", r.ARN || r.arn || ""]; }) : [[row.resourceType, row.resourceName]])
            .map(function (r) { return el("tr", {}, [el("td", { text: r[0] }), el("td", { text: r[1] })]); }))]),
      el("h3", { text: "Event record" }),
      el("pre", { id: "detail-json", tabindex: "0", text: JSON.stringify(row.record, null, 2) }),
      el("button", { type: "button", id: "close-detail", onclick: function () { panel.hidden = true; }, text: "Close" })
    );
    panel.hidden = false;
    panel.scrollIntoView();
    document.getElementById("close-detail").focus();
  }

  function compare() {
    var rows = state.selected.map(rowById).filter(Boolean);
    if (rows.length < 2) return;
    var keys = [];
    rows.forEach(function (r) { Object.keys(r.record).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    var differs = keys.filter(function (k) {
      var first = JSON.stringify(rows[0].record[k]);
      return rows.some(function (r) { return JSON.stringify(r.record[k]) !== first; });
    });
    var panel = document.getElementById("comparison");
    panel.replaceChildren(
      el("h2", { text: "Comparing " + rows.length + " events" }),
      el("p", { class: "muted", text: "Fields that differ: " + (differs.join(", ") || "none") }),
      el("div", { class: "compare", id: "compare-grid" }, rows.map(function (r) {
        return el("div", { class: "compare-column" }, [
          el("h3", { text: r.eventName + " " + r.eventTime }),
          el("dl", { class: "kv" }, keys.reduce(function (acc, k) {
            var cls = differs.indexOf(k) >= 0 ? "diff" : null;
            var value = r.record[k] === undefined ? "-" : typeof r.record[k] === "object" ? JSON.stringify(r.record[k]) : String(r.record[k]);
            return acc.concat([el("dt", { class: cls, text: k }), el("dd", { class: cls, text: value })]);
          }, []))
        ]);
      })),
      el("button", { type: "button", id: "close-comparison", onclick: function () { panel.hidden = true; }, text: "Close" })
    );
    panel.hidden = false;
    panel.scrollIntoView();
  }

  // ---- trails
  function field(name, value) { return [el("dt", { text: name }), el("dd", { text: value === undefined || value === null || value === "" ? "-" : String(value) })]; }
  function time(v) { return v ? new Date(v).toISOString() : ""; }

  function renderTrails(main) {
    var panel = el("section", { class: "panel" }, [el("h2", { text: "Trails" }), el("div", { id: "trails" }, [el("p", { class: "muted", text: "Loading…" })])]);
    main.append(panel);
    var holder = panel.querySelector("#trails");
    request("GET", "/trails?region=" + encodeURIComponent(state.region)).then(function (data) {
      if (data.trails.length === 0) { holder.replaceChildren(el("p", { class: "message", text: "No trails in this region." })); return; }
      holder.replaceChildren.apply(holder, data.trails.map(function (t) {
        var s = t.status, tr = t.trail;
        return el("article", { class: "trail", "data-trail": tr.Name }, [
          el("h3", { text: tr.Name }),
          el("dl", { class: "kv" }, [].concat(
            [el("dt", { text: "Logging" }), el("dd", { class: s.IsLogging ? "status-on" : "status-off", "data-field": "logging", text: s.IsLogging ? "Logging" : "Not logging" })],
            field("Trail ARN", tr.TrailARN), field("Home region", tr.HomeRegion), field("Multi-region", tr.IsMultiRegionTrail ? "Yes" : "No"),
            field("S3 bucket", tr.S3BucketName), field("S3 key prefix", tr.S3KeyPrefix), field("Log file validation", tr.LogFileValidationEnabled ? "Enabled" : "Disabled"),
            field("Latest delivery", time(s.LatestDeliveryTime)), field("Latest delivery error", s.LatestDeliveryError),
            field("Latest digest delivery", time(s.LatestDigestDeliveryTime)), field("Latest digest delivery error", s.LatestDigestDeliveryError),
            field("SNS topic", tr.SnsTopicARN), field("Latest notification", time(s.LatestNotificationTime)), field("Latest notification error", s.LatestNotificationError),
            field("CloudWatch Logs log group", tr.CloudWatchLogsLogGroupArn), field("Latest CloudWatch Logs delivery", time(s.LatestCloudWatchLogsDeliveryTime)),
            field("Latest CloudWatch Logs delivery error", s.LatestCloudWatchLogsDeliveryError),
            field("Started logging", time(s.StartLoggingTime)), field("Stopped logging", time(s.StopLoggingTime)),
            field("Event selectors", t.advancedEventSelectors.length ? t.advancedEventSelectors.length + " advanced" : t.eventSelectors.length + " basic"),
            field("Insights", t.insightSelectors.map(function (i) { return i.InsightType; }).join(", "))
          )),
          el("h3", { text: "Log files delivered in the last 6 hours" }),
          t.deliveredFiles.length === 0 ? el("p", { class: "muted", text: "None" }) :
            el("table", {}, [el("thead", {}, [el("tr", {}, [el("th", { text: "Delivered" }), el("th", { text: "Bucket" }), el("th", { text: "Key" })])]),
              el("tbody", {}, t.deliveredFiles.map(function (f) { return el("tr", {}, [el("td", { text: f.deliveredAt }), el("td", { text: f.bucket }), el("td", { text: f.key })]); }))])
        ]);
      }));
    }).catch(function (err) { showError(holder, err); });
  }

  // ---- insights
  function chart(details, series) {
    var stats = (details.insightContext || {}).statistics || {};
    var base = (stats.baseline || {}).average || 0, peak = (stats.insight || {}).average || 0;
    var values = series && series.values.length ? series.values : [];
    var W = 720, H = 160, left = 36, bottom = 34, top = 10;
    var highest = Math.max(base, peak, 1, Math.max.apply(null, values.concat([0])));
    var max = highest * 1.15;
    var y = function (v) { return H - bottom - (v / max) * (H - bottom - top); };
    var x = function (i) { return left + (values.length <= 1 ? 0 : (i / (values.length - 1)) * (W - left - 8)); };
    var kind = details.insightType === "ApiErrorRateInsight" ? "errors" : "calls";
    var parts = [];
    if (values.length) {
      var from = Date.parse(series.timestamps[0]), step = 60000;
      var s0 = Date.parse(details.startTime || series.timestamps[0]), s1 = details.endTime ? Date.parse(details.endTime) : Date.parse(series.timestamps[values.length - 1]);
      var i0 = Math.max(0, Math.round((s0 - from) / step)), i1 = Math.min(values.length - 1, Math.round((s1 - from) / step));
      parts.push(svg("rect", { class: "insight", x: x(i0), y: top, width: Math.max(2, x(i1) - x(i0)), height: H - bottom - top }));
      parts.push(svg("polyline", { class: "series", points: values.map(function (v, i) { return x(i) + "," + y(v); }).join(" ") }));
    }
    parts.push(svg("line", { class: "baseline", x1: left, x2: W - 8, y1: y(base), y2: y(base) }));
    parts.push(svg("text", { x: left + 2, y: Math.max(12, y(base) - 4), text: "baseline " + Number(base).toFixed(2) + "/min" }));
    parts.push(svg("text", { x: 2, y: y(highest) + 4, text: String(Math.round(highest)) }));
    parts.push(svg("text", { x: 2, y: y(0) + 4, text: "0" }));
    if (values.length) {
      var hhmm = function (t) { return new Date(t).toISOString().slice(11, 16); };
      parts.push(svg("text", { x: left, y: H - bottom + 14, text: hhmm(series.timestamps[0]) }));
      parts.push(svg("text", { x: W - 8, y: H - bottom + 14, "text-anchor": "end", text: hhmm(series.timestamps[values.length - 1]) + " UTC" }));
    }
    parts.push(svg("text", { x: left, y: H - 4, text: kind + " per minute" + (values.length ? ", " + values.length + " minutes" : "") }));
    return svg("svg", { class: "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "The " + kind + " per minute of " + details.eventName + " against its baseline average " + base + "; during the Insight " + peak }, parts);
  }

  function renderInsights(main) {
    var panel = el("section", { class: "panel" }, [el("h2", { text: "Insights" }), el("div", { id: "insights" }, [el("p", { class: "muted", text: "Loading…" })])]);
    main.append(panel);
    var holder = panel.querySelector("#insights");
    var q = new URLSearchParams({ region: state.region, category: "insight", start: new Date(Date.now() - 90 * 24 * 3600e3).toISOString() });
    request("GET", "/events?" + q.toString()).then(function (data) {
      // one article per Insight: its Start, with the End when there is one
      var byShared = {};
      data.events.forEach(function (row) {
        var id = row.record.sharedEventID || row.eventId, d = row.record.insightDetails || {};
        var entry = byShared[id] || (byShared[id] = { row: row, details: d, startTime: null, endTime: null });
        if (d.state === "Start") { entry.row = row; entry.details = d; entry.startTime = row.record.eventTime; }
        if (d.state === "End") entry.endTime = row.record.eventTime;
      });
      var insights = Object.keys(byShared).map(function (k) { return byShared[k]; });
      if (insights.length === 0) { holder.replaceChildren(el("p", { class: "message", text: "No Insights events in the last 90 days." })); return; }
      holder.replaceChildren.apply(holder, insights.map(function (it) {
        var d = it.details;
        var figure = el("figure", { class: "insight-chart" }, [chart({ insightContext: d.insightContext, insightType: d.insightType, eventName: d.eventName }, null)]);
        var mq = new URLSearchParams({ region: state.region, eventSource: d.eventSource || "", eventName: d.eventName || "", insightType: d.insightType || "",
          start: it.startTime || it.row.record.eventTime, end: it.endTime || new Date().toISOString() });
        if (d.errorCode) mq.set("errorCode", d.errorCode);
        request("GET", "/insight-metrics?" + mq.toString()).then(function (series) {
          figure.replaceChildren(chart({ insightContext: d.insightContext, insightType: d.insightType, eventName: d.eventName,
            startTime: it.startTime, endTime: it.endTime }, series));
        }).catch(function () { /* the averages stay drawn */ });
        return el("article", { class: "insight-event" }, [
          el("h3", { text: (d.eventSource || "") + " " + (d.eventName || "") + " — " + (d.insightType || "") + (it.endTime ? " (ended)" : " (ongoing)") }),
          el("dl", { class: "kv" }, [].concat(field("Started", it.startTime), field("Ended", it.endTime), field("Shared event ID", it.row.record.sharedEventID),
            field("Error code", d.errorCode))),
          figure
        ]);
      }));
    }).catch(function (err) { showError(holder, err); });
  }

  // ---- sign-in
  function renderSignIn(development, error) {
    var key = el("input", { id: "access-key-id", name: "accessKeyId", autocomplete: "username", required: true });
    var secret = el("input", { id: "secret-access-key", name: "secretAccessKey", type: "password", autocomplete: "current-password", required: true });
    var message = el("p", { id: "sign-in-message", role: "alert", class: error ? "message error" : null, hidden: !error, text: error || "" });
    var form = el("form", { onsubmit: function (e) {
      e.preventDefault();
      request("POST", "/sign-in", { accessKeyId: key.value, secretAccessKey: secret.value }).then(signedIn)
        .catch(function (err) { message.textContent = err.message; message.className = "message error"; message.hidden = false; });
    } }, [
      el("label", { for: "access-key-id" }, ["Access key ID", key]),
      el("label", { for: "secret-access-key" }, ["Secret access key", secret]),
      el("button", { id: "sign-in", class: "primary", type: "submit", text: "Sign in" })
    ]);
    app.replaceChildren(el("main", { class: "signin" }, [
      el("section", { class: "panel" }, [
        el("h2", { text: "Sign in to opentrail" }), message, form,
        development ? el("p", {}, [el("button", { id: "sign-in-development", type: "button", onclick: function () {
          request("POST", "/sign-in", { development: true }).then(signedIn);
        }, text: "Continue as the development user" })]) : null
      ])
    ]));
    key.focus();
  }

  function signedIn(session) {
    state.session = session;
    state.region = state.region && session.regions.indexOf(state.region) >= 0 ? state.region : session.regions[0];
    state.filter = null; state.tokens = [null]; state.page = 0; state.selected = []; state.query = null;
    render();
  }

  function signOut() {
    request("POST", "/sign-out", {}).then(function () { state.session = null; renderSignIn(false); start(); });
  }

  function start() {
    request("GET", "/session").then(function (s) {
      if (s.signedIn) signedIn(s); else renderSignIn(s.development);
    }).catch(function (err) { app.replaceChildren(el("p", { class: "message error", text: err.message })); });
  }

  window.addEventListener("hashchange", function () { if (state.session) render(); });
  start();
})();
`;
