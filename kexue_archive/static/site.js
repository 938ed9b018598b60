/* kexue-archive: read marks, hide-read lists, the header search box, copying the citation.
   Everything is local: state lives in localStorage, nothing is sent anywhere. */
(function () {
  "use strict";
  var KEY = "kexue-archive:read";
  var HIDE = "kexue-archive:hide-read";

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function save(marks) {
    try { localStorage.setItem(KEY, JSON.stringify(marks)); } catch (e) { /* storage full or disabled */ }
  }
  function isRead(marks, id) { return marks[id] === 1; }

  /* Lists: mark entries already read; the hide-read switch is remembered. */
  function paintLists() {
    var marks = load();
    var items = document.querySelectorAll("[data-id]");
    for (var i = 0; i < items.length; i++) {
      var read = isRead(marks, items[i].getAttribute("data-id"));
      items[i].classList.toggle("is-read", read);
      var tag = items[i].querySelector(".read-mark");
      if (tag) tag.textContent = read ? "已读" : "";
    }
  }
  function setupHide() {
    var boxes = document.querySelectorAll("input.hide-read");
    var on = false;
    try { on = localStorage.getItem(HIDE) === "1"; } catch (e) { on = false; }
    document.body.classList.toggle("hide-read-on", on);
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = on;
      boxes[i].addEventListener("change", function (ev) {
        var value = ev.target.checked;
        try { localStorage.setItem(HIDE, value ? "1" : "0"); } catch (e) { /* ignore */ }
        document.body.classList.toggle("hide-read-on", value);
      });
    }
  }

  /* Article page: opening it marks it read (unless the reader unmarked it); the button toggles. */
  function setupArticle() {
    var post = document.querySelector("[data-article]");
    if (!post) return;
    var id = post.getAttribute("data-article");
    var marks = load();
    if (!(id in marks)) { marks[id] = 1; save(marks); }
    var button = post.querySelector(".read-toggle");
    if (!button) return;
    function paint() {
      var read = isRead(load(), id);
      button.setAttribute("aria-pressed", read ? "true" : "false");
      button.textContent = read ? "已读 · 标为未读" : "未读 · 标为已读";
    }
    button.hidden = false;
    paint();
    button.addEventListener("click", function () {
      var m = load();
      m[id] = isRead(m, id) ? 0 : 1;
      save(m);
      paint();
    });
  }

  /* Header search: go to the search page with the query in the hash (bookmarkable).
     "/" anywhere outside a text field jumps to the search box, as on many sites. */
  function setupSearchBox() {
    var form = document.querySelector("form.top-search");
    if (!form) return;
    document.addEventListener("keydown", function (ev) {
      var t = ev.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (ev.key !== "/" || typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      ev.preventDefault();
      var box = document.getElementById("q") || form.querySelector("input");
      box.focus();
      box.select();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = form.querySelector("input").value.trim();
      var root = document.documentElement.getAttribute("data-root") || "";
      window.location.href = root + "search.html" + (q ? "#q=" + encodeURIComponent(q) : "");
    });
  }

  function setupCopy() {
    var buttons = document.querySelectorAll("button.copy");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (ev) {
        var button = ev.currentTarget;
        var source = document.getElementById(button.getAttribute("data-copy"));
        var status = button.parentNode.querySelector(".copy-status");
        var text = source ? source.textContent : "";
        function done(ok) { if (status) status.textContent = ok ? "已复制" : "请手动选择复制"; }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback(source)); });
        } else {
          done(fallback(source));
        }
      });
    }
  }
  function fallback(node) {
    if (!node) return false;
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  window.KexueRead = { load: load, paint: paintLists };
  document.addEventListener("DOMContentLoaded", function () {
    setupArticle();
    paintLists();
    setupHide();
    setupSearchBox();
    setupCopy();
  });
  window.addEventListener("pageshow", paintLists);
  window.addEventListener("storage", paintLists);
})();
