// The page: read the network's description and its pictures and equations (/api/derivation), then start
// each section (one module per section).
import { getJSON } from "./api.js";
import { initBackprop, setNetwork as backpropNetwork } from "./backprop.js";
import { initCheck } from "./check.js";
import { initDraw, setNetwork as drawNetwork } from "./draw.js";
import { initMistakes } from "./mistakes.js";
import { emit, on, state } from "./state.js";
import { initTrain } from "./train.js";

// The learner's session had ended (idle too long, or the lab restarted): say so, and show the served
// model they have again.
function expired() {
  const note = document.getElementById("session-note"), text = document.getElementById("session-text");
  const idle = state.model?.session?.idle_seconds;
  const after = idle ? `no request from this page for ${Math.round(idle / 60)} minutes, or the lab was restarted`
    : "the lab was restarted, or this page was idle too long";
  text.textContent = `Your lab session had ended (${after}), so you are starting again from the served model. ` +
    "A network you had trained here is gone from the lab, unless you saved it.";
  note.hidden = false;
}

// The page's words are a digit network's (MNIST); for a network of other classes (your own data, an
// imported one), every element with data-classes takes the words it holds instead, and back again.
const DIGITS = "0,1,2,3,4,5,6,7,8,9";
function wording(model) {
  const digits = (model.class_names || []).join(",") === DIGITS;
  for (const el of document.querySelectorAll("[data-classes]")) {
    if (!("digits" in el.dataset)) el.dataset.digits = el.textContent;
    el.textContent = digits ? el.dataset.digits : el.dataset.classes;
  }
}

function describe(model) {
  wording(model);
  const where = model.source;
  const acc = model.test_accuracy ? `, test accuracy ${(100 * model.test_accuracy).toFixed(2)} %` : "";
  document.getElementById("model-info").textContent = `${model.architecture} · ${where}${acc}`;
}

// What the pictures and equations of this network are; the sections rebuild from it.
let asked = 0;
async function network() {
  const mine = ++asked;
  const d = await getJSON("/api/derivation");
  if (mine !== asked) return null;              // a newer network came meanwhile
  drawNetwork(d.pictures);
  backpropNetwork(d);
  return d;
}

async function main() {
  state.model = await getJSON("/api/model");
  describe(state.model);
  if (state.model.session.expired) expired();
  document.getElementById("session-ok").addEventListener("click", () => { document.getElementById("session-note").hidden = true; });
  on("expired", async () => { expired(); emit("model", { model: await getJSON("/api/model") }); });
  on("model", ({ model }) => { state.model = model; describe(model); network(); });
  initDraw();
  initBackprop();
  const d = await network();
  initCheck(d.pictures);
  initMistakes();
  await initTrain(state.model);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  document.getElementById("model-info").textContent = `the lab could not start: ${err.message}`;
});
