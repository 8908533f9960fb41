// Section 5, Mistakes: the most confident test-set mistakes; a click loads one into Draw and Backprop.
import { getJSON } from "./api.js";
import { named, nameSpan, percent } from "./bars.js";
import { grey } from "./colors.js";
import { loadPixels } from "./draw.js";
import { on, state } from "./state.js";

const grid = document.getElementById("mistakes");
const status = document.getElementById("mistakes-status");

// "a" or "an" before a class name as it is said: "an 8", "an 11", "an apple", "an umbrella", "an hour",
// "an f", but "a 7", "a unicorn", "a one", "a European", "a u".
export function article(name) {
  const s = String(name).trim().toLowerCase();
  if (/^\d/.test(s)) return /^(8|1[18](\D|$)|1[18]\d{3}(\D|$)|1[18]\d{6}(\D|$))/.test(s) ? "an" : "a";
  if (/^[a-z]$/.test(s) || /^[a-z][^a-z]/.test(s)) return "aefhilmnorsx".includes(s[0]) ? "an" : "a";
  if (/^(hour|honest|honou?r|heir)/.test(s)) return "an";
  if (/^(uni|use|usu|ura|ure|uro|uti|eu|ewe|one\b|once)/.test(s)) return "a";
  return "aeiou".includes(s[0]) ? "an" : "a";
}

async function show() {
  status.textContent = "loading the test set…"; status.classList.remove("error");
  let d;
  try { d = await getJSON("/api/mistakes?n=30"); } catch (err) {
    status.textContent = err.message; status.classList.add("error"); return;
  }
  status.textContent = `${d.n_wrong.toLocaleString()} of ${d.n_test.toLocaleString()} test images are wrong; ` +
    `the ${d.mistakes.length} most confident mistakes:`;
  grid.classList.toggle("named", named(d.class_names));      // names of their own: a caption may wrap
  grid.replaceChildren(...d.mistakes.map((m) => {
    const button = document.createElement("button"), canvas = document.createElement("canvas");
    const caption = document.createElement("span");
    button.type = "button";
    const truth = m.label_name, read = m.class;         // the classes' names (the digits, for MNIST)
    button.title = `test image ${m.index}: ${article(truth)} ${truth}, read as ${article(read)} ${read}`;
    canvas.width = canvas.height = 28; canvas.className = "pixelated";
    grey(canvas, m.pixels);
    caption.className = "caption";
    caption.append(nameSpan(truth), " → ", nameSpan(read, "name wrong"), ` (${percent(m.confidence)})`);
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
