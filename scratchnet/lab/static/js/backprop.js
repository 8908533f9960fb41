// Section 2, Backprop for this digit: δ_l, ∂L/∂W_l as heat maps, ∂L/∂W1 for one hidden unit, one step,
// and the equations of `scratchnet derive`. Every formula and number comes from the server's answer
// (scratchnet/lab/explain.py); this module lays the pictures out and colours them.
import { postJSON } from "./api.js";
import { barsBeforeAfter, classNames } from "./bars.js";
import { diverging, divergingPicture, explore, formula, heatmap, paintGrid, scale, unitGrid } from "./colors.js";
import { on, state } from "./state.js";

const labelSelect = document.getElementById("label");
const unitSelect = document.getElementById("unit");
const shared = document.getElementById("shared-scale");
const out = document.getElementById("map-formula");
let pictures = null;         // what the pictures are (/api/derivation's "pictures")
let current = null;          // {pixels, prediction, result}: the digit being looked at
let chosenLabel = null;      // a label the user (or Mistakes) picked for this digit
let chosenUnit = null;
let latest = 0;

const LONGEST_OPTION = 24;    // characters of a class name the True-label picker shows (all in its tooltip)

function option(value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text;
  return o;
}

// The picker's option for class k: its name (cut short with "…" when long; whole in the tooltip).
function classOption(k, name) {
  const chars = [...name];
  const o = option(k, chars.length > LONGEST_OPTION ? `${chars.slice(0, LONGEST_OPTION - 1).join("")}…` : name);
  if (name !== String(k)) o.title = `${k}: ${name}`;
  return o;
}

function caption(p) {
  const cap = document.createElement("figcaption");
  cap.innerHTML = `${p.caption} <small>${p.shape}</small>`;
  return cap;
}

function frame(canvas) {
  const f = document.createElement("div");
  f.className = "frame";
  f.append(canvas);
  return f;
}

function scaleBox(id) {
  return Object.assign(document.createElement("div"), { className: "scale", id: `scale-${id}` });
}

function build() {
  const last = pictures.layers[pictures.layers.length - 1], delta1 = pictures.deltas[pictures.deltas.length - 1];
  const names = classNames(last.n);
  labelSelect.replaceChildren(option("", "–"), ...names.map((name, k) => classOption(k, name)));
  labelSelect.disabled = !current;
  unitSelect.replaceChildren(option("", `largest |${delta1.quantity.unicode}|`),
    ...Array.from({ length: delta1.n }, (_, k) => option(k, k)));
  document.getElementById("unit-label").textContent = `Hidden unit j for ${pictures.W1_unit.quantity.unicode}[:, j]`;
  document.getElementById("deltas").replaceChildren(...pictures.deltas.map((p) => {
    const fig = document.createElement("figure");
    fig.append(caption(p));
    unitGrid(fig, p, `d-${p.id}`, p.what === "digit" ? names : null);
    fig.append(scaleBox(p.id));
    return fig;
  }));
  const maps = document.getElementById("maps"), w1 = document.getElementById("fig-W1");
  maps.replaceChildren(...pictures.gradients.map((p) => {
    const fig = document.createElement("figure"), canvas = document.createElement("canvas");
    canvas.className = "heat"; canvas.id = `map-${p.id}`;
    canvas.setAttribute("aria-label", `${p.quantity.unicode}, ${p.shape}: arrow keys move between cells`);
    fig.append(caption(p), frame(canvas), scaleBox(p.id));
    return fig;
  }), w1);
  for (const p of pictures.gradients) explore(document.getElementById(`map-${p.id}`), out);
  document.getElementById("cap-W1").innerHTML =
    `${pictures.W1_unit.caption}, j = <span id="unit-name">–</span> <small>${pictures.W1_unit.shape}</small>`;
  explore(document.getElementById("map-W1"), out);
}

// The scale a picture is drawn on: its own largest |value|, or the one shared by every picture.
function limit(explained, r) {
  return shared.checked ? r.explain.shared_scale : explained.scale;
}

function paint(r) {
  const e = r.explain;
  document.getElementById("shared-why").textContent = shared.checked ? `(${e.shared_scale.why})` : "";
  for (const d of e.deltas) {
    const p = pictures.deltas.find((q) => q.id === d.id), grid = document.getElementById(`d-${d.id}`);
    const max = limit(d, r).max;
    const pick = d.id === pictures.deltas[pictures.deltas.length - 1].id
      ? (k) => { chosenUnit = k; unitSelect.value = k; update(); } : null;
    paintGrid(grid, r.deltas[d.id].values, (v) => diverging(v, max), (k) => formula(d, 0, k, 0), out, pick);
    scale(document.getElementById(`scale-${d.id}`), limit(d, r).text, d.scale.text, p.quantity.unicode);
    [...grid.querySelectorAll(".cell")].forEach((c, k) => c.classList.toggle("picked", pick !== null && k === e.W1_unit.unit));
  }
  for (const g of e.gradients) {
    const [rows, cols] = r.gradients[g.id].shape, canvas = document.getElementById(`map-${g.id}`);
    const cw = cols <= 10 ? 22 : 8, ch = rows > 20 ? 4 : 22;
    heatmap(canvas, rows, cols, r.gradients[g.id].values, limit(g, r).max, cw, ch, true);
    canvas._describe = (row, col) => formula(g, row, col, cols);
    const name = pictures.gradients.find((q) => q.id === g.id).quantity.unicode;
    scale(document.getElementById(`scale-${g.id}`), limit(g, r).text, g.scale.text, name);
  }
  const w1 = e.W1_unit, canvas = document.getElementById("map-W1"), side = pictures.W1_unit.layout[1];
  document.getElementById("unit-name").textContent = w1.unit;
  divergingPicture(canvas, r.W1_unit.values, limit(w1, r).max, side);
  canvas._describe = (row, col) => formula(w1, row, col, side);
  scale(document.getElementById("scale-W1"), limit(w1, r).text, w1.scale.text, `${pictures.W1_unit.quantity.unicode}[1:, ${w1.unit}]`);
  document.getElementById("W1-bias").textContent = e.W1_bias;
  document.getElementById("loss").textContent = e.loss;
}

async function update() {
  if (!current || !pictures) return;
  const ticket = ++latest;
  const body = { pixels: current.pixels, label: chosenLabel ?? current.prediction };
  if (chosenUnit !== null) body.unit = chosenUnit;
  let r;
  try { r = await postJSON("/api/backprop", body); } catch (err) { out.textContent = err.message; return; }
  if (ticket !== latest) return;
  current.result = r;
  labelSelect.disabled = false;
  labelSelect.value = r.label;
  document.getElementById("bp-empty").hidden = true;
  document.getElementById("bp-body").hidden = false;
  paint(r);
  document.getElementById("bp-body").dataset.label = r.label;
}

async function step() {
  if (!current?.result) return;
  const lr = Number(document.getElementById("step-lr").value);
  try {
    const s = await postJSON("/api/step", { pixels: current.pixels, label: current.result.label, lr });
    barsBeforeAfter(document.getElementById("step-bars"), s.before, s.after, s.class_names);
    document.getElementById("step-loss").textContent = s.text;
  } catch (err) { document.getElementById("step-loss").textContent = err.message; }
}

function equations(d) {
  const items = [];
  for (const kind of ["forward", "backward"]) {
    const title = document.createElement("li");
    title.className = `${kind}-title`;
    title.textContent = kind === "forward" ? "Forward pass" : "Backward pass";
    items.push(title);
    for (const s of d.steps.filter((s) => s.kind === kind)) {
      const li = document.createElement("li");
      li.innerHTML = `${s.mathml}<span class="shape">${s.shape_one} | ${s.shape_batch}</span>` +
        (s.verified ? '<span class="ok" title="finite differences agree">✓</span>' : "");
      for (const fact of s.facts) {
        const p = document.createElement("p");
        p.className = "fact"; p.innerHTML = `▸ ${fact.html}`;
        li.append(p);
      }
      items.push(li);
    }
  }
  document.getElementById("equations").replaceChildren(...items);
}

// A network (/api/derivation for it): its pictures and equations; the digit on the pad again.
export function setNetwork(derivation) {
  pictures = derivation.pictures;
  build();
  equations(derivation);
  if (current) update();
}

export function initBackprop() {
  labelSelect.addEventListener("change", () => {
    if (labelSelect.value === "") return;
    chosenLabel = Number(labelSelect.value); update();
  });
  unitSelect.addEventListener("change", () => { chosenUnit = unitSelect.value === "" ? null : Number(unitSelect.value); update(); });
  shared.addEventListener("change", () => { if (current?.result) paint(current.result); });
  document.getElementById("step").addEventListener("click", step);
  on("input", ({ result, final }) => {
    if (!final) return;
    current = { pixels: result.input, prediction: result.digit };     // the x the network saw, sent back as is
    if (state.label !== null) { chosenLabel = state.label; state.label = null; } else chosenLabel = null;
    update();
  });
  on("cleared", () => {
    current = null; latest++;
    document.getElementById("bp-empty").hidden = false;
    document.getElementById("bp-body").hidden = true;
    document.getElementById("loss").textContent = "";
    labelSelect.value = ""; labelSelect.disabled = true;
  });
}
