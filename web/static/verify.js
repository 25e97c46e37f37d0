// verify.js recomputes a published draw (fairdraw-v1, /work/shared DRAW-SPEC)
// or a waiting room's pre-queue order (prequeue-v1, docs/PREQUEUE-SPEC.md) in
// the browser, from the public artifact alone, with WebCrypto's SHA-256: no
// library and no help from the server beyond the artifact's JSON. It says
// whether the published result is the one the rules produce and, if not,
// the first thing that differs.
//
// Forms marked data-verify run it in place (their hidden "artifact" input
// names the artifact); without JavaScript they open the /verify page.
// window.StartlineVerify.verify(artifact, onProgress) is the same check on a
// parsed artifact, for tests and for anyone at the console.
(() => {
  "use strict";

  const enc = new TextEncoder();
  const CHUNK = 2048; // digests in flight at once: fast, and the page stays responsive
  const EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  const hex = (buf) => {
    const b = new Uint8Array(buf);
    let s = "";
    for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  };
  const unhex = (s) => {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  };
  const sha = async (bytes) => hex(await crypto.subtle.digest("SHA-256", bytes));
  const cat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  };
  // Byte order of ASCII strings (and of lowercase hex keys, which is the
  // order of the 32-byte big-endian integers they spell).
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

  // Digests many messages, CHUNK at a time, reporting each finished chunk.
  async function digestAll(msgs, tick) {
    const out = new Array(msgs.length);
    for (let i = 0; i < msgs.length; i += CHUNK) {
      const part = await Promise.all(msgs.slice(i, i + CHUNK).map(sha));
      for (let j = 0; j < part.length; j++) out[i + j] = part[j];
      if (tick) tick(part.length);
    }
    return out;
  }

  // RFC 6962 §2.1 Merkle Tree Hash over leaf data already sorted. Pairing
  // neighbours level by level and carrying an odd last node up unchanged
  // builds exactly the tree the spec's "largest power of two below n" split
  // describes.
  async function merkleRoot(leaves, tick) {
    if (leaves.length === 0) return EMPTY_ROOT;
    let level = await digestAll(leaves.map((d) => cat([0], d)), tick);
    while (level.length > 1) {
      const msgs = [];
      for (let i = 0; i + 1 < level.length; i += 2) msgs.push(cat([1], unhex(level[i]), unhex(level[i + 1])));
      const next = await digestAll(msgs, tick);
      if (level.length % 2 === 1) next.push(level[level.length - 1]);
      level = next;
    }
    return level[0];
  }

  // Format checks, as the Go verifier makes them: an artifact that is not
  // canonical is not one the rules could have produced.
  const ident = (s, lo, hi, dash) => typeof s === "string" && s.length >= lo && s.length <= hi &&
    (dash ? /^[a-z0-9-]*$/ : /^[a-z0-9]*$/).test(s);
  const hex32 = (s) => typeof s === "string" && /^[0-9a-f]{64}$/.test(s);
  const int = (n) => typeof n === "number" && Number.isInteger(n);
  class Malformed extends Error {}
  const need = (ok, field) => { if (!ok) throw new Malformed(field); };
  const subqueueOK = (s) => typeof s === "string" && s.split(":").length === 2 &&
    s.split(":").every((p) => ident(p, 1, 32, true));

  function checkDraw(a) {
    need(ident(a.event_id, 1, 64, true), "event_id");
    need(subqueueOK(a.subqueue), "subqueue");
    need(ident(a.beacon, 0, 256, false), "beacon");
    need(int(a.capacity) && a.capacity >= 0, "capacity");
    for (const f of ["commitment", "seed_secret", "entries_root"]) need(hex32(a[f]), f);
    need(a.seed === undefined || hex32(a.seed), "seed");
    need(Array.isArray(a.entries), "entries");
    need(Array.isArray(a.order), "order");
    const seen = new Set();
    a.entries.forEach((e, i) => {
      need(e && ident(e.entry_id, 1, 64, true), `entries[${i}].entry_id`);
      need(int(e.tickets) && e.tickets >= 1 && e.tickets <= 4096, `entries[${i}].tickets`);
      need(ident(e.group, 0, 64, true), `entries[${i}].group`);
      need(!seen.has(e.entry_id), `entries[${i}].entry_id`);
      seen.add(e.entry_id);
    });
    a.order.forEach((o, i) => {
      need(o && int(o.position) && ident(o.unit_id, 1, 64, true) && typeof o.selected === "boolean" &&
        Array.isArray(o.entry_ids) && o.entry_ids.length > 0, `order[${i}]`);
    });
  }

  // The draw, DRAW-SPEC fairdraw-v1, from the artifact's inputs.
  async function recomputeDraw(a, progress) {
    const entries = a.entries.slice().sort((x, y) => cmp(x.entry_id, y.entry_id));
    const tickets = entries.reduce((n, e) => n + e.tickets, 0);
    // Work: the tree (about 2n digests), then every ticket.
    const total = 2 * entries.length + tickets + 2;
    let done = 0;
    const tick = (n) => { done += n; progress(done, total); };

    const commitment = await sha(unhex(a.seed_secret));
    tick(1);
    const root = await merkleRoot(entries.map((e) => enc.encode(`${e.entry_id}|${e.tickets}|${e.group}`)), tick);
    const seed = await sha(enc.encode(`fairdraw-v1|${a.seed_secret}|${root}|${a.event_id}|${a.subqueue}|${a.beacon}`));
    tick(1);

    // Entry key: the smallest of its tickets' keys sha256(seed|entry_id|k).
    const keys = new Array(entries.length);
    let batch = [], owner = [];
    const flush = async () => {
      const ds = await Promise.all(batch.map(sha));
      for (let j = 0; j < ds.length; j++) {
        const o = owner[j];
        if (keys[o] === undefined || ds[j] < keys[o]) keys[o] = ds[j];
      }
      tick(ds.length);
      batch = []; owner = [];
    };
    for (let i = 0; i < entries.length; i++) {
      const prefix = `${seed}|${entries[i].entry_id}|`;
      for (let k = 0; k < entries[i].tickets; k++) {
        batch.push(enc.encode(prefix + k));
        owner.push(i);
        if (batch.length >= CHUNK) await flush();
      }
    }
    if (batch.length) await flush();

    // Units: a group (all entries sharing a non-empty group) or a solo
    // entry; members by entry_id (already sorted), key the smallest member's.
    const groups = new Map(), units = [];
    entries.forEach((e, i) => {
      let u = e.group === "" ? undefined : groups.get(e.group);
      if (!u) {
        u = { unit_id: e.group === "" ? e.entry_id : e.group, key: keys[i], entry_ids: [] };
        units.push(u);
        if (e.group !== "") groups.set(e.group, u);
      }
      u.entry_ids.push(e.entry_id);
      if (keys[i] < u.key) u.key = keys[i];
    });
    units.sort((x, y) => cmp(x.key, y.key) || cmp(x.unit_id, y.unit_id));

    // Allocation: walk every unit; one that fits takes its slots, one that
    // does not waits, and a later, smaller one may still fit.
    let remaining = a.capacity;
    const order = units.map((u, i) => {
      const selected = u.entry_ids.length <= remaining;
      if (selected) remaining -= u.entry_ids.length;
      return { position: i + 1, unit_id: u.unit_id, entry_ids: u.entry_ids, selected };
    });
    return { commitment, root, seed, order };
  }

  // compare finds the first published value that differs from its
  // recomputation: commitment, root (named rootField in the artifact), seed,
  // then the order place by place (placeDiff names what differs in one).
  function compare(a, got, rootField, placeDiff) {
    if (a.commitment !== got.commitment) return { what: "commitment" };
    if (a[rootField] !== got.root) return { what: "root" };
    if (a.seed !== undefined && a.seed !== got.seed) return { what: "seed" };
    const n = Math.min(a.order.length, got.order.length);
    for (let i = 0; i < n; i++) {
      const what = placeDiff(a.order[i], got.order[i]);
      if (what) return { what, position: i + 1 };
    }
    if (a.order.length !== got.order.length) return { what: "length", published: a.order.length, recomputed: got.order.length };
    return null;
  }
  const drawPlaceDiff = (p, w) => {
    if (p.position !== w.position || p.unit_id !== w.unit_id || p.entry_ids.join(",") !== w.entry_ids.join(",")) return "order";
    return p.selected !== w.selected ? "selected" : null;
  };
  const prequeuePlaceDiff = (p, w) => (p.position !== w.position || p.ticket_id !== w.ticket_id ? "order" : null);

  function checkPrequeue(a) {
    need(ident(a.event_id, 1, 64, true), "event_id");
    need(subqueueOK(a.subqueue), "subqueue");
    need(hex32(a.commitment), "commitment");
    need(a.status === "placed" || a.status === "committed", "status");
    if (a.status !== "placed") return;
    need(hex32(a.seed_secret), "seed_secret");
    need(hex32(a.tickets_root), "tickets_root");
    need(a.seed === undefined || hex32(a.seed), "seed");
    need(Array.isArray(a.tickets), "tickets");
    need(Array.isArray(a.order), "order");
    const seen = new Set();
    a.tickets.forEach((t, i) => {
      need(ident(t, 1, 64, true) && !seen.has(t), `tickets[${i}]`);
      seen.add(t);
    });
    a.order.forEach((o, i) => need(o && int(o.position) && typeof o.ticket_id === "string", `order[${i}]`));
  }

  // The pre-queue order, prequeue-v1, from the artifact's inputs.
  async function recomputePrequeue(a, progress) {
    const tickets = a.tickets.slice().sort(cmp);
    const total = 3 * tickets.length + 2;
    let done = 0;
    const tick = (n) => { done += n; progress(done, total); };
    const commitment = await sha(unhex(a.seed_secret));
    tick(1);
    const root = await merkleRoot(tickets.map((t) => enc.encode(t)), tick);
    const seed = await sha(enc.encode(`prequeue-v1|${a.seed_secret}|${root}|${a.event_id}|${a.subqueue}`));
    tick(1);
    const keys = await digestAll(tickets.map((t) => enc.encode(`${seed}|${t}`)), tick);
    const order = tickets.map((t, i) => ({ ticket_id: t, key: keys[i] }))
      .sort((x, y) => cmp(x.key, y.key) || cmp(x.ticket_id, y.ticket_id))
      .map((t, i) => ({ position: i + 1, ticket_id: t.ticket_id }));
    return { commitment, root, seed, order };
  }

  // verify checks a parsed artifact. It resolves to {ok, algorithm,
  // computed: {commitment, root, seed, order}} and, when something differs,
  // what: "commitment" | "root" | "seed" | "order" | "selected" | "length"
  // (with position, or published and recomputed lengths), or "malformed"
  // (with field), "algorithm", or "committed" (a pre-queue not placed yet:
  // nothing to recompute).
  async function verify(a, progress) {
    progress = progress || (() => {});
    if (!a || typeof a !== "object" || Array.isArray(a)) return { ok: false, what: "malformed", field: "artifact" };
    try {
      if (a.algorithm === "fairdraw-v1") {
        checkDraw(a);
        const computed = await recomputeDraw(a, progress);
        const diff = compare(a, computed, "entries_root", drawPlaceDiff);
        return Object.assign({ ok: !diff, algorithm: a.algorithm, computed }, diff);
      }
      if (a.algorithm === "prequeue-v1") {
        checkPrequeue(a);
        if (a.status !== "placed") return { ok: false, what: "committed", algorithm: a.algorithm };
        const computed = await recomputePrequeue(a, progress);
        const diff = compare(a, computed, "tickets_root", prequeuePlaceDiff);
        return Object.assign({ ok: !diff, algorithm: a.algorithm, computed }, diff);
      }
    } catch (e) {
      if (e instanceof Malformed) return { ok: false, what: "malformed", field: e.message };
      throw e;
    }
    return { ok: false, what: "algorithm", field: String(a.algorithm) };
  }

  window.StartlineVerify = { verify };

  // The page's messages, in its language (web/i18n.go, keys "verify.*").
  let text = {};
  const t = (key, ...args) => {
    let i = 0;
    return (text[key] || key).replace(/%[sd%]/g, (m) => (m === "%%" ? "%" : String(args[i++])));
  };
  const num = (n) => n.toLocaleString(document.documentElement.lang || undefined);

  function explain(r) {
    switch (r.what) {
      case "order": case "selected": return t("diff." + r.what, num(r.position));
      case "length": return t("diff.length", num(r.published), num(r.recomputed));
      case "malformed": case "algorithm": return t("diff." + r.what, r.field);
      default: return t("diff." + r.what);
    }
  }

  async function run(form) {
    const out = form.querySelector(".verify-out");
    const button = form.querySelector("button");
    const url = form.elements.artifact.value;
    button.disabled = true;
    out.className = "verify-out";
    out.replaceChildren();
    const line = document.createElement("p");
    const bar = document.createElement("progress");
    bar.max = 1; bar.value = 0;
    bar.setAttribute("aria-label", t("running.label"));
    line.textContent = t("fetching");
    out.append(line, bar);
    const finish = (cls, msg, detail) => {
      bar.remove();
      out.classList.add(cls);
      line.textContent = msg;
      if (detail) {
        const d = document.createElement("p");
        d.textContent = detail;
        out.append(d);
      }
      button.disabled = false;
      button.focus();
    };
    let artifact;
    try {
      const res = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" });
      if (!res.ok) throw new Error("HTTP " + res.status);
      artifact = await res.json();
    } catch (e) {
      finish("verify-error", t("fetch_failed"), e.message);
      return;
    }
    if (!window.crypto || !crypto.subtle) {
      finish("verify-error", t("no_crypto"));
      return;
    }
    let last = 0;
    const progress = (done, total) => {
      bar.max = total; bar.value = done;
      const now = Date.now();
      if (now - last > 100 || done === total) {
        last = now;
        line.textContent = t("running", Math.round((100 * done) / total));
      }
    };
    try {
      const r = await verify(artifact, progress);
      if (r.ok) finish("verify-ok", t("match"), t("match.detail", num(r.computed.order.length)));
      else if (r.what === "committed") finish("verify-info", t("committed"));
      else finish("verify-bad", t("mismatch"), explain(r));
    } catch (e) {
      finish("verify-error", t("failed"), e.message);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const el = document.getElementById("verify-text");
    if (el) text = JSON.parse(el.textContent);
    for (const form of document.querySelectorAll("form[data-verify]")) {
      form.addEventListener("submit", (ev) => { ev.preventDefault(); run(form); });
    }
  });
})();
