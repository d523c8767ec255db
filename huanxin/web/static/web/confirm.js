// A form with data-confirm asks before it is sent (no inline onsubmit: the Content-Security-Policy runs
// only this site's script files).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
