// Section navigation behind a "Menu" button at phone widths. Without this script the button
// stays hidden and the navigation is always shown, so nothing depends on JavaScript.
(function () {
  "use strict";
  function setUp(button) {
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      if (open) {
        var first = nav.querySelector("a");
        if (first) first.focus();
      }
    });
    // Escape closes the open menu and puts focus back on its button.
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true" &&
          getComputedStyle(button).display !== "none") {
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }
  // A table (or its figure) that scrolls sideways must be reachable by keyboard to scroll.
  function scrollBoxes() {
    document.querySelectorAll("main table, main figure").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 &&
        ["auto", "scroll"].indexOf(getComputedStyle(box).overflowX) !== -1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-box", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-box")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-box");
      }
    });
  }
  function init() {
    document.querySelectorAll("button.nav-toggle[aria-controls]").forEach(setUp);
    scrollBoxes();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.addEventListener("resize", scrollBoxes);
  document.addEventListener("htmx:afterSettle", scrollBoxes);
})();
