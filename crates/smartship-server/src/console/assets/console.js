// The console's keyboard shortcuts and the fail dialog. Pages work without
// it: every action is a plain form, and the fail link opens the package's
// page where the reason is written.
//
//   j / k   select the next / previous row of a list
//   Enter   open the selected row
//   p       pass the selected package (queue) or this one (package page)
//   f       fail it: a dialog asks for the reason (templates to pick from)
//   ?       list the shortcuts
(function () {
  'use strict';
  function typing(e) {
    const t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function rows() { return Array.from(document.querySelectorAll('tr[data-row]')); }
  function selected() { return document.querySelector('tr[data-row].selected'); }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove('selected'); r.removeAttribute('aria-selected'); });
    if (row) { row.classList.add('selected'); row.setAttribute('aria-selected', 'true'); row.focus(); }
  }
  function move(step) {
    const all = rows();
    if (!all.length) return;
    const i = all.indexOf(selected());
    select(all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))]);
  }
  // The target of p / f: the selected row, or the page's own subject.
  function subject() {
    const row = selected();
    if (row) return row;
    return document.querySelector('[data-subject]');
  }
  function openFail(el) {
    const dialog = document.getElementById('fail-dialog');
    if (!dialog || !el || !el.dataset.review) return false;
    const form = dialog.querySelector('form');
    form.action = el.dataset.review;
    const what = dialog.querySelector('#fail-what');
    if (what) what.textContent = el.dataset.label || '';
    dialog.showModal();
    const first = dialog.querySelector('select, textarea');
    if (first) first.focus();
    return true;
  }
  document.addEventListener('DOMContentLoaded', function () {
    const template = document.getElementById('reason-template');
    if (template) {
      const fill = function () {
        const reason = document.getElementById(template.dataset.target || 'reason');
        if (reason && template.value) reason.value = template.value;
      };
      template.addEventListener('change', fill);
      template.addEventListener('input', fill);
    }
    document.querySelectorAll('[data-fail-link]').forEach(function (a) {
      a.addEventListener('click', function (e) {
        const row = a.closest('[data-review]');
        if (openFail(row)) { e.preventDefault(); select(row.matches('tr') ? row : null); }
      });
    });
    const cancel = document.getElementById('fail-cancel');
    if (cancel) cancel.addEventListener('click', function () { document.getElementById('fail-dialog').close(); });
    rows().forEach(function (r) {
      r.addEventListener('click', function (e) { if (!e.target.closest('a,button,form')) select(r); });
    });
  });
  document.addEventListener('keydown', function (e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    const el = subject();
    switch (e.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'Enter': {
        const row = selected();
        const link = row && row.querySelector('a[data-open]');
        if (link) { window.location.href = link.href; } else { return; }
        break;
      }
      case 'p': {
        const pass = el && el.querySelector('form[data-pass]');
        if (pass) { pass.requestSubmit(); } else { return; }
        break;
      }
      case 'f': if (!openFail(el)) return; break;
      case '?': {
        const help = document.getElementById('shortcuts');
        if (help) help.hidden = !help.hidden;
        break;
      }
      default: return;
    }
    e.preventDefault();
  });
})();
