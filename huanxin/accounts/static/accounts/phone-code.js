// One-time code requests (htmx): a refusal (422 bad number, 429 resend too soon) replaces the status line
// like a success does, instead of leaving the last "已发送" on screen; and a button with data-cooldown
// stays disabled, counting down the seconds, until the server will send again.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if ((status === 422 || status === 429) && target && target.id === "code-status") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  function tick() {
    var now = Date.now();
    document.querySelectorAll("button[data-cooldown]").forEach(function (button) {
      if (!button.dataset.until) {
        button.dataset.until = String(now + Number(button.dataset.cooldown) * 1000);
      }
      var left = Math.ceil((Number(button.dataset.until) - now) / 1000);
      if (left > 0) {
        button.disabled = true;
        button.textContent = button.dataset.label + "（" + left + " 秒）";
      } else {
        button.disabled = false;
        button.textContent = button.dataset.label;
        button.removeAttribute("data-cooldown");
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
