// Render a stream of formulas with KaTeX: one Node process serves a whole build.
//
// Usage: node render_math.cjs <path of the katex package>
// stdin, one JSON object per line:
//   {"defs": "<TeX>", "id": "<name>"}        define macro set <name> (\def…\def…), no reply
//   {"tex": "<TeX>", "display": bool, "m": "<name>"|null}   render; exactly one reply line:
//   {"ok": true, "html": "…"}  or  {"ok": false, "error": "…"}
// stdout starts with {"ready": "<katex version>"} once KaTeX is loaded.
// Called by kexue_archive/mathrender.py, which owns timeouts and fallbacks.
"use strict";

const readline = require("node:readline");
const katex = require(process.argv[2]);

// The only link a formula may carry: an in-page anchor made by kexue_archive/eqnum.py
// for \eqref/\ref (eqnum.ANCHOR). Everything else \href, \url, \htmlClass, \includegraphics…
// would make is refused, and KaTeX then prints the command inertly as text.
const ANCHOR = /^#eq-[A-Za-z0-9]+-t?[0-9]+$/;

const OPTIONS = {
  output: "htmlAndMathml",
  throwOnError: true, // a failure is reported, and the caller falls back to <code class="math-error">
  strict: "ignore", // the blog puts CJK text straight into math, as MathJax allows
  trust: (context) => context.command === "\\href" && ANCHOR.test(context.url),
  maxSize: 25, // em: caps \rule, \kern … sizes
  maxExpand: 1000, // macro expansions per formula: stops \def\a{\a\a}
  globalGroup: false,
};

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

function render(request) {
  const macros = request.m == null ? {} : { ...(macroSets.get(request.m) || {}) };
  try {
    const html = katex.renderToString(request.tex, { ...OPTIONS, displayMode: Boolean(request.display), macros });
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
