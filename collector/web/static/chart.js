// Host chart: outbound bytes per window as bars over the baseline band
// (typical..limit, shaded, limit dashed); windows over their limit in red,
// open windows lighter. Plain SVG, no library.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

// humanBytes: 1234567 -> "1.2 MB" (decimal units, as the alerts say).
function humanBytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 || n >= 100 ? Math.round(n) : n.toFixed(n >= 10 ? 0 : 1)) + " " + units[i];
}

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// Value scales: linear from 0, or log10 from 1 kB (so quiet hours and a
// 1 GB upload both stay readable).
function linearScale(max, h) {
  const top = niceCeil(max);
  return { y: (v) => h - (Math.max(0, v) / top) * h, ticks: [0, top / 4, top / 2, (3 * top) / 4, top] };
}

function logScale(max, h) {
  const lo = 3, hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(max, 1e3))));
  const ticks = [];
  for (let e = lo; e <= hi; e++) ticks.push(Math.pow(10, e));
  return { y: (v) => h - ((Math.log10(Math.max(v, 1e3)) - lo) / (hi - lo)) * h, ticks };
}

function niceCeil(v) {
  if (v <= 0) return 1000;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const DAY = 86400e3;

// hostChart returns an <svg> for windows ([{start, bytes_out, typical,
// limit, basis, open}], oldest first) of stepSeconds each.
function hostChart(windows, stepSeconds, opts) {
  const W = 960, H = 320, m = { l: 64, r: 12, t: 12, b: 36 };
  const w = W - m.l - m.r, h = H - m.t - m.b;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "outbound bytes per window against the baseline band" });
  if (!windows.length) {
    svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no windows yet"));
    return svg;
  }
  const step = stepSeconds * 1000;
  const t0 = Date.parse(windows[0].start), t1 = Date.parse(windows[windows.length - 1].start) + step;
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * w;
  // A young host's limit can be astronomically high: scale to what was
  // sent and what is typical, and clip the band at the top.
  const sent = Math.max(...windows.map((d) => Math.max(d.bytes_out, d.typical)));
  const scale = (opts && opts.log ? logScale(sent * 10, h) : linearScale(sent * 1.1, h));
  const y = (v) => m.t + Math.min(h, Math.max(0, scale.y(v)));

  // Byte axis with grid lines.
  const axis = svg.appendChild(svgEl("g", { class: "axis" }));
  for (const v of scale.ticks) {
    axis.appendChild(svgEl("line", { class: "grid", x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    axis.appendChild(svgEl("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end" }, humanBytes(v)));
  }
  // Time axis: a line and label at each UTC midnight (fewer labels when
  // there are many days).
  const days = Math.ceil((t1 - t0) / DAY);
  const every = days > 14 ? 2 : 1;
  for (let d = Math.ceil(t0 / DAY) * DAY, i = 0; d <= t1; d += DAY, i++) {
    axis.appendChild(svgEl("line", { class: "grid", x1: x(d), x2: x(d), y1: m.t, y2: m.t + h }));
    if (i % every === 0 && x(d) < W - m.r - 70) {
      const label = new Date(d).toLocaleDateString("en-GB", { weekday: "short", day: "2-digit", month: "short", timeZone: "UTC" });
      axis.appendChild(svgEl("text", { x: x(d) + 3, y: H - m.b + 16 }, label));
    }
  }
  axis.appendChild(svgEl("line", { x1: m.l, x2: W - m.r, y1: m.t + h, y2: m.t + h, stroke: "#9ca3af" }));

  // Band: the area between typical and limit, as steps per window.
  let top = "", bottom = "";
  windows.forEach((d, i) => {
    const a = x(Date.parse(d.start)), b = a + (w * step) / (t1 - t0);
    top += `${i ? "L" : "M"}${a},${y(d.limit)}L${b},${y(d.limit)}`;
    bottom = `L${b},${y(d.typical)}L${a},${y(d.typical)}` + bottom;
  });
  svg.appendChild(svgEl("path", { class: "band", d: top + bottom + "Z" }));
  svg.appendChild(svgEl("path", { class: "limit", d: top }));

  // Bars.
  const bw = Math.max(1, (w * step) / (t1 - t0) - 1);
  for (const d of windows) {
    const over = d.bytes_out > d.limit;
    const yv = y(d.bytes_out);
    const bar = svgEl("rect", {
      class: "bar" + (over ? " over" : "") + (d.open ? " open" : ""),
      x: x(Date.parse(d.start)), y: yv, width: bw, height: Math.max(0, m.t + h - yv),
    });
    bar.appendChild(svgEl("title", {}, `${d.start.replace("T", " ").replace(":00Z", " UTC")}: ${humanBytes(d.bytes_out)} out` +
      ` (typical ${humanBytes(d.typical)}, limit ${humanBytes(d.limit)}, ${d.basis}${d.open ? ", open" : ""})`));
    svg.appendChild(bar);
  }
  return svg;
}

window.hostChart = hostChart;
window.humanBytes = humanBytes;
