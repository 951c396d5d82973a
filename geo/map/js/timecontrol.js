/* The time control (geo/playback.py): play/pause, a day slider, speed and window, over the
 * map's period. Event layers (events.js) filter themselves by day; reference layers (GeoJSON
 * features with d0/d1 day numbers) are shown on their days. window.nkTime lets the app move
 * the period without rebuilding the map. Text is set with textContent only. */
window.NKTimeControl = function (map, start, end, eventGroups, refGroups) {
  var state = { start: start, end: end, day: end, windowDays: 0, playing: false,
                speed: 2, timer: null };

  function collect(group) {
    var all = [];
    group.eachLayer(function (f) { all.push(f); });
    return { group: group, all: all };
  }
  var refs = refGroups.map(collect);

  function show(entry, test) {
    entry.all.forEach(function (f) {
      var on = test(f.feature.properties), has = entry.group.hasLayer(f);
      if (on && !has) { entry.group.addLayer(f); }
      else if (!on && has) { entry.group.removeLayer(f); }
    });
  }
  function iso(d) { return new Date(d * 86400000).toISOString().slice(0, 10); }

  var div = L.DomUtil.create("div", "nk-time leaflet-bar");
  var play = L.DomUtil.create("button", "nk-play", div);
  play.type = "button"; play.title = "Play / pause"; play.textContent = "\u25b6";
  var label = L.DomUtil.create("span", "nk-day", div);
  var slider = L.DomUtil.create("input", "nk-slider", div);
  slider.type = "range"; slider.step = 1;
  var speed = L.DomUtil.create("select", "nk-speed", div);
  speed.title = "Days per second";
  [1, 2, 5, 10].forEach(function (s) {
    var o = L.DomUtil.create("option", "", speed); o.value = s; o.textContent = s + " d/s";
  });
  speed.value = 2;
  var win = L.DomUtil.create("select", "nk-window", div);
  win.title = "Events shown";
  [[0, "cumulative"], [1, "that day"], [7, "last 7 days"]].forEach(function (w) {
    var o = L.DomUtil.create("option", "", win); o.value = w[0]; o.textContent = w[1];
  });
  var count = L.DomUtil.create("span", "nk-count", div);
  L.DomEvent.disableClickPropagation(div);
  L.DomEvent.disableScrollPropagation(div);

  function apply() {
    var day = state.day, w = state.windowDays, n = 0;
    // Event layers filter their own typed arrays (geo/js/events.js).
    eventGroups.forEach(function (layer) { n = layer.setTime(state.start, day, w); });
    // The legend lists the event types shown now, not every type of the data.
    // Rows of dated reference layers show on their days only.
    document.querySelectorAll(".nk-legend [data-nk-days]").forEach(function (row) {
      var on = row.getAttribute("data-nk-days").split(" ").some(function (range) {
        var ends = range.split(":");
        return +ends[0] <= day && day <= +ends[1];
      });
      row.style.display = on ? "" : "none";
    });
    var shownTypes = eventGroups.length ? eventGroups[0].typesShown : null;
    if (shownTypes) {
      var legendRows = document.querySelectorAll(".nk-legend [data-nk-type]");
      legendRows.forEach(function (row) {
        row.style.display = shownTypes[+row.getAttribute("data-nk-type")] ? "" : "none";
      });
    }
    refs.forEach(function (e) {
      show(e, function (p) { return p.d0 <= day && day <= p.d1; });
    });
    label.textContent = iso(day);
    slider.value = day;
    count.textContent = readout(n, day, w);
    div.setAttribute("data-day", iso(day));
    div.setAttribute("data-shown", n);
  }
  // What the count counts, in words: the events shown of those of the period that have a
  // map point (the page's caption counts the same; events without one are not on a map).
  function readout(n, day, w) {
    var layer = eventGroups[0];
    if (!layer) { return ""; }
    if (layer.error) { return "events not loaded"; }
    if (!layer.loaded) { return "loading events\u2026"; }
    var total = layer.countPeriod(state.start, state.end);
    div.setAttribute("data-total", total);
    var when = w === 1 ? "on " + iso(day)
      : w > 1 ? "from " + iso(Math.max(state.start, day - w + 1)) + " to " + iso(day)
        : "up to " + iso(day);
    return n.toLocaleString("en") + " of " + total.toLocaleString("en") +
      " events with a map point shown " + when;
  }
  function stop() {
    state.playing = false; clearInterval(state.timer); play.textContent = "\u25b6";
  }
  function step() {
    if (state.day >= state.end) { stop(); return; }
    state.day += 1; apply();
  }
  L.DomEvent.on(play, "click", function () {
    if (state.playing) { stop(); return; }
    if (state.day >= state.end) { state.day = state.start; }
    state.playing = true; play.textContent = "\u275a\u275a";
    apply();
    state.timer = setInterval(step, 1000 / state.speed);
  });
  L.DomEvent.on(slider, "input", function () {
    stop(); state.day = +slider.value; apply();
  });
  L.DomEvent.on(speed, "change", function () {
    state.speed = +speed.value;
    if (state.playing) {
      clearInterval(state.timer);
      state.timer = setInterval(step, 1000 / state.speed);
    }
  });
  L.DomEvent.on(win, "change", function () {
    state.windowDays = +win.value; apply();
  });

  // A period inside [start, end]: the app changes it without rebuilding the map.
  function setPeriod(s, e) {
    stop();
    state.start = Math.max(start, Math.min(s, end));
    state.end = Math.max(state.start, Math.min(e, end));
    slider.min = state.start; slider.max = state.end;
    slider.disabled = state.start === state.end;
    state.day = state.end;
    apply();
  }
  function setDay(d) {
    stop(); state.day = Math.max(state.start, Math.min(d, state.end)); apply();
  }

  // Fetched events arrive after the map is drawn: count and draw them then.
  map.on("nkeventsready", apply);

  var Control = L.Control.extend({ onAdd: function () { return div; } });
  new Control({ position: "bottomleft" }).addTo(map);
  setPeriod(start, end);
  window.nkTime = { setPeriod: setPeriod, setDay: setDay, state: state };
};
