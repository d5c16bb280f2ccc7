// Type to filter a long <select data-filter="placeholder">: a search box is put before it and
// the select keeps only the options whose label contains what was typed (accents and case
// ignored), the first match chosen. Progressive enhancement: without this script the select works as it is. Options
// are removed and put back rather than hidden, since Safari ignores hidden options.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function enhance(select) {
    var original = Array.prototype.map.call(select.children, function (node) {
      return node.cloneNode(true);
    });
    var input = document.createElement("input");
    input.type = "search";
    input.className = "select-filter";
    input.placeholder = select.dataset.filter;
    input.setAttribute("aria-label", select.dataset.filter);
    input.setAttribute("aria-controls", select.id);
    input.autocomplete = "off";
    var status = document.createElement("small");
    status.className = "select-filter-status";
    status.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(status, select.nextSibling);

    function matches(option, words) {
      var label = fold(option.textContent);
      return words.every(function (w) { return label.indexOf(w) !== -1; });
    }

    function apply() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var value = select.value;
      var found = 0;
      var first = null;
      // The matches are listed and the first one chosen, as in a combobox; with no match
      // the list keeps only the current choice, so the value never goes blank.
      function keep(option) {
        if (!words.length || matches(option, words)) {
          found += 1;
          first = first || option;
          return true;
        }
        return option.value === value;
      }
      select.textContent = "";
      original.forEach(function (node) {
        var copy = node.cloneNode(true);
        if (copy.tagName === "OPTGROUP") {
          Array.prototype.slice.call(copy.children).forEach(function (option) {
            if (!keep(option)) { option.remove(); }
          });
          if (copy.children.length) { select.appendChild(copy); }
        } else if (keep(copy)) {
          select.appendChild(copy);
        }
      });
      if (words.length && found) {
        // Drop the kept choice when it is not a match: only matches are listed.
        Array.prototype.slice.call(select.options).forEach(function (option) {
          if (option.value === value && !matches(option, words)) {
            var group = option.parentNode;
            option.remove();
            if (group.tagName === "OPTGROUP" && !group.children.length) { group.remove(); }
          }
        });
        select.value = first.value;
      } else {
        select.value = value;
      }
      var chosen = select.selectedOptions[0];
      if (!words.length) {
        status.textContent = "";
      } else if (found) {
        status.textContent = (found === 1 ? "1 match" : found + " matches") + ", chosen: " + first.textContent;
      } else {
        status.textContent = "No match; " + (chosen ? chosen.textContent : "the choice") + " stays chosen";
      }
      if (select.value !== value) {
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // Enter keeps the match chosen (instead of submitting the form) and moves on to the
        // select, where the arrow keys go through the matches.
        event.preventDefault();
        select.focus();
      }
    });
  }

  document.querySelectorAll("select[data-filter]").forEach(enhance);
})();
