/* The city dashboard and a school's dashboard: draw the charts from the data the page carries (json_script). */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node) { return; }
  var data = JSON.parse(node.textContent);
  window.CWCharts.renderAll(document, data, null);
})();
