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
  // Numpy's default (linear) quantiles q and 1 - q of a, whose values lie in [lo, hi].
  // A histogram finds the bin of each rank needed and only those bins' values are selected
  // from: two passes over a, where quickselect over the whole axis spent 20-45 ms per axis
  // swapping on a period change at 1,000,000 events. The result is the same.
  var BINS = 4096;
  function tails(a, q, lo, hi) {
    var n = a.length, scale = BINS / ((hi - lo) || 1), i, b;
    var bin = function (v) { return Math.min(BINS - 1, Math.max(0, ((v - lo) * scale) | 0)); };
    var count = new Uint32Array(BINS);
    for (i = 0; i < n; i++) { count[bin(a[i])]++; }
    var ranks = [], hs = [q, 1 - q].map(function (p) { return (n - 1) * p; });
    hs.forEach(function (h) { ranks.push(Math.floor(h), Math.min(n - 1, Math.floor(h) + 1)); });
    // Each rank's bin and its rank within the bin.
    var slot = new Int32Array(BINS).fill(-1), bins = [], where = ranks.map(function (k) {
      var before = 0;
      for (b = 0; before + count[b] <= k; b++) { before += count[b]; }
      if (slot[b] < 0) { slot[b] = bins.length; bins.push({ values: new Float64Array(count[b]), n: 0 }); }
      return { slot: slot[b], k: k - before };
    });
    for (i = 0; i < n; i++) {
      var s = slot[bin(a[i])];
      if (s >= 0) { var t = bins[s]; t.values[t.n++] = a[i]; }
    }
    var value = where.map(function (w) { return select(bins[w.slot].values, w.k); });
    return hs.map(function (h, j) {
      var v = value[2 * j], f = h - Math.floor(h);
      return f > 0 ? v + f * (value[2 * j + 1] - v) : v;
    });
  }
  // The coordinates of the events that pass, in buffers kept with the data (a period change
  // at 1,000,000 events allocated 16 MB for them each time).
  function box(o, d, grounded) {
    var buf = d.frameBuffers || (d.frameBuffers = { lat: new Float32Array(d.n), lon: new Float32Array(d.n) });
    var lat = buf.lat, lon = buf.lon, n = 0, skip = new Uint8Array(256);
    if (grounded) { o.pointless.forEach(function (t) { skip[t] = 1; }); }
    var d0 = d.d0, d1 = d.d1, type = d.type, la = d.lat, lo = d.lon, start = o.start, end = o.end;
    var r = o.region, r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
    var range = d.range ? d.range(start, end) : [0, d.n];
    for (var i = range[0]; i < range[1]; i++) {
      if (d0[i] > end || d1[i] < start || skip[type[i]]) { continue; }
      var y = la[i], x = lo[i];
      if (!(x >= r0 && x <= r2 && y >= r1 && y <= r3)) { continue; }
      lat[n] = y; lon[n] = x; n++;
    }
    if (!n) { return null; }
    lat = lat.subarray(0, n); lon = lon.subarray(0, n);
    var q = n > 50 ? o.quantile : 0;
    var ns = tails(lat, q, r[1], r[3]), s = ns[0], N = ns[1];
    var we = tails(lon, q, r[0], r[2]), w = we[0], e = we[1];
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

  window.NKFrame = { box: function (bounds) { waiting++; fit(bounds); }, events: events,
                    tails: tails };  // tails: for the browser tests
})();
