// Qingguan Studio: the drag-and-drop layout editor and list-column ordering. Our own code,
// no framework. It edits what the page's plain form posts (the layout text, the column
// order numbers), so without JavaScript the same form still works.
(function () {
  "use strict";
  var form = document.getElementById("layout");
  if (!form) return;
  var editor = form.querySelector(".layout-editor");
  var text = form.querySelector("textarea[name=layout]");
  if (!editor || !text) return;

  var labels = {};
  editor.querySelectorAll(".layout-source li").forEach(function (li) {
    labels[li.dataset.name] = li.textContent;
  });

  // The text format: "# English | 中文" opens a section, then one field name per line.
  function parse(value) {
    var sections = [];
    value.split("\n").forEach(function (raw) {
      var line = raw.trim();
      if (!line) return;
      if (line.charAt(0) === "#") {
        var title = line.slice(1), bar = title.indexOf("|");
        var en = bar < 0 ? title : title.slice(0, bar), zh = bar < 0 ? title : title.slice(bar + 1);
        sections.push({ en: en.trim(), zh: zh.trim(), fields: [] });
      } else {
        if (!sections.length) sections.push({ en: "Details", zh: "详细信息", fields: [] });
        sections[sections.length - 1].fields.push(line);
      }
    });
    return sections;
  }

  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function fieldChip(name) {
    var li = el("li", "lay-field");
    li.dataset.name = name;
    li.appendChild(el("span", "grip", "⠿"));
    li.appendChild(el("span", "lay-label", labels[name] || name));
    li.appendChild(el("code", "muted", name));
    return li;
  }

  function sectionBox(s) {
    var box = el("div", "lay-section");
    var head = el("div", "lay-head");
    head.appendChild(el("span", "grip section-grip", "⠿"));
    var en = el("input", "lay-title-en");
    en.value = s.en; en.setAttribute("aria-label", editor.dataset.titleEn);
    var zh = el("input", "lay-title-zh");
    zh.value = s.zh; zh.setAttribute("aria-label", editor.dataset.titleZh);
    en.addEventListener("input", sync);
    zh.addEventListener("input", sync);
    var remove = el("button", "lay-remove", "✕");
    remove.type = "button"; remove.title = editor.dataset.remove;
    remove.setAttribute("aria-label", editor.dataset.remove);
    remove.addEventListener("click", function () {
      var boxes = list.querySelectorAll(".lay-section");
      if (boxes.length < 2) return;
      var prev = box.previousElementSibling || box.nextElementSibling;
      var target = prev.querySelector(".lay-fields");
      box.querySelectorAll(".lay-field").forEach(function (f) { target.appendChild(f); });
      box.remove();
      sync();
    });
    head.appendChild(zh);
    head.appendChild(en);
    head.appendChild(remove);
    box.appendChild(head);
    var ul = el("ul", "lay-fields");
    s.fields.forEach(function (f) { ul.appendChild(fieldChip(f)); });
    box.appendChild(ul);
    return box;
  }

  // Writes the editor back into the text the form posts.
  function sync() {
    var out = "";
    list.querySelectorAll(".lay-section").forEach(function (box) {
      var en = box.querySelector(".lay-title-en").value.replace(/[|\n]/g, " ").trim();
      var zh = box.querySelector(".lay-title-zh").value.replace(/[|\n]/g, " ").trim();
      out += "# " + (en || zh) + " | " + (zh || en) + "\n";
      box.querySelectorAll(".lay-field").forEach(function (f) { out += f.dataset.name + "\n"; });
    });
    text.value = out;
  }

  editor.appendChild(el("p", "help", editor.dataset.dragHelp));
  var list = el("div", "lay-sections");
  editor.appendChild(list);
  parse(text.value).forEach(function (s) { list.appendChild(sectionBox(s)); });
  var add = el("button", "lay-add", "+ " + editor.dataset.newSection);
  add.type = "button";
  add.addEventListener("click", function () {
    list.appendChild(sectionBox({ en: editor.dataset.sectionEn, zh: editor.dataset.sectionZh, fields: [] }));
    sync();
  });
  editor.appendChild(add);
  // The text stays one click away (for the keyboard, or pasting a layout); back in the
  // editor, the text as edited is read again.
  var toggle = el("button", "lay-toggle", editor.dataset.asText);
  toggle.type = "button";
  toggle.addEventListener("click", function () {
    if (text.hidden) {
      text.hidden = false; list.hidden = true; add.hidden = true;
      toggle.textContent = editor.dataset.asEditor;
      text.focus();
    } else {
      while (list.firstChild) list.removeChild(list.firstChild);
      parse(text.value).forEach(function (s) { list.appendChild(sectionBox(s)); });
      sync();
      text.hidden = true; list.hidden = false; add.hidden = false;
      toggle.textContent = editor.dataset.asText;
    }
  });
  editor.appendChild(toggle);
  editor.hidden = false;
  text.hidden = true;

  // Dragging with pointer events (mouse, touch and pen): the item moves in the page as the
  // pointer passes over others, so what is seen is what will be saved.
  function draggable(container, itemSel, gripSel, place, done) {
    var item = null, startY = 0, startX = 0, moved = false;
    container.addEventListener("pointerdown", function (e) {
      var grip = e.target.closest(gripSel);
      if (!grip || e.button !== 0 || !container.contains(grip)) return;
      if (e.target.tagName === "INPUT" || e.target.tagName === "BUTTON") return;
      item = grip.closest(itemSel);
      if (!item) return;
      startX = e.clientX; startY = e.clientY; moved = false;
      e.preventDefault();
    });
    document.addEventListener("pointermove", function (e) {
      if (!item) return;
      if (!moved && Math.abs(e.clientX - startX) + Math.abs(e.clientY - startY) < 4) return;
      moved = true;
      item.classList.add("dragging");
      var under = document.elementFromPoint(e.clientX, e.clientY);
      if (under) place(item, under, e.clientY);
    });
    function end() {
      if (!item) return;
      item.classList.remove("dragging");
      item = null;
      if (moved) done();
    }
    document.addEventListener("pointerup", end);
    document.addEventListener("pointercancel", end);
  }

  function before(other, y) {
    var r = other.getBoundingClientRect();
    return y < r.top + r.height / 2;
  }

  // A field goes before or after the field under the pointer, or at the end of the
  // section whose box it is over.
  draggable(list, ".lay-field", ".lay-field", function (item, under, y) {
    var other = under.closest(".lay-field");
    if (other && other !== item && list.contains(other)) {
      other.parentNode.insertBefore(item, before(other, y) ? other : other.nextSibling);
      return;
    }
    var box = under.closest(".lay-section");
    if (box && list.contains(box) && !other) {
      var ul = box.querySelector(".lay-fields");
      if (item.parentNode !== ul) ul.appendChild(item);
    }
  }, sync);

  // A section moves by its grip, before or after the section under the pointer.
  draggable(list, ".lay-section", ".section-grip", function (item, under, y) {
    var other = under.closest(".lay-section");
    if (other && other !== item && list.contains(other)) {
      list.insertBefore(item, before(other, y) ? other : other.nextSibling);
    }
  }, sync);

  // List columns: rows reorder by dragging; the order numbers follow and are hidden.
  var cols = form.querySelector(".column-choices");
  if (cols) {
    form.classList.add("columns-draggable");
    cols.querySelectorAll("li").forEach(function (li) { li.insertBefore(el("span", "grip", "⠿"), li.firstChild); });
    var renumber = function () {
      cols.querySelectorAll("li").forEach(function (li, i) {
        var n = li.querySelector("input[type=number]");
        if (n) n.value = String(i + 1);
      });
    };
    draggable(cols, "li", ".grip", function (item, under, y) {
      var other = under.closest("li");
      if (other && other !== item && cols.contains(other)) {
        cols.insertBefore(item, before(other, y) ? other : other.nextSibling);
      }
    }, renumber);
  }
})();
