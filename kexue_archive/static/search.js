/* kexue-archive in-page search: the CLI's query language and matching rules (kexue_archive/query.py),
   ported line for line, over the shards in window.KEXUE_SHARDS with window.KEXUE_FOLD (both written by the build).
   A term matches when its folded form is a substring of the folded field; Latin/digit edges of a
   term must meet non-word characters (whole words). Folding (kexue_archive/analysis.py) is per
   character: t2s(NFKC(c).toLowerCase()) unless the build listed c among the exceptions. */
(function () {
  "use strict";
  /* The data ships in shards (assets/search/NN.js, by a hash of the id); each pushes its items.
     Ordered here by date (newest first, year-less then undated last, ties by id), as the CLI lists,
     so that results never depend on which shard holds what. */
  var ITEMS = [].concat.apply([], window.KEXUE_SHARDS || []);
  function rankOf(date) { return !date ? 2 : (date.charAt(0) === "-" ? 1 : 0); }
  ITEMS.sort(function (a, b) {
    var ra = rankOf(a[2]), rb = rankOf(b[2]);
    if (ra !== rb) return ra - rb;
    if (a[2] !== b[2]) return a[2] < b[2] ? 1 : -1;
    return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0);
  });
  window.KEXUE_INDEX = { items: ITEMS };  /* for the tests and the console */
  var FOLD = window.KEXUE_FOLD || { t2s: {}, exceptions: {}, spaces: " \t\n\r\f\v", cjk: "", fields: ["title", "excerpt", "math", "author"], default: ["title", "excerpt", "math"] };
  var PAGE = 100;
  var has = Object.prototype.hasOwnProperty;
  var CJK = FOLD.cjk ? new RegExp("[" + FOLD.cjk + "]", "u") : /(?!)/;
  var LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
  var FIELD = new RegExp("(" + FOLD.fields.join("|") + "):", "y");

  /* -- folding ---------------------------------------------------------------------------- */
  var memo = new Map();
  function foldChar(c) {
    var f = memo.get(c);
    if (f !== undefined) return f;
    if (has.call(FOLD.exceptions, c)) f = FOLD.exceptions[c];
    else {
      f = "";
      for (var ch of c.normalize("NFKC").toLowerCase()) f += has.call(FOLD.t2s, ch) ? FOLD.t2s[ch] : ch;
    }
    memo.set(c, f);
    return f;
  }
  /* Fast path: printable ASCII but capitals, and CJK ideographs with no traditional form, fold to
     themselves; a regular expression finds the other characters and only those go through foldChar. */
  var MAPPED = Object.keys(FOLD.t2s).concat(Object.keys(FOLD.exceptions))
    .filter(function (c) { return (c >= "\u4e00" && c <= "\u9fff") || (c >= " " && c <= "~"); }).join("")
    .replace(/[\\\]\^-]/g, "\\$&");
  var OTHERS = new RegExp("[^\\x20-\\x40\\x5b-\\x7e\\u4e00-\\u9fff]" + (MAPPED ? "|[" + MAPPED + "]" : ""), "gu");
  function fold(s) { return s.replace(OTHERS, foldChar); }
  /* Folded text plus, per folded code unit, where its original character starts and ends. */
  function foldMap(s) {
    var text = "", from = [], to = [], at = 0;
    for (var c of s) {
      var f = foldChar(c);
      for (var j = 0; j < f.length; j++) { from.push(at); to.push(at + c.length); }
      text += f;
      at += c.length;
    }
    return { text: text, from: from, to: to };
  }
  function isSpace(c) { return c !== "" && FOLD.spaces.indexOf(c) >= 0; }
  function isWordChar(c) { return c !== "" && c !== "_" && LETTER_OR_DIGIT.test(c) && !CJK.test(c); }
  function charAfter(s, at) { return at < s.length ? String.fromCodePoint(s.codePointAt(at)) : ""; }
  function charBefore(s, at) {
    if (at <= 0) return "";
    var low = s.charCodeAt(at - 1);
    return at >= 2 && low >= 0xdc00 && low <= 0xdfff ? s.slice(at - 2, at) : s.charAt(at - 1);
  }
  function lastChar(s) { return charBefore(s, s.length); }

  /* Start offsets of needle in folded that respect whole-word edges (query.occurrences). */
  var EDGES = new Map();  /* needle -> [check its start, check its end]: regular expressions, so once per needle */
  function occurrences(needle, folded, limit) {
    var edges = EDGES.get(needle);
    if (edges === undefined) {
      edges = [isWordChar(charAfter(needle, 0)), isWordChar(lastChar(needle))];
      EDGES.set(needle, edges);
    }
    var out = [], checkStart = edges[0], checkEnd = edges[1];
    for (var at = folded.indexOf(needle); at >= 0; at = folded.indexOf(needle, at + 1)) {
      var end = at + needle.length;
      if (!(checkStart && isWordChar(charBefore(folded, at))) && !(checkEnd && isWordChar(charAfter(folded, end)))) {
        out.push(at);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  /* -- candidates: a Bloom filter per document of the UTF-16 code units and code-unit pairs of its
     folded fields. A term occurring in a field has all its units and pairs there, so a document
     missing any of the term's bits cannot match and is never scanned; the scan decides the rest. -- */
  var WORDS = 64;  /* 2,048 bits a document: 10,000 documents take 2.5 MB */
  var BLOOM = null;
  function gram(a, b) { var h = Math.imul(a * 65537 + b + 1, 0x9e3779b1); return (h ^ (h >>> 15)) & (WORDS * 32 - 1); }
  function addGrams(bits, base, s) {
    for (var k = 0; k < s.length; k++) {
      var g = gram(s.charCodeAt(k), k + 1 < s.length ? s.charCodeAt(k + 1) : -1);
      bits[base + (g >>> 5)] |= 1 << (g & 31);
      if (k + 1 < s.length) {
        var u = gram(s.charCodeAt(k), -1);
        bits[base + (u >>> 5)] |= 1 << (u & 31);
      }
    }
  }
  function bloom() {
    if (BLOOM) return BLOOM;
    var bits = new Int32Array(ITEMS.length * WORDS);
    for (var i = 0; i < ITEMS.length; i++) {
      for (var f = 0; f < FOLD.fields.length; f++) addGrams(bits, i * WORDS, field(i, FOLD.fields[f]));
    }
    return (BLOOM = bits);
  }
  /* The (word, mask) pairs a document's filter must all have for it to hold needle. */
  function probe(needle) {
    var masks = new Map();
    for (var k = 0; k < needle.length; k++) {
      var gs = [gram(needle.charCodeAt(k), -1)];
      if (k + 1 < needle.length) gs.push(gram(needle.charCodeAt(k), needle.charCodeAt(k + 1)));
      gs.forEach(function (g) { masks.set(g >>> 5, (masks.get(g >>> 5) || 0) | (1 << (g & 31))); });
    }
    var out = [];
    masks.forEach(function (mask, word) { out.push(word, mask); });
    return out;
  }
  function mayHold(probeList, i) {
    var bits = BLOOM, base = i * WORDS;
    for (var k = 0; k < probeList.length; k += 2) {
      if ((bits[base + probeList[k]] & probeList[k + 1]) !== probeList[k + 1]) return false;
    }
    return true;
  }

  /* -- the query language (query._lex / query._Parser) ----------------------------------------- */
  function QueryError(message) { this.message = message; }

  function lex(query) {
    var toks = [], depth = 0, i = 0, n = query.length, chunkStart = true;
    while (i < n) {
      var c = query.charAt(i);
      if (isSpace(c)) { i += 1; chunkStart = true; continue; }
      if (c === '"') {
        var close = query.indexOf('"', i + 1);
        if (close < 0) throw new QueryError("引号没有闭合：" + query.slice(i));
        toks.push({ kind: "phrase", text: query.slice(i + 1, close) });
        i = close + 1; chunkStart = false; continue;
      }
      if (chunkStart && c === "(") { toks.push({ kind: "(" }); depth += 1; i += 1; continue; }
      if (chunkStart && c === "-" && i + 1 < n && !isSpace(query.charAt(i + 1)) && query.charAt(i + 1) !== "-") {
        toks.push({ kind: "NOT" }); i += 1; continue;
      }
      FIELD.lastIndex = i;
      var m = chunkStart ? FIELD.exec(query) : null;
      if (m && FIELD.lastIndex < n && !isSpace(query.charAt(FIELD.lastIndex))) {
        toks.push({ kind: "field", text: m[1] }); i = FIELD.lastIndex; continue;
      }
      var end = i;
      while (end < n && !isSpace(query.charAt(end)) && query.charAt(end) !== '"') end += 1;
      var word = query.slice(i, end), closing = 0;
      while (word.slice(-1) === ")" && depth > closing && (end === n || query.charAt(end) !== '"')) {
        word = word.slice(0, -1); closing += 1;
      }
      if ((word === "AND" || word === "OR" || word === "NOT") && chunkStart && closing === 0 && (end === n || isSpace(query.charAt(end)))) {
        toks.push({ kind: word });
      } else if (word) {
        toks.push({ kind: "word", text: word });
      }
      for (var k = 0; k < closing; k++) toks.push({ kind: ")" });
      depth -= closing; i = end; chunkStart = false;
    }
    return toks;
  }

  function parse(query) {
    var toks = lex(query.normalize("NFKC")), at = 0;
    function peek() { return at < toks.length ? toks[at].kind : "end"; }
    function take() { return toks[at++]; }
    function orExpr(fields) {
      var children = [andExpr(fields)];
      while (peek() === "OR") {
        take();
        if (["end", ")", "OR"].indexOf(peek()) >= 0) throw new QueryError("OR 两边都需要有词");
        children.push(andExpr(fields));
      }
      return children.length === 1 ? children[0] : { t: "or", children: children };
    }
    function andExpr(fields) {
      var children = [];
      while (["end", ")", "OR"].indexOf(peek()) < 0) {
        if (peek() === "AND") {
          take();
          if (!children.length || ["end", ")", "OR", "AND"].indexOf(peek()) >= 0) throw new QueryError("AND 两边都需要有词");
          continue;
        }
        children.push(unary(fields));
      }
      if (!children.length) throw new QueryError(peek() === "OR" ? "OR 两边都需要有词" : "括号里是空的");
      return children.length === 1 ? children[0] : { t: "and", children: children };
    }
    function unary(fields) {
      if (peek() === "NOT") {
        take();
        if (["end", ")", "OR", "AND"].indexOf(peek()) >= 0) throw new QueryError("NOT（或开头的 -）后面需要有词");
        return { t: "not", child: unary(fields) };
      }
      return primary(fields);
    }
    function primary(fields) {
      var tok = take();
      if (tok.kind === "field") {
        if (["word", "phrase", "("].indexOf(peek()) < 0) throw new QueryError(tok.text + ": 后面需要一个词、\"短语\"或（括号）");
        return primary([tok.text]);
      }
      if (tok.kind === "(") {
        var node = orExpr(fields);
        if (peek() !== ")") throw new QueryError("括号没有闭合");
        take();
        return node;
      }
      if (tok.kind === "word" || tok.kind === "phrase") {
        var text = fold(tok.text).trim();
        if (!text) throw new QueryError("“" + tok.text + "”里没有可搜索的内容");
        return { t: "atom", text: text, fields: fields };
      }
      throw new QueryError("意外的 " + tok.kind);
    }
    if (!toks.length) throw new QueryError("搜索词是空的");
    var node = orExpr(null);
    if (peek() !== "end") throw new QueryError("意外的 " + peek());
    if (!positiveAtoms(node, false).length) throw new QueryError("搜索词只有排除项；请加上要查找的词（例如 模型 -熵）");
    return node;
  }

  function positiveAtoms(node, negated) {
    if (node.t === "atom") return negated ? [] : [node];
    if (node.t === "not") return positiveAtoms(node.child, !negated);
    return node.children.reduce(function (acc, c) { return acc.concat(positiveAtoms(c, negated)); }, []);
  }

  /* -- documents ---------------------------------------------------------------------------- */
  var folded = [];
  function field(i, name) {
    var doc = folded[i] || (folded[i] = {});
    if (!has.call(doc, name)) doc[name] = fold(raw(i, name));
    return doc[name];
  }
  function raw(i, name) {
    var e = ITEMS[i];
    if (name === "title") return e[1];
    if (name === "excerpt") return e[5];
    if (name === "author") return e[4];
    var parts = [];
    for (var k = 0; k + 1 < e[6].length; k += 2) parts.push(e[5].slice(e[6][k], e[6][k + 1]));
    return parts.join("\n");
  }
  function test(node, i) {
    if (node.t === "atom") {
      if (!mayHold(node.probe || (node.probe = probe(node.text)), i)) return false;
      var fields = node.fields || FOLD.default;
      for (var k = 0; k < fields.length; k++) {
        // Every formula's TeX stands in the excerpt between non-word delimiters, so a term without a
        // space that is not in the excerpt is not in the math field either (which only joins them).
        if (fields[k] === "math" && fields.indexOf("excerpt") >= 0 && node.text.indexOf(" ") < 0) continue;
        if (occurrences(node.text, field(i, fields[k]), 1).length) return true;
      }
      return false;
    }
    if (node.t === "not") return !test(node.child, i);
    if (node.t === "and") return node.children.every(function (c) { return test(c, i); });
    return node.children.some(function (c) { return test(c, i); });
  }

  function yearOf(date) { return date && date.charAt(0) !== "-" ? date.slice(0, 4) : "unknown"; }
  function byId(a, b) { return ITEMS[a][0] < ITEMS[b][0] ? -1 : 1; }
  function byReaders(a, b) {
    var ra = ITEMS[a][3], rb = ITEMS[b][3];
    if ((ra === null) !== (rb === null)) return ra === null ? 1 : -1;
    if (ra !== rb) return rb - ra;
    return byId(a, b);
  }

  /* Hits for a state {q, year, sort}; relevance puts title matches first, as the CLI ranks them. */
  function search(state) {
    var node = parse(state.q), hits = [], terms = positiveAtoms(node, false);
    bloom();
    for (var i = 0; i < ITEMS.length; i++) {
      if (state.year && yearOf(ITEMS[i][2]) !== state.year) continue;
      if (test(node, i)) hits.push(i);
    }
    /* hits come in ITEMS order, the date order: sorting by date is a no-op, relevance a stable split */
    if (state.sort === "readers") hits.sort(byReaders);
    else if (state.sort !== "date") {
      var inTitle = function (i) {
        return terms.some(function (t) { return (t.fields || FOLD.default).indexOf("title") >= 0 && occurrences(t.text, field(i, "title"), 1).length; });
      };
      var first = [], rest = [];
      hits.forEach(function (i) { (inTitle(i) ? first : rest).push(i); });
      hits = first.concat(rest);
    }
    return { hits: hits, terms: terms.map(function (t) { return t.text; }) };
  }

  /* -- drawing (DOM nodes only: no record text is ever parsed as HTML) ---------------------------- */
  function spans(text, terms) {
    var fm = foldMap(text), out = [];
    terms.forEach(function (t) {
      occurrences(t, fm.text, 200).forEach(function (at) { out.push([fm.from[at], fm.to[at + t.length - 1]]); });
    });
    out.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    return out;
  }
  function marked(text, found, start, end) {
    var frag = document.createDocumentFragment(), pos = start;
    found.forEach(function (s) {
      var a = Math.max(s[0], pos), b = Math.min(s[1], end);
      if (b <= a) return;
      if (a > pos) frag.appendChild(document.createTextNode(text.slice(pos, a)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(a, b);
      frag.appendChild(mark);
      pos = b;
    });
    if (pos < end) frag.appendChild(document.createTextNode(text.slice(pos, end)));
    return frag;
  }
  function snippet(text, terms) {
    var found = spans(text, terms);
    var start = found.length ? Math.max(0, found[0][0] - 30) : 0;
    var end = Math.min(text.length, start + 160);
    var frag = document.createDocumentFragment();
    if (start > 0) frag.appendChild(document.createTextNode("…"));
    frag.appendChild(marked(text, found, start, end));
    if (end < text.length) frag.appendChild(document.createTextNode("…"));
    return frag;
  }
  function label(date) {
    var m = /^(\d{4}|-)-(\d\d)-(\d\d)$/.exec(date || "");
    if (!m) return date || "日期不详";
    var md = parseInt(m[2], 10) + "月" + parseInt(m[3], 10) + "日";
    return m[1] === "-" ? md + "（年份不详）" : m[1] + "年" + md;
  }
  function card(i, terms, root) {
    var e = ITEMS[i];
    var li = document.createElement("li");
    li.className = "card";
    li.setAttribute("data-id", e[0]);
    var h = document.createElement("h2");
    h.className = "card-title";
    var a = document.createElement("a");
    a.href = root + "articles/" + e[0] + ".html";
    if (e[1]) a.appendChild(marked(e[1], spans(e[1], terms), 0, e[1].length));
    else a.textContent = "（无标题 · " + e[0] + "）";
    h.appendChild(a);
    var tag = document.createElement("span");
    tag.className = "read-mark";
    h.appendChild(tag);
    li.appendChild(h);
    var meta = document.createElement("p");
    meta.className = "card-meta meta";
    meta.textContent = label(e[2]) + (e[3] === null ? "" : " · " + e[3].toLocaleString("en-US") + " 位读者");
    li.appendChild(meta);
    var p = document.createElement("p");
    p.className = "card-excerpt";
    p.appendChild(snippet(e[5].replace(/\s+/g, " "), terms));
    li.appendChild(p);
    return li;
  }

  /* -- the page: state lives in the URL hash (#q=…&year=…&sort=…), so searches can be bookmarked --- */
  function readState() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (!params.has("q")) params = new URLSearchParams(window.location.search);
    var sort = params.get("sort");
    return { q: params.get("q") || "", year: params.get("year") || "", sort: sort === "date" || sort === "readers" ? sort : "relevance" };
  }
  function hashOf(state) {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.year) params.set("year", state.year);
    if (state.sort !== "relevance") params.set("sort", state.sort);
    return params.toString();
  }

  function setup() {
    var form = document.getElementById("search-form");
    if (!form) return;
    var q = document.getElementById("q"), year = document.getElementById("year"), sort = document.getElementById("sort");
    var status = document.getElementById("search-status"), list = document.getElementById("results");
    var root = document.documentElement.getAttribute("data-root") || "";
    var timer = null, shown = PAGE;

    function current() { return { q: q.value.trim(), year: year.value, sort: sort.value }; }
    function show(state) {
      list.textContent = "";
      if (!state.q) { status.textContent = "输入搜索词，在 " + ITEMS.length + " 篇文章的标题和摘要中查找。"; return; }
      var result;
      try { result = search(state); } catch (err) {
        if (!(err instanceof QueryError)) throw err;
        status.textContent = "无法理解这个搜索：" + err.message;
        return;
      }
      result.hits.slice(0, shown).forEach(function (i) { list.appendChild(card(i, result.terms, root)); });
      var n = result.hits.length;
      status.textContent = n ? "找到 " + n + " 篇" + (n > shown ? "，显示前 " + shown + " 篇" : "") + "。" : "没有找到符合“" + state.q + "”的文章。";
      if (n > shown) {
        var li = document.createElement("li"), more = document.createElement("button");
        more.type = "button";
        more.textContent = "显示更多";
        more.addEventListener("click", function () { shown += PAGE; show(current()); });
        li.appendChild(more);
        list.appendChild(li);
      }
      if (window.KexueRead) window.KexueRead.paint();
    }
    function fromUrl() {
      var state = readState();
      q.value = state.q;
      year.value = Array.prototype.some.call(year.options, function (o) { return o.value === state.year; }) ? state.year : "";
      sort.value = state.sort;
      shown = PAGE;
      show(current());
    }
    function update() {
      var state = current(), hash = hashOf(state);
      if ("#" + hash !== window.location.hash) history.replaceState(null, "", window.location.pathname + (hash ? "#" + hash : ""));
      shown = PAGE;
      show(state);
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); update(); });
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
    year.addEventListener("change", update);
    sort.addEventListener("change", update);
    window.addEventListener("hashchange", fromUrl);
    fromUrl();
  }

  window.KexueSearch = { fold: fold, parse: parse, search: search, occurrences: occurrences, QueryError: QueryError };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
