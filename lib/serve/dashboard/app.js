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
    layer: [
      {
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          strokeDash: {
            field: "cache",
            type: "nominal",
            title: "KV cache",
            scale: { domain: ["on", "off"], range: [[1, 0], [6, 4]] },
            // A line sample per entry (solid, dashed), long enough to see the dashes.
            legend: {
              symbolType: "stroke",
              symbolStrokeWidth: 2,
              symbolSize: 600,
              labelExpr: "'cache ' + datum.label",
            },
          },
        },
      },
      { mark: { type: "point", filled: true, size: 40 } },
    ],
    encoding: {
      x: { field: "context", type: "quantitative", title: "context (prompt tokens)" },
      y: { aggregate: "mean", field, type: "quantitative", title: `${title} (mean of runs)` },
      color: { field: "dtype", type: "nominal", title: "dtype" },
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
    for (const [id, field, title] of CHARTS) {
      if (!state.points.some((p) => p[field] !== null)) {
        // No axes without data (a lone "0" axis says nothing).
        $(id).innerHTML = `<p class="muted empty">no measured runs yet: start a run above</p>`;
        continue;
      }
      await vegaEmbed(`#${id}`, chartSpec(field, title), { renderer: "svg", actions: false });
    }
    state.chartsDrawn = state.points.length;
  }).catch((error) => showError(`chart: ${error.message}`));
}

const CHARTS = [
  ["chart-tps", "decode_tokens_per_s", "decode tokens/s"],
  ["chart-prefill", "prefill_ms", "prefill ms"],
];

/** Shows one error (the previous one goes); an empty message clears it. */
function showError(message) {
  $("form-error").textContent = message;
}

const FINISHED = ["done", "failed", "cancelled", "interrupted"];

/** The chart points of a finished job, from its result's individual runs. */
function pointsOf(job) {
  const runs = job.result?.results?.individual_runs ?? [];
  const r = job.request;
  return runs.map((run, i) => ({
    job: job.id,
    dtype: r.dtype,
    cache: r.use_cache ? "on" : "off",
    context: r.prompt_tokens,
    run: i,
    decode_tokens_per_s: run.decode_tokens_per_s ?? null,
    prefill_ms: run.prefill_ms ?? null,
  }));
}

/** Follows a job: its row and its points as runs arrive; on the end, its result's runs. */
function track(job) {
  jobRow(job);
  if (FINISHED.includes(job.status)) return;
  const r = job.request;
  follow(job.id, (type, data) => {
    jobRow(data);
    if (type === "run" && data.run) {
      state.points.push({
        job: job.id,
        dtype: r.dtype,
        cache: r.use_cache ? "on" : "off",
        context: r.prompt_tokens,
        run: data.run.index,
        decode_tokens_per_s: data.run.decode_tokens_per_s,
        prefill_ms: data.run.prefill_ms,
      });
      drawCharts();
    }
    if (type === "end") {
      if (data.result) {
        // After a reload the stream had no past runs: the result has them all.
        state.points = [...state.points.filter((p) => p.job !== job.id), ...pointsOf(data)];
        drawCharts();
      }
      loadHistory();
      health();
    }
  }).catch((error) => showError(`events: ${error.message}`));
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
  row.querySelector(".cancel").disabled = FINISHED.includes(job.status);
}

async function startRuns(event) {
  event.preventDefault();
  showError("");
  $("comparison").innerHTML = "";
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
        track(job);
      }
    }
  }
}

/** A checkpoint under models/ counts as built once the importer's cache holds it. */
function isBuilt(model, models) {
  if (model.cached) return true;
  const name = model.id.split("/").pop();
  return models.some((o) =>
    o.source === "cache" && (o.dir ?? "").split("/").pop().startsWith(`import-${name}-`)
  );
}

/** One option's label: the id, whether it is built, and a size warning for large presets. */
function modelLabel(model, models) {
  const p = model.parameters;
  const size = p !== null && p >= 1e9
    ? ` — ${(p / 1e9).toFixed(1)} B parameters: building it needs ~${
      Math.ceil(p * 4 / 1e9)
    } GB of disk and RAM and takes long`
    : "";
  return `${model.id}${isBuilt(model, models) ? "" : " (built on first use)"}${size}`;
}

async function loadModels() {
  const { models } = await api("/models");
  // Internal folders of the model cache (imported checkpoints) are not models to pick: their
  // source (models/…) is listed.
  state.models = models.filter((m) => m.source !== "cache" || m.id.startsWith("preset:"));
  $("model").innerHTML = state.models.map((m) =>
    `<option value="${esc(m.id)}">${esc(modelLabel(m, models))}</option>`
  ).join("");
  const tiny = state.models.find((m) => m.id === "preset:tiny");
  if (tiny) $("model").value = tiny.id;
  showDtypes();
}

/** Dtypes the CPU execution provider has no kernels for: shown, not offered. */
const CPU_UNSUPPORTED = { bf16: "no bfloat16 kernels on CPU" };

function showDtypes() {
  const model = state.models.find((m) => m.id === $("model").value);
  $("dtypes").innerHTML = (model?.dtypes ?? []).map((d, i) => {
    const why = CPU_UNSUPPORTED[d];
    return why
      ? `<label class="inline unsupported" title="${esc(why)}"><input type="checkbox" ` +
        `value="${esc(d)}" disabled> ${
          esc(d)
        } <span class="muted">(unsupported on CPU)</span></label>`
      : `<label class="inline"><input type="checkbox" value="${esc(d)}" ${
        i === 0 ? "checked" : ""
      }> ${esc(d)}</label>`;
  }).join("");
  const p = model?.parameters ?? null;
  $("model-note").textContent = p !== null && p >= 1e9
    ? `${model.id} has ${(p / 1e9).toFixed(1)} B parameters: its first run builds ` +
      `~${Math.ceil(p * 4 / 1e9)} GB of weights and needs as much RAM.`
    : "";
}

async function loadHistory() {
  const page = await api("/benchmarks?limit=20");
  const body = $("history").tBodies[0];
  body.innerHTML = "";
  for (const job of page.items) {
    state.jobs.set(job.id, job);
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

/** "2026-12-07 03:04:05 · preset:tiny fp32 cache on 32 tokens". */
function describeJob(job) {
  const r = job.request;
  return `${job.created_at.slice(0, 19).replace("T", " ")} · ${job.model} ${job.dtype} cache ` +
    `${r.use_cache ? "on" : "off"} ${r.prompt ? "text" : `${r.prompt_tokens} tokens`}`;
}

async function compare() {
  // A is the earlier job, B the later, whatever order they were ticked in; both are named.
  const [a, b] = state.selected.map((id) => state.jobs.get(id))
    .toSorted((x, y) => x.created_at.localeCompare(y.created_at));
  try {
    // Welch's t compares means: the same statistic as the History rows.
    const c = await api(`/history/compare?a=${a.id}&b=${b.id}&test=welch`);
    const rows = c.metrics.map((m) =>
      `<tr><td>${esc(m.config)}</td><td>${m.metric}</td><td class="num">${fmt(m.centerA, 2)}</td>` +
      `<td class="num">${fmt(m.centerB, 2)}</td><td class="num">${
        (m.change * 100).toFixed(1)
      } %</td>` +
      `<td class="num">${m.p === null ? "–" : m.p.toPrecision(2)}</td>` +
      `<td class="${m.verdict}">${m.verdict}</td><td class="muted">${
        esc(m.note.replace(/ or --test welch/g, ""))
      }</td></tr>`
    ).join("");
    const unmatched = c.unmatched.map((u) =>
      `<p class="muted">only in ${u.side}: ${esc(u.config)}</p>`
    )
      .join("");
    const verdicts = c.regression ? `<p class="worse">regression: a metric got worse</p>` : "";
    const sides = `<p class="muted sides">A (earlier): ${esc(describeJob(a))}<br>` +
      `B (later): ${esc(describeJob(b))}</p>`;
    $("comparison").innerHTML = !c.metrics.length
      ? `${sides}<p class="muted">no configuration in common</p>${unmatched}`
      : `${sides}${verdicts}<table><thead><tr><th>config</th><th>metric</th>` +
        `<th class="num">A mean of runs</th><th class="num">B mean of runs</th>` +
        `<th class="num">change</th><th class="num">p (Welch)</th><th>verdict</th><th></th>` +
        `</tr></thead><tbody>${rows}</tbody></table>${unmatched}`;
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
  // A column only when some dtype has a value (no VRAM on a CPU run).
  const columns = [
    ["decode tok/s @ 2048", "tokens_s_2048", 1],
    ["prefill ms", "prefill_ms", 0],
    ["VRAM GB", "vram_gb", 2],
    ["RSS GB", "rss_gb", 2],
    ["PPL", "ppl", 1],
  ].filter(([, field]) =>
    keys.some((k) => report[k][field] !== null && report[k][field] !== undefined)
  );
  const table = keys.length
    ? `<table><thead><tr><th>dtype</th>${
      columns.map(([title]) => `<th class="num">${title}</th>`).join("")
    }</tr></thead><tbody>${
      keys.map((k) =>
        `<tr><td>${esc(k)}</td>${
          columns.map(([, field, digits]) =>
            `<td class="num">${fmt(report[k][field], digits)}</td>`
          )
            .join("")
        }</tr>`
      ).join("")
    }</tbody></table>`
    : `<p class="muted">no metrics/final_report.json</p>`;
  // The SVGs at their design size, never shrunk to share a row (prefill_vs_decode is wide).
  const figures = ref.figures.map((f) => `<img alt="${esc(f)}" src="/reference/figures/${esc(f)}">`)
    .join("");
  $("reference").innerHTML = table + `<div class="figures">${figures}</div>`;
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

/** After a reload: the jobs of this server's life back in Progress and their runs in the charts. */
async function restoreJobs() {
  const [h, page] = await Promise.all([api("/health"), api("/benchmarks?limit=50")]);
  const since = Date.now() - h.uptime_s * 1000 - 1000;
  const jobs = page.items.filter((j) => Date.parse(j.created_at) >= since).reverse();
  for (const job of jobs) {
    if (FINISHED.includes(job.status)) {
      const full = await api(`/benchmarks/${job.id}`);
      jobRow(full);
      state.points.push(...pointsOf(full));
    } else {
      track(job);
    }
  }
  drawCharts();
}

$("form").addEventListener("submit", startRuns);
$("form").addEventListener("input", () => showError(""));
$("model").addEventListener("change", showDtypes);
$("compare").addEventListener("click", compare);
Promise.all([loadModels(), loadHistory(), loadReference(), health(), restoreJobs()])
  .then(() => document.body.dataset.ready = "1")
  .catch((error) => showError(error.message));
setInterval(health, 5000);
