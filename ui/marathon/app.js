/*
 * app.js: Marathon's web UI. It listens to /v2/events (server-sent events) and, when
 * something happened, re-reads what the views show (/v2/apps with tasks, /v2/deployments,
 * /v2/queue) once, coalescing bursts of events; nothing is re-read on a timer. Changes go
 * through the REST API: create (a form or JSON), scale, restart, suspend, destroy, kill a task,
 * roll back to a version, and roll back or stop a deployment.
 */
"use strict";

const { h } = UI;
UI.shell("Marathon", [["#/apps", "Applications"], ["#/deployments", "Deployments"],
  ["#/queue", "Queue"]]);

const EVENT_TYPES = ["status_update_event", "instance_changed_event", "api_post_event",
  "app_terminated_event", "deployment_info", "deployment_success", "deployment_failed",
  "deployment_step_success", "deployment_step_failure", "group_change_success",
  "group_change_failed", "health_status_changed_event", "instance_health_changed_event",
  "failed_health_check_event", "unhealthy_instance_kill_event", "unhealthy_task_kill_event",
  "add_health_check_event", "remove_health_check_event", "framework_message_event"];
const COALESCE_MS = 150;
/* Offers come and go without events: while the queue is on screen and not empty, it is re-read
 * this often to keep its "why" current. */
const QUEUE_REFRESH_MS = 3000;

const model = {
  apps: [],           // /v2/apps?embed=apps.tasks
  deployments: [],    // /v2/deployments
  queue: [],          // /v2/queue
  versions: new Map(), // app id -> [version, ...] for the app on screen
  info: null,         // /v2/info, read once
  loaded: false,
};

/* ---- reading ---- */

let refreshing = null, again = false, timer = null, queueTimer = null;

/* Re-reads everything the views show, once per burst of events. */
function refreshSoon() {
  if (timer) return;
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, COALESCE_MS);
}

async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [apps, deployments, queue] = await Promise.all([
        UI.json("v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.lastTaskFailure"),
        UI.json("v2/deployments"), UI.json("v2/queue")]);
      model.apps = apps.apps.sort((a, b) => a.id.localeCompare(b.id));
      model.deployments = deployments;
      model.queue = queue.queue;
      const shown = currentApp();
      if (shown) model.versions.set(shown, (await versionsOf(shown)) || []);
      model.loaded = true;
      UI.banner(null);
    } catch (e) {
      UI.banner("Could not read Marathon: " + e.message);
    }
  })();
  await refreshing;
  refreshing = null;
  route();
  if (again) {
    again = false;
    refresh();
  }
}

async function versionsOf(appId) {
  try {
    return (await UI.json(`v2/apps${appId}/versions`)).versions;
  } catch (e) {
    return null; // the app is gone
  }
}

function currentApp() {
  const m = (location.hash || "").match(/^#\/apps\/([^/]+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

function listen() {
  const es = new EventSource("v2/events");
  es.addEventListener("open", () => {
    UI.setLive(true, "live");
    refresh(); // whatever happened while disconnected
  });
  es.addEventListener("error", () => UI.setLive(false, "reconnecting"));
  es.addEventListener("message", refreshSoon);
  for (const type of EVENT_TYPES) es.addEventListener(type, refreshSoon);
}

/* ---- what an app's state looks like ---- */

function queued(app) {
  return model.queue.find((q) => q.app && q.app.id === app.id);
}

function appStatus(app) {
  if (app.deployments && app.deployments.length) return ["Deploying", "warn"];
  if (app.instances === 0 && app.tasksRunning === 0) return ["Suspended", ""];
  const q = queued(app);
  if (q && q.delay && q.delay.timeLeftSeconds > 0) return ["Delayed", "bad"];
  if (q || app.tasksRunning < app.instances) return ["Waiting", "warn"];
  return ["Running", "ok"];
}

function health(app) {
  if (!app.healthChecks || !app.healthChecks.length) return h("span", { class: "muted" }, "-");
  const unknown = Math.max(0, app.tasksRunning - app.tasksHealthy - app.tasksUnhealthy);
  return h("span", null, UI.badge(`${app.tasksHealthy} healthy`, "ok"), " ",
    app.tasksUnhealthy ? UI.badge(`${app.tasksUnhealthy} unhealthy`, "bad") : null,
    unknown ? UI.badge(`${unknown} unknown`, "") : null);
}

function taskHealth(t) {
  const results = t.healthCheckResults || [];
  if (!results.length) return h("span", { class: "muted" }, "-");
  return results.every((r) => r.alive) ? UI.badge("healthy", "ok") : UI.badge("unhealthy", "bad");
}

/* The master's web UI for a task's sandbox, when the master's HTTP address can be told: a
 * "host:port" --master as given, or a "master@host:port" actor address whose HTTP port is, by
 * default, 10000 below. */
function sandboxLink(t) {
  const master = model.info && model.info.marathon_config && model.info.marathon_config.master;
  const m = typeof master === "string" && master.match(/^(?:master@)?([^:/@]+):(\d+)$/);
  if (!m) return null;
  let port = Number(m[2]);
  if (master.startsWith("master@") && port > 10000) port -= 10000;
  return h("a", {
    href: `${location.protocol}//${m[1]}:${port}/#/tasks/${encodeURIComponent(t.id)}/sandbox`,
    target: "_blank", rel: "noopener",
  }, "Sandbox");
}

/* ---- actions ---- */

const appUrl = (appId) => `v2/apps${appId}`;

function scale(app) {
  const input = h("input", { id: "scale-instances", type: "number", min: 0, value: app.instances });
  UI.dialog(`Scale ${app.id}`, h("form", { class: "fields", onsubmit: (e) => e.preventDefault() },
    h("label", { for: "scale-instances" }, "Instances"), input), [["Scale", "primary",
    async () => {
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 0) throw new Error("Instances must be a whole number >= 0");
      await UI.sendJSON("PUT", appUrl(app.id), { instances: n });
      refreshSoon();
    }]]);
}

function confirmAction(title, text, label, fn) {
  UI.dialog(title, h("p", null, text), [[label, "danger primary", async () => {
    await fn();
    refreshSoon();
  }]]);
}

function restart(app) {
  confirmAction(`Restart ${app.id}`, "Replace every instance with a new one?", "Restart",
    () => UI.sendJSON("POST", `${appUrl(app.id)}/restart`));
}

function suspend(app) {
  confirmAction(`Suspend ${app.id}`, "Scale the app to 0 instances?", "Suspend",
    () => UI.sendJSON("PUT", appUrl(app.id), { instances: 0 }));
}

function destroy(app) {
  confirmAction(`Destroy ${app.id}`, "Destroy the app and kill all its tasks? This cannot be " +
    "undone.", "Destroy", async () => {
    await UI.sendJSON("DELETE", appUrl(app.id));
    if (currentApp() === app.id) location.hash = "#/apps";
  });
}

function rollback(app, version) {
  confirmAction(`Roll back ${app.id}`, `Deploy the configuration of ${version} again?`,
    "Roll back", () => UI.sendJSON("PUT", appUrl(app.id), { version }));
}

async function showVersion(app, version) {
  let text;
  try {
    text = JSON.stringify(await UI.json(`${appUrl(app.id)}/versions/${version}`), null, 2);
  } catch (e) {
    text = e.message;
  }
  UI.dialog(`${app.id} at ${version}`, h("pre", { class: "json" }, text), [["Roll back",
    "primary", async () => {
      await UI.sendJSON("PUT", appUrl(app.id), { version });
      refreshSoon();
    }]]);
}

function appActions(app) {
  const b = (label, action, fn, cls) =>
    h("button", { type: "button", class: cls, dataset: { action }, onclick: () => fn(app) }, label);
  return h("div", { class: "actions" }, b("Scale", "scale", scale), b("Restart", "restart",
    restart), b("Suspend", "suspend", suspend), b("Destroy", "destroy", destroy, "danger"));
}

/* The create dialog: a form for the common fields, or the whole app as JSON. */
function createApp() {
  const field = (name, label, attrs) => [h("label", { for: "app-" + name }, label),
    h("input", Object.assign({ id: "app-" + name, name }, attrs))];
  const form = h("form", { class: "fields", id: "app-form", onsubmit: (e) => e.preventDefault() },
    field("id", "ID", { placeholder: "/my-app", required: true }),
    field("cmd", "Command", { placeholder: "python3 -m http.server $PORT0" }),
    field("cpus", "CPUs", { type: "number", step: "0.1", min: "0", value: "0.1" }),
    field("mem", "Memory (MiB)", { type: "number", min: "0", value: "128" }),
    field("disk", "Disk (MiB)", { type: "number", min: "0", value: "0" }),
    field("instances", "Instances", { type: "number", min: "0", value: "1" }));
  const text = h("textarea", { id: "app-json", spellcheck: "false" });
  const jsonPane = h("form", { class: "fields", hidden: true, onsubmit: (e) => e.preventDefault() },
    h("label", { for: "app-json" }, "Application JSON"), text);
  const fromForm = () => {
    const v = (n) => form.elements[n].value.trim();
    const app = { id: v("id") };
    if (v("cmd")) app.cmd = v("cmd");
    for (const n of ["cpus", "mem", "disk", "instances"]) if (v(n) !== "") app[n] = Number(v(n));
    return app;
  };
  let mode = "form";
  const tabs = h("div", { class: "tabs" });
  const select = (m) => {
    if (m === "json" && mode === "form") text.value = JSON.stringify(fromForm(), null, 2);
    mode = m;
    form.hidden = m !== "form";
    jsonPane.hidden = m !== "json";
    for (const t of tabs.children) t.classList.toggle("active", t.dataset.mode === m);
  };
  tabs.append(h("button", { type: "button", dataset: { mode: "form" }, onclick: () =>
    select("form") }, "Form"), h("button", { type: "button", dataset: { mode: "json" },
    onclick: () => select("json") }, "JSON"));
  UI.dialog("New application", h("div", null, tabs, form, jsonPane), [["Create", "primary",
    async () => {
      let app;
      if (mode === "json") {
        try {
          app = JSON.parse(text.value);
        } catch (e) {
          throw new Error("The JSON does not parse: " + e.message);
        }
      } else {
        app = fromForm();
      }
      await UI.sendJSON("POST", "v2/apps", app);
      refreshSoon();
    }]]);
  select("form");
}

/* ---- views ---- */

function show(title, ...content) {
  document.getElementById("view").replaceChildren(h("h1", null, title), ...content.filter((c) => c !== null));
}

function appsView() {
  const rows = model.apps.filter((a) => UI.matches(a.id, a.cmd || "", appStatus(a)[0]))
    .map((a) => {
      const [status, kind] = appStatus(a);
      return {
        attrs: { dataset: { app: a.id, status } },
        cells: [h("a", { href: "#/apps/" + encodeURIComponent(a.id) }, a.id),
          UI.badge(status, kind),
          h("span", { class: "instances" }, `${a.tasksRunning} / ${a.instances}`),
          health(a), UI.num(a.cpus), UI.mem(a.mem), appActions(a)],
      };
    });
  show("Applications",
    h("div", { class: "toolbar" }, h("span", { class: "grow muted" },
      `${model.apps.length} apps`), h("button", { type: "button", class: "primary",
      id: "create-app", onclick: createApp }, "Create application")),
    UI.table([["ID"], ["Status"], ["Running", "num"], ["Health"], ["CPUs", "num"],
      ["Memory", "num"], ["Actions"]], rows, model.loaded ? "No applications" : "Loading"));
}

function appView([appId]) {
  const app = model.apps.find((a) => a.id === appId);
  if (!app) {
    show(appId, h("p", { class: "muted" }, model.loaded ? "No such application" : "Loading"));
    return;
  }
  const [status, kind] = appStatus(app);
  const tasks = (app.tasks || []).filter((t) => UI.matches(t.id, t.host, t.state))
    .map((t) => ({
      attrs: { dataset: { task: t.id, state: t.state } },
      cells: [h("span", { class: "mono" }, t.id), t.host, (t.ports || []).join(", "),
        UI.badge(t.state, t.state === "TASK_RUNNING" ? "ok" : "warn"), taskHealth(t),
        t.version, UI.time(t.startedAt || t.stagedAt), sandboxLink(t),
        h("button", { type: "button", class: "danger", onclick: () => confirmAction(
          `Kill ${t.id}`, "Kill this task? Marathon will start a replacement.", "Kill",
          () => UI.sendJSON("DELETE", `${appUrl(app.id)}/tasks/${encodeURIComponent(t.id)}`)),
        }, "Kill")],
    }));
  const versions = (model.versions.get(appId) || []).map((v) => [h("span", { class: "mono" }, v),
    v === app.version ? UI.badge("current", "ok") : "",
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => showVersion(app, v) }, "View"),
      v === app.version ? null : h("button", { type: "button", dataset: { action: "rollback" },
        onclick: () => rollback(app, v) }, "Roll back"))]);
  const failure = app.lastTaskFailure;
  show(app.id,
    h("div", { class: "toolbar" }, UI.badge(status, kind), h("span", { class: "grow" }),
      appActions(app)),
    h("div", { class: "cards" },
      UI.card("running", "Running", `${app.tasksRunning} / ${app.instances}`),
      UI.card("staged", "Staged", app.tasksStaged), UI.card("health", "Health", health(app)),
      UI.card("cpus", "CPUs", UI.num(app.cpus)), UI.card("mem", "Memory", UI.mem(app.mem))),
    failure ? h("p", { class: "form-error" }, `Last failure (${failure.state}, ` +
      `${UI.time(failure.timestamp)}): ${failure.message}`) : null,
    h("h2", null, "Tasks"),
    UI.table([["ID"], ["Host"], ["Ports"], ["State"], ["Health"], ["Version"], ["Started"],
      [""], [""]], tasks, "No tasks"),
    h("h2", null, "Versions"), UI.table([["Version"], [""], [""]], versions, "Loading"),
    h("h2", null, "Configuration"),
    h("pre", { class: "json" }, JSON.stringify(appConfig(app), null, 2)));
}

/* The app's definition without the status fields /v2/apps adds. */
function appConfig(app) {
  const c = Object.assign({}, app);
  for (const k of ["tasks", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
    "deployments", "lastTaskFailure"]) delete c[k];
  return c;
}

function deploymentsView() {
  const rows = model.deployments.filter((d) => UI.matches(d.id, ...(d.affectedApps || [])))
    .map((d) => {
      const apps = (d.affectedApps || []).map((id) => model.apps.find((a) => a.id === id));
      const progress = apps.filter(Boolean).map((a) => h("div", null,
        `${a.id}: ${a.tasksRunning} / ${a.instances} running`, UI.bar(a.tasksRunning,
          a.instances || 1)));
      return {
        attrs: { dataset: { deployment: d.id } },
        cells: [h("span", { class: "mono" }, d.id),
          (d.affectedApps || []).map((id) => h("div", null, h("a", {
            href: "#/apps/" + encodeURIComponent(id) }, id))),
          (d.currentActions || []).map((a) => h("div", null, a.action)),
          h("div", null, `step ${d.currentStep} of ${d.totalSteps}`, progress), d.version,
          h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => confirmAction("Roll back deployment",
              "Revert the apps of this deployment to their previous configuration?",
              "Roll back", () => UI.sendJSON("DELETE", `v2/deployments/${d.id}`)) },
            "Roll back"),
            h("button", { type: "button", class: "danger", onclick: () => confirmAction(
              "Stop deployment", "Stop this deployment where it is, without rolling back?",
              "Stop", () => UI.sendJSON("DELETE", `v2/deployments/${d.id}?force=true`)) },
            "Stop"))],
      };
    });
  show("Deployments", UI.table([["ID"], ["Apps"], ["Actions"], ["Progress"], ["Version"],
    [""]], rows, "No deployments in progress"));
}

/* Why an app in the queue is not launched yet. */
function waitReason(q) {
  const a = q.app || {};
  if (q.delay && q.delay.timeLeftSeconds > 0) {
    const f = (model.apps.find((x) => x.id === a.id) || {}).lastTaskFailure;
    return `Backing off after failed launches: next try in ${q.delay.timeLeftSeconds} s` +
      (f ? ` (last failure: ${f.message})` : "");
  }
  const need = `cpus ${a.cpus}, mem ${a.mem} MiB, disk ${a.disk || 0} MiB` +
    ((a.portDefinitions || []).length ? `, ${a.portDefinitions.length} port(s)` : "");
  const summary = q.processedOffersSummary;
  const rejected = summary && (summary.rejectSummaryLastOffers || [])
    .filter((r) => r.declined > 0).map((r) => `${r.reason}: ${r.declined}/${r.processed}`);
  return `Waiting for offers with ${need}` +
    (rejected && rejected.length ? `; last offers declined for ${rejected.join(", ")}` : "");
}

function queueView() {
  const rows = model.queue.filter((q) => UI.matches(q.app ? q.app.id : ""))
    .map((q) => ({
      attrs: { dataset: { app: q.app.id } },
      cells: [h("a", { href: "#/apps/" + encodeURIComponent(q.app.id) }, q.app.id), q.count,
        q.delay && q.delay.timeLeftSeconds > 0
          ? UI.badge(`backoff ${q.delay.timeLeftSeconds} s`, "bad") : UI.badge("none", "ok"),
        waitReason(q)],
    }));
  show("Launch queue", UI.table([["App"], ["Waiting", "num"], ["Delay"], ["Why"]], rows,
    "Nothing is waiting to launch"));
  if (model.queue.length && !queueTimer) {
    queueTimer = setTimeout(() => {
      queueTimer = null;
      if (location.hash === "#/queue") refresh();
    }, QUEUE_REFRESH_MS);
  }
}

const route = UI.router([
  [/^#\/apps\/([^/]+)$/, appView],
  [/^#\/deployments$/, deploymentsView],
  [/^#\/queue$/, queueView],
], appsView, () => {
  if (currentApp()) refresh(); // the app's versions
});

async function start() {
  document.getElementById("search").addEventListener("input", () => route());
  if (!location.hash) history.replaceState(null, "", "#/apps");
  route();
  try {
    model.info = await UI.json("v2/info");
  } catch (e) {
    UI.banner("Could not read /v2/info: " + e.message);
  }
  listen();
}

start();
