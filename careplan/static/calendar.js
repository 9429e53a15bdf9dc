/* The clinic calendar with EventCalendar (static/vendor/event-calendar, MIT): fed by the calendar's JSON
   endpoint named in the page's data- attributes (no inline script). Without JavaScript, or if this fails,
   the page keeps its table and its list, which do everything but drag. */
(function () {
  "use strict";

  var host = document.getElementById("clinic-calendar");
  if (!host || !window.EventCalendar || !window.fetch) return;
  var data = host.dataset;

  // The feed's times are the clinic's wall clock ("2027-01-05T09:00:00"); dates built from them as UTC keep
  // the arithmetic free of the browser's own zone.
  function wallToDate(text) {
    var p = text.match(/\d+/g).map(Number);
    return new Date(Date.UTC(p[0], p[1] - 1, p[2], p[3] || 0, p[4] || 0));
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function dateToWall(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function element(tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    return el;
  }

  // A line of short phrases that wraps between them, never inside one ("16:00 – 17:00", "60 min").
  function phrases(className, parts) {
    var line = element("span", className, "");
    parts.forEach(function (part, index) {
      if (index) line.appendChild(document.createTextNode(" · "));
      line.appendChild(element("span", "cal-phrase", part));
    });
    return line;
  }

  // The page's words in the page's language (data-words, from the catalogue); English when a page has none.
  var WORDS = {booked: "Booked", confirmed: "Confirmed", completed: "Completed", no_show: "No-show",
               arrived: "arrived", held: "Held for proposal {id}", red_flag: "Red flag",
               red_flag_title: "A red flag waits for a clinician's judgement",
               red_flag_hidden: " waiting for a clinician", needs_new_time: "Needs a new time",
               visit: "visit {number} ({sessions} sessions)", minutes: "{minutes} min", by_video: "by video"};
  try {
    var given = JSON.parse(host.getAttribute("data-words") || "{}");
    Object.keys(given).forEach(function (key) { WORDS[key] = given[key]; });
  } catch (e) { /* the English above */ }
  function say(key, values) {
    return WORDS[key].replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }
  var STATUS = {booked: WORDS.booked, confirmed: WORDS.confirmed, completed: WORDS.completed, no_show: WORDS.no_show};
  // Disciplines by name as the page writes them (data-labels); the feed gives codes only.
  var LABELS = {};
  try { LABELS = JSON.parse(host.getAttribute("data-labels") || "{}"); } catch (e) { /* codes, then */ }
  // Clinicians' names by id, from the feed: a block's tooltip says whose column it is in.
  var CLINICIANS = {};

  function toEvent(item) {
    var event = {id: item.id, start: item.start, end: item.end, extendedProps: item,
                 editable: !!item.editable, startEditable: !!item.editable, durationEditable: false};
    if (data.view.indexOf("resource") === 0) event.resourceIds = [item.resource_id];
    if (item.kind === "away" || item.kind === "closed") {
      event.display = "background";
      event.classNames = ["cal-ev", "cal-ev--" + item.kind];
    } else if (item.kind === "hold") {
      event.title = say("held", {id: item.proposal_id});
      event.classNames = ["cal-ev", "cal-ev--held"];
    } else {
      event.title = item.patient;
      event.classNames = ["cal-ev", "cal-block", "tint-" + (item.tint || 0), "cal-block--" + item.status];
      if (item.visit_sessions > 1) event.classNames.push("cal-block--visit");
      if (item.flag) event.classNames.push("cal-block--flagged");
      if (item.red_flag) event.classNames.push("cal-block--red-flag");
    }
    return event;
  }

  function content(info) {
    var item = info.event.extendedProps;
    if (item.kind !== "appointment") return {domNodes: [element("span", "cal-block__who", info.event.title || "")]};
    var nodes = [element("span", "cal-block__who", item.patient),
                 phrases("cal-block__what", [info.timeText, say("minutes", {minutes: item.minutes}),
                                             STATUS[item.status] || item.status]
                         .concat(item.virtual ? [WORDS.by_video] : [])
                         .concat(item.arrived ? [WORDS.arrived] : [])),
                 phrases("cal-block__plan", [LABELS[item.discipline] || item.discipline, item.session]
                         .concat(item.visit_sessions > 1 ?
                                 [say("visit", {number: item.visit, sessions: item.visit_sessions})] : []))];
    // A change of hours or time off left it outside them: said in words, not only by the dashed edge.
    if (item.red_flag) {
      var red = element("span", "cal-block__red-flag", WORDS.red_flag);
      red.title = WORDS.red_flag_title;
      red.appendChild(element("span", "visually-hidden", WORDS.red_flag_hidden));
      nodes.splice(1, 0, red);
    }
    if (item.flag) {
      var flag = element("span", "cal-block__flag", WORDS.needs_new_time);
      flag.title = item.flag;
      flag.appendChild(element("span", "visually-hidden", ": " + item.flag));
      nodes.splice(1, 0, flag);  // under the name: a short block still shows it
    }
    return {domNodes: nodes};
  }

  // A block shows whole lines only. When its lines wrapped as they come do not all fit (a short session, a
  // narrow column), it turns compact: each line on one line ending on an ellipsis, as many as fit under the
  // name, the others left out (still read by screen readers, and in the block's tooltip); room left under them
  // goes to the first lines that can use it whole, wrapped. Wrapped into a short block the details were cut
  // mid-phrase ("50 min ·...") and the session's discipline never showed.
  // Fitted again whenever the block's size changes (window, columns).
  function fit(el) {
    var body = el.querySelector(".ec-event-body");
    if (!body) return;
    var lines = Array.prototype.slice.call(body.children);
    el.classList.remove("cal-block--compact");
    lines.forEach(function (line) { line.classList.remove("cal-line--cut", "cal-line--whole"); });
    var limit = el.getBoundingClientRect().bottom - parseFloat(getComputedStyle(el).paddingBottom || 0);
    function below(line) { return line.getBoundingClientRect().bottom > limit + 0.5; }
    // A phrase never wraps inside itself: one wider than the block would be cut at its edge.
    function wider(line) { return line.scrollWidth > line.clientWidth + 1; }
    if (!lines.some(below) && !lines.some(wider)) return;
    el.classList.add("cal-block--compact");
    var cut = false;
    lines.forEach(function (line, index) {
      if (!index) return;  // the patient's name always shows, whatever the block's height
      cut = cut || below(line);
      if (cut) line.classList.add("cal-line--cut");
    });
    var shown = lines.filter(function (line) { return !line.classList.contains("cal-line--cut"); });
    shown.slice(1).concat(shown.slice(0, 1)).forEach(function (line) {
      line.classList.add("cal-line--whole");
      if (wider(line) || shown.some(below)) line.classList.remove("cal-line--whole");
    });
  }

  function mounted(info) {
    var item = info.event.extendedProps;
    if (item.kind !== "appointment") return;
    var body = info.el.querySelector(".ec-event-body");
    if (body) info.el.title = Array.prototype.map.call(body.children, function (line) {
      return line.textContent;
    }).concat(CLINICIANS[item.resource_id] ? [CLINICIANS[item.resource_id]] : []).join("\n");
    fit(info.el);
    if (window.ResizeObserver) new ResizeObserver(function () { fit(info.el); }).observe(info.el);
  }

  function go(url) { window.location.assign(url); }

  fetch(data.feed, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (!response.ok) throw new Error("calendar feed " + response.status);
      return response.json();
    })
    .then(function (feed) {
      var tints = JSON.parse(host.getAttribute("data-tints") || "{}");
      feed.events.forEach(function (item) { item.tint = tints[item.discipline] || 0; });
      feed.resources.forEach(function (r) { CLINICIANS[r.id] = r.title; });
      var options = {
        view: data.view,
        date: data.date,
        // Day names and dates in the page's language ("lun. 7 déc."), as the table without JavaScript has them;
        // English as the clinic writes it everywhere else ("Mon 7 Dec", British order), not "Mon, Dec 7".
        locale: ({en: "en-GB"})[data.locale || document.documentElement.lang] || data.locale ||
          document.documentElement.lang || "en-GB",
        timeZone: data.offset,
        headerToolbar: {start: "", center: "", end: ""},
        slotDuration: {minutes: Number(data.slotMinutes)},
        slotMinTime: feed.opens.slice(11, 16),
        slotMaxTime: feed.closes.slice(11, 16) === "00:00" ? "24:00" : feed.closes.slice(11, 16),
        allDaySlot: false,
        nowIndicator: true,
        slotLabelFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
        eventTimeFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
        dayHeaderFormat: {weekday: "short", day: "numeric", month: "short"},
        firstDay: 1,  // the clinic's week, as the feed gives it: Monday to Sunday
        height: "auto",
        editable: true,
        eventDurationEditable: false,
        resources: feed.resources.map(function (r) { return {id: r.id, title: r.title}; }),
        // A clinician's name opens their week, as it does in the table without JavaScript.
        resourceLabelContent: function (info) {
          var link = element("a", "cal-who", info.resource.title);
          link.href = "/desk/calendar?provider=" + encodeURIComponent(info.resource.id) + "&date=" + data.date;
          return {domNodes: [link]};
        },
        events: feed.events.map(toEvent),
        eventContent: content,
        eventDidMount: mounted,
        eventClick: function (info) {
          if (info.event.extendedProps.url) go(info.event.extendedProps.url);
        },
        dateClick: function (info) {
          var provider = info.resource ? info.resource.id : data.provider;
          go(data.book + "?provider=" + encodeURIComponent(provider) + "&start=" + info.dateStr.slice(0, 16));
        },
        // A drop only proposes the move: the preview page shows what changes, and nothing moves until confirmed.
        eventDrop: function (info) {
          var item = info.event.extendedProps;
          var moved = info.event.start.getTime() - info.oldEvent.start.getTime();
          var start = dateToWall(new Date(wallToDate(item.start).getTime() + moved));
          var provider = info.newResource ? info.newResource.id : item.resource_id;
          info.revert();
          go(data.move.replace("{id}", item.appointment_id) + "?provider_id=" + encodeURIComponent(provider) +
             "&start=" + start);
        }
      };
      host.hidden = false;
      EventCalendar.create(host, options);
      document.documentElement.classList.add("cal-ready");
    })
    .catch(function () { host.hidden = true; });
})();
