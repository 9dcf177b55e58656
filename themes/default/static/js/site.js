/* Progressive enhancement: beside each scheduled time, show the visitor's own
   local time when it differs from the event's. The page works without it. */
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  var times = document.querySelectorAll(".timetable time[datetime], .session .meta time[datetime]");
  for (var i = 0; i < times.length; i++) {
    var node = times[i];
    var value = node.getAttribute("datetime");
    if (value.length < 20) { continue; }  // a bare date: nothing to convert
    var when = new Date(value);
    if (isNaN(when.getTime())) { continue; }
    var offset = value.slice(19).replace("Z", "+00:00");
    var mine = -when.getTimezoneOffset();
    var sign = mine >= 0 ? "+" : "-";
    var abs = Math.abs(mine);
    var own = sign + String(Math.floor(abs / 60)).padStart(2, "0") + ":" + String(abs % 60).padStart(2, "0");
    if (offset === own) { continue; }
    var note = document.createElement("span");
    note.className = "local-time";
    note.textContent = "Your time: " + format.format(when);
    node.insertAdjacentElement("afterend", note);
  }
})();

/* Click to play: a video's placeholder is a link to the provider until this
   turns it into a button; only its click loads the player (an iframe on the
   embed URL the build made from the video's id, or a <video> of the file), so
   the page makes no request to the provider before. */
(function () {
  "use strict";
  function play(figure, button, embed) {
    var type = figure.getAttribute("data-type");
    var title = button.querySelector(".player-title");
    var player;
    if (type) {
      player = document.createElement("video");
      player.controls = true;
      player.autoplay = true;
      var source = document.createElement("source");
      source.src = embed;
      source.type = type;
      player.appendChild(source);
    } else {
      player = document.createElement("iframe");
      player.src = embed;
      player.setAttribute("allow", "autoplay; encrypted-media; fullscreen; picture-in-picture");
      player.setAttribute("allowfullscreen", "");
      player.referrerPolicy = "strict-origin-when-cross-origin";
    }
    player.className = "player-frame";
    player.title = title ? title.textContent : "Video";
    button.replaceWith(player);
    player.focus();
  }
  var figures = document.querySelectorAll("[data-player]");
  for (var i = 0; i < figures.length; i++) {
    var figure = figures[i];
    var link = figure.querySelector("a.player-poster");
    var embed = figure.getAttribute("data-embed") || "";
    if (!link || !/^https?:\/\//.test(embed)) { continue; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "player-poster";
    while (link.firstChild) { button.appendChild(link.firstChild); }
    link.replaceWith(button);
    button.addEventListener("click", play.bind(null, figure, button, embed));
  }
})();
