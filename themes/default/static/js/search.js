/* The search page: Pagefind's index under data-bundle, driven from the form.
   State lives in the URL (?q=…&year=…&sort=newest): typing replaces the
   history entry, a facet or order change adds one, and back restores it.
   Searching: a keystroke whose last word has EAGER letters or more starts the
   search at once, and its results are shown when no key has come for DEBOUNCE
   ms (quicker than a quick typist's pause): the search runs during the pause.
   A shorter last word waits DEBOUNCE ms for the next key first, its words'
   index chunks preloaded meanwhile (one preload at a time, of the latest
   text). One search is in flight at a time: keystrokes during it coalesce
   into one search of the latest query. Only the fragments of the results
   shown are fetched: FIRST at once, then PAGE at a time ("More results"). "Newest first" orders
   Pagefind's results by the date sort (a file of its own, which the entry names).
   Facets: Pagefind counts every facet value by scanning its result list
   (quadratic: seconds per query on a 10,000-talk archive), so its filters are
   never loaded into it. On opening the facet panel (or when the URL names a
   facet) this script reads the filter files itself (gzip, then CBOR), and
   filters and counts each query's results with a page-to-values table: one
   pass over the results. Each facet shows its SHOWN_VALUES top values, and
   "All N values" shows the rest of that facet on demand (up to EXPANDED_VALUES; the
   button and a note say how many are not shown, and that a query narrows them).
   Text from the archive is set as text, never as HTML: an excerpt is rebuilt from the
   content's own words, with Pagefind's <mark> as elements (see excerptNodes). */
(function () {
  "use strict";
  var root = document.querySelector("[data-search]");
  if (!root) { return; }
  var FIRST = 5, PAGE = 10, SHOWN_VALUES = 12, EXPANDED_VALUES = 200, DEBOUNCE = 80, EAGER = 5;
  var SPACES = /[\r\n\s]+/g, MARKED = /^<mark>([\s\S]*)<\/mark>$/;
  var MAX_FILE_BYTES = 64 * 1024 * 1024, MAX_CBOR_DEPTH = 8, SIGNATURE = "pagefind_dcd";
  var FACETS = [["kind", "Type"], ["year", "Year"], ["series", "Series"], ["event", "Event"], ["topic", "Topic"],
    ["speaker", "Speaker"], ["country", "Country"], ["media", "Media"]];
  var form = root.querySelector("form"), input = form.querySelector("#search-q"), order = form.querySelector("#search-sort");
  var status = root.querySelector("[data-search-status]"), body = root.querySelector("[data-search-body]");
  var list = root.querySelector("[data-search-results]"), more = root.querySelector("[data-search-more]");
  var facetBox = root.querySelector("[data-search-facets]"), facetOpen = root.querySelector("[data-search-facets-open]");
  var bundle = root.getAttribute("data-bundle");
  var state = { q: "", sort: "", filters: {} }, pagefind = null, loading = null, current = null, facets = null, facetsLoading = null;
  var pagesLoading = null, newestLoading = null;
  var sequence = 0, timer = 0, busy = false, pending = false, expanded = {}, lastCounts = null, preloading = null, preloadNext = null, typedAt = -Infinity;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function readUrl() {
    var params = new URLSearchParams(location.search), filters = {};
    FACETS.forEach(function (f) { var v = params.getAll(f[0]); if (v.length) { filters[f[0]] = v; } });
    state = { q: params.get("q") || "", sort: params.get("sort") === "newest" ? "newest" : "", filters: filters };
    input.value = state.q;
    order.value = state.sort;
  }
  function writeUrl(push) {
    var params = new URLSearchParams();
    if (state.q) { params.set("q", state.q); }
    FACETS.forEach(function (f) { (state.filters[f[0]] || []).forEach(function (v) { params.append(f[0], v); }); });
    if (state.sort) { params.set("sort", state.sort); }
    var query = params.toString(), url = location.pathname + (query ? "?" + query : "");
    if (url !== location.pathname + location.search) { history[push ? "pushState" : "replaceState"](null, "", url); }
  }
  function load() {
    if (!loading) {
      loading = import(bundle + "pagefind.js").then(async function (pf) {
        await pf.options({ basePath: bundle, excerptLength: 24 });
        await pf.init();
        pagefind = pf;
        return pf;
      });
    }
    return loading;
  }

  /* ---- Pagefind's files, read for the facets: gzip, "pagefind_dcd", then CBOR (fragments: JSON) ---- */
  async function readCapped(stream) {
    var reader = stream.getReader(), parts = [], total = 0;
    for (;;) {
      var step = await reader.read();
      if (step.done) { break; }
      total += step.value.length;
      if (total > MAX_FILE_BYTES) { reader.cancel(); throw new Error("a search file decodes to more than " + MAX_FILE_BYTES + " bytes"); }
      parts.push(step.value);
    }
    var out = new Uint8Array(total), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function signed(bytes) {
    return bytes.length >= 12 && new TextDecoder().decode(bytes.subarray(0, 12)) === SIGNATURE;
  }
  async function readIndexFile(path) {
    var response = await fetch(bundle + path);
    if (!response.ok) { throw new Error(path + ": HTTP " + response.status); }
    var bytes = await readCapped(response.body);
    if (!signed(bytes)) { bytes = await readCapped(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))); }
    if (!signed(bytes)) { throw new Error(path + ": not a Pagefind file"); }
    return bytes.subarray(12);
  }
  function cbor(bytes) {
    var pos = 0, text = new TextDecoder("utf-8", { fatal: true });
    function take(n) {
      if (n > bytes.length - pos) { throw new Error("CBOR: truncated"); }
      pos += n;
      return bytes.subarray(pos - n, pos);
    }
    function head() {
      var first = take(1)[0], info = first & 31, arg = info;
      if (info >= 24 && info <= 27) {
        arg = 0;
        take(1 << (info - 24)).forEach(function (b) { arg = arg * 256 + b; });
      } else if (info > 27) { throw new Error("CBOR: unsupported length"); }
      return [first >> 5, arg];
    }
    function count(n) {
      if (n > bytes.length - pos) { throw new Error("CBOR: a length past the end"); }
      return n;
    }
    function item(depth) {
      if (depth > MAX_CBOR_DEPTH) { throw new Error("CBOR: nested too deeply"); }
      var h = head(), major = h[0], n = h[1], out, i;
      if (major === 0) { return n; }
      if (major === 1) { return -1 - n; }
      if (major === 2) { return take(n); }
      if (major === 3) { return text.decode(take(n)); }
      if (major === 4) { out = []; for (i = count(n); i > 0; i--) { out.push(item(depth + 1)); } return out; }
      if (major === 5) { out = new Map(); for (i = count(n); i > 0; i--) { out.set(item(depth + 1), item(depth + 1)); } return out; }
      if (major === 7 && n >= 20 && n <= 22) { return [false, true, null][n - 20]; }
      throw new Error("CBOR: unsupported item");
    }
    return item(0);
  }
  function fileName(hash) {
    if (typeof hash !== "string" || !/^[A-Za-z0-9_-]{1,100}$/.test(hash)) { throw new Error("a Pagefind file name that is not a hash"); }
    return hash;
  }
  function loadPages() {
    // The entry's language (the page's, else the first), its meta, and each fragment name's page number.
    if (!pagesLoading) {
      pagesLoading = fetch(bundle + "pagefind-entry.json").then(function (r) { return r.json(); }).then(async function (entry) {
        var langs = entry.languages || {}, lang = langs[document.documentElement.lang] || langs[Object.keys(langs)[0]];
        var meta = cbor(await readIndexFile("pagefind." + fileName(lang.hash) + ".pf_meta"));
        var pages = meta[1].map(function (p) { return fileName(p[0]); }), index = new Map();
        pages.forEach(function (hash, i) { index.set(hash, i); });
        return { lang: lang, meta: meta, pages: pages, index: index };
      });
    }
    return pagesLoading;
  }
  function loadNewest() {
    // The dated pages newest first, and each page's place in that order (-1: no date). The date
    // sort is a file of its own that the entry names (sitegen's bundle), or in the meta (Pagefind's).
    if (!newestLoading) {
      newestLoading = loadPages().then(async function (t) {
        var named = t.lang.sorts && t.lang.sorts.date;
        var sort = named ? cbor(await readIndexFile("sort/" + fileName(named) + ".pf_sort"))
          : (t.meta[4] || []).filter(function (s) { return s[0] === "date"; })[0] || ["date", []];
        if (!Array.isArray(sort[1])) { throw new Error("the date sort cannot be read"); }
        var order = sort[1].filter(function (p) { return p >= 0 && p < t.pages.length; }).reverse(), rank = new Int32Array(t.pages.length).fill(-1);
        order.forEach(function (p, i) { rank[p] = i; });
        return { order: order, rank: rank };
      });
    }
    return newestLoading;
  }
  async function newestFirst(results) {
    // Pagefind's results, the dated ones newest first (people and pages have no date: left out).
    var t = await loadPages(), rank = (await loadNewest()).rank, dated = [];
    results.forEach(function (r) { var p = t.index.get(r.id); if (p !== undefined && rank[p] >= 0) { dated.push([rank[p], r]); } });
    dated.sort(function (a, b) { return a[0] - b[0]; });
    return dated.map(function (pair) { return pair[1]; });
  }
  async function loadFacetTable() {
    var t = await loadPages(), newest = await loadNewest();
    var table = { pages: t.pages, index: t.index, newest: newest.order, facets: {} };
    var files = await Promise.all(t.meta[3].map(function (f) { return readIndexFile("filter/" + fileName(f[1]) + ".pf_filter"); }));
    files.forEach(function (bytes) { addFacet(table, cbor(bytes)); });
    return table;
  }
  function addFacet(table, data) {
    // data: [name, [[value, [page index, …]], …]] -> the values, and each page's value numbers
    var values = [], number = new Map(), of = new Array(table.pages.length);
    data[1].forEach(function (pair, v) {
      values.push(String(pair[0]));
      number.set(String(pair[0]), v);
      pair[1].forEach(function (p) { if (p >= 0 && p < of.length) { (of[p] || (of[p] = [])).push(v); } });
    });
    table.facets[String(data[0])] = { values: values, number: number, of: of };
  }
  function loadFacets() {
    if (!facetsLoading) { facetsLoading = loadFacetTable().then(function (t) { facets = t; return t; }); }
    return facetsLoading;
  }

  /* ---- Filtering and counting, one pass over the results ---- */
  function chosenNumbers() {
    var out = [];
    Object.keys(state.filters).forEach(function (name) {
      var facet = facets.facets[name], wanted = new Set();
      state.filters[name].forEach(function (v) { var n = facet ? facet.number.get(v) : undefined; if (n !== undefined) { wanted.add(n); } });
      out.push({ of: facet ? facet.of : [], wanted: wanted });
    });
    return out;
  }
  function narrow(pages) {
    // pages: page numbers in result order -> those every chosen facet allows, and each facet's counts among them
    var chosen = chosenNumbers(), names = Object.keys(facets.facets), counts = {}, kept = [];
    names.forEach(function (name) { counts[name] = new Uint32Array(facets.facets[name].values.length); });
    pages.forEach(function (p) {
      var ok = chosen.every(function (c) { return (c.of[p] || []).some(function (v) { return c.wanted.has(v); }); });
      if (!ok) { return; }
      kept.push(p);
      names.forEach(function (name) { (facets.facets[name].of[p] || []).forEach(function (v) { counts[name][v]++; }); });
    });
    return { kept: kept, counts: counts };
  }
  function fragmentResult(page) {
    var hash = facets.pages[page];
    return { id: hash, data: async function () {
      var data = JSON.parse(new TextDecoder().decode(await readIndexFile("fragment/" + hash + ".pf_fragment")));
      // Pagefind's form: its first words, with < and > escaped as Pagefind escapes them
      var content = String(data.content || ""), words = content.split(SPACES).filter(Boolean).slice(0, 24);
      return { url: data.url, meta: data.meta, content: content, excerpt: words.map(escaped).join(" ") };
    } };
  }
  async function find() {
    // The results of the state's query, filtered; and the facet counts once the facets are loaded.
    var anyFilter = Object.keys(state.filters).length > 0, pf = await load();
    if (anyFilter) { await loadFacets(); }
    if (!state.q) {  // facets alone: every page they allow, newest first if asked
      var all = state.sort === "newest" ? facets.newest : facets.pages.map(function (_, i) { return i; });
      var only = narrow(all);
      return { results: only.kept.map(fragmentResult), counts: only.counts };
    }
    var search = await pf.search(state.q);
    if (search && state.sort === "newest") { search = { results: await newestFirst(search.results) }; }
    if (!search || !facets) { return search && { results: search.results, counts: null }; }
    var byPage = new Map(), pages = [];
    search.results.forEach(function (r) { var p = facets.index.get(r.id); if (p !== undefined) { byPage.set(p, r); pages.push(p); } });
    var got = narrow(pages);
    return { results: got.kept.map(function (p) { return byPage.get(p); }), counts: got.counts };
  }

  /* ---- One search at a time; keystrokes meanwhile coalesce into the next ---- */
  function preload(text) {
    // One preload at a time; of the text typed meanwhile, only the latest is preloaded next.
    preloadNext = text;
    if (!pagefind || preloading) { return; }
    preloadNext = null;
    preloading = pagefind.preload(text).catch(function () { /* the search reports failures */ }).then(function () {
      preloading = null;
      if (preloadNext !== null) { preload(preloadNext); }
    });
  }
  function request(delay) {
    clearTimeout(timer);
    timer = setTimeout(function () { timer = 0; start(); }, delay);
  }
  async function start() {
    if (busy) { pending = true; return; }
    busy = true;
    try { await run(); } catch (error) { status.textContent = "Search failed: " + String(error && error.message || error).slice(0, 120); }
    busy = false;
    if (pending) { pending = false; start(); }
  }
  function superseded(mine) { return mine !== sequence || pending || timer !== 0; }
  async function run() {
    var mine = ++sequence, anyFilter = Object.keys(state.filters).length > 0;
    if (!state.q && !anyFilter) { writeUrl(false); body.hidden = true; status.textContent = ""; return; }
    var found = await find();
    var pause = typedAt + DEBOUNCE - performance.now();  // the results wait for a pause in the typing
    if (pause > 0 && !superseded(mine)) { await new Promise(function (done) { setTimeout(done, pause); }); }
    if (superseded(mine) || !found) { return; }
    writeUrl(false);  // the query typed, once its results are shown (not with every key)
    current = { results: found.results, shown: 0 };
    list.textContent = "";
    lastCounts = found.counts;
    if (found.counts) { drawFacets(found.counts); }
    facetOpen.hidden = !!facets;
    var n = found.results.length;
    body.hidden = false;
    await showMore(mine, FIRST);
    if (mine !== sequence) { return; }
    // Announced once the first results are on screen.
    status.textContent = (n === 0 ? "No results" : n + (n === 1 ? " result" : " results")) + (state.q ? " for “" + state.q + "”" : "") + (anyFilter ? " (filtered)" : "")
      + (state.sort === "newest" ? "; newest first lists talks and events only (people and pages have no date)" : "");
  }
  async function showMore(mine, count) {
    var batch = current.results.slice(current.shown, current.shown + count);
    current.shown += batch.length;
    var datas = await Promise.all(batch.map(function (r) { return r.data(); }));
    if (mine !== sequence) { return; }
    datas.forEach(function (d) { list.appendChild(resultItem(d)); });
    more.hidden = current.shown >= current.results.length;
  }
  function resultItem(data) {
    var meta = data.meta || {}, item = el("li"), h = el("h2"), a = el("a", meta.title || data.url);
    if (/^\/(?!\/)/.test(data.url)) { a.href = data.url; }
    h.appendChild(a);
    item.appendChild(h);
    var parts = [meta.speakers, meta.event, meta.place, meta.date].filter(Boolean);
    if (meta.kind && meta.kind !== "talk") { parts.unshift(meta.kind.charAt(0).toUpperCase() + meta.kind.slice(1)); }
    if (parts.length) { item.appendChild(el("p", parts.join(" · "), "meta")); }
    item.appendChild(excerptNodes(el("p", "", "excerpt"), data));
    return item;
  }
  function escaped(word) { return word.replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function excerptNodes(box, data) {
    // Pagefind's excerpt is a run of the content's words, each with < and > escaped (not &),
    // the matched ones as <mark>word</mark>; joined by spaces. Its markers are unambiguous
    // (a < from the text is escaped), its text is not ("&lt;" may be the data's own): so the
    // words shown are the content's, found where the excerpt's run starts.
    var tokens = String(data.excerpt || "").split(" ").filter(Boolean), marks = [], plain = [];
    tokens.forEach(function (t) { var m = MARKED.exec(t); marks.push(!!m); plain.push(m ? m[1] : t); });
    var words = String(data.content || "").split(SPACES).filter(Boolean), start = runStart(words, plain);
    var texts = start < 0 ? plain.map(function (t) { return t.replace(/&lt;/g, "<").replace(/&gt;/g, ">"); })
      : words.slice(start, start + plain.length);
    texts.forEach(function (text, i) {
      if (i > 0) { box.appendChild(document.createTextNode(" ")); }
      box.appendChild(marks[i] ? el("mark", text) : document.createTextNode(text));
    });
    return box;
  }
  function runStart(words, plain) {
    // The first place where the content's words, escaped, are the excerpt's; -1 if none.
    if (!plain.length) { return -1; }
    for (var i = 0; i + plain.length <= words.length; i++) {
      if (escaped(words[i]) !== plain[0]) { continue; }
      for (var k = 1; k < plain.length && escaped(words[i + k]) === plain[k]; k++) { /* next word */ }
      if (k === plain.length) { return i; }
    }
    return -1;
  }

  /* ---- The facet panel: the top values of each facet, the rest on demand ---- */
  function shownValues(name, counts) {
    var facet = facets.facets[name], chosen = state.filters[name] || [], keys = [];
    facet.values.forEach(function (value, v) { if (counts[v] > 0 || chosen.indexOf(value) >= 0) { keys.push(value); } });
    chosen.forEach(function (value) { if (!facet.number.has(value)) { keys.push(value); } });
    var count = function (value) { var v = facet.number.get(value); return v === undefined ? 0 : counts[v]; };
    keys.sort(function (a, b) { return (chosen.indexOf(b) >= 0) - (chosen.indexOf(a) >= 0) || count(b) - count(a) || (a < b ? -1 : a > b ? 1 : 0); });
    if (name === "year") { keys.sort(function (a, b) { return b < a ? -1 : b > a ? 1 : 0; }); }
    var limit = Math.max(expanded[name] ? EXPANDED_VALUES : SHOWN_VALUES, chosen.length);
    return { keys: keys.slice(0, limit), total: keys.length, count: count };
  }
  function facetSet(facet, shown) {
    var name = facet[0], chosen = state.filters[name] || [], set = el("fieldset");
    set.appendChild(el("legend", facet[1]));
    shown.keys.forEach(function (value) {
      var label = el("label"), box = el("input");
      box.type = "checkbox"; box.name = name; box.value = value; box.checked = chosen.indexOf(value) >= 0;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + value + " "));
      label.appendChild(el("span", "(" + shown.count(value) + ")", "count"));
      set.appendChild(label);
    });
    if (shown.total > SHOWN_VALUES) { facetToggle(set, facet, shown); }
    return set;
  }
  function number(n) { return n.toLocaleString("en-US"); }
  function facetToggle(set, facet, shown) {
    // "All N values", or past the cap "Show 200 of N"; expanded past it, a note says how many are not shown.
    var name = facet[0], open = !!expanded[name], what = facet[1].toLowerCase() + " values";
    var label = shown.total > EXPANDED_VALUES ? "Show " + number(EXPANDED_VALUES) + " of " + number(shown.total) : "All " + shown.total + " values";
    var toggle = el("button", open ? "Fewer" : label, "search-facet-more");
    toggle.type = "button";
    toggle.setAttribute("data-facet", name);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.setAttribute("aria-label", open ? "Fewer " + what : label.replace(" values", "") + " " + what);
    var hidden = shown.total - shown.keys.length;
    if (open && hidden > 0) {
      set.appendChild(el("p", number(hidden) + " more " + what + " not shown: type in the search box to narrow the results, and with them this list.", "search-facet-note"));
    }
    set.appendChild(toggle);
  }
  function drawFacets(counts) {
    // Redrawn with each query (a bounded number of nodes): a keyboard user's focus stays where it was.
    var focused = facetBox.contains(document.activeElement) ? document.activeElement : null;
    var again = focused && (focused.name ? "input[name='" + CSS.escape(focused.name) + "'][value='" + CSS.escape(focused.value) + "']"
      : "button[data-facet='" + CSS.escape(focused.getAttribute("data-facet") || "") + "']");
    facetBox.textContent = "";
    FACETS.forEach(function (facet) {
      if (!facets.facets[facet[0]]) { return; }
      var shown = shownValues(facet[0], counts[facet[0]]);
      if (shown.keys.length) { facetBox.appendChild(facetSet(facet, shown)); }
    });
    var target = again && facetBox.querySelector(again);
    if (target) { target.focus(); }
  }
  facetBox.addEventListener("change", function (event) {
    var box = event.target, chosen = (state.filters[box.name] || []).filter(function (v) { return v !== box.value; });
    if (box.checked) { chosen.push(box.value); }
    if (chosen.length) { state.filters[box.name] = chosen; } else { delete state.filters[box.name]; }
    writeUrl(true);
    request(0);
  });
  facetBox.addEventListener("click", function (event) {
    var name = event.target.getAttribute && event.target.getAttribute("data-facet");
    if (!name) { return; }
    expanded[name] = !expanded[name];
    if (lastCounts) { drawFacets(lastCounts); }
  });
  input.addEventListener("focus", function () { load(); });
  input.addEventListener("input", function () {
    // A last word of EAGER letters or more is searched at once, and the results wait for a pause
    // in the typing (DEBOUNCE), so the search runs while the page waits. A shorter last word waits
    // for the next key first: a search of a word's first letters matches every word they start
    // (all of "d"'s index chunks; "rel" takes most of a second on a 10,000-talk archive), and
    // one search at a time means the next waits for it. Meanwhile words of 3+ letters are preloaded.
    var q = input.value.trim(), words = q.split(/\s+/), longer = words.filter(function (word) { return word.length >= 3; });
    typedAt = performance.now();
    clearTimeout(timer);
    timer = 0;
    if (words[words.length - 1].length >= EAGER) { preloadNext = null; state.q = q; start(); return; }
    if (longer.length) { preload(longer.join(" ")); }
    timer = setTimeout(function () { timer = 0; preloadNext = null; state.q = q; start(); }, DEBOUNCE);
  });
  order.addEventListener("change", function () { state.sort = order.value; writeUrl(true); request(0); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    state.q = input.value.trim();
    writeUrl(true);
    request(0);
  });
  more.addEventListener("click", function () { showMore(sequence, PAGE); });
  facetOpen.addEventListener("click", async function () {
    facetOpen.disabled = true;
    try { await loadFacets(); } catch (error) { status.textContent = "The facets could not be loaded: " + String(error && error.message || error).slice(0, 120); }
    facetOpen.disabled = false;
    if (!facets) { return; }
    request(0);
    await new Promise(function (done) { var wait = function () { if (busy || timer) { setTimeout(wait, 20); } else { done(); } }; wait(); });
    var first = facetBox.querySelector("input");
    if (first) { first.focus(); }
  });
  window.addEventListener("popstate", function () { readUrl(); request(0); });
  readUrl();
  request(0);
})();
