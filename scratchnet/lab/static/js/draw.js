// Section 1, Draw: the drawing pad, the 28×28 input, the probabilities and every layer's activations.
import { postJSON } from "./api.js";
import { bars } from "./bars.js";
import { grey, paintCells, sequential } from "./colors.js";
import { emit, fmt, layerNames, on, state, SYMBOL } from "./state.js";

const THROTTLE_MS = 120;          // at most one prediction this often while drawing
const SENT_SIDE = 140;            // the drawing is sent at half resolution: a quarter of the pixels to
                                  // preprocess, the same digit once scaled to MNIST's 20 pixels
const pad = document.getElementById("draw");
const ctx = pad.getContext("2d");
const status = document.getElementById("draw-status");
const formulaOut = document.getElementById("unit-formula");
let drawing = false, inked = false, last = null;
let inFlight = false, queued = null, lastSent = 0, timer = null;
let generation = 0;                // bumped by Clear and by a picked image: older answers are dropped

function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  inked = false;
}

function position(e) {
  const rect = pad.getBoundingClientRect();
  return [(e.clientX - rect.left) * pad.width / rect.width, (e.clientY - rect.top) * pad.height / rect.height];
}

function strokeTo(p) {
  ctx.strokeStyle = "#111"; ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
  last = p; inked = true;
}

pad.addEventListener("pointerdown", (e) => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  drawing = true; last = position(e); strokeTo(last);
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  for (const ev of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) strokeTo(position(ev));
  request(false);
});
function endStroke() {
  if (!drawing) return;
  drawing = false;
  clearTimeout(timer); timer = null;          // the stroke's end supersedes a throttled request
  request(true);
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);
document.getElementById("clear").addEventListener("click", () => {
  generation++; queued = null; clearTimeout(timer); timer = null; busy();
  clearPad(); state.input = null; status.textContent = "";
  showEmpty();
  emit("cleared");
});

// The section as before any drawing: no prediction, no bars, blank input and units.
function showEmpty() {
  const prediction = document.getElementById("prediction");
  prediction.textContent = "–"; prediction.dataset.final = "0";
  document.getElementById("confidence").textContent = "";
  const input = document.getElementById("input28").getContext("2d");
  input.fillStyle = "#000"; input.fillRect(0, 0, 28, 28);
  const box = document.getElementById("prob-bars");
  box.replaceChildren(Object.assign(document.createElement("p"),
    { className: "note empty-hint", textContent: "Draw a digit to see the ten probabilities." }));
  for (const cell of document.querySelectorAll("#layers .cell")) cell.style.background = "#fff";
  formulaOut.textContent = "Point at a unit.";
}

// pad.dataset.busy is "1" while a prediction is pending (in flight, queued or throttled): tests wait on it.
function busy() { pad.dataset.busy = inFlight || queued || timer ? "1" : "0"; }

// Predict for the pad's picture: throttled while drawing, always once when a stroke ends.
function request(final) {
  if (!inked) return;
  const wait = THROTTLE_MS - (performance.now() - lastSent);
  if (!final && (inFlight || wait > 0)) {
    if (!timer) timer = setTimeout(() => { timer = null; request(false); busy(); }, Math.max(wait, 20));
    busy();
    return;
  }
  send({ image: picture() }, final);
}

const half = document.createElement("canvas");
half.width = half.height = SENT_SIDE;

// The pad as a SENT_SIDE × SENT_SIDE PNG data URL.
function picture() {
  const c = half.getContext("2d");
  c.imageSmoothingEnabled = true; c.imageSmoothingQuality = "high";
  c.drawImage(pad, 0, 0, SENT_SIDE, SENT_SIDE);
  return half.toDataURL("image/png");
}

async function send(body, final) {
  if (inFlight) { queued = [body, final || (queued && queued[1])]; busy(); return; }
  inFlight = true; lastSent = performance.now(); busy();
  const mine = generation;
  try {
    const result = await postJSON("/api/predict", body);
    if (mine !== generation) return;          // the pad was cleared or replaced meanwhile
    show(result, final);
    state.input = body;
    status.textContent = ""; status.classList.remove("error");
    emit("input", { body, result, final });
  } catch (err) {
    status.textContent = err.message; status.classList.add("error");
  } finally {
    inFlight = false;
    if (queued) { const [b, f] = queued; queued = null; send(b, f); }
    busy();
  }
}

function layerFormula(name, i, result) {
  const { sizes, activations } = state.model;
  const L = sizes.length - 1;
  const l = name === "yhat" ? L : Number(name.slice(1));
  const prev = l === 1 ? "x" : `H${l - 1}`;
  const z = result.z[`z${l}`];
  const h = result.activations[name][i];
  const shapes = `(1×${sizes[l - 1] + 1} · ${sizes[l - 1] + 1}×${sizes[l]} → 1×${sizes[l]})`;
  const zline = `z${l} = [1 ${prev}] W${l}   ${shapes}`;
  if (name === "yhat") {
    return `ŷ[${i}] = softmax(z${L})[${i}] = exp(z${L}[${i}]) / Σₖ exp(z${L}[k]) = exp(${fmt(z[i], 3)}) / Σ = ${fmt(h)}\n${zline}`;
  }
  const f = SYMBOL[activations[l - 1]] || activations[l - 1];
  return `${name}[${i}] = ${f}(z${l}[${i}]) = ${f}(${fmt(z[i], 3)}) = ${fmt(h)}\n${zline}`;
}

function buildLayers() {
  const box = document.getElementById("layers");
  const { sizes, activations } = state.model;
  const L = sizes.length - 1;
  document.getElementById("probs-title").textContent = `ŷ = softmax(z${L}): the ${sizes[L]} probabilities`;
  box.replaceChildren(...layerNames(sizes).map((name, k) => {
    const l = k + 1, fig = document.createElement("figure"), cap = document.createElement("figcaption");
    const f = SYMBOL[activations[k]] || activations[k];
    const shown = name === "yhat" ? "ŷ" : name;
    const grid = sizes[l] > 10 ? `, as ${Math.ceil(sizes[l] / 10)}×10` : "";
    cap.innerHTML = `${shown} = ${f}(z${l}) <small>1×${sizes[l]}${grid}</small>`;
    const cells = document.createElement("div");
    cells.className = "cells grid10"; cells.id = `cells-${name}`;
    fig.append(cap, cells);
    return fig;
  }));
}

// Empty unit cells (before any drawing), so the grids are there to see.
function layersBlank() {
  for (const name of layerNames(state.model.sizes)) {
    const n = state.model.sizes[name === "yhat" ? state.model.sizes.length - 1 : Number(name.slice(1))];
    paintCells(document.getElementById(`cells-${name}`), new Array(n).fill(0), sequential,
      () => "Draw a digit first: then each unit shows its formula with its numbers.", formulaOut);
  }
  if (!document.getElementById("prob-bars").children.length) showEmpty();
}

function show(result, final) {
  grey(document.getElementById("input28"), result.input);
  bars(document.getElementById("prob-bars"), result.probabilities, result.digit);
  const prediction = document.getElementById("prediction");
  prediction.textContent = result.digit;
  prediction.dataset.final = final ? "1" : "0";
  document.getElementById("confidence").textContent = `(${(100 * result.probabilities[result.digit]).toFixed(1)} %)`;
  for (const name of layerNames(state.model.sizes)) {
    paintCells(document.getElementById(`cells-${name}`), result.activations[name], sequential,
      (i) => layerFormula(name, i, result), formulaOut);
  }
}

// Show a 28×28 picture (values 0…1, bright ink) on the pad as dark ink on white, and predict from its pixels.
export function loadPixels(pixels) {
  generation++; queued = null; clearTimeout(timer); timer = null;
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  grey(small, pixels, 28, true);
  clearPad();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, pad.width, pad.height);
  inked = false;                    // a picked image is sent as pixels; drawing on it starts anew
  send({ pixels }, true);
}

export function initDraw() {
  clearPad();
  buildLayers();
  layersBlank();
  on("model", () => {                    // a new network: rebuild, and read the digit on the pad again
    buildLayers();
    if (state.input) send(state.input, true); else layersBlank();
  });
  pad.addEventListener("pointerdown", () => { if (state.input && state.input.pixels) { clearPad(); state.input = null; } },
    { capture: true });
}
