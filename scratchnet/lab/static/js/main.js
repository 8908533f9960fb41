// The page: read the network's description and its pictures and equations (/api/derivation), then start
// each section (one module per section).
import { getJSON } from "./api.js";
import { initBackprop, setNetwork as backpropNetwork } from "./backprop.js";
import { initCheck } from "./check.js";
import { initDraw, setNetwork as drawNetwork } from "./draw.js";
import { initMistakes } from "./mistakes.js";
import { on, state } from "./state.js";
import { initTrain } from "./train.js";

function describe(model) {
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
  on("model", ({ model }) => { state.model = model; describe(model); network(); });
  initDraw();
  initBackprop();
  const d = await network();
  initCheck(d.pictures.targets);
  initMistakes();
  await initTrain(state.model);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  document.getElementById("model-info").textContent = `the lab could not start: ${err.message}`;
});
