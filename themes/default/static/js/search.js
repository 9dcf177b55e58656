/* The search page: Pagefind's index under data-bundle, driven from the form.
   State lives in the URL (?q=…&year=…&sort=newest): typing replaces the
   history entry, a facet or order change adds one, and back restores it.
   Only the fragments of the results shown are fetched, PAGE at a time. Text
   from the archive is set as text; Pagefind's excerpts keep only their <mark>. */
(function () {
  "use strict";
  var root = document.querySelector("[data-search]");
  if (!root) { return; }
  var PAGE = 10, SHOWN_VALUES = 12;
  var FACETS = [["kind", "Type"], ["year", "Year"], ["series", "Series"], ["event", "Event"], ["topic", "Topic"],
    ["speaker", "Speaker"], ["country", "Country"], ["media", "Media"]];
  var form = root.querySelector("form"), input = form.querySelector("#search-q"), order = form.querySelector("#search-sort");
  var status = root.querySelector("[data-search-status]"), body = root.querySelector("[data-search-body]");
  var list = root.querySelector("[data-search-results]"), more = root.querySelector("[data-search-more]");
  var facetBox = root.querySelector("[data-search-facets]");
  var state = { q: "", sort: "", filters: {} }, pagefind = null, current = null, sequence = 0, timer = 0;

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
  function filterOption() {
    var out = {};
    Object.keys(state.filters).forEach(function (k) { out[k] = { any: state.filters[k] }; });
    return out;
  }
  async function load() {
    if (!pagefind) {
      var bundle = root.getAttribute("data-bundle");
      pagefind = await import(bundle + "pagefind.js");
      await pagefind.options({ basePath: bundle, excerptLength: 24 });
      await pagefind.init();
    }
    return pagefind;
  }
  async function run() {
    var mine = ++sequence, anyFilter = Object.keys(state.filters).length > 0;
    if (!state.q && !anyFilter) { body.hidden = true; status.textContent = ""; return; }
    var pf = await load();
    var options = { filters: filterOption() };
    if (state.sort === "newest") { options.sort = { date: "desc" }; }
    var search = await pf.search(state.q || null, options);
    if (mine !== sequence || !search) { return; }
    current = { results: search.results, shown: 0 };
    list.textContent = "";
    drawFacets(search.filters || {});
    var n = search.results.length;
    status.textContent = (n === 0 ? "No results" : n + (n === 1 ? " result" : " results")) + (state.q ? " for “" + state.q + "”" : "") + (anyFilter ? " (filtered)" : "");
    body.hidden = false;
    await showMore(mine);
  }
  async function showMore(mine) {
    var batch = current.results.slice(current.shown, current.shown + PAGE);
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
    var excerpt = el("p", "", "excerpt");
    excerpt.innerHTML = String(data.excerpt || "").replace(/<(?!\/?mark>)/g, "&lt;");
    item.appendChild(excerpt);
    return item;
  }
  function drawFacets(counts) {
    facetBox.textContent = "";
    FACETS.forEach(function (facet) {
      var name = facet[0], values = counts[name] || {}, chosen = state.filters[name] || [];
      var keys = Object.keys(values).filter(function (v) { return values[v] > 0 || chosen.indexOf(v) >= 0; });
      keys.sort(function (a, b) { return (chosen.indexOf(b) >= 0) - (chosen.indexOf(a) >= 0) || values[b] - values[a] || (a < b ? -1 : a > b ? 1 : 0); });
      if (name === "year") { keys.sort(function (a, b) { return b < a ? -1 : b > a ? 1 : 0; }); }
      keys = keys.slice(0, Math.max(SHOWN_VALUES, chosen.length));
      if (!keys.length) { return; }
      var set = el("fieldset"), legend = el("legend", facet[1]);
      set.appendChild(legend);
      keys.forEach(function (value) {
        var label = el("label"), box = el("input");
        box.type = "checkbox"; box.name = name; box.value = value; box.checked = chosen.indexOf(value) >= 0;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + value + " "));
        label.appendChild(el("span", "(" + (values[value] || 0) + ")", "count"));
        set.appendChild(label);
      });
      facetBox.appendChild(set);
    });
  }
  facetBox.addEventListener("change", function (event) {
    var box = event.target, chosen = (state.filters[box.name] || []).filter(function (v) { return v !== box.value; });
    if (box.checked) { chosen.push(box.value); }
    if (chosen.length) { state.filters[box.name] = chosen; } else { delete state.filters[box.name]; }
    writeUrl(true);
    run();
  });
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = input.value.trim(); writeUrl(false); run(); }, 40);
  });
  order.addEventListener("change", function () { state.sort = order.value; writeUrl(true); run(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    state.q = input.value.trim();
    writeUrl(true);
    run();
  });
  more.addEventListener("click", function () { showMore(sequence); });
  window.addEventListener("popstate", function () { readUrl(); run(); });
  readUrl();
  run();
})();
