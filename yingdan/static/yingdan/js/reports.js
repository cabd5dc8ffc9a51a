/* Reports: turns the chart spec a report page embeds (json_script) into an Apache ECharts chart, with the
 * toolbox "save as image". Re-runs after every HTMX swap of the report body (filters, paging). */
(function () {
  "use strict";

  var PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569"];
  var charts = [];

  function toolbox(el) {
    return {
      right: 8,
      feature: {
        saveAsImage: {
          title: el.dataset.saveTitle || "Save as image",
          name: "yingdan-" + (el.dataset.fileName || "report"),
          pixelRatio: 2,
          backgroundColor: "#fff",
        },
      },
    };
  }

  function funnelOption(spec) {
    return {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var amount = p.data && p.data.amount != null ? " · ¥" + Number(p.data.amount).toLocaleString() : "";
          return p.name + ": " + p.value + amount;
        },
      },
      series: [{
        name: spec.seriesName, type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%", gap: 2,
        label: { show: true, position: "inside", formatter: "{b}  {c}" },
        data: spec.data.map(function (d) { return { name: d.name, value: d.value, amount: d.amount }; }),
      }],
    };
  }

  function barOption(spec) {
    var horizontal = !!spec.horizontal;
    var category = { type: "category", data: spec.categories, axisLabel: { interval: 0, hideOverlap: true } };
    var yAxes = [{ type: "value" }];
    if (spec.percentAxis) yAxes.push({ type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } });
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: spec.percentAxis ? 56 : 24, top: 40, bottom: 48, containLabel: true },
      dataZoom: spec.categories.length > 12 ? [{ type: "slider", height: 16, bottom: 4 }] : [],
      xAxis: horizontal ? yAxes[0] : category,
      yAxis: horizontal ? category : yAxes,
      series: spec.series.map(function (s) {
        return {
          name: s.name, type: s.type || "bar", data: s.data, stack: s.stack, yAxisIndex: s.yAxisIndex || 0,
          smooth: s.type === "line", barMaxWidth: 42, itemStyle: s.color ? { color: s.color } : undefined,
          lineStyle: s.color && s.type === "line" ? { color: s.color } : undefined,
          label: { show: s.type !== "line" && !s.stack && spec.categories.length <= 12, position: "top" },
          tooltip: s.unit ? { valueFormatter: function (v) { return v == null ? "—" : v + s.unit; } } : undefined,
        };
      }),
    };
  }

  function pieOption(spec) {
    return {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", orient: "vertical", right: 8, top: 32, bottom: 8 },
      series: [
        { name: spec.seriesName, type: "pie", radius: [0, "38%"], center: ["40%", "55%"], label: { position: "inner", formatter: "{b}" }, data: spec.inner },
        { name: spec.seriesName, type: "pie", radius: ["48%", "68%"], center: ["40%", "55%"], data: spec.outer },
      ],
    };
  }

  function render(el) {
    if (!window.echarts) return;
    var source = document.getElementById(el.dataset.reportChart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var existing = echarts.getInstanceByDom(el);
    if (existing) existing.dispose();
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var option = spec.type === "funnel" ? funnelOption(spec) : spec.type === "pie" ? pieOption(spec) : barOption(spec);
    option.color = PALETTE;
    option.toolbox = toolbox(el);
    option.animationDuration = 300;
    chart.setOption(option);
    charts.push(chart);
    el.dataset.rendered = "1";
  }

  function renderAll(root) {
    charts = charts.filter(function (c) { return !c.isDisposed(); });
    (root || document).querySelectorAll("[data-report-chart]").forEach(render);
  }

  document.addEventListener("DOMContentLoaded", function () { renderAll(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { renderAll(evt.target); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { if (!c.isDisposed()) c.resize(); }); });

  /* The custom date inputs only matter for the "custom range" period. */
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest("#report-filters");
    if (!form) return;
    if (evt.target.name === "date_from" || evt.target.name === "date_to") {
      var period = form.querySelector("[name=period]");
      if (period) period.value = "custom";
    } else if (evt.target.name === "period" && evt.target.value !== "custom") {
      form.querySelectorAll("[name=date_from],[name=date_to]").forEach(function (i) { i.value = ""; });
    }
  }, true);
})();
