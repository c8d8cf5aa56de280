// Draws each charge point's plan (planned power) over the price and carbon of each slot.
// Data comes from a <script type="application/json"> next to each canvas; nothing is fetched.
(function () {
  window.planCharts = {};
  function draw(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.source).textContent);
    var chart = new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: "Planned power (kW)", data: data.power_kw, yAxisID: "kw", borderColor: "#0b5fff",
            backgroundColor: "rgba(11,95,255,0.25)", fill: true, stepped: true, pointRadius: 0, order: 0 },
          { type: "bar", label: "Price (p/kWh)", data: data.price_p, yAxisID: "price", backgroundColor: "rgba(230,159,0,0.55)", order: 1 },
          { type: "bar", label: "Carbon (gCO2/kWh)", data: data.carbon_g, yAxisID: "carbon", backgroundColor: "rgba(0,158,115,0.45)", order: 2 }
        ]
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          kw: { position: "left", title: { display: true, text: "kW" }, beginAtZero: true },
          price: { position: "right", title: { display: true, text: "p/kWh" }, beginAtZero: true, grid: { drawOnChartArea: false } },
          carbon: { position: "right", title: { display: true, text: "gCO2/kWh" }, beginAtZero: true, grid: { drawOnChartArea: false } },
          x: { ticks: { maxTicksLimit: 16 } }
        },
        plugins: { title: { display: true, text: data.title } }
      }
    });
    window.planCharts[canvas.dataset.station] = chart;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-source]").forEach(draw);
  });
})();
