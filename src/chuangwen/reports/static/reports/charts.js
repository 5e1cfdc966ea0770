/* Charts of the dashboards (Apache ECharts), shared by the city dashboard and the 大屏.
 * Each builder takes the dashboard dict (see reports/dashboard.py) and returns an ECharts option.
 * Clicking a bar or a slice follows its `url` (the ledger filtered, or a school's dashboard). */
(function () {
  "use strict";

  var RED = "#c8161d";
  var LIGHT_COLORS = { green: "#198754", yellow: "#f0ad00", red: "#dc3545", none: "#adb5bd" };
  var STATUS_COLORS = {
    new: "#6c757d", assigned: "#0d6efd", in_progress: "#6610f2",
    pending_review: "#fd7e14", closed: "#198754", void: "#adb5bd"
  };

  function short(text, n) {
    text = text || "";
    return text.length > n ? text.slice(0, n) + "…" : text;
  }

  function withUrl(items, value) {
    return items.map(function (item) { return { value: value(item), url: item.url, item: item }; });
  }

  var builders = {
    trend: function (d) {
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(2) + " 分"; } },
        grid: { left: 40, right: 16, top: 24, bottom: 48, containLabel: true },
        xAxis: { type: "category", data: d.trend.map(function (p) { return short(p.name, 8); }),
                 axisLabel: { interval: 0, rotate: d.trend.length > 2 ? 25 : 0 } },
        yAxis: { type: "value", min: 0, max: 100, name: "分" },
        series: [{ type: "line", name: "全市得分", smooth: true, symbolSize: 10, color: RED,
                   label: { show: true, formatter: function (p) { return p.value == null ? "" : p.value.toFixed(1); } },
                   data: withUrl(d.trend, function (p) { return p.score; }) }]
      };
    },
    status: function (d) {
      var rows = d.city.by_status;
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: rows.map(function (r) { return r.label.replace(/（.*）/, ""); }), axisLabel: { interval: 0, hideOverlap: false } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", name: "问题数", label: { show: true, position: "top" },
                   data: rows.map(function (r) { return { value: r.count, url: r.url, itemStyle: { color: STATUS_COLORS[r.key] } }; }) }]
      };
    },
    light: function (d) {
      return {
        tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], name: "整改红黄灯",
                   label: { formatter: "{b}\n{c}" },
                   data: d.city.by_light.map(function (r) { return { name: r.label, value: r.count, itemStyle: { color: LIGHT_COLORS[r.key] } }; }) }]
      };
    },
    lost: function (d) {
      var rows = d.lost.slice().reverse();
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                   formatter: function (ps) { var it = ps[0].data.item; return it.code + " " + short(it.text, 30) + "<br>失分 " + it.lost.toFixed(2) + "（" + it.schools_losing + "/" + it.schools_checked + " 所学校）"; } },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", name: "失分" },
        yAxis: { type: "category", data: rows.map(function (r) { return r.code; }) },
        series: [{ type: "bar", name: "失分", color: RED, label: { show: true, position: "right", formatter: function (p) { return p.value.toFixed(1); } },
                   data: withUrl(rows, function (r) { return r.lost; }) }]
      };
    },
    groups: function (d, key) {
      var rows = d[key].filter(function (g) { return g.score != null; });
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(2) + " 分"; } },
        grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: rows.map(function (g) { return short(g.name, 6); }), axisLabel: { interval: 0, rotate: rows.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [{ type: "bar", name: "得分", color: "#0d6efd", label: { show: true, position: "top", formatter: function (p) { return p.value.toFixed(1); } },
                   data: rows.map(function (g) { return g.score; }) }]
      };
    },
    schools: function (d) {
      // The lowest-scoring inspected schools: who needs help first.
      var rows = d.schools.filter(function (s) { return s.score != null; }).slice(-12);
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100 },
        yAxis: { type: "category", data: rows.map(function (s) { return short(s.name, 10); }) },
        series: [{ type: "bar", name: "得分", label: { show: true, position: "right", formatter: function (p) { return p.value.toFixed(1); } },
                   data: rows.map(function (s) { return { value: s.score, url: s.url, itemStyle: { color: s.vetoed ? "#6c757d" : "#fd7e14" } }; }) }]
      };
    },
    schoolTrend: function (d) {
      var fmt = function (p) { return p.value == null ? "" : p.value.toFixed(1); };
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.trend.map(function (p) { return short(p.name, 8); }), axisLabel: { interval: 0, rotate: d.trend.length > 3 ? 30 : 0 } },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [
          { type: "line", name: "本校", color: RED, symbolSize: 9, connectNulls: true, label: { show: true, formatter: fmt }, data: d.trend.map(function (p) { return p.mine; }) },
          { type: "line", name: "全市", color: "#0d6efd", lineStyle: { type: "dashed" }, data: d.trend.map(function (p) { return p.city; }) }
        ]
      };
    },
    compare: function (d) {
      var s = d.school || {};
      var rows = [["本校", s.score, RED], ["全市平均", d.city_average, "#0d6efd"], [d.type_label + "平均", d.type_average, "#6f42c1"]];
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100 },
        yAxis: { type: "category", data: rows.map(function (r) { return r[0]; }), inverse: true },
        series: [{ type: "bar", name: "得分", label: { show: true, position: "right", formatter: function (p) { return p.value == null ? "" : p.value.toFixed(2); } },
                   data: rows.map(function (r) { return { value: r[1], itemStyle: { color: r[2] } }; }) }]
      };
    },
    coverage: function (d) {
      var c = d.coverage || { percent: 0 };
      return {
        series: [{ type: "gauge", min: 0, max: 100, progress: { show: true, width: 14 }, axisLine: { lineStyle: { width: 14 } },
                   axisLabel: { distance: 18, fontSize: 10 }, splitLine: { length: 8 }, pointer: { show: false },
                   detail: { valueAnimation: true, formatter: "{value}%", fontSize: 24, offsetCenter: [0, "10%"] },
                   title: { offsetCenter: [0, "45%"] },
                   data: [{ value: c.percent == null ? 0 : c.percent, name: "责任覆盖" }] }]
      };
    }
  };

  var charts = {};

  function render(el, data, theme) {
    var kind = el.getAttribute("data-chart");
    var build = builders[kind];
    if (!build || typeof echarts === "undefined") { return null; }
    var chart = charts[el.id] || echarts.init(el, theme || null);
    charts[el.id] = chart;
    var option = build(data, el.getAttribute("data-key"));
    if (theme === "dark") { option.backgroundColor = "transparent"; }
    chart.setOption(option, true);
    chart.off("click");
    chart.on("click", function (p) {
      var url = p.data && p.data.url;
      if (url) { window.location.href = url; }
    });
    return chart;
  }

  function renderAll(root, data, theme) {
    root.querySelectorAll("[data-chart]").forEach(function (el) { render(el, data, theme); });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });

  window.CWCharts = { render: render, renderAll: renderAll };
})();
