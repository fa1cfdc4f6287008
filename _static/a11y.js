/*
 * Accessible pages · 無障礙的頁面 (issue 29; _ext/a11y.py writes the captions and fold labels, a11y.css styles them).
 *   - alt text in the reader's language: each figure caption carries data-alt-en / data-alt-zh, and the images of its
 *     cell follow the language switch (<html data-lang>), English when both languages are shown;
 *   - the theme's search and colour-mode buttons: an accessible name that contains their visible text;
 *   - the language switch early in the tab order: on a wide screen it moves to the top of the primary sidebar (right
 *     after the book's title and the search field), on a phone it stays in the article header;
 *   - a code or output box that scrolls sideways can be reached with the keyboard (tabindex=0);
 *   - display equations wider than the page are scaled down to fit, to 60 % at most; the rest scrolls in its box.
 */
(function () {
  "use strict";
  var html = document.documentElement;

  function lang() {
    var mode = html.getAttribute("data-lang");
    if (mode === "zh" || html.getAttribute("data-edition") === "zh-TW") return "zh";
    return "en";
  }

  function altTexts() {
    var l = lang();
    document.querySelectorAll(".scoresde-figcaption").forEach(function (cap) {
      var cell = cap.closest(".cell") || cap.parentNode;
      var alt = cap.getAttribute("data-alt-" + l);
      if (!alt) return;
      cell.querySelectorAll(".cell_output img").forEach(function (img) { img.setAttribute("alt", alt); });
    });
  }

  function themeButtons() {
    document.querySelectorAll(".search-button__button[aria-label], .search-button-field[aria-label]").forEach(function (b) {
      b.removeAttribute("aria-label");  /* the name comes from its visible text: "Search Ctrl+K" */
    });
    document.querySelectorAll(".theme-switch-button").forEach(function (b) {
      /* its content is three icons (titles Light, Dark, System Settings): the name comes from a text inside it,
         not from an aria-label that differs from what the icons say */
      b.removeAttribute("aria-label");
      if (!b.querySelector(".scoresde-sr-name")) {
        var s = document.createElement("span");
        s.className = "visually-hidden scoresde-sr-name";
        s.textContent = "Color mode · 色彩模式";
        b.appendChild(s);
      }
    });
  }

  var wide = window.matchMedia ? window.matchMedia("(min-width: 960px)") : null;
  function placeSwitch() {
    var control = document.getElementById("lang-switch");
    if (!control) return;
    var sidebar = document.querySelector(".bd-sidebar-primary .sidebar-primary-items__start");
    var header = document.querySelector(".article-header-buttons");
    if (wide && wide.matches && sidebar) {
      var search = sidebar.querySelector(".search-button-field");
      var item = search ? search.closest(".sidebar-primary-item") : null;
      if (item && item.nextSibling !== control) item.parentNode.insertBefore(control, item.nextSibling);
      else if (!item && sidebar.firstChild !== control) sidebar.insertBefore(control, sidebar.firstChild);
    } else if (header && control.parentNode !== header) {
      header.insertBefore(control, header.firstChild);
    }
  }

  function scrollables() {
    document.querySelectorAll(".bd-article pre, .bd-article .cell_output .output").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("data-a11y-focus")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-a11y-focus", "1");
      }
    });
  }

  function fitEquations() {
    document.querySelectorAll('.bd-article mjx-container[display="true"]').forEach(function (m) {
      m.style.fontSize = "";
      m.classList.remove("scoresde-fit");
      var box = Math.min(m.parentNode.clientWidth, m.clientWidth || m.parentNode.clientWidth);  /* beside an equation number */
      var need = m.scrollWidth;
      if (!box || need <= box + 1) return;
      var scale = Math.max(0.6, Math.floor((box / need) * 100) / 100);
      m.style.fontSize = Math.round(scale * 100) + "%";
      m.classList.add("scoresde-fit");
      if (m.scrollWidth > m.clientWidth + 1) m.setAttribute("tabindex", "0");
    });
  }

  function afterMath(fn) {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(fn);
    else fn();
  }

  function init() {
    altTexts();
    themeButtons();
    placeSwitch();
    scrollables();
    afterMath(function () { fitEquations(); scrollables(); });
    new MutationObserver(altTexts).observe(html, { attributes: true, attributeFilter: ["data-lang"] });
    if (wide && wide.addEventListener) wide.addEventListener("change", placeSwitch);
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { fitEquations(); scrollables(); }, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { setTimeout(init, 0); });
  else setTimeout(init, 0);
})();
