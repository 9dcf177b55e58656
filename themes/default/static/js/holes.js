/* Fills the personal holes the edge did not fill (CloudFront/S3 has no ESI,
   and Varnish leaves a hole empty when the fragment service fails), and
   sends the forms inside fragments without leaving the page.
   A hole is filled when it has a [data-filled] child; the fragment service
   marks every fragment's root so. Identity travels in the cookie only. */
(function () {
  "use strict";
  var HEADER = { "X-Sitegen-Holes": "1" };

  function put(hole, html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    if (box.querySelector("[data-filled]")) {
      hole.innerHTML = html;
    }
  }

  function load(hole) {
    return fetch(hole.getAttribute("data-src"), { credentials: "same-origin", headers: HEADER })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (html) { put(hole, html); } })
      .catch(function () { /* keep the fallback */ });
  }

  function fill() {
    var holes = document.querySelectorAll("[data-hole]");
    for (var i = 0; i < holes.length; i++) {
      if (!holes[i].querySelector("[data-filled]")) { load(holes[i]); }
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var hole = form.closest && form.closest("[data-hole]");
    if (!hole || !form.hasAttribute("data-fragment-form")) { return; }
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: HEADER,
      body: new URLSearchParams(new FormData(form))
    }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      if (html) { put(hole, html); } else { load(hole); }
    }).catch(function () { form.submit(); });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else {
    fill();
  }
})();
