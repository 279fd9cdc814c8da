// Progressive enhancement only: every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("copy-status");
  function copied(ok, text) {
    if (status) status.textContent = ok ? "Copied " + text : "Copy failed: select the text and copy it";
  }
  // Copy buttons are hidden until this script can make them work.
  document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var text = document.getElementById(b.dataset.copy).textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(true, text); }, function () { copied(false); });
        return;
      }
      var ta = document.createElement("textarea");
      ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "absolute"; ta.style.left = "-9999px";
      document.body.appendChild(ta); ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      copied(ok, text);
    });
  });
  // The first invalid field takes the focus, so keyboard and screen reader
  // users land on the error.
  var bad = document.querySelector("[aria-invalid=true]");
  if (bad) bad.focus();
});
