// sitegen serve's live reload: injected into every page the dev server sends.
// One EventSource; "reload" reloads the tab, "css" swaps stylesheets in place,
// "build-error" shows the failed build over the page, and a successful build
// after an error reloads (the server then sends the page without the overlay);
// "search-index" reloads a tab that has read the search index.
(function () {
  "use strict";
  var OVERLAY = "sitegen-error-overlay";

  function swapStylesheets(urls) {
    // Hashed names are <stem>.<hash>.css: a link matches the new URL of the same stem.
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    Array.prototype.forEach.call(links, function (link) {
      var href = link.getAttribute("href") || "";
      urls.forEach(function (url) {
        var stem = url.replace(/\.[0-9a-f]{8,}\.css$/, "");
        if (href !== url && href.replace(/\.[0-9a-f]{8,}\.css$/, "") === stem) {
          link.setAttribute("href", url);
        }
      });
    });
  }

  function showError(error) {
    var box = document.getElementById(OVERLAY);
    if (!box) {
      box = document.createElement("div");
      box.id = OVERLAY;
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,20,.94);" +
        "color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2em;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "";
    var title = document.createElement("h1");
    title.style.cssText = "font-size:18px;color:#ff8a80;margin:0 0 1em";
    title.textContent = "sitegen: the last build failed; this page is the last good build";
    box.appendChild(title);
    var summary = document.createElement("p");
    summary.textContent = error.summary;
    box.appendChild(summary);
    (error.problems || []).forEach(function (problem) {
      var item = document.createElement("p");
      item.className = "problem";
      item.textContent = problem.where + ": " + problem.what + (problem.fix ? "\n  fix: " + problem.fix : "");
      box.appendChild(item);
    });
  }

  // The page's start time names this page load: the server can tell a reload from a reconnect.
  var source = new EventSource("/__sitegen/events?page=" + encodeURIComponent(String(performance.timeOrigin)));
  source.addEventListener("reload", function () { window.location.reload(); });
  source.addEventListener("css", function (event) { swapStylesheets(JSON.parse(event.data)); });
  source.addEventListener("build-error", function (event) { showError(JSON.parse(event.data)); });
  // The search index changed (serve updates it just after an edit's reload): a tab that has read
  // the last one (its files are gone) reloads; one that never searched need not.
  source.addEventListener("search-index", function () {
    var read = performance.getEntriesByType("resource").some(function (entry) { return entry.name.indexOf("/pagefind/") >= 0; });
    if (read) { window.location.reload(); }
  });
})();
