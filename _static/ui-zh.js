/*
 * The interface in the reader's language · 介面語言 (issue 28).
 * The build writes the interface's text twice (_ext/cjk_typeset.py, cjk.css shows the 中文 one in 中文 mode);
 * what only a script can change follows the mode here: the attributes a reader hears or sees (aria-label,
 * placeholder, title, the fold hints of sphinx-togglebutton), in 中文 mode and in the zh-TW edition (whose theme
 * has no Traditional Chinese catalogue for these).
 */
(function () {
  "use strict";
  var ZH = {
    "Search this book...": "搜尋本書…",
    "Search": "搜尋",
    "Toggle hidden content": "顯示或隱藏內容",
    "Site navigation": "網站導覽",
    "On this page": "本頁內容",
    "Color mode": "色彩模式",
    "Launch interactive content": "啟動互動內容",
    "Download this page": "下載本頁",
    "Download source file": "下載原始檔",
    "Print to PDF": "列印成 PDF",
    "Fullscreen mode": "全螢幕模式",
    "Source repositories": "原始碼儲存庫",
    "Source repository": "原始碼儲存庫",
    "Main": "主選單",
    "Page": "本頁",
    "Breadcrumb": "導覽路徑",
    "Version warning": "版本警告",
    "Link to this heading": "連到這個標題",
    "Link to this equation": "連到這條方程式",
    "Link to this image": "連到這張圖",
    "Link to this table": "連到這個表格",
    "Link to this code": "連到這段程式碼",
    "Copy": "複製",
    "Copied!": "已複製！",
    "Copy to clipboard": "複製到剪貼簿",
    "Language · 語言": "語言",
    "Editions · 版本": "版本",
    "Back to top": "回到頁首",
    "Previous page": "上一頁",
    "Next page": "下一頁",
    "Toggle primary sidebar": "切換主側欄",
    "Toggle secondary sidebar": "切換次側欄",
    "Index": "索引",
    "next page": "下一頁",
    "previous page": "上一頁",
    "Click to show": "按一下顯示",
    "Click to hide": "按一下隱藏"
  };
  var ATTRS = ["aria-label", "placeholder", "title", "data-bs-title", "data-toggle-hint", "data-tooltip"];
  var EN_HINTS = null;

  /* 中文 mode of the bilingual site, or the zh-TW edition (editions.js marks html[data-edition]) */
  function zh() {
    var root = document.documentElement, edition = root.getAttribute("data-edition");
    return edition === "zh-TW" || (root.getAttribute("data-lang") === "zh" && edition !== "en");
  }

  function follow() {
    var on = zh();
    searchMessages();
    ATTRS.forEach(function (attr) {
      var nodes = document.querySelectorAll("[" + attr + "]");
      for (var i = 0; i < nodes.length; i++) {
        var el = nodes[i], key = "data-ui-en-" + attr, value = el.getAttribute(attr);
        var english = el.hasAttribute(key) ? el.getAttribute(key) : value;
        if (!Object.prototype.hasOwnProperty.call(ZH, english)) continue;
        if (!el.hasAttribute(key)) el.setAttribute(key, english);
        var want = on ? ZH[english] : english;
        if (value !== want) el.setAttribute(attr, want);
      }
    });
    /* sphinx-togglebutton reads these globals each time it folds or opens a solution */
    try {
      if (EN_HINTS === null) EN_HINTS = [toggleHintShow, toggleHintHide];
      toggleHintShow = on ? ZH[EN_HINTS[0]] || EN_HINTS[0] : EN_HINTS[0];
      toggleHintHide = on ? ZH[EN_HINTS[1]] || EN_HINTS[1] : EN_HINTS[1];
    } catch (e) { /* no fold on this page */ }
  }

  /* Sphinx's search page writes its messages through Documentation.gettext: the Taiwan catalogue in 中文 mode */
  var SEARCH = {
    "Search Results": "搜尋結果",
    "Searching": "搜尋中",
    "Preparing search...": "準備搜尋中…",
    "Search finished, found ${resultCount} page(s) matching the search query.":
      "搜尋完成，共找到 ${resultCount} 個頁面符合搜尋條件。",
    "Your search did not match any documents. Please make sure that all words are spelled correctly and that you've selected enough categories.":
      "沒有符合搜尋條件的文件。請確認每個字的拼寫都正確。",
    ", in ": "，位於 "
  };
  function searchMessages() {
    /* doctools.js declares Documentation with const: a global binding, not a property of window */
    if (typeof Documentation === "undefined" || !Documentation.TRANSLATIONS) return;
    Object.keys(SEARCH).forEach(function (key) {
      if (zh()) Documentation.TRANSLATIONS[key] = SEARCH[key];
      else if (Documentation.TRANSLATIONS[key] === SEARCH[key]) delete Documentation.TRANSLATIONS[key];
    });
  }

  function start() {
    follow();
    /* the language switch changes html[data-lang]; other scripts add buttons and tooltips after load */
    new MutationObserver(follow).observe(document.documentElement, { attributes: true, attributeFilter: ["data-lang"] });
    window.addEventListener("load", follow);
  }
  searchMessages();  /* before the search page runs its query (lang-switch.js has set the mode already) */
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
