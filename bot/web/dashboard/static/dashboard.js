// Draws the dashboard's charts from the JSON the page carries (#chart-data). The
// tables beside them hold the same figures, so the page works without this script.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var labels = data.labels || {};
  var blue = "#0b5cad", green = "#1b7f3b", amber = "#b35c00", red = "#b3261e";
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false,
                                     animation: false }, config.options || {});
    var chart = new Chart(canvas, config);
    canvas.dataset.points = String(config.data.datasets.reduce(function (n, set) {
      return n + set.data.filter(function (v) { return v !== null && v !== 0; }).length;
    }, 0));
    canvas.dataset.rendered = "yes";
    return chart;
  }
  // Counts are whole: no 0.2 ticks on an axis of tickets or ratings.
  var counted = { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };
  draw("chart-volume", { type: "bar", options: counted, data: { labels: data.days, datasets: [
    { label: labels.opened, data: data.opened, backgroundColor: blue },
    { label: labels.resolved, data: data.resolved, backgroundColor: green }] } });
  // Both lines in hours of business time, on one axis that says so.
  draw("chart-trends", { type: "line", options: { scales: {
      x: { title: { display: true, text: labels.day } },
      y: { beginAtZero: true, title: { display: true, text: labels.hours } } } },
    data: { labels: data.days, datasets: [
    { label: labels.firstResponse, data: data.firstResponse, borderColor: blue, spanGaps: true },
    { label: labels.resolution, data: data.resolution, borderColor: amber, spanGaps: true }] } });
  draw("chart-promises", { type: "doughnut", data: { labels: labels.promises, datasets: [
    { data: data.promises, backgroundColor: [green, blue, red] }] } });
  draw("chart-csat", { type: "bar", options: counted, data: { labels: ["1", "2", "3", "4", "5"], datasets: [
    { label: labels.csat, data: data.csat, backgroundColor: blue }] } });
  draw("chart-backlog", { type: "bar", options: counted, data: { labels: data.backlogLabels, datasets: [
    { label: labels.backlog, data: data.backlog, backgroundColor: amber }] } });
}());
