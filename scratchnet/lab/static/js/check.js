// Section 3, Check your formula: the same engine and words as `scratchnet check`, as the user types.
import { ApiError, postJSON } from "./api.js";

const DEBOUNCE_MS = 300;
const SEED_FORMULA = "[1 H1]^T (yhat - y) W3^T H2(1-H2)";   // the seed's answer, in the plain language
const box = document.getElementById("formula");
const wrt = document.getElementById("wrt");
const convention = document.getElementById("convention");
const batch = document.getElementById("batch");
const verdict = document.getElementById("verdict");
let timer = null, ticket = 0;

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
  const request = { formula, wrt: wrt.value, convention: convention.value, batch: Number(batch.value) || 1 };
  let result;
  try {
    result = await postJSON("/api/check", request);
  } catch (err) {
    if (mine !== ticket) return;
    clear();
    verdict.textContent = err instanceof ApiError && err.status === 422 ? "cannot read it" : "error";
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
  list("hints", (result.hints_html || []).map((h) => `Hint: ${h}`), true);   // the server's HTML: subscripts, ᵀ, σ′
  const wanted = [formula];
  if (result.verdict !== "correct" && result.derivation) wanted.push(result.derivation);
  if (result.corrected) wanted.push(result.corrected);
  let math = [];
  try { math = (await postJSON("/api/render", { formulas: wanted })).mathml; } catch { /* math is a bonus */ }
  if (mine !== ticket) return;
  const q = targets.find((t) => t.formula === result.wrt), lhs = `∂L/∂${q ? q.unicode : result.wrt}`;
  document.getElementById("formula-math").innerHTML = math[0] ? `${lhs} = ${math[0]}` : "";
  const parts = [];
  if (result.verdict !== "correct" && math[1]) parts.push(`<p>The derivation gives: ${lhs} = ${math[1]}</p>`);
  if (result.corrected && math[wanted.length - 1]) parts.push(`<p>Repaired, your formula reads: ${math[wanted.length - 1]}</p>`);
  document.getElementById("check-derivation").innerHTML = parts.join("");
}

function later() { clearTimeout(timer); timer = setTimeout(run, DEBOUNCE_MS); }

// The box's placeholder names what is asked for, and answers nothing.
function placeholder() {
  const q = targets.find((t) => t.formula === wrt.value);
  box.placeholder = `your formula for ∂L/∂${q ? q.unicode : wrt.value}, in the names H1, W3, yhat, y, … (plain or LaTeX)`;
}

let targets = [];

// `quantities`: what a gradient may be taken with respect to (W3 … H1), as the server spells them.
export function initCheck(quantities) {
  targets = quantities;
  wrt.replaceChildren(...targets.map((q) => {
    const o = document.createElement("option"); o.value = q.formula; o.textContent = q.unicode; return o;
  }));
  wrt.value = targets.some((q) => q.formula === "W2") ? "W2" : targets[0].formula;
  placeholder();
  box.addEventListener("input", later);
  wrt.addEventListener("change", placeholder);
  for (const el of [wrt, convention, batch]) el.addEventListener("change", run);
  document.getElementById("seed-formula").addEventListener("click", () => {
    box.value = SEED_FORMULA; wrt.value = "W2"; convention.value = "row"; batch.value = 1; placeholder(); run();
  });
}
