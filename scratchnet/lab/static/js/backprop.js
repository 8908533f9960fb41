// Section 2, Backprop for this digit: δ_l, ∂L/∂W_l as heat maps, ∂L/∂W1 for one hidden unit, one step,
// and the equations of `scratchnet derive`.
import { getJSON, postJSON } from "./api.js";
import { barsBeforeAfter } from "./bars.js";
import { cellAt, diverging, divergingPicture, heatmap, maxAbs, paintCells, scale } from "./colors.js";
import { fmt, layerNames, on, state } from "./state.js";

const labelSelect = document.getElementById("label");
const unitSelect = document.getElementById("unit");
const out = document.getElementById("map-formula");
let current = null;          // {body, prediction}
let chosenLabel = null;      // a label the user (or Mistakes) picked for this digit
let chosenUnit = null;
let latest = 0;

function option(value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text;
  return o;
}

function hname(l) { return l === 0 ? "x" : `H${l}`; }

function deltaFormula(l, j, r) {
  const { sizes, activations } = state.model;
  const L = sizes.length - 1, d = r.deltas[`delta${l}`].values[j];
  if (l === L) {
    const y = j === r.label ? 1 : 0;
    return `δ${L}[${j}] = ŷ[${j}] − y[${j}] = ${fmt(r.probabilities[j])} − ${y} = ${fmt(d)}    (δ${L} = ŷ − y, 1×${sizes[L]})`;
  }
  const H = r.activations[`H${l}`][j];
  const deriv = activations[l - 1] === "sigmoid"
    ? `σ′(z${l}[${j}]) = H${l}[${j}](1 − H${l}[${j}]) = ${fmt(H)}·${fmt(1 - H)}` : `f′(z${l}[${j}])`;
  return `δ${l}[${j}] = (δ${l + 1} W̄${l + 1}ᵀ)[${j}] · ${deriv};  δ${l}[${j}] = ${fmt(d)}\n` +
    `δ${l} = (δ${l + 1} W${l + 1}[1:]ᵀ) ⊙ f′(z${l})   (1×${sizes[l + 1]} · ${sizes[l + 1]}×${sizes[l]} → 1×${sizes[l]})`;
}

function gradFormula(l, i, j, r) {
  const g = r.gradients[`W${l}`], v = g.values[i * g.shape[1] + j];
  const input = i === 0 ? "1 (the bias row)" : `${hname(l - 1)}[${i - 1}] = ${fmt(r.activations[hname(l - 1)]?.[i - 1] ?? r.input[i - 1])}`;
  return `∂L/∂W${l}[${i}, ${j}] = [1 ${hname(l - 1)}][${i}] · δ${l}[${j}] = ${fmt(v)};  [1 ${hname(l - 1)}][${i}] = ${input},` +
    ` δ${l}[${j}] = ${fmt(r.deltas[`delta${l}`].values[j])}\n∂L/∂W${l} = [1 ${hname(l - 1)}]ᵀ δ${l}   ` +
    `(${g.shape[0]}×1 · 1×${g.shape[1]} → ${g.shape[0]}×${g.shape[1]})`;
}

function build() {
  const { sizes } = state.model;
  const L = sizes.length - 1;
  labelSelect.replaceChildren(...Array.from({ length: sizes[L] }, (_, k) => option(k, k)));
  unitSelect.replaceChildren(option("", "largest |δ1|"), ...Array.from({ length: sizes[1] }, (_, k) => option(k, k)));
  const deltas = document.getElementById("deltas");
  deltas.replaceChildren(...Array.from({ length: L }, (_, k) => {
    const l = L - k, fig = document.createElement("figure"), cap = document.createElement("figcaption");
    cap.innerHTML = `δ${l} = ∂L/∂z${l} <small>1×${sizes[l]}${sizes[l] > 10 ? `, as ${Math.ceil(sizes[l] / 10)}×10` : ""}</small>`;
    const cells = document.createElement("div"), sc = document.createElement("div");
    cells.className = "cells grid10"; cells.id = `d-delta${l}`;
    sc.className = "scale"; sc.id = `scale-delta${l}`;
    fig.append(cap, cells, sc);
    return fig;
  }));
  const maps = document.getElementById("maps"), w1 = document.getElementById("fig-W1");
  maps.replaceChildren(...Array.from({ length: L - 1 }, (_, k) => {
    const l = L - k, fig = document.createElement("figure"), cap = document.createElement("figcaption");
    cap.innerHTML = `∂L/∂W${l} <small>${sizes[l - 1] + 1}×${sizes[l]}, row 0 the bias</small>`;
    const canvas = document.createElement("canvas"), sc = document.createElement("div");
    canvas.className = "heat"; canvas.id = `map-W${l}`;
    sc.className = "scale"; sc.id = `scale-W${l}`;
    canvas.addEventListener("pointermove", (e) => {
      const c = cellAt(canvas, e);
      if (c && current?.result) out.textContent = gradFormula(l, c.row, c.col, current.result);
    });
    fig.append(cap, canvas, sc);
    return fig;
  }), w1);
}

async function update() {
  if (!current) return;
  const ticket = ++latest;
  const body = { ...current.body, label: chosenLabel ?? current.prediction };
  if (chosenUnit !== null) body.unit = chosenUnit;
  let r;
  try { r = await postJSON("/api/backprop", body); } catch (err) { out.textContent = err.message; return; }
  if (ticket !== latest) return;
  current.result = r;
  labelSelect.value = r.label;
  document.getElementById("bp-empty").hidden = true;
  document.getElementById("bp-body").hidden = false;
  const L = state.model.sizes.length - 1;
  document.getElementById("loss").textContent =
    `L = −log ŷ[${r.label}] = −log ${fmt(r.probabilities[r.label])} = ${fmt(r.loss)}`;
  for (let l = 1; l <= L; l++) {
    const d = r.deltas[`delta${l}`].values, max = maxAbs(d);
    const box = document.getElementById(`d-delta${l}`);
    scale(document.getElementById(`scale-delta${l}`), max, (v) => fmt(v, 3));
    paintCells(box, d, (v) => diverging(v, max), (j) => deltaFormula(l, j, r), out,
      l === 1 ? (j) => { chosenUnit = j; unitSelect.value = j; update(); } : null);
    [...box.children].forEach((c, j) => c.classList.toggle("picked", l === 1 && j === r.W1_unit.unit));
  }
  for (let l = 2; l <= L; l++) {
    const g = r.gradients[`W${l}`];
    const cw = g.shape[1] <= 10 ? 22 : 8, ch = g.shape[0] > 20 ? 4 : 22;
    const max = heatmap(document.getElementById(`map-W${l}`), g.shape[0], g.shape[1], g.values, cw, ch, true);
    scale(document.getElementById(`scale-W${l}`), max, (v) => fmt(v, 3));
  }
  const w1 = r.W1_unit;
  document.getElementById("unit-name").textContent = w1.unit;
  const max = divergingPicture(document.getElementById("map-W1"), w1.values);
  scale(document.getElementById("scale-W1"), max, (v) => fmt(v, 3));
  document.getElementById("W1-bias").textContent =
    `bias: ∂L/∂W1[0, ${w1.unit}] = δ1[${w1.unit}] = ${fmt(w1.bias)}; pixel (r, c) is x[28r + c] · δ1[${w1.unit}]: only inked pixels get a gradient.`;
}

async function step() {
  if (!current?.result) return;
  const lr = Number(document.getElementById("step-lr").value);
  try {
    const s = await postJSON("/api/step", { ...current.body, label: current.result.label, lr });
    barsBeforeAfter(document.getElementById("step-bars"), s.before, s.after);
    document.getElementById("step-loss").textContent =
      `ŷ[${s.label}]: ${(100 * s.before[s.label]).toFixed(1)} % → ${(100 * s.after[s.label]).toFixed(1)} %; ` +
      `loss ${fmt(s.loss_before)} → ${fmt(s.loss_after)} with η = ${s.lr}.`;
  } catch (err) { document.getElementById("step-loss").textContent = err.message; }
}

async function equations() {
  const list = document.getElementById("equations");
  try {
    const d = await getJSON("/api/derivation");
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
          p.className = "fact"; p.textContent = `▸ ${fact.text}`;
          li.append(p);
        }
        items.push(li);
      }
    }
    list.replaceChildren(...items);
  } catch (err) { list.textContent = err.message; }
}

export function initBackprop() {
  build();
  equations();
  labelSelect.addEventListener("change", () => { chosenLabel = Number(labelSelect.value); update(); });
  unitSelect.addEventListener("change", () => { chosenUnit = unitSelect.value === "" ? null : Number(unitSelect.value); update(); });
  document.getElementById("step").addEventListener("click", step);
  document.getElementById("map-W1").addEventListener("pointermove", (e) => {
    const r = current?.result;
    if (!r) return;
    const rect = e.target.getBoundingClientRect();
    const col = Math.floor((e.clientX - rect.left) / rect.width * 28), row = Math.floor((e.clientY - rect.top) / rect.height * 28);
    if (row < 0 || row > 27 || col < 0 || col > 27) return;
    const k = row * 28 + col, u = r.W1_unit.unit;
    out.textContent = `∂L/∂W1[${k + 1}, ${u}] = x[${k}] · δ1[${u}] = ${fmt(r.input[k])} · ${fmt(r.deltas.delta1.values[u])} = ${fmt(r.W1_unit.values[k])}` +
      `   (pixel row ${row}, column ${col})`;
  });
  on("input", ({ body, result, final }) => {
    if (!final) return;
    current = { body, prediction: result.digit };
    if (state.label !== null) { chosenLabel = state.label; state.label = null; } else chosenLabel = null;
    update();
  });
  on("model", () => { build(); equations(); if (current) update(); });
  on("cleared", () => {
    current = null; latest++;
    document.getElementById("bp-empty").hidden = false;
    document.getElementById("bp-body").hidden = true;
    document.getElementById("loss").textContent = "";
  });
}
