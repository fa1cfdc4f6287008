/* Solutions in one fold · 解答收在同一個折疊區 (issue 16).
 * A chapter's solution is a dropdown admonition followed by the notebook cells that compute it, each with its own
 * "Show code cell source" / "output" folds. This moves those cells into the admonition and opens their folds,
 * so that one click ("Click to show") shows the whole solution: prose, code and output.
 * tests/browser/test_solutions.py checks it. */
(function () {
  function gather() {
    document.querySelectorAll("div.solution").forEach(function (solution) {
      var next = solution.nextElementSibling;
      while (next && next.matches("div.cell")) {
        var cell = next;
        next = next.nextElementSibling;
        cell.querySelectorAll("details.hide").forEach(function (d) { d.open = true; });
        cell.classList.add("scoresde-solution-cell");
        solution.appendChild(cell);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", gather);
  else gather();
})();
