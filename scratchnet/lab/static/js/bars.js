// Probability bars: ten rows "digit ▭ value"; the highlighted digit in the accent colour.

// A probability as the page writes it everywhere (Draw, the bars, the mistakes): one decimal, "99.5 %".
export function percent(p) { return `${(100 * p).toFixed(1)} %`; }

export function bars(box, probabilities, top) {
  box.replaceChildren(...probabilities.flatMap((p, k) => {
    const digit = document.createElement("span"), track = document.createElement("span");
    const bar = document.createElement("span"), value = document.createElement("span");
    digit.className = "digit"; digit.textContent = k;
    track.className = "track"; bar.className = k === top ? "bar top" : "bar";
    bar.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(bar);
    value.className = "value"; value.textContent = percent(p);
    return [digit, track, value];
  }));
}

// Before and after one step: two thin bars per digit.
export function barsBeforeAfter(box, before, after) {
  box.replaceChildren(...before.flatMap((p, k) => {
    const digit = document.createElement("span"), track = document.createElement("span");
    const b = document.createElement("span"), a = document.createElement("span"), value = document.createElement("span");
    digit.className = "digit"; digit.textContent = k;
    track.className = "track"; b.className = "bar before"; a.className = "bar after";
    b.style.width = `${(100 * p).toFixed(1)}%`; a.style.width = `${(100 * after[k]).toFixed(1)}%`;
    track.append(b, a);
    value.className = "value"; value.textContent = `${(100 * p).toFixed(0)}→${(100 * after[k]).toFixed(0)} %`;
    return [digit, track, value];
  }));
}
