/*
 * Language switch · 語言切換
 *
 * Every prose step of the book stands twice, in <div class="lang-en …"> and <div class="lang-zh …">
 * (CONTRIBUTING.md). This script lets the reader show English, 繁體中文, or both (the default):
 *   - the choice comes from the URL (?lang=en|zh|both), else from localStorage, else "both";
 *   - a choice made in the URL or with the control is remembered in localStorage, so the next page keeps it;
 *   - only the language containers are hidden (CSS in lang-switch.css); headings, labelled equations, code,
 *     outputs, figures and the sidebar never are.
 * The mode is set on <html data-lang="…"> while the <head> loads, so a page never flashes the other language.
 * Jupyter Book adds every .js file under _static/ to every page.
 */
(function () {
  "use strict";

  var MODES = ["both", "en", "zh"];
  var KEY = "scoresde-lang";
  var LABELS = {
    en: { text: "EN", title: "English only · 只顯示英文" },
    zh: { text: "中文", title: "繁體中文 only · 只顯示繁體中文" },
    both: { text: "EN + 中文", title: "Both languages · 兩種語言並列" }
  };

  function valid(mode) {
    return MODES.indexOf(mode) >= 0;
  }

  function fromUrl() {
    try {
      var mode = new URLSearchParams(window.location.search).get("lang");
      return valid(mode) ? mode : null;
    } catch (e) {
      return null;
    }
  }

  var storageWorks = (function () {
    try {
      window.localStorage.setItem(KEY + "-probe", "1");
      window.localStorage.removeItem(KEY + "-probe");
      return true;
    } catch (e) {
      return false;
    }
  })();

  function stored() {
    if (!storageWorks) return null;
    var mode = window.localStorage.getItem(KEY);
    return valid(mode) ? mode : null;
  }

  function remember(mode) {
    if (storageWorks) window.localStorage.setItem(KEY, mode);
  }

  function apply(mode) {
    document.documentElement.setAttribute("data-lang", mode);
    /* the page's language for screen readers and hyphenation; each block also carries its own */
    document.documentElement.setAttribute("lang", mode === "zh" ? "zh-Hant-TW" : "en");
  }

  var urlMode = fromUrl();
  var current = urlMode || stored() || "both";
  if (urlMode) remember(urlMode);
  apply(current);

  function syncButtons() {
    var buttons = document.querySelectorAll("#lang-switch button[data-lang-choice]");
    for (var i = 0; i < buttons.length; i++) {
      var on = buttons[i].getAttribute("data-lang-choice") === current;
      buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
      buttons[i].classList.toggle("active", on);
    }
  }

  /* Without storage (some privacy modes), carry the choice in the links to the book's other pages. */
  function carryInLinks() {
    if (storageWorks) return;
    var links = document.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href");
      /* only relative links to the book's pages: not other sites, anchors, or downloads (.ipynb, .md) */
      if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.charAt(0) === "#" || href.charAt(0) === "/") continue;
      var hash = "";
      var at = href.indexOf("#");
      if (at >= 0) {
        hash = href.slice(at);
        href = href.slice(0, at);
      }
      if (!/(\.html|\/)(\?.*)?$/.test(href)) continue;
      href = href.replace(/([?&])lang=[^&]*&?/, "$1").replace(/[?&]$/, "");
      links[i].setAttribute("href", href + (href.indexOf("?") >= 0 ? "&" : "?") + "lang=" + current + hash);
    }
  }

  function choose(mode) {
    if (!valid(mode)) return;
    current = mode;
    remember(mode);
    apply(mode);
    syncButtons();
    /* keep a ?lang= already in the address bar truthful, so a reload or a shared link shows this mode */
    if (new URLSearchParams(window.location.search).has("lang") && window.history && window.history.replaceState) {
      var url = new URL(window.location.href);
      url.searchParams.set("lang", mode);
      window.history.replaceState(null, "", url.toString());
    }
    carryInLinks();
  }

  function buildControl() {
    var group = document.createElement("div");
    group.id = "lang-switch";
    group.className = "lang-switch";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Language · 語言");
    ["en", "both", "zh"].forEach(function (mode) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-sm lang-switch-button";
      b.setAttribute("data-lang-choice", mode);
      b.title = LABELS[mode].title;
      b.textContent = LABELS[mode].text;
      b.addEventListener("click", function () {
        choose(mode);
      });
      group.appendChild(b);
    });
    return group;
  }

  function mark(selector, lang) {
    var nodes = document.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) {
      if (!nodes[i].hasAttribute("lang")) nodes[i].setAttribute("lang", lang);
    }
  }

  function init() {
    if (document.getElementById("lang-switch")) return;
    /* screen readers and fonts: tell the browser which language each block is in */
    mark("div.lang-en", "en");
    mark("div.lang-zh", "zh-Hant-TW");
    var control = buildControl();
    var header = document.querySelector(".article-header-buttons");
    if (header) {
      header.insertBefore(control, header.firstChild);
    } else {
      control.classList.add("lang-switch-floating");
      document.body.appendChild(control);
    }
    syncButtons();
    carryInLinks();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }

  /* another tab changed the choice: follow it */
  window.addEventListener("storage", function (event) {
    if (event.key === KEY && valid(event.newValue) && event.newValue !== current) {
      current = event.newValue;
      apply(current);
      syncButtons();
    }
  });
})();
