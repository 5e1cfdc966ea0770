/* The inspection page: say so on the card when an answer could not be saved.
   htmx swaps in the card the server renders for every answer it receives; when the request never arrives
   (the phone lost its network) or is refused, nothing is swapped, so without this the inspector would
   believe the tapped answer saved. */
(function () {
  "use strict";

  function show(elt, text) {
    var card = elt && elt.closest ? elt.closest('[data-testid="card"]') : null;
    var box = card ? card.querySelector("[aria-live]") : null;
    if (!box) {
      window.alert(text);
      return;
    }
    var line = document.createElement("div");
    line.className = "text-danger fw-semibold";
    line.setAttribute("role", "alert");
    line.setAttribute("data-testid", "error");
    line.textContent = text;
    box.replaceChildren(line);
    card.classList.add("border-danger");
  }

  document.body.addEventListener("htmx:sendError", function (event) {
    show(event.detail.elt, "网络中断，本项没有保存。请检查网络后重新选择或重新上传。");
  });

  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var text;
    if (status === 403) {
      text = "没有保存：您无权修改这次检查（可能已提交或登录已过期），请刷新页面。";
    } else if (status === 404) {
      text = "没有保存：检查或标准已不存在，请刷新页面。";
    } else if (status === 413) {
      text = "照片文件太大，没有上传。";
    } else {
      text = "没有保存（服务器错误 " + status + "），请稍后重试。";
    }
    show(event.detail.elt, text);
  });
})();
