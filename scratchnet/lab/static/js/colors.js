// Colour maps and the pictures drawn with them; the formulas shown beside them. Everywhere on the page:
//   sequential: an activation from 0 (white) to 1 (dark purple);
//   diverging:  negative blue, zero white, positive red, from −max to +max (the scale the caller picks).
// The pictures' formulas come from the server (scratchnet/lab/explain.py) as a template and its fields;
// `formula` only fills them in.

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

// The formula of cell (i, j) of a picture with `cols` columns, from the server's {cell, first_row, fields}:
// {i}, {j}, {k} are the cell's row, column and index (k = i·cols + j); {name} is fields[name].values at
// the field's own index ("i", "j" or "k").
export function formula(explained, i, j, cols) {
  const at = { i, j, k: i * cols + j };
  const template = i === 0 && explained.first_row ? explained.first_row : explained.cell;
  return template.replace(/\{(\w+)\}/g, (whole, key) => {
    if (key in at) return String(at[key]);
    const f = explained.fields[key];
    return f ? f.values[at[f.by]] : whole;
  });
}

// A grid of unit cells in `box`, laid out as the server's picture says (`picture.layout` [rows, cols]),
// labelled by digit or unit number; ONE Tab stop (roving tabindex), arrow keys, Home/End and
// Page Up/Down inside; `describe(k)` is the text shown in `out` on hover and focus, `pick(k)`
// (optional) runs on click, Enter or Space. An output layer's grid (`picture.what` "digit") of classes
// with `names` of their own names each cell in its tooltip, and the classes under the grid: in place of
// the numbers when they are short and in one row, else as a key "0 cat · 1 dog · …" below the numbers.
export function unitGrid(figure, picture, id, names = null) {
  const [rows, cols] = picture.layout;
  const classes = picture.what === "digit" && names && names.length === picture.n
    && names.some((n, k) => n !== String(k)) ? names : null;
  const grid = document.createElement("div");
  grid.className = "cells"; grid.id = id;
  grid.setAttribute("role", "grid");
  grid.style.gridTemplateColumns = `repeat(${cols}, var(--cell))`;
  grid.setAttribute("aria-label", `${picture.quantity.unicode}: ${picture.shape}; arrow keys move between ` +
    `${picture.what !== "digit" ? "units" : classes ? "classes" : "digits"}`);
  for (let r = 0; r < rows; r++) {
    const row = document.createElement("div");
    row.setAttribute("role", "row"); row.className = "cell-row";
    for (let c = 0; c < cols && r * cols + c < picture.n; c++) {
      const cell = document.createElement("div");
      cell.className = "cell"; cell.setAttribute("role", "gridcell");
      cell.dataset.index = r * cols + c;
      cell.tabIndex = r === 0 && c === 0 ? 0 : -1;
      if (classes) cell.title = `${r * cols + c}: ${classes[r * cols + c]}`;
      row.append(cell);
    }
    grid.append(row);
  }
  const wrap = document.createElement("div"), rowLabels = document.createElement("div");
  const colLabels = document.createElement("div"), body = document.createElement("div");
  wrap.className = "grid-wrap"; rowLabels.className = "row-labels"; colLabels.className = "col-labels";
  rowLabels.setAttribute("aria-hidden", "true"); colLabels.setAttribute("aria-hidden", "true");
  colLabels.style.gridTemplateColumns = grid.style.gridTemplateColumns;
  for (const t of picture.row_labels) rowLabels.append(Object.assign(document.createElement("span"), { textContent: t }));
  const inPlace = classes && rows === 1 && classes.every((n) => [...n].length <= 3);
  picture.col_labels.forEach((t, c) => colLabels.append(Object.assign(document.createElement("span"),
    inPlace ? { textContent: classes[c], title: classes[c] } : { textContent: t })));
  colLabels.title = picture.what !== "digit" ? "unit" : classes ? "class" : "digit";
  body.append(grid, colLabels);
  if (classes && !inPlace) {
    const key = document.createElement("p");
    key.className = "class-key"; key.setAttribute("aria-hidden", "true");
    key.append(...classes.map((n, k) => {
      const entry = Object.assign(document.createElement("span"), { className: "entry", title: `${k}: ${n}` });
      entry.append(`${k} `, Object.assign(document.createElement("span"), { className: "name", textContent: n }));
      return entry;
    }));
    body.append(key);
  }
  wrap.append(rowLabels, body);
  figure.append(wrap);
  wire(grid, cols);
  return grid;
}

function cells(grid) { return grid.querySelectorAll(".cell"); }

function wire(grid, cols) {
  const show = (cell) => { if (grid._describe) grid._out.textContent = grid._describe(Number(cell.dataset.index)); };
  const move = (to) => {
    const all = cells(grid), k = Math.max(0, Math.min(all.length - 1, to));
    for (const c of all) c.tabIndex = -1;
    all[k].tabIndex = 0;
    all[k].focus();
  };
  grid.addEventListener("pointerover", (e) => { if (e.target.classList.contains("cell")) show(e.target); });
  grid.addEventListener("focusin", (e) => { if (e.target.classList.contains("cell")) show(e.target); });
  grid.addEventListener("click", (e) => {
    const cell = e.target.closest(".cell");
    if (!cell) return;
    for (const c of cells(grid)) c.tabIndex = -1;
    cell.tabIndex = 0;
    if (grid._pick) grid._pick(Number(cell.dataset.index));
  });
  grid.addEventListener("keydown", (e) => {
    const cell = e.target.closest(".cell");
    if (!cell) return;
    const k = Number(cell.dataset.index), n = cells(grid).length, r = Math.floor(k / cols);
    const to = { ArrowRight: k + 1, ArrowLeft: k - 1, ArrowDown: k + cols, ArrowUp: k - cols,
      Home: e.ctrlKey ? 0 : r * cols, End: e.ctrlKey ? n - 1 : Math.min(n - 1, r * cols + cols - 1),
      PageDown: n - 1 - ((n - 1 - k) % cols), PageUp: k % cols }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      if (e.key === "ArrowDown" && to >= n) return;
      if (e.key === "ArrowUp" && to < 0) return;
      move(to);
    } else if ((e.key === "Enter" || e.key === " ") && grid._pick) {
      e.preventDefault();
      grid._pick(k);
    }
  });
}

// Colour the grid's cells; `describe(k)` gives each cell's text (its first line is its accessible name).
export function paintGrid(grid, values, color, describe, out, pick) {
  grid._describe = describe; grid._out = out; grid._pick = pick;
  cells(grid).forEach((cell, k) => {
    cell.style.background = css(color(values[k]));
    cell.setAttribute("aria-label", describe(k).split("\n")[0]);
  });
}

// A heat map of a (rows × cols) matrix, given row by row, on `canvas`, each cell cw × ch CSS pixels, on the
// diverging map from −max to +max; when `biasRow`, a black line separates row 0 (the bias row) from the rest.
export function heatmap(canvas, rows, cols, values, max, cw, ch, biasRow) {
  const ratio = window.devicePixelRatio || 1, gap = biasRow ? 3 : 0;
  canvas.style.width = `${cols * cw}px`;
  canvas.style.height = `${rows * ch + gap}px`;
  canvas.width = Math.round(cols * cw * ratio);
  canvas.height = Math.round((rows * ch + gap) * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ctx.fillStyle = css(diverging(values[r * cols + c], max));
      ctx.fillRect(c * cw, r * ch + (r > 0 ? gap : 0), cw, ch);
    }
  }
  if (biasRow) { ctx.fillStyle = "#000"; ctx.fillRect(0, ch, cols * cw, gap); }
  canvas._geometry = { rows, cols, cw, ch, gap };
}

// The cell (row, col) under a pointer event on a heat map or a picture, or null.
export function cellAt(canvas, event) {
  const g = canvas._geometry;
  if (!g) return null;
  const rect = canvas.getBoundingClientRect();
  const x = (event.clientX - rect.left) * g.cols * g.cw / rect.width;
  const y = (event.clientY - rect.top) * (g.rows * g.ch + g.gap) / rect.height;
  const col = Math.floor(x / g.cw);
  const row = y < g.ch ? 0 : Math.floor((y - g.gap) / g.ch);
  if (col < 0 || col >= g.cols || row < 0 || row >= g.rows) return null;
  return { row, col };
}

// A heat map or picture as ONE Tab stop: arrow keys move a cursor cell (outlined), whose text
// `describe(row, col)` is shown in `out`; pointing shows it too.
export function explore(canvas, out) {
  if (canvas._explore) return;
  canvas._explore = { row: 0, col: 0 };
  canvas.tabIndex = 0;
  const frame = canvas.parentElement;
  frame.classList.add("explorable");
  const cursor = document.createElement("div");
  cursor.className = "cursor"; cursor.hidden = true;
  frame.append(cursor);
  const show = (row, col) => {
    const g = canvas._geometry;
    if (!g || !canvas._describe) return;
    canvas._explore = { row, col };
    out.textContent = canvas._describe(row, col);
    const sx = canvas.clientWidth / (g.cols * g.cw), sy = canvas.clientHeight / (g.rows * g.ch + g.gap);
    cursor.style.left = `${canvas.offsetLeft + col * g.cw * sx}px`;
    cursor.style.top = `${canvas.offsetTop + (row * g.ch + (row > 0 ? g.gap : 0)) * sy}px`;
    cursor.style.width = `${g.cw * sx}px`; cursor.style.height = `${g.ch * sy}px`;
    cursor.hidden = false;
  };
  canvas.addEventListener("pointermove", (e) => { const c = cellAt(canvas, e); if (c) show(c.row, c.col); });
  canvas.addEventListener("pointerleave", () => { if (document.activeElement !== canvas) cursor.hidden = true; });
  canvas.addEventListener("focus", () => show(canvas._explore.row, canvas._explore.col));
  canvas.addEventListener("blur", () => { cursor.hidden = true; });
  canvas.addEventListener("keydown", (e) => {
    const g = canvas._geometry;
    if (!g) return;
    let { row, col } = canvas._explore;
    const step = e.shiftKey ? 10 : 1;
    if (e.key === "ArrowRight") col += step; else if (e.key === "ArrowLeft") col -= step;
    else if (e.key === "ArrowDown") row += step; else if (e.key === "ArrowUp") row -= step;
    else if (e.key === "Home") col = 0; else if (e.key === "End") col = g.cols - 1;
    else if (e.key === "PageUp") row = 0; else if (e.key === "PageDown") row = g.rows - 1;
    else return;
    e.preventDefault();
    show(Math.max(0, Math.min(g.rows - 1, row)), Math.max(0, Math.min(g.cols - 1, col)));
  });
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

// A side × side picture of signed values on the diverging map from −max to +max.
export function divergingPicture(canvas, values, max, side = 28) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  values.forEach((v, i) => img.data.set([...diverging(v, max), 255], i * 4));
  ctx.putImageData(img, 0, 0);
  canvas._geometry = { rows: side, cols: side, cw: 1, ch: 1, gap: 0 };
}

// "−1.000 ▭ 1.000 · largest |δ₁|: 0.019": a diverging picture's colour bar (the scale it is drawn on,
// `shown`, as the server wrote it) and its own largest |value| (`own`), always visible.
export function scale(box, shown, own, name) {
  const lo = document.createElement("span"), ramp = document.createElement("span"), hi = document.createElement("span");
  const mine = document.createElement("span");
  lo.textContent = shown === "0" ? "0" : `−${shown}`; hi.textContent = shown;
  ramp.className = "ramp diverging";
  mine.className = "own"; mine.textContent = `largest |${name}|: ${own}`;
  box.replaceChildren(lo, ramp, hi, mine);
  box.dataset.scale = shown;
}
