// Section 5, Mistakes: the most confident test-set mistakes; a click loads one into Draw and Backprop.
import { getJSON } from "./api.js";
import { percent } from "./bars.js";
import { grey } from "./colors.js";
import { loadPixels } from "./draw.js";
import { on, state } from "./state.js";

const grid = document.getElementById("mistakes");
const status = document.getElementById("mistakes-status");

async function show() {
  status.textContent = "loading the test set…"; status.classList.remove("error");
  let d;
  try { d = await getJSON("/api/mistakes?n=30"); } catch (err) {
    status.textContent = err.message; status.classList.add("error"); return;
  }
  status.textContent = `${d.n_wrong.toLocaleString()} of ${d.n_test.toLocaleString()} test images are wrong; ` +
    `the ${d.mistakes.length} most confident mistakes:`;
  grid.replaceChildren(...d.mistakes.map((m) => {
    const button = document.createElement("button"), canvas = document.createElement("canvas");
    const caption = document.createElement("span");
    button.type = "button";
    const article = (d) => (d === 8 ? "an" : "a");
    button.title = `test image ${m.index}: ${article(m.label)} ${m.label}, read as ${article(m.digit)} ${m.digit}`;
    canvas.width = canvas.height = 28; canvas.className = "pixelated";
    grey(canvas, m.pixels);
    caption.innerHTML = `${m.label} → <span class="wrong">${m.digit}</span> (${percent(m.confidence)})`;
    button.append(canvas, caption);
    button.addEventListener("click", () => {
      state.label = m.label;                   // Backprop starts from the true label
      loadPixels(m.pixels);
      document.getElementById("sec-draw").scrollIntoView({ behavior: "smooth" });
    });
    return button;
  }));
}

export function initMistakes() {
  document.getElementById("mistakes-load").addEventListener("click", show);
  on("model", () => { if (grid.children.length) show(); });
}
