// Live countdown for qualification validity: "还剩 12天 03:04:05"; shows 已过期 once the time has passed.
(function () {
  "use strict";
  var nodes = document.querySelectorAll(".countdown[data-expires]");
  if (!nodes.length) { return; }
  function pad(n) { return String(n).padStart(2, "0"); }
  function tick() {
    var now = Date.now();
    nodes.forEach(function (node) {
      var left = Math.floor((Date.parse(node.dataset.expires) - now) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) { node.textContent = "已过期"; node.classList.add("expired"); return; }
      var days = Math.floor(left / 86400);
      left -= days * 86400;
      node.textContent = "还剩 " + (days ? days + "天 " : "") + pad(Math.floor(left / 3600)) + ":" +
        pad(Math.floor(left % 3600 / 60)) + ":" + pad(left % 60);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
