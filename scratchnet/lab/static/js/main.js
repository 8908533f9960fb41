// The page: read the network's description, then start each section (one module per section).
import { getJSON } from "./api.js";
import { initBackprop } from "./backprop.js";
import { initCheck } from "./check.js";
import { initDraw } from "./draw.js";
import { initMistakes } from "./mistakes.js";
import { on, state } from "./state.js";
import { initTrain } from "./train.js";

function describe(model) {
  const where = model.source;
  const acc = model.test_accuracy ? `, test accuracy ${(100 * model.test_accuracy).toFixed(2)} %` : "";
  document.getElementById("model-info").textContent = `${model.architecture} · ${where}${acc}`;
}

async function main() {
  state.model = await getJSON("/api/model");
  describe(state.model);
  on("model", ({ model }) => { state.model = model; describe(model); });   // first: the sections read state.model
  initDraw();
  initBackprop();
  initCheck();
  initMistakes();
  await initTrain(state.model);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  document.getElementById("model-info").textContent = `the lab could not start: ${err.message}`;
});
