/*
 * Edition links · 版本連結 (issue 17, _ext/editions.py)
 * Reads <meta name="scoresde-editions"> and puts "English · 中文 · 雙語" links above the article, each to the same
 * page in the other edition.  Marks <html data-edition="…"> so editions.css can hide the language switch and
 * style the print (single-page) build: a title page and a contents list before the first chapter.
 */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="scoresde-editions"]');
  if (!meta) return;
  var info;
  try { info = JSON.parse(meta.getAttribute("content")); } catch (e) { return; }
  document.documentElement.setAttribute("data-edition", info.edition);

  function banner() {
    var nav = document.createElement("nav");
    nav.className = "scoresde-editions";
    /* one choice of three (issue 28): "Edition: English | 中文 | EN + 中文", the current one marked */
    var zh = info.edition === "zh-TW";
    var name = zh ? "版本" : info.edition === "en" ? "Edition" : "Edition · 版本";
    nav.setAttribute("aria-label", name);
    /* the bilingual site writes the label in both languages: cjk.css shows the 中文 one in 中文 mode */
    var words = zh ? [["zh-Hant-TW", "版本："]] : info.edition === "en" ? [["en", "Edition: "]]
      : [["en", "Edition: "], ["zh-Hant-TW", "版本："]];
    words.forEach(function (w) {
      var label = document.createElement("span");
      label.className = "scoresde-editions-label" + (words.length > 1 ? (w[0] === "en" ? " ui-en" : " ui-zh") : "");
      label.setAttribute("lang", w[0]);
      label.textContent = w[1];
      nav.appendChild(label);
    });
    info.links.forEach(function (l, i) {
      if (i > 0) nav.appendChild(document.createTextNode(" | "));
      var el = document.createElement(l.href ? "a" : "strong");
      if (l.href) el.href = l.href;
      else el.setAttribute("aria-current", "page");
      el.setAttribute("lang", l.edition === "zh-TW" ? "zh-Hant-TW" : "en");
      el.textContent = l.label;
      nav.appendChild(el);
    });
    var article = document.querySelector("main article") || document.querySelector("article") || document.body;
    article.insertBefore(nav, article.firstChild);
  }

  /* single-page build only: a title page and a contents list of the chapters, for printing */
  function titlePage() {
    if (!document.querySelector('meta[name="scoresde-print"]')) return;
    /* print folded outputs open (folded code stays hidden, editions.css) */
    document.querySelectorAll("details.hide").forEach(function (d) { d.open = true; });
    var article = document.querySelector("main article") || document.body;
    var heads = article.querySelectorAll('span[id^="document-"] + section > h2');
    var zh = info.edition === "zh-TW";
    var page = document.createElement("section");
    page.className = "scoresde-title-page";
    var h = document.createElement("div");
    h.className = "scoresde-title";
    h.textContent = document.querySelector('meta[name="scoresde-book-title"]').getAttribute("content");
    page.appendChild(h);
    var sub = document.createElement("div");
    sub.className = "scoresde-subtitle";
    sub.textContent = zh ? "繁體中文版" : "English edition";
    page.appendChild(sub);
    var toc = document.createElement("section");
    toc.className = "scoresde-contents";
    var th = document.createElement("div");
    th.className = "scoresde-contents-title";
    th.textContent = zh ? "目錄" : "Contents";
    toc.appendChild(th);
    var ol = document.createElement("ul");
    /* page numbers: scripts/print_edition.py prints once, finds where each chapter starts and prints again */
    var pagesMeta = document.querySelector('meta[name="scoresde-toc-pages"]');
    var pages = pagesMeta ? pagesMeta.getAttribute("content").split(",") : [];
    heads.forEach(function (h1, i) {
      var li = document.createElement("li");
      var title = document.createElement("span");
      title.className = "scoresde-toc-title";
      title.textContent = h1.textContent.replace(/#$/, "").trim();
      li.appendChild(title);
      if (pages[i]) {
        var leader = document.createElement("span");
        leader.className = "scoresde-toc-leader";
        var num = document.createElement("span");
        num.className = "scoresde-toc-page";
        num.textContent = pages[i];
        li.appendChild(leader);
        li.appendChild(num);
      }
      ol.appendChild(li);
    });
    toc.appendChild(ol);
    article.insertBefore(toc, article.firstChild);
    article.insertBefore(page, article.firstChild);
  }

  function ready() { banner(); titlePage(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
