// Copy buttons: <button data-copy="#id"> copies the text of the element #id. Without this
// script the buttons stay hidden and the text is still there to select by hand.
(function () {
  "use strict";
  function fallbackCopy(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    return done;
  }
  function confirm(button, text) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = text;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }
  function setUp(button) {
    var node = document.querySelector(button.getAttribute("data-copy"));
    if (!node) return;
    button.hidden = false;
    button.setAttribute("aria-live", "polite");
    button.addEventListener("click", function () {
      var text = node.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { confirm(button, "Copied"); },
          function () { confirm(button, fallbackCopy(node) ? "Copied" : "Select and copy"); }
        );
      } else {
        confirm(button, fallbackCopy(node) ? "Copied" : "Select and copy");
      }
    });
  }
  function all(root) {
    (root || document).querySelectorAll("button[data-copy]").forEach(setUp);
  }
  document.addEventListener("DOMContentLoaded", function () { all(document); });
})();
