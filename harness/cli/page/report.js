// The report page: draws every section from the JSON payload in #report-data (harness/report/data.py).
// Log text goes into the page with textContent / text nodes only, never as markup.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('report-data').textContent);
  const V = D.versions;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
    '#bcbd22', '#17becf', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2',
    '#c7c7c7', '#dbdb8d', '#9edae5'];
  const MISSING = '\u2014';
  const LABELLED_POINTS = 30;
  const listeners = [];  // called with the run index whenever a version is picked

  // ---- small helpers ----

  function el(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) node.append(kid);
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const isNum = (v) => typeof v === 'number';
  function fmt(v) {
    if (v === null || v === undefined) return MISSING;
    if (isNum(v)) return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  const counts = {};
  V.forEach((v) => { counts[v.version] = (counts[v.version] || 0) + 1; });
  const name = (i) => V[i].version + (counts[V[i].version] > 1 ? ' [' + V[i].where + ']' : '');
  const colour = (i) => COLOURS[i % COLOURS.length];
  function listOf(names, most) {
    return names.length <= most ? names.join(', ') : names.slice(0, most).join(', ') + ' and ' + (names.length - most) + ' more';
  }
  function note(text, warn) { return el('p', { class: warn ? 'note warn' : 'note' }, text); }
  function versionKey(text) {
    return (String(text).match(/\d+|[^\d.]+/g) || []).map((c) => (/^\d+$/.test(c) ? [0, Number(c), ''] : [1, 0, c]));
  }
  function cmpTuple(a, b) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      for (let j = 0; j < 3; j++) if (a[i][j] !== b[i][j]) return a[i][j] < b[i][j] ? -1 : 1;
    }
    return a.length - b.length;
  }
  function kvTable(rows, header) {
    const table = el('table', {});
    if (header) table.append(el('thead', {}, el('tr', {}, header.map((h) => el('th', {}, h)))));
    table.append(el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell) => (cell instanceof Node ? el('td', {}, cell) : el('td', {}, String(cell))))))));
    return table;
  }
  function versionSelect(initial, onchange) {
    const select = el('select', { onchange }, V.map((_, i) => el('option', { value: String(i) }, name(i))));
    select.value = String(initial);
    return select;
  }

  // ---- the comparison table: sort by a header, filter by typing, remarks under their rows ----

  function initTable() {
    const host = document.getElementById('table-body');
    const table = host.querySelector('table');
    if (!table) return;
    const columns = D.table.columns;
    const versionCol = columns.findIndex((c) => c.key === 'version');
    const rows = Array.from(table.tBodies[0].rows);
    const remarkRows = rows.map((tr, i) => {
      tr.dataset.run = String(i);
      const cell = tr.cells[Math.max(versionCol, 0)];
      if (versionCol >= 0) {
        const text = cell.textContent;
        cell.textContent = '';
        cell.append(el('button', { class: 'link', title: 'show this version', onclick: () => pick(i) }, text));
      }
      const remarks = D.table.remarks[i];
      if (!remarks.length) return null;
      tr.classList.add('flagged');
      cell.append(el('span', { class: 'badge', title: remarks.join('\n') }, '\u26A0'));
      const extra = el('tr', { class: 'remarks' }, el('td', { colspan: String(columns.length) }, '\u26A0 ' + remarks.join('; ')));
      tr.after(extra);
      return extra;
    });
    const scroller = el('div', { class: 'scroll' });
    table.replaceWith(scroller);
    scroller.append(table);
    const count = el('span', { class: 'note' });
    const filter = el('input', { type: 'search', placeholder: 'filter rows: type any text', 'aria-label': 'filter rows' });
    host.prepend(el('div', { class: 'controls' }, filter, count));
    const texts = rows.map((tr) => tr.textContent.toLowerCase());
    function applyFilter() {
      const q = filter.value.trim().toLowerCase();
      let shown = 0;
      rows.forEach((tr, i) => {
        const hide = q !== '' && !texts[i].includes(q);
        tr.hidden = hide;
        if (remarkRows[i]) remarkRows[i].hidden = hide;
        if (!hide) shown++;
      });
      count.textContent = shown + ' of ' + rows.length + ' rows';
    }
    filter.addEventListener('input', applyFilter);
    applyFilter();
    const headers = Array.from(table.tHead.rows[0].cells);
    headers.forEach((th, col) => {
      th.title = 'sort';
      th.addEventListener('click', () => {
        const descending = th.getAttribute('aria-sort') === 'ascending';
        headers.forEach((h) => h.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        const order = sortOrder(col, descending);
        const body = table.tBodies[0];
        order.forEach((i) => { body.append(rows[i]); if (remarkRows[i]) body.append(remarkRows[i]); });
      });
    });
  }

  // As `harness table --sort`: unknown cells last whichever the direction; versions in natural order.
  function sortOrder(col, descending) {
    const key = D.table.columns[col].key;
    const raw = D.table.raw.map((row) => row[col]);
    const known = [], unknown = [];
    raw.forEach((v, i) => (v === null || v === '' ? unknown : known).push(i));
    const value = (v) => {
      if (key === 'version' || key === 'parent') return [0, versionKey(v)];
      if (isNum(v)) return [0, v];
      return [1, String(v)];
    };
    known.sort((a, b) => {
      const x = value(raw[a]), y = value(raw[b]);
      let c = x[0] - y[0];
      if (c === 0) c = Array.isArray(x[1]) ? cmpTuple(x[1], y[1]) : (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
      return descending ? -c : c;
    });
    return known.concat(unknown);
  }

  // ---- lineage tree and one version's detail ----

  function initLineage() {
    const host = document.getElementById('lineage-body');
    const tree = el('div', { id: 'tree', class: 'mono' });
    const detail = el('div', { id: 'detail' }, note('Click a version in the tree or the table to see it in full.'));
    host.append(el('div', { class: 'split' }, tree, detail));
    const rowsByRun = {};
    for (const [guide, run, version, rest] of D.tree) {
      const label = run >= 0 ? el('button', { class: 'link', onclick: () => pick(run) }, version) : el('span', {}, version);
      const row = el('div', { class: 'row' }, guide, label, rest);
      if (run >= 0) { row.dataset.run = String(run); rowsByRun[run] = row; }
      tree.append(row);
    }
    listeners.push((i) => {
      tree.querySelectorAll('.row.selected').forEach((r) => r.classList.remove('selected'));
      if (rowsByRun[i]) rowsByRun[i].classList.add('selected');
      showDetail(detail, i);
    });
  }

  function showDetail(host, i) {
    host.textContent = '';
    const parent = V.findIndex((v, j) => j !== i && v.version === V[i].parent);
    const actions = el('div', { class: 'controls' },
      el('button', { onclick: () => setDiff(i, null) }, 'diff: use as A'),
      el('button', { onclick: () => setDiff(null, i) }, 'diff: use as B'),
      parent >= 0 ? el('button', { onclick: () => setDiff(parent, i) }, 'diff with parent ' + V[parent].version) : null);
    host.append(el('h3', {}, 'version ' + name(i)), actions);
    for (const [title, kind, rows] of D.details[i]) {
      host.append(el('h3', {}, title));
      host.append(kind === 'kv' ? kvTable(rows) : el('pre', {}, rows.join('\n')));
    }
    const config = configOf(i);
    const keys = Object.keys(config);
    if (keys.length) {
      host.append(el('details', {}, el('summary', {}, 'config (' + keys.length + ' keys, resolved)'),
        kvTable(keys.map((k) => [k, fmt(config[k])]))));
    }
  }

  function pick(i) {
    listeners.forEach((f) => f(i));
    document.getElementById('lineage').scrollIntoView({ block: 'start' });
  }

  // ---- diff: what `harness diff A B` compares (harness/cli/diff.py compare()), for any two versions ----

  function configOf(i) {
    const side = D.diff.sides[i];
    if (!side.hasConfig) return {};
    const out = {};
    for (const k of D.diff.order) {
      if (k in side.config) out[k] = side.config[k];
      else if (k in D.diff.common) out[k] = D.diff.common[k];
    }
    return out;
  }
  function same(x, y) {
    if (isNum(x) && isNum(y)) return x === y;
    return JSON.stringify(x) === JSON.stringify(y);
  }
  function differing(left, right, order) {
    const keys = order || [...new Set([...Object.keys(left), ...Object.keys(right)])];
    const get = (d, k) => (k in d ? d[k] : null);
    return keys.filter((k) => (k in left || k in right) && !same(get(left, k), get(right, k)))
      .map((k) => ({ key: k, a: get(left, k), b: get(right, k) }));
  }
  function whoHas(ia, ib, attr) {
    const a = D.diff.sides[ia].has[attr], b = D.diff.sides[ib].has[attr];
    if (a && !b) return 'only ' + V[ia].version + ' records it';
    if (b && !a) return 'only ' + V[ib].version + ' records it';
    return 'neither records it';
  }
  function metricRows(A, B) {
    const keys = new Set([...A.metricKeys, ...B.metricKeys]);
    const first = D.diff.first.filter((k) => keys.has(k));
    const ordered = first.concat([...keys].filter((k) => !first.includes(k)).sort())
      .concat(D.diff.costs.filter((k) => isNum(A.values[k]) || isNum(B.values[k])));
    return ordered.map((key) => {
      const va = key in A.values ? A.values[key] : null, vb = key in B.values ? B.values[key] : null;
      const direction = D.diff.costs.includes(key) ? null : D.diff.directions[key];
      const row = { metric: key, a: va, b: vb, delta: null, relative: null, better: null, direction };
      if (isNum(va) && isNum(vb)) {
        row.delta = vb - va;
        row.relative = va !== 0 ? (vb - va) / Math.abs(va) : null;
        if (direction && vb !== va) row.better = (direction === 'lower' ? vb < va : vb > va) ? 'b' : 'a';
      }
      return row;
    });
  }
  function compare(ia, ib) {
    const A = D.diff.sides[ia], B = D.diff.sides[ib];
    const head = (i, s) => ({ version: V[i].version, source: s.source, source_kind: s.facts.source_kind, status: s.facts.status });
    const doc = { a: head(ia, A), b: head(ib, B), notes: {} };
    const sections = { run: differing(A.facts, B.facts) };
    if (A.notes !== B.notes) doc.notes = { a: A.notes, b: B.notes };
    const ca = configOf(ia), cb = configOf(ib);
    if (Object.keys(ca).length && Object.keys(cb).length) {
      sections.config = differing(ca, cb);
      doc.config_keys = new Set([...Object.keys(ca), ...Object.keys(cb)]).size;
    } else {
      sections.config = null;
      sections.hyperparameters = differing(A.hyperparameters, B.hyperparameters);
    }
    if (A.environment && B.environment) {
      const known = D.diff.environmentKeys;
      const rest = [...new Set([...Object.keys(A.environment), ...Object.keys(B.environment)])].filter((k) => !known.includes(k)).sort();
      sections.environment = differing(A.environment, B.environment, known.concat(rest));
    } else sections.environment = null;
    sections.data = A.data && B.data ? differing(A.data, B.data) : null;
    doc.sections = sections;
    doc.missing = {};
    for (const attr of ['config', 'environment', 'data']) if (sections[attr] === null) doc.missing[attr] = whoHas(ia, ib, attr);
    doc.metrics = metricRows(A, B);
    return doc;
  }

  const TITLES = { run: 'run', config: 'config', hyperparameters: 'hyper-parameters', environment: 'environment', data: 'data' };
  function renderDiff(host, doc) {
    host.textContent = '';
    const a = doc.a.version, b = doc.b.version;
    host.append(el('h3', {}, 'diff ' + a + ' \u2192 ' + b));
    for (const side of [doc.a, doc.b]) host.append(el('div', { class: 'note' }, side.version + ': ' + side.source + ' (' + side.source_kind + ', ' + (side.status || 'status unknown') + ')'));
    for (const [key, title] of Object.entries(TITLES)) {
      if (!(key in doc.sections)) continue;
      const rows = doc.sections[key];
      if (rows === null) { host.append(el('p', { class: 'note' }, title + ': not compared (' + doc.missing[key] + ')')); continue; }
      if (!rows.length) {
        if (key !== 'run') host.append(el('p', { class: 'note' }, title + ': identical' + (key === 'config' ? ' (' + doc.config_keys + ' keys)' : '')));
        continue;
      }
      const count = key === 'config' ? ' (' + rows.length + ' of ' + doc.config_keys + ' keys differ)' : '';
      host.append(el('h3', {}, title + count), kvTable(rows.map((r) => [r.key, fmt(r.a), fmt(r.b)]), ['key', a, b]));
    }
    if (doc.notes.a !== undefined) host.append(el('h3', {}, 'notes'), kvTable([[a, doc.notes.a || MISSING], [b, doc.notes.b || MISSING]]));
    if (!doc.metrics.length) { host.append(note('metrics: none recorded')); return; }
    const rows = doc.metrics.map((r) => {
      const verdict = r.better === 'b' ? 'better' : r.better === 'a' ? 'worse' : (r.direction && r.delta === 0 ? '=' : '');
      const cls = verdict === 'better' || verdict === 'worse' ? verdict : '';
      const delta = r.delta === null ? '' : (r.delta > 0 ? '+' : '') + fmt(r.delta);
      const rel = r.relative === null ? '' : (r.relative >= 0 ? '+' : '') + (r.relative * 100).toFixed(1) + '%';
      return [r.metric, fmt(r.a), fmt(r.b), el('span', { class: cls }, delta), el('span', { class: cls }, rel), el('span', { class: cls }, verdict)];
    });
    host.append(el('h3', {}, 'metrics'), kvTable(rows, ['metric', a, b, '\u0394', 'rel.', '']));
  }

  let setDiff = () => {};
  function initDiff() {
    const host = document.getElementById('diff-body');
    if (V.length < 2) { host.append(note('One version only: nothing to compare.')); return; }
    const base = V.findIndex((v) => v.version === D.baseline);
    const view = el('div', { id: 'diff-view' });
    const selA = versionSelect(base >= 0 ? base : 0, () => update());
    const selB = versionSelect(base === 1 ? 0 : 1, () => update());
    const swap = el('button', { onclick: () => { const t = selA.value; selA.value = selB.value; selB.value = t; update(); } }, 'swap');
    host.append(el('div', { class: 'controls' }, el('label', {}, 'A ', selA), el('label', {}, 'B ', selB), swap), view);
    function update() {
      if (selA.value === selB.value) { view.textContent = ''; view.append(note('Pick two different versions.')); return; }
      renderDiff(view, compare(Number(selA.value), Number(selB.value)));
    }
    setDiff = (a, b) => {
      if (a !== null) selA.value = String(a);
      if (b !== null) selB.value = String(b);
      update();
      document.getElementById('diff').scrollIntoView({ block: 'start' });
    };
    update();
  }

  // ---- charts: a small SVG line/scatter chart with ticks, log axes and a hover read-out ----

  function ticks(lo, hi, log) {
    if (log) {
      const out = [];
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(Math.pow(10, e));
      return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
    }
    const raw = (hi - lo) / 6 || 1;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
    return out;
  }
  function scale(lo, hi, from, to, log) {
    const f = log ? Math.log10 : (v) => v;
    const a = f(lo), b = f(hi);
    return (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from);
  }
  function extent(values, log) {
    let lo = Math.min(...values), hi = Math.max(...values);
    if (lo === hi && log) { lo /= 2; hi *= 2; } else if (lo === hi) { const pad = Math.abs(lo) * 0.05 || 1; lo -= pad; hi += pad; }
    else if (!log) { const pad = (hi - lo) * 0.04; lo -= pad; hi += pad; }
    return [lo, hi];
  }
  function minMax(values) {  // Math.min(...xs) overflows the stack for very long arrays
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }

  // series: [{run, label, colour, points: [[x, y]], marks: [[x, y]]}]; opts: xLabel, yLabel, logX, logY, line, dots, labels
  function chart(host, series, opts) {
    const W = 960, H = 400, M = { l: 70, r: 20, t: 14, b: 46 };
    const ok = (p) => (!opts.logX || p[0] > 0) && (!opts.logY || p[1] > 0);
    const all = series.flatMap((s) => s.points.concat(s.marks || [])).filter(ok);
    const box = el('div', { class: 'chart' });
    host.append(box);
    if (!all.length) { box.append(note('Nothing to draw for this choice.')); return; }
    const [x0, x1] = extent(minMax(all.map((p) => p[0])), opts.logX);
    const [y0, y1] = extent(minMax(all.map((p) => p[1])), opts.logY);
    const sx = scale(x0, x1, M.l, W - M.r, opts.logX), sy = scale(y0, y1, H - M.b, M.t, opts.logY);
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: String(W), height: String(H), role: 'img' });
    const grid = svg('g', { class: 'grid' }), axis = svg('g', { class: 'axis' });
    for (const t of ticks(x0, x1, opts.logX)) {
      grid.append(svg('line', { x1: sx(t), x2: sx(t), y1: M.t, y2: H - M.b }));
      axis.append(svg('text', { x: sx(t), y: H - M.b + 16, 'text-anchor': 'middle' }, fmt(t)));
    }
    for (const t of ticks(y0, y1, opts.logY)) {
      grid.append(svg('line', { x1: M.l, x2: W - M.r, y1: sy(t), y2: sy(t) }));
      axis.append(svg('text', { x: M.l - 6, y: sy(t) + 4, 'text-anchor': 'end' }, fmt(t)));
    }
    axis.append(svg('path', { d: 'M' + M.l + ' ' + M.t + 'V' + (H - M.b) + 'H' + (W - M.r), fill: 'none' }));
    axis.append(svg('text', { x: (M.l + W - M.r) / 2, y: H - 8, 'text-anchor': 'middle' }, opts.xLabel + (opts.logX ? ' (log scale)' : '')));
    axis.append(svg('text', { x: 14, y: (M.t + H - M.b) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 14 ' + (M.t + H - M.b) / 2 + ')' }, opts.yLabel + (opts.logY ? ' (log scale)' : '')));
    root.append(grid, axis);
    const hits = [];  // [screen x, screen y, series, point]
    for (const s of series) {
      const pts = s.points.filter(ok);
      const g = svg('g', { class: 'series', 'data-run': String(s.run) });
      if (opts.line && pts.length > 1) {
        g.append(svg('path', { class: 'curve', d: 'M' + pts.map((p) => sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1)).join('L'),
          fill: 'none', stroke: s.colour, 'stroke-width': '1.6', 'stroke-opacity': opts.dots ? '0.45' : '1' }));
      }
      const dots = opts.dots || pts.length < 3 ? pts : [];
      for (const p of dots) g.append(svg('circle', { class: 'dot', cx: sx(p[0]), cy: sy(p[1]), r: '3.5', fill: s.colour }));
      for (const p of (s.marks || []).filter(ok)) {
        g.append(svg('circle', { class: 'mark', cx: sx(p[0]), cy: sy(p[1]), r: '5', fill: s.colour, stroke: '#000', 'stroke-width': '0.6' }));
        hits.push([sx(p[0]), sy(p[1]), s, p, opts.markLabel]);
      }
      if (opts.labels && pts.length <= LABELLED_POINTS) {
        for (const p of pts) {
          const right = sx(p[0]) > W - 100;  // near the right edge: the label goes to the left of its point
          g.append(svg('text', { x: sx(p[0]) + (right ? -6 : 6), y: sy(p[1]) - 6, 'text-anchor': right ? 'end' : 'start' }, p[2]));
        }
      }
      pts.forEach((p) => hits.push([sx(p[0]), sy(p[1]), s, p, opts.yLabel]));
      root.append(g);
    }
    box.append(root);
    hover(box, root, hits, W, opts.xLabel);
  }

  function hover(box, root, hits, W, xLabel) {
    const tip = el('div', { class: 'tooltip' });
    const ring = svg('circle', { r: '6', fill: 'none', stroke: '#000', 'stroke-width': '1.5', visibility: 'hidden' });
    root.append(ring);
    box.append(tip);
    root.addEventListener('mousemove', (event) => {
      const rect = root.getBoundingClientRect();
      const k = W / rect.width;
      const mx = (event.clientX - rect.left) * k, my = (event.clientY - rect.top) * k;
      let best = null, bestD = 30 * 30;
      for (const h of hits) {
        const d = (h[0] - mx) ** 2 + (h[1] - my) ** 2;
        if (d < bestD) { bestD = d; best = h; }
      }
      if (!best) { tip.style.display = 'none'; ring.setAttribute('visibility', 'hidden'); return; }
      ring.setAttribute('cx', best[0]); ring.setAttribute('cy', best[1]); ring.setAttribute('visibility', 'visible');
      tip.textContent = best[2].label + '\n' + xLabel + ' = ' + fmt(best[3][0]) + '\n' + best[4] + ' = ' + fmt(best[3][1]);
      tip.style.display = 'block';
      tip.style.left = (best[0] / k + 12) + 'px';
      tip.style.top = (best[1] / k + 12) + 'px';
    });
    root.addEventListener('mouseleave', () => { tip.style.display = 'none'; ring.setAttribute('visibility', 'hidden'); });
  }

  function labelled(text, control) { return el('label', {}, text + ' ', control); }
  function selectOf(values, initial) {
    const select = el('select', {}, values.map((v) => el('option', { value: v }, v)));
    if (values.includes(initial)) select.value = initial;
    return select;
  }

  // ---- curves: one line per version over step/epoch, cumulative along parents, legend toggles ----

  function initCurves() {
    const host = document.getElementById('curves-body');
    const C = D.curves;
    if (!C.metrics.length) {
      host.append(note('None of these versions logged periodic lines (notebooks and Trainer stdout often record only final metrics): no curves to draw.'));
      return;
    }
    const metric = selectOf(C.metrics, C.metrics.includes('loss') ? 'loss' : C.metrics[0]);
    const xAxis = selectOf(['step', 'epoch'], 'step');
    const cumulative = el('input', { type: 'checkbox' });
    const logY = el('input', { type: 'checkbox' });
    const withCurves = V.map((_, i) => i).filter((i) => Object.keys(C.series[i]).length);
    const visible = new Set(withCurves.slice(0, C.visible));
    const legend = el('div', { class: 'legend' });
    const area = el('div', {});
    const notes = el('div', {});
    const all = el('button', { class: 'toggle', onclick: () => { withCurves.forEach((i) => visible.add(i)); draw(); } }, 'show all');
    const none = el('button', { class: 'toggle', onclick: () => { visible.clear(); draw(); } }, 'hide all');
    host.append(el('div', { class: 'controls' }, labelled('metric', metric), labelled('x', xAxis),
      el('label', {}, cumulative, ' cumulative along parents'), el('label', {}, logY, ' log y'), all, none), area, legend, notes);
    for (const control of [metric, xAxis, cumulative, logY]) control.addEventListener('change', draw);
    function points(i, m, xKey, offset) {
      const raw = C.series[i][m] || [];
      return raw.map((p, j) => [xKey === 'step' ? p[0] : xKey === 'epoch' ? p[1] : j + 1, p[2]])
        .filter((p) => p[0] !== null).map((p) => [p[0] + offset, p[1]]);
    }
    function draw() {
      const m = metric.value;
      const [xKey, xLabel] = C.axes[m][xAxis.value];
      const shift = cumulative.checked && xKey !== 'index';
      const series = [];
      for (const i of withCurves) {
        if (!visible.has(i) || !C.series[i][m]) continue;
        const offset = shift ? C.offsets[xKey][i] : 0;
        const marks = m === 'loss' && xKey !== 'index' ? points(i, 'eval_loss', xKey, offset) : [];
        series.push({ run: i, label: name(i), colour: colour(i), points: points(i, m, xKey, offset), marks });
      }
      area.textContent = '';
      chart(area, series, { xLabel: xLabel + (shift ? ', cumulative along parents' : ''), yLabel: m, logY: logY.checked, line: true,
        markLabel: 'eval_loss' });
      legend.textContent = '';
      for (const i of withCurves) {
        if (!C.series[i][m]) continue;
        const button = el('button', { 'data-run': String(i), class: visible.has(i) ? '' : 'off', title: 'show or hide',
          onclick: () => { if (visible.has(i)) visible.delete(i); else visible.add(i); draw(); } },
        el('span', { class: 'swatch', style: 'background:' + colour(i) }), name(i));
        legend.append(button);
      }
      notes.textContent = '';
      const without = V.map((_, i) => i).filter((i) => !C.series[i][m]).map(name);
      if (without.length) notes.append(note('No ' + m + ' points for ' + listOf(without, 20) + (withCurves.length < V.length ? ' (some inputs record only final metrics)' : '') + '.'));
      if (m === 'loss' && series.some((s) => s.marks.length)) notes.append(note('Circles with a black edge: eval_loss at the same x.'));
      if (shift && C.offsetWarnings[xKey].length) notes.append(note(C.offsetWarnings[xKey].join('; '), true));
      if (cumulative.checked && xKey === 'index') notes.append(note('Cumulative needs a step or epoch axis; these lines have neither.', true));
      if (C.downsampled) notes.append(note('Long curves are thinned to ' + C.downsampled + ' points each (the lowest and highest of each stretch kept).'));
    }
    draw();
  }

  // ---- a final metric against a hyper-parameter, across versions ----

  function initSweep() {
    const host = document.getElementById('sweep-body');
    const S = D.sweep;
    if (!S.x.length || !S.y.length) {
      host.append(note(S.y.length ? 'These versions differ in no recorded hyper-parameter: nothing to plot against.' : 'No version recorded final metrics.'));
      return;
    }
    const prefer = (list, names) => names.find((n) => list.includes(n)) || list[0];
    const x = selectOf(S.x, prefer(S.x, ['learning_rate', 'lora_r', 'num_train_epochs', 'batch_size']));
    const y = selectOf(S.y, prefer(S.y, ['eval_loss', 'train_loss']));
    const logX = el('input', { type: 'checkbox' });
    logX.checked = !!S.log[x.value];
    const area = el('div', {});
    host.append(el('div', { class: 'controls' }, labelled('x', x), labelled('y', y), el('label', {}, logX, ' log x')), area);
    x.addEventListener('change', () => { logX.checked = !!S.log[x.value]; draw(); });
    y.addEventListener('change', draw);
    logX.addEventListener('change', draw);
    function draw() {
      const pts = [];
      S.values.forEach((v, i) => { if (x.value in v && y.value in v) pts.push([v[x.value], v[y.value], name(i)]); });
      pts.sort((a, b) => a[0] - b[0]);
      area.textContent = '';
      const missing = S.values.length - pts.length;
      chart(area, [{ run: -1, label: '', colour: COLOURS[0], points: pts }], { xLabel: x.value, yLabel: y.value, logX: logX.checked,
        line: true, dots: true, labels: true });
      if (missing) area.append(note(missing + ' version' + (missing === 1 ? '' : 's') + ' without both ' + x.value + ' and ' + y.value + ' left out.'));
    }
    draw();
  }

  // ---- samples, side by side per prompt ----

  function initSamples() {
    const host = document.getElementById('samples-body');
    if (!D.samples.length) {
      host.append(note('No version recorded samples (train with eval.prompts=[...] to have them in the log).'));
      return;
    }
    for (const item of D.samples) {
      host.append(el('div', { class: 'prompt' }, 'prompt: ' + item.prompt));
      host.append(el('div', { class: 'samples' }, item.outputs.map(([i, output]) =>
        el('div', { class: 'sample', 'data-run': String(i) }, el('strong', {}, name(i)), el('pre', {}, output)))));
    }
  }

  initTable();
  initLineage();
  initDiff();
  initCurves();
  initSweep();
  initSamples();
  window.harnessReport = { compare, ready: performance.now() };
})();
