// The dispatcher board's map: the hub, each route's stops as numbered markers joined in the
// route's colour, and the stops on no route in grey; a click on the map fills a stop's pin form.
// An enhancement only: without Leaflet, or without the map's tiles, the board's lists and forms
// carry everything, so nothing here may be needed to plan, move, lock, publish or place a pin.
(function () {
  "use strict";

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function badge(className, label, colour, size) {
    var span = text(label);
    if (colour) span.style.background = colour;
    return L.divIcon({ className: className, html: span, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
  }

  function start() {
    var holder = document.getElementById("dispatch-map");
    var source = document.getElementById("dispatch-map-data");
    if (!holder || !source || !window.L) return;
    var data = JSON.parse(source.textContent);
    var note = document.getElementById("map-note");
    var hint = document.getElementById("pin-hint");
    var map = L.map(holder, { scrollWheelZoom: false });
    var tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    });
    tiles.on("tileerror", function () {
      if (note) note.hidden = false;
    });
    tiles.addTo(map);

    var hub = data.hub.point;
    var bounds = L.latLngBounds([hub, hub]);
    L.marker(hub, { icon: badge("hub-marker", "H", null, 26), keyboard: false, zIndexOffset: 1000 })
      .bindTooltip(text("Hub: " + data.hub.name))
      .addTo(map);
    data.routes.forEach(function (route) {
      var line = [hub];
      route.stops.forEach(function (stop) {
        line.push(stop.point);
        bounds.extend(stop.point);
        L.marker(stop.point, { icon: badge("stop-marker", String(stop.n), route.colour, 24), keyboard: false })
          .bindTooltip(text(route.label + ", stop " + stop.n + ": " + stop.label))
          .addTo(map);
      });
      line.push(hub);
      L.polyline(line, { color: route.colour, weight: 3, opacity: 0.85 }).addTo(map);
    });
    data.unassigned.forEach(function (stop) {
      bounds.extend(stop.point);
      L.circleMarker(stop.point, { radius: 7, color: "#5b6675", fillColor: "#fff", fillOpacity: 1, weight: 3 })
        .bindTooltip(text("Not on a route: " + stop.label))
        .addTo(map);
    });
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView(hub, 13);
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
    }

    // Placing a pin: "Pick on the map", then a click on the map fills the form's coordinates.
    var picking = null;
    var pinMarker = null;
    document.querySelectorAll(".pin-form").forEach(function (form) {
      var button = form.querySelector("[data-pick-on-map]");
      if (!button) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        picking = form;
        holder.classList.add("picking");
        if (hint) hint.textContent = "Click the map where " + form.dataset.trackingCode + " is.";
        holder.scrollIntoView({ behavior: "smooth", block: "center" });
      });
    });
    map.on("click", function (event) {
      if (!picking) return;
      var form = picking;
      picking = null;
      holder.classList.remove("picking");
      form.elements.lat.value = event.latlng.lat.toFixed(6);
      form.elements.lng.value = event.latlng.lng.toFixed(6);
      if (pinMarker) pinMarker.remove();
      pinMarker = L.circleMarker(event.latlng, { radius: 8, color: "#1f4e79", fillOpacity: 0.6 }).addTo(map);
      if (hint) hint.textContent = "Pin set for " + form.dataset.trackingCode + ": press “Save the pin” to keep it.";
      form.querySelector("button[type=submit]").focus({ preventScroll: true });
    });
  }

  start();
})();
