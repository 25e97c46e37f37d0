// Collects the device signals of API.md into the form's hidden "signals"
// field. Optional: the form works without it; a client that sends none is
// only scored as slightly riskier.
(function () {
  "use strict";
  var started = Date.now();
  function hash(s) { // FNV-1a, hex; a stable fingerprint, not a secret
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
    return ("0000000" + h.toString(16)).slice(-8);
  }
  function canvasPrint() {
    try {
      var c = document.createElement("canvas"), x = c.getContext("2d");
      x.textBaseline = "top"; x.font = "14px Arial"; x.fillStyle = "#f60"; x.fillRect(0, 0, 60, 20);
      x.fillStyle = "#069"; x.fillText("Startline 스타트", 2, 2);
      var gl = document.createElement("canvas").getContext("webgl"), r = "";
      if (gl) { var d = gl.getExtension("WEBGL_debug_renderer_info"); r = d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : ""; }
      return hash(c.toDataURL() + "|" + r);
    } catch (e) { return ""; }
  }
  document.querySelectorAll("form[data-signals]").forEach(function (form) {
    var prior = {};
    try { prior = JSON.parse(form.elements.signals.value || "{}"); } catch (e) {}
    form.addEventListener("submit", function () {
      var s = {
        webdriver: !!navigator.webdriver,
        fill_ms: (prior.fill_ms || 0) + (Date.now() - started),
        timezone: (Intl.DateTimeFormat().resolvedOptions().timeZone || ""),
        languages: navigator.languages ? Array.prototype.slice.call(navigator.languages, 0, 5) : [],
        screen: screen.width + "x" + screen.height,
        platform: navigator.platform || "",
        fingerprint: canvasPrint(),
        touch: "ontouchstart" in window || navigator.maxTouchPoints > 0
      };
      form.elements.signals.value = JSON.stringify(s);
    });
  });
})();

// ALTCHA proof of work: solve the embedded challenge as soon as the page
// loads (while the runner reads the e-mailed code) and fill the hidden
// field; a submit that comes earlier waits for the answer.
(function () {
  "use strict";
  function hex(buf) {
    var b = new Uint8Array(buf), s = "";
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }
  async function solve(ch) {
    var enc = new TextEncoder();
    for (var n = 0; n <= ch.maxnumber; n++) {
      if (hex(await crypto.subtle.digest("SHA-256", enc.encode(ch.salt + n))) === ch.challenge) return n;
    }
    return -1;
  }
  // The language switch re-shows the page and needs no proof. A browser
  // without SubmitEvent.submitter still tells it by the click.
  var switching = false;
  document.querySelectorAll("button[data-lang-switch]").forEach(function (b) {
    b.addEventListener("click", function () { switching = true; });
  });
  var forms = document.querySelectorAll("form[data-altcha-challenge]");
  Array.prototype.forEach.call(forms, function (form) {
    if (!(window.crypto && crypto.subtle)) return;
    var ch = JSON.parse(form.getAttribute("data-altcha-challenge"));
    var field = form.querySelector("input[name=altcha]");
    var pending = null;
    solve(ch).then(function (n) {
      field.value = btoa(JSON.stringify({ algorithm: ch.algorithm, challenge: ch.challenge, number: n, salt: ch.salt, signature: ch.signature }));
      if (pending) {
        if (pending.formAction) form.action = pending.formAction;
        HTMLFormElement.prototype.submit.call(form);
      }
    });
    form.addEventListener("submit", function (ev) {
      if (field.value || switching || (ev.submitter && ev.submitter.hasAttribute("data-lang-switch"))) return;
      ev.preventDefault();
      pending = ev.submitter || {};
      var status = form.querySelector("[data-altcha-status]");
      if (status) status.hidden = false;
    });
  });
})();

// Offer countdown: "12:34:56 left" next to the hold's end.
(function () {
  "use strict";
  document.querySelectorAll("time[data-countdown]").forEach(function (el) {
    var end = Date.parse(el.getAttribute("datetime")), base = el.textContent;
    function tick() {
      var s = Math.max(0, Math.floor((end - Date.now()) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
      el.textContent = base + " (" + h + ":" + ("0" + m).slice(-2) + ":" + ("0" + r).slice(-2) + ")";
      if (s > 0) setTimeout(tick, 1000);
    }
    tick();
  });
})();


// Copy buttons: shown only when the script runs (the link itself is always
// there to select); they copy the named element's text.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var src = document.getElementById(btn.getAttribute("data-copy"));
    var out = btn.parentNode.querySelector("[data-copied]");
    if (!src) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = src.textContent.trim();
      function done() { if (out) out.textContent = btn.getAttribute("data-copied-text") || ""; }
      function fallback() {
        var r = document.createRange(); r.selectNodeContents(src);
        var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
        try { if (document.execCommand("copy")) done(); } catch (e) {}
      }
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, fallback);
      else fallback();
    });
  });
})();
