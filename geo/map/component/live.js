/* The live map: a Streamlit component (geo/ui.py live_map, geo/map/live.py) that loads the
 * map's page once and moves it with values from the app, instead of re-rendering a folium
 * script on every rerun.
 *
 * Streamlit's component protocol (v1, by postMessage): this page says "componentReady";
 * every rerun of the app sends "render" with the arguments; "setFrameHeight" sizes this
 * iframe; "setComponentValue" hands the app {view, drawn}: the map's centre and zoom after the
 * user's last move (for the permalink), and the `ready` token of the last arguments the map has
 * drawn (the page draws its counts, timeline and tables after the map: geo/ui.py).
 * The arguments are values only (numbers, dates as day numbers, the map page's URL): nothing
 * here is evaluated.
 *
 *   doc     URL of the map's page (built and published by the app, named by its content);
 *           a new URL (other layers, filters or names) loads a new page in place, keeping the
 *           user's view.
 *   center, zoom   where the first page opens (the permalink's or the session's view).
 *   period  [first day, last day] as days since 1970: the page's time control shows them
 *           (window.nkTime, geo/map/js/timecontrol.js).
 *   fit     {seq, box | events}: frame the map once (window.NKFrame, geo/map/js/framing.js);
 *           a fit is applied once per seq, and its move is not reported back.
 *   height  pixels.
 *   ready   a token for the page and period: handed back as `drawn` once the events layer
 *           has drawn them (or at once when there is nothing to draw; at the latest after
 *           READY_LIMIT_MS, so the rest of the app's page never waits on a map that cannot draw).
 */
(function () {
  "use strict";

  var current = null;   // {frame, win, map, url} of the page on screen
  var loading = null;   // {frame, url} of a page on its way
  var args = null;      // the latest arguments
  var period = null;    // the period the page on screen shows ("first,last")
  var fitSeq = null;    // the last fit applied
  var height = null;
  var sent = null;      // the last view handed to the app ("lat,lng,zoom")
  var timer = null;
  var view = null;      // the user's last move, handed to the app with every value
  var drawn = null;     // the last `ready` token handed back
  var drawsBefore = null;  // the events layer's draws when the period was applied (null: none to wait for)
  var readyTimer = null;
  var awaiting = null;  // the token the timer is for
  var READY_LIMIT_MS = 3000;
  // When each render arrived and each period was applied (ms since 1970), for the benches.
  var log = (window.nkLive = { renders: [], periods: [] });
  function stamp(list) {
    list.push(performance.timeOrigin + performance.now());
    if (list.length > 50) { list.shift(); }
  }

  function post(type, data) {
    var message = { isStreamlitMessage: true, type: type };
    for (var k in data) { message[k] = data[k]; }
    window.parent.postMessage(message, "*");
  }

  function leafletMap(win) {
    if (!win || !win.L) { return null; }
    var keys = Object.keys(win);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i].indexOf("map_") === 0 && win[keys[i]] instanceof win.L.Map) { return win[keys[i]]; }
    }
    return null;
  }

  function viewKey(map) {
    var c = map.getCenter();
    return [c.lat.toFixed(4), c.lng.toFixed(4), map.getZoom()].join(",");
  }

  function sendValue() {
    post("streamlit:setComponentValue", { value: { view: view, drawn: drawn }, dataType: "json" });
  }

  // The user's pans and zooms reach the app (one rerun each, once the map has settled).
  function report() {
    if (!current) { return; }
    var key = viewKey(current.map);
    if (key === sent) { return; }
    sent = key;
    var c = current.map.getCenter();
    view = { center: { lat: c.lat, lng: c.lng }, zoom: current.map.getZoom() };
    sendValue();
  }

  // "Drawn": the page on screen is the arguments' page, shows their period, and its events
  // layer has drawn since the period was applied (or has nothing to draw: no events layer, off
  // the map, or its data failed, which the page says in the map).
  function isDrawn() {
    if (!current || current.url !== sameOrigin(args.doc)) { return false; }
    if (args.period && current.win.nkTime && period !== args.period.join(",")) { return false; }
    var ev = current.win.nkEvents;
    if (drawsBefore === null || !ev || !ev._map || ev.error) { return true; }
    return ev.draws > drawsBefore;
  }
  // Hand the app the token once per new token, after the browser has painted the draw (the
  // app's next rerun then draws the rest of its page without competing with the map's).
  function handBack(token) {
    if (!token || token === drawn) { return; }
    clearTimeout(readyTimer);
    readyTimer = null;
    awaiting = null;
    drawn = token;
    requestAnimationFrame(function () { setTimeout(sendValue, 0); });
  }
  function checkDrawn() {
    if (args && args.ready && args.ready !== drawn && isDrawn()) { handBack(args.ready); }
  }
  function awaitDrawn() {
    if (!args || !args.ready || args.ready === drawn) { return; }
    var token = args.ready;
    if (token !== awaiting) {
      awaiting = token;
      clearTimeout(readyTimer);
      readyTimer = setTimeout(function () { if (awaiting === token) { handBack(token); } },
                              READY_LIMIT_MS);
    }
    checkDrawn();
  }
  function onMove() {
    clearTimeout(timer);
    timer = setTimeout(report, 250);
  }

  // Bring the page on screen in line with the latest arguments.
  function apply() {
    if (!current || !args) { return; }
    var win = current.win, p = args.period;
    if (p && win.nkTime && p.join(",") !== period) {
      period = p.join(",");
      stamp(log.periods);
      var ev = win.nkEvents;
      drawsBefore = ev && ev._map && !ev.error ? ev.draws : null;
      win.nkTime.setPeriod(p[0], p[1]);
    }
    var fit = args.fit;
    if (fit && fit.seq !== fitSeq && win.NKFrame) {
      fitSeq = fit.seq;
      if (fit.box) { win.NKFrame.box(fit.box); } else if (fit.events) { win.NKFrame.events(fit.events); }
    }
  }

  // Only a page of this server (the app publishes the map under its own static folder).
  function sameOrigin(url) {
    if (typeof url !== "string" || !url) { return null; }
    var resolved = new URL(url, window.location.href);
    return resolved.origin === window.location.origin ? resolved.href : null;
  }

  function load(url) {
    if (loading) { loading.frame.remove(); }  // a newer page replaces one still on its way
    var frame = document.createElement("iframe");
    frame.className = "nk-live" + (current ? " nk-loading" : "");
    frame.title = "Map";
    loading = { frame: frame, url: url };
    frame.addEventListener("load", function () {
      if (!loading || loading.frame !== frame) { frame.remove(); return; }
      var win = frame.contentWindow, map = leafletMap(win);
      loading = null;
      if (!map) {  // not a map page (a missing file): keep what is on screen
        frame.remove();
        return;  // (the app's page is drawn anyway, after READY_LIMIT_MS)
      }
      if (current) {  // a new page of the same map: keep the user's view
        map.setView(current.map.getCenter(), current.map.getZoom(), { animate: false });
        current.frame.remove();
      } else if (args.center && args.zoom) {
        map.setView(args.center, args.zoom, { animate: false });
      }
      frame.classList.remove("nk-loading");
      current = { frame: frame, win: win, map: map, url: url };
      period = null;
      sent = viewKey(map);
      map.on("moveend", onMove);
      // A framing's move is the app's, not the user's: it is not handed back (the app
      // already knows the view is framed, and a report would rerun the whole page).
      map.on("nkframed", function () { clearTimeout(timer); sent = viewKey(map); });
      map.on("nkdrawn", checkDrawn);
      apply();
      checkDrawn();
    });
    frame.src = url;
    document.body.appendChild(frame);
  }

  function render(newArgs) {
    stamp(log.renders);
    args = newArgs || {};
    if (args.height && args.height !== height) {
      height = args.height;
      post("streamlit:setFrameHeight", { height: height });
    }
    var url = sameOrigin(args.doc);
    if (url && (!current || current.url !== url) && (!loading || loading.url !== url)) {
      load(url);
    }
    apply();
    awaitDrawn();
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) { return; }
    var data = event.data;
    if (data && data.type === "streamlit:render") { render(data.args); }
  });
  post("streamlit:componentReady", { apiVersion: 1 });
})();
