#!/usr/bin/env node
/*
 * run.mjs: the web UIs in a real browser (headless Debian chromium driven by playwright-core)
 * against real mesos-locals on free ports, in two scenarios, one after the other.
 *
 *   node tests/ui/run.mjs BUILD_DIR
 *
 * "simulated": a master, two simulated agents and Marathon. Loads the master's UI and checks
 * its agent and task counts against /state, creates an app through Marathon's form and another
 * through its JSON editor, watches them reach their instance counts on the page and compares
 * with /v2/apps, scales, restarts and rolls back through the UI, checks that the master's page
 * (never reloaded) follows the tasks through its event stream and that its task search
 * filters, destroys both apps through the UI and checks the queue's reason for an app that
 * cannot be placed.
 *
 * "sandbox": a master, one agent running real processes (the posix containerizer) and
 * Marathon. A Marathon app prints markers to stdout and stderr, more of them each time the
 * test drops a file into its sandbox; the test finds the task with the master UI's search box,
 * follows its Sandbox link, and checks that stdout and then stderr show the markers and follow
 * new output without a reload, that Download serves the file, that agents on another origin
 * are read with JSONP, and that destroying the app ends the task's processes.
 *
 * Both require that no page logged an unexpected console error and that nothing (mesos-local,
 * or an executor in its sandbox's stderr) logged a sanitizer report. Every process a scenario
 * starts, the tasks' included, is stopped and its work directory removed, even on failure.
 * Screenshots go to BUILD_DIR/ui-screenshots/. Ends with "N passed, N failed"; exit status 0
 * only when all passed, 77 (ctest's SKIP_RETURN_CODE) when chromium or playwright-core is
 * missing.
 *
 * playwright-core is looked for in $MESOS_UI_NODE_MODULES, in a node_modules folder of
 * BUILD_DIR or any folder above it, then in tests/ui/node_modules.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const SKIP = 77;
const STEP_TIMEOUT_MS = 20000;
const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.resolve(process.argv[2] || path.join(here, "../../build"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const shots = path.join(buildDir, "ui-screenshots");

/* ---- finding the tools ---- */

function findPlaywright() {
  const dirs = [];
  if (process.env.MESOS_UI_NODE_MODULES) dirs.push(process.env.MESOS_UI_NODE_MODULES);
  for (let d = buildDir; ; d = path.dirname(d)) {
    dirs.push(path.join(d, "node_modules"));
    if (path.dirname(d) === d) break;
  }
  dirs.push(path.join(here, "node_modules"));
  for (const d of dirs) {
    if (fs.existsSync(path.join(d, "playwright-core", "package.json"))) {
      return createRequire(path.join(d, "noop.js"))("playwright-core");
    }
  }
  return null;
}

/* ---- ports and processes ---- */

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/* A free port whose neighbour 10000 above (mesos-local's actor port) is free too. */
async function freePort(taken) {
  for (let i = 0; i < 100; i++) {
    const port = await new Promise((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (port + 10000 < 65536 && !taken.includes(port) && (await portFree(port + 10000))) {
      return port;
    }
  }
  throw new Error("No free port pair");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Polls fn until it returns a truthy value, or throws after timeout with what it last saw. */
async function until(what, fn, timeout = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what} (last: ${last})`);
    await sleep(100);
  }
}

/* Processes working in dir or given a path under it in their environment (an executor's
 * MESOS_SANDBOX): executors and their tasks outlive a stopped agent, as Mesos's do until
 * --recovery_timeout, so this is how a scenario finds what is left of its tasks. */
function processesIn(dir) {
  const pids = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${p}/cwd`);
      const env = fs.readFileSync(`/proc/${p}/environ`, "latin1");
      if (cwd === dir || cwd.startsWith(dir + "/") || env.includes("=" + dir + "/")) {
        pids.push(Number(p));
      }
    } catch (e) {
      /* gone meanwhile, or a zombie */
    }
  }
  return pids;
}

const SANITIZER_REPORT = /^.*(ERROR: \w+Sanitizer|runtime error:).*$/m;

/* ---- the cluster ---- */

/* One mesos-local: name names the scenario; flags are its flags beyond ports and work dir. */
class Cluster {
  constructor(name, agents, flags) {
    this.name = name;
    this.agents = agents;
    this.flags = flags;
  }

  async start() {
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `test_ui.${this.name}.`));
    this.masterPort = await freePort([]);
    this.marathonPort = await freePort([this.masterPort]);
    const bin = path.join(buildDir, "bin", "mesos-local");
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build mesos-local first`);
    const log = fs.openSync(path.join(this.workDir, "mesos-local.log"), "w");
    this.proc = spawn(bin, [`--ip=127.0.0.1`, `--port=${this.masterPort}`,
      `--marathon_port=${this.marathonPort}`, `--work_dir=${this.workDir}`,
      `--num_agents=${this.agents}`, "--switch_user=false", ...this.flags],
    { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.proc.once("exit", resolve));
    this.master = `http://127.0.0.1:${this.masterPort}`;
    this.marathon = `http://127.0.0.1:${this.marathonPort}`;
    await until("Marathon to answer /v2/info", async () => (await fetch(this.marathon +
      "/v2/info")).ok);
    await until(`${this.agents} active agents`, async () => (await this.state())
      .activated_slaves === this.agents);
  }

  /* The sandbox directory of a task of the first agent, from its /state, or null. */
  async sandboxOf(taskId) {
    const state = await (await fetch(this.master + "/slave(1)/state")).json();
    for (const f of state.frameworks) {
      for (const e of f.executors) {
        if (e.id === taskId || e.tasks.some((t) => t.id === taskId)) return e.directory;
      }
    }
    return null;
  }

  async state() {
    return (await fetch(this.master + "/state")).json();
  }

  async api(p, options) {
    const r = await fetch(this.marathon + p, options);
    return r.json();
  }

  /* Stops mesos-local, then kills what is left of its tasks (after, so that no agent sees
   * them die and no Marathon replaces them), keeps the logs and removes the work dir. */
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      const timeout = sleep(10000).then(() => "timeout");
      if ((await Promise.race([this.exited, timeout])) === "timeout") {
        this.proc.kill("SIGKILL");
        await this.exited;
      }
    }
    if (!this.workDir) return;
    let left = processesIn(this.workDir);
    for (const pid of left) process.kill(pid, "SIGKILL");
    const deadline = Date.now() + 5000;
    while (left.length && Date.now() < deadline) {
      await sleep(50);
      left = processesIn(this.workDir);
    }
    if (left.length) console.log(`cleanup: processes ${left.join(", ")} outlived SIGKILL`);
    this.finalLog = this.log();
    this.report = this.sanitizerReport();
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  /* The first sanitizer report in mesos-local's log or a sandbox's stderr (an executor's). */
  sanitizerReport() {
    const files = fs.readdirSync(this.workDir, { recursive: true })
      .filter((f) => f === "mesos-local.log" || path.basename(f) === "stderr");
    for (const f of files) {
      try {
        const m = fs.readFileSync(path.join(this.workDir, f), "utf8").match(SANITIZER_REPORT);
        if (m) return `${f}: ${m[0]}`;
      } catch (e) {
        /* a directory named stderr */
      }
    }
    return null;
  }

  log() {
    try {
      return fs.readFileSync(path.join(this.workDir, "mesos-local.log"), "utf8");
    } catch (e) {
      return "";
    }
  }
}

/* Task counts by state over /state's frameworks, as the master's overview shows them. */
function taskCounts(state) {
  const counts = {};
  for (const f of [...state.frameworks, ...state.completed_frameworks]) {
    for (const t of [...f.tasks, ...f.completed_tasks, ...(f.unreachable_tasks || [])]) {
      counts[t.state] = (counts[t.state] || 0) + 1;
    }
  }
  return counts;
}

/* ---- the browser ---- */

/* Console errors as [check, text]; a check may expect some (a 422 it provoked on purpose). */
const consoleErrors = [];
const expected = new Map(); // check name -> RegExp of the console errors it expects
let current = "setup";

async function openPage(context, name) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push([current, `${name}: ${m.text()}`]);
  });
  page.on("pageerror", (e) => consoleErrors.push([current, `${name}: ${e.message}`]));
  return page;
}

const text = async (page, selector) => (await page.locator(selector).first().textContent() ||
  "").trim();

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });
}

async function dialogButton(page, name) {
  await page.locator("dialog").getByRole("button", { name, exact: true }).click();
  await page.locator("dialog").waitFor({ state: "detached" });
}

/* ---- the checks ---- */

const results = [];

async function check(name, fn, expectErrors) {
  const started = Date.now();
  current = name;
  if (expectErrors) expected.set(name, expectErrors);
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

async function appRunning(c, page, id, n) {
  const row = `tr[data-app="${id}"] .instances`;
  await until(`${id} at ${n} / ${n} on the page`, async () => (await text(page, row)) ===
    `${n} / ${n}`);
  const app = (await c.api(`/v2/apps${id}`)).app;
  if (app.instances !== n || app.tasksRunning !== n) {
    throw new Error(`/v2/apps says ${app.tasksRunning} / ${app.instances}, the page ${n} / ${n}`);
  }
}

async function masterShows(page, c, running) {
  await until(`the master page to show ${running} running tasks`, async () => {
    const counts = taskCounts(await c.state());
    const shown = Number(await text(page, '#task-states [data-k="TASK_RUNNING"] .v'));
    return shown === running && (counts.TASK_RUNNING || 0) === running;
  });
}

/* ---- scenario "simulated" ---- */

async function simulatedChecks(context, c) {
  const master = await openPage(context, "master");
  const marathon = await openPage(context, "marathon");

  await check("master overview matches /state", async () => {
    await master.goto(c.master + "/");
    const state = await c.state();
    await until("the agent count", async () => (await text(master,
      '#summary [data-k="agents"] .v')) === String(state.activated_slaves));
    const counts = taskCounts(state);
    for (const s of ["TASK_RUNNING", "TASK_STAGING", "TASK_FINISHED", "TASK_KILLED"]) {
      const shown = await text(master, `#task-states [data-k="${s}"] .v`);
      if (Number(shown) !== (counts[s] || 0)) throw new Error(`${s}: page ${shown}`);
    }
    await until("the live indicator", async () => (await text(master, "#live")) === "live");
    await shot(master, "master-overview");
  });

  await check("master agents page lists /state's agents", async () => {
    await master.goto(c.master + "/#/agents");
    const state = await c.state();
    for (const s of state.slaves) {
      await master.locator(`tr[data-agent="${s.id}"]`).waitFor();
    }
    const rows = await master.locator("tr[data-agent]").count();
    if (rows !== state.slaves.length) throw new Error(`${rows} rows`);
    await shot(master, "master-agents");
    await master.goto(c.master + "/#/");
  });

  await check("marathon: create an app through the form", async () => {
    await marathon.goto(c.marathon + "/");
    await marathon.click("#create-app");
    await marathon.fill("#app-id", "/ui-form");
    await marathon.fill("#app-cmd", "sleep 1000");
    await marathon.fill("#app-cpus", "0.1");
    await marathon.fill("#app-mem", "32");
    await marathon.fill("#app-instances", "1");
    await dialogButton(marathon, "Create");
    await appRunning(c, marathon, "/ui-form", 1);
  });

  await check("marathon: create an app from JSON", async () => {
    await marathon.click("#create-app");
    await marathon.click('dialog button[data-mode="json"]');
    await marathon.fill("#app-json", JSON.stringify({ id: "/ui-json", cmd: "sleep 1000",
      cpus: 0.1, mem: 16, instances: 2 }));
    await dialogButton(marathon, "Create");
    await appRunning(c, marathon, "/ui-json", 2);
    await shot(marathon, "marathon-apps");
  });

  await check("marathon: a bad app shows Marathon's error in the form", async () => {
    await marathon.click("#create-app");
    await marathon.click('dialog button[data-mode="json"]');
    await marathon.fill("#app-json", JSON.stringify({ id: "/bad", cpus: -1 }));
    await marathon.locator("dialog").getByRole("button", { name: "Create", exact: true })
      .click();
    await until("an error in the dialog", async () => (await text(marathon,
      "dialog .form-error")).length > 0);
    await marathon.locator("dialog").getByRole("button", { name: "Cancel" }).click();
    const apps = (await c.api("/v2/apps")).apps.map((a) => a.id);
    if (apps.includes("/bad")) throw new Error("the bad app was created");
  }, /^marathon: Failed to load resource: .* status of 422/);

  await check("marathon: scale through the UI", async () => {
    await marathon.click('tr[data-app="/ui-json"] button[data-action="scale"]');
    await marathon.fill("#scale-instances", "3");
    await dialogButton(marathon, "Scale");
    await appRunning(c, marathon, "/ui-json", 3);
  });

  await check("marathon: restart through the UI replaces the task", async () => {
    const before = (await c.api("/v2/apps/ui-form/tasks")).tasks.map((t) => t.id);
    await marathon.click('tr[data-app="/ui-form"] button[data-action="restart"]');
    await dialogButton(marathon, "Restart");
    await until("a new task", async () => {
      const tasks = (await c.api("/v2/apps/ui-form/tasks")).tasks;
      return tasks.length === 1 && !before.includes(tasks[0].id) &&
        tasks[0].state === "TASK_RUNNING";
    });
    await appRunning(c, marathon, "/ui-form", 1);
  });

  await check("marathon: app page shows the tasks of /v2/apps", async () => {
    await marathon.goto(c.marathon + "/#/apps/" + encodeURIComponent("/ui-json"));
    const tasks = (await c.api("/v2/apps/ui-json/tasks")).tasks;
    for (const t of tasks) await marathon.locator(`tr[data-task="${t.id}"]`).waitFor();
    const link = await marathon.locator(`tr[data-task="${tasks[0].id}"] a`).first()
      .getAttribute("href");
    if (!link.startsWith(c.master + "/#/tasks/")) throw new Error(`sandbox link ${link}`);
    await until("two versions", async () => (await marathon.locator(
      "button:has-text('View')").count()) >= 2);
    await shot(marathon, "marathon-app");
    await marathon.goto(c.marathon + "/#/deployments");
    await shot(marathon, "marathon-deployments");
    await marathon.goto(c.marathon + "/#/apps");
  });

  await check("master page follows the tasks live", async () => {
    await masterShows(master, c, 4);
    await sleep(2500); // one more chart sample
    await shot(master, "master-overview-running");
    await master.goto(c.master + "/#/tasks");
    await until("four active task rows", async () => (await master.locator(
      "#active-tasks tr[data-task]").count()) === 4);
    await master.fill("#search", "ui-form");
    await until("the search to keep one row", async () => (await master.locator(
      "#active-tasks tr[data-task]").count()) === 1);
    await shot(master, "master-tasks");
    await master.fill("#search", "");
    const first = await master.locator("#active-tasks tr[data-task]").first()
      .getAttribute("data-task");
    await master.goto(c.master + `/#/tasks/${encodeURIComponent(first)}/sandbox`);
    await until("the sandbox section", async () => !(await text(master, "#sandbox"))
      .startsWith("Finding"));
    await shot(master, "master-task");
    await master.goto(c.master + "/#/");
  }, /^master: Failed to load resource: .* status of 404/); // simulated tasks have no sandbox

  await check("marathon: roll back to the first version through the UI", async () => {
    await marathon.goto(c.marathon + "/#/apps/" + encodeURIComponent("/ui-json"));
    const versions = (await c.api("/v2/apps/ui-json/versions")).versions;
    const first = versions[versions.length - 1];
    await marathon.locator('button[data-action="rollback"]').last().click();
    await dialogButton(marathon, "Roll back");
    await until("2 of 2 running after the rollback", async () => (await text(marathon,
      '[data-k="running"] .v')) === "2 / 2");
    const app = (await c.api("/v2/apps/ui-json")).app;
    if (app.instances !== 2 || app.versionInfo.lastConfigChangeAt !== first) {
      throw new Error(`after the rollback: ${app.instances} instances, config of ` +
        `${app.versionInfo.lastConfigChangeAt}, wanted ${first}`);
    }
    await masterShows(master, c, 3);
    await marathon.goto(c.marathon + "/#/apps");
  });

  await check("marathon: destroy both apps through the UI", async () => {
    for (const id of ["/ui-form", "/ui-json"]) {
      await marathon.click(`tr[data-app="${id}"] button[data-action="destroy"]`);
      await dialogButton(marathon, "Destroy");
      await marathon.locator(`tr[data-app="${id}"]`).waitFor({ state: "detached" });
    }
    const apps = (await c.api("/v2/apps")).apps;
    if (apps.length) throw new Error(`/v2/apps still has ${apps.map((a) => a.id)}`);
    await masterShows(master, c, 0);
    await shot(marathon, "marathon-empty");
  });

  await check("marathon: the queue says why an app waits", async () => {
    await c.api("/v2/apps", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: "/ui-huge", cmd: "sleep 1000", cpus: 64, mem: 16 }) });
    await marathon.goto(c.marathon + "/#/queue");
    const row = 'tr[data-app="/ui-huge"]';
    await until("the app in the queue", async () => (await text(marathon, row))
      .includes("Waiting for offers with cpus 64"));
    await until("the offers' verdict", async () => (await text(marathon, row))
      .includes("InsufficientCpus"));
    const queue = (await c.api("/v2/queue")).queue.map((q) => q.app.id);
    if (!queue.includes("/ui-huge")) throw new Error(`/v2/queue has ${queue}`);
    await shot(marathon, "marathon-queue");
    await marathon.goto(c.marathon + "/#/apps");
    await until("the app shown as waiting", async () => (await marathon.locator(
      'tr[data-app="/ui-huge"]').getAttribute("data-status")) === "Deploying");
    /* It stays, waiting, until mesos-local stops. */
  });
}

/* ---- scenario "sandbox" ---- */

const SANDBOX_APP = "/ui-sandbox";

/* Prints a first marker to stdout and to stderr, the second ones once a file `go` appears in
 * its sandbox, a third (to stderr) once `go2` does. printf builds the markers so that they
 * occur nowhere in the command itself, in case an executor logs it to stderr. */
const SANDBOX_CMD = "printf 'UI-%s-%s\\n' first out; printf 'UI-%s-%s\\n' first err >&2; " +
  "while [ ! -e go ]; do sleep 0.1; done; " +
  "printf 'UI-%s-%s\\n' second out; printf 'UI-%s-%s\\n' second err >&2; " +
  "while [ ! -e go2 ]; do sleep 0.1; done; printf 'UI-%s-%s\\n' third err >&2; exec sleep 1000";

const shownLog = async (page) => ({ file: await page.locator("#file").getAttribute("data-file"),
  text: (await page.locator("#file").textContent()) || "" });
const occurrences = (hay, needle) => hay.split(needle).length - 1;

/* Checks that the page was not reloaded since markDocument(page). */
const markDocument = (page) => page.evaluate(() => {
  window.uiTestDocument = true;
});
async function sameDocument(page) {
  if (!(await page.evaluate(() => window.uiTestDocument === true))) {
    throw new Error("The page was reloaded");
  }
}

async function sandboxChecks(context, c) {
  const master = await openPage(context, "master");
  let task = null, dir = null;

  await check("sandbox: a Marathon app runs a real process", async () => {
    await c.api("/v2/apps", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: SANDBOX_APP, cmd: SANDBOX_CMD, cpus: 0.1, mem: 32,
        instances: 1, portDefinitions: [] }) });
    task = await until("a running task", async () => {
      const tasks = (await c.api(`/v2/apps${SANDBOX_APP}/tasks`)).tasks || [];
      return tasks.length === 1 && tasks[0].state === "TASK_RUNNING" && tasks[0].id;
    });
    dir = await until("its sandbox on the agent", () => c.sandboxOf(task));
    await until("the first marker in its stdout", () => fs.readFileSync(path.join(dir,
      "stdout"), "utf8").includes("UI-first-out"));
    if (!processesIn(c.workDir).length) throw new Error("No process found working in sandbox");
  });
  if (!task || !dir) return;

  await check("sandbox: search the task and follow its Sandbox link to stdout", async () => {
    await master.goto(c.master + "/#/tasks");
    await master.fill("#search", SANDBOX_APP.slice(1));
    const rows = master.locator("#active-tasks tr[data-task]");
    await until("the search to keep the task's row", async () => (await rows.count()) === 1 &&
      (await rows.first().getAttribute("data-task")) === task);
    await rows.first().getByRole("link", { name: "Sandbox", exact: true }).click();
    await until("the task's sandbox route", async () => decodeURIComponent(
      new URL(master.url()).hash) === `#/tasks/${task}/sandbox`);
    await until("the sandbox directory", async () => (await text(master, "#sandbox p.mono")) ===
      dir);
    for (const f of ["stdout", "stderr"]) {
      await master.locator("#sandbox button.link").filter({ hasText: new RegExp(`^${f}$`) })
        .waitFor();
    }
    const log = await until("stdout's first marker", async () => {
      const l = await shownLog(master);
      return l.file === "stdout" && l.text.includes("UI-first-out") && l;
    });
    if (log.text.includes("UI-second-out")) throw new Error("The second marker came early");
    await shot(master, "master-sandbox");
  });

  await check("sandbox: stdout follows new output without a reload", async () => {
    await markDocument(master);
    fs.writeFileSync(path.join(dir, "go"), "");
    const log = await until("the second marker on the page", async () => {
      const l = await shownLog(master);
      return l.text.includes("UI-second-out") && l;
    });
    if (occurrences(log.text, "UI-first-out") !== 1 || !log.text.endsWith("UI-second-out\n")) {
      throw new Error(`stdout on the page: ${JSON.stringify(log.text)}`);
    }
    await sameDocument(master);
    await shot(master, "master-sandbox-stdout");
  });

  await check("sandbox: stderr shows in the viewer and follows too", async () => {
    /* stdout then, in the same task, stderr: stdout's reads under way must not reach the view. */
    await master.evaluate(() => {
      const file = (f) => [...document.querySelectorAll("#sandbox button.link")]
        .find((b) => b.textContent === f);
      file("stdout").click();
      file("stderr").click();
    });
    await until("stderr's first two markers", async () => {
      const l = await shownLog(master);
      return l.file === "stderr" && l.text.includes("UI-first-err") &&
        l.text.includes("UI-second-err");
    });
    fs.writeFileSync(path.join(dir, "go2"), "");
    const log = await until("the third marker on the page", async () => {
      const l = await shownLog(master);
      return l.text.includes("UI-third-err") && l;
    });
    if (log.text.includes("UI-first-out") || occurrences(log.text, "UI-first-err") !== 1) {
      throw new Error(`stderr on the page: ${JSON.stringify(log.text)}`);
    }
    await sameDocument(master);
    await shot(master, "master-sandbox-stderr");
  });

  await check("sandbox: Download serves the file shown", async () => {
    const href = await master.locator("#sandbox a.button", { hasText: "Download" })
      .getAttribute("href");
    const r = await fetch(new URL(href, master.url()));
    const body = await r.text();
    if (!r.ok || body !== fs.readFileSync(path.join(dir, "stderr"), "utf8")) {
      throw new Error(`${href} answered ${r.status}: ${body.slice(0, 200)}`);
    }
  });

  await check("sandbox: agents on another origin are read with JSONP", async () => {
    const other = c.master.replace("127.0.0.1", "localhost") + "/slave(1)";
    const agent = await master.evaluate((url) => UI.jsonp(url).then((s) => s.id),
      `${other}/state`);
    const want = (await c.state()).slaves[0].id;
    if (agent !== want) throw new Error(`JSONP read agent ${agent}, /state has ${want}`);
    const failure = await master.evaluate((url) => UI.jsonp(url).then(() => "no error",
      (e) => e.message), `${other}/no-such-endpoint`);
    if (!failure.startsWith("Could not read")) throw new Error(`A 404 gave: ${failure}`);
  }, /^master: Failed to load resource: .* status of 404/);

  await check("sandbox: destroying the app ends the task's processes", async () => {
    await c.api(`/v2/apps${SANDBOX_APP}`, { method: "DELETE" });
    await until("the task page to show TASK_KILLED", async () => (await text(master,
      '#task-info [data-k="state"] .v')) === "TASK_KILLED");
    await until("no process left in the sandbox", async () => !processesIn(c.workDir).length);
    await sameDocument(master);
    await shot(master, "master-sandbox-killed");
  });
}

/* ---- running the scenarios ---- */

const running = new Set(); // clusters to stop if the runner is interrupted

/* Runs one scenario's checks against its own mesos-local in its own browser context, then
 * closes the context (its pages stop polling) and stops the cluster, whatever happened. */
async function scenario(browser, c, checks) {
  const failedBefore = results.filter(([, ok]) => !ok).length;
  running.add(c);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    await c.start();
    await checks(context, c);
  } catch (e) {
    results.push([`${c.name}: setup`, false]);
    console.log(`FAIL ${c.name}: ${e.stack || e.message}`);
  }
  await context.close().catch((e) => console.log(`cleanup: ${e.message}`));
  await c.stop().catch((e) => console.log(`cleanup: ${e.message}`));
  running.delete(c);
  await check(`${c.name}: no sanitizer report`, async () => {
    if (c.report) throw new Error(c.report);
  });
  if (results.filter(([, ok]) => !ok).length > failedBefore) {
    console.log(`---- ${c.name}: the end of mesos-local's log\n` +
      (c.finalLog || "").slice(-4000));
  }
}

async function main() {
  if (!fs.existsSync(chromiumPath)) {
    console.log(`SKIP: no chromium at ${chromiumPath} (apt-get install chromium)`);
    return SKIP;
  }
  const playwright = findPlaywright();
  if (!playwright) {
    console.log("SKIP: playwright-core not found (npm install playwright-core)");
    return SKIP;
  }
  fs.mkdirSync(shots, { recursive: true });
  const stop = () => Promise.allSettled([...running].map((c) => c.stop()))
    .finally(() => process.exit(1));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  const browser = await playwright.chromium.launch({ executablePath: chromiumPath,
    headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    await scenario(browser, new Cluster("simulated", 2, ["--containerizers=simulated",
      "--resources=cpus:2;mem:2048;disk:1000;ports:[31000-31100]"]), simulatedChecks);
    await scenario(browser, new Cluster("sandbox", 1, ["--containerizers=mesos",
      "--isolation=posix/cpu,posix/mem", "--resources=cpus:1;mem:256;disk:64"]),
    sandboxChecks);
  } finally {
    await browser.close();
  }
  await check("no console errors", async () => {
    const unexpected = consoleErrors.filter(([during, msg]) => !(expected.has(during) &&
      expected.get(during).test(msg)));
    if (unexpected.length) throw new Error(unexpected.map(([d, m]) => `${d}: ${m}`).join("\n"));
  });
  const failed = results.filter(([, ok]) => !ok).length;
  console.log(`screenshots in ${shots}`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
