// Section 4, Train live: start a run (from the learner's network or fresh weights), stream its training
// and held-out loss and accuracy into a chart, stop it, save the network, go back to the served model.
import { getJSON, postJSON } from "./api.js";
import { css, diverging } from "./colors.js";
import { emit, fmt, on } from "./state.js";

const form = document.getElementById("train-form");
const startButton = document.getElementById("train-start");
const stopButton = document.getElementById("train-stop");
const status = document.getElementById("train-status");
const chart = document.getElementById("train-chart");
const resetButton = document.getElementById("reset");
const LOSS = getComputedStyle(document.documentElement).getPropertyValue("--loss").trim() || "#d95f02";
const ACC = getComputedStyle(document.documentElement).getPropertyValue("--acc").trim() || "#1b9e77";
let points = [], epochs = 0, planned = 1, source = null;
let from = "";                     // where the run being shown starts, as the server words it

function say(text, error = false) { status.textContent = text; status.classList.toggle("error", error); }
// The status of a run, always saying where it starts.
function sayRun(text, error = false) { say(from ? `${text} · from ${from}` : text, error); }

// The chart: x in epochs (fractional), loss on the left axis, accuracy (0–100 %) on the right.
function drawChart() {
  const ratio = window.devicePixelRatio || 1, W = chart.clientWidth || 640, H = Math.round(W * 0.47);
  chart.width = Math.round(W * ratio); chart.height = Math.round(H * ratio);
  const ctx = chart.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const left = 48, right = 52, top = 12, bottom = 34, pw = W - left - right, ph = H - top - bottom;
  const xmax = Math.max(planned, epochs, ...points.map((p) => p.x), 1);
  const lmax = Math.max(0.5, ...points.flatMap((p) => [p.loss, p.val_loss].filter(Number.isFinite))) * 1.05;
  const X = (x) => left + (x / xmax) * pw, YL = (v) => top + ph - (v / lmax) * ph, YA = (a) => top + ph - a * ph;
  ctx.font = "11px system-ui, sans-serif"; ctx.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {                                  // grid and both axes' labels
    const y = top + (ph * k) / 4;
    ctx.strokeStyle = "#e6e8ee"; ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
    ctx.fillStyle = LOSS; ctx.textAlign = "right"; ctx.fillText(fmt(lmax * (1 - k / 4), 2), left - 6, y + 4);
    ctx.fillStyle = ACC; ctx.textAlign = "left"; ctx.fillText(`${100 - 25 * k} %`, left + pw + 6, y + 4);
  }
  ctx.strokeStyle = "#9aa3b5"; ctx.setLineDash([3, 4]);           // ends of epochs
  for (let e = 1; e <= epochs; e++) { ctx.beginPath(); ctx.moveTo(X(e), top); ctx.lineTo(X(e), top + ph); ctx.stroke(); }
  ctx.setLineDash([]);
  ctx.fillStyle = "#5b6475"; ctx.textAlign = "center";
  const tick = Math.max(1, Math.ceil(xmax / 10));
  for (let e = 0; e <= xmax; e += tick) ctx.fillText(e, X(e), top + ph + 14);
  ctx.fillText("epochs", left + pw / 2, H - 4);
  ctx.strokeStyle = "#1d2330"; ctx.strokeRect(left, top, pw, ph);
  // solid: the training batches' means; dashed: the held-out images (no dots)
  for (const [key, color, Y, dash] of [["loss", LOSS, YL, []], ["accuracy", ACC, YA, []],
    ["val_loss", LOSS, YL, [6, 4]], ["val_accuracy", ACC, YA, [6, 4]]]) {
    const shown = points.filter((p) => Number.isFinite(p[key]));
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2; ctx.setLineDash(dash); ctx.beginPath();
    shown.forEach((p, i) => (i ? ctx.lineTo(X(p.x), Y(p[key])) : ctx.moveTo(X(p.x), Y(p[key]))));
    ctx.stroke();
    ctx.setLineDash([]);
    if (!dash.length) for (const p of shown) { ctx.beginPath(); ctx.arc(X(p.x), Y(p[key]), 2, 0, 7); ctx.fill(); }
  }
  chart.dataset.points = points.length;                           // for tests and assistive tools
  chart.dataset.heldOut = points.filter((p) => Number.isFinite(p.val_loss)).length;
}

// First-layer weights: one 28×28 tile per hidden unit, int8 codes on a diverging map.
function drawWeights(w) {
  const codes = Uint8Array.from(atob(w.codes), (c) => c.charCodeAt(0));
  const side = w.side, per = Math.ceil(Math.sqrt(w.units)), gap = 1, size = per * (side + gap) - gap;
  const canvas = document.getElementById("weights"), ctx = canvas.getContext("2d");
  canvas.width = canvas.height = size;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size);
  const img = ctx.createImageData(side, side);
  for (let u = 0; u < w.units; u++) {
    for (let k = 0; k < side * side; k++) {
      const c = codes[u * side * side + k], v = c > 127 ? c - 256 : c;   // int8
      img.data.set([...diverging(v, 127), 255], k * 4);
    }
    ctx.putImageData(img, (u % per) * (side + gap), Math.floor(u / per) * (side + gap));
  }
  canvas.dataset.updates = Number(canvas.dataset.updates || 0) + 1;
  canvas._tiles = { units: w.units, per, step: side + gap, side };
}

// Pointing at a tile names its unit, numbered from 0 as everywhere on the page (row by row, `per` a row).
function weightsUnit(e) {
  const canvas = e.currentTarget, t = canvas._tiles, out = document.getElementById("weights-unit");
  if (!t) return;
  const rect = canvas.getBoundingClientRect();
  const col = Math.floor((e.clientX - rect.left) * canvas.width / rect.width / t.step);
  const row = Math.floor((e.clientY - rect.top) * canvas.height / rect.height / t.step);
  const u = row * t.per + col;
  if (col < 0 || col >= t.per || row < 0 || u >= t.units) return;
  out.textContent = `unit ${u}: W1[1:, ${u}], its ${t.side * t.side} input weights as ${t.side}×${t.side}`;
}

// The learner's runs, as every tab of theirs follows them: one stream, open as long as the page, that
// replays the latest run (after a reload) and then brings each new run, whichever tab started it.
function listen() {
  if (source && source.readyState !== EventSource.CLOSED) return;
  source = new EventSource("/api/train/events");
  source.addEventListener("queued", (e) => {
    const d = JSON.parse(e.data);
    if (!running.on) { points = []; epochs = 0; drawChart(); }       // a new run: the last one's chart goes
    running(true);
    from = d.start_from;
    sayRun(d.position === 1 ? "waiting: your run is next (another learner's run is training)"
      : `waiting: ${d.position - 1} ${d.position === 2 ? "run of another learner" : "runs of other learners"} before yours`);
  });
  source.addEventListener("start", (e) => {
    const d = JSON.parse(e.data);
    from = d.start_from;
    running(true);
    points = []; epochs = 0; planned = d.recipe.epochs; drawChart();
    document.getElementById("held-out").textContent = d.held_out.toLocaleString("en");
    sayRun(`training on ${d.examples.toLocaleString("en")} images, ${d.steps_per_epoch} batches an epoch…`);
  });
  source.addEventListener("progress", (e) => {
    const d = JSON.parse(e.data);
    points.push({ x: d.epoch - 1 + d.batch / d.n_batches, loss: d.loss, accuracy: d.accuracy,
      val_loss: d.val_loss, val_accuracy: d.val_accuracy });
    drawChart();
    sayRun(`epoch ${d.epoch}, batch ${d.batch}/${d.n_batches}: loss ${fmt(d.loss)}, accuracy ` +
      `${(100 * d.accuracy).toFixed(1)} % (held out: ${fmt(d.val_loss)}, ${(100 * d.val_accuracy).toFixed(1)} %)` +
      ` (${d.seconds.toFixed(1)} s)`);
  });
  source.addEventListener("epoch", (e) => { epochs = JSON.parse(e.data).epoch; drawChart(); });
  source.addEventListener("weights", (e) => drawWeights(JSON.parse(e.data)));
  source.addEventListener("done", async (e) => {
    const d = JSON.parse(e.data);
    running(false);
    from = d.start_from;
    const test = d.test_accuracy === null || d.test_accuracy === undefined ? ""
      : `; test accuracy ${(100 * d.test_accuracy).toFixed(2)} % on ${d.n_test.toLocaleString("en")} test images`;
    sayRun(`${d.status}: ${d.message}${test}`, d.status === "failed");
    if (d.status !== "failed") emit("model", { model: await getJSON("/api/model") });
  });
}

function running(on) {
  running.on = on;
  startButton.disabled = on; stopButton.disabled = !on;
  resetButton.disabled = on || !own;
}

// The learner's network, as /api/model describes it: the "your network" choice names it.
let own = false;
function network(model) {
  own = model.own;
  document.getElementById("start-yours").textContent = model.start_from;
  resetButton.disabled = !own || !stopButton.disabled;
}

export async function initTrain(model) {
  drawChart();
  network(model);
  on("model", ({ model }) => network(model));
  // a new session (the last one had ended): follow its runs, not the ended one's
  on("expired", () => { if (source) source.close(); source = null; running(false); listen(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form), body = {};
    for (const key of ["epochs", "batch_size", "shift", "examples"]) body[key] = parseInt(f.get(key), 10);
    body.lr = Number(f.get("lr")); body.optimizer = f.get("optimizer"); body.fresh = f.get("start") === "fresh";
    try {
      const run = await postJSON("/api/train", body);
      from = run.start_from;
      points = []; epochs = 0; drawChart();
      running(true); sayRun(run.position ? "queued…" : "starting (loading MNIST)…"); listen();
    } catch (err) { say(err.message, true); }
  });
  stopButton.addEventListener("click", async () => {
    try { await postJSON("/api/train/stop"); sayRun("stopping after this batch…"); } catch (err) { say(err.message, true); }
  });
  document.getElementById("save").addEventListener("click", async () => {
    // your network, as a model file on your own computer (the server keeps nothing on its disk)
    const a = Object.assign(document.createElement("a"), { href: "/api/model/download", download: "scratchnet-lab-model.npz" });
    document.body.append(a); a.click(); a.remove();
    say("saving your network as scratchnet-lab-model.npz (your browser's downloads)");
  });
  resetButton.addEventListener("click", async () => {
    try {
      await postJSON("/api/model/reset");
      const mine = await getJSON("/api/model");
      say(`your network is the served model again (${mine.source})`);
      emit("model", { model: mine });
    } catch (err) { say(err.message, true); }
  });
  window.addEventListener("resize", drawChart);
  document.getElementById("weights").addEventListener("pointermove", weightsUnit);
  const showWeights = async () => { try { drawWeights(await getJSON("/api/weights")); } catch { /* shown at the next run */ } };
  on("model", showWeights);
  showWeights();
  const run = await getJSON("/api/train");                        // after a reload, or in another tab:
  from = run.start_from || "";
  if (run.status === "running" || run.status === "queued") running(true);
  listen();                                   // the last run replayed (chart and status), then every new one
  if (run.status !== "idle") return;
  if (model.trained) say(`No run yet. Start trains a copy of ${model.start_from}, unless you choose fresh weights.`);
  else say("No run yet: the network is freshly initialised; press Start to train it.");
}
