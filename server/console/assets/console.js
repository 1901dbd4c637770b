// fieldsync console: the little script every page loads.
(function () {
  "use strict";
  // A filter form sends only the fields that are set, so the query string (shared by the table,
  // the map and the exports) holds exactly the report's filters.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-strip-empty")) return;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.value === "") el.disabled = true;
    });
    setTimeout(function () {
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
    }, 0);
  });
  // The same for the filter forms htmx sends (they update the results in place and the address).
  document.addEventListener("htmx:configRequest", function (ev) {
    var p = ev.detail.parameters;
    if (!ev.detail.elt.hasAttribute || !ev.detail.elt.hasAttribute("data-strip-empty")) return;
    Array.prototype.forEach.call(ev.detail.elt.elements, function (el) {
      if (el.name && el.value === "") delete p[el.name];
    });
  });
  // Buttons that destroy something ask first.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button.danger");
    if (b && !window.confirm(document.documentElement.lang === "en" ? "Are you sure?" : "确定吗？")) {
      ev.preventDefault();
    }
  });
  if (window.performance && performance.mark) performance.mark("console-ready");
})();
