/** The console's static files (served by the Worker, cacheable, same origin so that the CSP allows them): one stylesheet and one small script. */

/** The stylesheet. */
export const CONSOLE_CSS = `*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1f;background:#f6f7f9}
header{background:#14213d;color:#fff;padding:.6rem 1.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:1rem}
.brand{font-weight:700;margin:0 1.5rem 0 0}header nav{display:flex;flex:1;align-items:center;gap:1rem;flex-wrap:wrap}
header ul{display:flex;flex-wrap:wrap;gap:.25rem;list-style:none;margin:0;padding:0;flex:1}
header a{color:#fff;text-decoration:none;padding:.3rem .6rem;border-radius:6px;display:inline-block}header a:hover,header a:focus{background:#2b3f6b}
header a[aria-current=page]{background:#fff;color:#14213d;font-weight:600}
.signout{display:flex;align-items:center;gap:.5rem}.signout .muted{color:#dfe3ec}
main{max-width:78rem;margin:0 auto;padding:1rem 1.5rem 3rem}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5d8de;margin:.5rem 0 1rem}caption{text-align:left;font-weight:600;padding:.4rem 0}
th,td{border-bottom:1px solid #e3e5ea;padding:.4rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}th{background:#eef0f4}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;word-break:break-all}
.muted{color:#4d5260}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem}
.card{background:#fff;border:1px solid #d5d8de;border-radius:10px;padding:.8rem 1rem}.card .n{font-size:1.6rem;font-weight:700;margin:0}.card p{margin:.2rem 0}
form{margin:.25rem 0}form.panel{background:#fff;border:1px solid #d5d8de;border-radius:10px;padding:1rem;display:grid;gap:.6rem;max-width:40rem}
form.inline{display:inline-flex;gap:.4rem;align-items:center}label{font-weight:600}fieldset{border:1px solid #d5d8de;border-radius:8px}
input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #6b7080;border-radius:6px;background:#fff;color:#1b1b1f}textarea{width:100%;min-height:6rem}
button{font:inherit;padding:.35rem .9rem;border-radius:6px;border:1px solid #1f4fb0;background:#1f4fb0;color:#fff;cursor:pointer}button.secondary{background:#fff;color:#1f4fb0}
button.danger,form.revoke button{background:#a4161a;border-color:#a4161a}.secret{background:#fff8e1;border:1px solid #b7950b;border-radius:8px;padding:.8rem;display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
.ok{color:#146c2e;font-weight:600}.bad{color:#a4161a;font-weight:600}.pager{display:flex;gap:1rem}.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}
.filters div{display:flex;flex-direction:column}svg{background:#fff;border:1px solid #d5d8de;border-radius:8px;max-width:100%}a{color:#1f4fb0}
.status{min-height:1.5rem}`;

/** The script: copy buttons, following the audit trail, and the live alert list. Builds DOM nodes (textContent), never HTML strings. */
export const CONSOLE_JS = `'use strict';
(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  function cell(row, text) { var td = document.createElement('td'); td.textContent = text == null ? '' : String(text); row.appendChild(td); return td; }
  function say(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source) return;
      navigator.clipboard.writeText(source.textContent || '').then(function () { say('copy-status', 'Copied to the clipboard.'); }, function () { say('copy-status', 'Copy failed: select the key and copy it by hand.'); });
    });
  });

  var audit = document.getElementById('audit-rows');
  var follow = document.getElementById('follow');
  if (audit && follow) {
    var timer = null;
    var last = audit.getAttribute('data-last') || '';
    var since = audit.getAttribute('data-since') || '';
    var filters = audit.getAttribute('data-filters') || '';
    function actor(e) { var a = e.actor || {}; return a.admin ? 'admin ' + a.admin : a.agent_id ? 'agent ' + a.agent_id : a.user_id ? 'user ' + a.user_id : a.client_id ? 'client ' + a.client_id : ''; }
    function poll() {
      var q = new URLSearchParams(filters);
      q.set('limit', '200');
      if (last) q.set('after', last); else if (since) q.set('since', since);
      fetch('/admin/audit/events?' + q.toString(), { credentials: 'same-origin', headers: { accept: 'application/x-ndjson' } }).then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.text();
      }).then(function (text) {
        var body = audit.querySelector('tbody');
        var empty = body.querySelector('td[colspan]');
        text.split('\\n').forEach(function (line) {
          if (!line) return;
          var e = JSON.parse(line);
          if (empty) { empty.parentNode.remove(); empty = null; }
          var row = document.createElement('tr');
          cell(row, e.time); cell(row, e.type); cell(row, e.outcome); cell(row, actor(e)); cell(row, e.tool || ''); cell(row, e.session_id || ''); cell(row, e.reason || e.error_code || '');
          body.appendChild(row);
          last = e.id;
        });
        say('follow-status', 'Following: last checked ' + new Date().toLocaleTimeString() + '.');
      }).catch(function (err) { say('follow-status', 'Following stopped: ' + err.message); stop(); });
    }
    function stop() { if (timer) clearInterval(timer); timer = null; follow.textContent = 'Follow live'; follow.setAttribute('aria-pressed', 'false'); }
    follow.addEventListener('click', function () {
      if (timer) { stop(); say('follow-status', 'Not following.'); return; }
      follow.textContent = 'Stop following'; follow.setAttribute('aria-pressed', 'true');
      poll(); timer = setInterval(poll, 2000);
    });
  }

  var alerts = document.getElementById('alerts');
  if (alerts && alerts.getAttribute('data-live') === 'true') {
    function render(state) {
      var body = alerts.querySelector('tbody');
      while (body.firstChild) body.removeChild(body.firstChild);
      (state.alerts || []).forEach(function (a) {
        var row = document.createElement('tr');
        row.setAttribute('data-alert-id', a.id);
        cell(row, a.last_seen); cell(row, a.severity); cell(row, a.source); cell(row, a.title); cell(row, a.count);
        cell(row, (a.reasons || []).join('; '));
        var action = cell(row, a.acknowledged ? 'acknowledged by ' + a.acknowledged.by : '');
        if (!a.acknowledged) {
          var form = document.createElement('form'); form.method = 'post'; form.action = '/admin/console/alerts/ack';
          [['csrf', csrf], ['id', a.id]].forEach(function (p) { var i = document.createElement('input'); i.type = 'hidden'; i.name = p[0]; i.value = p[1]; form.appendChild(i); });
          var b = document.createElement('button'); b.type = 'submit'; b.textContent = 'Acknowledge'; form.appendChild(b); action.appendChild(form);
        }
        body.appendChild(row);
      });
      say('open-count', String(state.open));
      say('live-status', 'Live: updated ' + (state.updated_at || ''));
    }
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var socket = new WebSocket(scheme + location.host + '/admin/alerts/live');
    socket.addEventListener('message', function (m) {
      try { var msg = JSON.parse(m.data); if (msg && msg.type === 'cf_agent_state' && msg.state) render(msg.state); } catch (e) { /* not ours */ }
    });
    socket.addEventListener('close', function () { say('live-status', 'Live updates stopped: reload the page to reconnect.'); });
  }
})();
`;

/** GET /admin/console/static/<name>: the two files, with their types, cacheable for five minutes. */
export function staticAsset(name: string): Response | null {
  const file = name === 'console.css' ? { body: CONSOLE_CSS, type: 'text/css; charset=utf-8' } : name === 'console.js' ? { body: CONSOLE_JS, type: 'text/javascript; charset=utf-8' } : null;
  if (!file) return null;
  return new Response(file.body, { headers: { 'content-type': file.type, 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' } });
}
