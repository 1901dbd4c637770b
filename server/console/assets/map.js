// The visit map: the report's GeoJSON (same filter as the table) drawn over our own region data,
// markers clustered (Leaflet.markercluster) so tens of thousands stay fluid.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el) return;
  var d = el.dataset;
  var verdicts = JSON.parse(d.verdicts || "{}");
  var kinds = JSON.parse(d.kinds || "{}");
  var status = document.getElementById("map-status");
  var colours = { ok: "#2e7d32", warn: "#ef8f00", fail: "#c62828", pending: "#757575", none: "#5c6bc0" };
  var canvas = L.canvas({ padding: 0.3 });
  var map = L.map(el, { preferCanvas: true, zoomControl: true, minZoom: 5, maxZoom: 18 }).setView([42.0, 121.6], 8);
  var overlays = {};
  var base = {};
  if (d.tiles) {
    base[d.tTiles] = L.tileLayer(d.tiles, { maxZoom: 18 }).addTo(map);
  }
  var regions = L.layerGroup().addTo(map);
  overlays[d.tRegions] = regions;
  // Both cluster groups load in chunks (the page stays responsive); loaded() resolves once both
  // have taken every marker.
  var pending = 2, loaded;
  var allLoaded = new Promise(function (resolve) { loaded = resolve; });
  function progress(done, total) {
    if (done === total && --pending === 0) loaded();
  }
  var markers = L.markerClusterGroup({ chunkedLoading: true, chunkInterval: 100, chunkProgress: progress,
    showCoverageOnHover: false, maxClusterRadius: 50, disableClusteringAtZoom: 16 });
  var findings = L.markerClusterGroup({ chunkedLoading: true, chunkProgress: progress, showCoverageOnHover: false, maxClusterRadius: 40,
    iconCreateFunction: function (c) {
      return L.divIcon({ html: "<span>" + c.getChildCount() + "</span>", className: "finding-cluster", iconSize: [30, 30] });
    } });
  var tracks = L.layerGroup();
  overlays[d.tVisits] = markers;
  overlays[d.tFindings] = findings;
  overlays[d.tTracks] = tracks;
  L.control.layers(base, overlays, { collapsed: false }).addTo(map);
  window.fieldsyncMap = { map: map, markers: markers, findings: findings, tracks: tracks, visits: 0, ready: false };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function popup(p) {
    var loc = p.location || "none";
    return "<b>" + esc(p.site_name || kinds[p.kind] || p.kind) + "</b><br>" + esc(kinds[p.kind] || p.kind) +
      " · " + esc((p.started_at || "").replace("T", " ").slice(0, 16)) + "<br>" + esc(p.inspector_name) +
      "<br>" + esc(verdicts[loc] || loc) + (p.findings ? " · " + p.findings + " ⚑" +
      (p.overdue_findings ? " (" + p.overdue_findings + " " + esc(d.tOverdue) + ")" : "") : "") +
      '<br><a href="/visits/' + encodeURIComponent(p.id) + '">' + esc(d.tOpen) + "</a>";
  }

  function drawRegions(list) {
    list.forEach(function (r) {
      if (r.boundary) {
        L.geoJSON(r.boundary, { style: { color: r.level === "county" ? "#37474f" : "#90a4ae", weight: r.level === "county" ? 2 : 1, fill: false }, interactive: false }).addTo(regions);
      }
      if (r.centre && (r.level === "county" || r.level === "township")) {
        var m = L.circleMarker([r.centre.lat, r.centre.lon], { renderer: canvas, radius: r.level === "county" ? 4 : 2,
          color: "#78909c", weight: 1, fillOpacity: 0.6, interactive: false }).addTo(regions);
        if (r.level === "county") {
          m.bindTooltip(r.name, { permanent: true, direction: "top", className: "region-label" });
        }
      }
    });
  }

  function drawVisits(fc) {
    var shown = 0, nopos = 0, list = [], flagged = [], bounds = L.latLngBounds([]);
    (fc.features || []).forEach(function (f) {
      var g = f.geometry, p = f.properties || {};
      p.id = f.id;
      if (!g) { nopos++; return; }
      var ll;
      if (g.type === "Point") {
        ll = [g.coordinates[1], g.coordinates[0]];
      } else if (g.type === "LineString" && g.coordinates.length) {
        var line = g.coordinates.map(function (c) { return [c[1], c[0]]; });
        L.polyline(line, { renderer: canvas, color: "#6d4c41", weight: 2, opacity: 0.7, interactive: false }).addTo(tracks);
        ll = line[0];
      } else { nopos++; return; }
      var loc = p.location || "none";
      var m = L.circleMarker(ll, { renderer: canvas, radius: 6, color: "#fff", weight: 1, fillColor: colours[loc] || colours.none, fillOpacity: 0.9 });
      m.bindPopup(function () { return popup(p); });
      list.push(m);
      bounds.extend(ll);
      shown++;
      if (p.findings > 0) {
        var fm = L.circleMarker(ll, { renderer: canvas, radius: 9, color: p.overdue_findings ? "#c62828" : "#ef8f00", weight: 3, fill: false });
        fm.bindPopup(function () { return popup(p); });
        flagged.push(fm);
      }
    });
    if (list.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
    markers.addTo(map);
    findings.addTo(map);
    // An empty list reports no progress: count it as loaded.
    if (list.length) markers.addLayers(list); else progress(0, 0);
    if (flagged.length) findings.addLayers(flagged); else progress(0, 0);
    if (tracks.getLayers().length && tracks.getLayers().length <= 5000) tracks.addTo(map);
    window.fieldsyncMap.visits = shown;
    var text = shown + " " + d.tShown;
    if (nopos) text += " · " + nopos + " " + d.tNopos;
    if (shown + nopos >= Number(d.max)) text += " · " + d.tCapped + " " + d.max;
    status.textContent = text;
    status.dataset.markers = String(shown);
    status.dataset.withoutPosition = String(nopos);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status + " " + url);
      return r.json();
    });
  }

  performance.mark("map-fetch-start");
  Promise.all([getJSON(d.regions).catch(function () { return { regions: [] }; }), getJSON(d.geojson)])
    .then(function (res) {
      performance.mark("map-data");
      drawRegions(res[0].regions || []);
      drawVisits(res[1]);
      return allLoaded;
    })
    .then(function () {
      // The markers are in; the first frame of them is drawn once the browser paints next.
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          performance.mark("map-rendered");
          window.fieldsyncMap.ready = true;
          el.dataset.ready = "true";
        });
      });
    })
    .catch(function (err) {
      status.textContent = d.tFailed + ": " + (err && err.message ? err.message : String(err));
      if (window.console) console.error(err && err.stack ? err.stack : err);
      status.className = "error";
      el.dataset.ready = "error";
    });
})();
