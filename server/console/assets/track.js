// The track (or position) of one visit on a small map, from its GeoJSON report.
(function () {
  "use strict";
  var el = document.getElementById("track-map");
  if (!el) return;
  fetch(el.dataset.geojson, { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (f) {
    if (!f.geometry) { el.hidden = true; return; }
    var map = L.map(el, { preferCanvas: true, scrollWheelZoom: false, maxZoom: 18 });
    var layer = L.geoJSON(f, {
      style: { color: "#6d4c41", weight: 3 },
      pointToLayer: function (_, ll) { return L.circleMarker(ll, { radius: 7, color: "#1565c0" }); }
    }).addTo(map);
    if (f.geometry.type === "Point") {
      map.setView(layer.getBounds().getCenter(), 14);
    } else {
      map.fitBounds(layer.getBounds(), { padding: [10, 10] });
    }
    el.dataset.ready = "true";
  }).catch(function () { el.hidden = true; });
})();
