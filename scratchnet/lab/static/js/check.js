// Section 3, Check your formula: the same engine and words as `scratchnet check`, as the user types.
import { ApiError, postJSON } from "./api.js";

const DEBOUNCE_MS = 300;
const SEED_FORMULA = "[1 H1]^T (yhat - y) W3^T H2(1-H2)";   // the seed's answer, in the plain language
const box = document.getElementById("formula");
const kind = document.getElementById("check-kind");      // a gradient ∂L/∂… or one link's Jacobian
const wrt = document.getElementById("wrt");
const factor = document.getElementById("factor");
const bias = document.getElementById("bias");
const convention = document.getElementById("convention");
const batch = document.getElementById("batch");
const verdict = document.getElementById("verdict");
let timer = null, ticket = 0;
// What z is in each convention and bias notation (the words of the convention picker).
const LAYER = { row: { row: "z = [1 H] W", separate: "z = H W + b" },
                column: { row: "z = W [1; H]", separate: "z = W H + b" } };

function text(id, value) { document.getElementById(id).textContent = value ?? ""; }

function list(id, items, html = false) {
  document.getElementById(id).replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    if (html) li.innerHTML = item; else li.textContent = item;
    return li;
  }));
}

function clear() {
  verdict.textContent = "–"; verdict.className = "verdict";
  list("diagnoses", []); list("hints", []); text("check-message", "");
  document.getElementById("trace").hidden = true;
  document.getElementById("failure").hidden = true;
  document.getElementById("check-derivation").replaceChildren();
  document.getElementById("formula-math").replaceChildren();
  document.getElementById("jacobian-note").hidden = true;
}

function trace(rows) {
  const table = document.getElementById("trace");
  table.hidden = !rows || rows.length === 0;
  if (table.hidden) return;
  table.tBodies[0].replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of [row.text, Array.isArray(row.shape) ? row.shape.join("×") : (row.shape ?? "–"), row.note ?? ""]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
}

async function run() {
  const formula = box.value.trim();
  const mine = ++ticket;
  if (!formula) { clear(); return; }
  const asFactor = kind.value === "factor";
  const request = { formula, bias: bias.value, convention: convention.value,
                    ...(asFactor ? { factor: factor.value, batch: 1 } : { wrt: wrt.value, batch: Number(batch.value) || 1 }) };
  let result;
  try {
    result = await postJSON("/api/check", request);
  } catch (err) {
    if (mine !== ticket) return;
    clear();
    const unread = err instanceof ApiError && err.status === 422 && Number.isInteger(err.data?.start);
    verdict.textContent = unread ? "cannot read it" : err instanceof ApiError && err.status === 422 ? "not checked" : "error";
    verdict.className = "verdict error";
    const message = document.getElementById("check-message");
    message.textContent = err.message;
    if (Number.isInteger(err.data?.start)) {          // a caret under the part it could not read
      const pre = document.createElement("pre"), end = Math.max(err.data.end, err.data.start + 1);
      pre.className = "pointer";
      pre.textContent = `${formula}\n${" ".repeat(err.data.start)}${"^".repeat(end - err.data.start)}`;
      message.append(pre);
    }
    return;
  }
  if (mine !== ticket) return;
  verdict.textContent = result.verdict;
  verdict.className = `verdict ${result.verdict}`;
  list("diagnoses", result.diagnoses);
  text("check-message", result.message);
  trace(result.trace);
  const failure = document.getElementById("failure");
  failure.hidden = !result.failure;
  failure.textContent = result.failure ? `✗ ${result.failure.text}: ${result.failure.message}` : "";
  const note = document.getElementById("jacobian-note");
  note.hidden = !result.jacobian_note_html;
  note.innerHTML = result.jacobian_note_html ?? "";          // the server's HTML, as the hints
  list("hints", (result.hints_html || []).map((h) => `Hint: ${h}`), true);   // the server's HTML: subscripts, ᵀ, σ′
  const wanted = [formula];
  if (result.verdict !== "correct" && result.derivation) wanted.push(result.derivation);
  if (result.corrected) wanted.push(result.corrected);
  let math = [];
  try { math = (await postJSON("/api/render", { formulas: wanted })).mathml; } catch { /* math is a bonus */ }
  if (mine !== ticket) return;
  const lhs = asFactor ? asked() : `∂L/∂${spelled(result.wrt)}`;
  document.getElementById("formula-math").innerHTML = math[0] ? `${lhs} = ${math[0]}` : "";
  const parts = [];
  if (result.verdict !== "correct" && math[1]) parts.push(`<p>The derivation gives: ${lhs} = ${math[1]}</p>`);
  if (result.corrected && math[wanted.length - 1]) parts.push(`<p>Repaired, your formula reads: ${math[wanted.length - 1]}</p>`);
  document.getElementById("check-derivation").innerHTML = parts.join("");
}

function later() { clearTimeout(timer); timer = setTimeout(run, DEBOUNCE_MS); }

let targets = [], biasTargets = [], links = [];

function spelled(name) {
  const q = [...targets, ...biasTargets].find((t) => t.formula === name);
  return q ? q.unicode : name;
}

// What is being asked for, as the server spells it: ∂L/∂W₂, ∂L/∂b₂ or a link such as ∂z₃/∂H₂.
function asked() {
  if (kind.value === "factor") return links.find((d) => d.formula === factor.value)?.unicode ?? factor.value;
  return `∂L/∂${spelled(wrt.value)}`;
}

function options(select, items, wanted) {
  const keep = select.value;
  select.replaceChildren(...items.map((q) => {
    const o = document.createElement("option"); o.value = q.formula; o.textContent = q.unicode; return o;
  }));
  const pick = [keep, wanted, items[0]?.formula].find((v) => items.some((q) => q.formula === v));
  if (pick !== undefined) select.value = pick;
}

// The pickers follow the bias notation: b1…bL (and the links ∂z_l/∂b_l) only with separate biases;
// the convention picker says what z is. The box's placeholder names what is asked for, and answers nothing.
function update() {
  const separate = bias.value === "separate";
  const W = targets.filter((q) => q.kind === "W");
  options(wrt, separate ? [...W, ...biasTargets, ...targets.filter((q) => q.kind !== "W")] : targets, "W2");
  options(factor, links.filter((d) => separate || d.by.kind !== "b"), "dz3/dH2");
  for (const o of convention.options) o.textContent = `${o.value}: ${LAYER[o.value][bias.value]}`;
  const asFactor = kind.value === "factor";
  document.getElementById("wrt-label").hidden = asFactor;
  document.getElementById("factor-label").hidden = !asFactor;
  batch.disabled = asFactor;                               // a link's Jacobian is checked for one example
  document.getElementById("batch-label").title = asFactor ? "a link's Jacobian is checked for one example (B = 1)" : "";
  const names = separate ? "H1, W3, b3, yhat, y, …" : "H1, W3, yhat, y, …";
  box.placeholder = `your formula for ${asked()}, in the names ${names} (plain or LaTeX)`;
}

// `pictures`: the server's description of the network: `targets`, what a gradient may be taken with
// respect to (W3 … H1), `bias_targets` (b3 … b1) and `links`, the Jacobians of one link, as it spells them.
export function initCheck(pictures) {
  targets = pictures.targets;
  biasTargets = pictures.bias_targets || [];
  links = pictures.links || [];
  update();
  box.addEventListener("input", later);
  for (const el of [kind, wrt, factor, bias, convention, batch]) el.addEventListener("change", () => { update(); run(); });
  document.getElementById("seed-formula").addEventListener("click", () => {
    kind.value = "gradient"; bias.value = "row"; convention.value = "row"; batch.value = 1;
    update(); wrt.value = "W2"; update();
    box.value = SEED_FORMULA; run();
  });
}
