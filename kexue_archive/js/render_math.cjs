// Render a stream of formulas with KaTeX: one Node process serves a whole build.
//
// Usage: node render_math.cjs <path of the katex package>
// stdin, one JSON object per line:
//   {"defs": "<TeX>", "id": "<name>"}        define macro set <name> (\def…\def…), no reply
//   {"tex": "<TeX>", "display": bool, "m": "<name>"|null, "tags": ["(1)", …]}
//       render; exactly one reply line (tags: what the numbered lines show, see fillTags):
//   {"ok": true, "html": "…"}  or  {"ok": false, "error": "…"}
// stdout starts with {"ready": "<katex version>"} once KaTeX is loaded.
// Called by kexue_archive/mathrender.py, which owns timeouts and fallbacks.
"use strict";

const path = require("node:path");
const readline = require("node:readline");
const katex = require(process.argv[2]);

try {
  // \ce and \pu (chemistry), which MathJax loads with \require{mhchem}; shipped with KaTeX.
  require(path.join(process.argv[2], "dist", "contrib", "mhchem.js"));
} catch {
  // An older KaTeX without it: such formulas fall back visibly.
}

const OPTIONS = {
  output: "htmlAndMathml",
  throwOnError: true, // a failure is reported, and the caller falls back to <code class="math-error">
  strict: "ignore", // the blog puts CJK text straight into math, as MathJax allows
  // No \href, \url, \htmlClass, \includegraphics…: KaTeX prints them inertly as text. The
  // \eqref links are placeholders from kexue_archive/eqnum.py that mathrender.py turns into links.
  trust: false,
  maxSize: 25, // em: caps \rule, \kern … sizes
  maxExpand: 1000, // macro expansions per formula: stops \def\a{\a\a}
  globalGroup: false,
};

// Commands MathJax knows and this KaTeX lacks, each defined only while KaTeX lacks it.
const MATHJAX_MACROS = Object.fromEntries(
  Object.entries({
    "\\mbox": "\\text{#1}",
    "\\mathds": "\\mathbb{#1}",
    "\\idotsint": "\\int\\cdots\\int",
  }).filter(([name]) => {
    try {
      katex.renderToString(`${name}{x}`, { throwOnError: true, strict: "ignore" });
      return false;
    } catch {
      return true;
    }
  }),
);

const macroSets = new Map();

function defineMacros(id, defs) {
  const macros = {};
  try {
    // globalGroup makes KaTeX store every \def in `macros`, ready for reuse.
    katex.renderToString(defs, { ...OPTIONS, macros, globalGroup: true });
  } catch {
    // Keep what was defined before the error; formulas using the rest fail visibly.
  }
  macroSets.set(id, macros);
}

// KaTeX's MathML has a few constructs the W3C checker (vnu) rejects, and every page must
// validate: an <mo> holding elements (\mathop{\text{…}}, \overset{…}{=}), CSS colour names
// in mathcolor (MathML allows only #hex and the 16 HTML 4 names), width on <mtd> (\tag).
const HTML4_COLOURS = new Set(
  "aqua black blue fuchsia gray green lime maroon navy olive purple red silver teal white yellow".split(" "),
);
const COLOUR_STYLE = { mathcolor: "color", mathbackground: "background-color" };

function isText(node) {
  return node.text !== undefined && node.type === undefined;
}

function addStyle(node, declaration) {
  const style = node.attributes.style;
  node.attributes.style = style ? `${style.replace(/;?\s*$/, "")};${declaration}` : declaration;
}

function textOf(node) {
  // The text of a node made only of token elements (<mi>, <mtext> …) and text, else null.
  if (isText(node)) return node.text;
  if (!["mi", "mn", "mo", "mtext"].includes(node.type) || Object.keys(node.attributes).length) return null;
  if (!node.children.every(isText)) return null;
  return node.children.map((child) => child.text).join("");
}

const FIXED_ARITY = new Set(["msub", "msup", "msubsup", "mover", "munder", "munderover", "mfrac", "mroot"]);
const SIZES = ["height", "width", "minHeight", "minWidth", "maxHeight", "maxWidth"];

function tidyHtml(node) {
  // A negative height is invalid CSS that browsers drop; drop it here so the page validates.
  for (const size of SIZES) {
    if (node.style && /^-/.test(node.style[size] || "")) delete node.style[size];
  }
  (node.children || []).forEach(tidy);
}

function wrapFragments(node) {
  // \operatorname in a script gives <msub> a fragment (<mi>diag</mi><mo>&#x2061;</mo>) as one
  // child, which serialises as two: <msub> then has three children. Wrap such fragments in <mrow>.
  node.children = node.children.map((child) =>
    typeof child.type !== "string" && Array.isArray(child.children) && !isText(child)
      ? new node.constructor("mrow", child.children)
      : child,
  );
}

function tidy(node) {
  if (!node || isText(node)) return;
  if (!node.attributes || typeof node.type !== "string") {
    tidyHtml(node);
    return;
  }
  node.children.forEach(tidy);
  if (FIXED_ARITY.has(node.type)) wrapFragments(node);
  for (const [name, value] of Object.entries(node.attributes)) {
    if (value === "") delete node.attributes[name]; // e.g. columnspacing="" on an empty aligned
  }
  if (node.type === "mo" && !node.children.every(isText)) {
    const texts = node.children.map(textOf);
    const text = texts.every((t) => t !== null) ? firstText(node) : null; // reuse one: KaTeX hides the class
    if (text) {
      text.text = texts.join("");
      node.children = [text];
    } else {
      node.type = "mrow";
      for (const name of Object.keys(node.attributes)) {
        if (!["mathcolor", "mathbackground", "style", "href", "id"].includes(name)) delete node.attributes[name];
      }
    }
  }
  for (const [attribute, property] of Object.entries(COLOUR_STYLE)) {
    const colour = node.attributes[attribute];
    if (colour && !/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(colour) && !HTML4_COLOURS.has(colour.toLowerCase())) {
      delete node.attributes[attribute];
      addStyle(node, `${property}:${colour}`);
    }
  }
  if (node.type === "mtd" && node.attributes.width) {
    addStyle(node, `width:${node.attributes.width}`);
    delete node.attributes.width;
  }
}

function fillTags(node, tags, proto) {
  // For \tag on lines of align*/gather*/equation*, KaTeX's MathML holds an empty
  // <mtd class="mml-eqn-num"> that its CSS fills from a page-wide counter: wrong numbers for
  // screen readers. Put the real tag there instead. (KaTeX shares one such <mtd> object
  // between all the lines of a table, so each occurrence is replaced, never mutated.)
  if (!node || isText(node) || !Array.isArray(node.children)) return;
  node.children = node.children.map((child) => {
    if (child && child.type === "mtd" && (child.classes || []).includes("mml-eqn-num")) {
      const tag = tags.shift();
      const text = tag === undefined || !proto ? [] : [Object.assign(Object.create(Object.getPrototypeOf(proto)), { text: tag })];
      return new child.constructor("mtd", text.length ? [new child.constructor("mtext", text)] : []);
    }
    fillTags(child, tags, proto);
    return child;
  });
}

function firstText(node) {
  if (isText(node)) return node;
  for (const child of node.children || []) {
    const found = firstText(child);
    if (found) return found;
  }
  return null;
}

function findMath(node) {
  // The <math> element inside KaTeX's HTML tree.
  if (!node || isText(node)) return null;
  if (node.type === "math") return node;
  for (const child of node.children || []) {
    const found = findMath(child);
    if (found) return found;
  }
  return null;
}

function render(request) {
  const macros = { ...MATHJAX_MACROS, ...(request.m == null ? {} : macroSets.get(request.m) || {}) };
  try {
    const tree = katex.__renderToDomTree(request.tex, { ...OPTIONS, displayMode: Boolean(request.display), macros });
    tidy(tree);
    const math = findMath(tree);
    fillTags(math, [...(request.tags || [])], firstText(math));
    const html = tree.toMarkup();
    return { ok: true, html };
  } catch (error) {
    const where = error.position === undefined ? "" : ` (at character ${error.position})`;
    return { ok: false, error: `${error.rawMessage || error.message || String(error)}${where}` };
  }
}

function handle(line) {
  if (!line) return;
  const request = JSON.parse(line);
  if (request.defs !== undefined) {
    defineMacros(request.id, request.defs);
    return;
  }
  process.stdout.write(JSON.stringify(render(request)) + "\n");
}

process.stdout.write(JSON.stringify({ ready: katex.version }) + "\n");
readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", handle);
