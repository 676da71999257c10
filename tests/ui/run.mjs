#!/usr/bin/env node
/*
 * run.mjs: the web UIs in a real browser (headless Debian chromium driven by playwright-core)
 * against a real mesos-local: a master, two simulated agents and Marathon on free ports.
 *
 *   node tests/ui/run.mjs BUILD_DIR
 *
 * Loads the master's UI and checks its agent and task counts against /state, creates an app
 * through Marathon's form and another through its JSON editor, watches them reach their
 * instance counts on the page and compares with /v2/apps, scales, restarts and rolls back
 * through the UI, checks that the master's page (never reloaded) follows the tasks through its
 * event stream and that its task search filters, destroys both apps through the UI, checks the
 * queue's reason for an app that cannot be placed, and requires that no page logged an
 * unexpected console error and that mesos-local logged no sanitizer report. Screenshots go to
 * BUILD_DIR/ui-screenshots/. Ends with "N passed, N failed"; exit status 0 only when all
 * passed, 77 (ctest's SKIP_RETURN_CODE) when chromium or playwright-core is missing.
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

/* ---- the cluster ---- */

class Cluster {
  async start() {
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), "test_ui."));
    this.masterPort = await freePort([]);
    this.marathonPort = await freePort([this.masterPort]);
    const bin = path.join(buildDir, "bin", "mesos-local");
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build mesos-local first`);
    const log = fs.openSync(path.join(this.workDir, "mesos-local.log"), "w");
    this.proc = spawn(bin, [`--ip=127.0.0.1`, `--port=${this.masterPort}`,
      `--marathon_port=${this.marathonPort}`, `--work_dir=${this.workDir}`,
      "--containerizers=simulated", "--num_agents=2", "--switch_user=false",
      "--resources=cpus:2;mem:2048;disk:1000;ports:[31000-31100]"],
    { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.proc.once("exit", resolve));
    this.master = `http://127.0.0.1:${this.masterPort}`;
    this.marathon = `http://127.0.0.1:${this.marathonPort}`;
    await until("Marathon to answer /v2/info", async () => (await fetch(this.marathon +
      "/v2/info")).ok);
    await until("two active agents", async () => (await this.state()).activated_slaves === 2);
  }

  async state() {
    return (await fetch(this.master + "/state")).json();
  }

  async api(p, options) {
    const r = await fetch(this.marathon + p, options);
    return r.json();
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      const timeout = sleep(10000).then(() => "timeout");
      if ((await Promise.race([this.exited, timeout])) === "timeout") {
        this.proc.kill("SIGKILL");
        await this.exited;
      }
    }
    this.finalLog = this.log();
    if (this.workDir) fs.rmSync(this.workDir, { recursive: true, force: true });
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

async function openPage(browser, name) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
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

async function run(chromium, c) {
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    const master = await openPage(browser, "master");
    const marathon = await openPage(browser, "marathon");

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

    await check("no console errors", async () => {
      const unexpected = consoleErrors.filter(([during, msg]) => !(expected.has(during) &&
        expected.get(during).test(msg)));
      if (unexpected.length) throw new Error(unexpected.map(([d, m]) => `${d}: ${m}`).join("\n"));
    });
  } finally {
    await browser.close();
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
  const c = new Cluster();
  const stop = () => c.stop().finally(() => process.exit(1));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    await c.start();
    await run(playwright.chromium, c);
  } catch (e) {
    results.push(["setup", false]);
    console.log(`FAIL ${e.stack || e.message}`);
  }
  await c.stop().catch((e) => console.log(`cleanup: ${e.message}`));
  await check("mesos-local logged no sanitizer report", async () => {
    const report = (c.finalLog || "").match(/^.*(ERROR: \w+Sanitizer|runtime error:).*$/m);
    if (report) throw new Error(report[0]);
  });
  const failed = results.filter(([, ok]) => !ok).length;
  if (failed) console.log((c.finalLog || "").slice(-4000));
  console.log(`screenshots in ${shots}`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
