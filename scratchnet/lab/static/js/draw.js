// Section 1, Draw: the drawing pad, the 28×28 input, the probabilities and every layer's activations.
import { postJSON } from "./api.js";
import { bars, classNames, percent } from "./bars.js";
import { formula, grey, paintGrid, sequential, unitGrid } from "./colors.js";
import { emit, state } from "./state.js";

const THROTTLE_MS = 120;          // at most one prediction this often while drawing
const SENT_SIDE = 140;            // the drawing is sent at half resolution: a quarter of the pixels to
                                  // preprocess, the same digit once scaled to MNIST's 20 pixels
const pad = document.getElementById("draw");
const ctx = pad.getContext("2d");
const status = document.getElementById("draw-status");
const formulaOut = document.getElementById("unit-formula");
let drawing = false, inked = false, last = null;
let inFlight = false, queued = null, lastSent = 0, timer = null;
let shown = null;                  // the last answer shown: its "input" is the x the network saw
let asking = null;                 // [body, remember] of the request in flight
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
  clearPad(); state.input = null; shown = null; status.textContent = "";
  showEmpty();
  emit("cleared");
});

// The section as before any drawing: no prediction, no bars, blank input and units.
function showEmpty() {
  const prediction = document.getElementById("prediction");
  prediction.textContent = "–"; prediction.title = ""; prediction.dataset.final = "0";
  document.getElementById("confidence").textContent = "";
  const input = document.getElementById("input28").getContext("2d");
  input.fillStyle = "#000"; input.fillRect(0, 0, 28, 28);
  const box = document.getElementById("prob-bars");
  box.replaceChildren(Object.assign(document.createElement("p"),
    { className: "note empty-hint", textContent: `Draw a digit to see the ${probabilitiesCount()} probabilities.` }));
  for (const cell of document.querySelectorAll("#layers .cell")) cell.style.background = "#fff";
  formulaOut.textContent = "Point at a unit, or tab to a grid and move with the arrow keys.";
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

// `remember`: this body is what the pad holds (false when the same x is read again by a new network).
async function send(body, final, remember = true) {
  if (inFlight) { queued = [body, final || (queued && queued[1]), remember]; busy(); return; }
  inFlight = true; asking = [body, remember]; lastSent = performance.now(); busy();
  const mine = generation;
  try {
    const result = await postJSON("/api/predict", body);
    if (mine !== generation) return;          // the pad was cleared or replaced meanwhile
    show(result, final);
    if (remember) state.input = body;
    shown = result;
    status.textContent = ""; status.classList.remove("error");
    emit("input", { body, result, final });
  } catch (err) {
    status.textContent = err.message; status.classList.add("error");
  } finally {
    inFlight = false; asking = null;
    if (queued) { const [b, f, m] = queued; queued = null; send(b, f, m); }
    busy();
  }
}

// The layers' grids, as the server describes them (`pictures.layers` of /api/derivation): H1 … ŷ.
let layers = [];

// How many probabilities the network gives: its classes ("ten" for ten, as the page always said).
function probabilitiesCount() {
  const K = layers.length ? layers[layers.length - 1].n : 10;
  return K === 10 ? "ten" : String(K);
}

function buildLayers(pictures) {
  layers = pictures.layers;
  document.getElementById("probs-title").textContent = pictures.probabilities_title;
  const box = document.getElementById("layers");
  box.replaceChildren(...layers.map((p) => {
    const fig = document.createElement("figure"), cap = document.createElement("figcaption");
    cap.innerHTML = `${p.caption} <small>${p.shape}</small>`;
    fig.append(cap);
    unitGrid(fig, p, `cells-${p.id}`, p.what === "digit" ? classNames(p.n) : null);
    return fig;
  }));
}

// Empty unit cells (before any drawing), so the grids are there to see.
function layersBlank() {
  for (const p of layers) {
    paintGrid(document.getElementById(`cells-${p.id}`), new Array(p.n).fill(0), sequential,
      (k) => `${p.quantity.unicode}[${k}]: draw a digit first; then each ${p.what} shows its formula with its numbers.`,
      formulaOut);
  }
  if (!document.getElementById("prob-bars").children.length) showEmpty();
}

function show(result, final) {
  grey(document.getElementById("input28"), result.input);
  bars(document.getElementById("prob-bars"), result.probabilities, result.digit, result.class_names);
  const prediction = document.getElementById("prediction");
  prediction.textContent = result.class; prediction.title = result.class;       // the name; long ones cut short
  prediction.dataset.final = final ? "1" : "0";
  document.getElementById("confidence").textContent = `(${percent(result.probabilities[result.digit])})`;
  for (const explained of result.explain.layers) {
    paintGrid(document.getElementById(`cells-${explained.id}`), result.activations[explained.id], sequential,
      (k) => formula(explained, 0, k, 0), formulaOut);
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

// A network (its pictures from /api/derivation): build the grids, and read the digit on the pad again.
// While a stroke goes on, or a request waits, the next answer is the new network's anyway (and an answer
// shown now may be of half a stroke: it must not replace the waiting one); a request in flight may be
// answered by the old network, so it is asked again.
export function setNetwork(pictures) {
  buildLayers(pictures);
  layersBlank();
  if (drawing || queued) return;
  if (inFlight) send(asking[0], true, asking[1]);
  else if (state.input && shown) send({ pixels: shown.input }, true, false);   // the same x, not the picture again
}

export function initDraw() {
  clearPad();
  pad.addEventListener("pointerdown", () => { if (state.input && state.input.pixels) { clearPad(); state.input = null; } },
    { capture: true });
}
