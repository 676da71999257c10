/*
 * common.js: what the master's and Marathon's pages share: building DOM, formatting, JSON over
 * fetch, a hash router, the search box, modal dialogs and SVG sparklines. No framework: each page
 * keeps a model, and render functions rebuild the current view from it.
 */
"use strict";

const UI = (() => {
  /* h("td", {class: "num"}, "3", child...): an element; attributes starting with "on" are
   * listeners; null and false children are skipped; strings become text (never HTML). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function svg(tag, attrs) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    return el;
  }

  function mem(mb) {
    if (!Number.isFinite(mb)) return "-";
    if (mb >= 1024 * 1024) return (mb / 1024 / 1024).toFixed(1) + " TB";
    if (mb >= 1024) return (mb / 1024).toFixed(1) + " GB";
    return Math.round(mb) + " MB";
  }

  function num(x, digits) {
    if (!Number.isFinite(x)) return "-";
    return Number.isInteger(x) ? String(x) : x.toFixed(digits === undefined ? 2 : digits);
  }

  /* Seconds since the epoch (or an ISO string) as local date and time. */
  function time(t) {
    if (t === null || t === undefined || t === "" || t === 0) return "-";
    const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
    return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
  }

  /* The answer's JSON, or an Error carrying the server's message and status. */
  async function json(url, options) {
    const resp = await fetch(url, options);
    const text = await resp.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      body = null;
    }
    if (!resp.ok) {
      let msg = (body && (body.message || body.error)) || text || resp.statusText;
      if (body && Array.isArray(body.details) && body.details.length) {
        msg += "\n" + body.details
          .map((d) => (d.path || "") + ": " + (d.errors || []).join(", "))
          .join("\n");
      }
      const err = new Error(msg.trim() || "HTTP " + resp.status);
      err.status = resp.status;
      throw err;
    }
    return body;
  }

  /* The JSON of an endpoint on another origin, read as JSONP (`?jsonp=<callback>`) because
   * Mesos's daemons send no CORS headers: Mesos's UI reads agents this way. Rejects when the
   * script cannot load (an error status: the daemons wrap only a 200) or after timeoutMs. */
  let jsonpCalls = 0;
  function jsonp(url, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const name = `uiJsonp${++jsonpCalls}`;
      const script = document.createElement("script");
      let timer = null;
      const finish = (fn, value) => {
        clearTimeout(timer);
        delete window[name];
        script.remove();
        fn(value);
      };
      timer = setTimeout(() => finish(reject, new Error(`No answer from ${url}`)), timeoutMs);
      window[name] = (body) => finish(resolve, body);
      script.addEventListener("error", () => finish(reject, new Error(`Could not read ${url}`)));
      script.addEventListener("load", () => {
        if (window[name]) finish(reject, new Error(`${url} answered no JSONP`));
      });
      script.src = url + (url.includes("?") ? "&" : "?") + "jsonp=" + name;
      document.head.append(script);
    });
  }

  function sendJSON(method, url, value) {
    return json(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: value === undefined ? undefined : JSON.stringify(value),
    });
  }

  /* Names the page (title and brand) and fills the navigation: links is [[href, text], ...]. */
  function shell(name, links) {
    document.title = name;
    document.getElementById("brand").textContent = name;
    document.getElementById("nav").replaceChildren(...links.map(([href, text]) =>
      h("a", { href }, text)));
  }

  /* The error banner under the header; null hides it. */
  function banner(message) {
    const el = document.getElementById("banner");
    if (!el) return;
    el.textContent = message || "";
    el.classList.toggle("show", Boolean(message));
  }

  function setLive(on, text) {
    const el = document.getElementById("live");
    if (!el) return;
    el.classList.toggle("on", on);
    el.textContent = text;
  }

  /* Hash routes: routes is [[/^#\/apps\/(.+)$/, fn(match)], ...]; the first match renders,
   * else fallback. leave (may be null) runs on each change of route, before the new one renders.
   * Returns the function that renders the current route. */
  function router(routes, fallback, leave) {
    const go = () => {
      const hash = location.hash || "#/";
      for (const a of document.querySelectorAll("header.top nav a")) {
        const target = a.getAttribute("href");
        a.classList.toggle("active", target === "#/" ? hash === "#/" : hash.startsWith(target));
      }
      for (const [re, fn] of routes) {
        const m = hash.match(re);
        if (m) return fn(m.slice(1).map(decodeURIComponent));
      }
      return fallback();
    };
    window.addEventListener("hashchange", () => {
      if (leave) leave();
      go();
    });
    return go;
  }

  /* The search box's words, lower case. */
  function searchTerms() {
    const box = document.getElementById("search");
    return box ? box.value.trim().toLowerCase().split(/\s+/).filter(Boolean) : [];
  }

  /* Whether every search word occurs in one of the texts. */
  function matches(...texts) {
    const hay = texts.join(" ").toLowerCase();
    return searchTerms().every((w) => hay.includes(w));
  }

  /* A table: columns is [[title, class], ...]; rows are arrays of cells (nodes or text) or
   * {cells, attrs} objects. */
  function table(columns, rows, emptyText) {
    const head = h("tr", null, columns.map(([t, cls]) => h("th", { class: cls }, t)));
    const body = rows.map((r) => {
      const cells = Array.isArray(r) ? r : r.cells;
      return h("tr", Array.isArray(r) ? null : r.attrs,
        cells.map((c, i) => h("td", { class: columns[i][1] }, c)));
    });
    if (!rows.length) {
      body.push(h("tr", null, h("td", { class: "empty", colspan: columns.length },
        emptyText || "Nothing to show")));
    }
    return h("table", { class: "list" }, h("thead", null, head), h("tbody", null, body));
  }

  function badge(text, kind) {
    return h("span", { class: "badge " + (kind || "") }, text);
  }

  function card(key, title, value) {
    return h("div", { class: "card", dataset: { k: key } },
      h("div", { class: "k" }, title), h("div", { class: "v" }, value));
  }

  function bar(used, total) {
    const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
    return h("div", { class: "bar", title: pct.toFixed(0) + "%" },
      h("span", { style: "width:" + pct.toFixed(1) + "%" }));
  }

  /* A sparkline of values (0..max) as an SVG, newest on the right; room for `slots` points. */
  function sparkline(values, max, slots) {
    const W = 300, H = 80, n = Math.max(slots, 2);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" });
    for (const y of [H / 4, H / 2, (3 * H) / 4]) {
      root.append(svg("line", { class: "grid", x1: 0, x2: W, y1: y, y2: y }));
    }
    if (!values.length) return root;
    const top = max > 0 ? max : Math.max(1, ...values);
    const pts = values.map((v, i) => {
      const x = W - ((values.length - 1 - i) * W) / (n - 1);
      const y = H - 2 - (Math.min(v, top) / top) * (H - 4);
      return [x.toFixed(1), y.toFixed(1)];
    });
    const line = pts.map((p) => p.join(",")).join(" ");
    root.append(svg("polygon", { class: "area", points: `${pts[0][0]},${H} ${line} ${W},${H}` }));
    root.append(svg("polyline", { class: "line", points: line }));
    return root;
  }

  /* A modal dialog: body is a node; buttons is [[label, cls, fn]]; fn gets the dialog and
   * returns a promise; the dialog closes once it resolves, and shows its error otherwise. */
  function dialog(title, body, buttons) {
    const error = h("div", { class: "form-error" });
    const dlg = h("dialog", null, h("h2", null, title), body, error);
    const row = h("div", { class: "actions", style: "margin-top:16px;justify-content:flex-end" });
    row.append(h("button", { type: "button", onclick: () => dlg.close() }, "Cancel"));
    for (const [label, cls, fn] of buttons) {
      const b = h("button", { type: "button", class: cls }, label);
      b.addEventListener("click", async () => {
        b.disabled = true;
        error.textContent = "";
        try {
          await fn(dlg);
          dlg.close();
        } catch (e) {
          error.textContent = e.message;
        } finally {
          b.disabled = false;
        }
      });
      row.append(b);
    }
    dlg.append(row);
    dlg.addEventListener("close", () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
    return dlg;
  }

  return {
    h, svg, mem, num, time, json, jsonp, sendJSON, shell, banner, setLive, router, searchTerms,
    matches, table, badge, card, bar, sparkline, dialog,
  };
})();
