// The dashboard's script (docs/dashboard.md). Everything from the server is put on the page as
// text (textContent, never HTML), so no name, tag or audit field can inject markup or script.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
    return tr;
  }

  function td(child, cls) {
    const e = el('td', undefined, cls);
    e.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    return e;
  }

  function left(seconds) {
    const neg = seconds < 0;
    let s = Math.abs(seconds);
    const d = Math.floor(s / 86400);
    s -= d * 86400;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s - h * 3600) / 60);
    const text = d > 0 ? d + 'd ' + h + 'h' : h > 0 ? h + 'h ' + m + 'm' : m + 'm';
    return neg ? 'expired ' + text + ' ago' : text;
  }

  function badge(level, text) {
    const s = el('span', text, 'exp exp-' + level);
    s.dataset.level = level;
    return s;
  }

  async function api(name, query) {
    const url = '/dashboard/api/' + name + (query ? '?' + new URLSearchParams(query).toString() : '');
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(name + ': HTTP ' + res.status);
    return res.json();
  }

  function fill(tableId, rows) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren(...rows);
  }

  const ORDER = { expired: 0, critical: 1, warning: 2, ok: 3, auto: 4 };

  function soonest(expiries) {
    let best;
    for (const e of expiries) {
      if (
        best === undefined ||
        ORDER[e.level] < ORDER[best.level] ||
        (ORDER[e.level] === ORDER[best.level] && e.secondsLeft < best.secondsLeft)
      )
        best = e;
    }
    return best;
  }

  async function showRepositories(selected) {
    const data = await api('repositories');
    fill(
      'repositories',
      data.repositories.map((r) => {
        const s = soonest(r.expiries);
        const b = el('button', r.gun, 'link');
        b.type = 'button';
        b.addEventListener('click', () => selectRepository(r.gun));
        const tr = row([
          td(b),
          td(s ? badge(s.level, left(s.secondsLeft)) : ''),
          el('td', s ? s.role + (s.kind === 'certificate' ? ' certificate' : '') : ''),
          el('td', s ? s.expires : ''),
        ]);
        tr.dataset.gun = r.gun;
        if (r.gun === selected) tr.className = 'selected';
        return tr;
      }),
    );
    return data.repositories;
  }

  async function selectRepository(gun) {
    const url = new URL(window.location.href);
    url.searchParams.set('gun', gun);
    window.history.replaceState(null, '', url.toString());
    for (const tr of $('repositories').tBodies[0].rows) tr.className = tr.dataset.gun === gun ? 'selected' : '';
    const v = await api('repository', { gun });
    $('repo-name').textContent = v.gun;
    fill('keys', [
      row([el('td', 'root'), el('td', v.rootKeyIds.join(' '), 'mono')]),
      row([el('td', 'targets'), el('td', v.targetsKeyIds.join(' '), 'mono')]),
    ]);
    fill(
      'signers',
      v.signers.map((s) => {
        const tr = row([
          el('td', s.name),
          el('td', s.role, 'mono'),
          el('td', s.keyIds.join(' '), 'mono'),
          el('td', s.threshold),
        ]);
        tr.dataset.role = s.role;
        return tr;
      }),
    );
    const tagRows = v.tags.map((t) => {
      const tr = row([el('td', t.name), el('td', t.digest, 'mono'), el('td', t.size), el('td', t.signedBy.join(', '))]);
      tr.dataset.tag = t.name;
      return tr;
    });
    if (v.tagsTruncated) tagRows.push(row([el('td', 'more tags not shown')]));
    fill('tags', tagRows);
    fill(
      'expiries',
      v.expiries
        .slice()
        .sort((a, b) => a.secondsLeft - b.secondsLeft)
        .map((e) => {
          const tr = row([
            el('td', e.role, 'mono'),
            el('td', e.kind),
            el('td', e.version),
            el('td', e.keyId || '', 'mono'),
            el('td', e.heldBy),
            el('td', e.expires),
            td(badge(e.level, left(e.secondsLeft))),
          ]);
          tr.dataset.role = e.role;
          tr.dataset.kind = e.kind;
          tr.dataset.level = e.level;
          return tr;
        }),
    );
    $('repository').hidden = false;
  }

  function chart(targetId, title, points, series) {
    const target = $(targetId);
    target.replaceChildren();
    if (points.length === 0) {
      target.appendChild(el('p', 'No samples yet (one is taken every sample interval).'));
      return;
    }
    const data = [points.map((p) => p.t / 1000), ...series.map((s) => points.map((p) => p[s.key]))];
    const opts = {
      title,
      width: Math.max(320, target.clientWidth - 16),
      height: 200,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
      axes: [{}, { label: 'per interval' }],
    };
    new window.uPlot(opts, data, target);
  }

  async function showRates() {
    const r = await api('rates');
    const title = 'per ' + r.sampleSeconds + ' s';
    chart('chart-publishes', 'Publishes ' + title, r.points, [
      { key: 'published', label: 'published', stroke: '#1e8e3e' },
      { key: 'rejected', label: 'failed verification', stroke: '#b3261e' },
    ]);
    chart('chart-auth', 'Authentication failures ' + title, r.points, [
      { key: 'authFailures', label: '401 answers', stroke: '#e8710a' },
    ]);
  }

  async function showAudit() {
    const a = await api('audit', { limit: 50 });
    if (!a.available) {
      fill('audit', [row([el('td', 'no audit trail configured')])]);
      return;
    }
    fill(
      'audit',
      a.entries.map((e) => {
        const detail = [
          e.stored ? e.stored.map((s) => s.role + ' v' + s.version).join(', ') : '',
          e.role ? e.role : '',
          e.keyId ? 'key ' + e.keyId : '',
          e.code || '',
          e.reason || '',
        ]
          .filter((x) => x !== '')
          .join(' · ');
        const tr = row([
          el('td', e.time),
          el('td', e.event),
          el('td', e.user || '-'),
          el('td', e.gun || ''),
          el('td', e.status),
          el('td', detail),
        ]);
        tr.dataset.event = e.event;
        return tr;
      }),
    );
  }

  async function main() {
    const status = $('status');
    try {
      const selected = new URL(window.location.href).searchParams.get('gun');
      const repos = await showRepositories(selected);
      if (selected && repos.some((r) => r.gun === selected)) await selectRepository(selected);
      await Promise.all([showRates(), showAudit()]);
      status.textContent = repos.length + ' repositories · updated ' + new Date().toISOString();
      document.body.dataset.ready = '1';
    } catch (err) {
      status.textContent = 'Could not load the dashboard: ' + err.message;
      status.className = 'error';
      document.body.dataset.ready = 'error';
    }
  }

  document.addEventListener('DOMContentLoaded', main);
})();
