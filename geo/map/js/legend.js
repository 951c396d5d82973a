/* The map's legend (geo/map/build.py Legend) as a Leaflet control that folds and keeps off
 * the data.
 *
 * The legend's rows are rendered by the server (escaped) into a box outside the map; this
 * moves the box into a control. Its heading (<summary>) folds it; it starts folded on narrow
 * or short maps. It starts in the bottom-right corner; when it would cover events there and
 * another corner covers fewer, it moves there (checked when the events arrive and after the
 * map moves, never while it covers none, so it does not jump around).
 */
(function () {
  if (window.NKLegend) { return; }

  var CORNERS = ["bottomright", "topright", "bottomleft", "topleft"], MARGIN = 10;

  // The rectangle (container pixels) the legend would take in `corner`, beside the other
  // controls there.
  function rectIn(map, control, corner, w, h) {
    var size = map.getSize(), el = map._controlCorners[corner];
    var mapBox = map.getContainer().getBoundingClientRect(), top = MARGIN, bottom = size.y - MARGIN;
    Array.prototype.forEach.call(el ? el.children : [], function (c) {
      if (c === control.getContainer()) { return; }
      var r = c.getBoundingClientRect();
      if (corner.indexOf("top") === 0) { top = Math.max(top, r.bottom - mapBox.top + MARGIN); }
      else { bottom = Math.min(bottom, r.top - mapBox.top - MARGIN); }
    });
    var x0 = corner.indexOf("left") > 0 ? MARGIN : size.x - MARGIN - w;
    var y0 = corner.indexOf("top") === 0 ? top : bottom - h;
    return { x0: x0, y0: y0, x1: x0 + w, y1: y0 + h, fits: y0 >= 0 && y0 + h <= size.y };
  }

  window.NKLegend = function (map, token) {
    var box = document.querySelector('.nk-legend[data-nk-legend="' + token + '"]');
    if (!box) { return null; }
    var details = box.querySelector("details");
    // On a phone (or a short map) the legend starts folded: the map stays visible.
    if (window.innerWidth < 600 || map.getSize().y < 420) { details.removeAttribute("open"); }
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var Control = L.Control.extend({ onAdd: function () { return box; } });
    var control = new Control({ position: "bottomright" }).addTo(map);

    // Every corner's events are counted in one pass (events.countIn): the legend moves to
    // the corner that hides the fewest, and only when where it is hides some.
    function place() {
      var events = window.nkEvents;
      if (!details.open || !events || !events.loaded || events._map !== map) { return; }
      var w = box.offsetWidth, h = box.offsetHeight, here = control.getPosition();
      var corners = [here], rects = [rectIn(map, control, here, w, h)];
      CORNERS.forEach(function (corner) {
        if (corner === here) { return; }
        var rect = rectIn(map, control, corner, w, h);
        if (rect.fits) { corners.push(corner); rects.push(rect); }
      });
      var counts = events.countIn(rects, 4);
      if (!counts[0]) { return; }
      var best = 0;
      for (var k = 1; k < counts.length; k++) { if (counts[k] < counts[best]) { best = k; } }
      if (corners[best] !== here) { control.setPosition(corners[best]); }
      box.setAttribute("data-nk-corner", corners[best]);
      box.setAttribute("data-nk-covers", counts[best]);
    }
    map.on("nkeventsready moveend", place);
    box.setAttribute("data-nk-corner", "bottomright");
    setTimeout(place, 0);  // once the event layers and the time control are on the map
    window.nkLegend = { control: control, place: place, box: box };
    return window.nkLegend;
  };
})();
