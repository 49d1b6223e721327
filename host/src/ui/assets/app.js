// Qingguan web UI: small progressive enhancements. Pages work without it except the kanban
// drag and the search-as-you-type reference picker.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  var toggle = document.querySelector(".menu-toggle");
  if (toggle) toggle.addEventListener("click", function () {
    var nav = document.getElementById("nav");
    var open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A choice in one picker empties the pickers it narrows (another customer's deal would no
  // longer fit).
  function clearNarrowed(picker, name) {
    var form = picker.closest("form");
    if (!form) return;
    form.querySelectorAll('.picker[data-narrow-by="' + name + '"]').forEach(function (other) {
      other.querySelector('input[type="hidden"]').value = "";
      other.querySelector(".picker-input").value = "";
    });
  }

  // Reference pickers: type to search records of the target entity type.
  document.querySelectorAll(".picker").forEach(function (picker) {
    var hidden = picker.querySelector('input[type="hidden"]');
    var input = picker.querySelector(".picker-input");
    var list = picker.querySelector(".picker-results");
    var timer = null;
    // Narrowed by another field of the form (a follow-up's deal by its customer): that
    // field's current value, or "" when it has none.
    function narrowing() {
      var by = picker.dataset.narrowBy, form = picker.closest("form");
      if (!by || !form) return "";
      var other = form.querySelector('input[type="hidden"][name="' + by + '"]');
      return other && other.value ? "&by=" + encodeURIComponent(picker.dataset.narrowField) + "&value=" + encodeURIComponent(other.value) : "";
    }
    // A narrowed picker offers its records before anything is typed.
    input.addEventListener("focus", function () {
      if (input.value.trim() === "" && narrowing()) lookup();
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (input.value.trim() === "") { hidden.value = ""; list.hidden = true; if (narrowing()) lookup(); return; }
      timer = setTimeout(lookup, 200);
    });
    function lookup() {
      fetch("/pick/" + encodeURIComponent(picker.dataset.target) + "?q=" + encodeURIComponent(input.value) + narrowing(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          list.innerHTML = "";
          items.forEach(function (it) {
            var li = document.createElement("li");
            li.textContent = it.title;
            li.tabIndex = 0;
            li.addEventListener("mousedown", function (ev) {
              ev.preventDefault();
              var changed = hidden.value !== String(it.id);
              hidden.value = it.id; input.value = it.title; list.hidden = true;
              if (changed) clearNarrowed(picker, hidden.name);
            });
            list.appendChild(li);
          });
          list.hidden = items.length === 0;
        });
    }
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
  });

  // Kanban: drag a card (pointer events, so mouse, touch and pen work) to another column.
  var board = document.querySelector(".kanban");
  if (!board) return;
  var errorBox = document.getElementById("kanban-error");
  var dragging = null, startX = 0, startY = 0, moved = false;
  // A column's count of records, changed by `by` after a card moved in or out.
  function bump(column, by) {
    var count = column.querySelector(".column-count");
    if (count) count.textContent = String((parseInt(count.textContent, 10) || 0) + by);
  }
  // Every column's count and total as the server has them now (its notation: 30万,
  // 300,000.00), after a card moved.
  function refreshTotals() {
    var params = [];
    if (board.dataset.all) { params.push("all=1"); }
    if (board.dataset.mine) { params.push("mine=1"); }
    fetch("/e/" + encodeURIComponent(board.dataset.entity) + "/kanban/totals" + (params.length ? "?" + params.join("&") : ""), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { columns: [] }; })
      .then(function (j) {
        (j.columns || []).forEach(function (c) {
          board.querySelectorAll(".column").forEach(function (column) {
            if (column.dataset.value !== c.value) return;
            var count = column.querySelector(".column-count");
            if (count) count.textContent = String(c.count);
            var total = column.querySelector(".column-total");
            if (total && c.total !== null && c.total !== undefined) total.textContent = c.total;
          });
        });
      });
  }
  function columnAt(x, y) {
    var el = document.elementFromPoint(x, y);
    return el && el.closest ? el.closest(".column") : null;
  }
  // A finger drags a card only after a long press: a swipe that starts on a card scrolls the
  // board (or the page) as anywhere else. A mouse or pen drags at once.
  var pressTimer = null, pressed = null;
  function cancelPress() { if (pressTimer) clearTimeout(pressTimer); pressTimer = null; pressed = null; }
  board.addEventListener("pointerdown", function (e) {
    var card = e.target.closest(".card-item");
    if (!card || e.button !== 0) return;
    startX = e.clientX; startY = e.clientY; moved = false;
    if (e.pointerType === "touch") {
      cancelPress();
      pressed = card;
      pressTimer = setTimeout(function () {
        pressTimer = null;
        if (!pressed) return;
        dragging = pressed; pressed = null;
        dragging.classList.add("lifted");
      }, 450);
      return;
    }
    dragging = card;
    e.preventDefault();
    card.setPointerCapture(e.pointerId);
  });
  // While a card is lifted the finger moves it, not the page.
  board.addEventListener("touchmove", function (e) { if (dragging) e.preventDefault(); }, { passive: false });
  board.addEventListener("contextmenu", function (e) { if (dragging || pressed) e.preventDefault(); });
  board.addEventListener("pointermove", function (e) {
    if (pressed && Math.abs(e.clientX - startX) + Math.abs(e.clientY - startY) > 8) cancelPress();
    if (!dragging) return;
    var dx = e.clientX - startX, dy = e.clientY - startY;
    if (!moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    moved = true;
    dragging.classList.add("dragging");
    dragging.style.transform = "translate(" + dx + "px," + dy + "px)";
  });
  board.addEventListener("pointerup", function (e) {
    cancelPress();
    if (!dragging) return;
    var card = dragging; dragging = null;
    card.style.transform = ""; card.classList.remove("dragging"); card.classList.remove("lifted");
    if (!moved) return;
    e.preventDefault();
    card.style.visibility = "hidden";
    var col = columnAt(e.clientX, e.clientY);
    card.style.visibility = "";
    var from = card.closest(".column");
    if (!col || col === from) return;
    send(card, from, col, {});
  });
  // Moves a card by PATCHing its field (and `extra` fields). A refusal that names fields the
  // board may ask for opens a small form for exactly those; sending it tries the move again.
  function send(card, from, col, extra) {
    var body = {}; body[board.dataset.field] = col.dataset.value;
    Object.keys(extra).forEach(function (k) { body[k] = extra[k]; });
    errorBox.hidden = true;
    errorBox.textContent = "";
    fetch("/api/v1/records/" + board.dataset.entity + "/" + card.dataset.id, {
      method: "PATCH", credentials: "same-origin",
      headers: { "content-type": "application/json", "if-match": '"' + card.dataset.version + '"', "x-csrf-token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
    }).then(function (res) {
      if (res.ok) {
        card.dataset.version = res.body.version;
        col.appendChild(card);
        bump(from, -1);
        bump(col, 1);
        refreshTotals();
        return;
      }
      var err = res.body.error || {};
      var labels = {}, inputs = [];
      try { labels = JSON.parse(board.dataset.labels || "{}"); } catch (x) { labels = {}; }
      try { inputs = JSON.parse(board.dataset.inputs || "[]"); } catch (x) { inputs = []; }
      var fields = err.fields || {};
      var parts = Object.keys(fields).map(function (k) { return (labels[k] || k) + ": " + fields[k]; });
      var asked = res.status === 422 ? inputs.filter(function (i) { return fields[i.name] !== undefined; }) : [];
      if (asked.length) { ask(card, from, col, asked, fields); return; }
      // A plugin's own summary is in the reader's language; the core's is English, so
      // with field reasons (already in the reader's language) those alone are shown.
      var own = err.code === "rejected" || err.code === "plugin_error";
      errorBox.textContent = parts.length && !own ? parts.join("; ")
        : (err.message || "error") + (parts.length ? " (" + parts.join("; ") + ")" : "");
      errorBox.hidden = false;
    });
  }
  function ask(card, from, col, asked, reasons) {
    var words = {};
    try { words = JSON.parse(board.dataset.words || "{}"); } catch (x) { words = {}; }
    var form = document.createElement("form");
    form.className = "move-form";
    var title = document.createElement("p");
    title.textContent = words.kanban_move_needs || "";
    form.appendChild(title);
    asked.forEach(function (i) {
      var label = document.createElement("label");
      label.textContent = i.label + " ";
      var input;
      if (i.kind === "choice") {
        input = document.createElement("select");
        input.appendChild(document.createElement("option"));
        i.options.forEach(function (o) {
          var opt = document.createElement("option");
          opt.value = o.value; opt.textContent = o.label;
          input.appendChild(opt);
        });
      } else if (i.kind === "area") {
        input = document.createElement("textarea");
        input.rows = 2;
      } else {
        input = document.createElement("input");
        input.type = i.kind;
      }
      input.name = i.name;
      input.required = true;
      label.appendChild(input);
      var why = document.createElement("small");
      why.className = "field-error";
      why.textContent = " " + reasons[i.name];
      label.appendChild(why);
      form.appendChild(label);
    });
    var save = document.createElement("button");
    save.className = "primary"; save.textContent = words.save || "Save";
    var cancel = document.createElement("button");
    cancel.type = "button"; cancel.textContent = words.cancel || "Cancel";
    cancel.addEventListener("click", function () { errorBox.hidden = true; errorBox.textContent = ""; });
    form.appendChild(save); form.appendChild(document.createTextNode(" ")); form.appendChild(cancel);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var extra = {};
      asked.forEach(function (i) {
        var v = form.elements[i.name].value;
        if (v !== "") extra[i.name] = i.kind === "number" ? Number(v) : v;
      });
      send(card, from, col, extra);
    });
    errorBox.textContent = "";
    errorBox.appendChild(form);
    errorBox.hidden = false;
    var first = form.querySelector("select, input, textarea");
    if (first) first.focus();
  }
  board.addEventListener("pointercancel", function () {
    cancelPress();
    if (dragging) { dragging.style.transform = ""; dragging.classList.remove("dragging"); dragging.classList.remove("lifted"); dragging = null; }
  });
  board.addEventListener("dragstart", function (e) { e.preventDefault(); });
  board.addEventListener("click", function (e) {
    if (moved && e.target.closest(".card-item")) { e.preventDefault(); moved = false; }
  }, true);
})();

// A list's "select all" box ticks every row of the page for bulk work.
(function () {
  var all = document.querySelector("[data-select-all]");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="id"][form="bulk"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();

// Folding a kanban column hides its cards (remembered per board and column in this browser).
(function () {
  document.querySelectorAll(".kanban [data-fold]").forEach(function (button) {
    var column = button.closest(".column");
    var board = button.closest(".kanban");
    var key = "qg-fold:" + board.dataset.entity + ":" + column.dataset.value;
    var apply = function (folded) {
      column.classList.toggle("folded", folded);
      button.setAttribute("aria-expanded", folded ? "false" : "true");
    };
    try { apply(window.localStorage.getItem(key) === "1"); } catch (e) { apply(false); }
    button.addEventListener("click", function () {
      var folded = !column.classList.contains("folded");
      apply(folded);
      try { window.localStorage.setItem(key, folded ? "1" : "0"); } catch (e) { /* private mode */ }
    });
  });
})();

// Keyboard shortcuts: "/" search, "n" new record, "e" edit, "g" then a letter to go to a menu
// entry (h home, i inbox, then each entry by the first free letter of its name), "?" the list
// of them. Never while typing in a field, never with Ctrl, Alt or Cmd.
(function () {
  var jumps = {};
  function assign(a, letter) {
    if (!letter || jumps[letter]) return false;
    jumps[letter] = a;
    a.setAttribute('data-jump', letter);
    return true;
  }
  var nav = document.getElementById('nav');
  if (nav) {
    var links = Array.prototype.slice.call(nav.querySelectorAll('a[href]'));
    links.forEach(function (a) { if (a.getAttribute('href') === '/') assign(a, 'h'); });
    var inbox = document.querySelector('a.inbox-link');
    if (inbox) assign(inbox, 'i');
    links.forEach(function (a) {
      if (a.hasAttribute('data-jump')) return;
      var key = (a.getAttribute('data-entity') || a.getAttribute('href') || '').toLowerCase();
      for (var i = 0; i < key.length; i++) {
        if (/[a-z]/.test(key[i]) && assign(a, key[i])) return;
      }
    });
  }
  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function closeHelp() {
    var open = document.querySelector('.shortcuts');
    if (open) open.remove();
    return !!open;
  }
  function help() {
    if (closeHelp()) return;
    var tpl = document.getElementById('shortcuts-help');
    if (!tpl) return;
    var node = tpl.content.firstElementChild.cloneNode(true);
    var list = node.querySelector('.jumps');
    Object.keys(jumps).sort().forEach(function (k) {
      var dt = document.createElement('dt');
      var g = document.createElement('kbd');
      g.textContent = 'g';
      var key = document.createElement('kbd');
      key.textContent = k;
      dt.appendChild(g);
      dt.appendChild(document.createTextNode(' '));
      dt.appendChild(key);
      var dd = document.createElement('dd');
      dd.textContent = jumps[k].textContent.trim();
      list.appendChild(dt);
      list.appendChild(dd);
    });
    node.addEventListener('click', function (e) {
      if (e.target === node || e.target.classList.contains('shortcuts-close')) closeHelp();
    });
    document.body.appendChild(node);
    node.querySelector('.shortcuts-close').focus();
  }
  var gAt = 0;
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') { closeHelp(); return; }
    if (typing(e.target)) return;
    if (gAt && Date.now() - gAt < 2000) {
      gAt = 0;
      var to = jumps[e.key.toLowerCase()];
      if (to) { e.preventDefault(); location.href = to.href; }
      return;
    }
    gAt = 0;
    var el;
    if (e.key === '/') {
      el = document.querySelector('form.search input[name=q]');
      if (el) { e.preventDefault(); el.focus(); el.select(); }
    } else if (e.key === 'n' || e.key === 'e') {
      el = document.querySelector('[data-shortcut=' + (e.key === 'n' ? 'new' : 'edit') + ']');
      if (el) { e.preventDefault(); location.href = el.href; }
    } else if (e.key === 'g') {
      gAt = Date.now();
    } else if (e.key === '?') {
      e.preventDefault();
      help();
    }
  });
})();
