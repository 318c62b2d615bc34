// The operations console's page: reads /api/... with the signed-in person's identity, an
// OpenID Connect access token of the platform's issuer (Keycloak locally:
// `bin/clearance token --role administrator`), kept for this browser tab only and sent as
// `Authorization: Bearer`. The console checks it as the services do; the subject and role
// shown here are read from the token for display only.

const $ = (selector) => document.querySelector(selector);

function identity() {
  const saved = sessionStorage.getItem("clearance.identity");
  return saved ? JSON.parse(saved) : null;
}

function identityHeaders() {
  const who = identity();
  return who ? { Authorization: `Bearer ${who.token}` } : {};
}

function claimsOf(token) {
  const part = token.split(".")[1] || "";
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  try {
    return JSON.parse(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)));
  } catch (_) {
    return {};
  }
}

function say(text) {
  $("#message").textContent = text || "";
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { ...identityHeaders(), ...(options.headers || {}) },
  });
  if (!response.ok) {
    const body = await response.text();
    let detail = body;
    try { detail = JSON.parse(body).detail || body; } catch (_) { /* plain text */ }
    throw new Error(`${path}: ${response.status} ${detail}`);
  }
  return response.json();
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "—" : String(text);
  if (className) td.className = className;
  return td;
}

function row(cells) {
  const tr = document.createElement("tr");
  cells.forEach((c) => tr.append(c instanceof Node ? c : cell(c)));
  return tr;
}

function fill(table, rows, empty) {
  const body = $(`${table} tbody`);
  body.replaceChildren(...rows);
  if (!rows.length) {
    const columns = $(`${table} thead tr`).children.length;
    const td = cell(empty);
    td.colSpan = columns;
    body.append(row([td]));
  }
}

function keyOf(ref) {
  return `${ref.port_code}/${ref.be_no}/${ref.be_date}`;
}

function status(name) {
  const span = document.createElement("span");
  span.className = `status status-${name || "unknown"}`;
  span.textContent = name ? name.replaceAll("_", " ") : "unknown";
  const td = document.createElement("td");
  td.append(span);
  return td;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString("en-IN", { timeZone: "Asia/Kolkata" }) : null;
}

function seconds(value) {
  if (value === null || value === undefined) return "—";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  if (value < 7200) return `${(value / 60).toFixed(1)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

// --- BE tracker -------------------------------------------------------------------------

async function search(event) {
  if (event) event.preventDefault();
  const query = new URLSearchParams();
  for (const [name, value] of new FormData($("#search"))) if (value) query.set(name, value);
  const found = await api(`/api/bills-of-entry?${query}`);
  fill("#results", found.bills_of_entry.map((be) => {
    const tr = row([
      keyOf(be.bill_of_entry_ref) + ` (v${be.bill_of_entry_ref.version})`,
      be.iec, be.be_type, status(be.status), when(be.first_seen_at), be.out_of_charge_no,
    ]);
    tr.className = "clickable";
    tr.addEventListener("click", () => showTimeline(keyOf(be.bill_of_entry_ref)).catch(fail));
    return tr;
  }), "No Bill of Entry matches.");
}

async function showTimeline(key) {
  const found = await api(`/api/bills-of-entry/${key}`);
  const view = found.status;
  $("#timeline").hidden = false;
  $("#timeline-title").textContent =
    `${key} — ${(view.status || "unknown").replaceAll("_", " ")} (notice ${view.notice_code || "—"})` +
    `${view.stuck ? " (stuck)" : ""}`;
  const links = $("#timeline-links");
  links.replaceChildren();
  found.traces.forEach((url, index) => {
    const a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.textContent = found.traces.length > 1 ? `Trace ${index + 1}` : "Its trace in the trace viewer";
    links.append(a, " ");
  });
  if (!found.traces.length && found.trace_search) {
    const a = document.createElement("a");
    a.href = found.trace_search;
    a.target = "_blank";
    a.textContent = "Search its traces in the trace viewer";
    links.append(a);
  }
  $("#timeline-steps").replaceChildren(...view.history.map((step) => {
    const li = document.createElement("li");
    li.textContent = `${when(step.at)} — ${step.summary} (v${step.version}, ${step.event_type}, ${step.producer})`;
    if (step.reasons.length) {
      const ul = document.createElement("ul");
      step.reasons.forEach((reason) => {
        const item = document.createElement("li");
        const rule = document.createElement("span");
        rule.className = "rule";
        rule.textContent = reason.rule_id;
        item.append(rule, ` ${reason.message}`);
        if (reason.policy) item.append(` (policy ${reason.policy.id} v${reason.policy.version})`);
        ul.append(item);
      });
      li.append(ul);
    }
    return li;
  }));
}

// --- stuck and dead letters ---------------------------------------------------------------

async function loadDeadLetters() {
  const found = await api("/api/dead-letters");
  fill("#stuck-bes", found.stuck.map((be) => row([
    keyOf(be.bill_of_entry_ref), status(be.status), when(be.first_seen_at || be.updated_at),
  ])), "No Bill of Entry is stuck.");
  const admin = identity() && identity().role === "administrator";
  fill("#letters", found.dead_letters.map((letter) => {
    const button = document.createElement("button");
    button.textContent = "Replay";
    button.disabled = !admin;
    button.title = admin ? "Put it back on its topic" : "Administrators replay dead letters";
    button.addEventListener("click", () => replay(letter, button).catch(fail));
    const action = document.createElement("td");
    action.append(button);
    const tr = row([
      letter.key, letter.consumer, letter.original_topic, letter.reason,
      letter.stuck ? "yes" : "no", action,
    ]);
    if (letter.stuck) tr.className = "stuck";
    return tr;
  }), "No dead letters.");
}

async function replay(letter, button) {
  button.disabled = true;
  const done = await api("/api/dead-letters/replay", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ topic: letter.topic, partition: letter.partition, offset: letter.offset }),
  });
  button.textContent = "Replayed";
  say(`Replayed ${done.replayed.length} dead letter(s) of ${letter.key} to ${letter.original_topic}.`);
}

// --- queues, flow, the day ----------------------------------------------------------------

async function loadQueues() {
  const found = await api("/api/queues");
  fill("#queue-table", found.queues.map((q) => q.error
    ? row([q.queue, cell(q.error), "", "", ""])
    : row([q.queue, q.location, q.group, cell(q.depth, "num"), when(q.oldest)])),
  "No queues.");
}

async function loadFlow() {
  const found = await api("/api/flow");
  fill("#flow-table", found.services.map((s) => s.up
    ? row([s.service, cell(s.consumer_lag, "num"), cell(s.outbox_backlog, "num"),
      cell(s.dead_letters, "num"), cell(s.stuck, "num"), cell(s.delivery_backlog, "num")])
    : row([s.service, cell(`not answering: ${s.error}`), "", "", "", ""])), "No services.");
}

async function loadDay(event) {
  if (event) event.preventDefault();
  const on = $("#day-on").value;
  const figures = await api(`/api/day${on ? `?on=${on}` : ""}`);
  if (!on) $("#day-on").value = figures.day;
  const box = $("#day-figures");
  const tiles = document.createElement("div");
  tiles.className = "figures";
  const tile = (label, value) => {
    const div = document.createElement("div");
    div.className = "figure";
    const b = document.createElement("b");
    b.textContent = value;
    div.append(b, label);
    return div;
  };
  tiles.append(
    tile("filed", figures.filed),
    tile("cleared automatically", figures.outcomes.cleared),
    tile("held for an officer", figures.outcomes.held),
    tile("rejected", figures.outcomes.rejected),
    tile("in progress", figures.outcomes["in progress"]),
  );
  const release = figures.release_seconds;
  const table = document.createElement("table");
  table.id = "release-table";
  table.innerHTML = "<thead><tr><th>Time</th><th>BEs</th><th>Average</th><th>p50</th>" +
    "<th>p90</th><th>p95</th><th>p99</th></tr></thead><tbody></tbody>";
  const spreadRow = (label, s) => row([label, cell(s.count, "num"), cell(seconds(s.mean), "num"),
    cell(seconds(s.p50), "num"), cell(seconds(s.p90), "num"), cell(seconds(s.p95), "num"),
    cell(seconds(s.p99), "num")]);
  table.tBodies[0].append(spreadRow("release (filing to Out of Charge)", release));
  for (const [name, spread] of Object.entries(figures.stages)) {
    table.tBodies[0].append(spreadRow(name, spread));
  }
  const within = document.createElement("p");
  within.textContent = "Released within " + Object.entries(figures.released_within)
    .map(([label, share]) => `${label}: ${share === null ? "—" : `${(share * 100).toFixed(1)} %`}`)
    .join(", ") + (figures.truncated ? " (first 20,000 BEs only)" : "");
  box.replaceChildren(tiles, table, within);
}

// --- page -------------------------------------------------------------------------------

function fail(error) {
  say(error.message);
}

async function refresh() {
  if (!identity()) {
    say("Sign in to see the platform.");
    return;
  }
  say("");
  const results = await Promise.allSettled([
    search(), loadDeadLetters(), loadQueues(), loadFlow(), loadDay(),
  ]);
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  say(failed.join(" · "));
  document.body.dataset.loaded = "true";
}

function showIdentity() {
  const who = identity();
  $("#who").textContent = who ? `Signed in as ${who.subject} (${who.role})` : "Not signed in";
  $("#sign-out").hidden = !who;
}

document.addEventListener("DOMContentLoaded", () => {
  $("#sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("#token").value.trim();
    const claims = claimsOf(token);
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    const platform = ["administrator", "officer", "filer", "custodian", "upstream"];
    const role = platform.find((name) => roles.includes(name)) || "none";
    sessionStorage.setItem("clearance.identity", JSON.stringify({
      token, subject: claims.preferred_username || claims.sub || "?", role,
    }));
    $("#token").value = "";
    showIdentity();
    refresh().catch(fail);
  });
  $("#sign-out").addEventListener("click", () => {
    sessionStorage.removeItem("clearance.identity");
    showIdentity();
    refresh().catch(fail);
  });
  $("#search").addEventListener("submit", (event) => search(event).catch(fail));
  $("#day-form").addEventListener("submit", (event) => loadDay(event).catch(fail));
  $("#refresh").addEventListener("click", () => refresh().catch(fail));
  showIdentity();
  refresh().catch(fail);
});
