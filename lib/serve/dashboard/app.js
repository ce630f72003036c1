// The dashboard: plain JavaScript, no build step. It talks to the same server's REST API and
// follows each job's Server-Sent Events (read through fetch, so a bearer token can be sent:
// open the page as /#token=…). Charts are Vega-Lite specs rendered by vega-embed (SVG).
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token");
const headers = token ? { authorization: `Bearer ${token}` } : {};
const $ = (id) => document.getElementById(id);
const state = { models: [], points: [], jobs: new Map(), selected: [] };
globalThis.dashboard = state; // read by the browser test

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...headers, "content-type": "application/json", ...(init.headers ?? {}) },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

/** Follows a job's event stream; calls onEvent(type, data) per event until the stream ends. */
async function follow(id, onEvent) {
  const response = await fetch(`/benchmarks/${id}/events`, { headers });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) type = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(type, JSON.parse(data));
    }
  }
}

/** Escapes text for innerHTML (server strings are data, never markup). */
function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(x, digits = 1) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
}

function chartSpec(field, title) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 440,
    height: 220,
    data: { values: state.points.filter((p) => p[field] !== null) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "context", type: "quantitative", title: "context (prompt tokens)" },
      y: { aggregate: "mean", field, type: "quantitative", title },
      color: { field: "dtype", type: "nominal", title: "dtype" },
      strokeDash: {
        field: "cache",
        type: "nominal",
        title: "KV cache",
        scale: { domain: ["on", "off"], range: [[1, 0], [5, 3]] },
        legend: { symbolType: "stroke", symbolStrokeWidth: 2 },
      },
      tooltip: [
        { field: "dtype" },
        { field: "cache" },
        { field: "context" },
        { aggregate: "mean", field, title: `mean ${title}`, format: ".2f" },
        { aggregate: "count", field, title: "runs" },
      ],
    },
  };
}

let drawing = Promise.resolve();
function drawCharts() {
  drawing = drawing.then(async () => {
    await vegaEmbed("#chart-tps", chartSpec("decode_tokens_per_s", "decode tokens/s"), {
      renderer: "svg",
      actions: false,
    });
    await vegaEmbed("#chart-prefill", chartSpec("prefill_ms", "prefill ms"), {
      renderer: "svg",
      actions: false,
    });
    state.chartsDrawn = state.points.length;
  }).catch((error) => showError(`chart: ${error.message}`));
}

function showError(message) {
  $("form-error").textContent = message;
}

function jobRow(job) {
  let row = document.querySelector(`#jobs tr[data-id="${job.id}"]`);
  const r = job.request;
  if (!row) {
    row = document.createElement("tr");
    row.dataset.id = job.id;
    row.innerHTML = `<td>${esc(r.dtype)}</td><td>${r.use_cache ? "on" : "off"}</td>` +
      `<td class="num">${r.prompt_tokens}</td><td class="status"></td>` +
      `<td><progress max="1" value="0"></progress></td><td class="num tps"></td>` +
      `<td class="num prefill"></td><td><button class="cancel">cancel</button></td>`;
    row.querySelector(".cancel").addEventListener(
      "click",
      () => api(`/benchmarks/${job.id}`, { method: "DELETE" }).catch((e) => showError(e.message)),
    );
    $("jobs").tBodies[0].append(row);
  }
  row.querySelector(".status").textContent = job.status + (job.error ? `: ${job.error}` : "");
  row.querySelector("progress").value = job.progress;
  row.querySelector(".tps").textContent = fmt(job.summary?.decode_tokens_per_s);
  row.querySelector(".prefill").textContent = fmt(job.summary?.prefill_ms, 2);
  row.querySelector(".cancel").disabled = ["done", "failed", "cancelled", "interrupted"]
    .includes(job.status);
}

async function startRuns(event) {
  event.preventDefault();
  showError("");
  const contexts = $("contexts").value.split(",").map((s) => Number(s.trim())).filter(Boolean);
  const dtypes = [...document.querySelectorAll("#dtypes input:checked")].map((i) => i.value);
  const caches = [["cache-on", true], ["cache-off", false]].filter(([id]) => $(id).checked)
    .map(([, on]) => on);
  if (!contexts.length || !dtypes.length || !caches.length) {
    showError("pick at least one context length, one dtype and one cache mode");
    return;
  }
  const base = {
    model: $("model").value,
    max_new_tokens: Number($("new-tokens").value),
    warmup: Number($("warmup").value),
    runs: Number($("runs").value),
  };
  for (const dtype of dtypes) {
    for (const use_cache of caches) {
      for (const prompt_tokens of contexts) {
        let job;
        try {
          job = await api("/benchmarks", {
            method: "POST",
            body: JSON.stringify({ ...base, dtype, use_cache, prompt_tokens }),
          });
        } catch (error) {
          showError(error.message);
          return;
        }
        jobRow(job);
        const cache = use_cache ? "on" : "off";
        follow(job.id, (type, data) => {
          jobRow(data);
          if (type === "run" && data.run) {
            state.points.push({
              dtype,
              cache,
              context: prompt_tokens,
              run: data.run.index,
              decode_tokens_per_s: data.run.decode_tokens_per_s,
              prefill_ms: data.run.prefill_ms,
            });
            drawCharts();
          }
          if (type === "end") {
            loadHistory();
            health();
          }
        }).catch((error) => showError(`events: ${error.message}`));
      }
    }
  }
}

async function loadModels() {
  const { models } = await api("/models");
  state.models = models;
  $("model").innerHTML = models.map((m) =>
    `<option value="${esc(m.id)}">${esc(m.id)}${m.cached ? "" : " (built on first use)"}</option>`
  ).join("");
  const tiny = models.find((m) => m.id === "preset:tiny");
  if (tiny) $("model").value = tiny.id;
  showDtypes();
}

function showDtypes() {
  const model = state.models.find((m) => m.id === $("model").value);
  $("dtypes").innerHTML = (model?.dtypes ?? []).map((d, i) =>
    `<label class="inline"><input type="checkbox" value="${d}" ${
      i === 0 ? "checked" : ""
    }> ${d}</label>`
  ).join("");
}

async function loadHistory() {
  const page = await api("/benchmarks?limit=20");
  const body = $("history").tBodies[0];
  body.innerHTML = "";
  for (const job of page.items) {
    const r = job.request;
    const row = document.createElement("tr");
    row.innerHTML = `<td><input type="checkbox" ${job.status === "done" ? "" : "disabled"}></td>` +
      `<td>${job.created_at.slice(0, 19).replace("T", " ")}</td><td>${esc(job.model)}</td>` +
      `<td>${esc(job.dtype)}</td><td>${r.use_cache ? "on" : "off"}</td>` +
      `<td class="num">${r.prompt ? "text" : r.prompt_tokens}</td><td>${esc(job.status)}</td>` +
      `<td class="num">${fmt(job.summary?.decode_tokens_per_s)}</td>` +
      `<td class="num">${fmt(job.summary?.prefill_ms, 2)}</td>`;
    const box = row.querySelector("input");
    box.dataset.id = job.id;
    box.checked = state.selected.includes(job.id);
    box.addEventListener("change", () => {
      state.selected = box.checked
        ? [...state.selected.filter((id) => id !== job.id), job.id].slice(-2)
        : state.selected.filter((id) => id !== job.id);
      $("compare").disabled = state.selected.length !== 2;
      for (const other of body.querySelectorAll("input[type=checkbox]")) {
        other.checked = state.selected.includes(other.dataset.id);
      }
    });
    body.append(row);
  }
  $("compare").disabled = state.selected.length !== 2;
}

async function compare() {
  const [a, b] = state.selected;
  try {
    const c = await api(`/history/compare?a=${a}&b=${b}`);
    const rows = c.metrics.map((m) =>
      `<tr><td>${esc(m.config)}</td><td>${m.metric}</td><td class="num">${fmt(m.centerA, 2)}</td>` +
      `<td class="num">${fmt(m.centerB, 2)}</td><td class="num">${
        (m.change * 100).toFixed(1)
      } %</td>` +
      `<td class="num">${m.p === null ? "–" : m.p.toPrecision(2)}</td>` +
      `<td class="${m.verdict}">${m.verdict}</td><td class="muted">${esc(m.note)}</td></tr>`
    ).join("");
    const unmatched = c.unmatched.map((u) =>
      `<p class="muted">only in ${u.side}: ${esc(u.config)}</p>`
    )
      .join("");
    const verdicts = c.regression ? `<p class="worse">regression: a metric got worse</p>` : "";
    $("comparison").innerHTML = !c.metrics.length
      ? `<p class="muted">no configuration in common</p>${unmatched}`
      : `${verdicts}<table><thead><tr><th>config</th><th>metric</th><th>A</th>` +
        `<th>B</th><th>change</th><th>p</th><th>verdict</th><th></th></tr></thead>` +
        `<tbody>${rows}</tbody></table>${unmatched}`;
  } catch (error) {
    $("comparison").innerHTML = `<p class="error">${esc(error.message)}</p>`;
  }
}

async function loadReference() {
  const ref = await api("/reference");
  const report = ref.final_report;
  const keys = report
    ? Object.keys(report).filter((k) => report[k] && "tokens_s_2048" in report[k])
    : [];
  const table = keys.length
    ? `<table><thead><tr><th>dtype</th><th>decode tok/s @ 2048</th><th>prefill ms</th>` +
      `<th>VRAM GB</th><th>PPL</th></tr></thead><tbody>${
        keys.map((k) =>
          `<tr><td>${esc(k)}</td><td class="num">${fmt(report[k].tokens_s_2048)}</td>` +
          `<td class="num">${fmt(report[k].prefill_ms, 0)}</td><td class="num">${
            fmt(report[k].vram_gb, 2)
          }</td><td class="num">${fmt(report[k].ppl, 1)}</td></tr>`
        ).join("")
      }</tbody></table>`
    : `<p class="muted">no metrics/final_report.json</p>`;
  const figures = ref.figures.map((f) => `<img alt="${esc(f)}" src="/reference/figures/${esc(f)}">`)
    .join("");
  $("reference").innerHTML = table + figures;
}

async function health() {
  try {
    const h = await api("/health");
    $("health").textContent = `up ${
      Math.round(h.uptime_s)
    } s · ${h.running} running · ${h.queued} queued`;
  } catch (error) {
    $("health").textContent = `server unreachable: ${error.message}`;
  }
}

$("form").addEventListener("submit", startRuns);
$("model").addEventListener("change", showDtypes);
$("compare").addEventListener("click", compare);
drawCharts();
Promise.all([loadModels(), loadHistory(), loadReference(), health()])
  .then(() => document.body.dataset.ready = "1")
  .catch((error) => showError(error.message));
setInterval(health, 5000);
