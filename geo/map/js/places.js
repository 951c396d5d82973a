/* Place names of the basemap (geo/map/build.py PlacesLayer): a dot and a label per place,
 * shown from the place's min_zoom on, laid out again after every zoom or pan.
 *
 * Only the places in view at a zoom that shows them get DOM nodes (a few hundred at most of
 * ~2,000), and labels are placed most prominent first (the payload's order) where they do not
 * overlap one already placed. Names are set with textContent: they are data.
 */
(function () {
  if (window.NKPlaces) { return; }

  var CHAR_PX = 6.4, LINE_PX = 14, PAD = 2;

  // A name cut by the map's edge reads as another word ("ary base" for the Russian 102nd
  // military base, "aku" for Maku). A name that runs off the right edge goes to the left of
  // its dot where it fits there; otherwise a cut name is hidden (its dot stays). `side(el)`:
  // the element whose "nk-left" class puts the name on the left, or null (names centred on
  // their point, as countries). All boxes are read first, then written: one layout.
  var GAP = 7;  // px between a dot and its name (at most)
  function fitNames(map, names, side) {
    var c = map.getContainer().getBoundingClientRect(), boxes = [], hidden = 0, i;
    var text = document.createRange();
    for (i = 0; i < names.length; i++) {
      var s = side(names[i]);
      if (s) { s.classList.remove("nk-left"); }
    }
    for (i = 0; i < names.length; i++) {
      // The text's own box: a marker's name overflows its zero-width icon.
      text.selectNodeContents(names[i]);
      boxes.push(text.getBoundingClientRect());
    }
    for (i = 0; i < names.length; i++) {
      var r = boxes[i], el = names[i], flip = side(el);
      var inY = r.top >= c.top && r.bottom <= c.bottom;
      var show = inY && r.left >= c.left && r.right <= c.right;
      if (!show && inY && flip && r.right > c.right && r.left - GAP <= c.right &&
          r.left - 2 * GAP - (r.right - r.left) >= c.left) {
        flip.classList.add("nk-left");
        show = true;
      }
      el.style.visibility = show ? "" : "hidden";
      if (!show) { hidden++; }
    }
    return hidden;
  }
  function placeOf(span) { return span.parentNode; }
  function siteLabel(el) { return el.classList.contains("nk-site-label") ? el : null; }

  var PlacesLayer = L.Layer.extend({
    // The labels' pane (z-index 420, made by geo/map/build.py): names above area fills and
    // lines (overlayPane, 400), events above names (events.js, 450).
    options: { pane: "nkLabels" },

    initialize: function (payload, options) {
      L.setOptions(this, options);
      this.p = payload;
      this.n = payload.lat.length;
      this.shown = 0;
      this.layouts = 0;
      this._nodes = [];  // the DOM node of place i, made on first use
    },

    onAdd: function (map) {
      if (!map.getPane(this.options.pane)) {
        var pane = map.createPane(this.options.pane);
        pane.style.zIndex = 420;
        pane.style.pointerEvents = "none";
      }
      this._root = L.DomUtil.create("div", "nk-places", this.getPane());
      map.on("zoomstart", this._hide, this);
      map.on("zoomend moveend resize viewreset", this._layout, this);
      this._layout();
    },

    onRemove: function (map) {
      map.off("zoomstart", this._hide, this);
      map.off("zoomend moveend resize viewreset", this._layout, this);
      L.DomUtil.remove(this._root);
      this._root = null;
      this._nodes = [];
    },

    _hide: function () { if (this._root) { this._root.style.display = "none"; } },

    _node: function (i) {
      var el = this._nodes[i];
      if (!el) {
        el = this._nodes[i] = document.createElement("div");
        el.className = "nk-place nk-place-" + this.p.kinds[this.p.kind[i]];
        var text = document.createElement("span");
        text.textContent = this.p.label[i];
        el.appendChild(text);
      }
      return el;
    },

    _layout: function () {
      var map = this._map, p = this.p;
      if (!map || !this._root) { return; }
      var zoom = map.getZoom(), size = map.getSize();
      var placed = [], frag = document.createDocumentFragment(), shown = 0;
      // Country names (centred, spaced capitals) and site labels (right of their dots) are
      // drawn by the map itself: keep their space free.
      (p.reserved || []).forEach(function (r) {
        var c = map.latLngToContainerPoint([r[0], r[1]]);
        if (r[3]) {
          var half = r[2] * 5;
          placed.push([c.x - half, c.y - 9, c.x + half, c.y + 9]);
        } else if (c.x + 10 + r[2] * 7 > size.x) {  // moved left of its dot (fitNames)
          placed.push([c.x - 10 - r[2] * 7, c.y - 9, c.x + 6, c.y + 9]);
        } else {
          placed.push([c.x - 6, c.y - 9, c.x + 10 + r[2] * 7, c.y + 9]);
        }
      });
      for (var i = 0; i < this.n; i++) {
        if (p.z[i] > zoom) { continue; }
        var at = map.latLngToLayerPoint([p.lat[i], p.lon[i]]);
        var c = map.layerPointToContainerPoint(at), x = c.x, y = c.y;
        if (x < -50 || y < -20 || x > size.x + 10 || y > size.y + 20) { continue; }
        // The label's box to the right of its dot, in screen pixels.
        var w = p.label[i].length * CHAR_PX + 8;
        var box = [x - 3 - PAD, y - LINE_PX / 2 - PAD, x + w + PAD, y + LINE_PX / 2 + PAD];
        var free = true;
        for (var k = 0; k < placed.length; k++) {
          var o = placed[k];
          if (box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]) {
            free = false; break;
          }
        }
        if (!free) { continue; }
        placed.push(box);
        var el = this._node(i);
        L.DomUtil.setPosition(el, at);
        frag.appendChild(el);
        shown++;
      }
      this._root.textContent = "";
      this._root.appendChild(frag);
      this._root.style.display = "";
      this.cut = fitNames(map, this._root.querySelectorAll(".nk-place span"), placeOf);
      shown -= this.cut;  // (their dots stay, their names do not)
      this.shown = shown;
      this.layouts += 1;
      map.getContainer().setAttribute("data-nk-places-shown", shown);
    },

    // The labels shown now, as text (for tests and tools).
    labels: function () {
      var out = [];
      if (!this._root) { return out; }
      this._root.childNodes.forEach(function (el) { out.push(el.textContent); });
      return out;
    }
  });

  window.NKPlaces = {
    layer: function (payload, options) {
      var layer = new PlacesLayer(payload, options);
      window.nkPlaces = layer;
      return layer;
    },
    // The names the map draws as markers (countries, sites; geo/map/build.py) get the same
    // rule after every move: moved left of their dot, or hidden, while the edge cuts them.
    fitLabels: function (map) {
      function fit() {
        var pane = map.getPane("nkLabels");
        if (pane) { fitNames(map, pane.querySelectorAll(".nk-label-icon > div"), siteLabel); }
      }
      map.on("zoomend moveend resize viewreset", fit);
      map.whenReady(fit);
    }
  };
})();
