// Colour maps and the small drawings built from them. Everywhere on the page:
//   sequential: an activation from 0 (white) to 1 (dark purple);
//   diverging:  negative blue, zero white, positive red, scaled to the largest |value| shown.

const SEQ = [[255, 255, 255], [185, 154, 214], [63, 29, 107]];
const NEG = [33, 102, 172], POS = [178, 24, 43], WHITE = [255, 255, 255];

function mix(a, b, t) { return a.map((v, i) => Math.round(v + (b[i] - v) * t)); }

export function sequential(v) {
  const t = Math.min(1, Math.max(0, v));
  return t < 0.5 ? mix(SEQ[0], SEQ[1], t * 2) : mix(SEQ[1], SEQ[2], (t - 0.5) * 2);
}

export function diverging(v, max) {
  const t = max > 0 ? Math.max(-1, Math.min(1, v / max)) : 0;
  return t < 0 ? mix(WHITE, NEG, -t) : mix(WHITE, POS, t);
}

export const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
export const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

// A grid of focusable cells in `box`, one per value; `describe(i)` gives the text shown on hover/focus
// in `out`; `pick(i)` (optional) runs on click or Enter.
export function paintCells(box, values, color, describe, out, pick) {
  if (box.children.length !== values.length) {
    box.replaceChildren(...values.map((_, i) => {
      const cell = document.createElement("div");
      cell.className = "cell";
      cell.tabIndex = 0;
      cell.dataset.index = i;
      return cell;
    }));
  }
  if (!box._wired) {
    const show = (e) => {
      const i = e.target.dataset?.index;
      if (i !== undefined) out.textContent = box._describe(Number(i));
    };
    const choose = (e) => { const i = e.target.dataset?.index; if (i !== undefined && box._pick) box._pick(Number(i)); };
    box.addEventListener("pointerover", show);
    box.addEventListener("focusin", show);
    box.addEventListener("click", choose);
    box.addEventListener("keydown", (e) => { if (e.key === "Enter") choose(e); });
    box._wired = true;
  }
  box._describe = describe;
  box._pick = pick;
  values.forEach((v, i) => {
    const cell = box.children[i];
    cell.style.background = css(color(v));
    cell.setAttribute("aria-label", describe(i).split("\n")[0]);
  });
}

// A heat map of a (rows × cols) matrix, given row by row, on `canvas`, each cell cw × ch CSS pixels;
// when `biasRow`, a black line separates row 0 (the bias row) from the rest. Returns max |value|.
export function heatmap(canvas, rows, cols, values, cw, ch, biasRow) {
  const ratio = window.devicePixelRatio || 1, gap = biasRow ? 3 : 0;
  canvas.style.width = `${cols * cw}px`;
  canvas.style.height = `${rows * ch + gap}px`;
  canvas.width = Math.round(cols * cw * ratio);
  canvas.height = Math.round((rows * ch + gap) * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const max = maxAbs(values);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ctx.fillStyle = css(diverging(values[r * cols + c], max));
      ctx.fillRect(c * cw, r * ch + (r > 0 ? gap : 0), cw, ch);
    }
  }
  if (biasRow) { ctx.fillStyle = "#000"; ctx.fillRect(0, ch, cols * cw, gap); }
  canvas._geometry = { rows, cols, cw, ch, gap };
  return max;
}

// The cell (row, col) under a pointer event on a heat map, or null.
export function cellAt(canvas, event) {
  const g = canvas._geometry;
  if (!g) return null;
  const rect = canvas.getBoundingClientRect();
  const x = event.clientX - rect.left, y = event.clientY - rect.top;
  const col = Math.floor(x / g.cw);
  const row = y < g.ch ? 0 : Math.floor((y - g.gap) / g.ch);
  if (col < 0 || col >= g.cols || row < 0 || row >= g.rows) return null;
  return { row, col };
}

// A 28×28 (side × side) picture of values in [0, 1] (bright = 1) on a canvas of that size.
export function grey(canvas, values, side = 28, invert = false) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  values.forEach((v, i) => {
    const g = Math.round(255 * (invert ? 1 - v : v));
    img.data.set([g, g, g, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
}

// A side × side picture of signed values on a diverging map (its own scale); returns max |value|.
export function divergingPicture(canvas, values, side = 28) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  const max = maxAbs(values);
  values.forEach((v, i) => img.data.set([...diverging(v, max), 255], i * 4));
  ctx.putImageData(img, 0, 0);
  return max;
}

// "−max ▭ +max": the scale of a diverging picture.
export function scale(box, max, fmt) {
  box.innerHTML = "";
  const lo = document.createElement("span"), ramp = document.createElement("span"), hi = document.createElement("span");
  lo.textContent = fmt(-max); hi.textContent = fmt(max);
  ramp.className = "ramp diverging";
  box.append(lo, ramp, hi);
}
