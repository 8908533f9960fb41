// Probability bars: one row per class "name ▭ value"; the highlighted class in the accent colour.
// Classes are named as the server names them (/api/model's "class_names": MNIST's digits, Fashion-MNIST's
// clothes, the folder names of `train --data`, the names given to `import`); a long name is cut short
// with "…" and shown whole in its tooltip.
import { state } from "./state.js";

// A probability as the page writes it everywhere (Draw, the bars, the mistakes): one decimal, "99.5 %".
export function percent(p) { return `${(100 * p).toFixed(1)} %`; }

// The names of the K classes of the learner's network ("0" … "K-1" when the server gave none).
export function classNames(K) {
  const names = state.model?.class_names;
  return Array.isArray(names) && names.length === K ? names : Array.from({ length: K }, (_, k) => String(k));
}

// Whether the classes have names of their own (not just their numbers, as MNIST's digits).
export function named(names) { return names.some((n, k) => n !== String(k)); }

// A span holding a class name, cut short by the page's CSS (.name) when long; its tooltip the whole name.
export function nameSpan(name, className = "name") {
  return Object.assign(document.createElement("span"), { className, textContent: name, title: name });
}

function label(name) {
  return nameSpan(name, "digit name");
}

export function bars(box, probabilities, top, names = classNames(probabilities.length)) {
  box.classList.toggle("named", named(names));
  box.replaceChildren(...probabilities.flatMap((p, k) => {
    const track = document.createElement("span");
    const bar = document.createElement("span"), value = document.createElement("span");
    track.className = "track"; bar.className = k === top ? "bar top" : "bar";
    bar.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(bar);
    value.className = "value"; value.textContent = percent(p);
    return [label(names[k]), track, value];
  }));
}

// Before and after one step: two thin bars per class.
export function barsBeforeAfter(box, before, after, names = classNames(before.length)) {
  box.classList.toggle("named", named(names));
  box.replaceChildren(...before.flatMap((p, k) => {
    const track = document.createElement("span");
    const b = document.createElement("span"), a = document.createElement("span"), value = document.createElement("span");
    track.className = "track"; b.className = "bar before"; a.className = "bar after";
    b.style.width = `${(100 * p).toFixed(1)}%`; a.style.width = `${(100 * after[k]).toFixed(1)}%`;
    track.append(b, a);
    value.className = "value"; value.textContent = `${(100 * p).toFixed(0)}→${(100 * after[k]).toFixed(0)} %`;
    return [label(names[k]), track, value];
  }));
}
