// What the sections share: the network's description, the digit being looked at, and a bus for events
//   "input"   {body, result, final}  a new forward pass (final: the stroke ended, or a picked image)
//   "model"   {model}                the lab's network changed (after training)
//   "cleared" nothing                the pad was cleared
//   "expired" nothing                the learner's session had ended: they have the served model again

export const bus = new EventTarget();
export const state = { model: null, input: null, label: null };   // label: the true label for the next
                                                                    // backward pass (set by Mistakes)

export function emit(type, detail) { bus.dispatchEvent(new CustomEvent(type, { detail })); }
export function on(type, fn) { bus.addEventListener(type, (e) => fn(e.detail)); }

export const SYMBOL = { sigmoid: "σ", tanh: "tanh", relu: "relu", softmax: "softmax" };

// Names of the layers of a network with sizes [n0, …, nL]: H1 … H(L-1) and yhat.
export function layerNames(sizes) {
  const L = sizes.length - 1;
  return Array.from({ length: L }, (_, i) => (i + 1 === L ? "yhat" : `H${i + 1}`));
}

// A number as the server writes it (scratchnet/lab/explain.py `number`): 0.0108, −4.5203, −2.98e−4,
// 1.23e4, with the one minus sign − in the mantissa and the exponent alike.
export function fmt(v, digits = 4) {
  if (v === null || v === undefined) return "–";
  if (v === 0) return "0";
  const text = Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2).replace("e+", "e") : v.toFixed(digits);
  return text.replaceAll("-", "−");
}
