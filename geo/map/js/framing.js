/* Framing a drawn map in the browser (geo/map/framing.py), without rebuilding it.
 *
 * NKFrame.box(bounds) fits every Leaflet map of the page to [[lat, lon], [lat, lon]].
 * NKFrame.events(o) fits them to the events the page's events layer holds (window.nkEvents,
 * events.js) that fall in [o.start, o.end]: geo.view.frame_box's rule (events on the ground
 * first, then any; only points in o.region; the outer o.quantile left out above 50 points,
 * interpolated as numpy does; o.margin and o.min_deg), or o.fallback when there is none.
 * Both take numbers only: the live map (geo/map/live) and the exported pages call them with
 * JSON values, never with text from the data.
 */
(function () {
  if (window.NKFrame) { return; }

  // Padding in pixels; the closest zoom a fit goes to (a single village's events still show
  // the village's surroundings).
  var PAD = 12, MAX_ZOOM = 11;

  // Every Leaflet map of the page fits `bounds`, clear of an open legend on the right when
  // the map is wide enough to spare its width.
  function fit(bounds) {
    Object.keys(window).forEach(function (key) {
      var map = window[key];
      if (key.indexOf("map_") === 0 && window.L && map instanceof window.L.Map) {
        var legend = map.getContainer().querySelector(".nk-legend");
        var right = PAD;
        if (legend && legend.offsetWidth && legend.offsetWidth < map.getSize().x / 3) {
          right += legend.offsetWidth;
        }
        // No zoom animation: the map shows the new frame in the same draw (an animated
        // fit drew the period twice, the second time 250 ms later).
        map.fitBounds(bounds, {paddingTopLeft: [PAD, PAD], paddingBottomRight: [right, PAD],
                               maxZoom: MAX_ZOOM, animate: false});
        map.fire("nkframed");  // a move by the framing, not the user's (geo/map/component)
      }
    });
  }

  // The k-th smallest of a (reordered in place): O(n), where sorting a million coordinates
  // took ~100 ms per axis on a period change.
  function select(a, k) {
    var lo = 0, hi = a.length - 1;
    while (hi > lo) {
      var pivot = a[(lo + hi) >> 1], i = lo, j = hi;
      while (i <= j) {
        while (a[i] < pivot) { i++; }
        while (a[j] > pivot) { j--; }
        if (i <= j) { var t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
      }
      if (k <= j) { hi = j; } else if (k >= i) { lo = i; } else { break; }
    }
    return a[k];
  }
  function quantile(a, q) {  // numpy's default (linear) interpolation
    var h = (a.length - 1) * q, i = Math.floor(h), v = select(a, i);
    return h > i && i + 1 < a.length ? v + (h - i) * (select(a, i + 1) - v) : v;
  }
  function box(o, d, grounded) {
    var n = 0, lat = new Float64Array(d.n), lon = new Float64Array(d.n), r = o.region;
    for (var i = 0; i < d.n; i++) {
      if (d.d0[i] > o.end || d.d1[i] < o.start) { continue; }
      if (grounded && o.pointless.indexOf(d.type[i]) >= 0) { continue; }
      var y = d.lat[i], x = d.lon[i];
      if (!(x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3])) { continue; }
      lat[n] = y; lon[n] = x; n++;
    }
    if (!n) { return null; }
    lat = lat.subarray(0, n); lon = lon.subarray(0, n);
    var q = n > 50 ? o.quantile : 0;
    var s = quantile(lat, q), N = quantile(lat, 1 - q);
    var w = quantile(lon, q), e = quantile(lon, 1 - q);
    var py = Math.max((N - s) * o.margin, (o.min_deg - (N - s)) / 2, 0);
    var px = Math.max((e - w) * o.margin, (o.min_deg - (e - w)) / 2, 0);
    return [[s - py, w - px], [N + py, e + px]];
  }

  var waiting = 0;  // the latest NKFrame.events call; an earlier one still waiting gives up
  function events(o) {
    var tries = 0, ticket = ++waiting;
    function go() {
      if (ticket !== waiting) { return; }
      // The events layer of this map: the map's script made it (and set nkEvents) before
      // this runs; its payload may still be on its way (10 s at most).
      var layer = window.nkEvents;
      if (layer && layer.loaded && layer.data) {
        window.nkFramed = box(o, layer.data, true) || box(o, layer.data, false) || o.fallback;
        fit(window.nkFramed);
      } else if ((layer && layer.error) || ++tries >= 600) {
        fit(o.fallback);
      } else {
        requestAnimationFrame(go);
      }
    }
    go();
  }

  window.NKFrame = { box: function (bounds) { waiting++; fit(bounds); }, events: events };
})();
