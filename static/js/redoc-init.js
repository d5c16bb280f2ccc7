// Starts Redoc on /api/v1/docs from a file, not an inline script (the site's CSP allows
// scripts from our own origin only). The description's URL comes from the element.
(function () {
  "use strict";
  var element = document.getElementById("redoc");
  if (!element || typeof Redoc === "undefined") {
    return;
  }
  Redoc.init(
    element.dataset.specUrl,
    {
      hideDownloadButton: false,
      expandResponses: "200,201,202",
      pathInMiddlePanel: true,
      theme: { typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" } } },
    },
    element
  );
})();
