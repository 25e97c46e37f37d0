// Race-day check-in (issue 15). The page works without this script: the
// form posts to /checkin. With it, the same form is posted by fetch and
// answered as JSON (a refusal too is a 200 answer), so the page stays and
// the next code can be typed at once; a code that cannot be sent (no signal) waits in
// localStorage and is sent when the connection is back; a browser with
// BarcodeDetector and a camera scans the QR code itself.
(function () {
  "use strict";
  var form = document.querySelector("form[data-checkin]");
  var textEl = document.getElementById("checkin-text");
  if (!form || !textEl || !window.fetch) return;
  var T = JSON.parse(textEl.textContent);
  var input = form.querySelector("[name=code]");
  var live = document.getElementById("checkin-live");
  var queueEl = document.getElementById("checkin-queue");
  var KEY = "startline.checkin.queue";

  function load() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; } }
  function save(q) { try { localStorage.setItem(KEY, JSON.stringify(q)); } catch (e) { /* private mode: no queue */ } }
  function showQueue() {
    var n = load().length;
    queueEl.hidden = n === 0;
    queueEl.textContent = n ? T["js.queued"].replace("%d", n) : "";
  }
  function add(dl, term, value) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term; dd.textContent = value;
    dl.appendChild(dt); dl.appendChild(dd);
  }
  function show(b) {
    var old = document.getElementById("checkin-result");
    if (old) old.remove();
    live.hidden = false;
    live.textContent = "";
    live.className = "checkin-result " + (b.ok ? "checkin-ok" : "checkin-refused");
    var p = document.createElement("p");
    p.className = "checkin-verdict";
    p.textContent = b.verdict || T["js.other"];
    live.appendChild(p);
    if (b.reason) {
      var why = document.createElement("p");
      why.textContent = b.reason;
      live.appendChild(why);
    }
    if (!b.name) return;
    var dl = document.createElement("dl");
    add(dl, T.name, b.name);
    add(dl, T.birth_year, b.birth_year);
    add(dl, T.bib, b.bib);
    add(dl, T.subqueue, b.subqueue);
    live.appendChild(dl);
  }
  // send posts the form's own fields with the code; it fails (and the code
  // waits) when the request cannot be made or the service is down.
  function send(code) {
    var body = new URLSearchParams(new FormData(form));
    body.set("code", code);
    return fetch(form.action, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      if (res.status >= 500) throw new Error("unavailable");
      return res;
    });
  }
  function queue(code) { var q = load(); q.push(code); save(q); showQueue(); }
  function check(code) {
    send(code).then(function (res) {
      if (res.status !== 200) { show({}); return; }
      return res.json().then(show, function () { show({}); });
    }, function () { queue(code); });
  }
  // The codes sent when the connection came back are answered out of
  // sight: each answer is listed (checked in, already picked up, refused
  // and why), in scan order, so the desk can act on them afterwards.
  var replayed = document.getElementById("checkin-replayed");
  var replayedList = replayed && replayed.querySelector("ol");
  var replayedSummary = document.getElementById("checkin-replayed-summary");
  var replayedCount = 0;
  function listReplayed(code, b) {
    if (!replayedList) return;
    var li = document.createElement("li");
    li.className = b.ok ? "checkin-ok" : "checkin-refused";
    li.setAttribute("data-replayed", b.ok ? "ok" : "refused");
    var verdict = document.createElement("strong");
    verdict.textContent = b.verdict || T["js.other"];
    li.appendChild(verdict);
    var parts = [];
    if (b.name) parts.push(b.name + " · " + T.bib + ": " + b.bib);
    if (b.reason) parts.push(b.reason);
    parts.push(T["js.code"].replace("%s", code.replace(/\s+/g, "").slice(-4)));
    parts.forEach(function (text) {
      var line = document.createElement("span");
      line.textContent = text;
      li.appendChild(line);
    });
    replayedList.appendChild(li);
    replayedCount++;
    replayedSummary.textContent = T["js.replayed"].replace("%d", replayedCount);
    replayed.hidden = false;
  }
  if (replayed) {
    document.getElementById("checkin-replayed-clear").addEventListener("click", function () {
      replayedList.textContent = "";
      replayedSummary.textContent = "";
      replayedCount = 0;
      replayed.hidden = true;
      input.focus();
    });
  }
  function replay(code) {
    return send(code).then(function (res) {
      if (res.status !== 200) { listReplayed(code, {}); return; }
      return res.json().then(function (b) { listReplayed(code, b); }, function () { listReplayed(code, {}); });
    }, function () { queue(code); });
  }
  function flush() {
    var q = load();
    if (!q.length || !navigator.onLine) return;
    save([]);
    q.reduce(function (prev, code) {
      return prev.then(function () { return replay(code); });
    }, Promise.resolve()).then(showQueue);
  }
  form.addEventListener("submit", function (ev) {
    var code = input.value.trim();
    if (!code) return;
    ev.preventDefault();
    input.value = "";
    if (!navigator.onLine) { queue(code); } else { check(code); }
    input.focus();
  });
  window.addEventListener("online", flush);
  showQueue();
  flush();

  var cam = document.getElementById("checkin-camera"), video = document.getElementById("checkin-video");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  cam.hidden = false;
  var stream = null, timer = 0;
  function stop() {
    clearInterval(timer);
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }
  cam.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] }), last = "";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s; video.hidden = false; video.play();
      timer = setInterval(function () {
        detector.detect(video).then(function (codes) {
          if (!codes.length || codes[0].rawValue === last) return;
          last = codes[0].rawValue;
          input.value = last;
          if (form.requestSubmit) form.requestSubmit(); else check(last);
        }, function () {});
      }, 400);
    }, function () { cam.hidden = true; });
  });
})();
