/* Events on one canvas, filtered by time in the browser (geo/mapview.py: EventsLayer).
 *
 * The payload is columnar: base64 typed arrays (coordinates, first/last day, type, style) and
 * dictionary-coded text columns for popups. Nothing here builds HTML from data: popups and
 * tooltips are DOM nodes filled with textContent, so event text stays text.
 *
 * Below `aggregateAbove` visible events each event is a circle (batched into one path per
 * style); above it, events are counted into screen cells and each cell is drawn once, so a
 * million events stay usable at low zoom. The "heat" mode draws the same cells as a density
 * ramp. Both follow the time control (setTime).
 */
(function () {
  if (window.NKMap) { return; }

  function bytes(text) {
    var bin = atob(text), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function typed(text, Type) { return new Type(bytes(text).buffer); }
  var WIDTH = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array };
  var MAX_LAT = 85.0511287798, RAD = Math.PI / 180;

  function decode(p) {
    var n = p.n, lat = typed(p.lat, Float32Array), lon = typed(p.lon, Float32Array);
    // Web Mercator at zoom 0 (256 px world), as Leaflet's EPSG:3857 projects.
    var mx = new Float64Array(n), my = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var la = Math.max(Math.min(lat[i], MAX_LAT), -MAX_LAT) * RAD;
      mx[i] = 256 * (0.5 + lon[i] / 360);
      my[i] = 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + la / 2)) / (2 * Math.PI));
    }
    var fields = p.fields.map(function (f) {
      var out = { name: f.name, label: f.label, kind: f.kind, note: f.note || null };
      if (f.kind === "text") { out.values = f.values; out.codes = typed(f.codes, WIDTH[f.width]); }
      return out;
    });
    var d0 = typed(p.d0, Int32Array), d1 = typed(p.d1, Int32Array), sorted = true, longest = 0;
    for (i = 0; i < n; i++) {
      if (i && d0[i] < d0[i - 1]) { sorted = false; }
      if (d1[i] - d0[i] > longest) { longest = d1[i] - d0[i]; }
    }
    return {
      n: n, lat: lat, lon: lon, mx: mx, my: my, d0: d0, d1: d1,
      type: typed(p.type, Uint8Array), flags: typed(p.flags, Uint8Array),
      radius: typed(p.radius, Uint8Array), weight: typed(p.weight, Uint16Array),
      types: p.types, fields: fields, location: p.location_field,
      range: function (first, last) { return dayRange(d0, n, sorted, longest, first, last); }
    };
  }

  // The indices [i0, i1) that can hold the events overlapping the days [first, last]: the
  // store hands the payload over in date order (checked when decoded), and no event lasts
  // longer than `longest` days, so an event starting before first - longest or after last
  // cannot overlap. The time filter's loops (counts, framing, draw, legend) look at these
  // only: five passes over all 1,000,000 events were 70-220 ms of a period change. Data not
  // in date order: all of it.
  function dayRange(d0, n, sorted, longest, first, last) {
    if (!sorted) { return [0, n]; }
    return [firstAtLeast(d0, n, first - longest), firstAtLeast(d0, n, last + 1)];
  }
  function rangeOf(d, first, last) { return d.range ? d.range(first, last) : [0, d.n]; }
  function firstAtLeast(a, n, value) {  // the first index whose value is >= value (or n)
    var lo = 0, hi = n;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (a[mid] < value) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }

  // Where a layer's data comes from: given (inline payload) or fetched from the app.
  function source(data) {
    return { data: data, error: null, waiting: [],
             ready: function (fn) { if (this.data || this.error) { fn(this); } else { this.waiting.push(fn); } } };
  }
  function fetchSource(url) {
    var src = source(null);
    function done() { src.waiting.forEach(function (fn) { fn(src); }); src.waiting = []; }
    fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status + " for " + url); }
        return r.json();
      })
      .then(function (p) { src.data = decode(p); done(); })
      .catch(function (e) { src.error = String(e && e.message || e); done(); });
    return src;
  }

  function iso(day) { return new Date(day * 86400000).toISOString().slice(0, 10); }

  function fieldText(data, f, i) {
    if (f.kind === "d0") { return iso(data.d0[i]); }
    if (f.kind === "d1") { return data.d1[i] > data.d0[i] ? iso(data.d1[i]) : ""; }
    if (f.kind === "type") { return data.types[data.type[i]].label; }
    if (f.kind === "omitted") { return ""; }
    return f.values[f.codes[i]];
  }

  function tooltipText(data, i) {
    var parts = [iso(data.d0[i]), data.types[data.type[i]].label];
    data.fields.forEach(function (f) {
      if (f.name === "location") { var t = fieldText(data, f, i); if (t) { parts.push(t); } }
    });
    return parts.join(" \u00b7 ");
  }

  function popupNode(data, i) {
    var table = document.createElement("table");
    table.className = "nk-popup";
    data.fields.forEach(function (f) {
      var text = f.kind === "omitted" ? f.note : fieldText(data, f, i);
      if (!text) { return; }
      var tr = table.insertRow(), th = document.createElement("th"), td = tr.insertCell(-1);
      th.textContent = f.label;
      tr.insertBefore(th, td);
      td.textContent = text;
      if (f.kind === "omitted") { td.className = "nk-omitted"; }
    });
    return table;
  }

  function fieldNamed(data, name) {
    for (var k = 0; k < data.fields.length; k++) {
      if (data.fields[k].name === name) { return data.fields[k]; }
    }
    return null;
  }

  function textOf(data, name, i) {
    var f = fieldNamed(data, name);
    return f ? fieldText(data, f, i) : "";
  }

  function span(parent, className, text) {
    var el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    parent.appendChild(el);
    return el;
  }

  // Several events at one point (or a few pixels apart at this zoom): a scrollable list, one
  // entry per event (date, type, place as recorded, claimant, source) that unfolds into the
  // event's full table. Text only, like popupNode.
  function groupPopupNode(data, members, exact) {
    var box = document.createElement("div");
    box.className = "nk-group";
    var head = document.createElement("div");
    head.className = "nk-group-head";
    head.textContent = members.length.toLocaleString("en") + " events " +
      (exact ? "at this point" : "at or near this point") + " (click one for details)";
    box.appendChild(head);
    var list = document.createElement("ol");
    list.className = "nk-group-list";
    members.forEach(function (i) {
      var item = document.createElement("li"), details = document.createElement("details");
      var summary = document.createElement("summary");
      span(summary, "nk-group-title", iso(data.d0[i]) + " \u00b7 " + data.types[data.type[i]].label);
      var place = textOf(data, "location", i);
      if (place) { span(summary, "nk-group-place", place); }
      var claim = textOf(data, "claimed_by", i), source = textOf(data, "source", i);
      var said = [];
      if (claim) { said.push("Claimed by " + claim); }
      if (source) { said.push("Source: " + source); }
      if (said.length) { span(summary, "nk-group-source", said.join(" \u00b7 ")); }
      details.appendChild(summary);
      details.appendChild(popupNode(data, i));
      item.appendChild(details);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function rgb(hex) {
    var v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  // A circle as pixel offsets with colour and alpha (anti-aliased by coverage). Precise: filled
  // at 85% with a white 1 px ring; approximate: 15% fill with a dashed 2 px ring in colour.
  // The shape (offsets, alpha, which pixels take the ring's colour) depends on the radius, the
  // kind and the pixel ratio only, and is computed once for all types: the first points draw
  // of a session made up to ~900 sprites (57 radii x types x 2 kinds), and computing each one
  // whole took 60 ms of that period change (profiled at 1,000,000 events).
  var shapes = {};
  function circleShape(radius, approx, scale) {
    var key = radius + ":" + approx + ":" + scale;
    if (shapes[key]) { return shapes[key]; }
    var R = radius * scale, ring = (approx ? 2 : 1) * scale, dash = 3 * scale;
    var dxs = [], dys = [], as = [], edges = [], span = Math.ceil(R + 1);
    for (var dy = -span; dy <= span; dy++) {
      for (var dx = -span; dx <= span; dx++) {
        var dist = Math.sqrt(dx * dx + dy * dy), cover = Math.min(1, Math.max(0, R + 0.5 - dist));
        if (cover <= 0) { continue; }
        var onRing = dist > R - ring, edge = 0, alpha = approx ? 0.15 : 0.85;
        if (onRing) {
          var along = (Math.atan2(dy, dx) + Math.PI) * R;
          if (!approx || Math.floor(along / dash) % 2 === 0) { edge = 1; alpha = 1; }
        }
        dxs.push(dx); dys.push(dy); as.push(alpha * cover); edges.push(edge);
      }
    }
    var shape = extent(dxs, dys);
    shape.dx = Int16Array.from(dxs); shape.dy = Int16Array.from(dys);
    shape.a = Float32Array.from(as); shape.edge = Uint8Array.from(edges);
    return (shapes[key] = shape);
  }
  // The box {x0, x1, y0, y1} of a sprite's offsets, around its centre (for the unchecked
  // fast path of `stamp`).
  function extent(dx, dy) {
    var x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    for (var k = 0; k < dx.length; k++) {
      x0 = Math.min(x0, dx[k]); x1 = Math.max(x1, dx[k]);
      y0 = Math.min(y0, dy[k]); y1 = Math.max(y1, dy[k]);
    }
    return { x0: x0, x1: x1, y0: y0, y1: y1 };
  }
  function sprite(hex, radius, approx, scale) {
    var shape = circleShape(radius, approx, scale), n = shape.a.length;
    var fill = rgb(hex), ring = approx ? fill : [255, 255, 255], a = shape.a, edge = shape.edge;
    var r = new Uint8Array(n), g = new Uint8Array(n), b = new Uint8Array(n);
    var pr = new Float32Array(n), pg = new Float32Array(n), pb = new Float32Array(n);
    for (var k = 0; k < n; k++) {
      var c = edge[k] ? ring : fill;
      r[k] = c[0]; g[k] = c[1]; b[k] = c[2];
      pr[k] = c[0] * a[k]; pg[k] = c[1] * a[k]; pb[k] = c[2] * a[k];
    }
    return { dx: shape.dx, dy: shape.dy, r: r, g: g, b: b, a: a, pr: pr, pg: pg, pb: pb,
             x0: shape.x0, x1: shape.x1, y0: shape.y0, y1: shape.y1 };
  }

  // A sprite's pixels as typed arrays (from plain arrays of offsets, straight colour and
  // alpha): the colour premultiplied by alpha (what `stamp` adds), and its extent (for the
  // unchecked fast path).
  function spriteArrays(out) {
    var n = out.a.length, pr = new Float32Array(n), pg = new Float32Array(n), pb = new Float32Array(n);
    for (var k = 0; k < n; k++) {
      pr[k] = out.r[k] * out.a[k]; pg[k] = out.g[k] * out.a[k]; pb[k] = out.b[k] * out.a[k];
    }
    var box = extent(out.dx, out.dy);
    return { dx: Int16Array.from(out.dx), dy: Int16Array.from(out.dy), r: Uint8Array.from(out.r),
             g: Uint8Array.from(out.g), b: Uint8Array.from(out.b), a: Float32Array.from(out.a),
             pr: pr, pg: pg, pb: pb, x0: box.x0, x1: box.x1, y0: box.y0, y1: box.y1 };
  }

  // Source-over blending of a sprite into premultiplied RGBA floats (4 per pixel): two
  // multiply-adds per channel, no division and no rounding per stamp. At 100,000 points the
  // stamping is 90% of a draw (profiled); blending into 8-bit straight-alpha pixels, with a
  // division per channel and pixel, took 250-370 ms. `unpremultiply` makes the ImageData once.
  function stamp(buf, W, H, cx, cy, sp) {
    var x0 = Math.round(cx), y0 = Math.round(cy), n = sp.dx.length, dx = sp.dx, dy = sp.dy;
    var pr = sp.pr, pg = sp.pg, pb = sp.pb, pa = sp.a, k, o, keep;
    if (x0 + sp.x0 >= 0 && y0 + sp.y0 >= 0 && x0 + sp.x1 < W && y0 + sp.y1 < H) {
      if (sp.rowsOf !== W) {  // the pixels' offsets in a buffer W pixels wide, as floats
        sp.at = new Int32Array(n);
        for (k = 0; k < n; k++) { sp.at[k] = (dy[k] * W + dx[k]) * 4; }
        sp.rowsOf = W;
      }
      var base = (y0 * W + x0) * 4, at = sp.at;
      for (k = 0; k < n; k++) {
        o = base + at[k]; keep = 1 - pa[k];
        buf[o] = pr[k] + buf[o] * keep; buf[o + 1] = pg[k] + buf[o + 1] * keep;
        buf[o + 2] = pb[k] + buf[o + 2] * keep; buf[o + 3] = pa[k] + buf[o + 3] * keep;
      }
      return;
    }
    for (k = 0; k < n; k++) {  // near an edge: skip what falls outside
      var x = x0 + dx[k], y = y0 + dy[k];
      if (x < 0 || y < 0 || x >= W || y >= H) { continue; }
      o = (y * W + x) << 2; keep = 1 - pa[k];
      buf[o] = pr[k] + buf[o] * keep; buf[o + 1] = pg[k] + buf[o + 1] * keep;
      buf[o + 2] = pb[k] + buf[o + 2] * keep; buf[o + 3] = pa[k] + buf[o + 3] * keep;
    }
  }

  // Premultiplied floats to the straight-alpha RGBA pixels of an ImageData (little-endian
  // Uint32, all zero to begin with).
  function unpremultiply(buf, px) {
    for (var p = 0, o = 0, n = px.length; p < n; p++, o += 4) {
      var a = buf[o + 3];
      if (!(a > 0)) { continue; }
      var R = Math.min(255, buf[o] / a + 0.5), G = Math.min(255, buf[o + 1] / a + 0.5);
      var B = Math.min(255, buf[o + 2] / a + 0.5), A = Math.min(255, a * 255 + 0.5);
      px[p] = ((A | 0) << 24) | ((B | 0) << 16) | ((G | 0) << 8) | (R | 0);
    }
  }

  // The count badge of a group as a sprite (drawn once per text and pixel ratio, then
  // stamped like the circles: thousands of fillText calls per frame cost tens of ms).
  var BADGE_H = 14, badgeCanvas = null;
  function badgeWidth(text) { return Math.max(BADGE_H, 6 * text.length + 6); }
  function badgeSprite(text, scale) {
    var w = badgeWidth(text), W = Math.ceil(w * scale) + 2, H = Math.ceil(BADGE_H * scale) + 2;
    // One canvas for all badges, kept in memory (not on the GPU): each badge is read back
    // at once, and a new GPU canvas per count cost ~0.1 ms each in readbacks (hundreds of
    // counts on the first points draw).
    var c = badgeCanvas || (badgeCanvas = document.createElement("canvas"));
    c.width = W; c.height = H;  // (also clears it and resets its state)
    var ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.setTransform(scale, 0, 0, scale, 1, 1);
    ctx.beginPath();
    if (ctx.roundRect) { ctx.roundRect(0.5, 0.5, w - 1, BADGE_H - 1, BADGE_H / 2); }
    else { ctx.rect(0.5, 0.5, w - 1, BADGE_H - 1); }
    ctx.fillStyle = "#ffffff"; ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = "#333333"; ctx.stroke();
    ctx.font = "700 10px system-ui, sans-serif";
    ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillStyle = "#111111";
    ctx.fillText(text, w / 2, BADGE_H / 2 + 0.5);
    var px = ctx.getImageData(0, 0, W, H).data;
    var out = { dx: [], dy: [], r: [], g: [], b: [], a: [] };
    for (var y = 0; y < H; y++) {
      for (var x = 0; x < W; x++) {
        var o = (y * W + x) * 4;
        if (!px[o + 3]) { continue; }
        out.dx.push(x - Math.round(W / 2)); out.dy.push(y - Math.round(H / 2));
        out.r.push(px[o]); out.g.push(px[o + 1]); out.b.push(px[o + 2]);
        out.a.push(px[o + 3] / 255);
      }
    }
    return spriteArrays(out);
  }

  var HEAT = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"];

  var EventsLayer = L.Layer.extend({
    // Its own pane above the reference layers (overlayPane 400) and their labels (420),
    // under markers, tooltips and popups: events are the map's data.
    options: { pane: "nkEvents", mode: "points", aggregateAbove: 150000, cell: 14,
               p0: -1000000, day: 1000000, windowDays: 0, name: "events", mergePx: 6 },

    initialize: function (src, options) {
      L.setOptions(this, options);
      this.data = { n: 0 };
      this.total = 0;
      this.loaded = false;
      this.error = null;
      this.p0 = this.options.p0;
      this.day = this.options.day;
      this.windowDays = this.options.windowDays;
      this.draws = 0;
      this.shown = 0;
      this.drawn = 0;
      this.mode = this.options.mode;
      this._hits = null;
      var self = this;
      src.ready(function (s) { self._onData(s); });
    },

    _onData: function (src) {
      if (src.error) {
        this.error = src.error;
        if (this._map) { this._showError(); }
        return;
      }
      this.data = src.data;
      this.total = src.data.n;
      this.loaded = true;
      this.shown = this._count();
      if (this._map) {
        this._schedule();
        this._map.fire("nkeventsready", { layer: this });
      }
    },

    // Never a silent empty map: say that the events did not arrive, and why.
    _showError: function () {
      if (this._errorBox || !this._map) { return; }
      var box = L.DomUtil.create("div", "nk-events-error", this._map.getContainer());
      box.setAttribute("role", "alert");
      box.textContent = "The events could not be loaded (" + this.error + "). Reload the page; " +
        "if it persists, the server may have been restarted or its static folder is not served.";
      this._errorBox = box;
    },

    onAdd: function (map) {
      if (!map.getPane(this.options.pane)) {
        var pane = map.createPane(this.options.pane);
        pane.style.zIndex = 450;
        pane.style.pointerEvents = "none";
      }
      var c = this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-animated nk-events");
      c.style.pointerEvents = "none";
      this.getPane().appendChild(c);
      map.on("moveend resize", this._reset, this);
      map.on("zoomanim", this._animateZoom, this);
      if (this.options.mode !== "heat") {
        map.on("mousemove", this._onMove, this);
        map.on("click", this._onClick, this);
        map.on("mouseout", this._clearHover, this);
      }
      this._reset(true);
      if (this.error) { this._showError(); }
    },

    onRemove: function (map) {
      if (this._pending) { L.Util.cancelAnimFrame(this._pending); this._pending = null; }
      this._clearHover();
      L.DomUtil.remove(this._canvas);
      if (this._noteBox) { L.DomUtil.remove(this._noteBox); this._noteBox = null; }
      map.off("moveend resize", this._reset, this);
      map.off("zoomanim", this._animateZoom, this);
      map.off("mousemove", this._onMove, this);
      map.off("click", this._onClick, this);
      map.off("mouseout", this._clearHover, this);
      this._canvas = null;
    },

    // The period starts on p0; show what started by `day` (and, with a moving window,
    // had not ended more than windowDays before it). Returns how many events pass.
    setTime: function (p0, day, windowDays) {
      this.p0 = p0; this.day = day; this.windowDays = windowDays || 0;
      this.shown = this._count();
      this._schedule();
      return this.shown;
    },

    // The index range the time filter needs to look at (data.range; none before the data).
    _range: function () { return rangeOf(this.data, this.p0, this.day); },

    _visible: function () {
      var d = this.data, p0 = this.p0, day = this.day, w = this.windowDays;
      var d0 = d.d0, d1 = d.d1, n = d.n, low = w > 0 ? day - w : -Infinity;
      return function (i) { return d0[i] <= day && d1[i] >= p0 && d1[i] > low; };
    },

    // Indices of the events that pass the time filter (in view or not).
    visible: function () {
      var test = this._visible(), out = [], r = this._range();
      for (var i = r[0]; i < r[1]; i++) { if (test(i)) { out.push(i); } }
      return out;
    },

    // How many events of the period [p0, end] have a map point: what the period holds, the
    // denominator of the time control's readout (cached: playback asks every step).
    countPeriod: function (p0, end) {
      var key = p0 + ":" + end + ":" + this.data.n;
      if (this._periodKey !== key) {
        var d = this.data, n = 0, r = rangeOf(d, p0, end);
        for (var i = r[0]; i < r[1]; i++) { if (d.d0[i] <= end && d.d1[i] >= p0) { n++; } }
        this._periodKey = key;
        this._periodCount = n;
      }
      return this._periodCount;
    },

    // From the data's Web Mercator coordinates (zoom 0) to the map's container pixels:
    // x = mx * s - ox, y = my * s - oy (the draw, the legend's counts).
    _toScreen: function () {
      var map = this._map, origin = map.getPixelOrigin(), tl = map.containerPointToLayerPoint([0, 0]);
      return { s: Math.pow(2, map.getZoom()), ox: origin.x + tl.x, oy: origin.y + tl.y };
    },

    // How many of the events that pass the time filter fall in each of `rects` (container
    // pixels {x0, y0, x1, y1}, each grown by `pad`): one pass over the projected coordinates
    // the draw uses. The legend keeps off the data with it (legend.js); projecting each event
    // through Leaflet, once per corner, took 180-250 ms of a period change at 1,000,000.
    countIn: function (rects, pad) {
      var map = this._map, d = this.data, m = rects.length, counts = [], k;
      for (k = 0; k < m; k++) { counts.push(0); }
      if (!map || !this.loaded || !m) { return counts; }
      var t = this._toScreen(), s = t.s, ox = t.ox, oy = t.oy;
      var x0 = [], y0 = [], x1 = [], y1 = [], lx = Infinity, ly = Infinity, hx = -Infinity, hy = -Infinity;
      for (k = 0; k < m; k++) {
        x0.push(rects[k].x0 - pad); y0.push(rects[k].y0 - pad);
        x1.push(rects[k].x1 + pad); y1.push(rects[k].y1 + pad);
        lx = Math.min(lx, x0[k]); ly = Math.min(ly, y0[k]);
        hx = Math.max(hx, x1[k]); hy = Math.max(hy, y1[k]);
      }
      var test = this._visible(), r = this._range();
      for (var i = r[0]; i < r[1]; i++) {
        var x = d.mx[i] * s - ox, y = d.my[i] * s - oy;
        if (x < lx || x > hx || y < ly || y > hy || !test(i)) { continue; }
        for (k = 0; k < m; k++) {
          if (x >= x0[k] && x <= x1[k] && y >= y0[k] && y <= y1[k]) { counts[k]++; }
        }
      }
      return counts;
    },

    typeLabel: function (i) { return this.data.types[this.data.type[i]].label; },

    // How many events pass the time filter; also which types they have (typesShown).
    _count: function () {
      var test = this._visible(), n = 0, types = [], type = this.data.type, r = this._range();
      for (var i = r[0]; i < r[1]; i++) {
        if (test(i)) { n++; types[type[i]] = true; }
      }
      this.typesShown = types;
      return n;
    },

    _reset: function (later) {
      var map = this._map, c = this._canvas;
      if (!map || !c) { return; }
      var size = map.getSize(), r = window.devicePixelRatio || 1;
      this._bounds = map.getBounds();
      L.DomUtil.setPosition(c, map.containerPointToLayerPoint([0, 0]));
      c.width = Math.round(size.x * r); c.height = Math.round(size.y * r);
      c.style.width = size.x + "px"; c.style.height = size.y + "px";
      // The first draw waits a frame: the time control sets the period just after adding.
      if (later === true) { this._schedule(); } else { this._draw(); }
    },

    // One draw per animation frame, however many changes came in it (playback, slider).
    _schedule: function () {
      if (!this._map || this._pending) { return; }
      var self = this;
      this._pending = L.Util.requestAnimFrame(function () {
        self._pending = null;
        self._draw();
      });
    },

    _animateZoom: function (e) {
      var map = this._map;
      var scale = map.getZoomScale(e.zoom);
      var offset = map._latLngBoundsToNewLayerBounds(this._bounds, e.zoom, e.center).min;
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },

    _draw: function () {
      var map = this._map, c = this._canvas;
      if (!map || !c || !this.loaded) { return; }
      // A map in a hidden tab or a collapsed frame has no pixels to draw into; it draws when
      // Leaflet resizes it into view.
      if (!c.width || !c.height) { return; }
      // A draw now covers a scheduled one (a period change, then a fit that redraws at once:
      // at 100,000 points the second draw cost 0.2 s of the page's main thread).
      if (this._pending) { L.Util.cancelAnimFrame(this._pending); this._pending = null; }
      var d = this.data, size = map.getSize(), r = window.devicePixelRatio || 1;
      var ctx = c.getContext("2d");
      ctx.setTransform(r, 0, 0, r, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var t = this._toScreen(), s = t.s, ox = t.ox, oy = t.oy, W = size.x, H = size.y, pad = 20;
      var test = this._visible(), idx = [], shown = 0, range = this._range();
      for (var i = range[0]; i < range[1]; i++) {
        if (!test(i)) { continue; }
        shown++;
        var x = d.mx[i] * s - ox, y = d.my[i] * s - oy;
        if (x < -pad || y < -pad || x > W + pad || y > H + pad) { continue; }
        idx.push(i);
      }
      this.shown = shown;
      var cells = this.options.mode === "heat" || idx.length > this.options.aggregateAbove;
      this.mode = this.options.mode === "heat" ? "heat" : cells ? "cells" : "points";
      if (cells) { this._drawCells(ctx, idx, s, ox, oy, W, H); }
      else { this._drawPoints(ctx, idx, s, ox, oy); }
      this._note(this.mode === "cells" ? idx.length : 0);
      this.draws += 1;
      var el = map.getContainer();
      el.setAttribute("data-nk-" + this.options.name + "-draws", this.draws);
      el.setAttribute("data-nk-" + this.options.name + "-shown", this.shown);
      map.fire("nkdrawn", { layer: this });  // the live map hands the app "drawn" (component/)
    },

    // Circles are stamped into one ImageData (with alpha blending) and put on the canvas in
    // one call: paths or drawImage per event leave Chromium hundreds of ms of rasterising
    // at 100,000 events (measured), stamping pixels takes tens.
    _drawPoints: function (ctx, idx, s, ox, oy) {
      var d = this.data, c = this._canvas, r = window.devicePixelRatio || 1;
      var W = c.width, H = c.height, img = ctx.createImageData(W, H);
      var buf = this._raster, sprites = this._sprites || (this._sprites = {});
      if (!buf || buf.length !== W * H * 4) { buf = this._raster = new Float32Array(W * H * 4); }
      else { buf.fill(0); }
      // The circles of this pixel ratio, by a number (a string key per event cost 10%).
      var circles = sprites["circles:" + r] || (sprites["circles:" + r] = {});
      for (var pass = 1; pass >= 0; pass--) {  // approximate first, precise on top
        for (var j = 0; j < idx.length; j++) {
          var i = idx[j], approx = d.flags[i] & 1;
          if (approx !== pass) { continue; }
          var key = (d.type[i] * 65536 + d.radius[i]) * 2 + approx;
          var sp = circles[key] || (circles[key] = sprite(d.types[d.type[i]].color,
                                                          d.radius[i] / 4, approx, r));
          var x = d.mx[i] * s - ox, y = d.my[i] * s - oy;
          stamp(buf, W, H, x * r, y * r, sp);
        }
      }
      var groups = this._group(idx, s, ox, oy);
      this._stampBadges(buf, W, H, groups, r, sprites);
      unpremultiply(buf, new Uint32Array(img.data.buffer));
      ctx.putImageData(img, 0, 0);
      // The hover/click index is built on the first mouse move after a draw (playback redraws
      // many times a second; nobody points at most of those frames).
      this._hits = { points: idx, s: s, ox: ox, oy: oy, grid: null, groups: groups };
      this.drawn = idx.length;
    },

    // Events drawn at one spot: the same coordinates, or within mergePx screen pixels of a
    // group's first event at this zoom. Each would hide the others; a group is one marker
    // with a count, and its popup lists them all. A screen cell holds at most one group's
    // anchor, so each event looks at nine cells at most: linear in the events drawn.
    _group: function (idx, s, ox, oy) {
      var d = this.data, D = Math.max(1, this.options.mergePx), n = idx.length;
      var size = this._map.getSize();
      // Screen cells of D px over the drawn area (the view and a 20 px margin, plus a ring
      // so that neighbours of edge cells exist): the index of the group anchored in each.
      var off = Math.ceil(20 / D) + 1, cols = Math.ceil(size.x / D) + 2 * off + 1;
      var rows = Math.ceil(size.y / D) + 2 * off + 1, cells = new Int32Array(cols * rows).fill(-1);
      var gid = new Int32Array(n), gx = [], gy = [], count = [], rad = [], first = [], exact = [];
      for (var j = 0; j < n; j++) {
        var i = idx[j], x = d.mx[i] * s - ox, y = d.my[i] * s - oy;
        var key = (Math.floor(y / D) + off) * cols + Math.floor(x / D) + off;
        var g = cells[key];
        if (g < 0) {
          for (var dy = -1; dy <= 1 && g < 0; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
              var h = cells[key + dy * cols + dx];
              if (h < 0) { continue; }
              var ex = gx[h] - x, ey = gy[h] - y;
              if (ex * ex + ey * ey <= D * D) { g = h; break; }
            }
          }
          if (g < 0) {
            g = gx.length;
            gx.push(x); gy.push(y); count.push(0); rad.push(0); first.push(i); exact.push(true);
            cells[key] = g;
          }
        }
        gid[j] = g;
        count[g] += 1;
        if (d.radius[i] / 4 > rad[g]) { rad[g] = d.radius[i] / 4; }
        var f = first[g];
        if (exact[g] && (d.lat[i] !== d.lat[f] || d.lon[i] !== d.lon[f])) { exact[g] = false; }
      }
      return { gid: gid, x: gx, y: gy, count: count, r: rad, first: first, exact: exact,
               badges: [] };
    },

    // A count on every marker that stands for several events, at the upper left of its
    // circle (place labels sit to the right of their dots).
    _stampBadges: function (buf, W, H, groups, ratio, sprites) {
      for (var g = 0; g < groups.count.length; g++) {
        var n = groups.count[g];
        if (n < 2) { continue; }
        var text = n > 9999 ? "9999+" : String(n), w = badgeWidth(text);
        var cx = groups.x[g] - groups.r[g] * 0.8 - w / 2 + 3, cy = groups.y[g] - groups.r[g] * 0.8;
        var key = "badge:" + text + ":" + ratio;
        var sp = sprites[key] || (sprites[key] = badgeSprite(text, ratio));
        stamp(buf, W, H, cx * ratio, cy * ratio, sp);
        groups.badges.push({ g: g, x0: cx - w / 2, y0: cy - BADGE_H / 2, x1: cx + w / 2,
                             y1: cy + BADGE_H / 2, text: text });
      }
    },

    // The markers drawn now that stand for several events (for tests and tools).
    groupsShown: function () {
      var h = this._hits, d = this.data;
      if (!h || !h.groups) { return []; }
      return h.groups.badges.map(function (b) {
        var f = h.groups.first[b.g];
        return { count: h.groups.count[b.g], label: b.text, lat: d.lat[f], lng: d.lon[f],
                 exact: h.groups.exact[b.g] };
      });
    },

    // The events of group g, oldest first.
    _members: function (g) {
      var h = this._hits, d = this.data, out = [];
      for (var j = 0; j < h.points.length; j++) {
        if (h.groups.gid[j] === g) { out.push(h.points[j]); }
      }
      return out.sort(function (a, b) { return d.d0[a] - d.d0[b] || a - b; });
    },

    _drawCells: function (ctx, idx, s, ox, oy, W, H) {
      var d = this.data, size = this.options.cell, cols = Math.ceil(W / size) + 2;
      var rows = Math.ceil(H / size) + 2, count = new Float64Array(cols * rows);
      var heat = this.options.mode === "heat", max = 0, k, i;
      for (var j = 0; j < idx.length; j++) {
        i = idx[j];
        var cx = Math.floor((d.mx[i] * s - ox) / size) + 1, cy = Math.floor((d.my[i] * s - oy) / size) + 1;
        if (cx < 0 || cy < 0 || cx >= cols || cy >= rows) { continue; }
        k = cy * cols + cx;
        count[k] += heat ? d.weight[i] : 1;
        if (count[k] > max) { max = count[k]; }
      }
      var cells = { size: size, cols: cols, count: count }, drawn = 0, logMax = Math.log(1 + max);
      ctx.font = "600 10px system-ui, sans-serif";
      ctx.textAlign = "center"; ctx.textBaseline = "middle";
      for (k = 0; k < count.length; k++) {
        if (!count[k]) { continue; }
        drawn++;
        var x = ((k % cols) - 1 + 0.5) * size, y = (Math.floor(k / cols) - 1 + 0.5) * size;
        var level = logMax > 0 ? Math.log(1 + count[k]) / logMax : 1;
        var color = HEAT[Math.min(HEAT.length - 1, Math.floor(level * HEAT.length))];
        ctx.beginPath();
        if (heat) {
          ctx.globalAlpha = 0.25 + 0.5 * level;
          ctx.arc(x, y, size * 0.9, 0, Math.PI * 2);
          ctx.fillStyle = color; ctx.fill();
        } else {
          var rad = 3 + (size / 2 - 2) * level;
          ctx.globalAlpha = 0.75;  // the held areas and lines beneath stay readable
          ctx.arc(x, y, rad, 0, Math.PI * 2);
          ctx.fillStyle = color; ctx.fill();
          ctx.lineWidth = 0.8; ctx.strokeStyle = "#7a0019"; ctx.stroke();
        }
        ctx.globalAlpha = 1;
      }
      this._hits = heat ? null : { cells: cells };
      this.drawn = drawn;
    },

    // In cells mode, say what the circles are: a user must not read them as single events.
    _note: function (inView) {
      var box = this._noteBox;
      if (!inView) { if (box) { box.style.display = "none"; } return; }
      if (!box) {
        box = this._noteBox = L.DomUtil.create("div", "nk-cells-note", this._map.getContainer());
      }
      box.style.display = "";
      box.textContent = inView.toLocaleString("en") + " events in view: each circle counts the " +
        "events in its area (darker = more). Zoom in to see single events.";
    },

    // The event under the mouse (points), or the cell (aggregated), or null.
    _hit: function (p) {
      var h = this._hits;
      if (!h) { return null; }
      if (h.cells) {
        var c = h.cells, cx = Math.floor(p.x / c.size) + 1, cy = Math.floor(p.y / c.size) + 1;
        var n = c.count[cy * c.cols + cx];
        return n ? { cell: true, count: n } : null;
      }
      var badges = h.groups ? h.groups.badges : [];
      for (var b = badges.length - 1; b >= 0; b--) {  // the counts are drawn on top
        var box = badges[b];
        if (p.x >= box.x0 && p.x <= box.x1 && p.y >= box.y0 && p.y <= box.y1) {
          return { event: h.groups.first[box.g], group: box.g };
        }
      }
      if (!h.grid) { h.grid = this._grid(h); }
      var g = h.grid, best = null, bestD = Infinity;
      var gx = Math.floor(p.x / g.cell), gy = Math.floor(p.y / g.cell), d = this.data;
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          var bucket = g.map.get((gx + dx) * 65536 + (gy + dy));
          if (!bucket) { continue; }
          for (var k = 0; k < bucket.length; k++) {
            var j = bucket[k], i = h.points[j];
            var ex = d.mx[i] * h.s - h.ox - p.x, ey = d.my[i] * h.s - h.oy - p.y;
            var dist = ex * ex + ey * ey, reach = d.radius[i] / 4 + 3;
            if (dist <= reach * reach && dist <= bestD) { best = j; bestD = dist; }
          }
        }
      }
      if (best === null) { return null; }
      return { event: h.points[best], group: h.groups ? h.groups.gid[best] : -1 };
    },

    // Positions (in the drawn list) of the drawn events by 16 px screen cell, for hover and
    // click.
    _grid: function (h) {
      var d = this.data, cell = 16, map = new Map();
      h.points.forEach(function (i, j) {
        var key = Math.floor((d.mx[i] * h.s - h.ox) / cell) * 65536 +
                  Math.floor((d.my[i] * h.s - h.oy) / cell);
        var bucket = map.get(key);
        if (bucket) { bucket.push(j); } else { map.set(key, [j]); }
      });
      return { cell: cell, map: map };
    },

    // How many events of group g (1 when the hit is a lone event).
    _groupSize: function (hit) {
      var h = this._hits;
      return hit.group >= 0 && h && h.groups ? h.groups.count[hit.group] : 1;
    },

    _onMove: function (e) {
      var hit = this._hit(e.containerPoint), map = this._map;
      if (!hit) { this._clearHover(); return; }
      var size = hit.cell ? 0 : this._groupSize(hit);
      var text = hit.cell
        ? hit.count.toLocaleString("en") + " events here: zoom in to see them one by one"
        : size > 1
          ? size.toLocaleString("en") + " events at this point: click to list them"
          : tooltipText(this.data, hit.event);
      if (!this._tip) {
        this._tip = L.tooltip({ sticky: true, className: "nk-event-tip", direction: "top",
                                offset: [0, -6] });
      }
      var node = document.createElement("span");
      node.textContent = text;
      this._tip.setContent(node).setLatLng(e.latlng);
      if (!map.hasLayer(this._tip)) { this._tip.addTo(map); }
      L.DomUtil.addClass(map.getContainer(), "nk-on-event");
    },

    _clearHover: function () {
      if (this._tip && this._map) { this._map.removeLayer(this._tip); }
      if (this._map) { L.DomUtil.removeClass(this._map.getContainer(), "nk-on-event"); }
    },

    _onClick: function (e) {
      var hit = this._hit(e.containerPoint), map = this._map;
      if (!hit) { return; }
      if (hit.cell) { map.setView(e.latlng, Math.min(map.getZoom() + 2, map.getMaxZoom())); return; }
      var i = hit.event, at = L.latLng(this.data.lat[i], this.data.lon[i]);
      var node = this._groupSize(hit) > 1
        ? groupPopupNode(this.data, this._members(hit.group), this._hits.groups.exact[hit.group])
        : popupNode(this.data, i);
      L.popup({ maxWidth: 400, className: "nk-event-popup" })
        .setLatLng(at).setContent(node).openOn(map);
    }
  });

  window.NKMap = {
    decode: decode,
    source: source,
    fetchSource: fetchSource,
    eventsLayer: function (data, options) {
      var layer = new EventsLayer(data, options);
      if (!options || options.mode !== "heat") { window.nkEvents = layer; }
      return layer;
    },
    iso: iso,
    // The circles' rasteriser, for the test that holds it to Canvas 2D's compositing.
    raster: { sprite: sprite, stamp: stamp, unpremultiply: unpremultiply }
  };
})();
