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

  // Reference pickers: type to search records of the target entity type.
  document.querySelectorAll(".picker").forEach(function (picker) {
    var hidden = picker.querySelector('input[type="hidden"]');
    var input = picker.querySelector(".picker-input");
    var list = picker.querySelector(".picker-results");
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (input.value.trim() === "") { hidden.value = ""; list.hidden = true; return; }
      timer = setTimeout(function () {
        fetch("/pick/" + encodeURIComponent(picker.dataset.target) + "?q=" + encodeURIComponent(input.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.innerHTML = "";
            items.forEach(function (it) {
              var li = document.createElement("li");
              li.textContent = it.title;
              li.tabIndex = 0;
              li.addEventListener("mousedown", function (ev) {
                ev.preventDefault();
                hidden.value = it.id; input.value = it.title; list.hidden = true;
              });
              list.appendChild(li);
            });
            list.hidden = items.length === 0;
          });
      }, 200);
    });
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
  function columnAt(x, y) {
    var el = document.elementFromPoint(x, y);
    return el && el.closest ? el.closest(".column") : null;
  }
  board.addEventListener("pointerdown", function (e) {
    var card = e.target.closest(".card-item");
    if (!card || e.button !== 0) return;
    dragging = card; startX = e.clientX; startY = e.clientY; moved = false;
    e.preventDefault();
    card.setPointerCapture(e.pointerId);
  });
  board.addEventListener("pointermove", function (e) {
    if (!dragging) return;
    var dx = e.clientX - startX, dy = e.clientY - startY;
    if (!moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    moved = true;
    dragging.classList.add("dragging");
    dragging.style.transform = "translate(" + dx + "px," + dy + "px)";
  });
  board.addEventListener("pointerup", function (e) {
    if (!dragging) return;
    var card = dragging; dragging = null;
    card.style.transform = ""; card.classList.remove("dragging");
    if (!moved) return;
    e.preventDefault();
    card.style.visibility = "hidden";
    var col = columnAt(e.clientX, e.clientY);
    card.style.visibility = "";
    var from = card.closest(".column");
    if (!col || col === from) return;
    var body = {}; body[board.dataset.field] = col.dataset.value;
    errorBox.hidden = true;
    fetch("/api/v1/records/" + board.dataset.entity + "/" + card.dataset.id, {
      method: "PATCH", credentials: "same-origin",
      headers: { "content-type": "application/json", "if-match": '"' + card.dataset.version + '"', "x-csrf-token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (res) {
      if (res.ok) {
        card.dataset.version = res.body.version;
        col.appendChild(card);
        bump(from, -1);
        bump(col, 1);
      } else {
        var err = res.body.error || {};
        var parts = Object.keys(err.fields || {}).map(function (k) { return k + ": " + err.fields[k]; });
        errorBox.textContent = (err.message || "error") + (parts.length ? " (" + parts.join("; ") + ")" : "");
        errorBox.hidden = false;
      }
    });
  });
  board.addEventListener("pointercancel", function () {
    if (dragging) { dragging.style.transform = ""; dragging.classList.remove("dragging"); dragging = null; }
  });
  board.addEventListener("dragstart", function (e) { e.preventDefault(); });
  board.addEventListener("click", function (e) {
    if (moved && e.target.closest(".card-item")) { e.preventDefault(); moved = false; }
  }, true);
})();
