// The programme calculator: builds the quote contract's input and calls POST /api/v1/programmes/{code}/quote.
(function () {
  "use strict";
  var section = document.getElementById("calculator");
  if (!section) { return; }
  var form = document.getElementById("calc-form");
  var result = document.getElementById("calc-result");
  var code = section.dataset.programme;

  function yuan(fen) {
    var sign = fen < 0 ? "-" : "";
    fen = Math.abs(fen);
    var whole = Math.floor(fen / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + "¥" + whole + "." + String(fen % 100).padStart(2, "0");
  }

  function fenFromYuan(text) {
    var match = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(text.replace(/,/g, ""));
    if (!match) { return null; }
    return parseInt(match[1], 10) * 100 + parseInt((match[2] || "0").padEnd(2, "0"), 10);
  }

  function grade(value) { return value === "" ? null : parseInt(value, 10); }

  function show(nodes) {
    result.replaceChildren.apply(result, nodes);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var payload;
    if (section.dataset.family === "consumer_goods") {
      var price = fenFromYuan(form.price.value);
      if (price === null) {
        show([el("p", "error", "请输入正确的成交价格（元，最多两位小数）")]);
        return;
      }
      payload = { category: form.category.value, price_fen: price,
                  energy_grade: grade(form.energy_grade.value), water_grade: grade(form.water_grade.value) };
    } else {
      try { payload = JSON.parse(form.json.value); } catch (e) {
        show([el("p", "error", "输入不是有效的 JSON")]);
        return;
      }
    }
    fetch("/api/v1/programmes/" + encodeURIComponent(code) + "/quote", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
      credentials: "omit"
    }).then(function (response) {
      return response.json();
    }).then(function (body) {
      if (body.error) {
        show([el("p", "error", body.error.message)]);
        return;
      }
      var head = el("p", "calc-head " + (body.eligible ? "ok" : "bad"),
        body.eligible ? "可补贴 " + yuan(body.amount_fen) : "不符合补贴条件");
      var list = el("ul", "reasons");
      body.reasons.forEach(function (reason) {
        var item = el("li", reason.passed ? "pass" : "fail");
        item.appendChild(el("span", "mark", reason.passed ? "✓" : "✗"));
        item.appendChild(el("span", "", reason.message));
        list.appendChild(item);
      });
      show([head, list, el("p", "help mono", "规则版本 " + body.rule_version)]);
    }).catch(function () {
      show([el("p", "error", "暂时无法计算，请稍后重试")]);
    });
  });
})();
