(() => {
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  // many proposals: distributions are stored sparsely as [index, p] pairs
  data.steps.forEach(s => {
    if (s.distribution.length && Array.isArray(s.distribution[0])) {
      const dense = new Array(data.n).fill(0);
      s.distribution.forEach(([i, p]) => { dense[i] = p; });
      s.distribution = dense;
    }
  });
  const nodes = Array.from(document.querySelectorAll('.tree-node'));
  const boxes = Array.from(document.querySelectorAll('.proposal-box'));
  const label = document.getElementById('tint-label');
  function select(step) {
    const s = data.steps[step];
    if (!s) return;
    nodes.forEach(n => {
      const on = Number(n.dataset.step) === step;
      n.classList.toggle('selected', on);
      n.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    document.querySelectorAll('.node-detail').forEach(d => { d.hidden = Number(d.dataset.step) !== step; });
    const peak = Math.max(...s.distribution) || 1;
    boxes.forEach(r => {
      const p = s.distribution[Number(r.dataset.index)];
      r.style.fillOpacity = (0.6 * p / peak).toFixed(3);
      const t = r.querySelector('title');
      if (t) t.textContent = t.textContent.replace(/ p [0-9.e-]+$/, '') + ' p ' + p.toFixed(3);
    });
    if (label) label.textContent = s.label;
    document.body.dataset.selected = String(step);
  }
  function hover(index, on) {
    document.querySelectorAll('[data-index="' + index + '"]').forEach(el => {
      (el.classList.contains('proposal-box') ? el.parentNode : el).classList.toggle('hover', on);
    });
  }
  nodes.forEach(n => n.addEventListener('click', () => select(Number(n.dataset.step))));
  document.querySelectorAll('.proposal, .bar-row').forEach(el => {
    el.addEventListener('mouseenter', () => hover(el.dataset.index, true));
    el.addEventListener('mouseleave', () => hover(el.dataset.index, false));
  });
  document.addEventListener('keydown', e => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const i = nodes.findIndex(n => n.classList.contains('selected'));
    const next = nodes[Math.min(nodes.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) { e.preventDefault(); select(Number(next.dataset.step)); next.focus(); }
  });
  select(data.steps.length - 1);
})();
