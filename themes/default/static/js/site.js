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
