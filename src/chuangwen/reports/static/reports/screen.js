/* The 大屏: numbers and charts from the page's data, refreshed from the dashboard API every minute;
 * a clock in Beijing time (Asia/Shanghai) whatever the screen's own time zone. */
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=screen]");
  var clock = document.getElementById("clock");
  var clockDate = document.getElementById("clock-date");
  var timeFmt = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  var dateFmt = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "long", day: "numeric", weekday: "long" });

  function tick() {
    var now = new Date();
    clock.textContent = timeFmt.format(now);
    clockDate.textContent = dateFmt.format(now) + "（北京时间）";
  }
  tick();
  setInterval(tick, 1000);

  function fixed(v, n) { return v == null ? "—" : Number(v).toFixed(n); }

  function show(data) {
    if (!data || !data.campaign) { return; }
    var c = data.city;
    var values = {
      score: fixed(c.score, 2),
      inspected: c.inspected_schools + "<small> / " + c.schools + "</small>",
      open: String(c.open_problems),
      overdue: String(c.overdue),
      rate: c.rectification_rate == null ? "—" : fixed(c.rectification_rate, 1) + "<small>%</small>",
      median: c.median_days_to_close == null ? "—" : fixed(c.median_days_to_close, 1) + "<small> 天</small>"
    };
    Object.keys(values).forEach(function (key) {
      var el = root.querySelector("[data-kpi=" + key + "]");
      if (el) { el.innerHTML = values[key]; }
    });
    if (window.CWCharts) { window.CWCharts.renderAll(root, data, "dark"); }
    document.getElementById("updated").textContent = timeFmt.format(new Date());
  }

  var node = document.getElementById("dashboard-data");
  if (node) { show(JSON.parse(node.textContent)); }

  var seconds = parseInt(root.getAttribute("data-refresh"), 10) || 60;
  function refresh() {
    fetch(root.getAttribute("data-api"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(show)
      .catch(function () { document.getElementById("updated").textContent = "刷新失败，稍后重试"; });
  }
  if (node) { setInterval(refresh, seconds * 1000); }
  window.CWScreen = { refresh: refresh };
})();
