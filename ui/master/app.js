/*
 * app.js: the master's web UI. It reads /state once (the master's own facts), then follows
 * the operator event stream (POST api/v1 {"type":"SUBSCRIBE"}, RecordIO of v1 JSON events): the
 * SUBSCRIBED record carries the whole cluster, later records change it. The model below is kept
 * in the v1 shapes of those events; every view renders from it. Nothing polls the master: the
 * charts sample the model every few seconds, and only an open sandbox file is re-read (as
 * Mesos's UI tails it) while it is on screen.
 */
"use strict";

const { h } = UI;
UI.shell("Mesos", [["#/", "Overview"], ["#/agents", "Agents"],
  ["#/frameworks", "Frameworks"], ["#/tasks", "Tasks"]]);

const SAMPLE_MS = 2000;     // chart sampling period
const SAMPLES = 90;         // three minutes of history
const MAX_COMPLETED = 1000; // terminal tasks kept, as Mesos's max_completed_tasks_per_framework
const TERMINAL = new Set(["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST",
  "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"]);
const STATES = ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING",
  "TASK_UNREACHABLE", "TASK_FINISHED", "TASK_KILLED", "TASK_FAILED", "TASK_LOST", "TASK_ERROR"];

const model = {
  master: null,        // /state, read once
  agents: new Map(),   // id -> v1 Agent
  frameworks: new Map(), // id -> v1 Framework
  tasks: new Map(),    // id -> v1 Task (the newest state in .state)
  history: { cpus: [], mem: [], running: [] }, // percent used, percent used, running tasks
};

/* ---- v1 resources ---- */

/* {cpus, mem, disk, gpus, ports: "[a-b, ...]"} summed over a v1 Resource list. */
function resources(list) {
  const r = { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [] };
  for (const x of list || []) {
    if (x.type === "SCALAR" && x.name in r) r[x.name] += x.scalar ? x.scalar.value : 0;
    if (x.type === "RANGES" && x.name === "ports") {
      for (const g of (x.ranges && x.ranges.range) || []) {
        r.ports.push(g.begin === g.end ? String(g.begin) : `${g.begin}-${g.end}`);
      }
    }
  }
  r.ports = r.ports.length ? "[" + r.ports.join(", ") + "]" : "";
  return r;
}

function attributes(list) {
  return (list || []).map((a) => {
    let v = "";
    if (a.type === "SCALAR") v = a.scalar.value;
    else if (a.type === "TEXT") v = a.text.value;
    else if (a.type === "RANGES") v = a.ranges.range.map((g) => `${g.begin}-${g.end}`).join(",");
    else if (a.type === "SET") v = "{" + a.set.item.join(",") + "}";
    return `${a.name}:${v}`;
  }).join("; ");
}

const id = (x) => (x && x.value) || "";
const nanos = (t) => (t && t.nanoseconds ? t.nanoseconds / 1e9 : 0);
const live = (t) => !TERMINAL.has(t.state);

/* Resources used per agent and per framework: the sum of their live tasks'. */
function usage() {
  const byAgent = new Map(), byFramework = new Map();
  const add = (map, key, r) => {
    const u = map.get(key) || { cpus: 0, mem: 0, disk: 0, gpus: 0, tasks: 0 };
    for (const k of ["cpus", "mem", "disk", "gpus"]) u[k] += r[k];
    u.tasks++;
    map.set(key, u);
  };
  for (const t of model.tasks.values()) {
    if (!live(t)) continue;
    const r = resources(t.resources);
    add(byAgent, id(t.agent_id), r);
    add(byFramework, id(t.framework_id), r);
  }
  return { byAgent, byFramework };
}

function totals() {
  const total = { cpus: 0, mem: 0, disk: 0 }, used = { cpus: 0, mem: 0, disk: 0 };
  const { byAgent } = usage();
  for (const a of model.agents.values()) {
    const r = resources(a.total_resources || a.agent_info.resources);
    const u = byAgent.get(id(a.agent_info.id)) || { cpus: 0, mem: 0, disk: 0 };
    for (const k of Object.keys(total)) {
      total[k] += r[k];
      used[k] += u[k];
    }
  }
  return { total, used };
}

function stateCounts() {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const t of model.tasks.values()) counts[t.state] = (counts[t.state] || 0) + 1;
  return counts;
}

/* ---- the event stream ---- */

function trimCompleted() {
  const done = [...model.tasks.values()].filter((t) => !live(t));
  if (done.length <= MAX_COMPLETED) return;
  done.sort((a, b) => lastTime(a) - lastTime(b));
  for (const t of done.slice(0, done.length - MAX_COMPLETED)) model.tasks.delete(id(t.task_id));
}

function lastTime(t) {
  const s = t.statuses || [];
  return s.length ? s[s.length - 1].timestamp || 0 : 0;
}

function applySubscribed(ev) {
  const s = ev.subscribed.get_state || {};
  model.agents.clear();
  model.frameworks.clear();
  model.tasks.clear();
  for (const a of (s.get_agents && s.get_agents.agents) || []) {
    model.agents.set(id(a.agent_info.id), a);
  }
  for (const f of (s.get_frameworks && s.get_frameworks.frameworks) || []) {
    model.frameworks.set(id(f.framework_info.id), f);
  }
  const t = s.get_tasks || {};
  for (const list of [t.completed_tasks, t.unreachable_tasks, t.orphan_tasks, t.tasks]) {
    for (const x of list || []) model.tasks.set(id(x.task_id), x);
  }
}

/* Applies one v1 event to the model. */
function apply(ev) {
  switch (ev.type) {
    case "SUBSCRIBED":
      applySubscribed(ev);
      break;
    case "TASK_ADDED":
      model.tasks.set(id(ev.task_added.task.task_id), ev.task_added.task);
      break;
    case "TASK_UPDATED": {
      const u = ev.task_updated;
      const t = model.tasks.get(id(u.status.task_id));
      if (!t) break;
      t.state = u.state;
      t.statuses = (t.statuses || []).concat([u.status]);
      trimCompleted();
      break;
    }
    case "AGENT_ADDED":
      model.agents.set(id(ev.agent_added.agent.agent_info.id), ev.agent_added.agent);
      break;
    case "AGENT_REMOVED":
      model.agents.delete(id(ev.agent_removed.agent_id));
      break;
    case "FRAMEWORK_ADDED":
    case "FRAMEWORK_UPDATED": {
      const f = (ev.framework_added || ev.framework_updated).framework;
      model.frameworks.set(id(f.framework_info.id), f);
      break;
    }
    case "FRAMEWORK_REMOVED":
      model.frameworks.delete(id(ev.framework_removed.framework_info.id));
      break;
    default:
      return false; // HEARTBEAT and others change nothing
  }
  return true;
}

/* Splits RecordIO ("<length>\n<bytes>") out of a byte buffer; returns [records, rest]. */
function records(buf) {
  const out = [];
  let at = 0;
  for (;;) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    const len = Number(new TextDecoder().decode(buf.subarray(at, nl)));
    if (!Number.isInteger(len) || len < 0) throw new Error("Malformed RecordIO length");
    if (buf.length < nl + 1 + len) break;
    out.push(new TextDecoder().decode(buf.subarray(nl + 1, nl + 1 + len)));
    at = nl + 1 + len;
  }
  return [out, buf.subarray(at)];
}

function concat(a, b) {
  const c = new Uint8Array(a.length + b.length);
  c.set(a, 0);
  c.set(b, a.length);
  return c;
}

/* Follows the stream; resolves when it ends. A silent stream (no heartbeat for three periods)
 * is aborted. */
async function follow() {
  const abort = new AbortController();
  let heartbeat = 15, timer = null;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), heartbeat * 3000);
  };
  arm();
  try {
    const resp = await fetch("api/v1", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ type: "SUBSCRIBE" }),
      signal: abort.signal,
    });
    if (!resp.ok) throw new Error(`SUBSCRIBE answered ${resp.status}: ${await resp.text()}`);
    const reader = resp.body.getReader();
    let buf = new Uint8Array(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      arm();
      let recs;
      [recs, buf] = records(concat(buf, value));
      let changed = false;
      for (const r of recs) {
        const ev = JSON.parse(r);
        if (ev.type === "SUBSCRIBED") {
          heartbeat = ev.subscribed.heartbeat_interval_seconds || heartbeat;
          UI.setLive(true, "live");
          UI.banner(null);
        }
        changed = apply(ev) || changed;
      }
      if (changed) scheduleRender();
    }
  } finally {
    clearTimeout(timer);
  }
}

async function stream() {
  let backoff = 1000;
  for (;;) {
    try {
      await follow();
    } catch (e) {
      if (e.name !== "AbortError") UI.banner("Event stream: " + e.message);
    }
    UI.setLive(false, "reconnecting");
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 30000);
  }
}

/* ---- views ---- */

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (viewOwnsScreen) refreshView();
    else route();
  });
}

let viewOwnsScreen = false; // the task view renders itself: its sandbox must not restart
let stopView = () => {};    // stops the open view's timers
let refreshView = () => {}; // re-renders the open view's model-backed part

function show(title, ...content) {
  const main = document.getElementById("view");
  main.replaceChildren(h("h1", null, title), ...content.filter((c) => c !== null));
}

function sample() {
  const { total, used } = totals();
  const push = (arr, v) => {
    arr.push(v);
    if (arr.length > SAMPLES) arr.shift();
  };
  push(model.history.cpus, total.cpus ? (100 * used.cpus) / total.cpus : 0);
  push(model.history.mem, total.mem ? (100 * used.mem) / total.mem : 0);
  push(model.history.running, stateCounts().TASK_RUNNING);
  if ((location.hash || "#/") === "#/") scheduleRender();
}

function chart(key, title, values, max, text) {
  return h("div", { class: "card chart", dataset: { k: key } },
    h("div", { class: "k" }, title, " ", h("span", { class: "muted" }, text)),
    UI.sparkline(values, max, SAMPLES));
}

function overview() {
  const { total, used } = totals();
  const counts = stateCounts();
  const active = [...model.agents.values()].filter((a) => a.active).length;
  const m = model.master || {};
  const hist = model.history;
  show(m.cluster ? `Cluster ${m.cluster}` : "Cluster",
    h("p", { class: "muted" }, `Master ${m.pid || ""}, version ${m.version || "-"}, ` +
      `started ${UI.time(m.start_time)}`),
    h("div", { class: "cards", id: "summary" },
      UI.card("agents", "Agents", active),
      UI.card("frameworks", "Frameworks", model.frameworks.size),
      UI.card("cpus", "CPUs used", `${UI.num(used.cpus)} / ${UI.num(total.cpus)}`),
      UI.card("mem", "Memory used", `${UI.mem(used.mem)} / ${UI.mem(total.mem)}`),
      UI.card("disk", "Disk used", `${UI.mem(used.disk)} / ${UI.mem(total.disk)}`)),
    h("h2", null, "Tasks"),
    h("div", { class: "cards", id: "task-states" },
      STATES.map((s) => UI.card(s, s.replace("TASK_", "").toLowerCase(), counts[s] || 0))),
    h("h2", null, "Over time"),
    h("div", { class: "charts" },
      chart("cpu-chart", "CPU allocated", hist.cpus, 100,
        `${UI.num(used.cpus)} of ${UI.num(total.cpus)} (${UI.num(hist.cpus.at(-1) || 0, 0)}%)`),
      chart("mem-chart", "Memory allocated", hist.mem, 100,
        `${UI.mem(used.mem)} of ${UI.mem(total.mem)} (${UI.num(hist.mem.at(-1) || 0, 0)}%)`),
      chart("task-chart", "Running tasks", hist.running, 0, String(counts.TASK_RUNNING))));
}

function agentsView() {
  const { byAgent } = usage();
  const rows = [];
  for (const a of model.agents.values()) {
    const info = a.agent_info, aid = id(info.id);
    const r = resources(a.total_resources || info.resources);
    const u = byAgent.get(aid) || { cpus: 0, mem: 0, disk: 0, tasks: 0 };
    const attrs = attributes(info.attributes);
    if (!UI.matches(aid, info.hostname, a.pid, attrs, r.ports)) continue;
    rows.push({
      attrs: { dataset: { agent: aid } },
      cells: [h("span", { class: "mono" }, aid), `${info.hostname}:${info.port}`,
        a.active ? UI.badge("active", "ok") : UI.badge("inactive", "warn"), u.tasks,
        h("div", null, `${UI.num(u.cpus)} / ${UI.num(r.cpus)}`, UI.bar(u.cpus, r.cpus)),
        h("div", null, `${UI.mem(u.mem)} / ${UI.mem(r.mem)}`, UI.bar(u.mem, r.mem)),
        UI.mem(r.disk), r.ports, attrs, UI.time(nanos(a.registered_time))],
    });
  }
  show("Agents", UI.table([["ID"], ["Host"], ["Status"], ["Tasks", "num"], ["CPUs"],
    ["Memory"], ["Disk"], ["Ports"], ["Attributes"], ["Registered"]], rows, "No agents"));
}

function frameworksView() {
  const { byFramework } = usage();
  const rows = [];
  for (const f of model.frameworks.values()) {
    const info = f.framework_info, fid = id(info.id);
    const u = byFramework.get(fid) || { cpus: 0, mem: 0, tasks: 0 };
    if (!UI.matches(fid, info.name, info.user, info.role, info.hostname)) continue;
    rows.push({
      attrs: { dataset: { framework: fid } },
      cells: [h("span", { class: "mono" }, fid), info.name, info.user, info.role || "*",
        f.active ? UI.badge("active", "ok") : UI.badge("inactive", "warn"), u.tasks,
        UI.num(u.cpus), UI.mem(u.mem), UI.time(nanos(f.registered_time))],
    });
  }
  show("Frameworks", UI.table([["ID"], ["Name"], ["User"], ["Role"], ["Status"],
    ["Active tasks", "num"], ["CPUs", "num"], ["Memory", "num"], ["Registered"]], rows,
  "No frameworks"));
}

function stateBadge(state) {
  const kind = state === "TASK_RUNNING" || state === "TASK_FINISHED" ? "ok"
    : state === "TASK_KILLED" ? "" : TERMINAL.has(state) ? "bad" : "warn";
  return UI.badge(state, kind);
}

function taskRows(tasks) {
  return tasks.map((t) => {
    const tid = id(t.task_id), f = model.frameworks.get(id(t.framework_id));
    const a = model.agents.get(id(t.agent_id));
    const r = resources(t.resources);
    return {
      attrs: { dataset: { task: tid, state: t.state } },
      cells: [h("a", { href: "#/tasks/" + encodeURIComponent(tid), class: "mono" }, tid),
        t.name, stateBadge(t.state), f ? f.framework_info.name : id(t.framework_id),
        a ? a.agent_info.hostname : id(t.agent_id), UI.num(r.cpus), UI.mem(r.mem),
        UI.time(lastTime(t)),
        h("a", { href: "#/tasks/" + encodeURIComponent(tid) + "/sandbox" }, "Sandbox")],
    };
  });
}

function tasksView() {
  const pick = (want) => [...model.tasks.values()]
    .filter((t) => live(t) === want)
    .filter((t) => UI.matches(id(t.task_id), t.name, t.state, id(t.framework_id),
      id(t.agent_id)))
    .sort((a, b) => lastTime(b) - lastTime(a));
  const cols = [["ID"], ["Name"], ["State"], ["Framework"], ["Host"], ["CPUs", "num"],
    ["Memory", "num"], ["Updated"], [""]];
  show("Tasks",
    h("h2", null, "Active"), h("div", { id: "active-tasks" },
      UI.table(cols, taskRows(pick(true)), "No active tasks")),
    h("h2", null, "Completed"), h("div", { id: "completed-tasks" },
      UI.table(cols, taskRows(pick(false)), "No completed tasks")));
}

/* ---- a task and its sandbox ---- */

/* Where the agent running t serves HTTP: "" (this server) when it shares the page's port, as
 * under mesos-local; else its own origin, read with JSONP. Its actor id prefixes its
 * endpoints. */
function agentBase(a) {
  const actor = (a.pid || "slave(1)@").split("@")[0];
  const port = String(a.agent_info.port || "");
  const here = location.port || (location.protocol === "https:" ? "443" : "80");
  const origin = port === here ? "" : `${location.protocol}//${a.agent_info.hostname}:${port}`;
  return { origin, actor };
}

/* An agent's JSON endpoint: fetched when the agent shares this page's server, else JSONP (as
 * Mesos's UI reads agents) because agents send no CORS headers. */
const agentJSON = (origin, path) => (origin ? UI.jsonp(origin + path) : UI.json(path));

/* The sandbox directory of task t, from its agent's /state. */
async function sandboxOf(t) {
  const a = model.agents.get(id(t.agent_id));
  if (!a) throw new Error("The task's agent is not registered");
  const { origin, actor } = agentBase(a);
  const state = await agentJSON(origin, `/${actor}/state`);
  const tid = id(t.task_id);
  const has = (e) => id(t.executor_id) === e.id || [e.tasks, e.queued_tasks, e.completed_tasks]
    .some((list) => (list || []).some((x) => x.id === tid));
  for (const f of [...(state.frameworks || []), ...(state.completed_frameworks || [])]) {
    for (const e of [...(f.executors || []), ...(f.completed_executors || [])]) {
      if (has(e)) return { origin, dir: e.directory };
    }
  }
  throw new Error("The agent knows no sandbox for this task (it may have been garbage-collected)");
}

/* The task's state, resources and status updates: the part of its view that follows events. */
function taskInfo(t) {
  const r = resources(t.resources);
  const statuses = (t.statuses || []).map((s) => [s.state, UI.time(s.timestamp),
    s.message || "", s.reason || "", s.source || ""]);
  return [h("div", { class: "cards" }, UI.card("state", "State", stateBadge(t.state)),
    UI.card("cpus", "CPUs", UI.num(r.cpus)), UI.card("mem", "Memory", UI.mem(r.mem)),
    UI.card("ports", "Ports", r.ports || "-")),
  h("h2", null, "Status updates"),
  UI.table([["State"], ["Time"], ["Message"], ["Reason"], ["Source"]], statuses)];
}

function taskView([tid, sandbox]) {
  const t = model.tasks.get(tid);
  if (!t) {
    show("Task", h("p", { class: "muted" }, model.master ? "No such task" : "Loading"));
    return;
  }
  const info = h("div", { id: "task-info" }, taskInfo(t));
  show(`Task ${tid}`, info,
    h("h2", null, "Sandbox"), h("div", { id: "sandbox" }, h("span", { class: "muted" },
      "Finding the sandbox...")));
  stopView();
  viewOwnsScreen = true;
  refreshView = () => {
    const now = model.tasks.get(tid);
    if (now) info.replaceChildren(...taskInfo(now));
  };
  openSandbox(t, sandbox === "sandbox" ? "stdout" : null);
}

/* Lists the sandbox and tails one file (stdout by default), re-reading it every second only
 * while this view is open. Choosing another file abandons the previous one's reads: `shown`
 * counts the choices, and a read that comes back for an older one is dropped. */
async function openSandbox(t, initial) {
  const box = document.getElementById("sandbox");
  let stopped = false, timer = null, shown = 0;
  stopView = () => {
    stopped = true;
    clearTimeout(timer);
  };
  let where;
  try {
    where = await sandboxOf(t);
  } catch (e) {
    box.replaceChildren(h("p", { class: "muted" }, e.message));
    return;
  }
  const files = `${where.origin}/files`;
  const read = (q) => agentJSON(where.origin, `/files/read?path=${q}`);
  const log = h("pre", { class: "log", id: "file" });
  const title = h("div", { class: "toolbar" });
  let entries = [];
  try {
    entries = await agentJSON(where.origin,
      `/files/browse?path=${encodeURIComponent(where.dir)}`);
  } catch (e) {
    box.replaceChildren(h("p", { class: "mono" }, where.dir), h("p", { class: "muted" },
      e.message));
    return;
  }
  const list = UI.table([["File"], ["Size", "num"], ["Modified"]], entries.map((e) => {
    const name = e.path.split("/").pop();
    const isDir = String(e.mode || "").startsWith("d");
    return [isDir ? name + "/" : h("button", { type: "button", class: "link",
      onclick: () => tail(e.path) }, name), UI.num(e.size), UI.time(e.mtime)];
  }), "The sandbox is empty");
  box.replaceChildren(h("p", { class: "mono" }, where.dir), list, title, log);

  async function tail(path) {
    const me = ++shown;
    const current = () => !stopped && me === shown;
    clearTimeout(timer);
    const name = path.split("/").pop();
    title.replaceChildren(h("h2", null, name), h("span", { class: "grow" }),
      h("a", { class: "button", href: `${files}/download?path=${encodeURIComponent(path)}` },
        "Download"));
    log.textContent = "";
    log.dataset.file = name;
    const q = encodeURIComponent(path);
    let offset, failing = false;
    try {
      const size = (await read(`${q}&offset=-1`)).offset;
      offset = Math.max(0, size - 65536);
    } catch (e) {
      if (current()) log.textContent = e.message;
      return;
    }
    /* Reads on from offset: at once while there is more, else every second; a failed read
     * (the agent restarting) is shown once and retried every 5 seconds. */
    const step = async () => {
      if (!current()) return;
      let r;
      try {
        r = await read(`${q}&offset=${offset}&length=65536`);
      } catch (e) {
        if (!current()) return;
        if (!failing) log.append("\n[" + e.message + "]\n");
        failing = true;
        timer = setTimeout(step, 5000);
        return;
      }
      if (!current()) return;
      failing = false;
      if (r.data.length) {
        const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.append(r.data);
        offset = r.offset + new TextEncoder().encode(r.data).length;
        if (atEnd) log.scrollTop = log.scrollHeight;
      }
      timer = setTimeout(step, r.data.length ? 0 : 1000);
    };
    step();
  }

  const first = entries.find((e) => e.path.endsWith("/" + (initial || "stdout")));
  if (first) tail(first.path);
}

const route = UI.router([
  [/^#\/agents$/, agentsView],
  [/^#\/frameworks$/, frameworksView],
  [/^#\/tasks$/, tasksView],
  [/^#\/tasks\/([^/]+)(?:\/(sandbox))?$/, taskView],
], overview, () => {
  stopView();
  stopView = () => {};
  refreshView = () => {};
  viewOwnsScreen = false;
});

async function start() {
  document.getElementById("search").addEventListener("input", () => route());
  try {
    model.master = await UI.json("state");
  } catch (e) {
    UI.banner("Could not read the master's /state: " + e.message);
  }
  route();
  setInterval(sample, SAMPLE_MS);
  sample();
  stream();
}

start();
